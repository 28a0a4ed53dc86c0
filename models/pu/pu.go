// Package pu learns a classifier from positive and unlabelled rows: rows
// known to be positive (a tenancy whose fraud an investigation confirmed)
// and rows whose class nobody knows (every other tenancy, investigated or
// not). It models the labelling process as Elkan and Noto do:
//
//	Charles Elkan and Keith Noto, "Learning classifiers from only positive
//	and unlabeled data", Proceedings of the 14th ACM SIGKDD International
//	Conference on Knowledge Discovery and Data Mining (KDD 2008), 213–220.
//	https://doi.org/10.1145/1401890.1401920
//
// Write y for the true class and s for "labelled" (s = 1 only where y = 1).
// If the labelled positives are a random sample of all positives — the
// "selected completely at random" assumption — then c = P(s = 1 | y = 1)
// does not depend on the row, and
//
//	P(s = 1 | x) = c · P(y = 1 | x).
//
// So a classifier g trained to tell labelled rows from all the others (the
// "non-traditional" classifier) ranks rows exactly as the true posterior
// does, and dividing by c recovers it (Posterior). c is estimated as the
// mean of g over held-out labelled positives (EstimateC: Elkan and Noto's
// estimator e1). That mean is c times the mean true posterior of the
// positives, so it is exact where positives look unlike negatives and reads
// low where the classes overlap, which makes the weights below generous. Each unlabelled row is then positive with probability
//
//	w(x) = P(y = 1 | x, s = 0) = (1 − c)/c · g(x)/(1 − g(x))
//
// (Weight), and a second classifier trained on the labelled positives plus
// every unlabelled row counted twice — as a positive with weight w(x) and as
// a negative with weight 1 − w(x) (Expand) — learns P(y = 1 | x) directly,
// which is Elkan and Noto's weighting method. models/artifact fits either
// way for any of caserisk's algorithms (artifact.FitOptions.PU).
//
// Judging a ranking without knowing the true classes is part of the same
// idea: among all rows, the share of labelled positives a list of k rows
// finds estimates the share of all positives it finds (under the same
// assumption), so two models can be compared on a council's own data by
// the average precision and the recall at capacity of held-out labelled
// positives over every row — the whole tenancy stock — rather than only
// over the rows someone chose to investigate: models/metrics.Evaluate of
// the scores of every row against Labels does it. The ROC AUC of
// labelled against unlabelled rows is an increasing affine function of the
// true AUC (Menon, van Rooyen, Ong and Williamson, "Learning from corrupted
// binary labels via class-probability estimation", ICML 2015), so it ranks
// models as the true AUC would.
//
// Where labelling is not completely at random — fraud investigations follow
// data matches and tip-offs — c is an average over the positives and the
// posterior is only as good as that average; the ranking is what matters for
// a queue, and a synthetic borough's oracle (which knows every tenancy's
// true state) measures how far it holds.
package pu

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"caserisk/models/metrics"
)

// LabelFrequency is the estimate of c = P(labelled | positive).
type LabelFrequency struct {
	// C is Elkan and Noto's e1, the mean of the non-traditional
	// classifier's probability over held-out labelled positives, with the
	// bootstrap 95% percentile interval over those positives: the
	// uncertainty of the mean, not of the classifier behind it (NaN, null
	// in JSON, when not computed).
	C metrics.Metric `json:"c"`
	// Positives is the number of held-out labelled positives C was
	// estimated on.
	Positives int `json:"positives"`
}

// MinC is the smallest c EstimateC accepts: a smaller estimate means the
// classifier scores the held-out positives as if almost none could be
// labelled, and the weights (1 − c)/c would make every unlabelled row
// positive.
const MinC = 1e-3

// EstimateC estimates c from the non-traditional classifier's probabilities
// g on held-out rows and their labels s (1 labelled positive, 0 unlabelled):
// the mean of g over the rows with s = 1. With bootstrap > 0 it also gives
// the 95% percentile interval from that many resamples of the positives,
// reproducibly for seed. It fails when no held-out row is labelled, when a
// g is not a probability or an s not 0 or 1, and when the estimate is below
// MinC.
func EstimateC(g, s []float64, bootstrap int, seed uint64) (LabelFrequency, error) {
	if len(g) != len(s) {
		return LabelFrequency{}, fmt.Errorf("pu: estimate c: %d probabilities for %d labels", len(g), len(s))
	}
	var pos []float64
	for i := range g {
		if math.IsNaN(g[i]) || g[i] < 0 || g[i] > 1 {
			return LabelFrequency{}, fmt.Errorf("pu: estimate c: probability %d is %v, want a number in [0, 1]", i, g[i])
		}
		switch s[i] {
		case 1:
			pos = append(pos, g[i])
		case 0:
		default:
			return LabelFrequency{}, fmt.Errorf("pu: estimate c: label %d is %v, want 0 (unlabelled) or 1 (labelled positive)", i, s[i])
		}
	}
	if len(pos) == 0 {
		return LabelFrequency{}, errors.New("pu: estimate c: no held-out row is a labelled positive")
	}
	lf := LabelFrequency{C: metrics.Metric{Value: mean(pos), Lo: math.NaN(), Hi: math.NaN()}, Positives: len(pos)}
	if lf.C.Value < MinC {
		return LabelFrequency{}, fmt.Errorf("pu: estimate c: %.2g from %d held-out positives, below %g: the classifier gives the labelled positives almost no chance of being labelled", lf.C.Value, len(pos), MinC)
	}
	if bootstrap > 0 {
		reps := make([]float64, bootstrap)
		for b := range reps {
			rng := rand.New(rand.NewPCG(seed, uint64(b)))
			sum := 0.0
			for range pos {
				sum += pos[rng.IntN(len(pos))]
			}
			reps[b] = sum / float64(len(pos))
		}
		slices.Sort(reps)
		lf.C.Lo, lf.C.Hi = quantile(reps, 0.025), quantile(reps, 0.975)
	}
	return lf, nil
}

// Weight returns P(y = 1 | x, s = 0), the chance that an unlabelled row is
// a positive, from the non-traditional classifier's probability g and c:
// (1 − c)/c · g/(1 − g), clipped to [0, 1] (g ≥ 1 gives 1).
func Weight(g, c float64) float64 {
	if g >= 1 {
		return 1
	}
	if g <= 0 {
		return 0
	}
	return min(1, max(0, (1-c)/c*g/(1-g)))
}

// Posterior returns P(y = 1 | x) = g/c, clipped to 1.
func Posterior(g, c float64) float64 { return min(1, max(0, g/c)) }

// Expanded is a training set for Elkan and Noto's weighting method: row
// Rows[i] of the original data enters with label Y[i] and weight W[i].
type Expanded struct {
	Rows []int
	Y    []float64
	W    []float64
}

// Expand builds the weighted training set from labels s (1 labelled
// positive, 0 unlabelled) and the non-traditional classifier's
// probabilities g on the same rows: each labelled positive once as a
// positive with weight 1; each unlabelled row as a positive with weight
// Weight(g, c) and as a negative with weight 1 − Weight(g, c), leaving out
// a copy whose weight is 0.
func Expand(s, g []float64, c float64) (Expanded, error) {
	if len(s) != len(g) {
		return Expanded{}, fmt.Errorf("pu: expand: %d labels for %d probabilities", len(s), len(g))
	}
	if !(c >= MinC && c <= 1) {
		return Expanded{}, fmt.Errorf("pu: expand: c = %v, want a number in [%g, 1]", c, MinC)
	}
	e := Expanded{Rows: make([]int, 0, len(s)+len(s)/8), Y: make([]float64, 0, len(s)+len(s)/8), W: make([]float64, 0, len(s)+len(s)/8)}
	add := func(i int, y, w float64) {
		if w > 0 {
			e.Rows, e.Y, e.W = append(e.Rows, i), append(e.Y, y), append(e.W, w)
		}
	}
	for i := range s {
		switch s[i] {
		case 1:
			add(i, 1, 1)
		case 0:
			if math.IsNaN(g[i]) || g[i] < 0 || g[i] > 1 {
				return Expanded{}, fmt.Errorf("pu: expand: probability %d is %v, want a number in [0, 1]", i, g[i])
			}
			w := Weight(g[i], c)
			add(i, 1, w)
			add(i, 0, 1-w)
		default:
			return Expanded{}, fmt.Errorf("pu: expand: label %d is %v, want 0 (unlabelled) or 1 (labelled positive)", i, s[i])
		}
	}
	return e, nil
}

// Labels turns a label column where 1 is a confirmed positive, 0 a
// confirmed negative and NaN unknown into PU labels: 1 for the positives,
// 0 for every other row (a confirmed negative counts as unlabelled, as the
// method asks: its investigation may have missed the positive).
func Labels(y []float64) []float64 {
	s := make([]float64, len(y))
	for i, v := range y {
		if v == 1 {
			s[i] = 1
		}
	}
	return s
}

func mean(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// quantile is the q-quantile of sorted xs with linear interpolation.
func quantile(xs []float64, q float64) float64 {
	h := q * float64(len(xs)-1)
	i := int(math.Floor(h))
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	return xs[i] + (h-float64(i))*(xs[i+1]-xs[i])
}
