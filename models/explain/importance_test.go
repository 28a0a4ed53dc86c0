package explain

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"caserisk/models/tree"
)

func TestLinear(t *testing.T) {
	l := &Linear{
		Mean: []float64{1, 2, 3, 0.2}, Scale: []float64{2, 1, 0.5, 0.4},
		Coef: []float64{0.5, -1, 2, 0.7}, Intercept: -0.3,
		Impute: []float64{1.5, 2, 2.5}, Indicators: []int{2},
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	margin := func(x []float64) float64 {
		z := []float64{x[0], x[1], x[2], 0}
		if math.IsNaN(x[2]) {
			z[2], z[3] = l.Impute[2], 1
		}
		m := l.Intercept
		for j := range z {
			m += l.Coef[j] * (z[j] - l.Mean[j]) / l.Scale[j]
		}
		return m
	}
	out := make([]float64, 4)
	for _, x := range [][]float64{{1, 2, 3}, {0, 5, math.NaN()}, {-2, 0.5, 10}} {
		l.Contributions(x, out)
		if d := math.Abs(sum(out) - margin(x)); d > 1e-12 {
			t.Fatalf("row %v: contributions sum to %g, margin %g", x, sum(out), margin(x))
		}
		if out[3] != l.Intercept {
			t.Fatalf("bias %g, want the intercept", out[3])
		}
	}
	l.Contributions([]float64{1, 2, math.NaN()}, out)
	if want := 2*(2.5-3)/0.5 + 0.7*(1-0.2)/0.4; math.Abs(out[2]-want) > 1e-15 {
		t.Fatalf("missing feature's contribution %g, want its imputed term plus its indicator's, %g", out[2], want)
	}

	bad := []struct {
		name string
		l    Linear
	}{
		{"lengths", Linear{Mean: []float64{0}, Scale: []float64{1, 1}, Coef: []float64{1, 1}}},
		{"zero scale", Linear{Mean: []float64{0}, Scale: []float64{0}, Coef: []float64{1}}},
		{"indicator out of range", Linear{Mean: []float64{0, 0}, Scale: []float64{1, 1}, Coef: []float64{1, 1}, Indicators: []int{1}}},
		{"impute length", Linear{Mean: []float64{0}, Scale: []float64{1}, Coef: []float64{1}, Impute: []float64{1, 2}}},
		{"NaN intercept", Linear{Mean: []float64{0}, Scale: []float64{1}, Coef: []float64{1}, Intercept: math.NaN()}},
	}
	for _, tc := range bad {
		if err := tc.l.Validate(); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestGlobalImportance(t *testing.T) {
	// Feature 1 drives every tree; feature 2 is never used.
	r := rand.New(rand.NewPCG(51, 8))
	e := tree.Ensemble{NumFeatures: 3}
	for range 5 {
		tr := randomTree(r, 1, 3, 0)
		for i := range tr.Feature {
			if tr.Feature[i] == 0 {
				tr.Feature[i] = 1
			}
		}
		e.Trees = append(e.Trees, tr)
	}
	e.Trees = append(e.Trees, randomTree(r, 1, 1, 0)) // a stump on feature 0
	n := 5000
	cols := make([][]float64, 3)
	for j := range cols {
		for range n {
			cols[j] = append(cols[j], r.NormFloat64())
		}
	}
	ex := TreeSHAP(&e)
	imp, err := GlobalImportance(context.Background(), ex, &e, []string{"a", "b", "c"}, cols)
	if err != nil {
		t.Fatal(err)
	}
	if imp[0].Feature != "b" || imp[2].Feature != "c" || imp[2].MeanAbsSHAP != 0 || imp[2].Gain != 0 {
		t.Fatalf("importance %+v", imp)
	}
	gain := TotalGain(&e)
	if gain[1] <= 0 || gain[0] != e.Trees[5].Gain[0] {
		t.Fatalf("gain %v", gain)
	}

	// The per-row path gives the same means as the batch path.
	want := make([]float64, 3)
	out := make([]float64, 4)
	for i := 0; i < n; i++ {
		ex.Contributions([]float64{cols[0][i], cols[1][i], cols[2][i]}, out)
		for j := range want {
			want[j] += math.Abs(out[j]) / float64(n)
		}
	}
	for _, im := range imp {
		j := int(im.Feature[0] - 'a')
		if math.Abs(im.MeanAbsSHAP-want[j]) > 1e-12 {
			t.Fatalf("%s: %g, want %g", im.Feature, im.MeanAbsSHAP, want[j])
		}
	}

	errs := []struct {
		name  string
		names []string
		cols  [][]float64
	}{
		{"names", []string{"a"}, cols},
		{"columns", []string{"a", "b", "c"}, cols[:2]},
		{"ragged", []string{"a", "b", "c"}, [][]float64{cols[0], cols[1][:10], cols[2]}},
	}
	for _, tc := range errs {
		if _, err := GlobalImportance(context.Background(), ex, &e, tc.names, tc.cols); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := MeanAbsSHAP(ctx, ex, cols); err == nil {
		t.Error("cancelled context: no error")
	}
}
