package build

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"caserisk/features/contract"
	"caserisk/features/spec"
	"caserisk/features/synth"
)

// benchBorough returns a generated borough of n residents, cached under
// the temporary directory across benchmark runs (the manifest, written
// last, marks a complete one).
func benchBorough(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "caserisk-bench", fmt.Sprintf("borough-%d-seed1-2024-01-01", n))
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		return dir
	}
	tmp := dir + fmt.Sprintf(".tmp%d", os.Getpid())
	os.RemoveAll(tmp)
	start := time.Now()
	_, err := synth.Generate(context.Background(), synth.Config{Residents: n, Seed: 1,
		AsOf: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), YearsBefore: 4}, tmp)
	if err != nil {
		b.Fatalf("generate %d residents: %v", n, err)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d residents in %s into %s", n, time.Since(start).Round(time.Second), dir)
	return dir
}

// peakMemory samples the memory the process holds from the OS (all Go
// memory classes minus heap returned to the OS) until stop is called.
func peakMemory() (stop func() uint64) {
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	read := func() {
		metrics.Read(samples)
		v := samples[0].Value.Uint64() - samples[1].Value.Uint64()
		mu.Lock()
		peak = max(peak, v)
		mu.Unlock()
	}
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() uint64 {
		close(done)
		read()
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// buildOnce builds and writes the resident features of dir as of asOf,
// returning the wall time, the input rows read and the peak memory.
func buildOnce(b *testing.B, dir string, asOf contract.Day) (time.Duration, int, uint64) {
	b.Helper()
	// As the features command does (cmd/caserisk/features.go).
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(4 << 30))
	}
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	runtime.GC()
	debug.FreeOSMemory()
	stop := peakMemory()
	start := time.Now()
	tb, err := Build(context.Background(), Options{Dir: dir, Entity: spec.Resident, AsOf: []contract.Day{asOf}})
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(b.TempDir(), "features.csv")
	if err := tb.WriteFiles(out); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	read := 0
	for _, in := range tb.Inputs {
		read += in.RowsRead
	}
	return el, read, stop()
}

func benchBuild(b *testing.B, n int, pandas bool) {
	dir := benchBorough(b, n)
	asOf := day("2023-01-01")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		el, rows, peak := buildOnce(b, dir, asOf)
		b.ReportMetric(el.Seconds(), "s/build")
		b.ReportMetric(float64(rows)/el.Seconds(), "input-rows/s")
		b.ReportMetric(float64(peak)/(1<<30), "peak-GiB")
		b.Logf("%d residents: %d input rows in %s, peak %.2f GiB (GOMAXPROCS %d)", n, rows, el.Round(time.Millisecond), float64(peak)/(1<<30), runtime.GOMAXPROCS(0))
		if pandas {
			b.StopTimer()
			secs, err := runPandas(b, dir, asOf)
			b.StartTimer()
			if err != nil {
				b.Logf("pandas peer not run: %v", err)
				continue
			}
			b.ReportMetric(secs/el.Seconds(), "x-faster-than-pandas")
			b.Logf("pandas: %.1f s for the spec aggregations; caserisk %.1f s for those and the signals (%.1fx)", secs, el.Seconds(), secs/el.Seconds())
		}
	}
}

// BenchmarkFeatures240k builds a 240,000-resident borough's features (the
// bar: 30 s on 2 cores) and compares with pandas doing the spec's
// aggregations for the same as-of date in the same run.
func BenchmarkFeatures240k(b *testing.B) { benchBuild(b, 240_000, true) }

// BenchmarkFeatures1M builds a 1,000,000-resident borough's features (the
// bar: 120 s and 6 GB peak memory on 2 cores).
func BenchmarkFeatures1M(b *testing.B) { benchBuild(b, 1_000_000, false) }

//go:embed testdata/pandas_features.py
var pandasScript []byte

// pandasJob describes the spec aggregations for the pandas peer.
type pandasJob struct {
	Dir      string                       `json:"dir"`
	AsOf     string                       `json:"as_of"`
	Out      string                       `json:"out"`
	Features []pandasFeature              `json:"features"`
	Recorded map[string]string            `json:"recorded"` // file -> recorded date column
	Legacy   map[string]map[string]string `json:"legacy"`   // "file:column" -> legacy code -> code
	tmp      string
}

type pandasFeature struct {
	Name    string              `json:"name"`
	File    string              `json:"file"`
	Date    string              `json:"date"`
	Scope   string              `json:"scope"`
	Agg     string              `json:"agg"`
	Column  string              `json:"column"`
	Window  int                 `json:"window"`
	Where   map[string][]string `json:"where"`
	ShareOf map[string][]string `json:"share_of"`
}

// pandasJobFor describes the default spec's resident aggregations for the pandas peer.
func pandasJobFor(dir string, asOf contract.Day, tmp string) (*pandasJob, error) {
	sp, err := spec.Default()
	if err != nil {
		return nil, err
	}
	c := contract.Default()
	job := &pandasJob{Dir: dir, AsOf: asOf.String(), Out: filepath.Join(tmp, "pandas.csv"), tmp: tmp,
		Recorded: map[string]string{}, Legacy: map[string]map[string]string{}}
	for _, f := range sp.Resident.Features {
		file, _ := c.File(f.Service)
		pf := pandasFeature{Name: f.Name, File: file.Name, Date: file.EventDate, Scope: f.Scope, Agg: f.Agg,
			Column: f.Column, Window: f.Window, Where: map[string][]string{}, ShareOf: map[string][]string{}}
		for _, w := range f.Where {
			pf.Where[w.Column] = w.Codes
		}
		for _, w := range f.ShareOf {
			pf.ShareOf[w.Column] = w.Codes
		}
		job.Features = append(job.Features, pf)
		if file.RecordedDate != "" {
			job.Recorded[file.Name] = file.RecordedDate
		}
		for _, col := range file.Columns {
			if len(col.Legacy) > 0 {
				job.Legacy[file.Name+":"+col.Name] = col.Legacy
			}
		}
	}
	return job, nil
}

// runPandasJob runs the embedded pandas script with Debian's python3 and
// returns the seconds it reports for reading, aggregating and writing.
func runPandasJob(job *pandasJob) (float64, error) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import pandas").Run(); err != nil {
		return 0, fmt.Errorf("python3-pandas not installed for %s: %v", py, err)
	}
	jb, err := json.Marshal(job)
	if err != nil {
		return 0, err
	}
	jobPath, scriptPath := filepath.Join(job.tmp, "job.json"), filepath.Join(job.tmp, "pandas_features.py")
	if err := os.WriteFile(jobPath, jb, 0o644); err != nil {
		return 0, err
	}
	if err := os.WriteFile(scriptPath, pandasScript, 0o644); err != nil {
		return 0, err
	}
	out, err := exec.Command(py, scriptPath, jobPath).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pandas script: %v: %s", err, out)
	}
	lines := strings.Fields(strings.TrimSpace(string(out)))
	if len(lines) == 0 {
		return 0, fmt.Errorf("pandas script printed nothing")
	}
	return strconv.ParseFloat(lines[len(lines)-1], 64)
}

// runPandas runs the pandas peer on dir as of asOf.
func runPandas(b *testing.B, dir string, asOf contract.Day) (float64, error) {
	job, err := pandasJobFor(dir, asOf, b.TempDir())
	if err != nil {
		return 0, err
	}
	return runPandasJob(job)
}
