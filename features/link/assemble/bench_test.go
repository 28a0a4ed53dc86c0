package assemble

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"caserisk/features/contract"
)

// BenchmarkWrite assembles the borough in $CASERISK_LINK_BENCH_DIR (a
// generated borough with raw/ and oracle/links.csv, e.g. 240,000
// residents) with the oracle's mapping, and reports the inferred
// residences' agreement with the borough's true residences.csv at the
// as-of date (12 months before the extract's end).
func BenchmarkWrite(b *testing.B) {
	dir := os.Getenv("CASERISK_LINK_BENCH_DIR")
	if dir == "" {
		b.Skip("set CASERISK_LINK_BENCH_DIR to a generated borough with raw/ and oracle/links.csv")
	}
	ids := readLinks(b, filepath.Join(dir, contract.RawLinksFile))
	out := b.TempDir()
	ctx := context.Background()
	var rep *Report
	b.ResetTimer()
	for range b.N {
		var err error
		t0 := time.Now()
		if rep, err = Write(ctx, filepath.Join(dir, "raw"), out, ids, Options{}); err != nil {
			b.Fatal(err)
		}
		b.Logf("write: %.1fs, %d residents, %d residences", time.Since(t0).Seconds(), rep.Residents, rep.Residences)
	}
	b.StopTimer()
	rows := 0
	for _, f := range rep.Files {
		rows += f.Rows
	}
	b.ReportMetric(float64(rows), "rows")
	end := contract.MustParseDay(rep.ExtractDate)
	ag, err := CompareResidences(ctx, dir, out, end.AddMonths(-contract.LabelHorizonMonths), contract.MustParseDay(rep.HistoryStart), end)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ag.ShareAtAsOf, "same-uprn-at-as-of")
	b.ReportMetric(ag.ShareOfDays, "same-uprn-days")
	b.Logf("residence: %+v", rep.Residence)
	b.Logf("agreement: %+v", *ag)
}
