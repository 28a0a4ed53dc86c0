package tree

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomTree grows a random tree of at most maxDepth levels over nfeat
// features, with thresholds on a small grid so that rows hit them exactly.
func randomTree(rng *rand.Rand, nfeat, maxDepth int) Tree {
	return randomTreeWith(rng, nfeat, maxDepth, 4, func(int) float64 { return float64(rng.IntN(9)-4) / 2 })
}

// randomTreeWith grows a random tree of at most maxDepth levels over nfeat
// features, each node a leaf early with probability 1/stop (past the root),
// with thresholds from thr(feature).
func randomTreeWith(rng *rand.Rand, nfeat, maxDepth, stop int, thr func(f int) float64) Tree {
	var t Tree
	add := func() int {
		t.Left = append(t.Left, -1)
		t.Right = append(t.Right, -1)
		t.Feature = append(t.Feature, -1)
		t.Threshold = append(t.Threshold, 0)
		t.DefaultLeft = append(t.DefaultLeft, false)
		t.Value = append(t.Value, 0)
		t.Cover = append(t.Cover, 1)
		t.Gain = append(t.Gain, 0)
		return len(t.Left) - 1
	}
	var grow func(i, depth int)
	grow = func(i, depth int) {
		if depth == maxDepth || (depth > 0 && rng.IntN(stop) == 0) {
			t.Value[i] = rng.NormFloat64()
			return
		}
		l := add()
		r := add()
		t.Left[i], t.Right[i] = int32(l), int32(r)
		f := rng.IntN(nfeat)
		t.Feature[i] = int32(f)
		t.Threshold[i] = thr(f)
		t.DefaultLeft[i] = rng.IntN(2) == 0
		t.Gain[i] = 1
		grow(l, depth+1)
		grow(r, depth+1)
	}
	grow(add(), 0)
	return t
}

func randomEnsemble(seed uint64, ntrees, nfeat, maxDepth int) *Ensemble {
	rng := rand.New(rand.NewPCG(seed, 7))
	e := &Ensemble{Base: rng.NormFloat64(), NumFeatures: nfeat}
	for range ntrees {
		e.Trees = append(e.Trees, randomTree(rng, nfeat, maxDepth))
	}
	return e
}

// randomRows draws values on the threshold grid and between it, with NaNs.
func randomRows(seed uint64, n, nfeat int) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 8))
	rows := make([][]float64, n)
	for i := range rows {
		rows[i] = make([]float64, nfeat)
		for j := range rows[i] {
			switch rng.IntN(5) {
			case 0:
				rows[i][j] = math.NaN()
			case 1:
				rows[i][j] = float64(rng.IntN(9)-4) / 2
			default:
				rows[i][j] = rng.NormFloat64() * 2
			}
		}
	}
	return rows
}

func TestCompiledMatchesMargin(t *testing.T) {
	for _, c := range []struct {
		name                   string
		trees, feats, maxDepth int
		rows                   int
	}{
		{"single-leaf-trees", 5, 3, 0, 10},
		{"stumps", 20, 4, 1, 33},
		{"deep-uneven", 50, 10, 8, 301},
		{"deeper-than-perfect", 10, 6, maxPerfectDepth + 3, 77},
		{"wide", 200, 40, 6, 130},
		{"no-trees", 0, 2, 0, 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := randomEnsemble(uint64(c.trees*100+c.maxDepth), c.trees, c.feats, c.maxDepth)
			comp, err := Compile(e)
			if err != nil {
				t.Fatal(err)
			}
			rows := randomRows(uint64(c.rows), c.rows, c.feats)
			out := make([]float64, len(rows))
			if err := comp.Margins(rows, out); err != nil {
				t.Fatal(err)
			}
			cols := make([][]float64, c.feats)
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
				if out[i] != want || outc[i] != want {
					t.Fatalf("row %d: compiled %v (columns %v), Margin %v", i, out[i], outc[i], want)
				}
			}
		})
	}
}

func TestCompiledErrors(t *testing.T) {
	e := randomEnsemble(1, 3, 4, 3)
	comp, err := Compile(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		run  func() error
		want string
	}{
		{"short-row", func() error {
			return comp.Margins([][]float64{make([]float64, 4), make([]float64, 2)}, make([]float64, 2))
		}, "row 1 has 2 features"},
		{"short-out", func() error { return comp.Margins([][]float64{make([]float64, 4)}, nil) }, "into 0 outputs"},
		{"few-columns", func() error { return comp.MarginsColumns(make([][]float64, 3), nil) }, "data has 3 features"},
		{"ragged-columns", func() error {
			return comp.MarginsColumns([][]float64{{1, 2}, {1}, {1, 2}, {1, 2}}, make([]float64, 2))
		}, "feature 1 has 1 rows"},
		{"invalid-tree", func() error {
			bad := randomEnsemble(2, 1, 4, 2)
			bad.Trees[0].Feature[0] = 9
			_, err := Compile(bad)
			return err
		}, "splits on feature 9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// FuzzCompiledMatchesMargin scores rows made from arbitrary bytes (any
// float64 bit pattern: NaNs, infinities, signed zeros, subnormals) with a
// fixed random ensemble and wants the compiled margin to equal Margin.
func FuzzCompiledMatchesMargin(f *testing.F) {
	const nfeat = 5
	e := randomEnsemble(3, 30, nfeat, 6)
	comp, err := Compile(e)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(make([]byte, 8*nfeat))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 0, 0, 0, 0, 0, 0xf0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var rows [][]float64
		for len(data) >= 8*nfeat {
			x := make([]float64, nfeat)
			for j := range x {
				x[j] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*j:]))
			}
			rows = append(rows, x)
			data = data[8*nfeat:]
		}
		out := make([]float64, len(rows))
		if err := comp.Margins(rows, out); err != nil {
			t.Fatal(err)
		}
		for i, x := range rows {
			if want := e.Margin(x); out[i] != want && !(math.IsNaN(want) && math.IsNaN(out[i])) {
				t.Fatalf("row %v: compiled %v, Margin %v", x, out[i], want)
			}
		}
	})
}

// BenchmarkCompiledMargins scores random rows with a random 200-tree,
// depth-6, 40-feature ensemble on one core.
func BenchmarkCompiledMargins(b *testing.B) {
	e := randomEnsemble(4, 200, 40, 6)
	comp, err := Compile(e)
	if err != nil {
		b.Fatal(err)
	}
	rows := randomRows(5, 100_000, 40)
	out := make([]float64, len(rows))
	b.ResetTimer()
	for range b.N {
		if err := comp.Margins(rows, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "rows/s")
}

func ExampleCompile() {
	e := &Ensemble{Base: 0.5, NumFeatures: 1, Trees: []Tree{{
		Left: []int32{1, -1, -1}, Right: []int32{2, -1, -1}, Feature: []int32{0, -1, -1},
		Threshold: []float64{10, 0, 0}, DefaultLeft: []bool{true, false, false},
		Value: []float64{0, -1, 1}, Cover: []float64{2, 1, 1}, Gain: []float64{3, 0, 0},
	}}}
	c, err := Compile(e)
	if err != nil {
		panic(err)
	}
	out := make([]float64, 3)
	if err := c.MarginsColumns([][]float64{{3, 12, math.NaN()}}, out); err != nil {
		panic(err)
	}
	fmt.Println(out)
	// Output: [-0.5 1.5 -0.5]
}
