package build

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"caserisk/features/contract"
	"caserisk/features/spec"
)

func TestDeterministicCSV(t *testing.T) {
	src := testBorough(t)
	var outs [][]byte
	for _, workers := range []int{1, 2, 5} {
		tb, err := Build(context.Background(), Options{Dir: src, Entity: spec.Resident, Workers: workers,
			AsOf: []contract.Day{day("2022-06-30"), day("2023-01-01")}})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := tb.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, buf.Bytes())
	}
	for k := 1; k < len(outs); k++ {
		if !bytes.Equal(outs[0], outs[k]) {
			t.Fatalf("output with a different worker count differs")
		}
	}
	recs, err := csv.NewReader(bytes.NewReader(outs[0])).ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	header := recs[0]
	if header[0] != "resident_id" || header[2] != "as_of" {
		t.Errorf("header starts %v", header[:3])
	}
	// One row per resident per as-of date, stacked.
	seen := map[string]bool{}
	dates := map[string]int{}
	for _, r := range recs[1:] {
		k := r[0] + "|" + r[2]
		if seen[k] {
			t.Fatalf("resident %s appears twice as of %s", r[0], r[2])
		}
		seen[k] = true
		dates[r[2]]++
	}
	if len(dates) != 2 || dates["2022-06-30"] < 2000 || dates["2023-01-01"] < 2000 {
		t.Errorf("rows per as-of date: %v", dates)
	}
}

func TestWriteFilesParquetAndMeta(t *testing.T) {
	src := testBorough(t)
	tb, err := Build(context.Background(), Options{Dir: src, Entity: spec.Tenancy, AsOf: []contract.Day{day("2022-01-01")}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "fraud.parquet")
	if err := tb.WriteFiles(out); err != nil {
		t.Fatal(err)
	}
	// Parquet: same rows and values as the table.
	fh, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	st, _ := fh.Stat()
	pf, err := parquet.OpenFile(fh, st.Size())
	if err != nil {
		t.Fatalf("open parquet: %v", err)
	}
	if int(pf.NumRows()) != tb.Rows() {
		t.Fatalf("parquet has %d rows, table %d", pf.NumRows(), tb.Rows())
	}
	r := parquet.NewReader(fh)
	leaf, _ := r.Schema().Lookup("rent_arrears_gbp_now")
	idLeaf, _ := r.Schema().Lookup("tenancy_id")
	_, j := tb.Column("rent_arrears_gbp_now")
	rows := make([]parquet.Row, 64)
	i := 0
	for {
		n, err := r.ReadRows(rows)
		for _, row := range rows[:n] {
			var got float64 = math.NaN()
			var id string
			for _, v := range row {
				switch v.Column() {
				case leaf.ColumnIndex:
					if !v.IsNull() {
						got = v.Double()
					}
				case idLeaf.ColumnIndex:
					id = string(v.ByteArray())
				}
			}
			if id != tb.TenancyID(i) || !same(got, tb.Value(i, j)) {
				t.Fatalf("parquet row %d: %s %v, table %s %v", i, id, got, tb.TenancyID(i), tb.Value(i, j))
			}
			i++
		}
		if err != nil {
			break
		}
	}
	if i != tb.Rows() {
		t.Fatalf("read %d parquet rows, want %d", i, tb.Rows())
	}
	// meta.json: the names other packages depend on.
	raw, err := os.ReadFile(out + ".meta.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"format", "format_version", "contract_version", "spec_sha256", "entity", "as_of", "ids", "labels", "audit", "rows", "features", "inputs"} {
		if _, ok := m[k]; !ok {
			t.Errorf("meta.json lacks %q", k)
		}
	}
	if m["format"] != "caserisk-features" || m["entity"] != "tenancy" || int(m["rows"].(float64)) != tb.Rows() {
		t.Errorf("meta.json: format %v entity %v rows %v", m["format"], m["entity"], m["rows"])
	}
	units := spec.Units()
	feats := m["features"].([]any)
	if len(feats) < 25 {
		t.Errorf("tenancy table has %d features, want >= 25", len(feats))
	}
	for _, f := range feats {
		fm := f.(map[string]any)
		u, _ := fm["unit"].(string)
		tmpl, _ := fm["template"].(string)
		says := u == "flag" || strings.Contains(tmpl, "{value}") || strings.Contains(tmpl, "{share}") || strings.Contains(tmpl, "{when}") || strings.Contains(tmpl, "{since}")
		if !contains(units, u) || fm["description"] == "" || !says {
			t.Errorf("feature metadata incomplete: %v", fm)
		}
	}
	if _, err := os.Stat(out + ".rejects.csv"); err != nil {
		t.Errorf("no rejects file: %v", err)
	}
}

func TestWriteFilesRefusesOtherExtensions(t *testing.T) {
	tb := buildMini(t, spec.Resident, "2023-06-30")
	dir := t.TempDir()
	for _, name := range []string{"f.txt", "f", "f.csv.gz"} {
		err := tb.WriteFiles(filepath.Join(dir, name))
		if err == nil || !strings.Contains(err.Error(), "neither .csv nor .parquet") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left behind: %v", entries)
	}
	if err := tb.WriteFiles(filepath.Join(dir, "F.CSV")); err != nil {
		t.Errorf("F.CSV: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestCorruptedDate corrupts one date in a service file of a generated
// borough: the row is reported with the file and line and counted as
// rejected; in strict mode the build stops there.
func TestCorruptedDate(t *testing.T) {
	src := testBorough(t)
	dst := t.TempDir()
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(src, e.Name()))
		if e.Name() == "repairs.csv" {
			lines := strings.Split(string(b), "\n")
			lines[41] = strings.Replace(lines[41], ",20", ",19x", 1) // line 42 of the file
			b = []byte(strings.Join(lines, "\n"))
		}
		if e.Name() == "libraries.csv" {
			// A plausible-looking but far-future date: out of span, and it
			// must not move the extract date.
			lines := strings.Split(string(b), "\n")
			fields := strings.Split(lines[9], ",")
			fields[2] = "2099-01-01" // resident_id,uprn,event_date,...
			lines[9] = strings.Join(fields, ",")
			b = []byte(strings.Join(lines, "\n"))
		}
		os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644)
	}
	opts := Options{Dir: dst, Entity: spec.Resident, AsOf: []contract.Day{day("2023-01-01")}}
	tb, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range tb.Inputs {
		if in.File == "repairs.csv" && in.Rejected != 1 {
			t.Errorf("repairs.csv rejected = %d, want 1", in.Rejected)
		}
		if in.File == "libraries.csv" && in.OutOfSpan != 1 {
			t.Errorf("libraries.csv out of span = %d, want 1", in.OutOfSpan)
		}
	}
	if tb.ExtractDate != day("2025-01-01") {
		t.Errorf("extract date %s, want 2025-01-01 despite a date in 2099", tb.ExtractDate)
	}
	found := false
	for _, r := range tb.Rejects {
		if r.File == "repairs.csv" && r.Line == 42 && r.Column == "event_date" {
			found = true
		}
	}
	if !found {
		t.Error("the corrupted date is not in the rejects with file, line 42 and column event_date")
	}
	opts.Strict = true
	_, err = Build(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "repairs.csv:42: column event_date") {
		t.Errorf("strict: got %v, want repairs.csv:42: column event_date", err)
	}
}
