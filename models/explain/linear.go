package explain

import (
	"fmt"
	"math"
)

// Linear explains a logistic regression on standardised inputs, margin =
// Intercept + Σ Coef[j]·(z[j] − Mean[j])/Scale[j], where z is the raw row
// with missing values imputed, followed by one 0/1 "was missing" input per
// feature listed in Indicators (the layout of caserisk's logistic models).
//
// The contribution of raw feature j is its own term plus the term of its
// missing indicator, if it has one; the bias is Intercept. They sum to the
// margin (up to the order of floating-point additions).
type Linear struct {
	Mean, Scale, Coef []float64
	Intercept         float64
	// Impute holds, per raw feature, the value that replaces a missing one.
	// Without it a missing value is taken at the feature's mean, so it
	// contributes nothing.
	Impute []float64
	// Indicators are the ascending raw feature indices whose missing
	// indicator follows the raw features in Coef.
	Indicators []int
}

// NumFeatures returns the number of raw features: the coefficients less the
// missing indicators.
func (l *Linear) NumFeatures() int { return len(l.Coef) - len(l.Indicators) }

// Validate checks that the slices agree in length, the indicators are
// ascending raw feature indices and every number is finite with positive
// scales.
func (l *Linear) Validate() error {
	p := len(l.Coef)
	n := l.NumFeatures()
	if len(l.Mean) != p || len(l.Scale) != p {
		return fmt.Errorf("explain: linear model has %d coefficients, %d means and %d scales", p, len(l.Mean), len(l.Scale))
	}
	if n < 0 || (l.Impute != nil && len(l.Impute) != n) {
		return fmt.Errorf("explain: linear model has %d coefficients, %d indicators and %d imputed values", p, len(l.Indicators), len(l.Impute))
	}
	for k, j := range l.Indicators {
		if j < 0 || j >= n || (k > 0 && j <= l.Indicators[k-1]) {
			return fmt.Errorf("explain: linear model indicator %d is feature %d; want ascending indices in [0, %d)", k, j, n)
		}
	}
	for j := 0; j < p; j++ {
		if !finite(l.Coef[j]) || !finite(l.Mean[j]) || !finite(l.Scale[j]) || l.Scale[j] <= 0 {
			return fmt.Errorf("explain: linear model input %d: coef %v, mean %v, scale %v (want finite, scale > 0)", j, l.Coef[j], l.Mean[j], l.Scale[j])
		}
	}
	for j, v := range l.Impute {
		if !finite(v) {
			return fmt.Errorf("explain: linear model imputed value %d is %v", j, v)
		}
	}
	if !finite(l.Intercept) {
		return fmt.Errorf("explain: linear model intercept is %v", l.Intercept)
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Contributions writes each raw feature's contribution to the margin of row
// x and, last, the bias. It panics if x does not have NumFeatures values or
// out does not have one more.
func (l *Linear) Contributions(x, out []float64) {
	n := l.NumFeatures()
	if len(x) != n || len(out) != n+1 {
		panic(fmt.Sprintf("explain: linear model has %d features; row has %d values and output %d", n, len(x), len(out)))
	}
	for j, v := range x {
		missing := math.IsNaN(v)
		switch {
		case missing && l.Impute != nil:
			v = l.Impute[j]
		case missing:
			v = l.Mean[j]
		}
		out[j] = l.Coef[j] * (v - l.Mean[j]) / l.Scale[j]
	}
	for k, j := range l.Indicators {
		ind := 0.0
		if math.IsNaN(x[j]) {
			ind = 1
		}
		i := n + k
		out[j] += l.Coef[i] * (ind - l.Mean[i]) / l.Scale[i]
	}
	out[n] = l.Intercept
}
