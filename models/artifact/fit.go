package artifact

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"time"

	"caserisk/models/calibrate"
	"caserisk/models/dataset"
	"caserisk/models/gbdt"
	"caserisk/models/logistic"
	"caserisk/models/metrics"
)

// halvesSeed is mixed into FitOptions.Seed for splitting the held-out rows.
const halvesSeed = 0x9e3779b97f4a7c15

// FitOptions configure Fit.
type FitOptions struct {
	// Algorithm is GBDT or Logistic.
	Algorithm string
	// GBDT and Logistic are the parameters of each algorithm.
	GBDT     gbdt.Params
	Logistic logistic.Options
	// Monotone constrains gbdt features by name: +1 the score may only rise
	// with the feature, -1 only fall, 0 free. It overrides the directions
	// the feature metadata declares, which gbdt honours by default.
	Monotone map[string]int8
	// NoDirections trains gbdt without the declared directions as
	// constraints (Monotone still applies).
	NoDirections bool
	// Calibration is calibrate.Platt, Isotonic or None; empty means Platt
	// when there are held-out rows and None otherwise.
	Calibration string
	// HeldOut says how the held-out rows were chosen, for the record
	// (e.g. "--valid-after 2024-03-31").
	HeldOut string
	// Seed splits the held-out rows into their two halves.
	Seed uint64
	// Metrics configures the validation metrics.
	Metrics metrics.Options
	// Created is the model's creation time; Version the caserisk version.
	Created time.Time
	Version string
	// Progress, when not nil, is called after every gbdt round (see
	// gbdt.Params.Progress).
	Progress func(gbdt.RoundMetrics)
	// Timings, when not nil, records the wall time of each step of Fit.
	Timings *Timings
}

// Timings records the wall time of the steps of a command, in order, each
// measured from the end of the one before, so that the steps add up to the
// time since Start. The methods do nothing on a nil *Timings.
type Timings struct {
	Steps []Step
	last  time.Time
}

// Step is one named step and its wall time.
type Step struct {
	Name string
	Time time.Duration
}

// Start starts the clock.
func (t *Timings) Start() {
	if t != nil {
		t.last = time.Now()
	}
}

// Mark records the time since the last mark (or Start) as the step name;
// a step marked twice adds up.
func (t *Timings) Mark(name string) {
	if t == nil {
		return
	}
	now := time.Now()
	d := now.Sub(t.last)
	t.last = now
	for i := range t.Steps {
		if t.Steps[i].Name == name {
			t.Steps[i].Time += d
			return
		}
	}
	t.Steps = append(t.Steps, Step{name, d})
}

// Total is the sum of the steps.
func (t *Timings) Total() time.Duration {
	var d time.Duration
	for _, s := range t.Steps {
		d += s.Time
	}
	return d
}

// Get returns the time of the named step (0 when there is none).
func (t *Timings) Get(name string) time.Duration {
	for _, s := range t.Steps {
		if s.Name == name {
			return s.Time
		}
	}
	return 0
}

// Fit trains a model on the labelled rows of train and uses the labelled
// rows of heldOut (which may be nil or empty) as follows.
//
// The held-out rows are split in two halves at random, grouped by resident
// (dataset.Table.SplitFraction with FitOptions.Seed). The tuning half
// drives early stopping (gbdt) and is the data the calibrator is fit on,
// from the final model's margins. The evaluation half is used for nothing
// but the validation metrics stored in the model, so those metrics are
// honest estimates for new rows: neither the trees or coefficients, nor
// the stopping round, nor the calibration ever saw them. Calibrating on the
// stopping half costs a little optimism in the calibrator (one integer, the
// round, was chosen on the same rows) and buys twice the calibration data
// of a three-way split.
//
// Rows with an empty label are dropped and counted in Training.Unlabelled.
// For logistic regression, missing values are imputed with the training
// mean and a missing indicator is added for every feature that has a
// missing value in training (see Imputation).
func Fit(ctx context.Context, train, heldOut *dataset.Table, o FitOptions) (*Model, error) {
	tm := o.Timings
	if tm != nil && tm.last.IsZero() {
		tm.Start()
	}
	if train.Label == nil {
		return nil, fmt.Errorf("fit: %s has no label column", train.Source)
	}
	if len(train.Names) == 0 {
		return nil, fmt.Errorf("fit: %s has no feature columns", train.Source)
	}
	tr, dropped := train.DropUnlabelled()
	pos := tr.Positives()
	if pos == 0 || pos == tr.Len() {
		return nil, fmt.Errorf("fit: the %d labelled training rows of %s all have %s = %d; need both classes",
			tr.Len(), train.Source, train.LabelName, min(pos, 1))
	}
	var tune, eval *dataset.Table
	if heldOut != nil && heldOut.Len() > 0 {
		ho, d := heldOut.DropUnlabelled()
		dropped += d
		if _, err := align(tr.Names, ho); err != nil {
			return nil, fmt.Errorf("fit: held-out rows: %w", err)
		}
		var err error
		// A seed of its own: with --valid-frac the held-out rows were chosen
		// with o.Seed, and the same hash would put them all in one half.
		tune, eval, err = ho.SplitFraction(0.5, o.Seed^halvesSeed)
		if err != nil {
			return nil, fmt.Errorf("fit: %w", err)
		}
		for _, h := range []*dataset.Table{tune, eval} {
			if p := h.Positives(); p == 0 || p == h.Len() {
				return nil, fmt.Errorf("fit: the held-out rows (%d labelled, %d positive) are too few to split into a tuning and an evaluation half that both hold both classes",
					ho.Len(), ho.Positives())
			}
		}
	}
	method := o.Calibration
	if method == "" {
		method = calibrate.None
		if tune != nil {
			method = calibrate.Platt
		}
	}
	if method != calibrate.None && tune == nil {
		return nil, fmt.Errorf("fit: %s calibration needs held-out rows (--valid, --valid-frac or --valid-after)", method)
	}

	m := &Model{
		Algorithm:       o.Algorithm,
		Target:          train.LabelName,
		Created:         o.Created.UTC().Format(time.RFC3339),
		CaseriskVersion: o.Version,
		Features:        make([]Feature, len(tr.Names)),
		Training: Training{
			Source: train.Source, Rows: tr.Len(), Positives: pos,
			LabelRate: float64(pos) / float64(tr.Len()), Unlabelled: dropped, AsOf: tr.AsOfDates(),
			Ignored: train.Ignored, HeldOut: o.HeldOut,
		},
	}
	for i := range tr.Names {
		m.Features[i] = Feature{FeatureMeta: tr.Meta[i], Range: directedRange(tr.Meta[i], tr.Cols[i])}
	}
	tm.Mark("prepare")
	m.Training.SHA256 = tr.Fingerprint()
	tm.Mark("fingerprint")
	start := time.Now()
	var trainMargins []float64
	switch o.Algorithm {
	case GBDT:
		var err error
		if trainMargins, err = fitGBDT(ctx, m, tr, tune, o); err != nil {
			return nil, err
		}
	case Logistic:
		if err := fitLogistic(ctx, m, tr, o); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("fit: unknown algorithm %q (want %s or %s)", o.Algorithm, GBDT, Logistic)
	}
	m.Training.Seconds = math.Round(time.Since(start).Seconds()*1000) / 1000
	tm.Mark("fit")

	if tune != nil {
		m.Training.Tuning, m.Training.Evaluated = tune.Len(), eval.Len()
		margins, err := m.Margins(ctx, tune)
		if err != nil {
			return nil, fmt.Errorf("fit: tuning rows: %w", err)
		}
		if method != calibrate.None {
			c, err := calibrate.Fit(method, margins, tune.Label, nil)
			if err != nil {
				return nil, fmt.Errorf("fit: calibration: %w", err)
			}
			m.Calibration = c
		}
		tm.Mark("calibrate")
		probs, _, err := m.Scores(ctx, eval)
		if err != nil {
			return nil, fmt.Errorf("fit: evaluation rows: %w", err)
		}
		rep, err := metrics.Evaluate(ctx, probs, eval.Label, o.Metrics)
		if err != nil {
			return nil, fmt.Errorf("fit: validation metrics: %w", err)
		}
		m.Validation = &Validation{Rows: eval.Len(), Report: rep}
		tm.Mark("validate")
	}
	if err := m.profileTraining(ctx, tr, trainMargins, threadsOf(o)); err != nil {
		return nil, err
	}
	tm.Mark("profile")
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("fit: the trained model is inconsistent: %w", err)
	}
	tm.Mark("check")
	return m, nil
}

// align returns t's feature columns in the order of names, refusing a
// table whose features differ.
func align(names []string, t *dataset.Table) ([][]float64, error) {
	m := &Model{Features: make([]Feature, len(names))}
	for i, n := range names {
		m.Features[i].Name = n
	}
	idx, err := m.FeatureIndex(t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Source, err)
	}
	cols := make([][]float64, len(idx))
	for i, j := range idx {
		cols[i] = t.Cols[j]
	}
	return cols, nil
}

// threadsOf is the number of goroutines the options allow.
func threadsOf(o FitOptions) int {
	n := o.GBDT.Threads
	if o.Algorithm == Logistic {
		n = o.Logistic.Threads
	}
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return n
}

// fitGBDT fits the ensemble and returns the training rows' margins.
func fitGBDT(ctx context.Context, m *Model, tr, tune *dataset.Table, o FitOptions) ([]float64, error) {
	p := o.GBDT
	// The training loss of every round is not kept in the model file: no
	// need to pay a logarithm per row per round for it.
	p.TrainLoss = false
	p.Progress = o.Progress
	mono, err := monotone(tr, o)
	if err != nil {
		return nil, err
	}
	p.Monotone = monotoneVector(tr.Names, mono)
	var valid *gbdt.Validation
	if tune != nil {
		cols, err := align(tr.Names, tune)
		if err != nil {
			return nil, fmt.Errorf("fit: %w", err)
		}
		valid = &gbdt.Validation{Cols: cols, Y: tune.Label}
	} else if p.EarlyStoppingRounds > 0 {
		return nil, fmt.Errorf("fit: early stopping needs held-out rows (--valid, --valid-frac or --valid-after)")
	}
	res, err := gbdt.Train(ctx, tr.Cols, tr.Label, nil, valid, p)
	if err != nil {
		return nil, fmt.Errorf("fit gbdt: %w", err)
	}
	m.Ensemble = res.Ensemble
	m.Training.Rounds, m.Training.BestRound = len(res.History), res.BestRound
	m.Importance = make(map[string]float64, len(tr.Names))
	for j, n := range tr.Names {
		if j < len(res.Cuts) {
			m.Features[j].Cuts = res.Cuts[j]
		}
		if j < len(res.Gain) && res.Gain[j] > 0 {
			m.Importance[n] = res.Gain[j]
		}
	}
	m.Params = map[string]any{
		"rounds": p.Rounds, "max_depth": p.MaxDepth, "max_leaves": p.MaxLeaves, "learning_rate": p.LearningRate,
		"max_bin": p.MaxBin, "lambda": p.Lambda, "alpha": p.Alpha, "min_child_weight": p.MinChildWeight,
		"gamma": p.Gamma, "subsample": p.Subsample, "colsample": p.Colsample, "scale_pos_weight": p.ScalePosWeight,
		"early_stopping_rounds": p.EarlyStoppingRounds, "seed": p.Seed, "growth": p.Growth,
	}
	if len(mono) > 0 {
		m.Params["monotone"] = monotoneParam(mono)
	}
	return res.TrainMargins, nil
}

func fitLogistic(ctx context.Context, m *Model, tr *dataset.Table, o FitOptions) error {
	n := len(tr.Names)
	imp := &Imputation{Values: make([]float64, n)}
	for j, c := range tr.Cols {
		sum, cnt := 0.0, 0
		for _, v := range c {
			if !math.IsNaN(v) {
				sum += v
				cnt++
			}
		}
		if cnt > 0 {
			imp.Values[j] = sum / float64(cnt)
		}
		if cnt < len(c) {
			imp.Indicators = append(imp.Indicators, j)
		}
	}
	cols := make([][]float64, 0, n+len(imp.Indicators))
	for j, c := range tr.Cols {
		if !slices.Contains(imp.Indicators, j) {
			// Nothing to impute: the solver only reads the column.
			cols = append(cols, c)
			continue
		}
		nc := make([]float64, len(c))
		for i, v := range c {
			if math.IsNaN(v) {
				v = imp.Values[j]
			}
			nc[i] = v
		}
		cols = append(cols, nc)
	}
	for _, j := range imp.Indicators {
		ind := make([]float64, tr.Len())
		for i, v := range tr.Cols[j] {
			if math.IsNaN(v) {
				ind[i] = 1
			}
		}
		cols = append(cols, ind)
	}
	lm, err := logistic.Fit(ctx, cols, tr.Label, nil, o.Logistic)
	if err != nil {
		return fmt.Errorf("fit logistic: %w", err)
	}
	m.Logistic, m.Imputation = lm, imp
	conv := lm.Converged
	m.Training.Converged = &conv
	// Importance: the size of each standardised coefficient; a feature's
	// missing indicator counts towards the feature.
	m.Importance = make(map[string]float64, n)
	add := func(j int, v float64) {
		if v = math.Abs(v); v > 0 {
			m.Importance[tr.Names[j]] += v
		}
	}
	for j := range n {
		add(j, lm.Coef[j])
	}
	for k, j := range imp.Indicators {
		add(j, lm.Coef[n+k])
	}
	lo := o.Logistic
	m.Params = map[string]any{
		"l2": lo.L2, "l1": lo.L1, "fit_intercept": lo.FitIntercept, "pos_weight": lo.PosWeight,
		"max_iter": lo.MaxIter, "tol": lo.Tol,
	}
	return nil
}

// ImportanceRanking returns the model's features by decreasing importance.
func (m *Model) ImportanceRanking() []string {
	names := make([]string, 0, len(m.Importance))
	for n := range m.Importance {
		names = append(names, n)
	}
	sort.Slice(names, func(a, b int) bool {
		if m.Importance[names[a]] != m.Importance[names[b]] {
			return m.Importance[names[a]] > m.Importance[names[b]]
		}
		return names[a] < names[b]
	})
	return names
}
