package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"caserisk/models/artifact"
	"caserisk/models/dataset"
)

func newDriftCmd() *cobra.Command {
	var (
		model, data string
		top         int
		asJSON      bool
	)
	cmd := &cobra.Command{
		Use:   "drift",
		Short: "Measure how far a newer feature table has moved from a model's training data",
		Long: `Compare --data with the training rows of --model: the population stability
index (PSI) of every feature and of the score, over the training deciles
stored in the model file (plus a bin for missing values). PSI below 0.1 is
stable, 0.1 to 0.25 a moderate shift worth a look, above 0.25 a major shift:
re-evaluate the model on recent outcomes before relying on it.`,
		Example: "  caserisk drift --model model.json --data features-2025-06.csv",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "model", "data"); err != nil {
				return err
			}
			ctx := cmd.Context()
			m, err := artifact.Load(model)
			if err != nil {
				return err
			}
			tab, err := dataset.Read(ctx, data, dataset.Options{})
			if err != nil {
				return err
			}
			rep, err := m.Drift(ctx, tab)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			fmt.Fprintf(w, "%s against the training rows of %s (as of %v): %d rows\n", tab.Source, model, m.Training.AsOf, rep.Rows)
			fmt.Fprintf(w, "score PSI %.4f (%s)\n\n%-44s %8s  %s\n", rep.Score.PSI, rep.Score.Level, "features that moved most", "PSI", "reading")
			for _, s := range rep.Features[:min(top, len(rep.Features))] {
				fmt.Fprintf(w, "%-44s %8.4f  %s\n", s.Name, s.PSI, s.Level)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "model file written by caserisk train")
	f.StringVar(&data, "data", "", "newer feature table (CSV or Parquet)")
	f.IntVar(&top, "top", 15, "features to list")
	f.BoolVar(&asJSON, "json", false, "print every feature's PSI as JSON")
	return cmd
}
