package explain

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"caserisk/models/tree"
)

// randomTree grows a tree of at most the given depth with random splits on
// nfeat features (features may repeat along a path), positive covers that
// add up from children to parent, and random leaf values.
func randomTree(r *rand.Rand, nfeat, depth int, pLeaf float64) tree.Tree {
	var t tree.Tree
	var grow func(d int, cover float64) int32
	grow = func(d int, cover float64) int32 {
		i := int32(t.Len())
		t.Left = append(t.Left, -1)
		t.Right = append(t.Right, -1)
		t.Feature = append(t.Feature, -1)
		t.Threshold = append(t.Threshold, 0)
		t.DefaultLeft = append(t.DefaultLeft, false)
		t.Value = append(t.Value, 0)
		t.Cover = append(t.Cover, cover)
		t.Gain = append(t.Gain, 0)
		if d == depth || (d > 0 && r.Float64() < pLeaf) {
			t.Value[i] = r.NormFloat64()
			return i
		}
		t.Feature[i] = int32(r.IntN(nfeat))
		t.Threshold[i] = r.NormFloat64()
		t.DefaultLeft[i] = r.IntN(2) == 0
		t.Gain[i] = r.Float64() * 10
		share := 0.05 + 0.9*r.Float64()
		l := grow(d+1, cover*share)
		rr := grow(d+1, cover*(1-share))
		t.Left[i], t.Right[i] = l, rr
		return i
	}
	grow(0, 1+r.Float64()*1000)
	return t
}

// fittedTree grows a tree on data the way a trainer would: each split sends
// the rows below a quantile threshold left and missing values to the default
// side, the cover is the number of rows reaching a node and a leaf's value
// is the mean residual of its rows. Nodes with too few rows become leaves.
func fittedTree(r *rand.Rand, X [][]float64, resid []float64, depth int) tree.Tree {
	var t tree.Tree
	var grow func(rows []int, d int) int32
	grow = func(rows []int, d int) int32 {
		i := int32(t.Len())
		t.Left = append(t.Left, -1)
		t.Right = append(t.Right, -1)
		t.Feature = append(t.Feature, -1)
		t.Threshold = append(t.Threshold, 0)
		t.DefaultLeft = append(t.DefaultLeft, false)
		t.Value = append(t.Value, 0)
		t.Cover = append(t.Cover, float64(len(rows)))
		t.Gain = append(t.Gain, 0)
		leaf := func() int32 {
			s := 0.0
			for _, k := range rows {
				s += resid[k]
			}
			t.Value[i] = 0.3 * s / float64(len(rows))
			return i
		}
		if d == depth || len(rows) < 4 {
			return leaf()
		}
		f := r.IntN(len(X[0]))
		var present []float64
		for _, k := range rows {
			if v := X[k][f]; !math.IsNaN(v) {
				present = append(present, v)
			}
		}
		if len(present) < 2 {
			return leaf()
		}
		thr := present[r.IntN(len(present))]
		defLeft := r.IntN(2) == 0
		var left, right []int
		for _, k := range rows {
			v := X[k][f]
			if (math.IsNaN(v) && defLeft) || v < thr {
				left = append(left, k)
			} else {
				right = append(right, k)
			}
		}
		if len(left) == 0 || len(right) == 0 {
			return leaf()
		}
		t.Feature[i], t.Threshold[i], t.DefaultLeft[i] = int32(f), thr, defLeft
		t.Gain[i] = float64(len(rows))
		l := grow(left, d+1)
		rr := grow(right, d+1)
		t.Left[i], t.Right[i] = l, rr
		return i
	}
	all := make([]int, len(X))
	for k := range all {
		all[k] = k
	}
	grow(all, 0)
	return t
}

// randomRows draws rows with values on a coarse grid (so that some equal a
// threshold exactly) and the given share of missing values.
func randomRows(r *rand.Rand, n, nfeat int, pMissing float64) [][]float64 {
	X := make([][]float64, n)
	for i := range X {
		X[i] = make([]float64, nfeat)
		for j := range X[i] {
			if r.Float64() < pMissing {
				X[i][j] = math.NaN()
			} else {
				X[i][j] = math.Round(r.NormFloat64()*8) / 8
			}
		}
	}
	return X
}

type ensembleCase struct {
	name string
	e    tree.Ensemble
	rows [][]float64
}

func ensembleCases(t testing.TB) []ensembleCase {
	t.Helper()
	var cases []ensembleCase
	random := func(name string, seed uint64, nfeat, ntrees, depth int, pLeaf, pMissing float64) {
		r := rand.New(rand.NewPCG(seed, 1))
		e := tree.Ensemble{Base: r.NormFloat64(), NumFeatures: nfeat}
		for range ntrees {
			e.Trees = append(e.Trees, randomTree(r, nfeat, depth, pLeaf))
		}
		cases = append(cases, ensembleCase{name, e, randomRows(r, 40, nfeat, pMissing)})
	}
	random("stumps", 1, 3, 5, 1, 0, 0.1)
	random("one feature, repeated splits", 2, 1, 4, 5, 0.1, 0.2)
	random("few features, many repeats", 3, 3, 10, 6, 0.2, 0.2)
	random("depth 6, 40 features", 4, 40, 20, 6, 0, 0.1)
	random("ragged", 5, 8, 30, 7, 0.3, 0.3)
	random("deeper than the tables", 6, 14, 3, 11, 0.05, 0.1)
	random("single leaves", 7, 4, 3, 0, 0, 0)

	r := rand.New(rand.NewPCG(8, 2))
	X := randomRows(r, 300, 10, 0.25)
	y := make([]float64, len(X))
	for i, x := range X {
		if !math.IsNaN(x[0]) && x[0] > 0 || math.IsNaN(x[3]) {
			y[i] = 1
		}
	}
	fitted := tree.Ensemble{Base: -0.4, NumFeatures: 10}
	margin := make([]float64, len(X))
	for range 25 {
		resid := make([]float64, len(X))
		for i := range X {
			resid[i] = y[i] - 1/(1+math.Exp(-(fitted.Base+margin[i])))
		}
		tr := fittedTree(r, X, resid, 6)
		for i := range X {
			margin[i] += tr.Predict(X[i])
		}
		fitted.Trees = append(fitted.Trees, tr)
	}
	cases = append(cases, ensembleCase{"fitted with missing values", fitted, X[:60]})
	for _, c := range cases {
		if err := c.e.Validate(); err != nil {
			t.Fatalf("%s: invalid test ensemble: %v", c.name, err)
		}
	}
	return cases
}

func TestTreeSHAPMatchesReference(t *testing.T) {
	for _, c := range ensembleCases(t) {
		t.Run(c.name, func(t *testing.T) {
			ex := TreeSHAP(&c.e)
			fast := make([]float64, c.e.NumFeatures+1)
			ref := make([]float64, c.e.NumFeatures+1)
			for i, x := range c.rows {
				ex.Contributions(x, fast)
				if err := TreeSHAPReference(&c.e, x, ref); err != nil {
					t.Fatal(err)
				}
				for j := range fast {
					if d := math.Abs(fast[j] - ref[j]); d > 1e-12 || math.IsNaN(fast[j]) {
						t.Fatalf("row %d, output %d: fast %.17g, reference %.17g (diff %g)", i, j, fast[j], ref[j], d)
					}
				}
				if d := math.Abs(sum(fast) - c.e.Margin(x)); d > 1e-9 {
					t.Fatalf("row %d: contributions sum to %.17g, margin is %.17g", i, sum(fast), c.e.Margin(x))
				}
				if d := math.Abs(sum(ref) - c.e.Margin(x)); d > 1e-9 {
					t.Fatalf("row %d: reference sums to %.17g, margin is %.17g", i, sum(ref), c.e.Margin(x))
				}
			}
		})
	}
}

// conditional is Algorithm 1 of Lundberg et al.: the path-dependent estimate
// of E[tree(x) | x_S], following x where the feature is in S and splitting
// the weight by cover elsewhere.
func conditional(t *tree.Tree, node int, x []float64, in func(int) bool) float64 {
	if t.IsLeaf(node) {
		return t.Value[node]
	}
	if f := int(t.Feature[node]); in(f) {
		return conditional(t, t.Next(node, x[f]), x, in)
	}
	l, r := int(t.Left[node]), int(t.Right[node])
	return zeroFraction(t, node, l)*conditional(t, l, x, in) + zeroFraction(t, node, r)*conditional(t, r, x, in)
}

// bruteForce computes the Shapley values of the game S ↦ E[f(x) | x_S] by
// enumerating every coalition.
func bruteForce(e *tree.Ensemble, x []float64) []float64 {
	m := e.NumFeatures
	value := func(set uint) float64 {
		v := e.Base
		for i := range e.Trees {
			v += conditional(&e.Trees[i], 0, x, func(f int) bool { return set&(1<<f) != 0 })
		}
		return v
	}
	fact := func(n int) float64 { return math.Gamma(float64(n + 1)) }
	phi := make([]float64, m+1)
	for i := 0; i < m; i++ {
		for set := uint(0); set < 1<<m; set++ {
			if set&(1<<i) != 0 {
				continue
			}
			s := 0
			for b := set; b != 0; b &= b - 1 {
				s++
			}
			w := fact(s) * fact(m-s-1) / fact(m)
			phi[i] += w * (value(set|1<<i) - value(set))
		}
	}
	phi[m] = value(0)
	return phi
}

func TestReferenceIsShapley(t *testing.T) {
	tests := []struct {
		name               string
		seed               uint64
		nfeat, trees, dept int
	}{
		{"one tree, three features", 11, 3, 1, 4},
		{"five trees, five features", 12, 5, 5, 5},
		{"repeats on one feature", 13, 2, 3, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(tc.seed, 3))
			e := tree.Ensemble{Base: 0.25, NumFeatures: tc.nfeat}
			for range tc.trees {
				e.Trees = append(e.Trees, randomTree(r, tc.nfeat, tc.dept, 0.1))
			}
			got := make([]float64, tc.nfeat+1)
			for i, x := range randomRows(r, 20, tc.nfeat, 0.2) {
				want := bruteForce(&e, x)
				if err := TreeSHAPReference(&e, x, got); err != nil {
					t.Fatal(err)
				}
				for j := range want {
					if math.Abs(got[j]-want[j]) > 1e-10 {
						t.Fatalf("row %d, output %d: TreeSHAP %.15g, Shapley %.15g", i, j, got[j], want[j])
					}
				}
			}
		})
	}
}

func TestBatchMatchesRows(t *testing.T) {
	for _, c := range ensembleCases(t) {
		t.Run(c.name, func(t *testing.T) {
			ex := TreeSHAP(&c.e)
			nf := c.e.NumFeatures
			// Repeat the rows to span several blocks.
			var X []float64
			for range 5 {
				for _, x := range c.rows {
					X = append(X, x...)
				}
			}
			n := len(X) / nf
			out := make([]float64, n*(nf+1))
			if err := ex.ContributionsBatch(context.Background(), X, out); err != nil {
				t.Fatal(err)
			}
			one := make([]float64, nf+1)
			for i := 0; i < n; i++ {
				ex.Contributions(X[i*nf:(i+1)*nf], one)
				for j := range one {
					if got := out[i*(nf+1)+j]; got != one[j] {
						t.Fatalf("row %d, output %d: batch %.17g, single %.17g", i, j, got, one[j])
					}
				}
			}
		})
	}
}

func TestBatchErrors(t *testing.T) {
	c := ensembleCases(t)[3]
	ex := TreeSHAP(&c.e)
	nf := c.e.NumFeatures
	X := make([]float64, 1000*nf)
	tests := []struct {
		name string
		ctx  func() context.Context
		X    []float64
		out  []float64
		want error
	}{
		{"partial row", context.Background, X[:nf+1], make([]float64, nf+1), nil},
		{"short output", context.Background, X, make([]float64, 10), nil},
		{"cancelled", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, X, make([]float64, 1000*(nf+1)), context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ex.ContributionsBatch(tc.ctx(), tc.X, tc.out)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestZeroCover(t *testing.T) {
	// A split whose children have no cover, and one whose parent has none.
	tr := tree.Tree{
		Left:        []int32{1, 3, -1, -1, -1},
		Right:       []int32{2, 4, -1, -1, -1},
		Feature:     []int32{0, 1, -1, -1, -1},
		Threshold:   []float64{0, 0, 0, 0, 0},
		DefaultLeft: []bool{true, false, false, false, false},
		Value:       []float64{0, 0, 1.5, -2, 0.5},
		Cover:       []float64{10, 0, 10, 0, 0},
		Gain:        []float64{1, 1, 0, 0, 0},
	}
	e := tree.Ensemble{Base: 0.1, NumFeatures: 2, Trees: []tree.Tree{tr}}
	ex := TreeSHAP(&e)
	out := make([]float64, 3)
	for _, x := range [][]float64{{-1, -1}, {-1, 1}, {1, 1}, {math.NaN(), math.NaN()}} {
		ex.Contributions(x, out)
		for j, v := range out {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("row %v: output %d is %v", x, j, v)
			}
		}
		if d := math.Abs(sum(out) - e.Margin(x)); d > 1e-12 {
			t.Fatalf("row %v: contributions sum to %g, margin %g", x, sum(out), e.Margin(x))
		}
	}
}

func TestTableMemory(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 4))
	e := tree.Ensemble{NumFeatures: 40}
	for range 10 {
		e.Trees = append(e.Trees, randomTree(r, 40, 6, 0))
	}
	// A full depth-6 tree: 64 leaves, each at most 6 features × 2^6 subsets.
	if got, limit := TreeSHAP(&e).tableBytes(), 10*64*6*64*8; got > limit || got == 0 {
		t.Fatalf("tables take %d bytes, want (0, %d]", got, limit)
	}
}

// FuzzTreeSHAP checks the fast algorithm against the reference, and local
// accuracy, on trees and rows drawn from the fuzzer's seed values.
func FuzzTreeSHAP(f *testing.F) {
	f.Add(uint64(1), uint8(3), uint8(4), uint8(2), 0.1)
	f.Add(uint64(2), uint8(1), uint8(7), uint8(5), 0.5)
	f.Add(uint64(3), uint8(12), uint8(10), uint8(1), 0.0)
	f.Fuzz(func(t *testing.T, seed uint64, nfeat, depth, ntrees uint8, pMissing float64) {
		nf, d, nt := 1+int(nfeat%16), int(depth%12), 1+int(ntrees%8)
		if math.IsNaN(pMissing) {
			pMissing = 0.5
		}
		r := rand.New(rand.NewPCG(seed, 5))
		e := tree.Ensemble{Base: r.NormFloat64(), NumFeatures: nf}
		for range nt {
			e.Trees = append(e.Trees, randomTree(r, nf, d, 0.2))
		}
		ex := TreeSHAP(&e)
		fast := make([]float64, nf+1)
		ref := make([]float64, nf+1)
		for _, x := range randomRows(r, 5, nf, pMissing) {
			ex.Contributions(x, fast)
			if err := TreeSHAPReference(&e, x, ref); err != nil {
				t.Fatal(err)
			}
			for j := range fast {
				if math.Abs(fast[j]-ref[j]) > 1e-10 {
					t.Fatalf("output %d: fast %g, reference %g", j, fast[j], ref[j])
				}
			}
			if math.Abs(sum(fast)-e.Margin(x)) > 1e-9 {
				t.Fatalf("contributions sum to %g, margin %g", sum(fast), e.Margin(x))
			}
		}
	})
}

// chainTree is a caterpillar: node k splits on feature k, its left child is
// a leaf and its right child the next split, so the last leaf's path uses
// every feature once.
func chainTree(nfeat int) tree.Tree {
	var t tree.Tree
	cover := float64(1 << 20)
	for k := 0; k < nfeat; k++ {
		split := int32(t.Len())
		t.Left = append(t.Left, split+1, -1)
		t.Right = append(t.Right, split+2, -1)
		t.Feature = append(t.Feature, int32(k), -1)
		t.Threshold = append(t.Threshold, 0, 0)
		t.DefaultLeft = append(t.DefaultLeft, k%2 == 0, false)
		t.Value = append(t.Value, 0, float64(k%5)-2)
		t.Cover = append(t.Cover, cover, cover/3)
		t.Gain = append(t.Gain, 1, 0)
		cover -= cover / 3
	}
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	t.Feature = append(t.Feature, -1)
	t.Threshold = append(t.Threshold, 0)
	t.DefaultLeft = append(t.DefaultLeft, false)
	t.Value = append(t.Value, 3)
	t.Cover = append(t.Cover, cover)
	t.Gain = append(t.Gain, 0)
	return t
}

func TestPathsWiderThanMasks(t *testing.T) {
	const nf = maxPathFeatures + 6
	e := tree.Ensemble{NumFeatures: nf, Trees: []tree.Tree{chainTree(nf), chainTree(10)}}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	ex := TreeSHAP(&e)
	if len(ex.slow) != 1 || len(ex.trees) != 1 {
		t.Fatalf("%d trees compiled, %d left to the reference; want 1 and 1", len(ex.trees), len(ex.slow))
	}
	r := rand.New(rand.NewPCG(31, 6))
	fast := make([]float64, nf+1)
	ref := make([]float64, nf+1)
	for i, x := range randomRows(r, 20, nf, 0.1) {
		for j := range x {
			if r.IntN(4) != 0 {
				x[j] = 1 // mostly go right, down the long path
			}
		}
		ex.Contributions(x, fast)
		if err := TreeSHAPReference(&e, x, ref); err != nil {
			t.Fatal(err)
		}
		for j := range fast {
			if math.Abs(fast[j]-ref[j]) > 1e-12 {
				t.Fatalf("row %d, output %d: %g, reference %g", i, j, fast[j], ref[j])
			}
		}
		// Algorithm 2's unwinding loses a few digits over a 70-feature path.
		if math.Abs(sum(fast)-e.Margin(x)) > 1e-8 {
			t.Fatalf("row %d: contributions sum to %g, margin %g", i, sum(fast), e.Margin(x))
		}
	}
}
