package pu_test

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"caserisk/models/gbdt"
	"caserisk/models/logistic"
	"caserisk/models/metrics"
	"caserisk/models/pu"
)

// clusters draws n rows, a tenth of them positive, whose two informative
// features sit 4 standard deviations apart by class: the classes barely
// overlap, as Elkan and Noto's estimator of c assumes.
func clusters(n int, seed uint64) (cols [][]float64, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 4))
	cols = [][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}
	y = make([]float64, n)
	for i := range n {
		mu := -2.0
		if rng.Float64() < 0.1 {
			y[i], mu = 1, 2
		}
		cols[0][i], cols[1][i], cols[2][i] = mu+rng.NormFloat64(), mu+rng.NormFloat64(), rng.NormFloat64()
	}
	return cols, y
}

// population draws n rows of a known problem: two features that raise the
// chance of being positive and one that does not; sep sets how sharply.
func population(n int, seed uint64, sep float64) (cols [][]float64, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	cols = [][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}
	y = make([]float64, n)
	for i := range n {
		x1, x2, x3 := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		cols[0][i], cols[1][i], cols[2][i] = x1, x2, x3
		if rng.Float64() < sigmoid(sep*(x1+0.7*x2)-4) {
			y[i] = 1
		}
	}
	return cols, y
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

func fit(t *testing.T, cols [][]float64, y, w []float64) *logistic.Model {
	t.Helper()
	m, err := logistic.Fit(context.Background(), cols, y, w, logistic.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func probs(m *logistic.Model, cols [][]float64) []float64 {
	out := make([]float64, len(cols[0]))
	x := make([]float64, len(cols))
	for i := range out {
		for j := range cols {
			x[j] = cols[j][i]
		}
		out[i] = m.Prob(x)
	}
	return out
}

func subset(cols [][]float64, rows []int) [][]float64 {
	out := make([][]float64, len(cols))
	for j, c := range cols {
		out[j] = make([]float64, len(rows))
		for i, r := range rows {
			out[j][i] = c[r]
		}
	}
	return out
}

func pick(v []float64, rows []int) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = v[r]
	}
	return out
}

// fitTrees fits gradient-boosted trees and returns their probabilities on
// cols2: a classifier flexible enough to learn P(s = 1 | x), which levels
// off at c where every row is positive (a logistic curve cannot level off
// below 1, so a logistic g underestimates c).
func fitTrees(t *testing.T, cols [][]float64, y []float64, cols2 [][]float64) []float64 {
	t.Helper()
	p := gbdt.DefaultParams()
	p.Rounds, p.MaxDepth, p.LearningRate, p.Threads, p.TrainLoss = 100, 3, 0.1, 1, false
	res, err := gbdt.Train(context.Background(), cols, y, nil, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(cols2[0]))
	x := make([]float64, len(cols2))
	for i := range out {
		for j := range cols2 {
			x[j] = cols2[j][i]
		}
		out[i] = sigmoid(res.Ensemble.Margin(x))
	}
	return out
}

// TestEstimateCRecoversC labels a random share c of the positives of a
// problem whose classes do not overlap, fits the non-traditional classifier
// on half the rows, and estimates c on the other half's labelled positives.
func TestEstimateCRecoversC(t *testing.T) {
	for _, c := range []float64{0.15, 0.3, 0.6} {
		cols, y := clusters(40000, 11)
		rng := rand.New(rand.NewPCG(5, uint64(c*100)))
		s := make([]float64, len(y))
		for i := range y {
			if y[i] == 1 && rng.Float64() < c {
				s[i] = 1
			}
		}
		var a, b []int
		for i := range y {
			if i%2 == 0 {
				a = append(a, i)
			} else {
				b = append(b, i)
			}
		}
		est, err := pu.EstimateC(fitTrees(t, subset(cols, a), pick(s, a), subset(cols, b)), pick(s, b), 200, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("c = %v: estimated %.3f [%.3f, %.3f] from %d positives", c, est.C.Value, est.C.Lo, est.C.Hi, est.Positives)
		if math.Abs(est.C.Value-c) > 0.05 || !(est.C.Lo <= est.C.Value && est.C.Value <= est.C.Hi) || est.C.Hi-est.C.Lo > 0.1 {
			t.Errorf("c = %v: estimated %.3f [%.3f, %.3f] from %d positives", c, est.C.Value, est.C.Lo, est.C.Hi, est.Positives)
		}
	}
}

// TestPUBeatsInvestigatedOnly is the tenancy-fraud situation in small:
// positives are labelled at random (30% of them, as a confirmed
// investigation), while the negatives someone investigated are mostly
// those with strong evidence (a high x1). A model trained on investigated
// rows only learns that evidence clears people; PU learning over every row
// does not, and ranks the whole population better.
func TestPUBeatsInvestigatedOnly(t *testing.T) {
	cols, y := population(30000, 17, 2)
	rng := rand.New(rand.NewPCG(9, 9))
	label := make([]float64, len(y)) // 1 confirmed, 0 cleared, NaN not investigated
	for i := range y {
		label[i] = math.NaN()
		switch {
		case y[i] == 1 && rng.Float64() < 0.3:
			label[i] = 1
		case y[i] == 0 && rng.Float64() < 0.01+0.3*sigmoid(4*(cols[0][i]-1.5)):
			label[i] = 0
		}
	}
	// Train on the first two thirds, judge on the last third against the
	// true classes of every row.
	var tr, te []int
	for i := range y {
		if i%3 == 2 {
			te = append(te, i)
		} else {
			tr = append(tr, i)
		}
	}
	var inv []int
	for _, i := range tr {
		if !math.IsNaN(label[i]) {
			inv = append(inv, i)
		}
	}
	testCols, truth := subset(cols, te), pick(y, te)
	auc := func(scores []float64) float64 {
		a, err := metrics.ROCAUC(scores, truth, nil)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	naive := auc(probs(fit(t, subset(cols, inv), pick(label, inv), nil), testCols))

	// Non-traditional classifier on half the training rows, c on the other.
	s := pu.Labels(label)
	var trA, trB []int
	for k, i := range tr {
		if k%2 == 0 {
			trA = append(trA, i)
		} else {
			trB = append(trB, i)
		}
	}
	g := fit(t, subset(cols, trA), pick(s, trA), nil)
	est, err := pu.EstimateC(probs(g, subset(cols, trB)), pick(s, trB), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	gTest := probs(g, testCols)
	post := make([]float64, len(gTest))
	for i, v := range gTest {
		post[i] = pu.Posterior(v, est.C.Value)
	}
	nonTraditional := auc(post)
	// Weighting: every training row, unlabelled ones twice.
	gTrain := probs(g, subset(cols, tr))
	e, err := pu.Expand(pick(s, tr), gTrain, est.C.Value)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]int, len(e.Rows))
	for k, r := range e.Rows {
		rows[k] = tr[r]
	}
	weighted := auc(probs(fit(t, subset(cols, rows), e.Y, e.W), testCols))
	t.Logf("AUC over the whole population: investigated-only %.4f, PU non-traditional %.4f, PU weighted %.4f (c = %.3f from %d positives; true share labelled 0.3)",
		naive, nonTraditional, weighted, est.C.Value, est.Positives)
	if nonTraditional < naive+0.03 || weighted < naive+0.03 {
		t.Errorf("PU learning should rank the population clearly better than investigated-only training: %.4f and %.4f against %.4f", nonTraditional, weighted, naive)
	}
}

func TestWeightAndPosterior(t *testing.T) {
	tests := []struct{ g, c, w, post float64 }{
		{0, 0.3, 0, 0},
		{1, 0.3, 1, 1},
		{0.15, 0.3, (0.7 / 0.3) * (0.15 / 0.85), 0.5},
		{0.3, 0.3, 1, 1}, // g = c: certainly positive
		{0.5, 0.3, 1, 1},
		{0.1, 1, 0, 0.1}, // every positive labelled: an unlabelled row is negative
	}
	for _, tc := range tests {
		if w := pu.Weight(tc.g, tc.c); math.Abs(w-tc.w) > 1e-12 {
			t.Errorf("Weight(%v, %v) = %v, want %v", tc.g, tc.c, w, tc.w)
		}
		if p := pu.Posterior(tc.g, tc.c); math.Abs(p-tc.post) > 1e-12 {
			t.Errorf("Posterior(%v, %v) = %v, want %v", tc.g, tc.c, p, tc.post)
		}
	}
}

func TestExpand(t *testing.T) {
	s := []float64{1, 0, 0, 0}
	g := []float64{0.9, 0, 0.15, 1}
	e, err := pu.Expand(s, g, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	w := (0.7 / 0.3) * (0.15 / 0.85)
	want := []struct {
		row  int
		y, w float64
	}{{0, 1, 1}, {1, 0, 1}, {2, 1, w}, {2, 0, 1 - w}, {3, 1, 1}}
	if len(e.Rows) != len(want) {
		t.Fatalf("expanded to %d rows %v, want %d", len(e.Rows), e, len(want))
	}
	for k, r := range want {
		if e.Rows[k] != r.row || e.Y[k] != r.y || math.Abs(e.W[k]-r.w) > 1e-12 {
			t.Errorf("row %d: (%d, %v, %v), want (%d, %v, %v)", k, e.Rows[k], e.Y[k], e.W[k], r.row, r.y, r.w)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"no positive", func() error { _, err := pu.EstimateC([]float64{0.2, 0.3}, []float64{0, 0}, 0, 0); return err }, "no held-out row is a labelled positive"},
		{"length", func() error { _, err := pu.EstimateC([]float64{0.2}, []float64{0, 1}, 0, 0); return err }, "1 probabilities for 2 labels"},
		{"bad probability", func() error { _, err := pu.EstimateC([]float64{0.2, 1.5}, []float64{0, 1}, 0, 0); return err }, "probability 1 is 1.5"},
		{"bad label", func() error { _, err := pu.EstimateC([]float64{0.2, 0.5}, []float64{0, 2}, 0, 0); return err }, "label 1 is 2"},
		{"tiny c", func() error { _, err := pu.EstimateC([]float64{0.0001, 0.5}, []float64{1, 0}, 0, 0); return err }, "below 0.001"},
		{"expand c", func() error { _, err := pu.Expand([]float64{1}, []float64{0.5}, 0); return err }, "c = 0"},
		{"expand NaN", func() error { _, err := pu.Expand([]float64{0}, []float64{math.NaN()}, 0.5); return err }, "probability 0 is NaN"},
		{"expand label", func() error { _, err := pu.Expand([]float64{math.NaN()}, []float64{0.5}, 0.5); return err }, "label 0 is NaN"},
	}
	for _, tc := range tests {
		err := tc.err()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestLabels(t *testing.T) {
	got := pu.Labels([]float64{1, 0, math.NaN(), 1})
	want := []float64{1, 0, 0, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Labels = %v, want %v", got, want)
		}
	}
}
