package metrics

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Fixed vectors with ties and a zero probability (so log-loss clipping
// matters); expected values computed once with scikit-learn 1.2.1.
var (
	fixedScores = []float64{0.3, 0.1, 0.2, 0.4, 0.4, 0.3, 0.8, 0.6, 0.1, 0.3, 0.8, 0.2, 0.4, 0.9, 0.6, 0.1, 0.3, 0.3, 0.5, 0.0, 0.1, 0.5, 0.0, 0.3}
	fixedLabels = []float64{1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0}
	fixedW      = []float64{0.74, 1.99, 1.19, 1.54, 0.58, 0.55, 1.77, 1.38, 0.96, 0.98, 0.63, 0.76, 0.54, 1.76, 1.2, 0.69, 1.61, 0.79, 0.59, 1.4, 1.84, 0.54, 1.71, 0.79}
)

func TestFixedVectorsMatchSklearn(t *testing.T) {
	tests := []struct {
		name    string
		fn      func(s, y, w []float64) (float64, error)
		weights []float64
		want    float64
	}{
		{"roc_auc_score", ROCAUC, nil, 0.9407407407407407},
		{"roc_auc_score weighted", ROCAUC, fixedW, 0.9725315984995903},
		{"average_precision_score", AveragePrecision, nil, 0.8910714285714285},
		{"average_precision_score weighted", AveragePrecision, fixedW, 0.9468720978562424},
		{"log_loss", LogLoss, nil, 0.38158654182215584},
		{"log_loss weighted", LogLoss, fixedW, 0.32519784409827823},
		{"brier_score_loss", Brier, nil, 0.11875000000000001},
		{"brier_score_loss weighted", Brier, fixedW, 0.09719939690915944},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.fn(fixedScores, fixedLabels, tc.weights)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("got %.17g, want %.17g", got, tc.want)
			}
		})
	}
}

func TestEvaluateMatchesStandaloneFunctions(t *testing.T) {
	rep, err := Evaluate(context.Background(), fixedScores, fixedLabels, Options{Bootstrap: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"auc", rep.ROCAUC.Value, 0.9407407407407407},
		{"ap", rep.AveragePrecision.Value, 0.8910714285714285},
		{"logloss", rep.LogLoss.Value, 0.38158654182215584},
		{"brier", rep.Brier.Value, 0.11875000000000001},
	} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s = %.17g, want %.17g", c.name, c.got, c.want)
		}
	}
	if !math.IsNaN(rep.ROCAUC.Lo) || !math.IsNaN(rep.ROCAUC.Hi) {
		t.Errorf("interval without bootstrap = [%v, %v], want NaN", rep.ROCAUC.Lo, rep.ROCAUC.Hi)
	}
}

// synthetic returns n probabilities loosely related to n labels, with ties
// when round is set.
func synthetic(n int, seed uint64, round bool) (scores, labels []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	scores, labels = make([]float64, n), make([]float64, n)
	for i := range n {
		if rng.Float64() < 0.1 {
			labels[i] = 1
		}
		z := -2.5 + 1.8*labels[i] + rng.NormFloat64()
		scores[i] = 1 / (1 + math.Exp(-z))
		if round {
			scores[i] = math.Round(scores[i]*50) / 50
		}
	}
	return scores, labels
}

func TestProperties(t *testing.T) {
	scores, labels := synthetic(2000, 3, true)
	auc, err := ROCAUC(scores, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	rev := make([]float64, len(scores))
	for i, s := range scores {
		rev[i] = 1 - s
	}
	aucRev, err := ROCAUC(rev, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(auc+aucRev-1) > 1e-12 {
		t.Errorf("AUC %v + AUC of reversed scores %v = %v, want 1", auc, aucRev, auc+aucRev)
	}
	// Perfect ranking: scores equal to labels.
	for _, fn := range []func(s, y, w []float64) (float64, error){ROCAUC, AveragePrecision} {
		got, err := fn(labels, labels, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got != 1 {
			t.Errorf("perfect ranking gives %v, want 1", got)
		}
	}
	// All scores tied: AUC one half, AP the prevalence.
	flat := make([]float64, len(scores))
	for i := range flat {
		flat[i] = 0.3
	}
	if got, _ := ROCAUC(flat, labels, nil); got != 0.5 {
		t.Errorf("AUC with all scores tied = %v, want 0.5", got)
	}
	var pos float64
	for _, y := range labels {
		pos += y
	}
	if got, _ := AveragePrecision(flat, labels, nil); math.Abs(got-pos/float64(len(labels))) > 1e-12 {
		t.Errorf("AP with all scores tied = %v, want prevalence %v", got, pos/float64(len(labels)))
	}
	// Integer weights equal repeating rows.
	w := make([]float64, len(scores))
	var rs, rl []float64
	for i := range w {
		w[i] = float64(i % 3)
		for range i % 3 {
			rs = append(rs, scores[i])
			rl = append(rl, labels[i])
		}
	}
	for name, fn := range map[string]func(s, y, w []float64) (float64, error){"auc": ROCAUC, "ap": AveragePrecision, "logloss": LogLoss, "brier": Brier} {
		a, err1 := fn(scores, labels, w)
		b, err2 := fn(rs, rl, nil)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if math.Abs(a-b) > 1e-12 {
			t.Errorf("%s: weighted %v, repeated rows %v", name, a, b)
		}
	}
}

func TestTopKAndThreshold(t *testing.T) {
	// Ranked: 0.9(1) 0.8(0) 0.8(1) 0.5(1) 0.5(0) 0.2(0); ties broken by index,
	// so the top 2 are rows 0 and 1 and the top 4 rows 0, 1, 3(?)... see table.
	scores := []float64{0.9, 0.8, 0.8, 0.5, 0.5, 0.2}
	labels := []float64{1, 0, 1, 1, 0, 0}
	rep, err := Evaluate(context.Background(), scores, labels, Options{Ks: []int{10, 2, 1, 3, 4}, Threshold: 0.5, Bootstrap: -1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		k              int
		prec, rec, thr float64
	}{
		{1, 1, 1.0 / 3, 0.9},
		{2, 0.5, 1.0 / 3, 0.8}, // index tie-break: row 1 (negative) before row 2
		{3, 2.0 / 3, 2.0 / 3, 0.8},
		{4, 3.0 / 4, 1, 0.5},
	}
	if len(rep.TopK) != len(tests) {
		t.Fatalf("got %d top-k entries, want %d", len(rep.TopK), len(tests))
	}
	for i, tc := range tests {
		got := rep.TopK[i]
		if got.K != tc.k || math.Abs(got.Precision.Value-tc.prec) > 1e-12 || math.Abs(got.Recall.Value-tc.rec) > 1e-12 || got.Threshold != tc.thr {
			t.Errorf("k=%d: got %+v, want precision %v recall %v threshold %v", tc.k, got, tc.prec, tc.rec, tc.thr)
		}
	}
	// A capacity beyond the sample is not reported: it would only restate
	// the base rate.
	if !slices.Equal(rep.KsNotShown, []int{10}) {
		t.Errorf("KsNotShown = %v, want [10]", rep.KsNotShown)
	}
	at := rep.AtThreshold
	if at.Flagged != 5 || math.Abs(at.Precision.Value-3.0/5) > 1e-12 || at.Recall.Value != 1 {
		t.Errorf("at threshold 0.5: got %+v, want 5 flagged, precision 0.6, recall 1", at)
	}
}

func TestECE(t *testing.T) {
	scores := []float64{0.05, 0.15, 0.15, 0.95, 0.95, 0.55}
	labels := []float64{0, 0, 1, 1, 1, 0}
	tests := []struct {
		binning string
		bins    int
		want    float64
	}{
		// Equal width, 10 bins: {0.05|0}, {0.15,0.15|0,1}, {0.55|0}, {0.95,0.95|1,1}
		// |0.05-0| + |0.3-1| + |0.55-0| + |1.9-2| = 0.05+0.7+0.55+0.1 = 1.4, /6.
		{EqualWidth, 10, 1.4 / 6},
		// Equal mass, 3 bins over ranked rows 0.95,0.95 | 0.55,0.15 | 0.15,0.05:
		// |1.9-2| + |0.7-0| + |0.2-1| = 0.1+0.7+0.8 = 1.6, /6.
		{EqualMass, 3, 1.6 / 6},
		// One bin: |sum p - sum y| / n = |2.8-3|/6.
		{EqualWidth, 1, 0.2 / 6},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.binning, tc.bins), func(t *testing.T) {
			rep, err := Evaluate(context.Background(), scores, labels, Options{ECEBins: tc.bins, ECEBinning: tc.binning, Bootstrap: -1})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(rep.ECE.Value-tc.want) > 1e-12 {
				t.Errorf("ECE = %v, want %v", rep.ECE.Value, tc.want)
			}
			total := 0
			for _, b := range rep.Reliability {
				total += b.Count
			}
			if total != len(scores) || len(rep.Reliability) != tc.bins {
				t.Errorf("reliability table has %d bins holding %d rows, want %d bins holding %d", len(rep.Reliability), total, tc.bins, len(scores))
			}
		})
	}
}

func TestBootstrapDeterministicAndCoversEstimate(t *testing.T) {
	scores, labels := synthetic(3000, 5, false)
	o := Options{Bootstrap: 100, Seed: 42, Ks: []int{50}}
	a, err := Evaluate(context.Background(), scores, labels, o)
	if err != nil {
		t.Fatal(err)
	}
	prev := runtime.GOMAXPROCS(1)
	b, err := Evaluate(context.Background(), scores, labels, o)
	runtime.GOMAXPROCS(prev)
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("same seed gave different reports on 1 and %d CPUs", prev)
	}
	o.Seed = 43
	c, err := Evaluate(context.Background(), scores, labels, o)
	if err != nil {
		t.Fatal(err)
	}
	if c.ROCAUC.Lo == a.ROCAUC.Lo && c.ROCAUC.Hi == a.ROCAUC.Hi {
		t.Errorf("different seeds gave the same AUC interval %v", a.ROCAUC)
	}
	for name, m := range map[string]Metric{"auc": a.ROCAUC, "ap": a.AveragePrecision, "logloss": a.LogLoss, "brier": a.Brier, "p@50": a.TopK[0].Precision} {
		if !(m.Lo <= m.Value && m.Value <= m.Hi && m.Lo < m.Hi) {
			t.Errorf("%s: interval [%v, %v] does not bracket %v", name, m.Lo, m.Hi, m.Value)
		}
	}
}

func TestEvaluateRejectsBadInput(t *testing.T) {
	ok := []float64{0.1, 0.9, 0.4}
	lab := []float64{0, 1, 0}
	tests := []struct {
		name           string
		scores, labels []float64
		o              Options
		want           string
	}{
		{"nan score", []float64{0.1, math.NaN(), 0.3}, lab, Options{}, "scores[1] is NaN"},
		{"score above 1", []float64{0.1, 0.2, 1.5}, lab, Options{}, "scores[2] = 1.5"},
		{"nan label", ok, []float64{0, math.NaN(), 1}, Options{}, "labels[1]"},
		{"label 2", ok, []float64{0, 2, 1}, Options{}, "labels[1] = 2"},
		{"length", ok, []float64{0, 1}, Options{}, "3 scores but 2 labels"},
		{"empty", nil, nil, Options{}, "empty"},
		{"one class", ok, []float64{1, 1, 1}, Options{}, "both classes"},
		{"bad k", ok, lab, Options{Ks: []int{5, 0}}, "Ks[1] = 0"},
		{"bad binning", ok, lab, Options{ECEBinning: "quantile"}, "ECEBinning"},
		{"bad threshold", ok, lab, Options{Threshold: 2}, "Threshold"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Evaluate(context.Background(), tc.scores, tc.labels, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestEvaluateCancelled(t *testing.T) {
	scores, labels := synthetic(1000, 1, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(ctx, scores, labels, Options{}); err == nil {
		t.Error("cancelled context: got no error")
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	rep, err := Evaluate(context.Background(), fixedScores, fixedLabels, Options{Bootstrap: -1, ECEBins: 20})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"lo":null`)) {
		t.Errorf("undefined interval not written as null: %.200s", b)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.ROCAUC.Value != rep.ROCAUC.Value || !math.IsNaN(back.ROCAUC.Lo) {
		t.Errorf("round trip: got %+v, want %+v", back.ROCAUC, rep.ROCAUC)
	}
}

func TestCurves(t *testing.T) {
	roc, err := ROCCurve(fixedScores, fixedLabels, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, last := roc[0], roc[len(roc)-1]
	if first.FPR != 0 || first.TPR != 0 || last.FPR != 1 || last.TPR != 1 || !(first.Threshold > 0.9) {
		t.Errorf("ROC curve runs from %+v to %+v, want (0,0) above the top score to (1,1)", first, last)
	}
	// Trapezoidal area under the curve equals the AUC.
	var area float64
	for i := 1; i < len(roc); i++ {
		area += (roc[i].FPR - roc[i-1].FPR) * (roc[i].TPR + roc[i-1].TPR) / 2
	}
	if math.Abs(area-0.9407407407407407) > 1e-12 {
		t.Errorf("area under ROC points = %v, want the AUC", area)
	}
	pr, err := PRCurve(fixedScores, fixedLabels, nil)
	if err != nil {
		t.Fatal(err)
	}
	// AP from the curve: Σ (R_n − R_{n−1}) P_n.
	var ap, prevR float64
	for _, p := range pr {
		ap += (p.Recall - prevR) * p.Precision
		prevR = p.Recall
	}
	if math.Abs(ap-0.8910714285714285) > 1e-12 {
		t.Errorf("AP from PR points = %v, want 0.8910714285714285", ap)
	}
	if got := thinROC(roc, 4); len(got) != 4 || got[0] != roc[0] || got[3] != roc[len(roc)-1] {
		t.Errorf("thinned ROC = %+v, want 4 points keeping both ends", got)
	}
}

func TestRankOrder(t *testing.T) {
	scores := []float64{0, -1.5, 3, math.Copysign(0, -1), 3, -1e300, 1e-300, 2}
	got := rankOrder(scores)
	want := []int32{2, 4, 7, 6, 0, 3, 1, 5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("rankOrder = %v, want %v", got, want)
		}
	}
}

// pythonWith returns Debian's python3 (or $CASERISK_PYTHON) if it can import
// the given modules, and skips the test otherwise.
func pythonWith(t testing.TB, modules ...string) string {
	t.Helper()
	py := os.Getenv("CASERISK_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	probe := "import " + strings.Join(modules, ", ")
	if out, err := exec.Command(py, "-c", probe).CombinedOutput(); err != nil {
		t.Skipf("%s cannot %q (install python3-sklearn): %v: %s", py, probe, err, bytes.TrimSpace(out))
	}
	return py
}

func TestLiveAgainstSklearn(t *testing.T) {
	py := pythonWith(t, "sklearn")
	for _, round := range []bool{false, true} {
		scores, labels := synthetic(5000, 9, round)
		rng := rand.New(rand.NewPCG(2, 2))
		w := make([]float64, len(scores))
		for i := range w {
			w[i] = 0.2 + 2*rng.Float64()
		}
		path := filepath.Join(t.TempDir(), "sample.csv")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		cw := csv.NewWriter(f)
		for i := range scores {
			cw.Write([]string{strconv.FormatFloat(scores[i], 'g', -1, 64), strconv.FormatFloat(labels[i], 'g', -1, 64), strconv.FormatFloat(w[i], 'g', -1, 64)})
		}
		cw.Flush()
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		script := `
import sys, numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score, log_loss, brier_score_loss
d = np.loadtxt(sys.argv[1], delimiter=",")
s, y, w = d[:, 0], d[:, 1], d[:, 2]
for f in (roc_auc_score, average_precision_score, log_loss, brier_score_loss):
    print(repr(f(y, s)), repr(f(y, s, sample_weight=w)))
`
		out, err := exec.Command(py, "-c", script, path).CombinedOutput()
		if err != nil {
			t.Fatalf("sklearn: %v: %s", err, out)
		}
		lines := strings.Fields(string(out))
		fns := []func(s, y, w []float64) (float64, error){ROCAUC, AveragePrecision, LogLoss, Brier}
		names := []string{"roc_auc", "average_precision", "log_loss", "brier"}
		for i, fn := range fns {
			for j, weights := range [][]float64{nil, w} {
				want, _ := strconv.ParseFloat(lines[2*i+j], 64)
				got, err := fn(scores, labels, weights)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(got-want) > 1e-10*math.Max(1, math.Abs(want)) {
					t.Errorf("ties=%v %s weighted=%v: got %.15g, sklearn %.15g", round, names[i], j == 1, got, want)
				}
			}
		}
	}
}

func FuzzEvaluate(f *testing.F) {
	f.Add([]byte{10, 200, 30, 255, 0, 128}, uint8(3), uint64(1))
	f.Add([]byte{1, 1, 1, 1}, uint8(1), uint64(7))
	f.Fuzz(func(t *testing.T, data []byte, k uint8, seed uint64) {
		n := len(data) / 2
		scores, labels := make([]float64, n), make([]float64, n)
		nanAt := -1
		for i := range n {
			scores[i] = float64(data[2*i]) / 255
			labels[i] = float64(data[2*i+1] & 1)
			if data[2*i+1] == 0xff && nanAt < 0 {
				scores[i], nanAt = math.NaN(), i
			}
		}
		binning := EqualWidth
		if k%2 == 1 {
			binning = EqualMass
		}
		rep, err := Evaluate(context.Background(), scores, labels, Options{Ks: []int{int(k) + 1}, Bootstrap: 5, Seed: seed, ECEBins: int(k%7) + 1, ECEBinning: binning})
		if nanAt >= 0 {
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("scores[%d] is NaN", nanAt)) {
				t.Fatalf("NaN at %d: error %v", nanAt, err)
			}
			return
		}
		if err != nil {
			return // one class or empty: reported, not panicked
		}
		ms := []Metric{rep.ROCAUC, rep.AveragePrecision, rep.Brier, rep.ECE}
		switch {
		case int(k)+1 <= n && len(rep.TopK) == 1:
			ms = append(ms, rep.TopK[0].Precision, rep.TopK[0].Recall)
		case int(k)+1 > n && len(rep.TopK) == 0 && len(rep.KsNotShown) == 1:
		default:
			t.Fatalf("k=%d on %d rows: top k %+v, not shown %v", k+1, n, rep.TopK, rep.KsNotShown)
		}
		for _, m := range ms {
			if m.Value < 0 || m.Value > 1 || math.IsNaN(m.Value) {
				t.Fatalf("metric %v outside [0, 1]", m)
			}
		}
		if _, err := json.Marshal(rep); err != nil {
			t.Fatalf("report does not marshal: %v", err)
		}
	})
}

func TestReplicatePassDoesNotAllocate(t *testing.T) {
	scores, labels := synthetic(5000, 2, true)
	o, err := Options{ECEBinning: EqualMass}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	ev := newEvaluator(scores, labels, nil, config{ks: o.Ks, threshold: o.Threshold, eceBins: o.ECEBins, equalMass: true}, true)
	v := ev.newValues()
	counts := make([]uint16, len(scores))
	for i := range counts {
		counts[i] = uint16(i % 3)
	}
	if allocs := testing.AllocsPerRun(20, func() { ev.passCounts(counts, v) }); allocs != 0 {
		t.Errorf("one bootstrap replicate pass allocates %v times, want 0", allocs)
	}
}

func TestCheckLabels(t *testing.T) {
	tests := []struct {
		rows, pos int
		tooFew    bool
		why       []string
	}{
		{1000, 300, false, nil},
		{200, 50, false, nil},
		{22, 9, true, []string{"22 labelled rows (at least 200 needed)", "9 positives (at least 50 needed)", "13 negatives (at least 50 needed)"}},
		{600, 40, true, []string{"40 positives (at least 50 needed)"}},
		{600, 580, true, []string{"20 negatives"}},
		{199, 100, true, []string{"199 labelled rows"}},
		{30, 1, true, []string{"1 positive (at least 50 needed)", "29 negatives"}},
	}
	for _, tc := range tests {
		c := CheckLabels(tc.rows, tc.pos)
		if c.TooFewLabels != tc.tooFew || c.MinRows != MinLabelledRows || c.MinPositives != MinPositives || c.MinNegatives != MinNegatives {
			t.Errorf("CheckLabels(%d, %d) = %+v, want too few %v", tc.rows, tc.pos, c, tc.tooFew)
		}
		for _, w := range tc.why {
			if !strings.Contains(c.Why, w) {
				t.Errorf("CheckLabels(%d, %d).Why = %q, want it to name %q", tc.rows, tc.pos, c.Why, w)
			}
		}
		if !tc.tooFew && c.Why != "" {
			t.Errorf("CheckLabels(%d, %d).Why = %q, want empty", tc.rows, tc.pos, c.Why)
		}
	}
	// Evaluate carries the check in its report.
	scores, labels := synthetic(150, 3, true)
	rep, err := Evaluate(context.Background(), scores, labels, Options{Bootstrap: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Labels.TooFewLabels || rep.Labels.Rows != 150 || rep.Labels.Positives != rep.Positives {
		t.Errorf("report of 150 rows: labels %+v", rep.Labels)
	}
	if len(rep.TopK) != 1 || rep.TopK[0].K != 100 || !slices.Equal(rep.KsNotShown, []int{200, 500}) {
		t.Errorf("150 rows with the default capacities: top k %v, not shown %v; want only k = 100 shown", rep.TopK, rep.KsNotShown)
	}
}
