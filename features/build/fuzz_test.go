package build

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"caserisk/features/contract"
	"caserisk/features/spec"
)

// FuzzServiceFile feeds arbitrary text as repairs.csv beside the mini
// borough: the build must not panic on a bad service file; it fails only
// with a *contract.BrokenFilesError, and with broken files allowed it does
// not fail; every row read must be used or counted with a reason, and no
// more lines are lost than the file has.
func FuzzServiceFile(f *testing.F) {
	seed, err := os.ReadFile("testdata/mini/repairs.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("repair_id,resident_id,uprn,event_date,event_type\nP1,R1,100000000001,2023-06-01,reported\nP1,R1,100000000001,2023-06-01,reported\n"))
	f.Add([]byte("repair_id,resident_id,uprn,event_date,event_type\n\"P1\nx\",R1,,2023-02-30,reported\n"))
	f.Add([]byte(""))
	entries, err := os.ReadDir("testdata/mini")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, repairs []byte) {
		dir := t.TempDir()
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join("testdata/mini", e.Name()))
			if e.Name() == "repairs.csv" {
				b = repairs
			}
			if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		opts := Options{Dir: dir, Entity: spec.Tenancy, AsOf: []contract.Day{day("2023-06-30")}, ExtractDate: day("2024-12-31")}
		if _, err := Build(context.Background(), opts); err != nil && !errors.As(err, new(*contract.BrokenFilesError)) {
			t.Fatalf("a bad service file stopped the build with %v, want a BrokenFilesError", err)
		}
		opts.AllowBrokenFiles = true
		tb, err := Build(context.Background(), opts)
		if err != nil {
			t.Fatalf("a bad service file stopped the build with broken files allowed: %v", err)
		}
		for _, in := range tb.Inputs {
			if in.File != "repairs.csv" || !in.Present {
				continue
			}
			accounted := in.RowsUsed + in.Rejected + in.Duplicates + in.UnknownResident + in.OutOfSpan
			if in.RowsRead > 0 && accounted != in.RowsRead {
				t.Errorf("repairs.csv: %d rows read, %d used or counted: %+v", in.RowsRead, accounted, in)
			}
			if lines := bytes.Count(repairs, []byte{'\n'}) + 1; in.Lost > lines {
				t.Errorf("repairs.csv: %d lines lost of %d", in.Lost, lines)
			}
		}
	})
}
