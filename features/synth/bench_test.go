package synth

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// peakRSSMiB returns the process's peak resident set size (VmHWM) in MiB,
// or -1 where /proc is not available.
func peakRSSMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err != nil {
				return -1
			}
			return kb / 1024
		}
	}
	return -1
}

// BenchmarkGenerate240k generates the default borough (240,000 residents,
// four years of history) and reports wall seconds, peak RSS and rows per
// file. Targets: ≤ 60 s and ≤ 2 GB on 2 cores.
func BenchmarkGenerate240k(b *testing.B) {
	cfg := Config{Residents: 240_000, Seed: 7, AsOf: testAsOf, YearsBefore: 4, Version: "bench"}
	// Reset the peak RSS so it measures this benchmark (Linux ≥ 4.0).
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	var m *Manifest
	var secs float64
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		start := time.Now()
		var err error
		m, err = Generate(context.Background(), cfg, dir)
		if err != nil {
			b.Fatal(err)
		}
		secs = time.Since(start).Seconds()
		b.StopTimer()
		_ = os.RemoveAll(dir)
		b.StartTimer()
	}
	total := 0
	for name, n := range m.Rows {
		total += n
		b.ReportMetric(float64(n), "rows:"+strings.TrimSuffix(strings.ReplaceAll(name, "/", "_"), ".csv"))
	}
	b.ReportMetric(secs, "s/run")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
	b.ReportMetric(float64(total), "rows-total")
	b.ReportMetric(float64(total)/secs, "rows/s")
}
