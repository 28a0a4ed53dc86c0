package build

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"caserisk/features/contract"
	"caserisk/features/spec"
)

// FuzzServiceFile feeds arbitrary text as repairs.csv beside the mini
// borough: the build must not fail or panic on a bad service file, and
// every row read must be used or counted with a reason.
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
		tb, err := Build(context.Background(), Options{Dir: dir, Entity: spec.Tenancy,
			AsOf: []contract.Day{day("2023-06-30")}, ExtractDate: day("2024-12-31")})
		if err != nil {
			t.Fatalf("a bad service file stopped the build: %v", err)
		}
		for _, in := range tb.Inputs {
			if in.File != "repairs.csv" || !in.Present {
				continue
			}
			accounted := in.RowsUsed + in.Rejected + in.Duplicates + in.UnknownResident + in.OutOfSpan
			if in.RowsRead > 0 && accounted != in.RowsRead {
				t.Errorf("repairs.csv: %d rows read, %d used or counted: %+v", in.RowsRead, accounted, in)
			}
		}
	})
}
