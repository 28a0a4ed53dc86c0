// Package logistic fits penalised (elastic-net) logistic regression on
// column-major feature matrices and scores rows with the fitted model.
//
// # Objective
//
// Features are standardised (column mean removed when an intercept is fitted,
// divided by the population standard deviation, both weighted by the sample
// weights but not by PosWeight; constant columns keep scale 1) and Fit
// minimises, over the coefficients β on the standardised features
// and the unpenalised intercept b,
//
//	Σᵢ cᵢ·[log(1 + exp(zᵢ)) − yᵢ·zᵢ] + (L2/2)·‖β‖² + L1·‖β‖₁,   zᵢ = b + x̃ᵢ·β
//
// where cᵢ is the sample weight times PosWeight for positive rows. The loss
// is a sum, not a mean, which is scikit-learn's convention: L2 = 1/C gives
// the same model as LogisticRegression(C=C, penalty="l2") on standardised
// features, and for the elastic net L2 = (1−l1_ratio)/C, L1 = l1_ratio/C.
// L2 = L1 = 0 is the unpenalised maximum-likelihood estimate (statsmodels
// Logit).
//
// # Solvers
//
// Smooth problems (L1 = 0) use gonum's L-BFGS with a Moré–Thuente line search;
// the objective and gradient are computed in one pass over row blocks split
// between worker goroutines, with no allocation per iteration. Problems with
// L1 > 0 use a proximal Newton method: each outer step minimises a quadratic
// model of the smooth part plus the L1 term by cyclic coordinate descent
// (as glmnet does, sweeping only the non-zero coefficients between full
// sweeps) and is accepted by a backtracking line search on the true
// objective, which gives exact zeros. The loss and gradient evaluations are
// parallel; the coordinate sweeps run on one goroutine.
//
// Convergence is declared when the ∞-norm of the (minimum-norm sub)gradient of
// the objective divided by Σcᵢ is below Tol — the same scale as
// scikit-learn's tol for the lbfgs solver.
package logistic

import (
	"context"
	"fmt"
	"math"
	"runtime"
)

// Options configures Fit. Start from DefaultOptions.
type Options struct {
	// L2 is the ridge penalty (L2/2)·‖β‖² on the standardised coefficients;
	// scikit-learn's C is 1/L2.
	L2 float64
	// L1 is the lasso penalty L1·‖β‖₁ on the standardised coefficients.
	L1 float64
	// FitIntercept adds an unpenalised intercept and centres the features.
	FitIntercept bool
	// PosWeight multiplies the weight of every positive row, for class
	// imbalance; 0 means 1.
	PosWeight float64
	// MaxIter bounds the solver's major iterations; 0 means 1000.
	MaxIter int
	// Tol is the convergence tolerance on the ∞-norm of the weight-averaged
	// gradient; 0 means 1e-8.
	Tol float64
	// Threads is the number of goroutines computing the objective; 0 means
	// GOMAXPROCS. A fit is deterministic for a given Threads; a different
	// Threads sums in a different order and can change the last bits.
	Threads int
}

// DefaultOptions returns an unpenalised fit with an intercept and tight
// convergence.
func DefaultOptions() Options {
	return Options{FitIntercept: true, PosWeight: 1, MaxIter: 1000, Tol: 1e-8}
}

// withDefaults fills zero fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if o.PosWeight == 0 {
		o.PosWeight = 1
	}
	if o.MaxIter == 0 {
		o.MaxIter = d.MaxIter
	}
	if o.Tol == 0 {
		o.Tol = d.Tol
	}
	if o.Threads == 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"L2", o.L2}, {"L1", o.L1}, {"PosWeight", o.PosWeight}, {"Tol", o.Tol}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return o, fmt.Errorf("logistic: options: %s = %v, want a finite non-negative number", f.name, f.v)
		}
	}
	if o.Tol == 0 || o.PosWeight == 0 {
		return o, fmt.Errorf("logistic: options: Tol and PosWeight must be positive")
	}
	if o.MaxIter < 0 || o.Threads < 0 {
		return o, fmt.Errorf("logistic: options: MaxIter = %d and Threads = %d must not be negative", o.MaxIter, o.Threads)
	}
	return o, nil
}

// Model is a fitted logistic regression. It is JSON-serialisable.
type Model struct {
	// Mean and Scale standardise raw features: x̃ⱼ = (xⱼ − Mean[j]) / Scale[j].
	// Scale is 1 for constant columns; Mean is 0 without an intercept.
	Mean  []float64 `json:"mean"`
	Scale []float64 `json:"scale"`
	// Coef holds the coefficients on the standardised features.
	Coef      []float64 `json:"coef"`
	Intercept float64   `json:"intercept"`
	// Iterations is the number of major solver iterations; Converged
	// reports whether the gradient met Tol within MaxIter.
	Iterations int  `json:"iterations"`
	Converged  bool `json:"converged"`
}

// Margin returns the log-odds of one raw feature row, which must have
// len(m.Coef) values and no NaN (impute first; a NaN gives NaN).
func (m *Model) Margin(x []float64) float64 {
	z := m.Intercept
	for j, c := range m.Coef {
		z += c * (x[j] - m.Mean[j]) / m.Scale[j]
	}
	return z
}

// Prob returns the (uncalibrated) probability of one raw feature row.
func (m *Model) Prob(x []float64) float64 { return sigmoid(m.Margin(x)) }

// RawCoef returns the coefficients and intercept on the original feature
// scale, so that Margin(x) = intercept + Σⱼ coef[j]·x[j].
func (m *Model) RawCoef() ([]float64, float64) {
	coef := make([]float64, len(m.Coef))
	b := m.Intercept
	for j, c := range m.Coef {
		coef[j] = c / m.Scale[j]
		b -= coef[j] * m.Mean[j]
	}
	return coef, b
}

// Validate checks a model read from outside (for example a model artifact):
// equal lengths, finite values and positive scales.
func (m *Model) Validate() error {
	p := len(m.Coef)
	if len(m.Mean) != p || len(m.Scale) != p {
		return fmt.Errorf("logistic: model has %d coefficients, %d means and %d scales", p, len(m.Mean), len(m.Scale))
	}
	if !finite(m.Intercept) {
		return fmt.Errorf("logistic: model intercept %v is not finite", m.Intercept)
	}
	for j := range p {
		if !finite(m.Coef[j]) || !finite(m.Mean[j]) || !finite(m.Scale[j]) || m.Scale[j] <= 0 {
			return fmt.Errorf("logistic: model feature %d: coef %v, mean %v, scale %v (want finite, scale > 0)", j, m.Coef[j], m.Mean[j], m.Scale[j])
		}
	}
	return nil
}

// Fit fits the model on column-major features (cols[j][i] is feature j of row
// i), labels y in {0, 1} and optional non-negative sample weights w (nil = 1).
// Features must be finite: missing values must be imputed first, and a NaN is
// reported with its column and row. Long fits stop with ctx's error when ctx
// is cancelled. A fit that reaches MaxIter returns the model with Converged
// false and no error.
func Fit(ctx context.Context, cols [][]float64, y, w []float64, o Options) (*Model, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := validate(cols, y, w); err != nil {
		return nil, err
	}
	d := newDesign(cols, y, w, o)
	m := &Model{Mean: d.mean, Scale: d.scale}
	var theta []float64 // coefficients then intercept
	if o.L1 == 0 {
		theta, m.Iterations, m.Converged, err = fitSmooth(ctx, d, o)
	} else {
		theta, m.Iterations, m.Converged, err = fitProxNewton(ctx, d, o)
	}
	if err != nil {
		return nil, err
	}
	p := len(cols)
	m.Coef = theta[:p:p]
	m.Intercept = theta[p]
	return m, nil
}

func validate(cols [][]float64, y, w []float64) error {
	n := len(y)
	if n == 0 {
		return fmt.Errorf("logistic: no rows to fit")
	}
	for j, c := range cols {
		if len(c) != n {
			return fmt.Errorf("logistic: column %d has %d rows, labels have %d", j, len(c), n)
		}
		for i, v := range c {
			if !finite(v) {
				return fmt.Errorf("logistic: column %d row %d is %v: impute missing values before fitting", j, i, v)
			}
		}
	}
	for i, v := range y {
		if v != 0 && v != 1 {
			return fmt.Errorf("logistic: y[%d] = %v, want 0 or 1", i, v)
		}
	}
	if w != nil {
		if len(w) != n {
			return fmt.Errorf("logistic: %d weights for %d rows", len(w), n)
		}
		var total float64
		for i, v := range w {
			if !finite(v) || v < 0 {
				return fmt.Errorf("logistic: w[%d] = %v, want a finite non-negative number", i, v)
			}
			total += v
		}
		if total == 0 {
			return fmt.Errorf("logistic: all %d weights are zero", n)
		}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// sigmoid is the logistic function, computed without overflow.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
