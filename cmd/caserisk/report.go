package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/fairness"
	"caserisk/models/metrics"
	"caserisk/models/report"
)

func newReportCmd() *cobra.Command {
	var (
		model, data, oracle, baseline, out, governance, label string
		capacity, bootstrap                                   int
		seed                                                  uint64
		ratioFlag                                             float64
		minGroup                                              int
	)
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write a model's evaluation report, fairness audit, model card and ATRS record",
		Long: `Evaluate --model on the labelled table --data and write, into --out:

  report.html    a self-contained page (no outside assets): metrics with 95%
                 intervals, ROC, precision-recall, reliability, score
                 distribution, gain at capacity and importance charts
                 (gonum/plot), and the fairness audit
  report.json    the same figures (they agree with caserisk evaluate's)
  fairness.json  the audit alone: per sex, age band, ethnic group, disability
                 and ward, the selection rate, TPR, FPR, precision and
                 calibration at capacity with intervals; ratios to the
                 best-served group flagged below --ratio-flag
  model_card.md  the model card
  atrs.json, atrs.md
                 the Algorithmic Transparency Recording Standard record

--baseline adds a second model side by side; --oracle (a synthetic borough's
oracle file) adds the ceiling the true probabilities reach (oracle/residents.csv)
or, for tenancy fraud (oracle/tenancies.csv), judges the model over every
tenancy at the as-of date against each one's true state: precision and recall
in the top 100, 500 and 1,000, average precision and ROC AUC, beside the
investigated rows' metrics. When the table has rows with an empty label, every
row is ranked against the confirmed positives too, oracle or not. A model
evaluated on fewer than 200 labelled rows, or 50 of either class (or trained
on so few), gets a warning that its metrics cannot be trusted
("too_few_labels" in report.json); no precision is shown at a k larger than
the rows. Fields only a
person can fill (owner, contact, DPIA...) come from --governance, a YAML file;
without it they read "not provided", never invented.`,
		Example: `  caserisk report --model gbdt.json --data holdout.csv --baseline logistic.json \
      --oracle borough/oracle/residents.csv --governance governance.yaml --out report/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "model", "data", "out"); err != nil {
				return err
			}
			if capacity <= 0 {
				return usagef("report: --capacity %d: want a positive number of cases", capacity)
			}
			ctx := cmd.Context()
			m, err := artifact.Load(model)
			if err != nil {
				return err
			}
			if label == "" {
				label = m.Target
			}
			tab, err := dataset.Read(ctx, data, dataset.Options{Label: label})
			if err != nil {
				return err
			}
			var base *artifact.Model
			if baseline != "" {
				if base, err = artifact.Load(baseline); err != nil {
					return err
				}
			}
			var ot *dataset.Table
			if oracle != "" {
				if ot, err = dataset.Read(ctx, oracle, dataset.Options{}); err != nil {
					return err
				}
			}
			gov := &report.Governance{}
			if governance != "" {
				if gov, err = report.LoadGovernance(governance); err != nil {
					return err
				}
			}
			// The same metric options as caserisk evaluate's defaults, plus the
			// capacity, so the two commands' figures agree.
			mo := metrics.Options{Ks: []int{100, 200, 500}, Threshold: 0.5, Bootstrap: bootstrap, Seed: seed, ECEBins: 10}
			name := strings.TrimSuffix(filepath.Base(model), filepath.Ext(model))
			baseName := strings.TrimSuffix(filepath.Base(baseline), filepath.Ext(baseline))
			in, err := report.FromArtifact(ctx, name, m, tab, base, baseName, ot, capacity, mo)
			if err != nil {
				return err
			}
			in.Fairness = fairness.Options{Capacity: capacity, RatioFlag: ratioFlag, MinGroup: minGroup}
			r, err := report.Build(ctx, *in)
			if err != nil {
				return err
			}
			facts := report.FactsOf(name, m, tab, in.GroupOrder)
			if err := report.WriteDir(out, r, facts, gov); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			mr := r.Model.Metrics
			fmt.Fprintf(w, "%s on %s: %d labelled rows, AUC %.4f [%.4f, %.4f]", name, tab.Source, r.Rows, mr.ROCAUC.Value, mr.ROCAUC.Lo, mr.ROCAUC.Hi)
			if cp := r.Model.AtCapacity; cp.K > 0 {
				fmt.Fprintf(w, ", precision in the top %d %.4f", cp.K, cp.Precision)
			}
			fmt.Fprintln(w)
			for _, warn := range r.Warnings {
				fmt.Fprintf(w, "warning: %s\n", warn)
			}
			if st := r.Stock; st != nil && st.Oracle != nil {
				fmt.Fprintf(w, "over all %d rows against the oracle's truth: average precision %.4f, AUC %.4f", st.Rows, st.Oracle.AveragePrecision.Value, st.Oracle.ROCAUC.Value)
				for _, k := range st.Oracle.TopK {
					fmt.Fprintf(w, ", precision in the top %d %.4f", k.K, k.Precision.Value)
				}
				fmt.Fprintln(w)
			} else if st != nil {
				fmt.Fprintf(w, "over all %d rows: average precision of the %d confirmed positives %.4f\n", st.Rows, st.Confirmed, st.Council.AveragePrecision.Value)
			}
			if r.Fairness != nil {
				flags := r.Fairness.Flags()
				fmt.Fprintf(w, "fairness: %d characteristic(s) audited, %d flag(s)\n", len(r.Fairness.Characteristics), len(flags))
				for _, f := range flags {
					fmt.Fprintf(w, "  %s\n", f)
				}
			} else {
				fmt.Fprintln(w, "fairness: not audited (the table has no audit_* columns)")
			}
			fmt.Fprintf(w, "wrote %s/{%s}\n", out, strings.Join(report.Files(), ", "))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "model file written by caserisk train")
	f.StringVar(&data, "data", "", "labelled evaluation table, ideally a temporal hold-out (CSV or Parquet)")
	f.StringVar(&label, "label", "", "label column (default: the model's target)")
	f.StringVar(&baseline, "baseline", "", "a second model file to compare side by side")
	f.StringVar(&oracle, "oracle", "", "synthetic borough oracle file: residents.csv gives the ceiling of the true probabilities, tenancies.csv the true fraud of every tenancy")
	f.StringVar(&governance, "governance", "", "YAML with the fields only a person can fill (owner, contact, DPIA...)")
	f.StringVar(&out, "out", "", "output directory")
	f.IntVar(&capacity, "capacity", 200, "cases a team can review: precision at k, fairness selection, gain mark")
	f.IntVar(&bootstrap, "bootstrap", 200, "bootstrap replicates for the 95% intervals (-1 = off)")
	f.Uint64Var(&seed, "seed", 0, "bootstrap seed")
	f.Float64Var(&ratioFlag, "ratio-flag", 0.8, "flag groups whose selection rate or TPR ratio to the best-served group is below this")
	f.IntVar(&minGroup, "min-group", 50, "fewest rows for a group to be judged")
	return cmd
}
