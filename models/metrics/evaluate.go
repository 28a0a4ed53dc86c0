package metrics

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"
)

// Binning names for Options.ECEBinning.
const (
	// EqualWidth splits [0, 1] into ECEBins bins of equal width (Guo et al.
	// 2017); sparsely populated extreme bins are reported with their counts.
	EqualWidth = "equal-width"
	// EqualMass splits the ranked sample into ECEBins bins of (as near as
	// possible) equal weight, so every bin is estimated from as many rows.
	EqualMass = "equal-mass"
)

// Options configures Evaluate. The zero value is usable: see each field for
// what zero means.
type Options struct {
	// Ks are the capacities (number of cases a team can review) at which
	// precision and recall of the top-ranked cases are reported. nil means
	// 100, 200 and 500. A k larger than the sample is not reported (it is
	// listed in Report.KsNotShown): a "precision in the top 100" of 40 rows
	// would only restate the base rate.
	Ks []int
	// Threshold flags cases with probability ≥ Threshold. Zero means 0.5.
	Threshold float64
	// Bootstrap is the number of bootstrap replicates for the 95% intervals:
	// each replicate resamples the n rows with replacement (multinomial
	// counts), and an interval is the 2.5th to 97.5th percentile of the
	// replicates' values. Zero means 200; a negative number switches the
	// intervals off (Lo and Hi are then NaN).
	Bootstrap int
	// Seed makes the bootstrap reproducible: the same inputs, options and
	// seed give the same intervals whatever the number of CPUs.
	Seed uint64
	// ECEBins is the number of reliability bins. Zero means 10.
	ECEBins int
	// ECEBinning is EqualWidth (the default when empty) or EqualMass.
	ECEBinning string
	// CurvePoints caps the number of points kept in each curve of the report.
	// Zero means 200.
	CurvePoints int
}

// DefaultOptions returns the options Evaluate uses for a zero Options.
func DefaultOptions() Options {
	return Options{
		Ks:          []int{100, 200, 500},
		Threshold:   0.5,
		Bootstrap:   200,
		ECEBins:     10,
		ECEBinning:  EqualWidth,
		CurvePoints: 200,
	}
}

// withDefaults fills zero fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if o.Ks == nil {
		o.Ks = d.Ks
	}
	for i, k := range o.Ks {
		if k < 1 {
			return o, fmt.Errorf("metrics: options: Ks[%d] = %d, want ≥ 1", i, k)
		}
	}
	o.Ks = sortedKs(o.Ks)
	if o.Threshold == 0 {
		o.Threshold = d.Threshold
	}
	if math.IsNaN(o.Threshold) || o.Threshold < 0 || o.Threshold > 1 {
		return o, fmt.Errorf("metrics: options: Threshold = %v, want a probability in (0, 1]", o.Threshold)
	}
	if o.Bootstrap == 0 {
		o.Bootstrap = d.Bootstrap
	}
	if o.ECEBins == 0 {
		o.ECEBins = d.ECEBins
	}
	if o.ECEBins < 1 {
		return o, fmt.Errorf("metrics: options: ECEBins = %d, want ≥ 1", o.ECEBins)
	}
	if o.ECEBinning == "" {
		o.ECEBinning = d.ECEBinning
	}
	if o.ECEBinning != EqualWidth && o.ECEBinning != EqualMass {
		return o, fmt.Errorf("metrics: options: ECEBinning = %q, want %q or %q", o.ECEBinning, EqualWidth, EqualMass)
	}
	if o.CurvePoints == 0 {
		o.CurvePoints = d.CurvePoints
	}
	if o.CurvePoints < 2 {
		return o, fmt.Errorf("metrics: options: CurvePoints = %d, want ≥ 2", o.CurvePoints)
	}
	return o, nil
}

// Report is the JSON-friendly outcome of Evaluate.
type Report struct {
	N          int     `json:"n"`
	Positives  int     `json:"positives"`
	Prevalence float64 `json:"prevalence"`

	ROCAUC           Metric `json:"roc_auc"`
	AveragePrecision Metric `json:"average_precision"`
	LogLoss          Metric `json:"log_loss"`
	Brier            Metric `json:"brier"`
	ECE              Metric `json:"ece"`
	ECEBinning       string `json:"ece_binning"`

	Reliability []ReliabilityBin `json:"reliability"`
	TopK        []AtK            `json:"top_k"`
	// KsNotShown lists the capacities asked for that exceed the sample's
	// rows: no precision or recall is reported at them.
	KsNotShown  []int       `json:"top_k_not_shown,omitempty"`
	AtThreshold AtThreshold `json:"at_threshold"`
	// Labels says whether the sample has enough labelled rows, positives
	// and negatives for these metrics to be trusted (CheckLabels).
	Labels LabelCheck `json:"labels"`

	ROC []ROCPoint `json:"roc"`
	PR  []PRPoint  `json:"pr"`

	Bootstrap int    `json:"bootstrap"`
	Seed      uint64 `json:"seed"`
}

// ReliabilityBin is one row of the reliability table: the rows whose
// probability falls in [Lo, Hi) (the last bin includes 1), their mean
// predicted probability and their observed rate of positives. For equal-mass
// bins Lo and Hi are the lowest and highest probability in the bin, and
// empty bins (when there are fewer rows than bins) are left out. Empty
// equal-width bins have Count 0 and NaN (null) means.
type ReliabilityBin struct {
	Lo           float64 `json:"lo"`
	Hi           float64 `json:"hi"`
	Count        int     `json:"count"`
	MeanScore    Metric  `json:"mean_score"`
	FracPositive Metric  `json:"frac_positive"`
}

// AtK is precision and recall among the K highest-ranked cases (K never
// exceeds the sample). Precision is positives in the top K divided by K;
// recall is positives in the top K divided by all positives.
type AtK struct {
	K         int     `json:"k"`
	Threshold float64 `json:"threshold"` // score of the K-th ranked case
	Precision Metric  `json:"precision"`
	Recall    Metric  `json:"recall"`
}

// AtThreshold is precision and recall among cases with score ≥ Threshold.
// Precision is 0 when no case is flagged.
type AtThreshold struct {
	Threshold float64 `json:"threshold"`
	Flagged   int     `json:"flagged"`
	Precision Metric  `json:"precision"`
	Recall    Metric  `json:"recall"`
}

// Evaluate computes every metric of a sample of calibrated probabilities
// (scores, in [0, 1]) against labels (0 or 1), with bootstrap intervals. It
// rejects NaN or out-of-range scores and non-binary labels with an error
// naming the index, and a sample without both classes (AUC is undefined).
func Evaluate(ctx context.Context, scores, labels []float64, o Options) (*Report, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := validate(scores, labels, nil, true); err != nil {
		return nil, err
	}
	var shown, over []int
	for _, k := range o.Ks {
		if k <= len(scores) {
			shown = append(shown, k)
		} else {
			over = append(over, k)
		}
	}
	o.Ks = shown
	cfg := config{ks: o.Ks, threshold: o.Threshold, eceBins: o.ECEBins, equalMass: o.ECEBinning == EqualMass}
	ev := newEvaluator(scores, labels, nil, cfg, true)
	v := ev.newValues()
	ev.pass(v)
	if v.p == 0 || v.p == v.w {
		return nil, errOneClass(v.p, v.w-v.p)
	}
	rep := &Report{
		N:          len(scores),
		Positives:  int(v.p),
		Prevalence: v.p / v.w,
		ECEBinning: o.ECEBinning,
		Seed:       o.Seed,
		KsNotShown: over,
		Labels:     CheckLabels(len(scores), int(v.p)),
	}
	point := v.flat(nil)
	lo, hi := make([]float64, len(point)), make([]float64, len(point))
	for i := range lo {
		lo[i], hi[i] = math.NaN(), math.NaN()
	}
	if o.Bootstrap > 0 {
		rep.Bootstrap = o.Bootstrap
		if err := ev.bootstrap(ctx, o.Bootstrap, o.Seed, lo, hi); err != nil {
			return nil, err
		}
	}
	m := func(i int) Metric { return Metric{point[i], lo[i], hi[i]} }
	rep.ROCAUC, rep.AveragePrecision, rep.LogLoss, rep.Brier, rep.ECE = m(0), m(1), m(2), m(3), m(4)
	i := 5
	for j, k := range o.Ks {
		kth := ev.r.score[k-1]
		rep.TopK = append(rep.TopK, AtK{K: k, Threshold: kth, Precision: m(i + 2*j), Recall: m(i + 2*j + 1)})
	}
	i += 2 * len(o.Ks)
	rep.AtThreshold = AtThreshold{Threshold: o.Threshold, Flagged: ev.nFlagged, Precision: m(i), Recall: m(i + 1)}
	for _, b := range v.bins {
		if b.w == 0 && o.ECEBinning == EqualMass {
			continue // an empty equal-mass bin (fewer rows than bins) has no range
		}
		rb := ReliabilityBin{Lo: b.lo, Hi: b.hi, Count: int(b.w),
			MeanScore: Metric{math.NaN(), math.NaN(), math.NaN()}, FracPositive: Metric{math.NaN(), math.NaN(), math.NaN()}}
		if b.w > 0 {
			rb.MeanScore.Value = b.sumS / b.w
			rb.FracPositive.Value = b.sumP / b.w
		}
		rep.Reliability = append(rep.Reliability, rb)
	}
	roc, err := rocCurve(ev.r)
	if err != nil {
		return nil, err
	}
	rep.ROC = thinROC(roc, o.CurvePoints)
	pr, err := prCurve(ev.r)
	if err != nil {
		return nil, err
	}
	rep.PR = thinPR(pr, o.CurvePoints)
	return rep, nil
}

// flat lists the scalar metrics of v in report order: AUC, AP, log-loss,
// Brier, ECE, then precision and recall for each k, then precision and
// recall at the threshold.
func (v *values) flat(dst []float64) []float64 {
	dst = append(dst[:0], v.auc, v.ap, v.logLoss, v.brier, v.ece)
	for j := range v.tpK {
		prec, rec := math.NaN(), math.NaN()
		if v.effK[j] > 0 {
			prec = v.tpK[j] / v.effK[j]
		}
		if v.p > 0 {
			rec = v.tpK[j] / v.p
		}
		dst = append(dst, prec, rec)
	}
	prec, rec := 0.0, math.NaN()
	if v.flagW > 0 {
		prec = v.flagP / v.flagW
	}
	if v.p > 0 {
		rec = v.flagP / v.p
	}
	return append(dst, prec, rec)
}

// bootstrap draws B multinomial resamples of the rows, recomputes every
// metric on each, and writes the 2.5% and 97.5% percentiles to lo and hi.
// Replicate b uses its own PCG stream seeded by (seed, b), so the result does
// not depend on how replicates are spread over goroutines. Replicates on
// which a metric is undefined (a resample without positives) are left out of
// that metric's percentiles.
func (ev *evaluator) bootstrap(ctx context.Context, B int, seed uint64, lo, hi []float64) error {
	n := len(ev.r.score)
	nm := len(lo)
	reps := make([]float64, B*nm) // reps[b*nm+i] = metric i on replicate b
	workers := min(runtime.GOMAXPROCS(0), B)
	g, ctx := errgroup.WithContext(ctx)
	for w := range workers {
		g.Go(func() error {
			counts := make([]uint16, n) // 2 bytes a row keeps the random increments in cache
			v := ev.newValues()
			flat := make([]float64, 0, nm)
			for b := w; b < B; b += workers {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("metrics: bootstrap cancelled at replicate %d: %w", b, err)
				}
				rng := rand.New(rand.NewPCG(seed, uint64(b)))
				clear(counts)
				for range n {
					// A count can only reach 65535 when n > 65535, with
					// probability below 1e-300000; saturate rather than wrap.
					if j := rng.IntN(n); counts[j] < math.MaxUint16 {
						counts[j]++
					}
				}
				ev.passCounts(counts, v)
				flat = v.flat(flat)
				copy(reps[b*nm:(b+1)*nm], flat)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	col := make([]float64, 0, B)
	for i := range nm {
		col = col[:0]
		for b := range B {
			if x := reps[b*nm+i]; !math.IsNaN(x) {
				col = append(col, x)
			}
		}
		lo[i], hi[i] = percentile(col, 0.025), percentile(col, 0.975)
	}
	return nil
}

// percentile sorts xs and returns its q-quantile with linear interpolation
// between order statistics (NumPy's default), or NaN for an empty slice.
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	h := q * float64(len(xs)-1)
	i := int(math.Floor(h))
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	return xs[i] + (h-float64(i))*(xs[i+1]-xs[i])
}
