package explain_test

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"caserisk/models/artifact"
	"caserisk/models/explain"
	"caserisk/models/tree"
)

// benchPython is Debian's interpreter, which has python3-xgboost.
const benchPython = "/usr/bin/python3"

// benchScript trains a 200-tree depth-6 binary:logistic model on 40
// make_classification features with 5% missing values, saves it, writes
// 10,000 float32 test rows and XGBoost's pred_contribs for them, and prints
// the median over five runs of pred_contribs' time per row at nthread 2.
const benchScript = `
import sys, time, numpy as np, xgboost as xgb
from sklearn.datasets import make_classification
out = sys.argv[1]
X, y = make_classification(n_samples=20000, n_features=40, n_informative=20, random_state=0)
X = X.astype(np.float32)
X[np.random.default_rng(1).random(X.shape) < 0.05] = np.nan
b = xgb.train({"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "nthread": 2,
               "tree_method": "hist", "seed": 0}, xgb.DMatrix(X[:10000], label=y[:10000]), 200)
b.save_model(out + "/m.json")
rows = np.ascontiguousarray(X[10000:])
rows.tofile(out + "/rows.f32")
b.set_param({"nthread": 2})
d = xgb.DMatrix(rows)
times = []
for _ in range(5):
    t = time.perf_counter()
    c = b.predict(d, pred_contribs=True)
    times.append(time.perf_counter() - t)
c.astype(np.float32).tofile(out + "/contribs.f32")
print(np.median(times) * 1000 / len(rows))
`

// readF32 reads a little-endian float32 file as float64s.
func readF32(b *testing.B, path string) []float64 {
	b.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]float64, len(raw)/4)
	for i := range out {
		out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
	}
	return out
}

// medianMs times f five times and returns the median in milliseconds.
func medianMs(b *testing.B, f func() error) float64 {
	b.Helper()
	var ms []float64
	for range 5 {
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		ms = append(ms, float64(time.Since(start).Nanoseconds())/1e6)
	}
	slices.Sort(ms)
	return ms[len(ms)/2]
}

// BenchmarkTreeSHAPVsXGBoost times caserisk's TreeSHAP against XGBoost's
// pred_contribs on the same 200-tree depth-6 40-feature model and the same
// 10,000 rows, and checks local accuracy and agreement with XGBoost.
func BenchmarkTreeSHAPVsXGBoost(b *testing.B) {
	if err := exec.Command(benchPython, "-c", "import xgboost, sklearn").Run(); err != nil {
		b.Skipf("python3-xgboost not installed (%s -c 'import xgboost, sklearn': %v); BenchmarkTreeSHAPSynthetic still runs", benchPython, err)
	}
	dir := b.TempDir()
	out, err := exec.Command(benchPython, "-c", benchScript, dir).Output()
	if err != nil {
		b.Fatalf("xgboost: %v", err)
	}
	xgbMs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatalf("xgboost timing %q: %v", out, err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "m.json"))
	if err != nil {
		b.Fatal(err)
	}
	m, err := artifact.ReadXGBoostJSON(data, "m.json")
	if err != nil {
		b.Fatal(err)
	}
	e := m.Ensemble
	X := readF32(b, filepath.Join(dir, "rows.f32"))
	want := readF32(b, filepath.Join(dir, "contribs.f32"))
	nf := e.NumFeatures
	n := len(X) / nf
	start := time.Now()
	ex := explain.TreeSHAP(e)
	compileMs := float64(time.Since(start).Nanoseconds()) / 1e6
	phi := make([]float64, n*(nf+1))
	ms := medianMs(b, func() error { return ex.ContributionsBatch(context.Background(), X, phi) })

	worstLocal, worstXGB := 0.0, 0.0
	for i := 0; i < n; i++ {
		row := phi[i*(nf+1) : (i+1)*(nf+1)]
		s := 0.0
		for j, v := range row {
			s += v
			worstXGB = max(worstXGB, math.Abs(v-want[i*(nf+1)+j]))
		}
		worstLocal = max(worstLocal, math.Abs(s-e.Margin(X[i*nf:(i+1)*nf])))
	}
	if worstLocal > 1e-9 {
		b.Errorf("local accuracy: contributions differ from the margin by up to %g", worstLocal)
	}
	if worstXGB > 1e-4 {
		b.Errorf("contributions differ from XGBoost's by up to %g", worstXGB)
	}
	perRow := ms / float64(n)
	b.ReportMetric(perRow, "caserisk_ms_per_row")
	b.ReportMetric(xgbMs, "xgboost_ms_per_row")
	b.ReportMetric(xgbMs/perRow, "speedup")
	b.ReportMetric(worstLocal, "max_local_accuracy_err")
	b.ReportMetric(worstXGB, "max_diff_vs_xgboost")
	b.ReportMetric(compileMs, "compile_ms")
}

// syntheticEnsemble grows full depth-6 trees with random splits and covers.
func syntheticEnsemble(r *rand.Rand, ntrees, nfeat, depth int) *tree.Ensemble {
	e := &tree.Ensemble{NumFeatures: nfeat}
	for range ntrees {
		var t tree.Tree
		var grow func(d int, cover float64) int32
		grow = func(d int, cover float64) int32 {
			i := int32(t.Len())
			t.Left, t.Right = append(t.Left, -1), append(t.Right, -1)
			t.Feature, t.Threshold = append(t.Feature, -1), append(t.Threshold, 0)
			t.DefaultLeft, t.Value = append(t.DefaultLeft, r.IntN(2) == 0), append(t.Value, 0)
			t.Cover, t.Gain = append(t.Cover, cover), append(t.Gain, 0)
			if d == depth {
				t.Value[i] = 0.1 * r.NormFloat64()
				return i
			}
			t.Feature[i], t.Threshold[i], t.Gain[i] = int32(r.IntN(nfeat)), r.NormFloat64(), r.Float64()
			share := 0.1 + 0.8*r.Float64()
			l := grow(d+1, cover*share)
			rr := grow(d+1, cover*(1-share))
			t.Left[i], t.Right[i] = l, rr
			return i
		}
		grow(0, 10000)
		e.Trees = append(e.Trees, t)
	}
	return e
}

// BenchmarkTreeSHAPSynthetic times TreeSHAP per row, in batches and one row
// at a time, on a synthetic 200-tree depth-6 40-feature ensemble, and the
// Algorithm 2 reference for comparison.
func BenchmarkTreeSHAPSynthetic(b *testing.B) {
	r := rand.New(rand.NewPCG(41, 7))
	const nf, n = 40, 10000
	e := syntheticEnsemble(r, 200, nf, 6)
	X := make([]float64, n*nf)
	for i := range X {
		X[i] = r.NormFloat64()
		if r.IntN(20) == 0 {
			X[i] = math.NaN()
		}
	}
	ex := explain.TreeSHAP(e)
	out := make([]float64, n*(nf+1))
	ms := medianMs(b, func() error { return ex.ContributionsBatch(context.Background(), X, out) })
	b.ReportMetric(ms/n, "caserisk_ms_per_row")
	const single = 1000
	ms = medianMs(b, func() error {
		for i := 0; i < single; i++ {
			ex.Contributions(X[i*nf:(i+1)*nf], out[i*(nf+1):(i+1)*(nf+1)])
		}
		return nil
	})
	b.ReportMetric(ms/single, "single_row_ms")
	const ref = 100
	start := time.Now()
	for i := 0; i < ref; i++ {
		if err := explain.TreeSHAPReference(e, X[i*nf:(i+1)*nf], out[:nf+1]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/1e6/ref, "reference_ms_per_row")
}
