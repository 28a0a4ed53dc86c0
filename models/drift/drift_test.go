package drift

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

func normal(r *rand.Rand, n int, mu float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = mu + r.NormFloat64()
	}
	return v
}

func TestPSISameDistributionIsSmallShiftIsLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ref := normal(r, 20000, 0)
	p, err := NewProfile(ref, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Edges) != 9 || math.Abs(p.Share[0]-0.1) > 0.01 {
		t.Fatalf("deciles wrong: %d edges, first share %v", len(p.Edges), p.Share[0])
	}
	same, _ := p.PSI(normal(r, 20000, 0))
	moved, _ := p.PSI(normal(r, 20000, 0.5))
	far, _ := p.PSI(normal(r, 20000, 2))
	if same > 0.01 || Level(same) != "stable" {
		t.Errorf("same distribution PSI %v", same)
	}
	if !(moved > 0.1 && far > 0.25 && far > moved) || Level(far) != "major shift" {
		t.Errorf("shifted PSI moved %v far %v", moved, far)
	}
}

func TestPSIKnownValue(t *testing.T) {
	// Two bins of 50/50 against 80/20: PSI = 0.3·ln(1.6) + (−0.3)·ln(0.4).
	p := &Profile{Edges: []float64{0.5}, Share: []float64{0.5, 0.5}}
	vals := []float64{0, 0, 0, 0, 0, 0, 0, 0, 1, 1}
	got, err := p.PSI(vals)
	want := 0.3*math.Log(1.6) - 0.3*math.Log(0.4)
	if err != nil || math.Abs(got-want) > 1e-12 {
		t.Errorf("PSI = %v, %v; want %v", got, err, want)
	}
}

func TestMissingAndDiscrete(t *testing.T) {
	vals := []float64{0, 0, 0, 1, 1, math.NaN(), math.NaN(), 2, 0, 0}
	p, err := NewProfile(vals, 10)
	if err != nil {
		t.Fatal(err)
	}
	if p.Missing != 0.2 || len(p.Edges) > 3 {
		t.Fatalf("profile %+v", p)
	}
	// Everything missing now: a large shift.
	psi, _ := p.PSI([]float64{math.NaN(), math.NaN()})
	if psi < 1 {
		t.Errorf("all-missing PSI %v", psi)
	}
}

func TestCompareOrdersAndNamesMissingProfile(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	a, _ := NewProfile(normal(r, 5000, 0), 10)
	b, _ := NewProfile(normal(r, 5000, 0), 10)
	shifts, err := Compare(map[string]*Profile{"a": a, "b": b},
		map[string][]float64{"a": normal(r, 5000, 0), "b": normal(r, 5000, 1)})
	if err != nil || shifts[0].Name != "b" {
		t.Fatalf("%v %v", shifts, err)
	}
	if _, err := Compare(map[string]*Profile{}, map[string][]float64{"zz": {1}}); err == nil || !strings.Contains(err.Error(), "zz") {
		t.Errorf("missing profile error %v", err)
	}
	if _, err := NewProfile(nil, 10); err == nil {
		t.Error("empty profile accepted")
	}
}

// TestEdgesAreSortedOrderStatistics checks the radix selection against
// sorting, on data with heavy ties, negative values, zeros of both signs,
// infinities, missing values and a spread of magnitudes.
func TestEdgesAreSortedOrderStatistics(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	gens := map[string]func() float64{
		"normal":   func() float64 { return r.NormFloat64() },
		"counts":   func() float64 { return float64(r.IntN(4)) },
		"signed0":  func() float64 { return []float64{0, math.Copysign(0, -1), 1, -1}[r.IntN(4)] },
		"heavy":    func() float64 { return math.Exp(10 * r.NormFloat64()) },
		"ties":     func() float64 { return 12.5 + float64(r.IntN(2))*1e-12 },
		"withinf":  func() float64 { return []float64{math.Inf(1), math.Inf(-1), r.Float64()}[r.IntN(3)] },
		"missing":  func() float64 { return []float64{math.NaN(), r.ExpFloat64()}[r.IntN(2)] },
		"constant": func() float64 { return -3 },
	}
	for name, gen := range gens {
		for _, n := range []int{1, 7, 300, 5000, 100_000} {
			for _, bins := range []int{2, 10, 37} {
				vals := make([]float64, n)
				for i := range vals {
					vals[i] = gen()
				}
				p, err := NewProfile(vals, bins)
				if err != nil {
					t.Fatal(err)
				}
				var present []float64
				for _, v := range vals {
					if !math.IsNaN(v) {
						present = append(present, v+0) // −0 + 0 = +0
					}
				}
				slices.Sort(present)
				var want []float64
				for q := 1; q < bins && len(present) > 0; q++ {
					if e := present[len(present)*q/bins]; len(want) == 0 || e > want[len(want)-1] {
						want = append(want, e)
					}
				}
				if !slices.Equal(p.Edges, want) {
					t.Fatalf("%s, n %d, %d bins: edges %v, want %v", name, n, bins, p.Edges, want)
				}
				for _, v := range present {
					if b, w := p.bin(v), sort.SearchFloat64s(p.Edges, v); b != w {
						t.Fatalf("%s: bin(%v) = %d, want %d", name, v, b, w)
					}
				}
			}
		}
	}
}
