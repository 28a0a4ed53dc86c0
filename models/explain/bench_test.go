package explain

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"caserisk/models/tree"
)

func BenchmarkTreeSHAPSynthetic(b *testing.B) {
	r := rand.New(rand.NewPCG(41, 7))
	e := tree.Ensemble{NumFeatures: 40}
	for range 200 {
		e.Trees = append(e.Trees, randomTree(r, 40, 6, 0))
	}
	rows := randomRows(r, 10000, 40, 0.1)
	var X []float64
	for _, x := range rows {
		X = append(X, x...)
	}
	start := time.Now()
	ex := TreeSHAP(&e)
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "compile_ms")
	out := make([]float64, len(rows)*41)
	b.ResetTimer()
	for b.Loop() {
		if err := ex.ContributionsBatch(context.Background(), X, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N)/float64(len(rows)), "ms_per_row")
	one := make([]float64, 41)
	start = time.Now()
	for _, x := range rows[:2000] {
		ex.Contributions(x, one)
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/1e6/2000, "single_ms_per_row")
	start = time.Now()
	for _, x := range rows[:200] {
		_ = TreeSHAPReference(&e, x, one)
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/1e6/200, "reference_ms_per_row")
}
