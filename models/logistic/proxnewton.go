package logistic

import (
	"context"
	"fmt"
	"math"
)

// fitProxNewton minimises the elastic-net objective by proximal Newton steps.
// Each step fits a quadratic model of the smooth part (loss plus L2) around
// the current point and minimises it plus the L1 term by cyclic coordinate
// descent; a backtracking line search on the true objective accepts it.
// Everything is divided by Σcᵢ, the scale on which Tol is set.
func fitProxNewton(ctx context.Context, d *design, o Options) ([]float64, int, bool, error) {
	ev := newEvaluator(d, o.Threads, true)
	defer ev.close()
	p, n := d.p, d.n
	inv := 1 / d.cSum
	l1, l2 := o.L1*inv, o.L2*inv
	theta := d.initialTheta()
	var (
		g     = make([]float64, p+1) // gradient of the smooth objective (scaled)
		next  = make([]float64, p+1)
		trial = make([]float64, p+1)
		u     = make([]float64, n) // X̃·(next − theta) including the intercept
		a     = make([]float64, p) // Σ hᵢ x̃ᵢⱼ² (scaled)
	)
	// objective returns the full scaled objective at t (loss pass only).
	objective := func(t []float64) float64 {
		f := ev.run(t, false, nil) * inv
		for j := range p {
			f += l2/2*t[j]*t[j] + l1*math.Abs(t[j])
		}
		return f
	}
	f := math.NaN()
	for iter := 1; iter <= o.MaxIter; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, 0, false, fmt.Errorf("logistic: fit cancelled at iteration %d: %w", iter, err)
		}
		loss := ev.run(theta, true, g) * inv
		f = loss
		for j := range p {
			g[j] = g[j]*inv + l2*theta[j]
			f += l2/2*theta[j]*theta[j] + l1*math.Abs(theta[j])
		}
		g[p] *= inv
		if kktNorm(g, theta, l1, p) <= o.Tol {
			return theta, iter - 1, true, nil
		}
		// Quadratic model: curvatures hᵢ are in ev.rowH (unscaled).
		var hSum float64
		for _, h := range ev.rowH {
			hSum += h
		}
		hSum *= inv
		for j := range p {
			mu, is := d.mean[j], 1/d.scale[j]
			var s float64
			for i, x := range d.x[j] {
				x = (x - mu) * is
				s += ev.rowH[i] * x * x
			}
			a[j] = s * inv
		}
		copy(next, theta)
		clear(u)
		// Coordinate descent on the model, glmnet style: a full sweep, then
		// sweeps over the non-zero coordinates only until they settle, then a
		// full sweep to confirm no zero coordinate wants to enter. The inner
		// problem is solved to a relative accuracy of 1e-3 (an inexact
		// proximal Newton step) or to Tol/100, whichever is looser.
		first := math.NaN()
		needFull := true
		for sweep := 0; sweep < 1000; sweep++ {
			full := needFull
			maxStep := 0.0
			for j := range p {
				if (!full && next[j] == 0) || (a[j] == 0 && l2 == 0) {
					continue
				}
				maxStep = max(maxStep, cdUpdate(d, ev.rowH, u, g, theta, next, a, j, l1, l2, inv))
			}
			if d.intercept && hSum > 0 {
				var hu float64
				for i, h := range ev.rowH {
					hu += h * u[i]
				}
				delta := -(g[p] + hu*inv) / hSum
				for i := range u {
					u[i] += delta
				}
				next[p] += delta
				maxStep = max(maxStep, math.Abs(delta)*math.Sqrt(hSum))
			}
			if sweep == 0 {
				first = maxStep
			}
			settled := maxStep <= max(1e-3*first, o.Tol*1e-2)
			if settled && full {
				break
			}
			needFull = settled
		}
		// Line search along next − theta with the proximal-Newton decrease
		// measure δ = ∇f·D + l1(‖next‖₁ − ‖theta‖₁) (Lee, Sun and Saunders 2014).
		var delta float64
		for j := range p + 1 {
			delta += g[j] * (next[j] - theta[j])
			if j < p {
				delta += l1 * (math.Abs(next[j]) - math.Abs(theta[j]))
			}
		}
		if delta >= 0 {
			// The model predicts no decrease: stationary to rounding.
			return theta, iter, kktNorm(g, theta, l1, p) <= o.Tol, nil
		}
		accepted := false
		for step := 1.0; step >= 1e-12; step /= 2 {
			for j := range trial {
				trial[j] = theta[j] + step*(next[j]-theta[j])
			}
			if ft := objective(trial); ft <= f+1e-4*step*delta {
				accepted = ft < f
				break
			}
		}
		if !accepted {
			return theta, iter, kktNorm(g, theta, l1, p) <= o.Tol, nil
		}
		copy(theta, trial)
	}
	ev.run(theta, true, g)
	for j := range p {
		g[j] = g[j]*inv + l2*theta[j]
	}
	g[p] *= inv
	return theta, o.MaxIter, kktNorm(g, theta, l1, p) <= o.Tol, nil
}

// cdUpdate minimises the quadratic model over coordinate j, updating next[j]
// and u = X̃·(next − theta), and returns the size of the step in the model's
// metric. The model's loss gradient at next is g − l2·theta + X̃ᵀHu/Σc.
func cdUpdate(d *design, h, u, g, theta, next, a []float64, j int, l1, l2, inv float64) float64 {
	mu, is := d.mean[j], 1/d.scale[j]
	col := d.x[j]
	var hu float64
	for i, x := range col {
		hu += h[i] * (x - mu) * u[i]
	}
	hu *= is
	dj := g[j] - l2*theta[j] + hu*inv
	nj := softThreshold(a[j]*next[j]-dj, l1) / (a[j] + l2)
	delta := nj - next[j]
	if delta == 0 {
		return 0
	}
	ds := delta * is
	for i, x := range col {
		u[i] += ds * (x - mu)
	}
	next[j] = nj
	return math.Abs(delta) * math.Sqrt(a[j]+l2)
}

// softThreshold is the proximal operator of t·|x|.
func softThreshold(x, t float64) float64 {
	switch {
	case x > t:
		return x - t
	case x < -t:
		return x + t
	}
	return 0
}

// kktNorm is the ∞-norm of the minimum-norm subgradient of the scaled
// objective: zero exactly at the optimum. g is the smooth gradient.
func kktNorm(g, theta []float64, l1 float64, p int) float64 {
	worst := math.Abs(g[p])
	for j := range p {
		var v float64
		switch {
		case theta[j] > 0:
			v = math.Abs(g[j] + l1)
		case theta[j] < 0:
			v = math.Abs(g[j] - l1)
		default:
			v = max(math.Abs(g[j])-l1, 0)
		}
		worst = max(worst, v)
	}
	return worst
}
