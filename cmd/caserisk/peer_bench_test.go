//go:build linux

package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Whole-command comparisons with the Python peers (issue 20): each side
// runs as a user runs it, as a subprocess that reads the same CSV file,
// does the work and writes its output file, and the benchmark reports the
// ratio of the median wall times, alternating the two sides run by run.
// CASERISK_BENCH_RUNS sets the number of runs of each side (default 1).
//
// The data set is scikit-learn's make_classification (1M rows, 40
// features, 15 informative, 5 redundant, 5% positives, 2% labels flipped,
// random_state 7), written once by pandas' to_csv (floats in their
// shortest round-trip form, up to 17 digits) as train.csv (the first 800k
// rows), test.csv (the last 200k) and explain.csv (the first 10k test rows
// without the label), under $CASERISK_PEER_BENCH_DIR (default under
// os.TempDir()).

// peerPython is Debian's interpreter, which has xgboost, sklearn and pandas.
const peerPython = "/usr/bin/python3"

const peerGenerate = `
import sys, os, numpy as np, pandas as pd
from sklearn.datasets import make_classification
X, y = make_classification(n_samples=1_000_000, n_features=40, n_informative=15,
    n_redundant=5, weights=[0.95], flip_y=0.02, random_state=7)
d = sys.argv[1]
df = pd.DataFrame(X, columns=["f%d" % j for j in range(40)])
df["label"] = y.astype(int)
df.iloc[:800_000].to_csv(os.path.join(d, "train.csv.tmp"), index=False)
df.iloc[800_000:].to_csv(os.path.join(d, "test.csv.tmp"), index=False)
df.iloc[800_000:810_000, :40].to_csv(os.path.join(d, "explain.csv.tmp"), index=False)
for n in ("train", "test", "explain"):
    os.replace(os.path.join(d, n + ".csv.tmp"), os.path.join(d, n + ".csv"))
`

// peerBench holds what every whole-command comparison needs.
type peerBench struct {
	dir  string // the cached data set
	bin  string // the caserisk binary, built for this run
	runs int
	cpu  float64 // CPU seconds of the commands run since compare reset it
}

// newPeerBench builds the binary, checks the Python peer and makes (or
// reuses) the data set. imports lists the Python modules the peer needs.
func newPeerBench(b *testing.B, imports ...string) *peerBench {
	b.Helper()
	if out, err := exec.Command(peerPython, "-c", "import "+strings.Join(imports, ", ")).CombinedOutput(); err != nil {
		b.Skipf("the Python peer needs %s for %s: %v: %s", strings.Join(imports, ", "), peerPython, err, bytes.TrimSpace(out))
	}
	runs := 1
	if s := os.Getenv("CASERISK_BENCH_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("CASERISK_BENCH_RUNS=%q: want a positive integer", s)
		}
		runs = n
	}
	dir := os.Getenv("CASERISK_PEER_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "caserisk-peer-bench-make_classification-1e6x40-rs7")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "explain.csv")); err != nil {
		b.Logf("writing the data set to %s (once)", dir)
		if out, err := exec.Command(peerPython, "-c", peerGenerate, dir).CombinedOutput(); err != nil {
			b.Fatalf("generating the data set: %v: %s", err, out)
		}
	}
	bin := filepath.Join(b.TempDir(), "caserisk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := exec.Command("uptime").Output(); err == nil {
		b.Logf("load: %s", bytes.TrimSpace(out))
	}
	return &peerBench{dir: dir, bin: bin, runs: runs}
}

func (p *peerBench) path(name string) string { return filepath.Join(p.dir, name) }

// caserisk runs the binary once and returns its wall time and its
// standard output.
func (p *peerBench) caserisk(b *testing.B, args ...string) (float64, []byte) {
	b.Helper()
	return p.run(b, exec.Command(p.bin, args...))
}

// python runs a peer script once and returns its wall time and its
// standard output.
func (p *peerBench) python(b *testing.B, script string, args ...string) (float64, []byte) {
	b.Helper()
	return p.run(b, exec.Command(peerPython, append([]string{"-c", script}, args...)...))
}

// run runs a command, adds its CPU time (user and system, all threads) to
// p.cpu, and returns its wall time and standard output.
func (p *peerBench) run(b *testing.B, cmd *exec.Cmd) (float64, []byte) {
	b.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	out, err := cmd.Output()
	secs := time.Since(t0).Seconds()
	if err != nil {
		b.Fatalf("%s: %v\n%s\n%s", strings.Join(cmd.Args, " "), err, out, stderr.Bytes())
	}
	p.cpu += (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	return secs, out
}

// compare alternates the peer and caserisk p.runs times each and reports
// the medians of the wall times and their ratio (caserisk / peer), and
// the medians of the CPU times (which tell more than wall times when
// other work shares the cores).
func (p *peerBench) compare(b *testing.B, peer string, runPeer, runOurs func()) (ours, theirs float64) {
	b.Helper()
	var os_, ts, ocpu, tcpu []float64
	for range p.runs {
		t0 := time.Now()
		p.cpu = 0
		runPeer()
		ts = append(ts, time.Since(t0).Seconds())
		tcpu = append(tcpu, p.cpu)
		t0 = time.Now()
		p.cpu = 0
		runOurs()
		os_ = append(os_, time.Since(t0).Seconds())
		ocpu = append(ocpu, p.cpu)
	}
	ours, theirs = medianOf(os_), medianOf(ts)
	b.ReportMetric(ours, "caserisk_s")
	b.ReportMetric(theirs, peer+"_s")
	b.ReportMetric(ours/theirs, "ratio")
	b.ReportMetric(medianOf(ocpu), "caserisk_cpu_s")
	b.ReportMetric(medianOf(tcpu), peer+"_cpu_s")
	b.Logf("whole commands, medians of %d: caserisk %.2f s, %s %.2f s: ratio %.3f (caserisk runs %v, %s runs %v); CPU %.2f s against %.2f s",
		p.runs, ours, peer, theirs, ours/theirs, roundSeconds(os_), peer, roundSeconds(ts), medianOf(ocpu), medianOf(tcpu))
	if out, err := exec.Command("uptime").Output(); err == nil {
		b.Logf("load after: %s", bytes.TrimSpace(out))
	}
	return ours, theirs
}

func medianOf(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func roundSeconds(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(x*100) / 100
	}
	return out
}

// evaluateReport runs `caserisk evaluate --json` without bootstrap and
// returns the report's ROC-AUC and log-loss.
func (p *peerBench) evaluateReport(b *testing.B, model, data string) (auc, logLoss float64) {
	b.Helper()
	_, out := p.caserisk(b, "evaluate", "--model", model, "--data", data, "--bootstrap", "-1", "--json")
	var ev struct {
		Report struct {
			ROCAUC struct {
				Value float64 `json:"value"`
			} `json:"roc_auc"`
			LogLoss struct {
				Value float64 `json:"value"`
			} `json:"log_loss"`
		} `json:"report"`
	}
	if err := json.Unmarshal(out, &ev); err != nil || ev.Report.ROCAUC.Value == 0 {
		b.Fatalf("evaluate --json: %v: %.300s", err, out)
	}
	return ev.Report.ROCAUC.Value, ev.Report.LogLoss.Value
}

// Settings of the GBDT comparison (the models/gbdt benchmark's).
var gbdtBenchArgs = []string{"--rounds", "200", "--max-depth", "6", "--learning-rate", "0.1", "--max-bin", "256", "--threads", "2"}

// xgbTrainScript is XGBoost's whole command: read the CSV with pandas,
// train with the same settings (hist, no watchlist), save the model.
const xgbTrainScript = `
import sys, pandas as pd, xgboost as xgb
df = pd.read_csv(sys.argv[1])
y = df.pop("label")
d = xgb.DMatrix(df, label=y, nthread=2)
params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "eta": 0.1,
          "max_bin": 256, "nthread": 2, "verbosity": 0}
xgb.train(params, d, num_boost_round=200).save_model(sys.argv[2])
`

// xgbAUCScript scores the test CSV with a saved XGBoost model (not timed).
const xgbAUCScript = `
import sys, pandas as pd, xgboost as xgb
from sklearn.metrics import roc_auc_score
df = pd.read_csv(sys.argv[2])
y = df.pop("label")
b = xgb.Booster(model_file=sys.argv[1])
print(roc_auc_score(y, b.predict(xgb.DMatrix(df, nthread=2), output_margin=True)))
`

// BenchmarkTrainCommandVsXGBoost compares `caserisk train --algo gbdt`
// with XGBoost 1.7's hist (pandas read_csv, DMatrix, train, save_model) as
// whole commands on the same 800k × 40 CSV: 200 rounds, depth 6, eta 0.1,
// 256 bins, 2 threads. Bar: ratio ≤ 0.7, test AUC within 0.002.
func BenchmarkTrainCommandVsXGBoost(b *testing.B) {
	p := newPeerBench(b, "pandas", "xgboost", "sklearn")
	ours, theirs := filepath.Join(b.TempDir(), "model.json"), filepath.Join(b.TempDir(), "xgb.json")
	var line []byte
	for range b.N {
		p.compare(b, "xgboost", func() {
			p.python(b, xgbTrainScript, p.path("train.csv"), theirs)
		}, func() {
			_, line = p.caserisk(b, append([]string{"train", "--data", p.path("train.csv"), "--label", "label",
				"--algo", "gbdt", "--out", ours}, gbdtBenchArgs...)...)
		})
	}
	b.Logf("caserisk train said:\n%s", line)
	aucOurs, _ := p.evaluateReport(b, ours, p.path("test.csv"))
	_, out := p.python(b, xgbAUCScript, theirs, p.path("test.csv"))
	aucTheirs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatalf("xgboost AUC %q: %v", out, err)
	}
	b.ReportMetric(aucOurs, "auc_caserisk")
	b.ReportMetric(aucTheirs, "auc_xgboost")
	b.Logf("test AUC: caserisk %.4f, xgboost %.4f (difference %+.4f)", aucOurs, aucTheirs, aucOurs-aucTheirs)
}

// sklearnTrainScript is scikit-learn's whole command: read the CSV with
// pandas, fit an unpenalised logistic regression with lbfgs on
// standardised features, pickle the pipeline.
const sklearnTrainScript = `
import sys, pickle, pandas as pd
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
df = pd.read_csv(sys.argv[1])
y = df.pop("label")
m = make_pipeline(StandardScaler(), LogisticRegression(penalty=None, solver="lbfgs", max_iter=1000))
m.fit(df.to_numpy(), y.to_numpy())
with open(sys.argv[2], "wb") as f:
    pickle.dump(m, f)
`

// sklearnLossScript is the test log-loss of the pickled pipeline (not timed).
const sklearnLossScript = `
import sys, pickle, pandas as pd
from sklearn.metrics import log_loss
df = pd.read_csv(sys.argv[2])
y = df.pop("label")
m = pickle.load(open(sys.argv[1], "rb"))
print(log_loss(y, m.predict_proba(df.to_numpy())[:, 1]))
`

// BenchmarkTrainCommandVsSklearn compares `caserisk train --algo
// logistic` (unpenalised, its default) with scikit-learn's unpenalised
// lbfgs LogisticRegression as whole commands on the same 800k × 40 CSV.
// Bar: ratio ≤ 0.7, test log-loss within 1e-4.
func BenchmarkTrainCommandVsSklearn(b *testing.B) {
	p := newPeerBench(b, "pandas", "sklearn")
	ours, theirs := filepath.Join(b.TempDir(), "model.json"), filepath.Join(b.TempDir(), "sk.pkl")
	var line []byte
	for range b.N {
		p.compare(b, "sklearn", func() {
			p.python(b, sklearnTrainScript, p.path("train.csv"), theirs)
		}, func() {
			_, line = p.caserisk(b, "train", "--data", p.path("train.csv"), "--label", "label",
				"--algo", "logistic", "--threads", "2", "--out", ours)
		})
	}
	b.Logf("caserisk train said:\n%s", line)
	_, lossOurs := p.evaluateReport(b, ours, p.path("test.csv"))
	_, out := p.python(b, sklearnLossScript, theirs, p.path("test.csv"))
	lossTheirs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatalf("sklearn log-loss %q: %v", out, err)
	}
	b.ReportMetric(lossOurs, "logloss_caserisk")
	b.ReportMetric(lossTheirs, "logloss_sklearn")
	b.Logf("test log-loss: caserisk %.6f, sklearn %.6f (difference %.2g)", lossOurs, lossTheirs, lossOurs-lossTheirs)
	if d := math.Abs(lossOurs - lossTheirs); d > 1e-4 {
		b.Errorf("test log-loss differs by %.2g > 1e-4", d)
	}
}

// xgbExplainScript is XGBoost's whole explaining command: load the model,
// read the CSV, pred_contribs, write the margin, the probability and the
// contributions as CSV.
const xgbExplainScript = `
import sys, numpy as np, pandas as pd, xgboost as xgb
b = xgb.Booster(model_file=sys.argv[1])
b.set_param({"nthread": 2})
df = pd.read_csv(sys.argv[2])
c = b.predict(xgb.DMatrix(df, nthread=2), pred_contribs=True)
margin = c.sum(axis=1, dtype=np.float64)
out = pd.DataFrame(c, columns=["shap_" + n for n in df.columns] + ["shap_bias"])
out.insert(0, "margin", margin)
out.insert(0, "score", 1 / (1 + np.exp(-margin)))
out.to_csv(sys.argv[3], index=False)
`

// BenchmarkExplainCommandVsXGBoost compares `caserisk score --explain`
// with XGBoost's pred_contribs as whole commands (load the model, read
// the CSV, explain, write the CSV) on 10,000 rows, with the same
// 200-tree depth-6 model: XGBoost's, trained once on train.csv, imported
// into caserisk with `caserisk import`. The contributions of the two
// outputs are compared value for value. Bar: XGBoost's time ≥ 15 × ours.
func BenchmarkExplainCommandVsXGBoost(b *testing.B) {
	p := newPeerBench(b, "pandas", "xgboost")
	xgbModel := p.path("xgb-200x6.json")
	if _, err := os.Stat(xgbModel); err != nil {
		b.Logf("training the XGBoost model to explain (once)")
		tmp := p.path("xgb-200x6.tmp.json") // XGBoost picks the format by the extension
		p.python(b, xgbTrainScript, p.path("train.csv"), tmp)
		if err := os.Rename(tmp, xgbModel); err != nil {
			b.Fatal(err)
		}
	}
	tmp := b.TempDir()
	model := filepath.Join(tmp, "model.json")
	p.caserisk(b, "import", "--from", "xgboost", xgbModel, "--out", model, "--target", "label")
	ours, theirs := filepath.Join(tmp, "ours.csv"), filepath.Join(tmp, "theirs.csv")
	for range b.N {
		o, t := p.compare(b, "xgboost", func() {
			p.python(b, xgbExplainScript, xgbModel, p.path("explain.csv"), theirs)
		}, func() {
			p.caserisk(b, "score", "--model", model, "--data", p.path("explain.csv"), "--out", ours, "--explain")
		})
		b.ReportMetric(t/o, "x_faster")
	}
	diff := maxCSVDiff(b, ours, theirs)
	b.ReportMetric(diff, "max_contribution_diff")
	b.Logf("largest difference between the two outputs' contributions, margins and scores: %.3g", diff)
	if diff > 1e-4 {
		b.Errorf("contributions differ by up to %.3g", diff)
	}
}

// maxCSVDiff reads two CSV files with the same numeric columns (in any
// order, matched by name) and returns the largest absolute difference.
func maxCSVDiff(b *testing.B, a, c string) float64 {
	b.Helper()
	read := func(path string) map[string][]float64 {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			b.Fatalf("%s: %v", path, err)
		}
		cols := map[string][]float64{}
		for j, name := range recs[0] {
			col := make([]float64, len(recs)-1)
			for i, r := range recs[1:] {
				if col[i], err = strconv.ParseFloat(r[j], 64); err != nil {
					b.Fatalf("%s: line %d, %s: %v", path, i+2, name, err)
				}
			}
			cols[name] = col
		}
		return cols
	}
	x, y := read(a), read(c)
	if len(x) != len(y) {
		b.Fatalf("%s has %d columns, %s %d", a, len(x), c, len(y))
	}
	worst := 0.0
	for name, col := range x {
		other, ok := y[name]
		if !ok || len(other) != len(col) {
			b.Fatalf("column %s: %d values in %s, %d in %s", name, len(col), a, len(other), c)
		}
		for i := range col {
			worst = max(worst, math.Abs(col[i]-other[i]))
		}
	}
	return worst
}
