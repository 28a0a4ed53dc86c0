package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/explain"
	"caserisk/models/metrics"
)

func newEvaluateCmd() *cobra.Command {
	var (
		model, data, label, ks, oracle, oracleAsOf string
		ignore                                     []string
		threshold                                  float64
		bootstrap, bins                            int
		seed                                       uint64
		asJSON                                     bool
	)
	var importance, importanceRows int
	cmd := &cobra.Command{
		Use:   "evaluate",
		Short: "Evaluate a model file on a labelled feature table",
		Long: `Score --data with --model and compare with the label (--label, by default the
model's target): ranking quality (ROC AUC, average precision), probability
quality (log-loss, Brier score, expected calibration error and the
reliability table), precision and recall among the top k cases (--k, the
numbers a team can review) and at --threshold, each with a bootstrap 95%
interval. Rows with an empty label are left out and counted.

Global importance follows: the --importance N features with the largest mean
absolute contribution to the margin (exact TreeSHAP or linear terms, in
log-odds) over the rows, estimated on at most --importance-rows evenly
spaced rows, with each feature's total split gain for gbdt models.

With --oracle (the synthetic borough's oracle/residents.csv or
oracle/tenancies.csv), the rows are joined with the oracle on their id and
the oracle's own AUC on the same rows is reported beside the model's: the
ceiling no model of the data can beat. The oracle describes one as-of date;
when the table has several, name it with --oracle-as-of.

--data is read as caserisk features wrote it (CSV or Parquet, with its
FILE.meta.json when present): id, as_of and audit columns are not features,
and label columns other than --label are carried unread. On a terminal, a
status line on standard error shows the step once a run takes more than
two seconds; nothing when piped.`,
		Example: `  caserisk evaluate --model model.json --data test.csv --k 100,200,500
  caserisk evaluate --model model.json --data test.csv --oracle borough/oracle/residents.csv --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "model", "data"); err != nil {
				return err
			}
			var kList []int
			for _, s := range strings.Split(ks, ",") {
				k, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || k <= 0 {
					return usagef("evaluate: --k %q: want positive whole numbers separated by commas", ks)
				}
				kList = append(kList, k)
			}
			if importance < 0 || importanceRows < 0 {
				return usagef("evaluate: --importance %d, --importance-rows %d: want numbers ≥ 0", importance, importanceRows)
			}
			if !(threshold > 0 && threshold < 1) {
				return usagef("evaluate: --threshold %v: want a probability between 0 and 1", threshold)
			}
			if oracleAsOf != "" {
				if _, err := time.Parse(time.DateOnly, oracleAsOf); err != nil {
					return usagef("evaluate: --oracle-as-of %q: want a date YYYY-MM-DD", oracleAsOf)
				}
			}
			ctx := cmd.Context()
			st := startStatus(cmd)
			defer st.Stop()
			st.Step("loading "+filepath.Base(model), 0)
			m, err := artifact.Load(model)
			if err != nil {
				return err
			}
			if label == "" {
				label = m.Target
			}
			st.Step("reading "+filepath.Base(data), 0)
			// The table as caserisk features wrote it: other label columns,
			// the model's own when --label names another, are carried unread.
			tab, err := dataset.Read(ctx, data, dataset.Options{Label: label, Ignore: ignore, Labels: []string{m.Target}})
			if err != nil {
				return err
			}
			st.Step(fmt.Sprintf("scoring %d rows, metrics and %d bootstrap replicates", tab.Len(), max(bootstrap, 0)), 0)
			mo := metrics.Options{Ks: kList, Threshold: threshold, Bootstrap: bootstrap, Seed: seed, ECEBins: bins}
			ev, err := artifact.Evaluate(ctx, m, tab, mo)
			if err != nil {
				return err
			}
			ev.Model = filepath.Base(model)
			if oracle != "" {
				st.Step("comparing with "+filepath.Base(oracle), 0)
				ot, err := dataset.Read(ctx, oracle, dataset.Options{})
				if err != nil {
					return err
				}
				if _, err := ev.CompareOracle(ctx, ot, oracleAsOf, mo); err != nil {
					return err
				}
			}
			var imp []explain.Importance
			if importance > 0 {
				n := tab.Len()
				if importanceRows > 0 {
					n = min(n, importanceRows)
				}
				st.Step(fmt.Sprintf("importance over %d rows", n), 0)
				if imp, err = m.GlobalImportance(ctx, tab, importanceRows); err != nil {
					return err
				}
			}
			st.Stop()
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				out := struct {
					*artifact.Evaluation
					Importance []explain.Importance `json:"importance,omitempty"`
				}{ev, imp[:min(importance, len(imp))]}
				if err := enc.Encode(out); err != nil {
					return fmt.Errorf("evaluate: %w", err)
				}
				return nil
			}
			printEvaluation(cmd.OutOrStdout(), ev)
			if imp != nil {
				fmt.Fprintln(cmd.OutOrStdout())
				printImportance(cmd.OutOrStdout(), imp, importance, m.Algorithm == artifact.GBDT)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "model file written by caserisk train")
	f.StringVar(&data, "data", "", "labelled table (CSV, or Parquet by extension)")
	_ = cmd.MarkFlagFilename("model", "json")
	_ = cmd.MarkFlagFilename("data", "csv", "parquet")
	f.StringVar(&label, "label", "", "label column (default: the model's target)")
	f.StringSliceVar(&ignore, "ignore", nil, "further columns that are not features (comma-separated)")
	f.StringVar(&ks, "k", "100,200,500", "capacities: report precision and recall among the top k cases")
	f.Float64Var(&threshold, "threshold", 0.5, "flag cases with a score at or above this probability")
	f.IntVar(&bootstrap, "bootstrap", 200, "bootstrap replicates for the 95% intervals (-1 = off)")
	f.IntVar(&bins, "bins", 10, "reliability bins for the calibration error")
	f.Uint64Var(&seed, "seed", 0, "bootstrap seed")
	f.StringVar(&oracle, "oracle", "", "synthetic borough oracle file to compare with (the AUC ceiling)")
	f.StringVar(&oracleAsOf, "oracle-as-of", "", "the as-of date the oracle describes, when the table has several")
	f.BoolVar(&asJSON, "json", false, "print the full evaluation as JSON")
	f.IntVar(&importance, "importance", 10, "list the N most important features by mean |contribution| (0 = none)")
	f.IntVar(&importanceRows, "importance-rows", 50000, "estimate importance on at most this many evenly spaced rows (0 = all)")
	return cmd
}

// printEvaluation writes the evaluation as readable tables.
func printEvaluation(w io.Writer, ev *artifact.Evaluation) {
	r := ev.Report
	fmt.Fprintf(w, "model %s: %s predicting %s (checksum %.12s)\n", ev.Model, ev.Algorithm, ev.Target, ev.Checksum)
	fmt.Fprintf(w, "data %s: %d labelled rows, %d positive (%.2f%%)", ev.Data, r.N, r.Positives, 100*r.Prevalence)
	if ev.Unlabelled > 0 {
		fmt.Fprintf(w, "; %d rows with an empty %s left out", ev.Unlabelled, ev.Label)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-40s %8s   %s\n", "metric", "value", "95% interval")
	row := func(name string, m metrics.Metric) {
		fmt.Fprintf(w, "%-40s %8.4f   %s\n", name, m.Value, ci(m))
	}
	row("ROC AUC", r.ROCAUC)
	row("average precision", r.AveragePrecision)
	row("log-loss", r.LogLoss)
	row("Brier score", r.Brier)
	row(fmt.Sprintf("calibration error (ECE, %s)", r.ECEBinning), r.ECE)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-8s %10s   %-26s %-26s\n", "top k", "min score", "precision", "recall")
	for _, k := range r.TopK {
		fmt.Fprintf(w, "%-8d %10.4f   %-26s %-26s\n", k.K, k.Threshold, pm(k.Precision), pm(k.Recall))
	}
	t := r.AtThreshold
	fmt.Fprintf(w, "score >= %-6g: %d flagged, precision %s, recall %s\n", t.Threshold, t.Flagged, pm(t.Precision), pm(t.Recall))
	fmt.Fprintln(w)
	fmt.Fprintf(w, "reliability  %-15s %8s %12s %14s\n", "bin", "rows", "mean score", "observed rate")
	for _, b := range r.Reliability {
		if b.Count == 0 {
			continue
		}
		fmt.Fprintf(w, "             [%.3f, %.3f]  %8d %12.4f %14.4f\n", b.Lo, b.Hi, b.Count, b.MeanScore.Value, b.FracPositive.Value)
	}
	if o := ev.Oracle; o != nil {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "oracle %s joined on %s: %d rows compared", o.Source, o.Key, o.Rows)
		if o.AsOf != "" {
			fmt.Fprintf(w, " (as_of %s)", o.AsOf)
		}
		if o.Unmatched > 0 {
			fmt.Fprintf(w, ", %d rows not in the oracle", o.Unmatched)
		}
		fmt.Fprintln(w)
		if o.LabelAgreement != nil {
			fmt.Fprintf(w, "  the label equals the oracle's %s on %.2f%% of them\n", o.ResultCol, 100**o.LabelAgreement)
		}
		fmt.Fprintf(w, "  %-20s %8s %8s\n", "on these rows", "model", "oracle")
		if o.Oracle != nil {
			fmt.Fprintf(w, "  %-20s %8.4f %8.4f\n", "ROC AUC", o.Model.ROCAUC.Value, o.Oracle.ROCAUC.Value)
			fmt.Fprintf(w, "  %-20s %8.4f %8.4f\n", "average precision", o.Model.AveragePrecision.Value, o.Oracle.AveragePrecision.Value)
			fmt.Fprintf(w, "  %-20s %8.4f %8.4f\n", "log-loss", o.Model.LogLoss.Value, o.Oracle.LogLoss.Value)
			fmt.Fprintf(w, "  the model reaches %.1f%% of the oracle's lift over chance in AUC\n",
				100*(o.Model.ROCAUC.Value-0.5)/(o.Oracle.ROCAUC.Value-0.5))
		} else {
			fmt.Fprintf(w, "  %-20s %8.4f %8s\n", "ROC AUC", o.Model.ROCAUC.Value, "-")
			fmt.Fprintln(w, "  the oracle has no probability column, so there is no AUC ceiling to report")
		}
	}
}

// ci formats a metric's interval, or "-" without one.
func ci(m metrics.Metric) string {
	if math.IsNaN(m.Lo) || math.IsNaN(m.Hi) {
		return "-"
	}
	return fmt.Sprintf("[%.4f, %.4f]", m.Lo, m.Hi)
}

// pm formats a metric with its interval in one cell.
func pm(m metrics.Metric) string {
	if math.IsNaN(m.Lo) || math.IsNaN(m.Hi) {
		return fmt.Sprintf("%.4f", m.Value)
	}
	return fmt.Sprintf("%.4f [%.4f, %.4f]", m.Value, m.Lo, m.Hi)
}
