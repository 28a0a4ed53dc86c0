package gbdt

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// smallParams are quick settings for tests.
func smallParams() Params {
	p := DefaultParams()
	p.Rounds = 30
	p.MaxDepth = 4
	p.LearningRate = 0.3
	return p
}

// TestBinnedPathMatchesRawThresholds checks that the margins tracked on the
// binned data during training equal, bit for bit, the margins that the
// returned trees give on the raw values, for every training and validation
// row, under both growth policies and with missing values, sampling and
// monotone constraints.
func TestBinnedPathMatchesRawThresholds(t *testing.T) {
	cols, y := synth(3000, 6, 0.15, 1)
	vcols, vy := synth(1000, 6, 0.15, 2)
	for _, c := range []struct {
		name string
		edit func(*Params)
	}{
		{"depthwise", func(p *Params) {}},
		{"lossguide", func(p *Params) { p.Growth, p.MaxDepth, p.MaxLeaves = GrowthLossguide, 0, 12 }},
		{"sampled", func(p *Params) { p.Subsample, p.Colsample = 0.7, 0.5 }},
		{"monotone-l1", func(p *Params) { p.Monotone = []int8{1, 0, -1, 0, 0, 0}; p.Alpha = 0.5 }},
		{"few-bins", func(p *Params) { p.MaxBin = 8 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := smallParams()
			c.edit(&p)
			res, m, err := train(context.Background(), cols, y, nil, &Validation{Cols: vcols, Y: vy}, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := res.Ensemble.Validate(); err != nil {
				t.Fatal(err)
			}
			for i := range y {
				if got := res.Ensemble.Margin(rowOf(cols, i)); got != m.train[i] {
					t.Fatalf("training row %d: raw-threshold margin %v, binned margin %v", i, got, m.train[i])
				}
			}
			for i := range vy {
				if got := res.Ensemble.Margin(rowOf(vcols, i)); got != m.valid[i] {
					t.Fatalf("validation row %d: raw-threshold margin %v, binned margin %v", i, got, m.valid[i])
				}
			}
		})
	}
}

// TestTrainMarginsAndProgress checks that Result.TrainMargins are the
// ensemble's margins of the training rows, bit for bit, that they are left
// out when early stopping dropped trees, and that Progress sees every round
// with its validation loss.
func TestTrainMarginsAndProgress(t *testing.T) {
	cols, y := synth(3000, 6, 0.15, 1)
	vcols, vy := synth(1000, 6, 0.15, 2)
	p := smallParams()
	var seen []RoundMetrics
	p.Progress = func(m RoundMetrics) { seen = append(seen, m) }
	res, err := Train(context.Background(), cols, y, nil, &Validation{Cols: vcols, Y: vy}, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.TrainMargins) != len(y) {
		t.Fatalf("%d training margins for %d rows", len(res.TrainMargins), len(y))
	}
	for i := range y {
		if got := res.Ensemble.Margin(rowOf(cols, i)); got != res.TrainMargins[i] {
			t.Fatalf("row %d: ensemble margin %v, TrainMargins %v", i, got, res.TrainMargins[i])
		}
	}
	if len(seen) != p.Rounds {
		t.Fatalf("progress saw %d rounds of %d", len(seen), p.Rounds)
	}
	for r, m := range seen {
		if m.Round != r || m.ValidLogLoss != res.History[r].ValidLogLoss || !(m.ValidLogLoss > 0) {
			t.Fatalf("progress round %d: %+v, history %+v", r, m, res.History[r])
		}
	}

	// Overfit on purpose so that early stopping drops trees.
	p.Progress, p.Rounds, p.LearningRate, p.MaxDepth, p.MinChildWeight, p.EarlyStoppingRounds = nil, 60, 1, 8, 0, 3
	res, err = Train(context.Background(), cols, y, nil, &Validation{Cols: vcols, Y: vy}, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Ensemble.Trees) == len(res.History) {
		t.Fatalf("early stopping kept all %d trees; the test needs it to drop some", len(res.History))
	}
	if res.TrainMargins != nil {
		t.Errorf("TrainMargins set although trees after round %d were dropped", res.BestRound)
	}
}

// TestTreesCarryCoverAndGain checks the bookkeeping of every node: covers
// add up from children to parents, splits have positive gain, and the
// learning rate scales the leaves.
func TestTreesCarryCoverAndGain(t *testing.T) {
	cols, y := synth(2000, 5, 0.1, 3)
	res, err := Train(context.Background(), cols, y, nil, nil, smallParams())
	if err != nil {
		t.Fatal(err)
	}
	var gain float64
	for k, tr := range res.Ensemble.Trees {
		for i := range tr.Left {
			if tr.IsLeaf(i) {
				if tr.Gain[i] != 0 {
					t.Errorf("tree %d leaf %d has gain %v", k, i, tr.Gain[i])
				}
				continue
			}
			l, r := tr.Left[i], tr.Right[i]
			if sum := tr.Cover[l] + tr.Cover[r]; math.Abs(sum-tr.Cover[i]) > 1e-9*tr.Cover[i] {
				t.Errorf("tree %d node %d: cover %v, children sum %v", k, i, tr.Cover[i], sum)
			}
			if !(tr.Gain[i] > 0) {
				t.Errorf("tree %d node %d: gain %v", k, i, tr.Gain[i])
			}
			gain += tr.Gain[i]
		}
		if tr.Cover[0] <= 0 {
			t.Errorf("tree %d root cover %v", k, tr.Cover[0])
		}
	}
	var total float64
	for _, g := range res.Gain {
		total += g
	}
	if math.Abs(total-gain) > 1e-9*gain {
		t.Errorf("feature gains sum to %v, node gains to %v", total, gain)
	}
	if res.Gain[4] >= res.Gain[0] {
		t.Errorf("noise feature 4 has gain %v >= signal feature 0's %v", res.Gain[4], res.Gain[0])
	}
}

// TestMissingValuesLearnDirection trains a stump where missing values go
// with one class and checks the default direction and the prediction.
func TestMissingValuesLearnDirection(t *testing.T) {
	for _, c := range []struct {
		name      string
		missLabel float64
		wantLeft  bool
	}{
		{"missing-like-high", 1, false},
		{"missing-like-low", 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := 2000
			x := make([]float64, n)
			y := make([]float64, n)
			for i := range n {
				x[i] = float64(i%100) / 100
				if x[i] >= 0.7 {
					y[i] = 1
				}
				if i%5 == 0 {
					x[i], y[i] = math.NaN(), c.missLabel
				}
			}
			p := DefaultParams()
			p.Rounds, p.MaxDepth = 1, 1
			res, err := Train(context.Background(), [][]float64{x}, y, nil, nil, p)
			if err != nil {
				t.Fatal(err)
			}
			tr := res.Ensemble.Trees[0]
			if tr.Len() != 3 {
				t.Fatalf("want a stump, got %d nodes", tr.Len())
			}
			if th := tr.Threshold[0]; th <= 0.69 || th > 0.7 {
				t.Errorf("threshold %v, want in (0.69, 0.7]", th)
			}
			if tr.DefaultLeft[0] != c.wantLeft {
				t.Errorf("default left = %v, want %v", tr.DefaultLeft[0], c.wantLeft)
			}
			like := 0.9
			if c.missLabel == 0 {
				like = 0.1
			}
			if a, b := res.Ensemble.Margin([]float64{math.NaN()}), res.Ensemble.Margin([]float64{like}); a != b {
				t.Errorf("missing value scores %v, a value like its class scores %v", a, b)
			}
		})
	}
}

// TestMonotoneConstraints checks that constrained features move the score
// only in the allowed direction, on a problem whose true effect of feature
// 0 is not monotone (so the unconstrained model is not).
func TestMonotoneConstraints(t *testing.T) {
	cols, y := synth(4000, 4, 0, 5)
	// Make feature 0's effect a wave: unconstrained trees follow it.
	for i := range y {
		y[i] = 0
		if math.Sin(3*cols[0][i])+0.5*cols[1][i] > 0 {
			y[i] = 1
		}
	}
	grid := make([]float64, 81)
	for k := range grid {
		grid[k] = -2 + float64(k)*0.05
	}
	violations := func(res *Result, f int, dir float64) int {
		bad := 0
		for i := 0; i < 200; i++ {
			x := rowOf(cols, i)
			prev := math.Inf(-int(dir))
			for _, v := range grid {
				x[f] = v
				m := res.Ensemble.Margin(x)
				if dir*(m-prev) < -1e-12 {
					bad++
				}
				prev = m
			}
		}
		return bad
	}
	p := smallParams()
	free, err := Train(context.Background(), cols, y, nil, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if violations(free, 0, 1) == 0 {
		t.Fatal("the unconstrained model is already monotone in feature 0; the test proves nothing")
	}
	for _, g := range []string{GrowthDepthwise, GrowthLossguide} {
		p := smallParams()
		p.Growth, p.MaxLeaves = g, 16
		p.Monotone = []int8{1, -1, 0, 0}
		res, err := Train(context.Background(), cols, y, nil, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		if v := violations(res, 0, 1); v != 0 {
			t.Errorf("%s: %d decreases along feature 0 (constraint +1)", g, v)
		}
		if v := violations(res, 1, -1); v != 0 {
			t.Errorf("%s: %d increases along feature 1 (constraint -1)", g, v)
		}
	}
}

// TestEarlyStopping overfits a noisy problem and checks that training
// stops, keeps the best round's trees and reports it.
func TestEarlyStopping(t *testing.T) {
	cols, y := synth(1500, 8, 0.1, 7)
	vcols, vy := synth(1500, 8, 0.1, 8)
	p := DefaultParams()
	p.Rounds, p.MaxDepth, p.LearningRate, p.EarlyStoppingRounds = 300, 8, 0.5, 5
	res, err := Train(context.Background(), cols, y, nil, &Validation{Cols: vcols, Y: vy}, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.History) == p.Rounds {
		t.Fatalf("ran all %d rounds", p.Rounds)
	}
	if len(res.History) != res.BestRound+1+p.EarlyStoppingRounds {
		t.Errorf("ran %d rounds, best %d, patience %d", len(res.History), res.BestRound, p.EarlyStoppingRounds)
	}
	if len(res.Ensemble.Trees) != res.BestRound+1 {
		t.Errorf("kept %d trees, best round %d", len(res.Ensemble.Trees), res.BestRound)
	}
	for _, h := range res.History {
		if h.ValidLogLoss < res.History[res.BestRound].ValidLogLoss {
			t.Errorf("round %d has validation loss %v below the best round's %v", h.Round, h.ValidLogLoss, res.History[res.BestRound].ValidLogLoss)
		}
		if h.TrainLogLoss <= 0 {
			t.Errorf("round %d: train loss %v", h.Round, h.TrainLogLoss)
		}
	}
	if first, last := res.History[0].TrainLogLoss, res.History[len(res.History)-1].TrainLogLoss; last >= first {
		t.Errorf("training loss did not fall: %v -> %v", first, last)
	}
}

// TestDeterministicAcrossThreads trains with 1, 2 and 3 threads and with
// sampling on, and wants identical models; another seed must differ.
func TestDeterministicAcrossThreads(t *testing.T) {
	// Enough rows for several histogram and partition blocks.
	cols, y := synth(40000, 5, 0.1, 9)
	p := smallParams()
	p.Rounds, p.Subsample, p.Colsample, p.Seed = 8, 0.8, 0.6, 42
	var first *Result
	for _, threads := range []int{1, 2, 3} {
		p.Threads = threads
		res, err := Train(context.Background(), cols, y, nil, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res
			continue
		}
		if !reflect.DeepEqual(first, res) {
			t.Errorf("%d threads give a different model than 1 thread", threads)
		}
	}
	p.Seed = 43
	other, err := Train(context.Background(), cols, y, nil, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(first.Ensemble, other.Ensemble) {
		t.Error("seeds 42 and 43 give the same model despite sampling")
	}
}

// TestUnitWeightsEqualNoWeights checks that explicit weights of 1 change
// nothing and that ScalePosWeight moves the base margin.
func TestUnitWeightsEqualNoWeights(t *testing.T) {
	cols, y := synth(2000, 4, 0.1, 10)
	w := make([]float64, len(y))
	for i := range w {
		w[i] = 1
	}
	p := smallParams()
	a, err := Train(context.Background(), cols, y, nil, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(context.Background(), cols, y, w, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("unit weights give a different model than no weights")
	}
	p.ScalePosWeight = 3
	c, err := Train(context.Background(), cols, y, nil, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	var pos float64
	for _, v := range y {
		pos += v
	}
	rate := 3 * pos / (3*pos + float64(len(y)) - pos)
	if want := math.Log(rate / (1 - rate)); math.Abs(c.Ensemble.Base-want) > 1e-12 {
		t.Errorf("base margin with ScalePosWeight 3: %v, want %v", c.Ensemble.Base, want)
	}
}

// TestQualityOnKnownSignal wants a test AUC close to that of the true
// logit on a problem with a linear term, a step and an interaction.
func TestQualityOnKnownSignal(t *testing.T) {
	cols, y := synth(6000, 8, 0.1, 11)
	tcols, ty := synth(4000, 8, 0.1, 12)
	truth := make([]float64, len(ty))
	for i := range truth {
		z := 1.5*tcols[0][i] - 2.0 + tcols[2][i]*tcols[3][i]
		if v := tcols[1][i]; math.IsNaN(v) {
			z++
		} else if v > 0.5 {
			z += 1.5
		}
		truth[i] = z
	}
	p := DefaultParams()
	p.Rounds, p.MaxDepth, p.LearningRate = 150, 3, 0.1
	for _, g := range []string{GrowthDepthwise, GrowthLossguide} {
		if g == GrowthLossguide {
			p.Growth, p.MaxDepth, p.MaxLeaves = g, 0, 8
		}
		res, err := Train(context.Background(), cols, y, nil, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		m := make([]float64, len(ty))
		for i := range m {
			m[i] = res.Ensemble.Margin(rowOf(tcols, i))
		}
		got, best := auc(ty, m), auc(ty, truth)
		t.Logf("%s: test AUC %.4f, true logit %.4f", g, got, best)
		if got < best-0.03 {
			t.Errorf("%s: test AUC %.4f, more than 0.03 below the true logit's %.4f", g, got, best)
		}
	}
}

// TestLossguideRespectsMaxLeaves checks the leaf budget of leaf-wise trees.
func TestLossguideRespectsMaxLeaves(t *testing.T) {
	cols, y := synth(3000, 6, 0.1, 13)
	for _, leaves := range []int{2, 5, 13} {
		p := smallParams()
		p.Growth, p.MaxDepth, p.MaxLeaves = GrowthLossguide, 0, leaves
		res, err := Train(context.Background(), cols, y, nil, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		for k, tr := range res.Ensemble.Trees {
			n := 0
			for i := range tr.Left {
				if tr.IsLeaf(i) {
					n++
				}
			}
			if n > leaves {
				t.Errorf("MaxLeaves %d: tree %d has %d leaves", leaves, k, n)
			}
		}
	}
}

// TestInvalidInput checks that bad parameters and data are refused with a
// message that says where and why.
func TestInvalidInput(t *testing.T) {
	cols, y := synth(200, 3, 0, 14)
	inf := [][]float64{cols[0], append([]float64(nil), cols[1]...), cols[2]}
	inf[1][17] = math.Inf(1)
	badY := append([]float64(nil), y...)
	badY[5] = 2
	oneClass := make([]float64, len(y))
	negW := make([]float64, len(y))
	negW[9] = -1
	for _, c := range []struct {
		name  string
		cols  [][]float64
		y, w  []float64
		valid *Validation
		edit  func(*Params)
		want  string
	}{
		{"rounds", cols, y, nil, nil, func(p *Params) { p.Rounds = 0 }, "Rounds is 0"},
		{"eta", cols, y, nil, nil, func(p *Params) { p.LearningRate = 0 }, "LearningRate is 0"},
		{"eta-nan", cols, y, nil, nil, func(p *Params) { p.LearningRate = math.NaN() }, "LearningRate is NaN"},
		{"maxbin", cols, y, nil, nil, func(p *Params) { p.MaxBin = 300 }, "MaxBin is 300"},
		{"lambda", cols, y, nil, nil, func(p *Params) { p.Lambda = -1 }, "Lambda is -1"},
		{"subsample", cols, y, nil, nil, func(p *Params) { p.Subsample = 1.5 }, "Subsample is 1.5"},
		{"growth", cols, y, nil, nil, func(p *Params) { p.Growth = "wide" }, `Growth is "wide"`},
		{"depthwise-depth", cols, y, nil, nil, func(p *Params) { p.MaxDepth = 0 }, "needs MaxDepth"},
		{"lossguide-limits", cols, y, nil, nil, func(p *Params) { p.Growth, p.MaxDepth = GrowthLossguide, 0 }, "needs MaxLeaves or MaxDepth"},
		{"monotone-len", cols, y, nil, nil, func(p *Params) { p.Monotone = []int8{1} }, "Monotone has 1 entries for 3 features"},
		{"monotone-val", cols, y, nil, nil, func(p *Params) { p.Monotone = []int8{0, 2, 0} }, "Monotone[1] is 2"},
		{"es-no-valid", cols, y, nil, nil, func(p *Params) { p.EarlyStoppingRounds = 3 }, "no validation set"},
		{"no-features", nil, y, nil, nil, nil, "no features"},
		{"ragged", [][]float64{cols[0][:10], cols[1]}, y, nil, nil, nil, "feature 0 has 10 rows"},
		{"inf", inf, y, nil, nil, nil, "feature 1, row 17 is +Inf"},
		{"label", cols, badY, nil, nil, nil, "label of row 5 is 2"},
		{"one-class", cols, oneClass, nil, nil, nil, "need both classes"},
		{"weight", cols, y, negW, nil, nil, "weight of row 9 is -1"},
		{"weights-len", cols, y, negW[:3], nil, nil, "3 weights for 200 rows"},
		{"valid-width", cols, y, nil, &Validation{Cols: cols[:2], Y: y}, nil, "validation data has 2 features"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := smallParams()
			if c.edit != nil {
				c.edit(&p)
			}
			_, err := Train(context.Background(), c.cols, c.y, c.w, c.valid, p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestCancellation stops training through the context.
func TestCancellation(t *testing.T) {
	cols, y := synth(2000, 4, 0, 15)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Train(ctx, cols, y, nil, nil, smallParams())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// TestAgainstXGBoost trains XGBoost 1.7 and caserisk with the same settings
// on a small problem with missing values and compares their test AUCs.
func TestAgainstXGBoost(t *testing.T) {
	if why := havePython(); why != "" {
		t.Skip(why)
	}
	const ntr, nte, d = 6000, 4000, 8
	cols, y := synth(ntr+nte, d, 0.1, 16)
	dir := t.TempDir()
	if err := writeRowMajor(filepath.Join(dir, "X.f64"), cols); err != nil {
		t.Fatal(err)
	}
	if err := writeF64(filepath.Join(dir, "y.f64"), y); err != nil {
		t.Fatal(err)
	}
	xr, err := runXGBoost(dir, d, ntr, 100, 4, 0.1, 256, 1)
	if err != nil {
		t.Fatal(err)
	}
	trCols := make([][]float64, d)
	for j := range trCols {
		trCols[j] = cols[j][:ntr]
	}
	p := DefaultParams()
	p.Rounds, p.MaxDepth, p.LearningRate = 100, 4, 0.1
	res, err := Train(context.Background(), trCols, y[:ntr], nil, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	m := make([]float64, nte)
	for i := range m {
		m[i] = res.Ensemble.Margin(rowOf(cols, ntr+i))
	}
	ours, theirs := auc(y[ntr:], m), auc(y[ntr:], xr.Margins)
	t.Logf("test AUC: caserisk %.4f, xgboost %.4f", ours, theirs)
	if ours < theirs-0.01 {
		t.Errorf("test AUC %.4f is more than 0.01 below XGBoost's %.4f", ours, theirs)
	}
	_ = os.Remove(filepath.Join(dir, "X.f64"))
}
