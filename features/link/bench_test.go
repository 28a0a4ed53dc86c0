package link

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"caserisk/features/synth"
)

// linkDir links the raw directory dir/raw, evaluates against
// dir/oracle/links.csv and logs counts, metrics and timings.
func linkDir(tb testing.TB, dir string, cfg Config) (*Result, Metrics) {
	tb.Helper()
	ctx := context.Background()
	t0 := time.Now()
	recs, err := ReadRecords(ctx, filepath.Join(dir, "raw"))
	if err != nil {
		tb.Fatal(err)
	}
	tread := time.Since(t0)
	res, err := Link(ctx, recs, cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	truth, err := ReadTruth(filepath.Join(dir, "oracle", "links.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	m := Evaluate(res, truth)
	tb.Logf("read %.2fs; records %d, distinct %d, candidate pairs %d, links %d, clusters %d, refused %d %v, EM iterations %d",
		tread.Seconds(), res.Stats.Records, res.Stats.Nodes, res.Stats.CandidatePairs, res.Stats.Links, res.Stats.Clusters,
		res.Stats.Refused, res.Stats.RefusedBy, res.Stats.EMIterations)
	for _, r := range res.Stats.Rules {
		tb.Log(r)
	}
	for _, s := range res.Stats.Sessions {
		tb.Logf("session %s: %d pairs, lambda %.4f, %d iterations, estimates %v", s.Rule, s.Pairs, s.Lambda, s.Iterations, s.Estimated)
	}
	if os.Getenv("CASERISK_LINK_WEIGHTS") != "" {
		for f := 0; f < NumFields; f++ {
			line := FieldNames[f] + ":"
			for lv := 1; lv < len(LevelNames[f]); lv++ {
				line += fmt.Sprintf(" %s m=%.4f u=%.5f w=%.1f;", LevelNames[f][lv], res.Model.M[f][lv], res.Model.U[f][lv], res.Model.Weight(f, lv))
			}
			tb.Log(line)
		}
	}
	tb.Logf("phases %+v", res.Stats.Phases)
	tb.Logf("lambda %.5f\n%s", res.Model.Lambda, m)
	return res, m
}

// TestLinkDir links a generated borough named by CASERISK_LINK_DIR (for
// development; skipped without it).
func TestLinkDir(t *testing.T) {
	dir := os.Getenv("CASERISK_LINK_DIR")
	if dir == "" {
		t.Skip("CASERISK_LINK_DIR not set")
	}
	cfg := DefaultConfig()
	if y := os.Getenv("CASERISK_LINK_CONFIG"); y != "" {
		var err error
		if cfg, err = ParseConfig([]byte(y), "env"); err != nil {
			t.Fatal(err)
		}
	}
	res, _ := linkDir(t, dir, cfg)
	if os.Getenv("CASERISK_LINK_WRITE") != "" {
		t0 := time.Now()
		if err := res.WriteFiles(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		t.Logf("linkage files written in %.2fs", time.Since(t0).Seconds())
	}
	if os.Getenv("CASERISK_LINK_SWEEP") != "" {
		truth, err := ReadTruth(filepath.Join(dir, "oracle", "links.csv"))
		if err != nil {
			t.Fatal(err)
		}
		for _, th := range []float64{0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999} {
			res.Config.Threshold = th
			if err := res.cluster(context.Background(), nil, nil); err != nil {
				t.Fatal(err)
			}
			m := Evaluate(res, truth)
			t.Logf("threshold %g: precision %.4f recall %.4f F1 %.4f false merges %d", th, m.Precision, m.Recall, m.F1, m.FalseMerges)
		}
	}
	if p := os.Getenv("CASERISK_LINK_MODEL"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		res.WriteModel(f)
		f.Close()
	}
}

// benchDir returns the borough BenchmarkLink links: $CASERISK_LINK_BENCH_DIR
// when set (generate one with `caserisk generate --residents 240000
// --raw`), else a 20,000-resident raw borough generated once into
// os.TempDir() and kept there for later runs.
func benchDir(b *testing.B) string {
	if dir := os.Getenv("CASERISK_LINK_BENCH_DIR"); dir != "" {
		return dir
	}
	const residents, seed = 20000, 11
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("caserisk-link-bench-%d-%d", residents, seed))
	if _, err := os.Stat(filepath.Join(dir, "raw", "done")); err == nil {
		return dir
	}
	b.Logf("generating a %d-resident raw borough in %s (once)", residents, dir)
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	cfg := synth.Config{Residents: residents, Seed: seed, AsOf: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), YearsBefore: 4, Version: "bench"}
	if _, err := synth.Generate(ctx, cfg, dir); err != nil {
		b.Fatal(err)
	}
	if _, err := synth.GenerateRaw(ctx, synth.RawConfig{Seed: seed}, dir); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "raw", "done"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkLink links the raw extracts of a borough (see benchDir) and
// reports precision, recall, seconds and peak heap.
func BenchmarkLink(b *testing.B) {
	dir := benchDir(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var peak atomic.Uint64
		stop := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak.Load() {
					peak.Store(ms.HeapAlloc)
				}
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
			}
		}()
		t0 := time.Now()
		_, m := linkDir(b, dir, DefaultConfig())
		close(stop)
		b.ReportMetric(time.Since(t0).Seconds(), "s")
		b.ReportMetric(m.Precision, "precision")
		b.ReportMetric(m.Recall, "recall")
		b.ReportMetric(m.BlockingRecall, "blocking-recall")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	}
}
