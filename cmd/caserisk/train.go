package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"caserisk/features/contract"
	"caserisk/models/artifact"
	"caserisk/models/calibrate"
	"caserisk/models/dataset"
	"caserisk/models/gbdt"
	"caserisk/models/logistic"
	"caserisk/models/metrics"
)

func newTrainCmd() *cobra.Command {
	var (
		data, label, algo, validFile, validAfter, monotone, calib, out string
		ignore                                                         []string
		validFrac                                                      float64
		bootstrap, verboseEval                                         int
		directions                                                     bool
	)
	p := gbdt.DefaultParams()
	lo := logistic.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a gbdt or logistic model on a feature table and write the model file",
		Long: `Train a model on --data (CSV, or Parquet when it ends in .parquet) to predict
the 0/1 column --label, and write the versioned, checksummed model file --out.
Rows with an empty label (an outcome not yet known) are left out and counted.
Id and date columns, audit_* columns and other label_* columns are never
features; name further non-feature columns with --ignore.

Held-out rows come from --valid FILE, a random --valid-frac of the residents
(seeded by --seed), or the rows dated after --valid-after. They are split in
two halves at random by resident: the tuning half drives early stopping and
is what the calibrator (--calibration, platt by default) is fit on; the
evaluation half is used only for the validation metrics stored in the model,
so those are honest estimates for new rows. Without held-out rows the model
is uncalibrated (the sigmoid of its margin) and has no validation metrics.

Parameter flags carry XGBoost's names and defaults. gbdt honours the
direction the feature spec declares for a feature (direction: increasing
or decreasing, carried in the table's meta.json) as a monotone constraint:
the score may only rise (or fall) with it; --directions=false trains
without them. --monotone takes name=+1,name=-1,name=0 to set or lift a
feature's constraint over the declared one.`,
		Example: `  caserisk train --data train.csv --label label_complex_case --algo gbdt \
      --valid-after 2023-06-30 --early-stopping-rounds 20 --out model.json
  caserisk train --data fraud.parquet --label label_tenancy_fraud --algo logistic --valid-frac 0.2 --out fraud.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "data", "label", "out"); err != nil {
				return err
			}
			// Each algorithm's parameter flags; setting one with the other
			// algorithm is a usage error.
			gbdtFlags := []string{"rounds", "max-depth", "max-leaves", "learning-rate", "max-bin", "lambda", "alpha",
				"min-child-weight", "gamma", "subsample", "colsample", "scale-pos-weight", "early-stopping-rounds", "growth", "monotone", "directions"}
			logisticFlags := []string{"l2", "l1", "max-iter"}
			var other []string
			switch algo {
			case artifact.GBDT:
				other = logisticFlags
			case artifact.Logistic:
				other = gbdtFlags
			default:
				return usagef("train: --algo %q: want gbdt or logistic", algo)
			}
			for _, f := range other {
				if cmd.Flags().Changed(f) {
					return usagef("train: --%s does not apply to --algo %s", f, algo)
				}
			}
			nvalid := 0
			for _, f := range []string{"valid", "valid-frac", "valid-after"} {
				if cmd.Flags().Changed(f) {
					nvalid++
				}
			}
			if nvalid > 1 {
				return usagef("train: give at most one of --valid, --valid-frac and --valid-after")
			}
			if cmd.Flags().Changed("valid-frac") && !(validFrac > 0 && validFrac < 1) {
				return usagef("train: --valid-frac %v: want a fraction between 0 and 1", validFrac)
			}
			if cmd.Flags().Changed("valid-after") {
				if _, err := time.Parse(time.DateOnly, validAfter); err != nil {
					return usagef("train: --valid-after %q: want a date YYYY-MM-DD", validAfter)
				}
			}
			switch calib {
			case "", calibrate.Platt, calibrate.Isotonic, calibrate.None:
			default:
				return usagef("train: --calibration %q: want platt, isotonic or none", calib)
			}
			mono, err := parseMonotone(monotone)
			if err != nil {
				return usagef("train: --monotone: %v", err)
			}
			// Bad parameters are usage errors, found before any data is read.
			if algo == artifact.GBDT {
				if err := p.Validate(0); err != nil {
					return usagef("train: %v", err)
				}
			} else if lo.L2 < 0 || lo.L1 < 0 || lo.MaxIter < 0 || p.Threads < 0 {
				return usagef("train: --l2, --l1, --max-iter and --threads must not be negative")
			}
			lo.Threads = p.Threads
			if verboseEval < 0 {
				return usagef("train: --verbose-eval %d: want a number of rounds ≥ 0", verboseEval)
			}

			// Every step is timed from the end of the one before, so the
			// steps of the timing line add up to the total.
			tm := &artifact.Timings{}
			tm.Start()
			ctx := cmd.Context()
			prog := newTrainProgress(cmd, verboseEval)
			// On a terminal, a status line while the table is read (and
			// while a fit without round lines runs).
			st := startStatus(cmd)
			defer st.Stop()
			st.Step("reading "+filepath.Base(data), 0)
			opts := dataset.Options{Label: label, Ignore: ignore, Threads: p.Threads}
			tab, err := dataset.Read(ctx, data, opts)
			if err != nil {
				return err
			}
			tm.Mark("read")
			train, held, heldOut := tab, (*dataset.Table)(nil), ""
			switch {
			case validFile != "":
				held, err = dataset.Read(ctx, validFile, opts)
				if err != nil {
					return err
				}
				heldOut = "--valid " + filepath.Base(validFile)
			case validFrac > 0:
				train, held, err = tab.SplitFraction(validFrac, p.Seed)
				heldOut = fmt.Sprintf("--valid-frac %g (seed %d, grouped by id)", validFrac, p.Seed)
			case validAfter != "":
				train, held, err = tab.SplitAfter(validAfter)
				heldOut = "--valid-after " + validAfter
				if err == nil {
					if note := horizonNote(train.AsOfDates(), held.AsOfDates()); note != "" {
						fmt.Fprintln(cmd.ErrOrStderr(), "note: "+note)
						heldOut += " (" + note + ")"
					}
				}
			}
			if err != nil {
				return err
			}
			if heldOut != "" {
				heldOut += "; held-out rows halved by id: tuning half for early stopping and calibration, evaluation half for the metrics"
			}
			if validFile != "" {
				tm.Mark("read")
			} else if held != nil {
				tm.Mark("split")
			}
			st.Stop()
			prog.read(tab, held, tm.Total())
			progress := prog.round(algo, p.Rounds, held != nil)
			if progress == nil {
				st = startStatus(cmd)
				defer st.Stop()
				st.Step("fitting "+algo, 0)
			}
			mo := metrics.DefaultOptions()
			mo.Bootstrap, mo.Seed = bootstrap, p.Seed
			m, err := artifact.Fit(ctx, train, held, artifact.FitOptions{
				Algorithm: algo, GBDT: p, Logistic: lo, Monotone: mono, NoDirections: !directions, Calibration: calib,
				HeldOut: heldOut, Seed: p.Seed, Metrics: mo, Created: time.Now(), Version: version,
				Progress: progress, Timings: tm,
			})
			st.Stop()
			if err != nil {
				return err
			}
			if err := m.Save(out); err != nil {
				return err
			}
			tm.Mark("save")
			printTrainSummary(cmd, m, len(tab.Names), tm, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "training table (CSV, or Parquet by extension)")
	f.StringVar(&label, "label", "", "label column, 0/1 (empty = unknown, row left out)")
	f.StringVar(&algo, "algo", artifact.GBDT, "algorithm: gbdt or logistic")
	f.StringVar(&out, "out", "", "model file to write")
	f.StringSliceVar(&ignore, "ignore", nil, "further columns that are not features (comma-separated)")
	f.StringVar(&validFile, "valid", "", "held-out table with the same columns")
	f.Float64Var(&validFrac, "valid-frac", 0, "hold out this fraction of residents at random")
	f.StringVar(&validAfter, "valid-after", "", "hold out rows with as_of after this date (temporal hold-out)")
	f.StringVar(&calib, "calibration", "", "platt, isotonic or none (default platt with held-out rows, none without)")
	f.IntVar(&verboseEval, "verbose-eval", 10, "gbdt: on a terminal, print the tuning log-loss every this many rounds (0 = never)")
	f.IntVar(&bootstrap, "bootstrap", 200, "bootstrap replicates for the validation metrics' 95% intervals (-1 = off)")
	f.IntVar(&p.Rounds, "rounds", p.Rounds, "gbdt: boosting rounds")
	f.IntVar(&p.MaxDepth, "max-depth", p.MaxDepth, "gbdt: maximum tree depth")
	f.IntVar(&p.MaxLeaves, "max-leaves", p.MaxLeaves, "gbdt: maximum leaves per tree (0 = no limit)")
	f.Float64Var(&p.LearningRate, "learning-rate", p.LearningRate, "gbdt: learning rate (eta)")
	f.IntVar(&p.MaxBin, "max-bin", p.MaxBin, "gbdt: histogram bins per feature, including one for missing values")
	f.Float64Var(&p.Lambda, "lambda", p.Lambda, "gbdt: L2 penalty on leaf values")
	f.Float64Var(&p.Alpha, "alpha", p.Alpha, "gbdt: L1 penalty on leaf values")
	f.Float64Var(&p.MinChildWeight, "min-child-weight", p.MinChildWeight, "gbdt: minimum hessian sum in a child")
	f.Float64Var(&p.Gamma, "gamma", p.Gamma, "gbdt: minimum gain to split")
	f.Float64Var(&p.Subsample, "subsample", p.Subsample, "gbdt: fraction of rows per tree")
	f.Float64Var(&p.Colsample, "colsample", p.Colsample, "gbdt: fraction of features per tree")
	f.Float64Var(&p.ScalePosWeight, "scale-pos-weight", p.ScalePosWeight, "gbdt: weight of positive rows")
	f.IntVar(&p.EarlyStoppingRounds, "early-stopping-rounds", p.EarlyStoppingRounds, "gbdt: stop after this many rounds without improvement on the tuning half (0 = off)")
	f.StringVar(&p.Growth, "growth", gbdt.GrowthDepthwise, "gbdt: depthwise or lossguide")
	f.StringVar(&monotone, "monotone", "", "gbdt: monotone constraints over the declared directions, name=+1,name=-1,name=0")
	f.BoolVar(&directions, "directions", true, "gbdt: honour the feature metadata's declared directions as monotone constraints")
	f.Uint64Var(&p.Seed, "seed", 0, "seed for sampling, the hold-out split and the bootstrap")
	f.IntVar(&p.Threads, "threads", 0, "goroutines (0 = all cores); does not change the model")
	f.Float64Var(&lo.L2, "l2", lo.L2, "logistic: L2 penalty (1/C)")
	f.Float64Var(&lo.L1, "l1", lo.L1, "logistic: L1 penalty")
	f.IntVar(&lo.MaxIter, "max-iter", lo.MaxIter, "logistic: maximum solver iterations")
	return cmd
}

// parseMonotone parses name=+1,name=-1,name=0.
func parseMonotone(s string) (map[string]int8, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]int8{}
	for _, part := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: want name=+1, name=-1 or name=0", part)
		}
		v, err := strconv.Atoi(strings.TrimPrefix(val, "+"))
		if err != nil || v < -1 || v > 1 {
			return nil, fmt.Errorf("%q: the constraint must be +1, -1 or 0", part)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%q: %s is constrained twice", part, name)
		}
		out[name] = int8(v)
	}
	return out, nil
}

func printTrainSummary(cmd *cobra.Command, m *artifact.Model, nfeat int, tm *artifact.Timings, out string) {
	w := cmd.OutOrStdout()
	t := m.Training
	fmt.Fprintf(w, "trained %s on %s: %d labelled rows, %d features, label rate %.4f", m.Algorithm, t.Source, t.Rows, nfeat, t.LabelRate)
	if t.Unlabelled > 0 {
		fmt.Fprintf(w, " (%d rows with an empty %s left out)", t.Unlabelled, m.Target)
	}
	fmt.Fprintln(w)
	if m.Algorithm == artifact.GBDT {
		fmt.Fprintf(w, "rounds: %d run, %d kept\n", t.Rounds, t.BestRound+1)
		if mono := m.Monotone(); len(mono) > 0 {
			fmt.Fprintf(w, "monotone constraints on %d features (declared directions and --monotone)\n", len(mono))
		}
	} else if t.Converged != nil && !*t.Converged {
		fmt.Fprintln(w, "warning: the logistic solver did not converge within --max-iter")
	}
	if v := m.Validation; v != nil {
		r := v.Report
		use := "no calibration"
		if m.Calibration != nil {
			use = m.Calibration.Method + " calibration"
		}
		if m.Algorithm == artifact.GBDT {
			use = "early stopping, " + use
		}
		fmt.Fprintf(w, "held out: %d tuning rows (%s), %d evaluation rows (metrics only)\n", t.Tuning, use, t.Evaluated)
		fmt.Fprintf(w, "validation: AUC %s, average precision %s, log-loss %.4f, ECE %.4f\n",
			interval(r.ROCAUC), interval(r.AveragePrecision), r.LogLoss.Value, r.ECE.Value)
	} else {
		fmt.Fprintln(w, "no held-out rows: the model is uncalibrated and has no validation metrics")
	}
	if top := m.ImportanceRanking(); len(top) > 0 {
		fmt.Fprintf(w, "most important: %s\n", strings.Join(top[:min(5, len(top))], ", "))
	}
	steps := make([]string, len(tm.Steps))
	for i, s := range tm.Steps {
		steps[i] = fmt.Sprintf("%s %.2fs", s.Name, s.Time.Seconds())
	}
	fmt.Fprintf(w, "time: %.2fs (%s); wrote %s (checksum %.12s)\n",
		tm.Total().Seconds(), strings.Join(steps, ", "), out, m.Checksum)
}

// trainProgress reports a long fit on standard error when that is a
// terminal, like XGBoost's verbose_eval: the table read, then every N
// rounds the tuning half's log-loss. It is quiet when standard error is
// piped or redirected.
type trainProgress struct {
	w     io.Writer // nil: quiet
	every int
	start time.Time
}

func newTrainProgress(cmd *cobra.Command, every int) *trainProgress {
	p := &trainProgress{every: every, start: time.Now()}
	if f, ok := cmd.ErrOrStderr().(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		p.w = f
	}
	return p
}

// read reports the tables read.
func (p *trainProgress) read(tab, held *dataset.Table, d time.Duration) {
	if p.w == nil {
		return
	}
	fmt.Fprintf(p.w, "read %s: %d rows, %d features", tab.Source, tab.Len(), len(tab.Names))
	if held != nil {
		fmt.Fprintf(p.w, "; %d held-out rows", held.Len())
	}
	fmt.Fprintf(p.w, " (%.2fs)\n", d.Seconds())
}

// round returns the per-round callback of a gbdt fit of the given rounds,
// or nil when there is nothing to print.
func (p *trainProgress) round(algo string, rounds int, held bool) func(gbdt.RoundMetrics) {
	if p.w == nil || p.every == 0 || algo != artifact.GBDT {
		return nil
	}
	best, bestRound := math.Inf(1), -1
	return func(r gbdt.RoundMetrics) {
		if held && r.ValidLogLoss < best {
			best, bestRound = r.ValidLogLoss, r.Round
		}
		if (r.Round+1)%p.every != 0 && r.Round != 0 && r.Round+1 != rounds {
			return
		}
		fmt.Fprint(p.w, formatRound(r, rounds, held, best, bestRound, time.Since(p.start)))
	}
}

// formatRound is one progress line.
func formatRound(r gbdt.RoundMetrics, rounds int, held bool, best float64, bestRound int, elapsed time.Duration) string {
	line := fmt.Sprintf("[%d/%d]", r.Round+1, rounds)
	if held {
		line += fmt.Sprintf(" tuning log-loss %.6f (best %.6f at round %d)", r.ValidLogLoss, best, bestRound+1)
	}
	return line + fmt.Sprintf(" %.1fs\n", elapsed.Seconds())
}

// interval formats a metric with its 95% interval when there is one.
func interval(m metrics.Metric) string {
	if math.IsNaN(m.Lo) || math.IsNaN(m.Hi) {
		return fmt.Sprintf("%.4f", m.Value)
	}
	return fmt.Sprintf("%.4f [%.4f, %.4f]", m.Value, m.Lo, m.Hi)
}

// horizonNote warns when the outcome windows of the latest training rows
// (as_of + 12 months) reach past the first held-out as-of date: such a
// model has learnt from outcomes that a model deployed on that date could
// not yet have seen, so the hold-out flatters it a little.
func horizonNote(trainDates, heldDates []string) string {
	if len(trainDates) == 0 || len(heldDates) == 0 {
		return ""
	}
	last, err1 := time.Parse(time.DateOnly, trainDates[len(trainDates)-1])
	first, err2 := time.Parse(time.DateOnly, heldDates[0])
	if err1 != nil || err2 != nil {
		return ""
	}
	if end := last.AddDate(0, contract.LabelHorizonMonths, 0); end.After(first) {
		return fmt.Sprintf("training outcomes run to %s, after the first held-out as_of %s; "+
			"train on as_of up to %s for a hold-out faithful to deployment",
			end.Format(time.DateOnly), first.Format(time.DateOnly),
			first.AddDate(0, -contract.LabelHorizonMonths, 0).Format(time.DateOnly))
	}
	return ""
}
