package gbdt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// debianPython is the interpreter that has python3-xgboost and
// python3-sklearn (the first python3 on PATH may not).
const debianPython = "/usr/bin/python3"

// auc is the area under the ROC curve (the Mann-Whitney statistic, ties
// counted half), kept local: models/metrics belongs to another package.
func auc(y, score []float64) float64 {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean of 1-based ranks i+1..j
		for k := i; k < j; k++ {
			if y[idx[k]] == 1 {
				rankSum += avg
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func TestAUC(t *testing.T) {
	for _, c := range []struct {
		y, s []float64
		want float64
	}{
		{[]float64{0, 0, 1, 1}, []float64{1, 2, 3, 4}, 1},
		{[]float64{1, 1, 0, 0}, []float64{1, 2, 3, 4}, 0},
		{[]float64{0, 1, 0, 1}, []float64{1, 1, 1, 1}, 0.5},
		{[]float64{0, 1, 1, 0}, []float64{0.1, 0.4, 0.35, 0.8}, 0.5},
	} {
		if got := auc(c.y, c.s); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("auc(%v, %v) = %v, want %v", c.y, c.s, got, c.want)
		}
	}
}

// synth makes a binary problem with a known signal: n rows, d features
// (standard normal), a logit that depends on the first few features
// (linear, a threshold and an interaction), and a fraction miss of values
// missing in feature 1. Rows are returned column-major.
func synth(n, d int, miss float64, seed uint64) (cols [][]float64, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	cols = make([][]float64, d)
	for j := range cols {
		cols[j] = make([]float64, n)
		for i := range n {
			cols[j][i] = rng.NormFloat64()
		}
	}
	y = make([]float64, n)
	for i := range n {
		z := 1.5*cols[0][i] - 2.0
		if cols[1][i] > 0.5 {
			z += 1.5
		}
		if d > 3 {
			z += cols[2][i] * cols[3][i]
		}
		if rng.Float64() < miss {
			cols[1][i] = math.NaN()
			z += 1 // missingness carries signal
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
	}
	return cols, y
}

// rowOf returns row i of column-major data.
func rowOf(cols [][]float64, i int) []float64 {
	x := make([]float64, len(cols))
	for j := range cols {
		x[j] = cols[j][i]
	}
	return x
}

// havePython reports why the Python peer cannot run, or "" when it can.
func havePython() string {
	out, err := exec.Command(debianPython, "-c", "import xgboost, sklearn, numpy").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("python3-xgboost/python3-sklearn not installed for %s: %v: %s", debianPython, err, out)
	}
	return ""
}

// genScript makes sklearn's make_classification data set and writes X
// (row-major) and y as little-endian float64.
const genScript = `
import sys, numpy as np
from sklearn.datasets import make_classification
out, n, f = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
X, y = make_classification(n_samples=n, n_features=f, n_informative=15, n_redundant=5,
                           weights=[0.95], flip_y=0.02, random_state=7)
np.ascontiguousarray(X, dtype='<f8').tofile(out + '/X.f64')
np.ascontiguousarray(y, dtype='<f8').tofile(out + '/y.f64')
`

// xgbScript trains XGBoost on the first ntrain rows of X.f64/y.f64 (NaN =
// missing), timing only xgb.train, and writes margins for the other rows.
const xgbScript = `
import sys, json, time, numpy as np, xgboost as xgb
d, f, ntr = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rounds, depth, eta, max_bin, nthread = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
X = np.fromfile(d + '/X.f64', dtype='<f8').reshape(-1, f)
y = np.fromfile(d + '/y.f64', dtype='<f8')
dtr = xgb.DMatrix(X[:ntr], label=y[:ntr], missing=np.nan, nthread=nthread)
dte = xgb.DMatrix(X[ntr:], missing=np.nan, nthread=nthread)
params = {'objective': 'binary:logistic', 'tree_method': 'hist', 'max_depth': depth, 'eta': eta,
          'max_bin': max_bin, 'nthread': nthread, 'verbosity': 0}
t0, c0 = time.perf_counter(), time.process_time()
bst = xgb.train(params, dtr, num_boost_round=rounds)
secs, cpu = time.perf_counter() - t0, time.process_time() - c0
bst.predict(dte, output_margin=True).astype('<f8').tofile(d + '/xgb_pred_%d.f64' % nthread)
print(json.dumps({'train_s': secs, 'cpu_s': cpu}))
`

// xgbRun is one XGBoost training run.
type xgbRun struct {
	Seconds float64   // wall time spent in xgb.train
	CPU     float64   // CPU time (all threads) spent in xgb.train
	Margins []float64 // for the rows after the first ntrain
}

// runXGBoost runs xgbScript on the data set in dir.
func runXGBoost(dir string, nfeat, ntrain, rounds, depth int, eta float64, maxBin, nthread int) (xgbRun, error) {
	script := filepath.Join(dir, "xgb_train.py")
	if err := os.WriteFile(script, []byte(xgbScript), 0o644); err != nil {
		return xgbRun{}, err
	}
	cmd := exec.Command(debianPython, script, dir, fmt.Sprint(nfeat), fmt.Sprint(ntrain), fmt.Sprint(rounds),
		fmt.Sprint(depth), fmt.Sprint(eta), fmt.Sprint(maxBin), fmt.Sprint(nthread))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return xgbRun{}, fmt.Errorf("xgboost script: %w", err)
	}
	var r struct {
		TrainS float64 `json:"train_s"`
		CPUS   float64 `json:"cpu_s"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return xgbRun{}, fmt.Errorf("xgboost script output %q: %w", out, err)
	}
	m, err := readF64(filepath.Join(dir, fmt.Sprintf("xgb_pred_%d.f64", nthread)))
	if err != nil {
		return xgbRun{}, err
	}
	return xgbRun{Seconds: r.TrainS, CPU: r.CPUS, Margins: m}, nil
}

// writeF64 writes little-endian float64s.
func writeF64(path string, v []float64) error {
	buf := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(x))
	}
	return os.WriteFile(path, buf, 0o644)
}

// readF64 reads little-endian float64s.
func readF64(path string) ([]float64, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(buf)%8 != 0 {
		return nil, fmt.Errorf("%s: %d bytes is not a whole number of float64s", path, len(buf))
	}
	v := make([]float64, len(buf)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(buf[8*i:]))
	}
	return v, nil
}

// writeRowMajor writes column-major data row-major for the Python peer.
func writeRowMajor(path string, cols [][]float64) error {
	n, d := len(cols[0]), len(cols)
	v := make([]float64, 0, n*d)
	for i := range n {
		for j := range d {
			v = append(v, cols[j][i])
		}
	}
	return writeF64(path, v)
}

// elapsed runs f and returns its wall time in seconds.
func elapsed(f func()) float64 {
	t0 := time.Now()
	f()
	return time.Since(t0).Seconds()
}
