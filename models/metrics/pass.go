package metrics

import (
	"math"
	"slices"
)

// config is the part of Options the single-pass computation needs.
type config struct {
	ks        []int   // capacities, ascending, all ≥ 1
	threshold float64 // flag rows with score ≥ threshold
	eceBins   int
	equalMass bool
}

// evaluator holds a ranked sample and the per-row quantities that do not
// depend on the (bootstrap) row weights, so that each pass is a single
// allocation-free sweep.
type evaluator struct {
	r         *ranking
	cfg       config
	binOf     []int32   // equal-width bin of each ranked row; nil for equal-mass
	rowLoss   []float64 // clipped log-loss of each ranked row; nil unless probabilities
	rowBrier  []float64 // squared error of each ranked row; nil unless probabilities
	nFlagged  int       // ranked rows with score ≥ threshold form the prefix [0, nFlagged)
	groupHead []bool    // groupHead[k]: row k starts a new distinct score
	unit      []float64 // n ones, the weights of an unweighted full pass
}

// values is the outcome of one pass; slices are sized by newValues.
type values struct {
	w, p           float64 // total weight and positive weight
	auc, ap        float64
	logLoss, brier float64
	ece            float64
	bins           []binAcc  // reliability accumulators, ascending score
	tpK, effK      []float64 // positive weight and total weight in the top k
	flagW, flagP   float64   // weight and positive weight at or above the threshold
}

// binAcc accumulates one reliability bin.
type binAcc struct {
	lo, hi        float64 // score range of the bin (edges for equal-width, observed for equal-mass)
	w, sumS, sumP float64
}

// add accumulates a run of rows into the bin.
func (b *binAcc) add(w, sumS, sumP float64) {
	b.w += w
	b.sumS += sumS
	b.sumP += sumP
}

func newEvaluator(scores, labels, weights []float64, cfg config, probabilities bool) *evaluator {
	r := newRanking(scores, labels, weights)
	n := len(r.score)
	ev := &evaluator{r: r, cfg: cfg, groupHead: make([]bool, n)}
	for k := range n {
		ev.groupHead[k] = k == 0 || r.score[k] != r.score[k-1]
	}
	ev.nFlagged = n
	for k, s := range r.score {
		if s < cfg.threshold {
			ev.nFlagged = k
			break
		}
	}
	if probabilities {
		ev.rowLoss = make([]float64, n)
		ev.rowBrier = make([]float64, n)
		for k, s := range r.score {
			ev.rowLoss[k] = rowLogLoss(s, r.pos[k])
			ev.rowBrier[k] = (s - r.y[k]) * (s - r.y[k])
		}
		if !cfg.equalMass {
			ev.binOf = make([]int32, n)
			for k, s := range r.score {
				ev.binOf[k] = int32(min(cfg.eceBins-1, int(s*float64(cfg.eceBins))))
			}
		}
	}
	return ev
}

func (ev *evaluator) newValues() *values {
	return &values{
		bins: make([]binAcc, ev.cfg.eceBins),
		tpK:  make([]float64, len(ev.cfg.ks)),
		effK: make([]float64, len(ev.cfg.ks)),
	}
}

// pass computes every metric on the full sample: each row once, with the
// sample weights given to newEvaluator if any.
func (ev *evaluator) pass(v *values) {
	if ev.r.weight != nil {
		sweep(ev, ev.r.weight, true, v)
		return
	}
	sweep(ev, ev.ones(), true, v)
}

// passCounts computes every metric on a bootstrap replicate given by a
// multiplicity per ranked row.
func (ev *evaluator) passCounts(cnt []uint16, v *values) { sweep(ev, cnt, false, v) }

// ones returns n unit weights, allocated once.
func (ev *evaluator) ones() []float64 {
	if ev.unit == nil {
		ev.unit = make([]float64, len(ev.r.score))
		for i := range ev.unit {
			ev.unit[i] = 1
		}
	}
	return ev.unit
}

// sweep computes every metric in one pass over the ranked rows, with weight
// ws[k] on ranked row k. It is generic so that the bootstrap's uint16 counts
// and the full sample's float64 weights each get a specialised loop; full
// records the observed score range of each reliability bin.
func sweep[T uint16 | float64](ev *evaluator, ws []T, full bool, v *values) {
	r := ev.r
	n := len(r.score)
	// Equal-mass bins need the total weight up front.
	var total float64
	for _, w := range ws {
		total += float64(w)
	}
	*v = values{bins: v.bins, tpK: v.tpK, effK: v.effK}
	clear(v.bins)
	if full {
		for b := range v.bins {
			v.bins[b].lo, v.bins[b].hi = math.Inf(1), math.Inf(-1)
		}
	}
	ks := ev.cfg.ks
	nextK := 0
	nextKf := math.Inf(1)
	if len(ks) > 0 {
		nextKf = float64(ks[0])
	}
	var (
		tp, fp     float64 // positive / negative weight above the current score group
		gp, gn     float64 // positive / negative weight in the current score group
		auc, ap    float64
		rowsW      float64 // weight of the rows before k (for top-k and equal-mass)
		rowsP      float64 // positive weight of the rows before k
		loss, brsq float64
	)
	nb := ev.cfg.eceBins
	massScale := float64(nb) / total
	curBin := -1
	var binW, binS, binP float64 // the current run of rows in bin curBin
	probs := ev.rowLoss != nil
	score, y, head := r.score[:n], r.y[:n], ev.groupHead[:n]
	ws = ws[:n]
	for k := range n {
		if head[k] {
			// Close the previous group of tied scores (a no-op at k = 0).
			auc += gn * (tp + gp/2)
			tp += gp
			fp += gn
			// Branch-free: gp is 0 for most groups, and then so is the term
			// (tp+fp is 0 only while every weight so far is 0).
			ap += gp * tp / max(tp+fp, math.SmallestNonzeroFloat64)
			gp, gn = 0, 0
		}
		if k == ev.nFlagged {
			v.flagW, v.flagP = rowsW, rowsP
		}
		// Zero-weight rows flow through the arithmetic unchanged rather than
		// being skipped: a third of a bootstrap's rows have count 0 and a
		// branch on it would mispredict.
		w := float64(ws[k])
		posW := w * y[k]
		gp += posW
		gn += w - posW
		for rowsW+w >= nextKf && w > 0 {
			v.tpK[nextK] = rowsP + (nextKf-rowsW)/w*posW
			v.effK[nextK] = nextKf
			nextK++
			nextKf = math.Inf(1)
			if nextK < len(ks) {
				nextKf = float64(ks[nextK])
			}
		}
		if probs {
			loss += w * ev.rowLoss[k]
			brsq += w * ev.rowBrier[k]
			var b int
			if ev.binOf != nil {
				b = int(ev.binOf[k])
			} else {
				// Ranked rows run from high to low score; bin 0 is the lowest.
				b = nb - 1 - min(nb-1, int((rowsW+w/2)*massScale))
			}
			// Ranked rows visit the bins in runs; accumulate a run in
			// registers rather than through memory.
			if b != curBin {
				if curBin >= 0 {
					v.bins[curBin].add(binW, binS, binP)
				}
				curBin, binW, binS, binP = b, 0, 0, 0
			}
			s := score[k]
			binW += w
			binS += w * s
			binP += posW
			if full && w > 0 {
				acc := &v.bins[b]
				acc.lo = min(acc.lo, s)
				acc.hi = max(acc.hi, s)
			}
		}
		rowsW += w
		rowsP += posW
	}
	if curBin >= 0 {
		v.bins[curBin].add(binW, binS, binP)
	}
	auc += gn * (tp + gp/2)
	tp += gp
	fp += gn
	ap += gp * tp / max(tp+fp, math.SmallestNonzeroFloat64)
	if ev.nFlagged == n {
		v.flagW, v.flagP = rowsW, rowsP
	}
	for ; nextK < len(ks); nextK++ { // capacity beyond the sample: everyone is flagged
		v.tpK[nextK] = rowsP
		v.effK[nextK] = rowsW
	}
	W, P := rowsW, rowsP
	v.w, v.p = W, P
	N := W - P
	v.auc, v.ap = math.NaN(), math.NaN()
	if P > 0 && N > 0 {
		v.auc = auc / (P * N)
		v.ap = ap / P
	}
	if probs && W > 0 {
		v.logLoss = loss / W
		v.brier = brsq / W
		var ece float64
		for b := range v.bins {
			ece += math.Abs(v.bins[b].sumS - v.bins[b].sumP)
		}
		v.ece = ece / W
	}
	if !ev.cfg.equalMass {
		for b := range v.bins {
			v.bins[b].lo = float64(b) / float64(nb)
			v.bins[b].hi = float64(b+1) / float64(nb)
		}
	}
}

// sortedKs returns the distinct capacities in ascending order.
func sortedKs(ks []int) []int {
	out := slices.Clone(ks)
	slices.Sort(out)
	return slices.Compact(out)
}
