package metrics

import "math"

// ROCPoint is one point of a ROC curve: rows with score ≥ Threshold are
// flagged, giving false-positive rate FPR and true-positive rate TPR.
type ROCPoint struct {
	Threshold float64 `json:"threshold"`
	FPR       float64 `json:"fpr"`
	TPR       float64 `json:"tpr"`
}

// PRPoint is one point of a precision–recall curve: rows with score ≥
// Threshold are flagged.
type PRPoint struct {
	Threshold float64 `json:"threshold"`
	Recall    float64 `json:"recall"`
	Precision float64 `json:"precision"`
}

// ROCCurve returns the ROC curve at every distinct score, from the strictest
// threshold (nothing flagged, the point (0, 0), threshold just above the
// highest score) to the most lenient (everything flagged, (1, 1)). weights may
// be nil. Both classes must have positive weight.
func ROCCurve(scores, labels, weights []float64) ([]ROCPoint, error) {
	if err := validate(scores, labels, weights, false); err != nil {
		return nil, err
	}
	return rocCurve(newRanking(scores, labels, weights))
}

func rocCurve(r *ranking) ([]ROCPoint, error) {
	P, N, err := classTotals(r)
	if err != nil {
		return nil, err
	}
	pts := []ROCPoint{{Threshold: math.Nextafter(r.score[0], math.Inf(1))}}
	walkGroups(r, func(s, tp, fp float64) {
		pts = append(pts, ROCPoint{Threshold: s, FPR: fp / N, TPR: tp / P})
	})
	return pts, nil
}

// PRCurve returns the precision–recall curve at every distinct score, from
// the highest threshold to the lowest (where recall is 1). weights may be nil.
// Both classes must have positive weight.
func PRCurve(scores, labels, weights []float64) ([]PRPoint, error) {
	if err := validate(scores, labels, weights, false); err != nil {
		return nil, err
	}
	return prCurve(newRanking(scores, labels, weights))
}

func prCurve(r *ranking) ([]PRPoint, error) {
	P, _, err := classTotals(r)
	if err != nil {
		return nil, err
	}
	var pts []PRPoint
	walkGroups(r, func(s, tp, fp float64) {
		prec := 0.0
		if tp+fp > 0 {
			prec = tp / (tp + fp)
		}
		pts = append(pts, PRPoint{Threshold: s, Recall: tp / P, Precision: prec})
	})
	return pts, nil
}

// classTotals returns the positive and negative weight of a ranking, or an
// error when either is zero.
func classTotals(r *ranking) (P, N float64, err error) {
	for k, pos := range r.pos {
		w := 1.0
		if r.weight != nil {
			w = r.weight[k]
		}
		if pos {
			P += w
		} else {
			N += w
		}
	}
	if P == 0 || N == 0 {
		return P, N, errOneClass(P, N)
	}
	return P, N, nil
}

// walkGroups calls fn once per distinct score, highest first, with the
// cumulative positive and negative weight at or above that score.
func walkGroups(r *ranking, fn func(score, tp, fp float64)) {
	var tp, fp float64
	for k, pos := range r.pos {
		w := 1.0
		if r.weight != nil {
			w = r.weight[k]
		}
		if pos {
			tp += w
		} else {
			fp += w
		}
		if k == len(r.pos)-1 || r.score[k+1] != r.score[k] {
			fn(r.score[k], tp, fp)
		}
	}
}

// thinROC keeps at most max points of a ROC curve for charting: it first
// drops points on a straight segment between their neighbours (as
// scikit-learn's drop_intermediate does), then, if still too many, keeps
// evenly spaced points including both ends.
func thinROC(pts []ROCPoint, max int) []ROCPoint {
	kept := make([]ROCPoint, 0, len(pts))
	for i, p := range pts {
		if i > 0 && i < len(pts)-1 {
			a, c := pts[i-1], pts[i+1]
			if collinear(a.FPR, a.TPR, p.FPR, p.TPR, c.FPR, c.TPR) {
				continue
			}
		}
		kept = append(kept, p)
	}
	return evenly(kept, max)
}

// thinPR keeps at most max evenly spaced points of a PR curve, both ends
// included.
func thinPR(pts []PRPoint, max int) []PRPoint { return evenly(pts, max) }

func collinear(x0, y0, x1, y1, x2, y2 float64) bool {
	return (x1-x0)*(y2-y1) == (y1-y0)*(x2-x1)
}

// evenly returns at most max elements of s, evenly spaced, keeping the first
// and last.
func evenly[T any](s []T, max int) []T {
	if max < 2 || len(s) <= max {
		return s
	}
	out := make([]T, max)
	for i := range max {
		out[i] = s[int(math.Round(float64(i)*float64(len(s)-1)/float64(max-1)))]
	}
	return out
}
