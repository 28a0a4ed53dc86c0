// Package calibrate turns model margins (log-odds) into probabilities that
// mean what they say, so that "0.3" is right about 30% of the time. It fits
// Platt scaling or isotonic regression on held-out margins and labels, and
// stores the result as a small JSON-serialisable Calibrator.
//
// Platt scaling fits P(y=1 | m) = 1 / (1 + exp(A·m + B)) by Newton's method
// with a backtracking line search (Lin, Lin and Weng 2007) on Platt's smoothed
// targets (N₊+1)/(N₊+2) and 1/(N₋+2), with N₊ and N₋ the total sample
// weight of each class and the likelihood weighted by the sample weights: the
// same problem as scikit-learn's CalibratedClassifierCV(method="sigmoid").
//
// Isotonic regression is the weighted pool-adjacent-violators fit of the
// labels on the margins, non-decreasing. It is stored as the breakpoints
// scikit-learn's IsotonicRegression keeps (tied margins averaged, points
// inside flat runs dropped) and evaluated by linear interpolation between
// them, clamped to the end values outside the fitted range.
package calibrate

import (
	"fmt"
	"math"
	"sort"
)

// Method names accepted by Fit and stored in Calibrator.Method.
const (
	Platt    = "platt"
	Isotonic = "isotonic"
	None     = "none"
)

// Calibrator maps a margin to a calibrated probability.
type Calibrator struct {
	// Method is "platt", "isotonic" or "none" (the logistic sigmoid).
	Method string `json:"method"`
	// A and B are Platt's parameters: P = 1 / (1 + exp(A·margin + B)).
	A float64 `json:"a,omitempty"`
	B float64 `json:"b,omitempty"`
	// X (strictly increasing margins) and Y (non-decreasing probabilities)
	// are the isotonic breakpoints.
	X []float64 `json:"x,omitempty"`
	Y []float64 `json:"y,omitempty"`
}

// Fit fits a calibrator of the given method to held-out margins and labels
// (0 or 1), with optional non-negative sample weights (nil = 1). Bad input is
// reported with the slice and index at fault.
func Fit(method string, margins, labels, weights []float64) (*Calibrator, error) {
	switch method {
	case None:
		return &Calibrator{Method: None}, nil
	case Platt, Isotonic:
	default:
		return nil, fmt.Errorf("calibrate: unknown method %q (want %q, %q or %q)", method, Platt, Isotonic, None)
	}
	if err := validate(margins, labels, weights); err != nil {
		return nil, err
	}
	if method == Platt {
		a, b, err := fitPlatt(margins, labels, weights)
		if err != nil {
			return nil, err
		}
		return &Calibrator{Method: Platt, A: a, B: b}, nil
	}
	x, y := fitIsotonic(margins, labels, weights)
	return &Calibrator{Method: Isotonic, X: x, Y: y}, nil
}

// Prob returns the calibrated probability of a margin. A NaN margin gives
// NaN.
func (c *Calibrator) Prob(margin float64) float64 {
	switch c.Method {
	case Platt:
		return sigmoid(-(c.A*margin + c.B))
	case Isotonic:
		return interpolate(c.X, c.Y, margin)
	default:
		return sigmoid(margin)
	}
}

// Validate checks a calibrator read from outside (for example decoded from a
// model artifact) so that Prob cannot misbehave: a known method, finite
// parameters, and for isotonic non-empty breakpoints of equal length with X
// strictly increasing and Y non-decreasing within [0, 1].
func (c *Calibrator) Validate() error {
	switch c.Method {
	case None:
		return nil
	case Platt:
		if !finite(c.A) || !finite(c.B) {
			return fmt.Errorf("calibrate: platt parameters a=%v b=%v must be finite", c.A, c.B)
		}
		return nil
	case Isotonic:
		if len(c.X) == 0 || len(c.X) != len(c.Y) {
			return fmt.Errorf("calibrate: isotonic needs equal non-empty x and y, got %d and %d", len(c.X), len(c.Y))
		}
		for i := range c.X {
			if !finite(c.X[i]) || !(c.Y[i] >= 0 && c.Y[i] <= 1) {
				return fmt.Errorf("calibrate: isotonic point %d (x=%v, y=%v) must have finite x and y in [0, 1]", i, c.X[i], c.Y[i])
			}
			if i > 0 && !(c.X[i] > c.X[i-1]) {
				return fmt.Errorf("calibrate: isotonic x[%d]=%v does not exceed x[%d]=%v", i, c.X[i], i-1, c.X[i-1])
			}
			if i > 0 && c.Y[i] < c.Y[i-1] {
				return fmt.Errorf("calibrate: isotonic y[%d]=%v is below y[%d]=%v", i, c.Y[i], i-1, c.Y[i-1])
			}
		}
		return nil
	}
	return fmt.Errorf("calibrate: unknown method %q", c.Method)
}

func validate(margins, labels, weights []float64) error {
	if len(margins) == 0 {
		return fmt.Errorf("calibrate: no margins to fit")
	}
	if len(labels) != len(margins) {
		return fmt.Errorf("calibrate: %d margins but %d labels", len(margins), len(labels))
	}
	if weights != nil && len(weights) != len(margins) {
		return fmt.Errorf("calibrate: %d margins but %d weights", len(margins), len(weights))
	}
	for i, m := range margins {
		if !finite(m) {
			return fmt.Errorf("calibrate: margins[%d] = %v, want a finite number", i, m)
		}
	}
	for i, y := range labels {
		if y != 0 && y != 1 {
			return fmt.Errorf("calibrate: labels[%d] = %v, want 0 or 1", i, y)
		}
	}
	var total float64
	for i, w := range weights {
		if !finite(w) || w < 0 {
			return fmt.Errorf("calibrate: weights[%d] = %v, want a finite non-negative number", i, w)
		}
		total += w
	}
	if weights != nil && total == 0 {
		return fmt.Errorf("calibrate: all %d weights are zero", len(weights))
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

// log1pExp returns log(1 + exp(z)) without overflow.
func log1pExp(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

// fitPlatt minimises Σ wᵢ [log(1+exp(zᵢ)) − (1−tᵢ) zᵢ], zᵢ = A·mᵢ + B, the
// weighted cross-entropy of P = 1/(1+exp(z)) against Platt's targets tᵢ.
func fitPlatt(m, y, w []float64) (a, b float64, err error) {
	weight := func(i int) float64 {
		if w == nil {
			return 1
		}
		return w[i]
	}
	var nPos, nNeg float64
	for i, yi := range y {
		if yi == 1 {
			nPos += weight(i)
		} else {
			nNeg += weight(i)
		}
	}
	hiT := (nPos + 1) / (nPos + 2)
	loT := 1 / (nNeg + 2)
	target := func(i int) float64 {
		if y[i] == 1 {
			return hiT
		}
		return loT
	}
	objective := func(a, b float64) float64 {
		var f float64
		for i, mi := range m {
			z := a*mi + b
			f += weight(i) * (log1pExp(z) - (1-target(i))*z)
		}
		return f
	}
	var wsum float64
	for i := range m {
		wsum += weight(i)
	}
	const (
		maxIter = 100
		ridge   = 1e-12 // keeps the Hessian invertible when all margins are equal
	)
	gtol := 1e-10 * wsum
	b = math.Log((nNeg + 1) / (nPos + 1))
	f := objective(a, b)
	for iter := 0; iter < maxIter; iter++ {
		var gA, gB, hAA, hAB, hBB float64
		for i, mi := range m {
			wi := weight(i)
			p := sigmoid(-(a*mi + b)) // P(y=1)
			d := wi * (target(i) - p)
			gA += d * mi
			gB += d
			h := wi * p * (1 - p)
			hAA += h * mi * mi
			hAB += h * mi
			hBB += h
		}
		if math.Abs(gA) < gtol && math.Abs(gB) < gtol {
			return a, b, nil
		}
		hAA += ridge * wsum
		hBB += ridge * wsum
		det := hAA*hBB - hAB*hAB
		dA := -(hBB*gA - hAB*gB) / det
		dB := -(-hAB*gA + hAA*gB) / det
		slope := gA*dA + gB*dB
		// Stop when the Newton decrement says the objective is within a
		// relative 1e-15 of its minimum: further steps are rounding noise.
		if -slope/2 <= 1e-15*(1+math.Abs(f)) {
			return a, b, nil
		}
		step := 1.0
		for ; step >= 1e-10; step /= 2 {
			fn := objective(a+step*dA, b+step*dB)
			if fn <= f+1e-4*step*slope {
				if fn >= f {
					return a, b, nil // no measurable decrease left
				}
				a, b, f = a+step*dA, b+step*dB, fn
				break
			}
		}
		if step < 1e-10 {
			// No decrease along the Newton direction: at the optimum to
			// machine precision.
			return a, b, nil
		}
	}
	if !finite(a) || !finite(b) {
		return 0, 0, fmt.Errorf("calibrate: platt fit diverged (a=%v, b=%v)", a, b)
	}
	return a, b, nil
}

// fitIsotonic returns the breakpoints of the weighted non-decreasing
// least-squares fit of y on m, reduced as scikit-learn's IsotonicRegression
// does.
func fitIsotonic(m, y, w []float64) (xs, ys []float64) {
	idx := make([]int, len(m))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return m[idx[i]] < m[idx[j]] })
	// Merge tied margins into one point with the weighted mean label.
	var ux, uy, uw []float64
	for _, i := range idx {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		if n := len(ux); n > 0 && ux[n-1] == m[i] {
			uy[n-1] += wi * y[i]
			uw[n-1] += wi
			continue
		}
		ux = append(ux, m[i])
		uy = append(uy, wi*y[i])
		uw = append(uw, wi)
	}
	// Zero-weight points carry no information; drop them.
	k := 0
	for i := range ux {
		if uw[i] > 0 {
			ux[k], uy[k], uw[k] = ux[i], uy[i]/uw[i], uw[i]
			k++
		}
	}
	ux, uy, uw = ux[:k], uy[:k], uw[:k]
	fit := pava(uy, uw)
	// Keep the ends and every point whose value differs from a neighbour.
	for i := range ux {
		if i == 0 || i == len(ux)-1 || fit[i] != fit[i-1] || fit[i] != fit[i+1] {
			xs = append(xs, ux[i])
			ys = append(ys, fit[i])
		}
	}
	return xs, ys
}

// pava returns the weighted non-decreasing fit to y by pool-adjacent-
// violators, in O(n) with a stack of blocks.
func pava(y, w []float64) []float64 {
	type block struct {
		mean, weight float64
		n            int
	}
	stack := make([]block, 0, len(y))
	for i := range y {
		b := block{y[i], w[i], 1}
		for len(stack) > 0 && stack[len(stack)-1].mean >= b.mean {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			tw := top.weight + b.weight
			b = block{(top.mean*top.weight + b.mean*b.weight) / tw, tw, top.n + b.n}
		}
		stack = append(stack, b)
	}
	out := make([]float64, 0, len(y))
	for _, b := range stack {
		for range b.n {
			out = append(out, b.mean)
		}
	}
	return out
}

// interpolate evaluates the piecewise-linear function through (xs, ys) at x,
// holding the end values outside [xs[0], xs[len-1]].
func interpolate(xs, ys []float64, x float64) float64 {
	n := len(xs)
	switch {
	case n == 0 || math.IsNaN(x):
		return math.NaN()
	case x <= xs[0]:
		return ys[0]
	case x >= xs[n-1]:
		return ys[n-1]
	}
	j := sort.SearchFloat64s(xs, x) // xs[j-1] < x ≤ xs[j]
	x0, x1 := xs[j-1], xs[j]
	t := (x - x0) / (x1 - x0)
	// Clamp to the segment's ends: y0 + t·(y1 − y0) can round an ulp past y1,
	// which would break monotonicity at the next breakpoint.
	return min(max(ys[j-1]+t*(ys[j]-ys[j-1]), ys[j-1]), ys[j])
}
