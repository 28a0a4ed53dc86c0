package gbdt

import (
	"caserisk/models/tree"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
)

// Settings of the side-by-side benchmark with XGBoost.
const (
	benchRows    = 1_000_000
	benchFeat    = 40
	benchTrain   = 800_000
	benchRounds  = 200
	benchDepth   = 6
	benchEta     = 0.1
	benchMaxBin  = 256
	benchThreads = 2
)

// benchData returns the make_classification data set of the benchmark,
// generated once with sklearn and cached under os.TempDir().
func benchData(b *testing.B) (dir string, X, y []float64) {
	dir = filepath.Join(os.TempDir(), fmt.Sprintf("caserisk-gbdt-bench-mc-n%d-f%d-i15-r5-w0.95-flip0.02-rs7", benchRows, benchFeat))
	xPath, yPath := filepath.Join(dir, "X.f64"), filepath.Join(dir, "y.f64")
	if st, err := os.Stat(yPath); err != nil || st.Size() != 8*benchRows {
		tmp, err := os.MkdirTemp(os.TempDir(), "caserisk-gbdt-gen-")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		script := filepath.Join(tmp, "gen.py")
		if err := os.WriteFile(script, []byte(genScript), 0o644); err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(debianPython, script, tmp, strconv.Itoa(benchRows), strconv.Itoa(benchFeat))
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("generating the data set: %v: %s", err, out)
		}
		os.RemoveAll(dir)
		if err := os.Rename(tmp, dir); err != nil {
			b.Fatal(err)
		}
	}
	var err error
	if X, err = readF64(xPath); err != nil {
		b.Fatal(err)
	}
	if y, err = readF64(yPath); err != nil {
		b.Fatal(err)
	}
	if len(X) != benchRows*benchFeat || len(y) != benchRows {
		b.Fatalf("cached data set in %s has %d values and %d labels", dir, len(X), len(y))
	}
	return dir, X, y
}

// columns returns rows [lo, hi) of row-major X as columns.
func columns(X []float64, d, lo, hi int) [][]float64 {
	cols := make([][]float64, d)
	for j := range cols {
		cols[j] = make([]float64, hi-lo)
		for i := lo; i < hi; i++ {
			cols[j][i-lo] = X[i*d+j]
		}
	}
	return cols
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkTrainVsXGBoost trains caserisk and XGBoost 1.7 (tree_method=hist)
// with the same settings on the same 800k x 40 rows, alternating runs, and
// reports the median training times (wall and CPU), the wall-time ratio
// and each model's test AUC on the 200k held-out rows. CASERISK_BENCH_RUNS sets the number of runs of
// each (default 3).
func BenchmarkTrainVsXGBoost(b *testing.B) {
	if why := havePython(); why != "" {
		b.Skip(why)
	}
	runs := 3
	if s := os.Getenv("CASERISK_BENCH_RUNS"); s != "" {
		var err error
		if runs, err = strconv.Atoi(s); err != nil || runs < 1 {
			b.Fatalf("CASERISK_BENCH_RUNS=%q: want a positive integer", s)
		}
	}
	dir, X, y := benchData(b)
	trCols := columns(X, benchFeat, 0, benchTrain)
	teCols := columns(X, benchFeat, benchTrain, benchRows)
	ytr, yte := y[:benchTrain], y[benchTrain:]

	p := DefaultParams()
	p.Rounds, p.MaxDepth, p.LearningRate, p.MaxBin, p.Threads = benchRounds, benchDepth, benchEta, benchMaxBin, benchThreads
	p.TrainLoss = false // XGBoost is given no watchlist either
	var ours, theirs, oursCPU, theirsCPU []float64
	var aucOurs, aucTheirs float64
	for range b.N {
		for r := 0; r < runs; r++ {
			xr, err := runXGBoost(dir, benchFeat, benchTrain, benchRounds, benchDepth, benchEta, benchMaxBin, benchThreads)
			if err != nil {
				b.Fatal(err)
			}
			theirs = append(theirs, xr.Seconds)
			theirsCPU = append(theirsCPU, xr.CPU)
			aucTheirs = auc(yte, xr.Margins)

			runtime.GC()
			var res *Result
			c0 := processCPUSeconds()
			ours = append(ours, elapsed(func() {
				res, err = Train(context.Background(), trCols, ytr, nil, nil, p)
			}))
			oursCPU = append(oursCPU, processCPUSeconds()-c0)
			if err != nil {
				b.Fatal(err)
			}
			m := make([]float64, len(yte))
			x := make([]float64, benchFeat)
			for i := range m {
				for j := range x {
					x[j] = teCols[j][i]
				}
				m[i] = res.Ensemble.Margin(x)
			}
			aucOurs = auc(yte, m)
		}
	}
	b.ReportMetric(median(ours), "caserisk_s")
	b.ReportMetric(median(theirs), "xgboost_s")
	b.ReportMetric(median(ours)/median(theirs), "ratio")
	b.ReportMetric(aucOurs, "auc_caserisk")
	b.ReportMetric(aucTheirs, "auc_xgboost")
	// CPU seconds tell more than wall time when other processes share the
	// cores (both are medians over the runs).
	b.ReportMetric(median(oursCPU), "caserisk_cpu_s")
	b.ReportMetric(median(theirsCPU), "xgboost_cpu_s")
}

// BenchmarkPredict scores rows with a 200-tree, depth-6 model over 40
// features on ONE core (GOMAXPROCS 1 inside, restored after), with the
// compiled predictor (rows/s, and rows per CPU second, which is what one
// core does when other processes share the machine) and, for comparison, Ensemble.Margin row by
// row (margin_rows/s), on dense rows and on rows with 5% missing values.
func BenchmarkPredict(b *testing.B) {
	for _, c := range []struct {
		name string
		miss float64
	}{{"dense", 0}, {"missing5pct", 0.05}} {
		b.Run(c.name, func(b *testing.B) {
			cols, y := synth(20000, 40, c.miss, 21)
			p := DefaultParams()
			p.Rounds, p.MaxDepth, p.LearningRate, p.TrainLoss = 200, 6, 0.1, false
			res, err := Train(context.Background(), cols, y, nil, nil, p)
			if err != nil {
				b.Fatal(err)
			}
			comp, err := tree.Compile(res.Ensemble)
			if err != nil {
				b.Fatal(err)
			}
			tcols, _ := synth(200_000, 40, c.miss, 22)
			rows := make([][]float64, len(tcols[0]))
			for i := range rows {
				rows[i] = rowOf(tcols, i)
			}
			out := make([]float64, len(rows))
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			b.ResetTimer()
			var compiled, compiledCPU, plain float64
			for range b.N {
				c0 := processCPUSeconds()
				compiled += elapsed(func() {
					if err := comp.Margins(rows, out); err != nil {
						b.Fatal(err)
					}
				})
				compiledCPU += processCPUSeconds() - c0
				plain += elapsed(func() {
					for i, x := range rows {
						if m := res.Ensemble.Margin(x); m != out[i] {
							b.Fatalf("row %d: compiled %v, Margin %v", i, out[i], m)
						}
					}
				})
			}
			b.ReportMetric(float64(b.N*len(rows))/compiled, "rows/s")
			// Per CPU second: what one core does when it is not shared.
			b.ReportMetric(float64(b.N*len(rows))/compiledCPU, "rows/cpu_s")
			b.ReportMetric(float64(b.N*len(rows))/plain, "margin_rows/s")
		})
	}
}
