package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"caserisk/models/artifact"
	"caserisk/models/dataset"
)

func newScoreCmd() *cobra.Command {
	var model, data, out string
	var ignore []string
	var reasons int
	var explainCols bool
	cmd := &cobra.Command{
		Use:   "score",
		Short: "Score a feature table with a model file",
		Long: `Score every row of --data with the model in --model and write --out as CSV:
the table's id and date columns, then score (the calibrated probability) and
margin (the log-odds before calibration). --out - writes to standard output.

--data is read as caserisk features wrote it (CSV or Parquet, with its
FILE.meta.json when present): id, as_of and audit columns are not features,
and label columns, the model's own included, are carried unread. The table
must have exactly the model's feature columns, in any order; a table with
missing or extra feature columns is refused with their names, since it was
most likely built with a different feature spec.

On a terminal, a status line on standard error shows the step and the rows
written once a run takes more than two seconds; nothing when piped.

--explain adds each feature's exact contribution to the margin, shap_NAME,
and the bias, shap_bias (XGBoost's pred_contribs layout: TreeSHAP for gbdt,
the linear terms for logistic; they add up to the margin). --reasons K adds
K plain-English reasons that raised and K that lowered the risk (raising_1..K,
lowering_1..K), phrased from the features' metadata for the people who review
the cases.`,
		Example: `  caserisk score --model model.json --data features.csv --out scores.csv
  caserisk score --model model.json --data features.csv --out scores.csv --explain --reasons 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "model", "data", "out"); err != nil {
				return err
			}
			if reasons < 0 {
				return usagef("score: --reasons %d: want a number of reasons ≥ 0", reasons)
			}
			start := time.Now()
			st := startStatus(cmd)
			defer st.Stop()
			st.Step("loading "+filepath.Base(model), 0)
			m, err := artifact.Load(model)
			if err != nil {
				return err
			}
			st.Step("reading "+filepath.Base(data), 0)
			// The table as caserisk features wrote it: ids, as_of and audit
			// columns are keys, and the model's own label (and any other
			// label) is carried unread rather than taken for a feature.
			tab, err := dataset.Read(cmd.Context(), data, dataset.Options{Ignore: ignore, Labels: []string{m.Target}})
			if err != nil {
				return err
			}
			st.Step("scoring", 0)
			probs, margins, err := m.Scores(cmd.Context(), tab)
			if err != nil {
				return fmt.Errorf("score %s with %s: %w", tab.Source, model, err)
			}
			write := func(w io.Writer) error {
				w = rowCounter{w, st}
				if explainCols || reasons > 0 {
					st.Step("explaining and writing", tab.Len())
					return writeExplained(cmd.Context(), w, m, tab, probs, explainCols, reasons)
				}
				st.Step("writing", tab.Len())
				return artifact.WriteScores(w, tab, probs, margins)
			}
			if out == "-" {
				return write(cmd.OutOrStdout())
			}
			if err := writeAtomic(out, write); err != nil {
				return fmt.Errorf("score: %w", err)
			}
			st.Stop()
			fmt.Fprintf(cmd.ErrOrStderr(), "scored %d rows of %s with %s %s model in %.2fs; wrote %s\n",
				tab.Len(), tab.Source, m.Target, m.Algorithm, time.Since(start).Seconds(), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "model file written by caserisk train")
	cmd.Flags().StringVar(&data, "data", "", "table to score (CSV, or Parquet by extension)")
	_ = cmd.MarkFlagFilename("data", "csv", "parquet")
	_ = cmd.MarkFlagFilename("model", "json")
	cmd.Flags().StringVar(&out, "out", "", "predictions CSV to write (- for standard output)")
	cmd.Flags().StringSliceVar(&ignore, "ignore", nil, "further columns that are not features (comma-separated)")
	cmd.Flags().BoolVar(&explainCols, "explain", false, "add each feature's contribution (shap_NAME) and the bias (shap_bias)")
	cmd.Flags().IntVar(&reasons, "reasons", 0, "add this many reasons per row that raised, and that lowered, the risk")
	return cmd
}

// writeAtomic writes path through a temporary file beside it, renamed into
// place once complete, so a failure never leaves a partial file under the
// requested name.
func writeAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
