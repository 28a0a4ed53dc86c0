package calibrate

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

	"caserisk/models/metrics"
)

// A fixed sample and the Platt fits scikit-learn 1.2.1's
// calibration._sigmoid_calibration returns for it, unweighted and weighted.
var (
	plattM = []float64{-1.86, -0.34, -1.08, 0.29, 1.49, 2.0, -2.97, 0.69, -0.18, -1.21, -2.55, 1.02, -1.05, -1.37, -2.26, -1.48, -0.31, -2.63, -0.73, -0.33}
	plattY = []float64{0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1}
	plattW = []float64{1.17, 1.7, 0.85, 0.98, 1.7, 1.26, 1.26, 0.85, 0.52, 1.9, 0.63, 1.77, 1.05, 1.93, 1.1, 1.9, 1.33, 0.86, 1.61, 1.51}
)

func TestPlattMatchesKnownFit(t *testing.T) {
	tests := []struct {
		name  string
		w     []float64
		wantA float64
		wantB float64
	}{
		{"unweighted", nil, -1.7279122669948581, -0.6378892447715179},
		{"weighted", plattW, -1.9522427315614321, -0.5371958535422554},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Fit(Platt, plattM, plattY, tc.w)
			if err != nil {
				t.Fatal(err)
			}
			// scikit-learn stops BFGS at a gradient norm of 1e-5, so agree to 1e-4.
			if math.Abs(c.A-tc.wantA) > 1e-4 || math.Abs(c.B-tc.wantB) > 1e-4 {
				t.Errorf("A, B = %.10f, %.10f; want %.10f, %.10f", c.A, c.B, tc.wantA, tc.wantB)
			}
			// And our own fit is a stationary point to much tighter tolerance.
			gA, gB := plattGradient(c.A, c.B, plattM, plattY, tc.w)
			if math.Abs(gA) > 1e-9 || math.Abs(gB) > 1e-9 {
				t.Errorf("gradient at the fit = (%g, %g), want ~0", gA, gB)
			}
			if p := c.Prob(0); math.Abs(p-1/(1+math.Exp(c.B))) > 1e-15 {
				t.Errorf("Prob(0) = %v, want 1/(1+exp(B))", p)
			}
		})
	}
}

// plattGradient is the gradient of the Platt objective, written out
// independently of fitPlatt.
func plattGradient(a, b float64, m, y, w []float64) (gA, gB float64) {
	var nPos, nNeg float64
	for i, v := range y {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		if v == 1 {
			nPos += wi
		} else {
			nNeg += wi
		}
	}
	for i := range m {
		t := 1 / (nNeg + 2)
		if y[i] == 1 {
			t = (nPos + 1) / (nPos + 2)
		}
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		p := 1 / (1 + math.Exp(a*m[i]+b))
		gA += wi * (t - p) * m[i]
		gB += wi * (t - p)
	}
	return gA, gB
}

func TestIsotonicMonotoneAndExact(t *testing.T) {
	// Labels that violate monotonicity, with a tie at margin 2.
	m := []float64{1, 2, 2, 3, 4, 5, 6}
	y := []float64{0, 1, 0, 0, 1, 1, 0}
	c, err := Fit(Isotonic, m, y, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Ties merged: (1,0) (2,0.5 w2) (3,0) (4,1) (5,1) (6,0).
	// PAVA: (2,0.5)+(3,0) pool to 1/3 over weight 3; (4..6) pool to 2/3.
	tests := []struct{ margin, want float64 }{
		{-10, 0}, {1, 0}, {1.5, 1.0 / 6}, {2, 1.0 / 3}, {3, 1.0 / 3},
		{3.5, 0.5}, {4, 2.0 / 3}, {6, 2.0 / 3}, {99, 2.0 / 3},
	}
	for _, tc := range tests {
		if got := c.Prob(tc.margin); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Prob(%v) = %v, want %v", tc.margin, got, tc.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("fitted calibrator fails validation: %v", err)
	}
	// Random data: predictions non-decreasing everywhere.
	rng := rand.New(rand.NewPCG(1, 2))
	m, y = make([]float64, 500), make([]float64, 500)
	for i := range m {
		m[i] = math.Round(rng.NormFloat64()*20) / 10
		if rng.Float64() < sigmoid(m[i]) {
			y[i] = 1
		}
	}
	c, err = Fit(Isotonic, m, y, nil)
	if err != nil {
		t.Fatal(err)
	}
	prev := -1.0
	for x := -8.0; x <= 8; x += 0.01 {
		p := c.Prob(x)
		if p < prev || p < 0 || p > 1 {
			t.Fatalf("Prob(%v) = %v after %v: not monotone in [0, 1]", x, p, prev)
		}
		prev = p
	}
}

// miscalibrated returns margins that are overconfident and shifted relative
// to the true log-odds z, and labels drawn from sigmoid(z).
func miscalibrated(n int, seed uint64) (margins, labels []float64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	margins, labels = make([]float64, n), make([]float64, n)
	for i := range n {
		z := -1.5 + rng.NormFloat64()
		if rng.Float64() < sigmoid(z) {
			labels[i] = 1
		}
		margins[i] = 3*z + 2
	}
	return margins, labels
}

func TestCalibrationReducesECE(t *testing.T) {
	fitM, fitY := miscalibrated(20000, 1)
	testM, testY := miscalibrated(20000, 2)
	ece := func(c *Calibrator) float64 {
		p := make([]float64, len(testM))
		for i, m := range testM {
			p[i] = c.Prob(m)
		}
		rep, err := metrics.Evaluate(context.Background(), p, testY, metrics.Options{Bootstrap: -1, ECEBins: 15})
		if err != nil {
			t.Fatal(err)
		}
		return rep.ECE.Value
	}
	raw := ece(&Calibrator{Method: None})
	for _, method := range []string{Platt, Isotonic} {
		c, err := Fit(method, fitM, fitY, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := ece(c)
		if !(got < raw/5 && got < 0.02) {
			t.Errorf("%s: ECE %v on held-out data, uncalibrated %v: want a 5-fold reduction to below 0.02", method, got, raw)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, method := range []string{Platt, Isotonic, None} {
		c, err := Fit(method, plattM, plattY, plattW)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back Calibrator
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if err := back.Validate(); err != nil {
			t.Errorf("%s: decoded calibrator invalid: %v (%s)", method, err, b)
		}
		for _, m := range []float64{-3, -0.5, 0, 0.7, 4} {
			if back.Prob(m) != c.Prob(m) {
				t.Errorf("%s: Prob(%v) %v after round trip, %v before", method, m, back.Prob(m), c.Prob(m))
			}
		}
	}
}

func TestFitRejectsBadInput(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		m, y, w []float64
		want    string
	}{
		{"nan margin", Platt, []float64{0, math.NaN()}, []float64{0, 1}, nil, "margins[1]"},
		{"inf margin", Isotonic, []float64{math.Inf(1), 0}, []float64{0, 1}, nil, "margins[0]"},
		{"label", Platt, []float64{0, 1}, []float64{0, 0.5}, nil, "labels[1] = 0.5"},
		{"weight", Platt, []float64{0, 1}, []float64{0, 1}, []float64{1, -1}, "weights[1] = -1"},
		{"zero weights", Isotonic, []float64{0, 1}, []float64{0, 1}, []float64{0, 0}, "weights are zero"},
		{"lengths", Platt, []float64{0, 1}, []float64{0}, nil, "2 margins but 1 labels"},
		{"empty", Platt, nil, nil, nil, "no margins"},
		{"method", "beta", []float64{0}, []float64{0}, nil, `unknown method "beta"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Fit(tc.method, tc.m, tc.y, tc.w)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestValidateRejectsBadCalibrators(t *testing.T) {
	tests := []struct {
		c    Calibrator
		want string
	}{
		{Calibrator{Method: "beta"}, "unknown method"},
		{Calibrator{Method: Platt, A: math.NaN()}, "finite"},
		{Calibrator{Method: Isotonic}, "non-empty"},
		{Calibrator{Method: Isotonic, X: []float64{0, 0}, Y: []float64{0, 1}}, "x[1]=0 does not exceed"},
		{Calibrator{Method: Isotonic, X: []float64{0, 1}, Y: []float64{0.5, 0.1}}, "y[1]=0.1 is below"},
		{Calibrator{Method: Isotonic, X: []float64{0}, Y: []float64{1.5}}, "y in [0, 1]"},
	}
	for _, tc := range tests {
		if err := tc.c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want an error containing %q", tc.c, err, tc.want)
		}
	}
}

func TestLiveAgainstSklearn(t *testing.T) {
	py := os.Getenv("CASERISK_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	if out, err := exec.Command(py, "-c", "import sklearn").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import sklearn (install python3-sklearn): %v: %s", py, err, bytes.TrimSpace(out))
	}
	m, y := miscalibrated(3000, 4)
	for i := range m {
		m[i] = math.Round(m[i]*20) / 20 // ties, which isotonic must merge
	}
	var sb strings.Builder
	for i := range m {
		fmt.Fprintf(&sb, "%s,%g\n", strconv.FormatFloat(m[i], 'g', -1, 64), y[i])
	}
	path := filepath.Join(t.TempDir(), "cal.csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	probe := []float64{-12, -5.55, -3, -1.234, 0, 0.5, 2.71, 9, 30}
	script := `
import sys, numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.calibration import _sigmoid_calibration
d = np.loadtxt(sys.argv[1], delimiter=",")
a, b = _sigmoid_calibration(d[:, 0], d[:, 1])
print(repr(a), repr(b))
iso = IsotonicRegression(out_of_bounds="clip").fit(d[:, 0], d[:, 1])
print(" ".join(repr(v) for v in iso.predict(np.array([` + strings.Trim(strings.Join(strings.Fields(fmt.Sprint(probe)), ","), "[]") + `]))))
`
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("sklearn: %v: %s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 2+len(probe) {
		t.Fatalf("unexpected sklearn output %q", out)
	}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("sklearn output %q: %v", s, err)
		}
		return v
	}
	pl, err := Fit(Platt, m, y, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := num(f[0]), num(f[1]); math.Abs(pl.A-a) > 1e-4 || math.Abs(pl.B-b) > 1e-4 {
		t.Errorf("platt A, B = %v, %v; sklearn %v, %v", pl.A, pl.B, a, b)
	}
	iso, err := Fit(Isotonic, m, y, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range probe {
		if got, want := iso.Prob(x), num(f[2+i]); math.Abs(got-want) > 1e-12 {
			t.Errorf("isotonic Prob(%v) = %v, sklearn %v", x, got, want)
		}
	}
}

func FuzzIsotonic(f *testing.F) {
	f.Add([]byte{3, 1, 200, 0, 3, 0, 90, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 2
		if n == 0 {
			return
		}
		m, y := make([]float64, n), make([]float64, n)
		for i := range n {
			m[i] = float64(int8(data[2*i])) / 8
			y[i] = float64(data[2*i+1] & 1)
		}
		for _, method := range []string{Isotonic, Platt} {
			c, err := Fit(method, m, y, nil)
			if err != nil {
				t.Fatalf("%s: %v", method, err)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("%s: fitted calibrator invalid: %v", method, err)
			}
			prev := math.Inf(-1)
			for x := -17.0; x <= 17; x += 0.25 {
				p := c.Prob(x)
				if !(p >= 0 && p <= 1) {
					t.Fatalf("%s: Prob(%v) = %v outside [0, 1]", method, x, p)
				}
				if method == Isotonic && p < prev {
					t.Fatalf("isotonic Prob(%v) = %v below %v", x, p, prev)
				}
				prev = p
			}
		}
	})
}

func FuzzDecodeCalibrator(f *testing.F) {
	f.Add([]byte(`{"method":"isotonic","x":[0,1],"y":[0.1,0.9]}`))
	f.Add([]byte(`{"method":"platt","a":-1.5,"b":0.2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Calibrator
		if json.Unmarshal(data, &c) != nil || c.Validate() != nil {
			return
		}
		for _, x := range []float64{-1e300, -3, 0, 0.5, 3, 1e300} {
			if p := c.Prob(x); !(p >= 0 && p <= 1) {
				t.Fatalf("valid calibrator %+v gives Prob(%v) = %v", c, x, p)
			}
		}
	})
}

func ExampleFit() {
	margins := []float64{-2, -1, -0.5, 0, 0.5, 1, 2, 3}
	labels := []float64{0, 0, 1, 0, 0, 1, 1, 1}
	c, err := Fit(Isotonic, margins, labels, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.3f %.3f %.3f\n", c.Prob(-3), c.Prob(0), c.Prob(5))
	// Output: 0.000 0.333 1.000
}
