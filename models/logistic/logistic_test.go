package logistic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// synth returns n rows of p correlated features with varied means and
// scales, and labels drawn from a logistic model whose first `informative`
// features matter.
func synth(n, p, informative int, seed uint64) (cols [][]float64, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	cols = make([][]float64, p)
	for j := range cols {
		cols[j] = make([]float64, n)
	}
	y = make([]float64, n)
	for i := range n {
		common := rng.NormFloat64()
		z := -1.0
		for j := range p {
			v := 0.5*common + rng.NormFloat64()
			cols[j][i] = float64(j+1)*3*v + 10*float64(j) // scale j+1, mean 10j
			if j < informative {
				z += (0.8 - 0.3*float64(j)) * v
			}
		}
		if rng.Float64() < sigmoid(z) {
			y[i] = 1
		}
	}
	return cols, y
}

// python returns Debian's python3 (or $CASERISK_PYTHON) if it can import the
// modules, skipping the test otherwise.
func python(t testing.TB, modules ...string) string {
	t.Helper()
	py := os.Getenv("CASERISK_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	probe := "import " + strings.Join(modules, ", ")
	if out, err := exec.Command(py, "-c", probe).CombinedOutput(); err != nil {
		t.Skipf("%s cannot %q (install the Debian python3 packages): %v: %s", py, probe, err, bytes.TrimSpace(out))
	}
	return py
}

// writeCSV writes columns then the label, one row per line.
func writeCSV(t testing.TB, cols [][]float64, y []float64) string {
	t.Helper()
	var b strings.Builder
	for i := range y {
		for j := range cols {
			b.WriteString(strconv.FormatFloat(cols[j][i], 'g', -1, 64))
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(y[i], 'g', -1, 64))
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runPython runs script with the CSV path and parses whitespace-separated
// numbers from its output.
func runPython(t testing.TB, py, script, path string) []float64 {
	t.Helper()
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v: %s", err, out)
	}
	var vals []float64
	for _, f := range strings.Fields(string(out)) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("python output %q: %v", out, err)
		}
		vals = append(vals, v)
	}
	return vals
}

func relErr(got, want float64) float64 {
	return math.Abs(got-want) / math.Max(math.Abs(want), 1e-3)
}

func TestUnpenalisedMatchesStatsmodels(t *testing.T) {
	py := python(t, "statsmodels.api", "numpy")
	cols, y := synth(3000, 5, 3, 1)
	m, err := Fit(context.Background(), cols, y, nil, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !m.Converged {
		t.Fatalf("did not converge in %d iterations", m.Iterations)
	}
	script := `
import sys, numpy as np, statsmodels.api as sm
d = np.loadtxt(sys.argv[1], delimiter=",")
X, y = sm.add_constant(d[:, :-1]), d[:, -1]
r = sm.Logit(y, X).fit(method="newton", tol=1e-14, maxiter=100, disp=0)
print(" ".join(repr(v) for v in r.params))
`
	want := runPython(t, py, script, writeCSV(t, cols, y))
	coef, b := m.RawCoef()
	if e := relErr(b, want[0]); e > 1e-6 {
		t.Errorf("intercept %v, statsmodels %v (relative error %.2g)", b, want[0], e)
	}
	for j := range coef {
		if e := relErr(coef[j], want[j+1]); e > 1e-6 {
			t.Errorf("coef %d = %v, statsmodels %v (relative error %.2g)", j, coef[j], want[j+1], e)
		}
	}
}

func TestL2MatchesSklearn(t *testing.T) {
	py := python(t, "sklearn", "numpy")
	cols, y := synth(2000, 6, 4, 2)
	const C = 0.05
	o := DefaultOptions()
	o.L2 = 1 / C
	m, err := Fit(context.Background(), cols, y, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
d = np.loadtxt(sys.argv[1], delimiter=",")
X = StandardScaler().fit_transform(d[:, :-1])
r = LogisticRegression(C=` + strconv.FormatFloat(C, 'g', -1, 64) + `, tol=1e-12, max_iter=10000).fit(X, d[:, -1])
print(repr(r.intercept_[0]), " ".join(repr(v) for v in r.coef_[0]))
`
	want := runPython(t, py, script, writeCSV(t, cols, y))
	// scikit-learn's L-BFGS-B also stops on a relative objective change of
	// 64ε, which leaves its coefficients accurate to about 1e-6.
	if math.Abs(m.Intercept-want[0]) > 1e-5 {
		t.Errorf("intercept %v, sklearn %v", m.Intercept, want[0])
	}
	for j, c := range m.Coef {
		if math.Abs(c-want[j+1]) > 1e-5 {
			t.Errorf("coef %d = %v, sklearn %v", j, c, want[j+1])
		}
	}
}

func TestL1GivesExactZerosAndSatisfiesKKT(t *testing.T) {
	cols, y := synth(4000, 12, 3, 3)
	tests := []struct {
		name     string
		l1, l2   float64
		minZeros int
	}{
		{"lasso", 60, 0, 6},
		{"elastic net", 40, 20, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			o.L1, o.L2 = tc.l1, tc.l2
			m, err := Fit(context.Background(), cols, y, nil, o)
			if err != nil {
				t.Fatal(err)
			}
			if !m.Converged {
				t.Fatalf("did not converge in %d iterations", m.Iterations)
			}
			zeros := 0
			for j, c := range m.Coef {
				if j < 3 && c == 0 {
					t.Errorf("informative feature %d dropped", j)
				}
				if c == 0 {
					zeros++
				}
			}
			if zeros < tc.minZeros {
				t.Errorf("only %d of 9 noise coefficients are exactly zero: %v", zeros, m.Coef)
			}
			// Independent optimality check: the subgradient condition at the
			// solution, computed here from scratch.
			assertKKT(t, cols, y, m, tc.l1, tc.l2, 1e-6)
		})
	}
}

// assertKKT checks the elastic-net optimality conditions of m on the
// standardised features, on the sum scale with a tolerance relative to n.
func assertKKT(t *testing.T, cols [][]float64, y []float64, m *Model, l1, l2, tol float64) {
	t.Helper()
	n := len(y)
	g := make([]float64, len(cols))
	var g0 float64
	for i := range n {
		x := make([]float64, len(cols))
		for j := range cols {
			x[j] = cols[j][i]
		}
		r := sigmoid(m.Margin(x)) - y[i]
		g0 += r
		for j := range cols {
			g[j] += r * (cols[j][i] - m.Mean[j]) / m.Scale[j]
		}
	}
	if math.Abs(g0) > tol*float64(n) {
		t.Errorf("intercept gradient %v", g0)
	}
	for j, c := range m.Coef {
		gj := g[j] + l2*c
		var viol float64
		switch {
		case c > 0:
			viol = math.Abs(gj + l1)
		case c < 0:
			viol = math.Abs(gj - l1)
		default:
			viol = max(math.Abs(gj)-l1, 0)
		}
		if viol > tol*float64(n) {
			t.Errorf("coef %d = %v violates optimality by %v", j, c, viol)
		}
	}
}

func TestSolversAgreeOnSmoothProblem(t *testing.T) {
	cols, y := synth(3000, 6, 4, 4)
	o, err := Options{FitIntercept: true, L2: 5}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	d := newDesign(cols, y, nil, o)
	a, _, okA, err := fitSmooth(context.Background(), d, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _, okB, err := fitProxNewton(context.Background(), d, o)
	if err != nil {
		t.Fatal(err)
	}
	if !okA || !okB {
		t.Fatalf("converged: L-BFGS %v, proximal Newton %v", okA, okB)
	}
	for j := range a {
		if math.Abs(a[j]-b[j]) > 1e-6 {
			t.Errorf("parameter %d: L-BFGS %v, proximal Newton %v", j, a[j], b[j])
		}
	}
}

func TestWeightsEqualReplication(t *testing.T) {
	cols, y := synth(600, 4, 2, 5)
	w := make([]float64, len(y))
	rc := make([][]float64, len(cols))
	var ry []float64
	for i := range y {
		w[i] = float64(i%3 + 1)
		for range int(w[i]) {
			ry = append(ry, y[i])
			for j := range cols {
				rc[j] = append(rc[j], cols[j][i])
			}
		}
	}
	for _, l1 := range []float64{0, 3} {
		o := DefaultOptions()
		o.L2, o.L1 = 2, l1
		a, err := Fit(context.Background(), cols, y, w, o)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Fit(context.Background(), rc, ry, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		ca, ia := a.RawCoef()
		cb, ib := b.RawCoef()
		if math.Abs(ia-ib) > 1e-6 {
			t.Errorf("l1=%v: intercept weighted %v, replicated %v", l1, ia, ib)
		}
		for j := range ca {
			if math.Abs(ca[j]-cb[j]) > 1e-6 {
				t.Errorf("l1=%v: coef %d weighted %v, replicated %v", l1, j, ca[j], cb[j])
			}
		}
	}
	// PosWeight k equals weight k on every positive row. (Unpenalised, as
	// sample weights also change the standardisation, and so what a penalty
	// on standardised coefficients means, while PosWeight does not.)
	wp := make([]float64, len(y))
	for i := range y {
		wp[i] = 1 + 2*y[i]
	}
	a, err := Fit(context.Background(), cols, y, wp, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.PosWeight = 3
	b, err := Fit(context.Background(), cols, y, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	ca, ia := a.RawCoef()
	cb, ib := b.RawCoef()
	if math.Abs(ia-ib) > 1e-6 || math.Abs(ca[0]-cb[0]) > 1e-6 {
		t.Errorf("PosWeight 3: %v %v; positive rows weighted 3: %v %v", ib, cb, ia, ca)
	}
}

func TestModelBasics(t *testing.T) {
	cols, y := synth(500, 3, 2, 6)
	constant := make([]float64, len(y))
	for i := range constant {
		constant[i] = 7
	}
	cols = append(cols, constant)
	o := DefaultOptions()
	o.L2 = 1
	m, err := Fit(context.Background(), cols, y, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	if m.Scale[3] != 1 || m.Coef[3] != 0 {
		t.Errorf("constant column: scale %v coef %v, want 1 and 0", m.Scale[3], m.Coef[3])
	}
	coef, b := m.RawCoef()
	x := []float64{1.5, -2, 30, 7}
	raw := b
	for j := range x {
		raw += coef[j] * x[j]
	}
	if math.Abs(raw-m.Margin(x)) > 1e-12 {
		t.Errorf("RawCoef margin %v, Margin %v", raw, m.Margin(x))
	}
	// Deterministic for the same options.
	m2, err := Fit(context.Background(), cols, y, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	j1, _ := json.Marshal(m)
	j2, _ := json.Marshal(m2)
	if !bytes.Equal(j1, j2) {
		t.Errorf("two fits differ:\n%s\n%s", j1, j2)
	}
	var back Model
	if err := json.Unmarshal(j1, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil || back.Margin(x) != m.Margin(x) {
		t.Errorf("JSON round trip: %v, margin %v vs %v", err, back.Margin(x), m.Margin(x))
	}
	// Without an intercept nothing is centred.
	o.FitIntercept = false
	m3, err := Fit(context.Background(), cols, y, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	if m3.Intercept != 0 || m3.Mean[0] != 0 {
		t.Errorf("no intercept: intercept %v mean %v, want 0", m3.Intercept, m3.Mean[0])
	}
}

func TestFitRejectsBadInput(t *testing.T) {
	good := [][]float64{{1, 2, 3}, {0, 1, 0}}
	y := []float64{0, 1, 1}
	tests := []struct {
		name string
		cols [][]float64
		y, w []float64
		o    Options
		want string
	}{
		{"nan", [][]float64{{1, 2, 3}, {0, math.NaN(), 0}}, y, nil, DefaultOptions(), "column 1 row 1 is NaN"},
		{"inf", [][]float64{{1, math.Inf(1), 3}, {0, 1, 0}}, y, nil, DefaultOptions(), "column 0 row 1 is +Inf"},
		{"ragged", [][]float64{{1, 2, 3}, {0, 1}}, y, nil, DefaultOptions(), "column 1 has 2 rows"},
		{"label", good, []float64{0, 3, 1}, nil, DefaultOptions(), "y[1] = 3"},
		{"weight", good, y, []float64{1, -1, 1}, DefaultOptions(), "w[1] = -1"},
		{"empty", nil, nil, nil, DefaultOptions(), "no rows"},
		{"l1", good, y, nil, Options{L1: -1}, "L1 = -1"},
		{"l2", good, y, nil, Options{L2: math.NaN()}, "L2 = NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Fit(context.Background(), tc.cols, tc.y, tc.w, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestFitCancelled(t *testing.T) {
	cols, y := synth(5000, 5, 3, 7)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, l1 := range []float64{0, 1} {
		o := DefaultOptions()
		o.L1 = l1
		if _, err := Fit(ctx, cols, y, nil, o); err == nil || !strings.Contains(err.Error(), "cancel") {
			t.Errorf("l1=%v: error %v, want cancellation", l1, err)
		}
	}
}

func FuzzFit(f *testing.F) {
	f.Add([]byte{1, 200, 3, 4, 90, 6, 7, 8, 9}, uint8(2), false)
	f.Fuzz(func(t *testing.T, data []byte, p uint8, l1 bool) {
		np := int(p%4) + 1
		n := len(data) / (np + 1)
		cols := make([][]float64, np)
		y := make([]float64, n)
		for j := range cols {
			cols[j] = make([]float64, n)
		}
		for i := range n {
			for j := range np {
				cols[j][i] = float64(int8(data[i*(np+1)+j]))
			}
			y[i] = float64(data[i*(np+1)+np] & 1)
		}
		o := DefaultOptions()
		o.L2, o.MaxIter = 1, 50
		if l1 {
			o.L1 = 0.5
		}
		m, err := Fit(context.Background(), cols, y, nil, o)
		if n == 0 {
			if err == nil {
				t.Fatal("no rows: want an error")
			}
			return
		}
		if err != nil {
			t.Fatalf("fit: %v", err)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("fitted model invalid: %v", err)
		}
	})
}

func ExampleFit() {
	// Two features; the first raises the risk, the second does nothing.
	x1 := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	x2 := []float64{5, 3, 5, 3, 5, 3, 5, 3, 5, 3}
	y := []float64{0, 0, 0, 1, 0, 1, 0, 1, 1, 1}
	o := DefaultOptions()
	o.L2 = 1 // scikit-learn C = 1
	m, err := Fit(context.Background(), [][]float64{x1, x2}, y, nil, o)
	if err != nil {
		fmt.Println(err)
		return
	}
	// scikit-learn's LogisticRegression(C=1) on standardised features: 0.789.
	fmt.Printf("converged=%v p(x1=8)=%.2f\n", m.Converged, m.Prob([]float64{8, 4}))
	// Output: converged=true p(x1=8)=0.79
}

func TestLargeOffsetsDoNotLosePrecision(t *testing.T) {
	// The evaluator folds the standardisation into the coefficients rather
	// than copying the data; a column far from zero relative to its spread
	// must give the same standardised model as the centred column.
	cols, y := synth(2000, 3, 3, 8)
	shifted := make([][]float64, len(cols))
	for j, c := range cols {
		shifted[j] = make([]float64, len(c))
		for i, v := range c {
			shifted[j][i] = v + 1e5*float64(j+1)
		}
	}
	o := DefaultOptions()
	o.L2 = 1
	a, err := Fit(context.Background(), cols, y, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fit(context.Background(), shifted, y, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Converged || !b.Converged {
		t.Fatalf("converged: %v, shifted %v", a.Converged, b.Converged)
	}
	for j := range a.Coef {
		if math.Abs(a.Coef[j]-b.Coef[j]) > 1e-6 {
			t.Errorf("coef %d: %v, with offset %v", j, a.Coef[j], b.Coef[j])
		}
	}
	if math.Abs(a.Intercept-b.Intercept) > 1e-6 {
		t.Errorf("intercept: %v, with offset %v", a.Intercept, b.Intercept)
	}
}

func TestElasticNetMatchesSklearnSaga(t *testing.T) {
	py := python(t, "sklearn", "numpy")
	cols, y := synth(1500, 8, 3, 9)
	const C, ratio = 0.02, 0.5
	o := DefaultOptions()
	o.L2, o.L1 = (1-ratio)/C, ratio/C
	m, err := Fit(context.Background(), cols, y, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
d = np.loadtxt(sys.argv[1], delimiter=",")
X = StandardScaler().fit_transform(d[:, :-1])
r = LogisticRegression(penalty="elasticnet", solver="saga", l1_ratio=` + strconv.FormatFloat(ratio, 'g', -1, 64) + `,
    C=` + strconv.FormatFloat(C, 'g', -1, 64) + `, tol=1e-10, max_iter=100000).fit(X, d[:, -1])
print(repr(r.intercept_[0]), " ".join(repr(v) for v in r.coef_[0]))
`
	want := runPython(t, py, script, writeCSV(t, cols, y))
	if math.Abs(m.Intercept-want[0]) > 1e-5 {
		t.Errorf("intercept %v, sklearn %v", m.Intercept, want[0])
	}
	for j, c := range m.Coef {
		if math.Abs(c-want[j+1]) > 1e-5 || (c == 0) != (math.Abs(want[j+1]) < 1e-8) {
			t.Errorf("coef %d = %v, sklearn saga %v", j, c, want[j+1])
		}
	}
}

func TestEvaluationDoesNotAllocate(t *testing.T) {
	cols, y := synth(5000, 4, 2, 10)
	o, err := DefaultOptions().withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	o.Threads = 2
	d := newDesign(cols, y, nil, o)
	ev := newEvaluator(d, o.Threads, false)
	defer ev.close()
	theta := d.initialTheta()
	g := make([]float64, d.p+1)
	if allocs := testing.AllocsPerRun(20, func() { ev.run(theta, true, g) }); allocs != 0 {
		t.Errorf("one objective and gradient evaluation allocates %v times, want 0", allocs)
	}
}
