package frame

import (
	"context"
	"math"
	"testing"

	"github.com/go-gota/gota/series"

	"caserisk/models/dataset"
)

func table(t *testing.T) *dataset.Table {
	t.Helper()
	src := "resident_id,as_of,audit_sex,x,always_missing,label_complex_case,label_tenancy_fraud\n" +
		"R3,2024-01-01,F,4,,1,\n" +
		"R1,2024-01-01,,,,0,\n" +
		"R2,2024-01-01,M,1,,0,\n" +
		"R1,2025-01-01,,3,,,\n" +
		"R2,2025-01-01,M,2,,1,\n" +
		"R3,2025-01-01,F,,,0,\n" +
		"R4,2025-01-01,M,5,,0,\n"
	tab, err := dataset.ReadCSV(context.Background(), "t.csv", []byte(src), dataset.Options{Label: "label_complex_case"})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestOf(t *testing.T) {
	df := Of(table(t))
	if df.Err != nil {
		t.Fatal(df.Err)
	}
	if df.Nrow() != 7 || df.Ncol() != 6 {
		t.Fatalf("frame %d×%d, want 7×6", df.Nrow(), df.Ncol())
	}
	want := []string{"resident_id", "as_of", "audit_sex", "x", "always_missing", "label_complex_case"}
	for i, n := range df.Names() {
		if n != want[i] {
			t.Fatalf("columns %v, want %v", df.Names(), want)
		}
	}
	if df.Col("x").Type() != series.Float || df.Col("as_of").Type() != series.String {
		t.Errorf("types: x %s, as_of %s", df.Col("x").Type(), df.Col("as_of").Type())
	}
	if v := df.Col("x").Float(); v[0] != 4 || !math.IsNaN(v[1]) {
		t.Errorf("x = %v", v)
	}
}

// TestDescribe checks the summary against values worked out by hand: the
// statistics of x are over its five values present (1..5), not the NaNs.
func TestDescribe(t *testing.T) {
	s, err := Describe(context.Background(), table(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != 7 || s.Described != 7 || len(s.Columns) != 6 || len(s.Ignored) != 1 || s.Ignored[0] != "label_tenancy_fraud" {
		t.Fatalf("summary %+v", s)
	}
	byName := map[string]Column{}
	for _, c := range s.Columns {
		byName[c.Name] = c
	}
	x := byName["x"]
	// Quartiles are gonum's empirical ones that gota uses: the smallest
	// value with at least that share of the values at or below it.
	want := Column{Name: "x", Role: RoleFeature, Missing: 2, Mean: 3, StdDev: math.Sqrt(2.5), Min: 1, P25: 2, Median: 3, P75: 4, Max: 5}
	if x != want {
		t.Errorf("x:\n got %+v\nwant %+v", x, want)
	}
	if m := byName["always_missing"]; m.Missing != 7 || !math.IsNaN(m.Mean) || !math.IsNaN(m.Max) {
		t.Errorf("always_missing: %+v", m)
	}
	if l := byName["label_complex_case"]; l.Role != RoleLabel || l.Missing != 1 || math.Abs(l.Mean-1.0/3) > 1e-15 || l.Max != 1 {
		t.Errorf("label: %+v", l)
	}
	if id := byName["resident_id"]; id.Role != RoleKey || id.Distinct != 4 || id.First != "R1" || id.Last != "R4" || !math.IsNaN(id.Mean) {
		t.Errorf("resident_id: %+v", id)
	}
	if a := byName["audit_sex"]; a.Role != RoleAudit || a.Missing != 2 || a.Distinct != 2 || a.First != "F" || a.Last != "M" {
		t.Errorf("audit_sex: %+v", a)
	}

	// A sample of evenly spaced rows: 0, 2, 4 of 7 (x = 4, 1, 2).
	s, err = Describe(context.Background(), table(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Columns {
		if c.Name == "x" && (s.Described != 3 || c.Missing != 0 || c.Min != 1 || c.Max != 4 || c.Median != 2) {
			t.Errorf("sample: described %d, x %+v", s.Described, c)
		}
	}
}
