package build

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"caserisk/features/contract"
	"caserisk/features/spec"
	"caserisk/features/synth"
)

// borough generates (once per test binary) a small synthetic borough.
var borough = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "caserisk-build-test-")
	if err != nil {
		return "", err
	}
	_, err = synth.Generate(context.Background(), synth.Config{Residents: 3000, Seed: 11,
		AsOf: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), YearsBefore: 4}, dir)
	return dir, err
})

func testBorough(t *testing.T) string {
	t.Helper()
	dir, err := borough()
	if err != nil {
		t.Fatalf("generate borough: %v", err)
	}
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dir, err := borough(); err == nil && dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// rewriteFuture copies every contract file of src to dst, deleting or
// changing every row dated after d: rows whose event (or recorded) date is
// later are deleted or get other values (codes, amounts, ids, later
// dates); period ends, deaths and investigation outcomes that lie after d
// are changed or erased.
func rewriteFuture(t *testing.T, src, dst string, d contract.Day, seed uint64) (changed int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	c := contract.Default()
	later := func() string { return (d + contract.Day(1+rng.IntN(300))).String() }
	after := func(s string) bool {
		if s == "" {
			return false
		}
		v, err := contract.ParseDay(s)
		return err == nil && v > d
	}
	for i := range c.Files {
		f := &c.Files[i]
		raw, err := os.ReadFile(filepath.Join(src, f.Name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		pos := map[string]int{}
		for j, h := range recs[0] {
			pos[h] = j
		}
		at := func(rec []string, col string) string {
			if j, ok := pos[col]; ok && col != "" {
				return rec[j]
			}
			return ""
		}
		out := [][]string{recs[0]}
		for _, rec := range recs[1:] {
			future := after(at(rec, f.EventDate)) || after(at(rec, f.RecordedDate))
			if f.Service == "residents" {
				future = after(at(rec, "first_seen_date"))
				if after(at(rec, "death_recorded_date")) || at(rec, "death_recorded_date") == "" && after(at(rec, "date_of_death")) {
					rec[pos["date_of_death"]], rec[pos["death_recorded_date"]] = "", ""
					changed++
				}
			}
			if f.Service == "properties" {
				future = false
			}
			if !future {
				if j, ok := pos[f.EndDate]; ok && f.EndDate != "" && after(rec[j]) {
					if rng.IntN(2) == 0 {
						rec[j] = ""
					} else {
						rec[j] = later()
					}
					changed++
				}
				if f.Service == "fraud_investigations" && after(at(rec, "closed_date")) {
					rec[pos["closed_date"]], rec[pos["outcome"]] = "", ""
					changed++
				}
				out = append(out, rec)
				continue
			}
			changed++
			if rng.IntN(2) == 0 {
				continue // deleted
			}
			for j, col := range f.Columns {
				p, ok := pos[col.Name]
				if !ok || col.Name == "uprn" || col.Name == "resident_id" && rng.IntN(2) == 0 {
					continue
				}
				switch {
				case col.Name == f.EventDate || col.Name == f.RecordedDate && rec[p] != "":
					rec[p] = later()
				case col.Type == contract.Code && len(col.Codes) > 0:
					rec[p] = col.Codes[rng.IntN(len(col.Codes))]
				case col.Type == contract.Float && rec[p] != "":
					rec[p] = strconv.FormatFloat(rng.Float64()*500, 'f', 2, 64)
				case col.Type == contract.String && col.Name != "resident_id" && !col.Personal:
					rec[p] = fmt.Sprintf("X%d", rng.IntN(1000))
				}
				_ = j
			}
			out = append(out, rec)
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.WriteAll(out)
		if err := os.WriteFile(filepath.Join(dst, f.Name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return changed
}

// featureRows renders each row's ids and features (labels aside) keyed by entity and date.
func featureRows(tb *Table) map[string]string {
	m := make(map[string]string, tb.Rows())
	nf := len(tb.Features)
	for i := 0; i < tb.Rows(); i++ {
		key := tb.ResidentID(i) + "|" + tb.TenancyID(i) + "|" + tb.AsOf[tb.AsOfIdx[i]].String()
		var b []byte
		b = strconv.AppendInt(b, tb.UPRN[i], 10)
		for _, v := range tb.Values[i*nf : (i+1)*nf] {
			b = append(b, ',')
			b = appendValue(b, v)
		}
		for _, s := range tb.AuditValues[i*len(tb.Audit) : (i+1)*len(tb.Audit)] {
			b = append(b, ',')
			b = append(b, s...)
		}
		m[key] = string(b)
	}
	return m
}

// TestPointInTime proves that nothing dated after the as-of date feeds the
// features: deleting or changing every such row, in every file, leaves
// the feature table unchanged (labels aside).
func TestPointInTime(t *testing.T) {
	src := testBorough(t)
	asOf := day("2023-03-31")
	for _, entity := range []string{spec.Resident, spec.Tenancy} {
		t.Run(entity, func(t *testing.T) {
			opts := Options{Dir: src, Entity: entity, AsOf: []contract.Day{asOf}}
			full, err := Build(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			dst := t.TempDir()
			n := rewriteFuture(t, src, dst, asOf, 5)
			if n < 1000 {
				t.Fatalf("only %d rows changed: the borough has too little data after the as-of date", n)
			}
			opts.Dir = dst
			cut, err := Build(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			a, b := featureRows(full), featureRows(cut)
			if len(a) != len(b) || len(a) == 0 {
				t.Fatalf("rows: %d with the future, %d without", len(a), len(b))
			}
			diffs := 0
			for k, v := range a {
				if b[k] != v {
					diffs++
					if diffs <= 3 {
						t.Errorf("row %s differs:\n with future: %s\n without:     %s\n columns: %s", k, v, b[k], names(full))
					}
				}
			}
			if diffs > 0 {
				t.Errorf("%d of %d rows differ", diffs, len(a))
			}
		})
	}
}

func names(tb *Table) string {
	var s []string
	for _, f := range tb.Features {
		s = append(s, f.Name)
	}
	return "uprn," + strings.Join(s, ",")
}

// TestOracleAgreement checks the population and the complex-case label on
// the generator's as-of date against the generator's oracle: the same
// residents, and the same realised outcome.
func TestOracleAgreement(t *testing.T) {
	src := testBorough(t)
	tb, err := Build(context.Background(), Options{Dir: src, Entity: spec.Resident, AsOf: []contract.Day{day("2024-01-01")}})
	if err != nil {
		t.Fatal(err)
	}
	// The data runs to 12 months after the generator's as-of date.
	if tb.ExtractDate != day("2025-01-01") || !tb.LabelsAvailable[0] {
		t.Errorf("extract date %s (labels available: %v), want 2025-01-01", tb.ExtractDate, tb.LabelsAvailable[0])
	}
	raw, err := os.ReadFile(filepath.Join(src, "oracle", "residents.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for j, h := range recs[0] {
		col[h] = j
	}
	want := map[string]string{}
	for _, r := range recs[1:] {
		want[r[col["resident_id"]]] = r[col["escalated"]]
	}
	_, lj := tb.Column(LabelComplexCase)
	differ := 0
	for i := 0; i < tb.Rows(); i++ {
		id := tb.ResidentID(i)
		w, ok := want[id]
		if !ok {
			t.Errorf("resident %s is in the table but not in the oracle's population", id)
			continue
		}
		delete(want, id)
		got := strconv.Itoa(int(tb.LabelValues[i*len(tb.Labels)+lj]))
		if w != got {
			differ++
		}
	}
	if len(want) > 0 {
		t.Errorf("%d residents of the oracle's population are missing from the table", len(want))
	}
	if differ > 0 {
		t.Errorf("label_complex_case differs from the oracle for %d of %d residents", differ, tb.Rows())
	}
}
