package logistic

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// fitSmooth minimises the L2-penalised objective with L-BFGS. It returns the
// parameters (coefficients then intercept), the major iterations and
// whether the gradient met the tolerance.
func fitSmooth(ctx context.Context, d *design, o Options) ([]float64, int, bool, error) {
	ev := newEvaluator(d, o.Threads, false)
	defer ev.close()
	dim := d.p + 1
	var (
		lastX = make([]float64, dim)
		lastG = make([]float64, dim)
		lastF float64
		fresh bool
		inv   = 1 / d.cSum
		l2    = o.L2
	)
	// gonum asks for the value and the gradient at the same point in two
	// calls; compute both in one pass and serve the second from the cache.
	eval := func(x []float64) {
		if fresh && floats.Equal(x, lastX) {
			return
		}
		copy(lastX, x)
		fresh = true
		loss := ev.run(x, true, lastG)
		var pen float64
		for j := range d.p {
			pen += x[j] * x[j]
			lastG[j] += l2 * x[j]
		}
		lastF = (loss + l2/2*pen) * inv
		floats.Scale(inv, lastG)
	}
	problem := optimize.Problem{
		Func: func(x []float64) float64 { eval(x); return lastF },
		Grad: func(g, x []float64) { eval(x); copy(g, lastG) },
		Status: func() (optimize.Status, error) {
			if err := ctx.Err(); err != nil {
				return optimize.Failure, err
			}
			return optimize.NotTerminated, nil
		},
	}
	settings := &optimize.Settings{
		GradientThreshold: o.Tol,
		MajorIterations:   o.MaxIter,
		// Stop on a stall only after 20 iterations without any decrease.
		Converger: &optimize.FunctionConverge{Absolute: 0, Relative: 0, Iterations: 20},
	}
	// A line-search failure means the objective can no longer be decreased
	// measurably along the L-BFGS direction (near the optimum its changes fall
	// below rounding). Restart with a fresh memory from the best point, a few
	// times, before judging convergence by the gradient there.
	theta := d.initialTheta()
	iters := 0
	for attempt := 0; attempt < 4 && iters < o.MaxIter; attempt++ {
		settings.MajorIterations = o.MaxIter - iters
		method := &optimize.LBFGS{Store: 10, Linesearcher: &optimize.MoreThuente{}, GradStopThreshold: math.NaN()}
		res, err := optimize.Minimize(problem, theta, settings, method)
		if cerr := ctx.Err(); cerr != nil {
			return nil, 0, false, fmt.Errorf("logistic: fit cancelled: %w", cerr)
		}
		if err != nil && !errors.Is(err, optimize.ErrLinesearcherFailure) && !errors.Is(err, optimize.ErrNoProgress) {
			return nil, 0, false, fmt.Errorf("logistic: L-BFGS: %w", err)
		}
		if res == nil {
			return nil, 0, false, fmt.Errorf("logistic: L-BFGS returned no result: %w", err)
		}
		for j, v := range res.X {
			if !finite(v) {
				return nil, 0, false, fmt.Errorf("logistic: L-BFGS diverged (parameter %d is %v); the classes may be separable: add an L2 penalty", j, v)
			}
		}
		theta = res.X
		iters += res.Stats.MajorIterations
		if err == nil {
			break // gradient threshold, iteration limit or stall: nothing to retry
		}
		eval(theta)
		if floats.Norm(lastG, math.Inf(1)) <= o.Tol {
			break
		}
	}
	eval(theta)
	converged := floats.Norm(lastG, math.Inf(1)) <= o.Tol
	return theta, iters, converged, nil
}
