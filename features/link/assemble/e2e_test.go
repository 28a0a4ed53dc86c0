package assemble

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"caserisk/features/build"
	"caserisk/features/contract"
	"caserisk/features/spec"
	"caserisk/features/synth"
)

// TestGeneratedRaw assembles the raw extracts of a small generated borough
// with the oracle's mapping: rows are conserved, every file validates, the
// inferred residences mostly agree with the truth, and the feature builder
// builds a resident table with labels from the output.
func TestGeneratedRaw(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	asOf := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := synth.Generate(ctx, synth.Config{Residents: 2000, Seed: 5, AsOf: asOf, YearsBefore: 3}, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := synth.GenerateRaw(ctx, synth.RawConfig{Seed: 5}, dir); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(dir, "raw")
	ids := readLinks(t, filepath.Join(dir, contract.RawLinksFile))
	out := filepath.Join(dir, "out")
	rep, err := Write(ctx, raw, out, ids, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, out)
	checkConserved(t, raw, out)
	if rep.RecordsNotFound != 0 {
		t.Errorf("%d mapped records found nowhere", rep.RecordsNotFound)
	}
	day := contract.DayOf(asOf)
	ag, err := CompareResidences(ctx, dir, out, day, contract.MustParseDay(rep.HistoryStart), contract.MustParseDay(rep.ExtractDate))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("residence: %+v", rep.Residence)
	t.Logf("agreement: %+v", *ag)
	// Bars well below what the inference reaches (about 0.9), to catch a
	// broken rule rather than to tune one.
	if ag.ShareAtAsOf < 0.8 || ag.ShareOfDays < 0.8 || float64(ag.Extra) > 0.1*float64(ag.TrueResidents) {
		t.Errorf("inferred residences too far from the truth: %+v", *ag)
	}
	tb, err := build.Build(ctx, build.Options{Dir: out, AsOf: []contract.Day{day}, Entity: spec.Resident, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	kind, j := tb.Column("label_complex_case")
	if kind != "label" {
		t.Fatalf("no label_complex_case column (%q)", kind)
	}
	pos, n := 0, 0
	for i := range tb.Rows() {
		v := tb.LabelValues[i*len(tb.Labels)+j]
		if v == v {
			n++
			if v == 1 {
				pos++
			}
		}
	}
	t.Logf("feature table: %d rows, %d labelled, %d positive", tb.Rows(), n, pos)
	if tb.Rows() < ag.TrueResidents*8/10 || n != tb.Rows() || pos == 0 {
		t.Errorf("feature table: %d rows (truth: %d residents), %d labelled, %d positive", tb.Rows(), ag.TrueResidents, n, pos)
	}
}

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
	checkConserved(t, raw, out)
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

// checkConserved checks that every source file of out has as many rows as
// its raw form in raw, and properties.csv as many as raw's.
func checkConserved(t *testing.T, raw, out string) {
	t.Helper()
	c := contract.Default()
	props, _ := c.File("properties")
	files := [][2]*contract.File{{props, props}}
	for _, f := range c.RawSources() {
		files = append(files, [2]*contract.File{contract.RawFile(f), f})
	}
	for _, ff := range files {
		in, okIn := countRows(t, raw, ff[0])
		got, okOut := countRows(t, out, ff[1])
		if okIn != okOut || in != got {
			t.Errorf("%s: %d rows in (present %v), %d out (present %v)", ff[1].Name, in, okIn, got, okOut)
		}
	}
}

// countRows counts the valid rows of dir/f.Name; a row that breaks the
// contract fails the test.
func countRows(t *testing.T, dir string, f *contract.File) (int, bool) {
	t.Helper()
	r, err := contract.Open(dir, f)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			return n, true
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}
