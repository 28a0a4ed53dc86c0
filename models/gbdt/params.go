// Package gbdt trains gradient-boosted decision trees for binary
// classification (log-loss), with histogram-based split finding in the style
// of LightGBM and XGBoost's "hist" tree method.
//
// Features are quantile-binned once into at most 255 value bins per feature
// plus a bin for missing values (binning.go); per-node gradient/hessian
// histograms are built over row blocks in parallel and the larger child of a
// split is derived by subtraction from its parent (histogram.go); splits are
// chosen with L2/L1 regularisation, a minimum child hessian, a minimum gain,
// a learned default direction for missing values and optional monotone
// constraints (split.go); trees grow depth-wise or leaf-wise (grow.go).
//
// The trees returned are ordinary tree.Tree values with float thresholds
// (go left when x < threshold) that reproduce the binned training path
// exactly on raw feature values, so any consumer of models/tree can score
// them. Training is deterministic for a given seed, whatever the number of
// threads: every parallel reduction runs over row blocks whose boundaries
// depend only on the data size, and blocks are merged in a fixed order.
package gbdt

import (
	"fmt"
	"math"
)

// Growth policies.
const (
	// GrowthDepthwise splits every splittable node of a level before moving
	// to the next level, up to MaxDepth (XGBoost's "depthwise").
	GrowthDepthwise = "depthwise"
	// GrowthLossguide always splits the leaf with the largest gain, up to
	// MaxLeaves leaves (and MaxDepth when it is positive), like LightGBM and
	// XGBoost's "lossguide".
	GrowthLossguide = "lossguide"
)

// Params are the training hyper-parameters. Names follow XGBoost's.
type Params struct {
	// Rounds is the number of boosting rounds (trees).
	Rounds int
	// MaxDepth is the maximum depth of a tree (root at depth 0). Required for
	// depth-wise growth; 0 means unlimited for loss-guided growth.
	MaxDepth int
	// MaxLeaves is the maximum number of leaves of a tree; 0 means no limit.
	// Loss-guided growth needs MaxLeaves or MaxDepth.
	MaxLeaves int
	// LearningRate (eta) scales every leaf value.
	LearningRate float64
	// MaxBin is the number of histogram bins per feature including the one
	// reserved for missing values, so at most MaxBin-1 value bins; 2..256.
	MaxBin int
	// Lambda is the L2 penalty on leaf values.
	Lambda float64
	// Alpha is the L1 penalty on leaf values.
	Alpha float64
	// MinChildWeight is the minimum sum of hessians in each child of a split.
	MinChildWeight float64
	// Gamma is the minimum loss reduction (gain) for a split to be made.
	Gamma float64
	// Subsample is the fraction of rows drawn (Bernoulli, per round) to grow
	// each tree; (0, 1].
	Subsample float64
	// Colsample is the fraction of features drawn (per tree) as split
	// candidates; (0, 1].
	Colsample float64
	// ScalePosWeight multiplies the weight of every positive row.
	ScalePosWeight float64
	// EarlyStoppingRounds stops training when the validation log-loss has not
	// improved for that many rounds; 0 disables early stopping. Needs a
	// validation set.
	EarlyStoppingRounds int
	// Seed drives row and feature sampling and the binning sample.
	Seed uint64
	// Threads is the number of goroutines used; 0 means GOMAXPROCS.
	Threads int
	// Growth is GrowthDepthwise (the default when empty) or GrowthLossguide.
	Growth string
	// TrainLoss records the training log-loss of every round in
	// Result.History, at the cost of one logarithm per row per round.
	// XGBoost and LightGBM only do this when asked to, and so does the
	// side-by-side benchmark.
	TrainLoss bool
	// Progress, when not nil, is called after every round with the round's
	// metrics (the validation log-loss when there is a validation set; the
	// training log-loss of a round is known only at the next round's
	// gradients, so it is not passed here). It runs on the training
	// goroutine: it should be quick.
	Progress func(RoundMetrics)
	// Monotone holds one constraint per feature: +1 the model's output may
	// only increase with the feature, -1 only decrease, 0 unconstrained. Nil
	// means no constraints.
	Monotone []int8
}

// DefaultParams returns XGBoost's defaults where XGBoost has one:
//
//	Rounds 100 (XGBClassifier's n_estimators), MaxDepth 6, MaxLeaves 0 (no
//	limit), LearningRate 0.3, MaxBin 256 (255 value bins + missing), Lambda 1,
//	Alpha 0, MinChildWeight 1, Gamma 0, Subsample 1, Colsample 1,
//	ScalePosWeight 1, EarlyStoppingRounds 0 (off), Seed 0, Threads 0 (all
//	cores), Growth "depthwise", Monotone nil; and TrainLoss on (XGBoost has
//	no such switch: it reports the metrics of the data sets it is given).
func DefaultParams() Params {
	return Params{
		Rounds:         100,
		MaxDepth:       6,
		LearningRate:   0.3,
		MaxBin:         256,
		Lambda:         1,
		MinChildWeight: 1,
		Subsample:      1,
		Colsample:      1,
		ScalePosWeight: 1,
		Growth:         GrowthDepthwise,
		TrainLoss:      true,
	}
}

// maxDepthLimit bounds MaxDepth: deeper trees than this are never useful and
// the node count would overflow the int32 node indices of tree.Tree.
const maxDepthLimit = 30

// Validate reports the first invalid parameter for a data set with nfeat
// features.
func (p *Params) Validate(nfeat int) error {
	finite := func(name string, v float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("gbdt params: %s is %v, want a finite number", name, v)
		}
		return nil
	}
	for _, c := range []struct {
		name string
		v    float64
	}{{"LearningRate", p.LearningRate}, {"Lambda", p.Lambda}, {"Alpha", p.Alpha},
		{"MinChildWeight", p.MinChildWeight}, {"Gamma", p.Gamma}, {"Subsample", p.Subsample},
		{"Colsample", p.Colsample}, {"ScalePosWeight", p.ScalePosWeight}} {
		if err := finite(c.name, c.v); err != nil {
			return err
		}
	}
	switch {
	case p.Rounds < 1:
		return fmt.Errorf("gbdt params: Rounds is %d, want at least 1", p.Rounds)
	case p.MaxDepth < 0 || p.MaxDepth > maxDepthLimit:
		return fmt.Errorf("gbdt params: MaxDepth is %d, want 0..%d", p.MaxDepth, maxDepthLimit)
	case p.MaxLeaves < 0 || p.MaxLeaves == 1:
		return fmt.Errorf("gbdt params: MaxLeaves is %d, want 0 (no limit) or at least 2", p.MaxLeaves)
	case p.LearningRate <= 0 || p.LearningRate > 1:
		return fmt.Errorf("gbdt params: LearningRate is %v, want (0, 1]", p.LearningRate)
	case p.MaxBin < 2 || p.MaxBin > 256:
		return fmt.Errorf("gbdt params: MaxBin is %d, want 2..256", p.MaxBin)
	case p.Lambda < 0:
		return fmt.Errorf("gbdt params: Lambda is %v, want >= 0", p.Lambda)
	case p.Alpha < 0:
		return fmt.Errorf("gbdt params: Alpha is %v, want >= 0", p.Alpha)
	case p.MinChildWeight < 0:
		return fmt.Errorf("gbdt params: MinChildWeight is %v, want >= 0", p.MinChildWeight)
	case p.Gamma < 0:
		return fmt.Errorf("gbdt params: Gamma is %v, want >= 0", p.Gamma)
	case p.Subsample <= 0 || p.Subsample > 1:
		return fmt.Errorf("gbdt params: Subsample is %v, want (0, 1]", p.Subsample)
	case p.Colsample <= 0 || p.Colsample > 1:
		return fmt.Errorf("gbdt params: Colsample is %v, want (0, 1]", p.Colsample)
	case p.ScalePosWeight <= 0:
		return fmt.Errorf("gbdt params: ScalePosWeight is %v, want > 0", p.ScalePosWeight)
	case p.EarlyStoppingRounds < 0:
		return fmt.Errorf("gbdt params: EarlyStoppingRounds is %d, want >= 0", p.EarlyStoppingRounds)
	case p.Threads < 0:
		return fmt.Errorf("gbdt params: Threads is %d, want >= 0 (0 = all cores)", p.Threads)
	}
	switch p.Growth {
	case "", GrowthDepthwise:
		if p.MaxDepth < 1 {
			return fmt.Errorf("gbdt params: depth-wise growth needs MaxDepth >= 1, got %d", p.MaxDepth)
		}
	case GrowthLossguide:
		if p.MaxDepth == 0 && p.MaxLeaves == 0 {
			return fmt.Errorf("gbdt params: loss-guided growth needs MaxLeaves or MaxDepth")
		}
	default:
		return fmt.Errorf("gbdt params: Growth is %q, want %q or %q", p.Growth, GrowthDepthwise, GrowthLossguide)
	}
	if p.Monotone != nil {
		if len(p.Monotone) != nfeat {
			return fmt.Errorf("gbdt params: Monotone has %d entries for %d features", len(p.Monotone), nfeat)
		}
		for j, c := range p.Monotone {
			if c < -1 || c > 1 {
				return fmt.Errorf("gbdt params: Monotone[%d] is %d, want -1, 0 or +1", j, c)
			}
		}
	}
	return nil
}
