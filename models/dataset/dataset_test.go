package dataset

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

func read(t *testing.T, src string, o Options) (*Table, error) {
	t.Helper()
	return ReadCSV(context.Background(), "t.csv", []byte(src), o)
}

func TestReadCSVRoles(t *testing.T) {
	src := "\xef\xbb\xbfresident_id,as_of,opened,case_ref_id,x,label_fraud,label_escalation,note\r\n" +
		"r1,2024-01-01,2023-05-01,c1,1.5,1,0,a\r\n" +
		"\r\n" +
		"\"r,2\",2024-01-01,,c2,NA,,1,\"b \"\"q\"\"\"\r\n" +
		"r3,2024-02-01,2020-12-31,c3, -2e3 ,0,,c\r\n"
	tab, err := read(t, src, Options{Label: "label_escalation", Ignore: []string{"note"}})
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 3 {
		t.Fatalf("rows = %d, want 3", tab.Len())
	}
	if !slices.Equal(tab.Names, []string{"x"}) {
		t.Errorf("features = %v, want [x]", tab.Names)
	}
	var keys []string
	for _, k := range tab.Keys {
		keys = append(keys, k.Name)
	}
	if want := []string{"resident_id", "as_of", "opened", "case_ref_id", "note"}; !slices.Equal(keys, want) {
		t.Errorf("keys = %v, want %v", keys, want)
	}
	if !slices.Equal(tab.Ignored, []string{"label_fraud"}) {
		t.Errorf("ignored = %v", tab.Ignored)
	}
	ids, _ := tab.Key("resident_id")
	if !slices.Equal(ids, []string{"r1", "r,2", "r3"}) {
		t.Errorf("ids = %q", ids)
	}
	notes, _ := tab.Key("note")
	if notes[1] != `b "q"` {
		t.Errorf("note = %q", notes[1])
	}
	x, _ := tab.Column("x")
	if x[0] != 1.5 || !math.IsNaN(x[1]) || x[2] != -2000 {
		t.Errorf("x = %v", x)
	}
	if tab.Label[0] != 0 || tab.Label[1] != 1 || !math.IsNaN(tab.Label[2]) {
		t.Errorf("label = %v", tab.Label)
	}
	if got := tab.AsOfDates(); !slices.Equal(got, []string{"2024-01-01", "2024-02-01"}) {
		t.Errorf("as-of dates = %v", got)
	}
}

func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		name, src string
		opts      Options
		want      string
	}{
		{"bad number", "resident_id,x\nr1,1\nr2,1.2.3\n", Options{}, `t.csv: line 3, column 2 (x): value "1.2.3" is not a number`},
		{"text column", "a,b\n1,hello\n2,world\n", Options{}, `line 2, column 2 (b): value "hello" is not a number; the column holds text`},
		{"dates and text", "a,d\n1,2024-01-01\n2,soon\n", Options{}, `line 3, column 2 (d): value "soon" is neither a number nor an ISO date`},
		{"infinity", "a\n1\nInf\n", Options{}, `line 3, column 1 (a): value "Inf" is not a number`},
		{"field count", "a,b\n1,2\n3\n", Options{}, "t.csv: line 3: 1 fields, but the header has 2"},
		{"bad label", "a,label_y\n1,2\n", Options{Label: "label_y"}, `line 2, column 2 (label_y): label value "2" is not 0, 1 or empty`},
		{"missing label", "a,b\n1,2\n", Options{Label: "label_y"}, `no label column "label_y"`},
		{"duplicate column", "a,a\n1,2\n", Options{}, `column "a" appears twice`},
		{"empty name", "a,\n1,2\n", Options{}, "line 1, column 2: empty column name"},
		{"unclosed quote", "a,b\n1,\"2\n", Options{}, "line 2: quoted field is not closed"},
		{"bare quote", "a,b\n1,2\"\n", Options{}, `line 2, column 2: bare " in an unquoted field`},
		{"no header", "", Options{}, "no header line"},
		// The error reports the line, not the record, after a quoted newline.
		{"line after quoted newline", "resident_id,x\n\"a\nb\",1\nc,z\n", Options{}, `line 4, column 2 (x): value "z"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := read(t, tc.src, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestReadCSVFirstErrorAcrossChunks(t *testing.T) {
	var b strings.Builder
	b.WriteString("a\n")
	n := 3*chunkRows + 10
	for i := range n {
		switch i {
		case chunkRows + 5:
			b.WriteString("first\n")
		case 2*chunkRows + 7:
			b.WriteString("second\n")
		default:
			b.WriteString("1\n")
		}
	}
	_, err := ReadCSV(context.Background(), "big.csv", []byte(b.String()), Options{Threads: 4})
	want := fmt.Sprintf(`big.csv: line %d, column 1 (a): value "first"`, chunkRows+5+2)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

// synthetic returns a small table with every column role.
func synthetic(rows int, seed uint64) *Table {
	rng := rand.New(rand.NewPCG(seed, 1))
	t := &Table{Source: "synthetic", rows: rows, LabelName: "label_escalation"}
	ids := make([]string, rows)
	asof := make([]string, rows)
	for i := range ids {
		ids[i] = fmt.Sprintf("R%05d", i/2)
		asof[i] = []string{"2023-04-01", "2024-04-01"}[i%2]
	}
	t.Keys = []KeyColumn{{"resident_id", ids}, {"as_of", asof}}
	for _, n := range []string{"arrears_gbp", "repairs_90d", "age_years"} {
		c := make([]float64, rows)
		for i := range c {
			if rng.Float64() < 0.1 {
				c[i] = math.NaN()
			} else {
				c[i] = math.Round(rng.NormFloat64()*1000) / 7
			}
		}
		t.Names = append(t.Names, n)
		t.Cols = append(t.Cols, c)
		t.Meta = append(t.Meta, FeatureMeta{Name: n})
	}
	t.Label = make([]float64, rows)
	for i := range t.Label {
		t.Label[i] = float64(rng.IntN(2))
		if rng.Float64() < 0.05 {
			t.Label[i] = math.NaN()
		}
	}
	return t
}

func equalTables(t *testing.T, got, want *Table) {
	t.Helper()
	if got.Len() != want.Len() || !slices.Equal(got.Names, want.Names) || got.LabelName != want.LabelName {
		t.Fatalf("shape: got %d rows %v label %q, want %d rows %v label %q",
			got.Len(), got.Names, got.LabelName, want.Len(), want.Names, want.LabelName)
	}
	same := func(a, b []float64) bool {
		return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) })
	}
	for j := range want.Cols {
		if !same(got.Cols[j], want.Cols[j]) {
			t.Errorf("column %s differs", want.Names[j])
		}
	}
	if !same(got.Label, want.Label) {
		t.Errorf("label differs")
	}
	if !slices.EqualFunc(got.Keys, want.Keys, func(a, b KeyColumn) bool { return a.Name == b.Name && slices.Equal(a.Values, b.Values) }) {
		t.Errorf("keys differ")
	}
	if got.Fingerprint() != want.Fingerprint() {
		t.Errorf("fingerprint differs")
	}
}

func TestRoundTrip(t *testing.T) {
	want := synthetic(5000, 7)
	dir := t.TempDir()
	for _, format := range []string{"csv", "parquet"} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(dir, "features."+format)
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if format == "csv" {
				err = WriteCSV(f, want)
			} else {
				err = WriteParquet(f, want)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := Read(context.Background(), path, Options{Label: "label_escalation"})
			if err != nil {
				t.Fatal(err)
			}
			equalTables(t, got, want)
		})
	}
}

func TestReadParquetBadValue(t *testing.T) {
	tab := &Table{rows: 2, Keys: []KeyColumn{{"resident_id", []string{"a", "b"}}, {"x", []string{"1", "oops"}}}}
	var buf bytes.Buffer
	if err := WriteParquet(&buf, tab); err != nil {
		t.Fatal(err)
	}
	// x was written as text; read back as a feature, its second value is bad.
	_, err := ReadParquet(context.Background(), "t.parquet", bytes.NewReader(buf.Bytes()), int64(buf.Len()), Options{})
	want := `t.parquet: row 2, column x: value "oops" is not a number`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestSplits(t *testing.T) {
	tab := synthetic(2000, 3)
	tr, va, err := tab.SplitAfter("2023-12-31")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 1000 || va.Len() != 1000 {
		t.Errorf("split after: %d/%d rows, want 1000/1000", tr.Len(), va.Len())
	}
	for _, d := range must(va.Key(AsOf)) {
		if d != "2024-04-01" {
			t.Fatalf("validation row dated %s", d)
		}
	}
	if _, _, err := tab.SplitAfter("31/12/2023"); err == nil {
		t.Error("bad date accepted")
	}

	tr1, va1, err := tab.SplitFraction(0.25, 42)
	if err != nil {
		t.Fatal(err)
	}
	_, va2, _ := tab.SplitFraction(0.25, 42)
	_, va3, _ := tab.SplitFraction(0.25, 43)
	if va1.Fingerprint() != va2.Fingerprint() {
		t.Error("same seed gave a different split")
	}
	if va1.Fingerprint() == va3.Fingerprint() {
		t.Error("different seeds gave the same split")
	}
	if f := float64(va1.Len()) / 2000; f < 0.18 || f > 0.32 {
		t.Errorf("held out %.2f of rows, want about 0.25", f)
	}
	// A resident's rows never straddle the split.
	inTrain := map[string]bool{}
	for _, id := range must(tr1.Key("resident_id")) {
		inTrain[id] = true
	}
	for _, id := range must(va1.Key("resident_id")) {
		if inTrain[id] {
			t.Fatalf("resident %s is on both sides", id)
		}
	}
	for _, bad := range []float64{0, 1, -0.1, math.NaN()} {
		if _, _, err := tab.SplitFraction(bad, 1); err == nil {
			t.Errorf("fraction %v accepted", bad)
		}
	}

	kept, dropped := tab.DropUnlabelled()
	if kept.Len()+dropped != tab.Len() || dropped == 0 {
		t.Errorf("drop unlabelled: kept %d dropped %d of %d", kept.Len(), dropped, tab.Len())
	}
	for _, y := range kept.Label {
		if math.IsNaN(y) {
			t.Fatal("unlabelled row kept")
		}
	}
}

func must[T any](v T, ok bool) T {
	if !ok {
		panic("missing")
	}
	return v
}

func TestMeta(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "features.csv")
	os.WriteFile(path, []byte("resident_id,arrears_gbp,n,audit_sex,hh_ref,age_band\nr1,10,2,F,17,25-34\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "features.meta.json"), []byte(`{"version":"1","ids":["resident_id","hh_ref"],"audit":["age_band"],"features":[
  {"name":"arrears_gbp","description":"Rent arrears","unit":"GBP","window_days":90,"service":"rent_account","aggregation":"sum","template":"£{value} arrears","zero_template":"no arrears"}]}`), 0o644)
	tab, err := Read(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := FeatureMeta{Name: "arrears_gbp", Description: "Rent arrears", Unit: "GBP", WindowDays: 90, Service: "rent_account",
		Aggregation: "sum", Template: "£{value} arrears", ZeroTemplate: "no arrears"}
	if tab.Meta[0] != want || tab.Meta[1] != (FeatureMeta{Name: "n"}) {
		t.Errorf("meta = %+v", tab.Meta)
	}
	// Ids and audit columns, named by the metadata or by audit_*, are never features.
	if !slices.Equal(tab.Names, []string{"arrears_gbp", "n"}) || len(tab.Keys) != 4 {
		t.Errorf("features %v, keys %v", tab.Names, tab.Keys)
	}
	if !slices.Equal(tab.Audit, []string{"audit_sex", "age_band"}) {
		t.Errorf("audit columns %v", tab.Audit)
	}

	os.WriteFile(path+".meta.json", []byte("{\"features\": [\n  {\"name\": 3}]}"), 0o644)
	_, err = Read(context.Background(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), "features.csv.meta.json: line 2, column") {
		t.Errorf("error = %v, want the bad field's position", err)
	}
}

func TestFingerprintIgnoresSource(t *testing.T) {
	a := synthetic(100, 1)
	b := a.Subset(slices.Collect(func(yield func(int) bool) {
		for i := range 100 {
			if !yield(i) {
				return
			}
		}
	}))
	b.Source = "elsewhere.parquet"
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("fingerprint depends on the source name")
	}
	b.Cols[0][5]++
	if a.Fingerprint() == b.Fingerprint() {
		t.Error("fingerprint missed a changed value")
	}
	b.Cols[0][5]--
	if len(b.Keys) == 0 || b.Label == nil {
		t.Fatal("the synthetic table needs a key column and a label")
	}
	b.Keys[0].Values[7] += "x"
	if a.Fingerprint() == b.Fingerprint() {
		t.Error("fingerprint missed a changed key")
	}
	b.Keys[0].Values[7] = a.Keys[0].Values[7]
	i := slices.IndexFunc(b.Label, func(y float64) bool { return !math.IsNaN(y) })
	b.Label[i] = 1 - b.Label[i]
	if a.Fingerprint() == b.Fingerprint() {
		t.Error("fingerprint missed a changed label")
	}
	b.Label[i] = a.Label[i]
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("fingerprint differs after restoring every value")
	}
}

// FuzzSplitCSV checks the byte-level record and field splitter against
// encoding/csv on every input both accept.
func FuzzSplitCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "\"a,b\",c\n\"x\"\"y\",\n", "a\n\n\nb\n", "\"multi\nline\",2\n", "x,\"\"\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, '\r') {
			return // encoding/csv rewrites \r\n inside quotes; we keep it
		}
		data := []byte(s)
		starts, quoted, err := scanRecords(data)
		if err != nil {
			return
		}
		var got [][]string
		for i := 0; i+1 < len(starts); i++ {
			fields, _, err := splitFields(record(data, starts, i), nil, quoted)
			if err != nil {
				return
			}
			var rec []string
			for _, f := range fields {
				rec = append(rec, string(f))
			}
			got = append(got, rec)
		}
		r := csv.NewReader(strings.NewReader(s))
		r.FieldsPerRecord = -1
		want, err := r.ReadAll()
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d records, encoding/csv %d", s, len(got), len(want))
		}
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("%q: record %d = %q, encoding/csv %q", s, i, got[i], want[i])
			}
		}
	})
}

// FuzzReadCSV checks that any input yields a table or an error, never a
// panic, and that a table read back from its own CSV is unchanged.
func FuzzReadCSV(f *testing.F) {
	f.Add("resident_id,x,label_y\nr1,1,0\nr2,,1\n")
	f.Add("a,d\n1,2024-01-01\n")
	f.Add("a\n\"1\n")
	f.Fuzz(func(t *testing.T, s string) {
		tab, err := ReadCSV(context.Background(), "fuzz.csv", []byte(s), Options{Label: "label_y"})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, tab); err != nil {
			t.Fatal(err)
		}
		back, err := ReadCSV(context.Background(), "back.csv", buf.Bytes(), Options{Label: "label_y"})
		if err != nil {
			if strings.ContainsAny(s, " \t") || tab.Len() == 0 {
				return // trimmed or all-empty keys may change role on the way back
			}
			t.Fatalf("re-read of %q failed: %v\n%s", s, err, buf.String())
		}
		if back.Len() != tab.Len() {
			t.Fatalf("%q: %d rows back, want %d", s, back.Len(), tab.Len())
		}
	})
}

// benchCSV writes a rows × cols feature table like the builder's.
func benchCSV(rows, cols int) []byte {
	var buf bytes.Buffer
	buf.WriteString("resident_id,as_of")
	for j := range cols {
		fmt.Fprintf(&buf, ",f%d", j)
	}
	buf.WriteString(",label_escalation\n")
	rng := rand.New(rand.NewPCG(1, 2))
	var line []byte
	for i := range rows {
		line = fmt.Appendf(line[:0], "R%07d,2024-04-01", i)
		for range cols {
			line = append(line, ',')
			if rng.IntN(10) > 0 {
				line = strconv.AppendFloat(line, math.Round(rng.ExpFloat64()*5000)/100, 'f', -1, 64)
			}
		}
		line = fmt.Appendf(line, ",%d\n", rng.IntN(2))
		buf.Write(line)
	}
	return buf.Bytes()
}

// BenchmarkReadCSV reads 1M rows × 40 features (the trainer's hot path)
// and, where Debian's python3-pandas is installed, pandas.read_csv of the
// same file, reporting the median of three runs of each and their ratio.
func BenchmarkReadCSV(b *testing.B) {
	const rows, cols = 1_000_000, 40
	data := benchCSV(rows, cols)
	b.SetBytes(int64(len(data)))
	var secs []float64
	b.ResetTimer()
	for range b.N {
		for range 3 {
			start := time.Now()
			tab, err := ReadCSV(context.Background(), "bench.csv", data, Options{Label: "label_escalation"})
			if err != nil {
				b.Fatal(err)
			}
			if tab.Len() != rows {
				b.Fatalf("%d rows", tab.Len())
			}
			secs = append(secs, time.Since(start).Seconds())
		}
	}
	b.StopTimer()
	ours := medianOf(secs)
	b.ReportMetric(ours, "s/read")
	b.ReportMetric(float64(rows)/ours, "rows/s")
	path := filepath.Join(b.TempDir(), "bench.csv")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	const script = `
import sys, time, statistics
import pandas as pd
ts = []
for _ in range(3):
    t = time.perf_counter()
    df = pd.read_csv(sys.argv[1], dtype={"resident_id": str, "as_of": str})
    ts.append(time.perf_counter() - t)
assert len(df) == int(sys.argv[2])
print(statistics.median(ts))
`
	out, err := exec.Command("/usr/bin/python3", "-c", script, path, strconv.Itoa(rows)).Output()
	if err != nil {
		b.Skipf("python3-pandas not available (%v): reported caserisk only", err)
	}
	theirs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatalf("pandas timing %q: %v", out, err)
	}
	b.ReportMetric(theirs, "pandas-s/read")
	b.ReportMetric(theirs/ours, "x-faster-than-pandas")
}

func medianOf(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestMatchRows(t *testing.T) {
	a, _ := read(t, "resident_id,x\nA,1\nB,2\nC,3\n", Options{})
	b, _ := ReadCSV(context.Background(), "oracle.csv", []byte("resident_id,p\nC,0.3\nA,0.1\n"), Options{})
	got, err := a.MatchRows(b, "resident_id")
	if err != nil || !slices.Equal(got, []int{1, -1, 0}) {
		t.Fatalf("match = %v, %v", got, err)
	}
	dup, _ := ReadCSV(context.Background(), "dup.csv", []byte("resident_id,p\nC,0.3\nC,0.1\n"), Options{})
	if _, err := a.MatchRows(dup, "resident_id"); err == nil || !strings.Contains(err.Error(), `dup.csv: resident_id "C" is on rows 1 and 2`) {
		t.Errorf("error = %v", err)
	}
	if _, err := a.MatchRows(b, "tenancy_id"); err == nil || !strings.Contains(err.Error(), "t.csv has no tenancy_id column") {
		t.Errorf("error = %v", err)
	}
}

func days(y int, m time.Month, d int) int32 {
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func TestReadParquetTypes(t *testing.T) {
	type row struct {
		ResidentID string   `parquet:"resident_id"`
		Count      int64    `parquet:"count"`
		Small      int32    `parquet:"small"`
		Ratio      float32  `parquet:"ratio"`
		Flag       bool     `parquet:"flag"`
		Opened     int32    `parquet:"opened,date"` // days since 1970-01-01
		Amount     *float64 `parquet:"amount,optional"`
		Label      *int32   `parquet:"label_y,optional"`
	}
	one, amt := int32(1), 12.5
	rows := []row{
		{"a", 3, -2, 0.5, true, days(2024, 3, 1), &amt, &one},
		{"b", 0, 7, 98.4, false, days(2023, 12, 31), nil, nil}, // FLOAT 98.4 reads as 98.4, not 98.4000015
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tab, err := ReadParquet(context.Background(), "typed.parquet", bytes.NewReader(buf.Bytes()), int64(buf.Len()), Options{Label: "label_y"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tab.Names, []string{"count", "small", "ratio", "flag", "amount"}) {
		t.Fatalf("features %v", tab.Names)
	}
	want := map[string][]float64{"count": {3, 0}, "small": {-2, 7}, "ratio": {0.5, 98.4}, "flag": {1, 0}}
	for n, v := range want {
		if got, _ := tab.Column(n); !slices.Equal(got, v) {
			t.Errorf("%s = %v, want %v", n, got, v)
		}
	}
	if a, _ := tab.Column("amount"); a[0] != 12.5 || !math.IsNaN(a[1]) {
		t.Errorf("amount = %v", a)
	}
	if d, _ := tab.Key("opened"); !slices.Equal(d, []string{"2024-03-01", "2023-12-31"}) {
		t.Errorf("opened = %v", d)
	}
	if tab.Label[0] != 1 || !math.IsNaN(tab.Label[1]) {
		t.Errorf("label = %v", tab.Label)
	}
}

// TestFastDecimalMatchesStrconv checks the fast decimal paths bit for bit
// against strconv.ParseFloat on a million random decimals of 1 to 19
// significant digits with the point anywhere (the form pandas and Python
// write, up to 17 digits, and longer), on halfway cases, and that it takes
// the fast path for the 17-digit values pandas writes.
func TestFastDecimalMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cases := []string{"9007199254740993.0", "9007199254740995.0", "0.9007199254740993", "1.8446744073709551", "9999999999999999999",
		"999999999999999999.9", "0.1000000000000000055511151231257827", "4503599627370497.5", "4503599627370496.5",
		"0.30000000000000004", "-12.303246445723905", "0.01224842431438372", "1.7976931348623157"}
	for range 1_000_000 {
		digits := 1 + rng.IntN(19)
		b := make([]byte, 0, 24)
		if rng.IntN(2) == 0 {
			b = append(b, '-')
		}
		point := rng.IntN(digits + 1)
		for d := range digits {
			if d == point {
				if d == 0 {
					b = append(b, '0')
				}
				b = append(b, '.')
			}
			b = append(b, byte('0'+rng.IntN(10)))
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		want, err := strconv.ParseFloat(c, 64)
		if err != nil {
			t.Fatalf("strconv rejects %q: %v", c, err)
		}
		got, ok := parseNumber([]byte(c))
		if !ok || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseNumber(%q) = %v, %v; strconv %v", c, got, ok, want)
		}
	}
	for _, c := range []string{"1.8226367435060862", "-0.32832263295284325", "0.17097749677020946"} {
		if _, ok := fastDecimal([]byte(c)); !ok {
			t.Errorf("%q left to strconv", c)
		}
	}
}

// FuzzFastDecimal checks the fast decimal path against strconv.ParseFloat.
func FuzzFastDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0", "12.5", ".5", "5.", "+3.25", "0.1", "9007199254740993", "123456789012345.6", "0.0000000000000000000001", "1e5", "-", ".",
		"9007199254740993.0", "1.8226367435060862", "-0.32832263295284325", "9999999999999999999", "0.1234567890123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		got, ok := fastDecimal([]byte(s))
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("fastDecimal(%q) = %v, strconv rejects it: %v", s, got, err)
		}
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("fastDecimal(%q) = %v, strconv %v", s, got, want)
		}
	})
}

// FuzzReadParquet feeds corrupted Parquet files to the reader: it must
// return a table or an error, never panic.
func FuzzReadParquet(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteParquet(&buf, synthetic(20, 1)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ReadParquet(context.Background(), "fuzz.parquet", bytes.NewReader(b), int64(len(b)), Options{Label: "label_escalation"})
	})
}

// TestOtherLabelsAreNotFeatures: outcome columns named in Options.Labels
// or in the metadata's labels are left out of the features, whatever their
// name, unless one is the label asked for.
func TestOtherLabelsAreNotFeatures(t *testing.T) {
	src := "resident_id,x,label,outcome\nr1,1,0,1\nr2,2,1,\n"
	tab, err := read(t, src, Options{Labels: []string{"label"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tab.Names, []string{"x", "outcome"}) || !slices.Equal(tab.Ignored, []string{"label"}) {
		t.Errorf("features %v, ignored %v; want [x outcome], [label]", tab.Names, tab.Ignored)
	}
	tab, err = read(t, src, Options{Label: "label", Labels: []string{"label"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tab.Names, []string{"x", "outcome"}) || tab.Label[1] != 1 {
		t.Errorf("features %v, label %v", tab.Names, tab.Label)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "f.csv")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	meta := `{"ids": ["resident_id"], "labels": ["outcome"], "audit": [], "features": [{"name": "x"}]}`
	if err := os.WriteFile(path+".meta.json", []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	tab, err = Read(context.Background(), path, Options{Labels: []string{"label"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tab.Names, []string{"x"}) || !slices.Equal(tab.Ignored, []string{"label", "outcome"}) {
		t.Errorf("with meta.json: features %v, ignored %v; want [x], [label outcome]", tab.Names, tab.Ignored)
	}
}

// TestReadFileInParts checks that reading a file in parts at the same time
// gives its bytes, for small files (read whole) and large ones in 2 and 3
// parts.
func TestReadFileInParts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	for _, size := range []int{0, 1000, 32<<20 + 12345} {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		path := filepath.Join(dir, fmt.Sprintf("f%d", size))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, parts := range []int{1, 2, 3} {
			got, err := readFile(path, parts)
			if err != nil || !bytes.Equal(got, b) {
				t.Fatalf("size %d, %d parts: %d bytes, equal %v, %v", size, parts, len(got), bytes.Equal(got, b), err)
			}
		}
	}
	if _, err := readFile(filepath.Join(dir, "none"), 2); err == nil {
		t.Error("a missing file read without error")
	}
}
