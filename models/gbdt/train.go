package gbdt

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"caserisk/models/tree"
)

// Validation is a held-out data set, column-major like the training data.
type Validation struct {
	Cols [][]float64 // Cols[j][i] is feature j of row i; NaN = missing
	Y    []float64   // labels, 0 or 1
	W    []float64   // row weights; nil = 1
}

// RoundMetrics are the log-losses after one boosting round.
type RoundMetrics struct {
	Round int `json:"round"` // 0-based
	// TrainLogLoss is set only when Params.TrainLoss is on.
	TrainLogLoss float64 `json:"train_logloss,omitempty"`
	// ValidLogLoss is set only when a validation set was given.
	ValidLogLoss float64 `json:"valid_logloss,omitempty"`
}

// Result is a trained model with what was learnt while training it.
type Result struct {
	// Ensemble gives margins (log-odds). Base is the log-odds of the
	// weighted label rate (ScalePosWeight included). With early stopping it
	// holds the trees up to and including BestRound only; otherwise every
	// round's tree.
	Ensemble *tree.Ensemble
	// Cuts are each feature's bin cut points (ascending): a value x is in
	// value bin 1 + #{cuts <= x}; NaN is in bin 0.
	Cuts [][]float64
	// BestRound is the 0-based round with the lowest validation log-loss,
	// or the last round without a validation set.
	BestRound int
	// History has one entry per round run.
	History []RoundMetrics
	// Gain is the total split gain of each feature over the ensemble.
	Gain []float64
	// TrainMargins are the training rows' margins under Ensemble, tracked
	// while training (equal bit for bit to Ensemble.Margin of each row), so
	// a caller need not score the training rows again; nil when early
	// stopping dropped trees after BestRound.
	TrainMargins []float64
}

// hessEps keeps hessians positive when predictions saturate (XGBoost's
// logistic objective uses the same floor).
const hessEps = 1e-16

// Train fits a binary log-loss GBDT on column-major features cols[j][i]
// (NaN = missing; ±Inf is an error), labels y (0/1) and optional row weights
// w (nil = 1). With valid, the validation log-loss is tracked each round and
// drives early stopping when p.EarlyStoppingRounds > 0. The same inputs and
// p.Seed give the same model whatever p.Threads is.
func Train(ctx context.Context, cols [][]float64, y, w []float64, valid *Validation, p Params) (*Result, error) {
	res, m, err := train(ctx, cols, y, w, valid, p)
	if err != nil {
		return nil, err
	}
	if len(res.Ensemble.Trees) == len(res.History) {
		res.TrainMargins = m.train
	}
	return res, nil
}

// margins are the training and validation margins that training tracked on
// the binned data, round by round.
type margins struct{ train, valid []float64 }

// train is Train, also returning the margins it tracked.
func train(ctx context.Context, cols [][]float64, y, w []float64, valid *Validation, p Params) (*Result, margins, error) {
	if p.Growth == "" {
		p.Growth = GrowthDepthwise
	}
	if err := p.Validate(len(cols)); err != nil {
		return nil, margins{}, err
	}
	if err := checkData("training", cols, y, w, -1); err != nil {
		return nil, margins{}, err
	}
	if valid != nil {
		if err := checkData("validation", valid.Cols, valid.Y, valid.W, len(cols)); err != nil {
			return nil, margins{}, err
		}
	} else if p.EarlyStoppingRounds > 0 {
		return nil, margins{}, fmt.Errorf("gbdt: EarlyStoppingRounds is %d but there is no validation set", p.EarlyStoppingRounds)
	}
	threads := p.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	n, d := len(y), len(cols)
	rng := rand.New(rand.NewPCG(p.Seed, 0x5ca1ab1e_c0ffee))

	cuts, err := computeCuts(ctx, cols, p.MaxBin-1, threads, rng)
	if err != nil {
		return nil, margins{}, fmt.Errorf("gbdt: %w", err)
	}
	bm, err := binColumns(ctx, cols, cuts, threads, true)
	if err != nil {
		return nil, margins{}, fmt.Errorf("gbdt: training data: %w", err)
	}

	// Gradient weights include ScalePosWeight; metric weights do not.
	var sw, swy float64
	for i := range n {
		gw := rowWeight(w, i, y[i], p.ScalePosWeight)
		sw += gw
		swy += gw * y[i]
	}
	if sw == 0 {
		return nil, margins{}, fmt.Errorf("gbdt: every training row has weight 0")
	}
	rate := swy / sw
	if rate <= 0 || rate >= 1 {
		return nil, margins{}, fmt.Errorf("gbdt: the training labels are all %v; need both classes", y[0])
	}
	base := math.Log(rate / (1 - rate))

	nbins := make([]int, d)
	for j := range cuts {
		nbins[j] = len(cuts[j]) + 1
	}
	g := &grower{
		p:       p,
		threads: threads,
		bm:      bm,
		cuts:    cuts,
		sp: splitter{lambda: p.Lambda, alpha: p.Alpha, minChildWeight: p.MinChildWeight,
			gamma: p.Gamma, mono: p.Monotone, nbins: nbins},
		pool: histPool{d: d},
		grad: make([]gradPair, n),
		idx:  make([]int32, n),
		tmp:  make([]int32, n),
	}
	margin := make([]float64, n)
	for i := range margin {
		margin[i] = base
	}

	var vbm *binMatrix
	var vmargin []float64
	if valid != nil {
		if vbm, err = binColumns(ctx, valid.Cols, cuts, threads, false); err != nil {
			return nil, margins{}, fmt.Errorf("gbdt: validation data: %w", err)
		}
		vmargin = make([]float64, len(valid.Y))
		for i := range vmargin {
			vmargin[i] = base
		}
	}

	res := &Result{
		Ensemble: &tree.Ensemble{Base: base, NumFeatures: d},
		Cuts:     cuts,
		Gain:     make([]float64, d),
	}
	inSample := make([]bool, n)
	allFeats := make([]int32, d)
	for j := range allFeats {
		allFeats[j] = int32(j)
	}
	bestLoss := math.Inf(1)
	for round := 0; round < p.Rounds; round++ {
		if err := ctx.Err(); err != nil {
			return nil, margins{}, fmt.Errorf("gbdt: round %d: %w", round, err)
		}
		loss, err := gradients(ctx, threads, margin, y, w, p.ScalePosWeight, g.grad, p.TrainLoss)
		if err != nil {
			return nil, margins{}, fmt.Errorf("gbdt: round %d: %w", round, err)
		}
		if round > 0 {
			res.History[round-1].TrainLogLoss = loss
		}

		// Feature and row sampling, in a fixed order from one generator.
		g.feats = allFeats
		if p.Colsample < 1 {
			k := max(1, int(math.Round(p.Colsample*float64(d))))
			perm := rng.Perm(d)[:k]
			slices.Sort(perm)
			g.feats = make([]int32, k)
			for i, j := range perm {
				g.feats[i] = int32(j)
			}
		}
		g.nidx = 0
		if p.Subsample == 1 {
			// Every row, in order; no draws from rng. inSample is read only
			// when subsampling.
			nb := (n + rowBlock - 1) / rowBlock
			_ = forEach(context.Background(), threads, nb, func(b int) {
				for i := b * rowBlock; i < min((b+1)*rowBlock, n); i++ {
					g.idx[i] = int32(i)
				}
			})
			g.nidx = n
		} else {
			for i := range n {
				if rng.Float64() < p.Subsample {
					g.idx[g.nidx] = int32(i)
					g.nidx++
					inSample[i] = true
				} else {
					inSample[i] = false
				}
			}
		}
		if g.nidx == 0 {
			return nil, margins{}, fmt.Errorf("gbdt: round %d: Subsample %v drew no rows", round, p.Subsample)
		}

		t, err := g.grow(ctx)
		if err != nil {
			return nil, margins{}, fmt.Errorf("gbdt: round %d: %w", round, err)
		}
		res.Ensemble.Trees = append(res.Ensemble.Trees, *t)
		for i := range t.Feature {
			if t.Feature[i] >= 0 {
				res.Gain[t.Feature[i]] += t.Gain[i]
			}
		}
		if err := g.updateMargins(ctx, margin, inSample, p.Subsample < 1); err != nil {
			return nil, margins{}, fmt.Errorf("gbdt: round %d: %w", round, err)
		}
		res.History = append(res.History, RoundMetrics{Round: round})

		if valid != nil {
			vl, err := addTree(ctx, threads, vbm, t, g.splitBin, vmargin, valid.Y, valid.W)
			if err != nil {
				return nil, margins{}, fmt.Errorf("gbdt: round %d: validation: %w", round, err)
			}
			res.History[round].ValidLogLoss = vl
			if vl < bestLoss {
				bestLoss, res.BestRound = vl, round
			} else if p.EarlyStoppingRounds > 0 && round-res.BestRound >= p.EarlyStoppingRounds {
				break
			}
		} else {
			res.BestRound = round
		}
		if p.Progress != nil {
			p.Progress(res.History[round])
		}
	}
	last := len(res.History) - 1
	if p.TrainLoss {
		loss, err := gradients(ctx, threads, margin, y, w, p.ScalePosWeight, nil, true)
		if err != nil {
			return nil, margins{}, fmt.Errorf("gbdt: final loss: %w", err)
		}
		res.History[last].TrainLogLoss = loss
	}
	if p.EarlyStoppingRounds > 0 && res.BestRound < last {
		for _, t := range res.Ensemble.Trees[res.BestRound+1:] {
			for i, f := range t.Feature {
				if f >= 0 {
					res.Gain[f] -= t.Gain[i]
				}
			}
		}
		res.Ensemble.Trees = res.Ensemble.Trees[:res.BestRound+1]
	}
	return res, margins{margin, vmargin}, nil
}

// rowWeight is the gradient weight of row i: w[i] (1 when w is nil), times
// spw for a positive row.
func rowWeight(w []float64, i int, y, spw float64) float64 {
	ww := 1.0
	if w != nil {
		ww = w[i]
	}
	if y == 1 {
		ww *= spw
	}
	return ww
}

// sigmoid returns 1/(1+exp(-m)) without overflow.
func sigmoid(m float64) float64 {
	e := math.Exp(-math.Abs(m))
	// A select rather than two returns: the sign of m is as unpredictable
	// as the data.
	num := e
	if m >= 0 {
		num = 1
	}
	return num / (1 + e)
}

// logistic returns the probability 1/(1+exp(-m)) and the log-loss of m
// against label y, computed without overflow.
func logistic(m, y float64) (p, loss float64) {
	e := math.Exp(-math.Abs(m))
	l1p := math.Log1p(e)
	if m >= 0 {
		p = 1 / (1 + e)
	} else {
		p = e / (1 + e)
	}
	if y == 1 {
		loss = l1p + max(-m, 0)
	} else {
		loss = l1p + max(m, 0)
	}
	return p, loss
}

// gradients fills grad (when not nil) with the log-loss gradient pairs at
// the margins and, with withLoss, returns the weighted mean log-loss there
// (else 0). Sums run per fixed row block and then across blocks in order.
func gradients(ctx context.Context, threads int, margin, y, w []float64, spw float64, grad []gradPair, withLoss bool) (float64, error) {
	n := len(margin)
	nb := (n + rowBlock - 1) / rowBlock
	type part struct{ loss, w float64 }
	parts := make([]part, nb)
	err := forEach(ctx, threads, nb, func(b int) {
		lo, hi := b*rowBlock, min((b+1)*rowBlock, n)
		if w == nil && grad != nil && !withLoss {
			unweightedGradients(margin[lo:hi], y[lo:hi], spw, grad[lo:hi])
			return
		}
		var pt part
		for i := lo; i < hi; i++ {
			var p float64
			mw := 1.0
			if w != nil {
				mw = w[i]
			}
			if withLoss {
				var l float64
				p, l = logistic(margin[i], y[i])
				pt.loss += mw * l
				pt.w += mw
			} else {
				p = sigmoid(margin[i])
			}
			if grad != nil {
				gw := mw
				if y[i] == 1 {
					gw *= spw
				}
				grad[i] = gradPair{(p - y[i]) * gw, max(p*(1-p), hessEps) * gw}
			}
		}
		parts[b] = pt
	})
	if err != nil || !withLoss {
		return 0, err
	}
	var tot part
	for _, pt := range parts {
		tot.loss += pt.loss
		tot.w += pt.w
	}
	if tot.w == 0 {
		return 0, nil
	}
	return tot.loss / tot.w, nil
}

// unweightedGradients is the inner loop of gradients for unit row weights
// and no loss: the same pairs, (p-y)*gw and max(p(1-p), hessEps)*gw with gw
// = 1 or spw, without the weight and loss work.
func unweightedGradients(margin, y []float64, spw float64, grad []gradPair) {
	y = y[:len(margin)]
	grad = grad[:len(margin)]
	for i, m := range margin {
		p := sigmoid(m)
		yi := y[i]
		h := p * (1 - p)
		if h < hessEps {
			h = hessEps
		}
		gw := 1.0
		if yi == 1 {
			gw = spw
		}
		grad[i] = gradPair{(p - yi) * gw, h * gw}
	}
}

// updateMargins adds the new tree's output to every training row's margin:
// rows of the sample through the leaves they were partitioned into, the
// others (subsampling) by walking the tree on their bins.
func (g *grower) updateMargins(ctx context.Context, margin []float64, inSample []bool, sampled bool) error {
	t := g.t
	err := forEach(ctx, g.threads, len(g.leaves), func(k int) {
		n := g.leaves[k]
		v := t.Value[n.id]
		for _, r := range g.idx[n.begin:n.end] {
			margin[r] += v
		}
	})
	if err != nil || !sampled {
		return err
	}
	n := len(margin)
	nb := (n + rowBlock - 1) / rowBlock
	return forEach(ctx, g.threads, nb, func(b int) {
		for i := b * rowBlock; i < min((b+1)*rowBlock, n); i++ {
			if !inSample[i] {
				margin[i] += t.Value[leafOfBinned(t, g.splitBin, g.bm.row(i))]
			}
		}
	})
}

// addTree adds tree t's output to the margins of a binned data set and
// returns the weighted mean log-loss of the new margins.
func addTree(ctx context.Context, threads int, bm *binMatrix, t *tree.Tree, splitBin []uint8, margin, y, w []float64) (float64, error) {
	n := bm.n
	nb := (n + rowBlock - 1) / rowBlock
	type part struct{ loss, w float64 }
	parts := make([]part, nb)
	err := forEach(ctx, threads, nb, func(b int) {
		var pt part
		for i := b * rowBlock; i < min((b+1)*rowBlock, n); i++ {
			margin[i] += t.Value[leafOfBinned(t, splitBin, bm.row(i))]
			_, l := logistic(margin[i], y[i])
			mw := 1.0
			if w != nil {
				mw = w[i]
			}
			pt.loss += mw * l
			pt.w += mw
		}
		parts[b] = pt
	})
	if err != nil {
		return 0, err
	}
	var tot part
	for _, pt := range parts {
		tot.loss += pt.loss
		tot.w += pt.w
	}
	if tot.w == 0 {
		return 0, nil
	}
	return tot.loss / tot.w, nil
}

// checkData reports the first problem with a data set: ragged columns,
// infinite features, labels other than 0/1, negative or non-finite weights.
// wantFeat is the required number of features, or -1 for any.
func checkData(what string, cols [][]float64, y, w []float64, wantFeat int) error {
	if len(cols) == 0 {
		return fmt.Errorf("gbdt: %s data has no features", what)
	}
	if wantFeat >= 0 && len(cols) != wantFeat {
		return fmt.Errorf("gbdt: %s data has %d features, training data has %d", what, len(cols), wantFeat)
	}
	n := len(y)
	if n == 0 {
		return fmt.Errorf("gbdt: %s data has no rows", what)
	}
	if n > math.MaxInt32 {
		return fmt.Errorf("gbdt: %s data has %d rows, at most %d supported", what, n, math.MaxInt32)
	}
	for j, c := range cols {
		if len(c) != n {
			return fmt.Errorf("gbdt: %s data: feature %d has %d rows, labels have %d", what, j, len(c), n)
		}
		for i, x := range c {
			if math.IsInf(x, 0) {
				return fmt.Errorf("gbdt: %s data: feature %d, row %d is %v: features must be finite or NaN (missing)", what, j, i, x)
			}
		}
	}
	for i, v := range y {
		if v != 0 && v != 1 {
			return fmt.Errorf("gbdt: %s data: label of row %d is %v, want 0 or 1", what, i, v)
		}
	}
	if w != nil {
		if len(w) != n {
			return fmt.Errorf("gbdt: %s data has %d weights for %d rows", what, len(w), n)
		}
		for i, v := range w {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("gbdt: %s data: weight of row %d is %v, want finite and >= 0", what, i, v)
			}
		}
	}
	return nil
}
