// Package metrics evaluates probabilistic binary classifiers the way a
// caseworking service needs: ranking quality (ROC-AUC, average precision and
// both curves), probability quality (log-loss, Brier score, expected
// calibration error with its reliability table), and operational quality at a
// fixed capacity (precision and recall in the top k cases) or at a fixed
// threshold, each with a seeded, parallel percentile-bootstrap 95% interval.
//
// Definitions follow scikit-learn where it has one, so numbers can be checked
// against it: ROC-AUC is roc_auc_score (ties count one half), average precision
// is average_precision_score (Σₙ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds, no
// interpolation), log-loss clips probabilities to [1e-15, 1 − 1e-15] like
// log_loss in scikit-learn 1.2, and the Brier score is brier_score_loss.
//
// Ranked quantities order rows by descending score and break exact ties by
// ascending row index, so that top-k results are deterministic.
package metrics

import (
	"fmt"
	"math"
)

// logLossEps is the clipping applied to probabilities before taking logs,
// scikit-learn 1.2's default for log_loss.
const logLossEps = 1e-15

// validate checks that scores, labels and (optional) weights describe a
// sample: equal non-zero lengths, finite scores (in [0, 1] when probabilities
// is set), labels exactly 0 or 1, and finite non-negative weights. The error
// names the first offending slice and index.
func validate(scores, labels, weights []float64, probabilities bool) error {
	if len(scores) == 0 {
		return fmt.Errorf("metrics: empty sample")
	}
	if len(labels) != len(scores) {
		return fmt.Errorf("metrics: %d scores but %d labels", len(scores), len(labels))
	}
	if weights != nil && len(weights) != len(scores) {
		return fmt.Errorf("metrics: %d scores but %d weights", len(scores), len(weights))
	}
	if len(scores) > math.MaxInt32 {
		return fmt.Errorf("metrics: %d rows exceed the supported %d", len(scores), math.MaxInt32)
	}
	for i, s := range scores {
		switch {
		case math.IsNaN(s):
			return fmt.Errorf("metrics: scores[%d] is NaN", i)
		case math.IsInf(s, 0):
			return fmt.Errorf("metrics: scores[%d] is %v", i, s)
		case probabilities && (s < 0 || s > 1):
			return fmt.Errorf("metrics: scores[%d] = %v is not a probability in [0, 1]", i, s)
		}
	}
	for i, y := range labels {
		if y != 0 && y != 1 {
			return fmt.Errorf("metrics: labels[%d] = %v, want 0 or 1", i, y)
		}
	}
	for i, w := range weights {
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return fmt.Errorf("metrics: weights[%d] = %v, want a finite non-negative number", i, w)
		}
	}
	return nil
}

// ROCAUC returns the area under the ROC curve of scores against labels
// (1 = positive), with optional non-negative sample weights (nil = 1). Tied
// scores contribute one half, exactly as the trapezoidal rule over distinct
// thresholds. It is an error when either class has zero total weight.
func ROCAUC(scores, labels, weights []float64) (float64, error) {
	v, err := rankingSummary(scores, labels, weights)
	if err != nil {
		return math.NaN(), err
	}
	return v.auc, nil
}

// AveragePrecision returns scikit-learn's average precision: the sum over
// distinct score thresholds of the gain in recall times the precision at that
// threshold. weights may be nil.
func AveragePrecision(scores, labels, weights []float64) (float64, error) {
	v, err := rankingSummary(scores, labels, weights)
	if err != nil {
		return math.NaN(), err
	}
	return v.ap, nil
}

// rankingSummary runs one unconfigured pass for the ranking metrics.
func rankingSummary(scores, labels, weights []float64) (*values, error) {
	if err := validate(scores, labels, weights, false); err != nil {
		return nil, err
	}
	ev := newEvaluator(scores, labels, weights, config{eceBins: 1}, false)
	v := ev.newValues()
	ev.pass(v)
	if v.p == 0 || v.p == v.w {
		return nil, errOneClass(v.p, v.w-v.p)
	}
	return v, nil
}

// LogLoss returns the weighted mean negative log-likelihood of labels under
// the probabilities in scores, which are clipped to [1e-15, 1−1e-15].
func LogLoss(scores, labels, weights []float64) (float64, error) {
	if err := validate(scores, labels, weights, true); err != nil {
		return math.NaN(), err
	}
	var sum, wsum float64
	for i, s := range scores {
		w := 1.0
		if weights != nil {
			w = weights[i]
		}
		sum += w * rowLogLoss(s, labels[i] == 1)
		wsum += w
	}
	if wsum == 0 {
		return math.NaN(), fmt.Errorf("metrics: total weight is zero")
	}
	return sum / wsum, nil
}

// Brier returns the weighted mean squared difference between the
// probabilities in scores and labels.
func Brier(scores, labels, weights []float64) (float64, error) {
	if err := validate(scores, labels, weights, true); err != nil {
		return math.NaN(), err
	}
	var sum, wsum float64
	for i, s := range scores {
		w := 1.0
		if weights != nil {
			w = weights[i]
		}
		d := s - labels[i]
		sum += w * d * d
		wsum += w
	}
	if wsum == 0 {
		return math.NaN(), fmt.Errorf("metrics: total weight is zero")
	}
	return sum / wsum, nil
}

// rowLogLoss is the clipped negative log-likelihood of one row.
func rowLogLoss(p float64, positive bool) float64 {
	p = min(max(p, logLossEps), 1-logLossEps)
	if positive {
		return -math.Log(p)
	}
	return -math.Log1p(-p)
}
