package build

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"caserisk/features/contract"
	"caserisk/features/spec"
)

// TestPandasPeerAgrees checks the benchmark's pandas peer against the
// builder on a small borough: the same aggregations must give the same
// values, or the speed comparison would compare different work.
func TestPandasPeerAgrees(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import pandas").Run(); err != nil {
		t.Skipf("python3-pandas not installed for /usr/bin/python3: %v", err)
	}
	src := testBorough(t)
	asOf := day("2023-01-01")
	tb, err := Build(context.Background(), Options{Dir: src, Entity: spec.Resident, AsOf: []contract.Day{asOf}})
	if err != nil {
		t.Fatal(err)
	}
	b := &testing.B{}
	_ = b
	job, err := pandasJobFor(src, asOf, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runPandasJob(job); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(job.Out)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs)-1 != tb.Rows() {
		t.Fatalf("pandas population %d rows, builder %d", len(recs)-1, tb.Rows())
	}
	row := map[string]int{}
	for i := 0; i < tb.Rows(); i++ {
		row[tb.ResidentID(i)] = i
	}
	mismatch := map[string]int{}
	for _, r := range recs[1:] {
		i, ok := row[r[0]]
		if !ok {
			t.Fatalf("pandas has resident %s, the builder does not", r[0])
		}
		for k, name := range recs[0][2:] {
			_, j := tb.Column(name)
			want := tb.Value(i, j)
			got := math.NaN()
			if s := r[k+2]; s != "" {
				got, _ = strconv.ParseFloat(s, 64)
			}
			if !(same(got, want) || math.Abs(got-want) < 0.01) {
				mismatch[name]++
			}
		}
	}
	for name, n := range mismatch {
		t.Errorf("%s: %d residents differ between pandas and the builder", name, n)
	}
	_ = filepath.Join
}
