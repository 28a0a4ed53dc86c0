package logistic

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"caserisk/models/metrics"
)

// The benchmark problem: sklearn.datasets.make_classification with these
// arguments, split into the first 800k rows for training and the last 200k
// for testing. The generated data are cached under os.TempDir() as raw
// little-endian float64 columns, so both sides read identical numbers.
const (
	benchRows  = 1_000_000
	benchTrain = 800_000
	benchCols  = 40
	benchC     = 1.0  // scikit-learn's default C
	benchTol   = 1e-4 // scikit-learn's default tol, on the same gradient scale
	benchRuns  = 3    // median of this many fits on each side
)

const benchGenerate = `
import sys, os, numpy as np
from sklearn.datasets import make_classification
X, y = make_classification(n_samples=1_000_000, n_features=40, n_informative=15,
    n_redundant=5, weights=[0.95], flip_y=0.02, random_state=7)
d = sys.argv[1]
np.asfortranarray(X).T.astype("<f8").tofile(os.path.join(d, "X.f64.tmp"))
y.astype("<f8").tofile(os.path.join(d, "y.f64.tmp"))
os.replace(os.path.join(d, "X.f64.tmp"), os.path.join(d, "X.f64"))
os.replace(os.path.join(d, "y.f64.tmp"), os.path.join(d, "y.f64"))
`

const benchSklearn = `
import sys, os, time, numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
d, C, tol, runs, ntrain, p = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
X = np.fromfile(os.path.join(d, "X.f64"), dtype="<f8").reshape(p, -1).T
y = np.fromfile(os.path.join(d, "y.f64"), dtype="<f8")
s = StandardScaler().fit(X[:ntrain])
Xtr, Xte = np.ascontiguousarray(s.transform(X[:ntrain])), s.transform(X[ntrain:])
times = []
for _ in range(runs):
    t = time.perf_counter()
    m = LogisticRegression(C=C, solver="lbfgs", tol=tol, max_iter=1000).fit(Xtr, y[:ntrain])
    times.append(time.perf_counter() - t)
print(m.n_iter_[0], sorted(times)[len(times) // 2], log_loss(y[ntrain:], m.predict_proba(Xte)[:, 1]))
`

// benchData returns the cached columns and labels, generating them with
// scikit-learn on first use.
func benchData(b *testing.B, py string) (cols [][]float64, y []float64, dir string) {
	dir = filepath.Join(os.TempDir(), "caserisk-bench-logistic-make_classification-1e6x40-rs7")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	xPath, yPath := filepath.Join(dir, "X.f64"), filepath.Join(dir, "y.f64")
	if _, err := os.Stat(yPath); err != nil {
		if out, err := exec.Command(py, "-c", benchGenerate, dir).CombinedOutput(); err != nil {
			b.Fatalf("generating data: %v: %s", err, out)
		}
	}
	xs, err := readFloats(xPath, benchRows*benchCols)
	if err != nil {
		b.Fatal(err)
	}
	y, err = readFloats(yPath, benchRows)
	if err != nil {
		b.Fatal(err)
	}
	cols = make([][]float64, benchCols)
	for j := range cols {
		cols[j] = xs[j*benchRows : (j+1)*benchRows]
	}
	return cols, y, dir
}

// readFloats reads exactly n little-endian float64 values from path.
func readFloats(path string, n int) ([]float64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading cached benchmark data: %w", err)
	}
	if len(raw) != 8*n {
		return nil, fmt.Errorf("%s: %d bytes, want %d (delete it to regenerate)", path, len(raw), 8*n)
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return out, nil
}

// BenchmarkLogisticVsSklearn fits the L2-penalised model on 800k × 40 rows
// and compares fit time and held-out log-loss with scikit-learn's
// LogisticRegression(solver="lbfgs") on the same standardised data, same C
// and same tolerance, in the same run. Each side's time is the median of
// benchRuns fits; ratio = caserisk_s / sklearn_s (≤ 1 is the bar).
func BenchmarkLogisticVsSklearn(b *testing.B) {
	py := python(b, "sklearn", "numpy")
	cols, y, dir := benchData(b, py)
	train := make([][]float64, benchCols)
	for j := range cols {
		train[j] = cols[j][:benchTrain]
	}
	o := DefaultOptions()
	o.L2, o.Tol = 1/benchC, benchTol
	for b.Loop() {
		var times []float64
		var m *Model
		for range benchRuns {
			start := time.Now()
			var err error
			m, err = Fit(context.Background(), train, y[:benchTrain], nil, o)
			if err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(start).Seconds())
		}
		slices.Sort(times)
		goSec := times[len(times)/2]
		probs := make([]float64, benchRows-benchTrain)
		row := make([]float64, benchCols)
		for i := range probs {
			for j := range cols {
				row[j] = cols[j][benchTrain+i]
			}
			probs[i] = m.Prob(row)
		}
		goLoss, err := metrics.LogLoss(probs, y[benchTrain:], nil)
		if err != nil {
			b.Fatal(err)
		}
		out, err := exec.Command(py, "-c", benchSklearn, dir, fmt.Sprint(benchC), fmt.Sprint(benchTol),
			fmt.Sprint(benchRuns), fmt.Sprint(benchTrain), fmt.Sprint(benchCols)).CombinedOutput()
		if err != nil {
			b.Fatalf("sklearn: %v: %s", err, out)
		}
		f := strings.Fields(string(out))
		if len(f) < 3 {
			b.Fatalf("sklearn output %q", out)
		}
		skIter, err0 := strconv.ParseFloat(f[len(f)-3], 64)
		skSec, err1 := strconv.ParseFloat(f[len(f)-2], 64)
		skLoss, err2 := strconv.ParseFloat(f[len(f)-1], 64)
		if err0 != nil || err1 != nil || err2 != nil {
			b.Fatalf("sklearn output %q: %v %v %v", out, err0, err1, err2)
		}
		b.ReportMetric(goSec, "caserisk_s")
		b.ReportMetric(skSec, "sklearn_s")
		b.ReportMetric(goSec/skSec, "ratio")
		b.ReportMetric(goLoss, "logloss_caserisk")
		b.ReportMetric(skLoss, "logloss_sklearn")
		b.ReportMetric(math.Abs(goLoss-skLoss), "logloss_absdiff")
		b.ReportMetric(float64(m.Iterations), "caserisk_iter")
		b.ReportMetric(skIter, "sklearn_iter")
		if d := math.Abs(goLoss - skLoss); d > 1e-4 {
			b.Errorf("held-out log-loss %v vs sklearn %v: differ by %.2g > 1e-4", goLoss, skLoss, d)
		}
	}
}
