package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"caserisk/models/artifact"
	"caserisk/models/baseline"
	"caserisk/models/dataset"
)

func newBaselineCmd() *cobra.Command {
	var (
		data, test, label, model string
		ignore                   []string
		threshold                float64
	)
	o := baseline.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "Compare with an off-the-shelf golearn decision tree at equal workload",
		Long: `Fit golearn's CART decision tree on a class-balanced sample of --data and
report, on the labelled rows of --test, golearn's confusion matrix for its
predictions. With --model, the caserisk model is scored on the same rows and
reported twice: flagging exactly as many rows as the baseline (its top N by
score: the same workload) and flagging scores at or above --threshold.

golearn has no missing values (NaN is replaced by the sample's median), no
sample weights and no probabilities from CART, and its split search is
quadratic in a node's rows, hence the small balanced sample (--sample).`,
		Example: "  caserisk baseline --data train.csv --test test.csv --label label_complex_case --model model.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "data", "test", "label"); err != nil {
				return err
			}
			if o.MaxDepth < 1 || o.Sample < 2 {
				return usagef("baseline: --max-depth must be at least 1 and --sample at least 2")
			}
			if !(threshold > 0 && threshold < 1) {
				return usagef("baseline: --threshold %v: want a probability between 0 and 1", threshold)
			}
			ctx := cmd.Context()
			var m *artifact.Model
			if model != "" {
				var err error
				if m, err = artifact.Load(model); err != nil {
					return err
				}
			}
			opts := dataset.Options{Label: label, Ignore: ignore}
			train, err := dataset.Read(ctx, data, opts)
			if err != nil {
				return err
			}
			tt, err := dataset.Read(ctx, test, opts)
			if err != nil {
				return err
			}
			tt, _ = tt.DropUnlabelled()
			start := time.Now()
			b, err := baseline.Fit(ctx, train, o)
			if err != nil {
				return err
			}
			pred, err := b.Predict(tt)
			if err != nil {
				return err
			}
			fitTime := time.Since(start)
			names := []string{fmt.Sprintf("golearn CART (depth %d)", o.MaxDepth)}
			flags := [][]float64{pred}
			if m != nil {
				probs, _, err := m.Scores(ctx, tt)
				if err != nil {
					return err
				}
				n := 0
				for _, p := range pred {
					n += int(p)
				}
				names = append(names, fmt.Sprintf("caserisk %s, top %d (same workload)", m.Algorithm, n),
					fmt.Sprintf("caserisk %s, score >= %g", m.Algorithm, threshold))
				flags = append(flags, baseline.TopN(probs, n), baseline.AtThreshold(probs, threshold))
			}
			conf, err := baseline.Confusions(names, flags, tt.Label)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "golearn CART fit in %.2fs on a class-balanced sample of %d rows (%d positive) of %s\n",
				fitTime.Seconds(), b.Sample, b.SamplePositives, train.Source)
			fmt.Fprintf(w, "%s: %d labelled rows, %d positive\n\n", tt.Source, tt.Len(), tt.Positives())
			fmt.Fprintf(w, "%-44s %8s %6s %6s %10s %8s %9s\n", "", "flagged", "TP", "FP", "precision", "recall", "accuracy")
			for _, c := range conf {
				fmt.Fprintf(w, "%-44s %8d %6d %6d %10.4f %8.4f %9.4f\n", c.Name, c.Flagged, c.TP, c.FP, c.Precision, c.Recall, c.Accuracy)
			}
			fmt.Fprintf(w, "\ngolearn's confusion matrix for %s (rows: label, columns: prediction):\n%s", conf[0].Name, conf[0].Table)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "training table (CSV, or Parquet by extension)")
	f.StringVar(&test, "test", "", "labelled test table with the same features")
	f.StringVar(&label, "label", "", "label column, 0/1")
	f.StringVar(&model, "model", "", "caserisk model file to compare at equal workload")
	f.StringSliceVar(&ignore, "ignore", nil, "further columns that are not features (comma-separated)")
	f.Float64Var(&threshold, "threshold", 0.5, "the caserisk model flags scores at or above this probability")
	f.IntVar(&o.MaxDepth, "max-depth", o.MaxDepth, "depth of the golearn tree")
	f.IntVar(&o.Sample, "sample", o.Sample, "rows of the class-balanced training sample")
	f.Uint64Var(&o.Seed, "seed", 0, "seed for the sample")
	return cmd
}
