package tree

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// thresholdPools draws nthr distinct-ish thresholds per feature: normal
// values, with signed zeros, infinities and huge values mixed in.
func thresholdPools(rng *rand.Rand, nfeat, nthr int) [][]float64 {
	special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), 1e300, -1e300, math.SmallestNonzeroFloat64}
	pools := make([][]float64, nfeat)
	for f := range pools {
		for range nthr {
			if rng.IntN(40) == 0 {
				pools[f] = append(pools[f], special[rng.IntN(len(special))])
			} else {
				pools[f] = append(pools[f], rng.NormFloat64()*2)
			}
		}
	}
	return pools
}

// poolEnsemble is a random ensemble whose thresholds come from pools.
func poolEnsemble(seed uint64, ntrees, nfeat, maxDepth, stop int, pools [][]float64) *Ensemble {
	rng := rand.New(rand.NewPCG(seed, 9))
	e := &Ensemble{Base: rng.NormFloat64(), NumFeatures: nfeat}
	for range ntrees {
		e.Trees = append(e.Trees, randomTreeWith(rng, nfeat, maxDepth, stop, func(f int) float64 {
			return pools[f][rng.IntN(len(pools[f]))]
		}))
	}
	return e
}

// poolRows draws rows that hit the pools' thresholds exactly, sit next to
// them, or are NaN, signed zeros, infinities or arbitrary (with NaN at rate
// miss).
func poolRows(seed uint64, n int, pools [][]float64, miss float64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 10))
	rows := make([][]float64, n)
	for i := range rows {
		rows[i] = make([]float64, len(pools))
		for f := range rows[i] {
			p := pools[f]
			var v float64
			switch rng.IntN(8) {
			case 0, 1:
				v = p[rng.IntN(len(p))]
			case 2:
				v = math.Nextafter(p[rng.IntN(len(p))], math.Inf(-1))
			case 3:
				v = []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.MaxFloat64}[rng.IntN(5)]
			default:
				v = rng.NormFloat64() * 3
			}
			if rng.Float64() < miss {
				v = math.NaN()
			}
			rows[i][f] = v
		}
	}
	return rows
}

// TestQuantizedMatchesMargin checks the bit-sliced scorer (and the float
// fallback where it does not apply) against Ensemble.Margin, row by row
// and by columns, for block sizes around 64 rows.
func TestQuantizedMatchesMargin(t *testing.T) {
	for _, c := range []struct {
		name                      string
		trees, feats, depth, stop int
		nthr                      int
		miss                      float64
		rows                      int
		quantized                 bool // whether the bit-sliced scorer applies
	}{
		{"depth6-many-thresholds", 200, 40, 6, 30, 200, 0, 257, true},
		{"depth6-missing", 100, 20, 6, 8, 150, 0.05, 200, true},
		{"mostly-missing", 50, 5, 6, 4, 40, 0.8, 130, true},
		{"shallow-mixed-depths", 60, 8, 4, 3, 30, 0.1, 64, true},
		{"deep-and-shallow", 40, 6, 9, 3, 100, 0.1, 65, true},
		{"254-thresholds", 300, 1, 6, 100, 0, 0.05, 100, true},
		{"few-thresholds", 30, 3, 5, 4, 3, 0.1, 63, true},
		{"one-row", 20, 4, 6, 4, 50, 0.2, 1, true},
		{"too-many-thresholds", 400, 2, 6, 100, 5000, 0.05, 90, false},
		{"too-many-thresholds-depth8", 100, 2, maxPerfectDepth, 6, 5000, 0, 77, false},
		{"too-many-thresholds-deep", 100, 3, maxPerfectDepth + 3, 5, 5000, 0.1, 130, false},
		{"too-many-thresholds-deep-dense", 100, 3, maxPerfectDepth + 3, 5, 5000, 0, 70, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.trees), uint64(c.nthr)))
			pools := thresholdPools(rng, c.feats, c.nthr)
			if c.name == "254-thresholds" {
				// Exactly 254 distinct values, every one used by some of
				// the ~18,000 nodes.
				pools[0] = pools[0][:0]
				for i := range maxCodeThresholds - 4 {
					pools[0] = append(pools[0], float64(i)*0.37-40)
				}
				pools[0] = append(pools[0], math.Inf(-1), math.Inf(1), -1e300, math.Copysign(0, -1))
			}
			e := poolEnsemble(uint64(c.rows), c.trees, c.feats, c.depth, c.stop, pools)
			comp, err := Compile(e)
			if err != nil {
				t.Fatal(err)
			}
			if got := comp.quant != nil; got != c.quantized {
				t.Fatalf("bit-sliced scorer used: %v, want %v", got, c.quantized)
			}
			if c.name == "254-thresholds" && comp.quant.slots[0].k != maxCodeThresholds {
				t.Fatalf("feature 0 has %d distinct thresholds, want %d", comp.quant.slots[0].k, maxCodeThresholds)
			}
			rows := poolRows(uint64(c.rows)+1, c.rows, pools, c.miss)
			checkCompiled(t, e, comp, rows)
		})
	}
}

// checkCompiled wants Margins and MarginsColumns to equal Margin on rows.
func checkCompiled(t *testing.T, e *Ensemble, comp *Compiled, rows [][]float64) {
	t.Helper()
	out := make([]float64, len(rows))
	if err := comp.Margins(rows, out); err != nil {
		t.Fatal(err)
	}
	cols := make([][]float64, e.NumFeatures)
	for j := range cols {
		cols[j] = make([]float64, len(rows))
		for i := range rows {
			cols[j][i] = rows[i][j]
		}
	}
	outc := make([]float64, len(rows))
	if err := comp.MarginsColumns(cols, outc); err != nil {
		t.Fatal(err)
	}
	for i, x := range rows {
		want := e.Margin(x)
		if !same(out[i], want) || !same(outc[i], want) {
			t.Fatalf("row %d %v: compiled %v (columns %v), Margin %v", i, x, out[i], outc[i], want)
		}
	}
}

// same is equality, with NaN equal to NaN (an infinite leaf can make one).
func same(a, b float64) bool { return a == b || (a != a && b != b) }

// TestBucketMonotone checks the property the bucket lookup rests on: bucket
// never decreases as the value grows.
func TestBucketMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for range 200 {
		lo := rng.NormFloat64() * 10
		scale := math.Exp(rng.NormFloat64() * 5)
		vals := []float64{math.Inf(-1), -math.MaxFloat64, math.Inf(1), math.MaxFloat64, 0, math.Copysign(0, -1), lo, math.Nextafter(lo, 0)}
		for range 50 {
			vals = append(vals, lo+rng.NormFloat64()*300/scale)
		}
		for _, a := range vals {
			for _, b := range vals {
				if a <= b && bucket(a, lo, scale) > bucket(b, lo, scale) {
					t.Fatalf("lo %v scale %v: bucket(%v) = %d > bucket(%v) = %d", lo, scale, a, bucket(a, lo, scale), b, bucket(b, lo, scale))
				}
			}
		}
	}
}

// FuzzQuantizedMatchesMargin scores rows built from arbitrary bytes with an
// ensemble of many thresholds per feature: each value is a threshold (to
// hit it exactly), its neighbour below, or any float64 bit pattern.
func FuzzQuantizedMatchesMargin(f *testing.F) {
	const nfeat = 4
	rng := rand.New(rand.NewPCG(11, 11))
	pools := thresholdPools(rng, nfeat, 120)
	e := poolEnsemble(12, 60, nfeat, 7, 6, pools)
	comp, err := Compile(e)
	if err != nil {
		f.Fatal(err)
	}
	if comp.quant == nil {
		f.Fatal("the bit-sliced scorer does not apply")
	}
	f.Add(make([]byte, 9*nfeat))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 2, 0, 0, 0, 0, 0, 0, 0xf0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var rows [][]float64
		for len(data) >= 9*nfeat {
			x := make([]float64, nfeat)
			for j := range x {
				sel, bits := data[9*j], binary.LittleEndian.Uint64(data[9*j+1:])
				p := pools[j]
				switch sel % 3 {
				case 0:
					x[j] = p[bits%uint64(len(p))]
				case 1:
					x[j] = math.Nextafter(p[bits%uint64(len(p))], math.Inf(-1))
				default:
					x[j] = math.Float64frombits(bits)
				}
			}
			rows = append(rows, x)
			data = data[9*nfeat:]
		}
		checkCompiled(t, e, comp, rows)
	})
}

// TestSearches checks every binary search and bucket search variant
// against counting the cuts <= v directly.
func TestSearches(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for trial := range 400 {
		steps := 1 + trial%8
		k := 1 + rng.IntN(1<<steps-1)
		if k > maxCodeThresholds {
			k = maxCodeThresholds
		}
		set := map[float64]bool{}
		for len(set) < k {
			v := rng.NormFloat64()
			switch rng.IntN(6) {
			case 0:
				v = math.Exp(rng.NormFloat64() * 20) // spread over many magnitudes
			case 1:
				v = float64(rng.IntN(5)) // clustered
			}
			set[v] = true
		}
		var s []float64
		for v := range set {
			s = append(s, v)
		}
		slices.Sort(s)
		e := &Ensemble{NumFeatures: 1}
		for _, v := range s {
			e.Trees = append(e.Trees, Tree{Left: []int32{1, -1, -1}, Right: []int32{2, -1, -1}, Feature: []int32{0, -1, -1},
				Threshold: []float64{v, 0, 0}, DefaultLeft: []bool{false, false, false}, Value: []float64{0, 1, 2},
				Cover: []float64{2, 1, 1}, Gain: []float64{1, 0, 0}})
		}
		q := quantize(e)
		sl := &q.slots[0]
		if sl.k != k || sl.steps != bits.Len(uint(k)) {
			t.Fatalf("k %d steps %d, want %d %d", sl.k, sl.steps, k, bits.Len(uint(k)))
		}
		vals := make([]float64, 1+rng.IntN(blockRows))
		for i := range vals {
			switch rng.IntN(4) {
			case 0:
				vals[i] = s[rng.IntN(len(s))]
			case 1:
				vals[i] = math.Nextafter(s[rng.IntN(len(s))], math.Inf(-1))
			case 2:
				vals[i] = []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1)}[rng.IntN(5)]
			default:
				vals[i] = rng.NormFloat64() * 3
			}
		}
		check := func(name string, codes *[blockRows]uint8) {
			for i, v := range vals {
				if v != v && strings.HasPrefix(name, "bucket") {
					continue // the code of NaN is unspecified
				}
				want := 0
				for _, c := range s {
					if v >= c {
						want++
					}
				}
				if int(codes[i]) != want {
					t.Fatalf("%s, %d cuts %v: code of %v is %d, want %d", name, k, s, v, codes[i], want)
				}
			}
		}
		var codes [blockRows]uint8
		for n := sl.steps; n <= 8; n++ {
			searches[n](sl.cuts, vals, &codes)
			check(fmt.Sprintf("search%d", n), &codes)
		}
		if sl.bsteps > 0 {
			bucketSearches[sl.bsteps](sl, vals, &codes)
			check(fmt.Sprintf("bucketSearch%d", sl.bsteps), &codes)
		}
	}
}

// TestCompiledConcurrent scores from several goroutines at once: the
// scorers' working memory is per call.
func TestCompiledConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	pools := thresholdPools(rng, 6, 50)
	e := poolEnsemble(8, 40, 6, 7, 5, pools)
	comp, err := Compile(e)
	if err != nil {
		t.Fatal(err)
	}
	rows := poolRows(9, 300, pools, 0.1)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for range 5 {
				part := rows[g*10 : g*10+100+g]
				out := make([]float64, len(part))
				if err := comp.Margins(part, out); err != nil {
					errs <- err.Error()
					return
				}
				for i, x := range part {
					if want := e.Margin(x); !same(out[i], want) {
						errs <- fmt.Sprintf("goroutine %d row %d: %v, want %v", g, i, out[i], want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
