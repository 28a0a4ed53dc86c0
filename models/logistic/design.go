package logistic

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/floats"
)

// chunk is the number of rows processed together: the chunk's margins and
// residuals (2 × 8 KiB) stay in L1 cache, and its slice of a 40-column matrix
// (320 KiB) stays in L2 between the margin and the gradient passes.
const chunk = 1024

// design is the training problem. The raw columns are not copied: the
// evaluator folds the standardisation into the coefficients it applies
// (β/scale, and the intercept less Σ β·mean/scale) and into the gradient it
// returns, which halves the memory traffic of a fit and saves a copy of the
// whole matrix.
type design struct {
	n, p        int
	x           [][]float64 // raw columns, shared with the caller (read only)
	y           []float64
	c           []float64 // row weight: sample weight × PosWeight for positives
	cSum        float64
	mean, scale []float64
	constant    []bool // column has (numerically) zero variance
	intercept   bool
}

// newDesign computes the standardisation of a validated problem, one column
// per goroutine up to o.Threads.
func newDesign(cols [][]float64, y, w []float64, o Options) *design {
	n, p := len(y), len(cols)
	d := &design{
		n: n, p: p, y: y,
		x:         cols,
		c:         make([]float64, n),
		mean:      make([]float64, p),
		scale:     make([]float64, p),
		constant:  make([]bool, p),
		intercept: o.FitIntercept,
	}
	var wSum float64
	for i := range n {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		wSum += wi
		d.c[i] = wi
		if y[i] == 1 {
			d.c[i] *= o.PosWeight
		}
		d.cSum += d.c[i]
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, o.Threads))
	for j := range p {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			col := cols[j]
			var mean float64
			if w == nil {
				mean = floats.Sum(col) / wSum
			} else {
				mean = floats.Dot(col, w) / wSum
			}
			var ss float64
			for i, v := range col {
				dv := v - mean
				if w == nil {
					ss += dv * dv
				} else {
					ss += w[i] * dv * dv
				}
			}
			scale := math.Sqrt(ss / wSum)
			if scale < 10*epsilon { // scikit-learn's _handle_zeros_in_scale
				scale = 1
				d.constant[j] = true
			}
			if !d.intercept {
				mean = 0
			}
			d.mean[j], d.scale[j] = mean, scale
		}()
	}
	wg.Wait()
	return d
}

// epsilon is the float64 machine epsilon.
const epsilon = 0x1p-52

// initialTheta returns the starting point: zero coefficients and, with an
// intercept, the log-odds of the weighted prevalence.
func (d *design) initialTheta() []float64 {
	theta := make([]float64, d.p+1)
	if !d.intercept {
		return theta
	}
	var pos float64
	for i, y := range d.y {
		pos += d.c[i] * y
	}
	if pos > 0 && pos < d.cSum {
		theta[d.p] = math.Log(pos / (d.cSum - pos))
	}
	return theta
}

// evaluator computes the loss Σ cᵢ·ℓ(zᵢ, yᵢ), its gradient and optionally
// the per-row residuals and curvatures at a parameter vector, splitting the
// rows between persistent worker goroutines. After construction it does not
// allocate.
type evaluator struct {
	d       *design
	theta   []float64 // parameters being evaluated, set before waking workers
	eff     []float64 // the same on the raw scale: β/scale, then the intercept
	grad    bool      // whether workers compute the gradient
	rowR    []float64 // if non-nil, cᵢ·(σ(zᵢ) − yᵢ) per row
	rowH    []float64 // if non-nil, cᵢ·σ(zᵢ)·(1 − σ(zᵢ)) per row
	parts   []part
	start   []chan struct{}
	done    chan struct{}
	stopped bool
}

// part is one worker's rows and scratch space.
type part struct {
	lo, hi int
	z, r   []float64 // chunk-sized scratch
	g      []float64 // partial gradient, p+1
	loss   float64
}

func newEvaluator(d *design, threads int, rows bool) *evaluator {
	threads = max(1, min(threads, (d.n+chunk-1)/chunk))
	ev := &evaluator{d: d, done: make(chan struct{}, threads), eff: make([]float64, d.p+1)}
	if rows {
		ev.rowR = make([]float64, d.n)
		ev.rowH = make([]float64, d.n)
	}
	nChunks := (d.n + chunk - 1) / chunk
	for t := range threads {
		lo := min(d.n, nChunks*t/threads*chunk)
		hi := min(d.n, nChunks*(t+1)/threads*chunk)
		ev.parts = append(ev.parts, part{lo: lo, hi: hi, z: make([]float64, chunk), r: make([]float64, chunk), g: make([]float64, d.p+1)})
		start := make(chan struct{})
		ev.start = append(ev.start, start)
		go func() {
			for range start {
				ev.work(&ev.parts[t])
				ev.done <- struct{}{}
			}
		}()
	}
	return ev
}

// close stops the workers.
func (ev *evaluator) close() {
	if ev.stopped {
		return
	}
	ev.stopped = true
	for _, s := range ev.start {
		close(s)
	}
}

// run evaluates at theta (coefficients on the standardised features, then
// the intercept) and returns the summed loss; with grad set, g receives the
// summed loss gradient with respect to theta (without penalty), length p+1.
func (ev *evaluator) run(theta []float64, grad bool, g []float64) float64 {
	d := ev.d
	ev.theta, ev.grad = theta, grad
	b := theta[d.p]
	for j := range d.p {
		ev.eff[j] = theta[j] / d.scale[j]
		b -= ev.eff[j] * d.mean[j]
	}
	ev.eff[d.p] = b
	for _, s := range ev.start {
		s <- struct{}{}
	}
	for range ev.start {
		<-ev.done
	}
	var loss float64
	if grad {
		clear(g)
	}
	for t := range ev.parts {
		loss += ev.parts[t].loss
		if grad {
			floats.Add(g, ev.parts[t].g)
		}
	}
	if grad {
		// Workers sum rᵢ·xᵢⱼ on the raw scale; the gradient with respect to
		// the standardised coefficient is Σ rᵢ·(xᵢⱼ − meanⱼ)/scaleⱼ.
		for j := range d.p {
			g[j] = (g[j] - d.mean[j]*g[d.p]) / d.scale[j]
			if d.constant[j] && d.intercept {
				g[j] = 0 // a centred constant column is exactly zero
			}
		}
		if !d.intercept {
			g[d.p] = 0
		}
	}
	return loss
}

// work evaluates one worker's rows, chunk by chunk.
func (ev *evaluator) work(pt *part) {
	d, theta := ev.d, ev.eff
	p := d.p
	pt.loss = 0
	if ev.grad {
		clear(pt.g)
	}
	for lo := pt.lo; lo < pt.hi; lo += chunk {
		hi := min(lo+chunk, pt.hi)
		m := hi - lo
		z, r := pt.z[:m], pt.r[:m]
		b := theta[p]
		for i := range z {
			z[i] = b
		}
		for j := range p {
			if theta[j] != 0 {
				floats.AddScaled(z, theta[j], d.x[j][lo:hi])
			}
		}
		ys, cs := d.y[lo:hi], d.c[lo:hi]
		var loss float64
		for i, zi := range z {
			// One exp and one log1p per row: log(1+e^z) = max(z,0) + log1p(e^-|z|).
			e := math.Exp(-math.Abs(zi))
			lse := math.Log1p(e)
			s := 1 / (1 + e)
			if zi >= 0 {
				lse += zi
			} else {
				s = e * s
			}
			ci := cs[i]
			loss += ci * (lse - ys[i]*zi)
			r[i] = ci * (s - ys[i])
			if ev.rowH != nil {
				ev.rowR[lo+i] = r[i]
				ev.rowH[lo+i] = ci * s * (1 - s)
			}
		}
		pt.loss += loss
		if ev.grad {
			for j := range p {
				pt.g[j] += floats.Dot(r, d.x[j][lo:hi])
			}
			pt.g[p] += floats.Sum(r)
		}
	}
}
