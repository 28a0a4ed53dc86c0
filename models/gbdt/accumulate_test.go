package gbdt

import (
	"math/rand/v2"
	"testing"
)

// TestAccumulateKernelsAgree checks that every histogram kernel gives
// bit-identical sums to the plain Go loop, for dense and sparse row sets and
// for feature counts around the kernels' unrolling.
func TestAccumulateKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 5000
	for _, d := range []int{1, 3, 4, 5, 8, 40, 41} {
		bins := make([]uint8, n*d)
		for i := range bins {
			bins[i] = uint8(rng.IntN(256))
		}
		grad := make([]gradPair, n)
		for i := range grad {
			grad[i] = gradPair{rng.NormFloat64(), rng.Float64()}
		}
		for _, keep := range []float64{1, 0.5, 0.1, 0.01} {
			var rows []int32
			for i := range n {
				if rng.Float64() < keep {
					rows = append(rows, int32(i))
				}
			}
			want := make(hist, d)
			accumulate(want, bins, d, rows, grad)
			viaGo := make(hist, d)
			var buf gatherBuf
			accumulateGo(viaGo, bins, d, rows, grad, &buf)
			viaRows := make(hist, d)
			accumulateRows(viaRows, bins, d, rows, grad, &buf)
			for f := range d {
				if viaGo[f] != want[f] {
					t.Errorf("d=%d keep=%v: accumulateGo differs in feature %d", d, keep, f)
				}
				if viaRows[f] != want[f] {
					t.Errorf("d=%d keep=%v: accumulateRows differs in feature %d", d, keep, f)
				}
			}
		}
	}
}
