package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"caserisk/models/artifact"
	"caserisk/models/dataset"
)

func newScoreCmd() *cobra.Command {
	var model, data, out, explainOut string
	var ignore []string
	var reasons int
	cmd := &cobra.Command{
		Use:   "score",
		Short: "Score a feature table with a model file",
		Long: `Score every row of --data with the model in --model and write --out as CSV:
the table's id and date columns, then score (the calibrated probability) and
margin (the log-odds before calibration). --out - writes to standard output.

The table must have exactly the model's feature columns, in any order; a
table with missing or extra feature columns is refused with their names,
since it was most likely built with a different feature spec.

--explain FILE also writes, per row, the key columns, the margin, the bias
and each feature's exact contribution to the margin (TreeSHAP for gbdt, the
linear terms for logistic; they add up to the margin), then --reasons K
plain-English reasons that raised and K that lowered the risk, phrased from
the features' metadata for the people who review the cases.`,
		Example: `  caserisk score --model model.json --data features.csv --out scores.csv
  caserisk score --model model.json --data features.csv --out scores.csv --explain reasons.csv --reasons 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "model", "data", "out"); err != nil {
				return err
			}
			if reasons < 0 || (cmd.Flags().Changed("reasons") && explainOut == "") {
				return usagef("score: --reasons %d: want a number of reasons ≥ 0, with --explain", reasons)
			}
			start := time.Now()
			m, err := artifact.Load(model)
			if err != nil {
				return err
			}
			tab, err := dataset.Read(cmd.Context(), data, dataset.Options{Ignore: ignore})
			if err != nil {
				return err
			}
			probs, margins, err := m.Scores(cmd.Context(), tab)
			if err != nil {
				return fmt.Errorf("score %s with %s: %w", tab.Source, model, err)
			}
			if explainOut != "" {
				if err := writeExplanations(cmd.Context(), m, tab, explainOut, reasons); err != nil {
					return err
				}
			}
			if out == "-" {
				return artifact.WriteScores(cmd.OutOrStdout(), tab, probs, margins)
			}
			// Write beside the target and rename, so a failed run never
			// leaves a partial predictions file under the requested name.
			f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")
			if err != nil {
				return fmt.Errorf("score: %w", err)
			}
			defer os.Remove(f.Name())
			if err := artifact.WriteScores(f, tab, probs, margins); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("score: %w", err)
			}
			if err := os.Chmod(f.Name(), 0o644); err != nil {
				return fmt.Errorf("score: %w", err)
			}
			if err := os.Rename(f.Name(), out); err != nil {
				return fmt.Errorf("score: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "scored %d rows of %s with %s %s model in %.2fs; wrote %s\n",
				tab.Len(), tab.Source, m.Target, m.Algorithm, time.Since(start).Seconds(), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "model file written by caserisk train")
	cmd.Flags().StringVar(&data, "data", "", "table to score (CSV, or Parquet by extension)")
	cmd.Flags().StringVar(&out, "out", "", "predictions CSV to write (- for standard output)")
	cmd.Flags().StringSliceVar(&ignore, "ignore", nil, "further columns that are not features (comma-separated)")
	cmd.Flags().StringVar(&explainOut, "explain", "", "also write each row's feature contributions and reasons to this CSV")
	cmd.Flags().IntVar(&reasons, "reasons", 3, "with --explain: reasons per row that raised, and that lowered, the risk")
	return cmd
}
