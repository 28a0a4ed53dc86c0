package synth

import (
	"math"
	"math/rand/v2"
)

// rng wraps a seeded PCG generator with the draws the model needs. Each
// unit of the borough gets its own, seeded from (seed, unit index), so the
// output does not depend on how units are spread over goroutines.
type rng struct{ *rand.Rand }

func newRNG(seed uint64, stream uint64) rng {
	return rng{rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, stream*0xbf58476d1ce4e5b9+1))}
}

// bern returns true with probability p.
func (r rng) bern(p float64) bool { return r.Float64() < p }

// between returns a day uniformly in [a, b]; a when b < a.
func (r rng) between(a, b day) day {
	if b <= a {
		return a
	}
	return a + day(r.Int64N(int64(b-a)+1))
}

// intn returns an int in [lo, hi].
func (r rng) intn(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}

// poisson draws a Poisson count with mean lambda (Knuth; small lambda).
func (r rng) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		n := int(math.Round(lambda + math.Sqrt(lambda)*r.NormFloat64()))
		if n < 0 {
			return 0
		}
		return n
	}
	l := math.Exp(-lambda)
	k, p := 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// pick returns an index drawn with the given weights.
func (r rng) pick(w ...float64) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	u := r.Float64() * sum
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// expDays draws an exponential waiting time in days for a yearly rate.
func (r rng) expDays(perYear float64) day {
	if perYear <= 0 {
		return never
	}
	d := r.ExpFloat64() / perYear * 365.25
	if d > 1e8 {
		return never
	}
	return day(d)
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func clampF(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }
