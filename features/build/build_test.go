package build

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"caserisk/features/contract"
	"caserisk/features/spec"
)

func day(s string) contract.Day { return contract.MustParseDay(s) }

func buildMini(t *testing.T, entity string, asOf ...string) *Table {
	t.Helper()
	opts := Options{Dir: "testdata/mini", Entity: entity, ExtractDate: day("2024-12-31")}
	for _, a := range asOf {
		opts.AsOf = append(opts.AsOf, day(a))
	}
	tb, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return tb
}

// get returns the named column's value for the row of id on as-of date d.
func get(t *testing.T, tb *Table, id, d, name string) float64 {
	t.Helper()
	kind, j := tb.Column(name)
	if j < 0 {
		t.Fatalf("no column %s", name)
	}
	for i := 0; i < tb.Rows(); i++ {
		rid := tb.ResidentID(i)
		if tb.Entity == spec.Tenancy {
			rid = tb.TenancyID(i)
		}
		if rid != id || tb.AsOf[tb.AsOfIdx[i]].String() != d {
			continue
		}
		if kind == "label" {
			return tb.LabelValues[i*len(tb.Labels)+j]
		}
		return tb.Value(i, j)
	}
	t.Fatalf("no row for %s as of %s", id, d)
	return 0
}

func has(tb *Table, id, d string) bool {
	for i := 0; i < tb.Rows(); i++ {
		rid := tb.ResidentID(i)
		if tb.Entity == spec.Tenancy {
			rid = tb.TenancyID(i)
		}
		if rid == id && tb.AsOf[tb.AsOfIdx[i]].String() == d {
			return true
		}
	}
	return false
}

func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// TestMiniResident checks hand-computed values on a tiny borough that
// exercises late-recorded rows, open periods, late-recorded deaths,
// households, legacy codes and the label window.
func TestMiniResident(t *testing.T) {
	tb := buildMini(t, spec.Resident, "2023-06-30", "2023-09-01")
	nan := math.NaN()
	tests := []struct {
		id, asOf, col string
		want          float64
	}{
		// The contact is known (recorded 2023-06-02); the referral was recorded after the as-of date.
		{"R2", "2023-06-30", "csc_contacts_90d", 1},
		{"R2", "2023-09-01", "csc_contacts_90d", 1}, // the contact on 06-01 is 92 days back
		{"R2", "2023-09-01", "csc_contacts_365d", 2},
		{"R1", "2023-06-30", "csc_household_referrals_365d", 0},
		{"R1", "2023-09-01", "csc_household_referrals_365d", 1},
		// Legacy need code N1 is normalised and counted once.
		{"R1", "2023-06-30", "csc_need_categories_all", 1},
		// R4 moves in on 2023-09-01.
		{"R1", "2023-06-30", "household_size", 2},
		{"R1", "2023-09-01", "household_size", 3},
		{"R1", "2023-06-30", "household_children", 1},
		{"R2", "2023-06-30", "age_years", 8},
		{"R1", "2023-06-30", "age_years", 43},
		{"R1", "2023-06-30", "address_repairs_90d", 1},
		{"R1", "2023-09-01", "address_repairs_90d", 1},
		{"R1", "2023-09-01", "address_repairs_365d", 2},
		{"R1", "2023-06-30", "address_damp_mould_365d", 1},
		{"R1", "2023-06-30", "is_council_tenant", 1},
		{"R2", "2023-06-30", "is_council_tenant", 0},
		// Latest known balance of the household's tenancy.
		{"R1", "2023-06-30", "rent_arrears_gbp_now", 200},
		{"R2", "2023-06-30", "rent_arrears_gbp_now", 200},
		{"R1", "2023-09-01", "rent_arrears_gbp_now", 700},
		{"R1", "2023-06-30", "rent_recovery_actions_365d", 0},
		{"R1", "2023-06-30", "days_at_address", float64(day("2023-06-30") - day("2012-01-01"))},
		{"R1", "2023-06-30", "lives_in_council_home", 1},
		{"R1", "2023-06-30", "people_per_bedroom", 1},
		{"R1", "2023-06-30", "days_since_escalation_household", nan},
		{"R2", "2023-06-30", "school_attendance_last_pct", nan}, // no education extract
		// The child protection plan on 2023-10-01 falls in both label windows.
		{"R1", "2023-06-30", "label_complex_case", 1},
		{"R2", "2023-09-01", "label_complex_case", 1},
		{"R3", "2023-06-30", "label_complex_case", 0},
		{"R2", "2023-09-01", "prior_escalations_household", 0},
	}
	for _, tc := range tests {
		if got := get(t, tb, tc.id, tc.asOf, tc.col); !same(got, tc.want) {
			t.Errorf("%s as of %s: %s = %v, want %v", tc.id, tc.asOf, tc.col, got, tc.want)
		}
	}
	// R3 died on 2023-03-01 but the death was recorded on 2023-08-01.
	if !has(tb, "R3", "2023-06-30") || has(tb, "R3", "2023-09-01") {
		t.Error("R3 should be in the population on 2023-06-30 only")
	}
	if has(tb, "R4", "2023-06-30") || !has(tb, "R4", "2023-09-01") {
		t.Error("R4 should be in the population on 2023-09-01 only")
	}
	if got := tb.Rows(); got != 3+3 {
		t.Errorf("rows = %d, want 6", got)
	}
}

func TestMiniTenancy(t *testing.T) {
	tb := buildMini(t, spec.Tenancy, "2023-06-30", "2023-09-01")
	tests := []struct {
		id, asOf, col string
		want          float64
	}{
		{"T2", "2023-06-30", "deceased_tenant", 0}, // death not yet recorded
		{"T2", "2023-09-01", "deceased_tenant", 1},
		{"T2", "2023-09-01", "payments_since_tenant_death", 2},
		{"T2", "2023-09-01", "deceased_tenant_payments_continue", 1},
		{"T2", "2023-06-30", "rent_months_in_advance", 4},
		{"T2", "2023-06-30", "rent_paid_far_in_advance", 1},
		{"T2", "2023-09-01", "household_size", 0},
		{"T2", "2023-09-01", "tenant_lives_elsewhere", 1},
		{"T1", "2023-06-30", "tenant_lives_elsewhere", 0},
		{"T1", "2023-06-30", "rent_arrears_gbp_now", 200},
		{"T1", "2023-06-30", "rent_payments_90d", 1},
		{"T1", "2023-06-30", "tenancy_years", 11.4},
		{"T1", "2023-06-30", "no_repairs_3y", 0},
		{"T2", "2023-06-30", "no_repairs_3y", 1},
		{"T1", "2023-06-30", "repairs_reported_365d", 1},
		{"T1", "2023-06-30", "label_tenancy_fraud", math.NaN()}, // no investigation
	}
	for _, tc := range tests {
		if got := get(t, tb, tc.id, tc.asOf, tc.col); !same(got, tc.want) {
			t.Errorf("%s as of %s: %s = %v, want %v", tc.id, tc.asOf, tc.col, got, tc.want)
		}
	}
	if has(tb, "T3", "2023-06-30") {
		t.Error("T3 ended in 2011 and must not be a row")
	}
}

// TestMiniReports checks that bad rows are counted and reported, never silently dropped.
func TestMiniReports(t *testing.T) {
	tb := buildMini(t, spec.Resident, "2023-06-30")
	in := map[string]InputReport{}
	for _, r := range tb.Inputs {
		in[r.File] = r
	}
	want := map[string]InputReport{
		"residents.csv":             {RowsRead: 5, RowsUsed: 4, Duplicates: 1},
		"repairs.csv":               {RowsRead: 5, RowsUsed: 3, Rejected: 1, UnknownResident: 1},
		"childrens_social_care.csv": {RowsRead: 4, RowsUsed: 3, OutOfSpan: 1},
	}
	for f, w := range want {
		g := in[f]
		if g.RowsRead != w.RowsRead || g.RowsUsed != w.RowsUsed || g.Rejected != w.Rejected ||
			g.Duplicates != w.Duplicates || g.UnknownResident != w.UnknownResident || g.OutOfSpan != w.OutOfSpan {
			t.Errorf("%s: got %+v, want counts %+v", f, g, w)
		}
	}
	if in["education.csv"].Present {
		t.Error("education.csv is absent but reported present")
	}
	var buf bytes.Buffer
	if err := tb.WriteRejects(&buf); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"repairs.csv,6,event_date,2023-13-01,not a valid date in YYYY-MM-DD form",
		"repairs.csv,5,resident_id,R9,resident_id is not in residents.csv; row not used",
		"residents.csv,6,resident_id,R2,exact duplicate of line 3; counted once",
		"childrens_social_care.csv,5,event_date,1850-01-01,",
	} {
		if !strings.Contains(buf.String(), line) {
			t.Errorf("rejects lack %q:\n%s", line, buf.String())
		}
	}
}

func TestStrict(t *testing.T) {
	_, err := Build(context.Background(), Options{Dir: "testdata/mini", Entity: spec.Resident,
		AsOf: []contract.Day{day("2023-06-30")}, Strict: true})
	var re *contract.RowError
	if !errors.As(err, &re) {
		t.Fatalf("strict build: got %v, want a *contract.RowError", err)
	}
	if re.File != "repairs.csv" || re.Line != 6 || re.Column != "event_date" {
		t.Errorf("strict error %v: want repairs.csv line 6 column event_date", re)
	}
}

func TestLabelsEmptyBeyondData(t *testing.T) {
	tb, err := Build(context.Background(), Options{Dir: "testdata/mini", Entity: spec.Resident,
		AsOf: []contract.Day{day("2023-06-30")}, ExtractDate: day("2024-01-01")})
	if err != nil {
		t.Fatal(err)
	}
	if tb.LabelsAvailable[0] {
		t.Fatal("labels marked available although the data ends before as-of + 12 months")
	}
	for i, v := range tb.LabelValues {
		if !math.IsNaN(v) {
			t.Fatalf("label %d = %v, want empty", i, v)
		}
	}
}

func TestUnknownSignal(t *testing.T) {
	sp, err := spec.Parse([]byte("version: 1\nresident:\n  signals:\n    - age_years\n    - star_sign\n"), "s.yaml", contract.Default())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(context.Background(), Options{Dir: "testdata/does-not-exist", Entity: spec.Resident,
		AsOf: []contract.Day{day("2023-06-30")}, Spec: sp})
	if err == nil || !strings.Contains(err.Error(), "s.yaml:5:") || !strings.Contains(err.Error(), "star_sign") {
		t.Errorf("got %v, want an error at s.yaml:5 naming star_sign (before reading any data)", err)
	}
}

func TestAgeBand(t *testing.T) {
	tests := []struct {
		age  float64
		want string
	}{{0, "0-17"}, {17, "0-17"}, {18, "18-24"}, {64, "55-64"}, {75, "75+"}, {math.NaN(), "unknown"}}
	for _, tc := range tests {
		if got := AgeBand(tc.age); got != tc.want {
			t.Errorf("AgeBand(%v) = %q, want %q", tc.age, got, tc.want)
		}
	}
}

// TestProtectedOnlyWhenAsked checks that protected characteristics are
// audit columns by default and features only when a spec lists them.
func TestProtectedOnlyWhenAsked(t *testing.T) {
	tb := buildMini(t, spec.Resident, "2023-06-30")
	for _, f := range tb.Features {
		if strings.Contains(f.Name, "sex") || strings.Contains(f.Name, "ethnic") || strings.Contains(f.Name, "disab") {
			t.Errorf("default spec has protected feature %s", f.Name)
		}
	}
	if _, j := tb.Column("audit_sex"); j < 0 {
		t.Error("no audit_sex column")
	}
	sp, err := spec.Parse([]byte("version: 1\nprotected: [sex]\nresident:\n  signals: [age_years]\n"), "p.yaml", contract.Default())
	if err != nil {
		t.Fatal(err)
	}
	tb, err = Build(context.Background(), Options{Dir: "testdata/mini", Entity: spec.Resident, Spec: sp,
		AsOf: []contract.Day{day("2023-06-30")}, ExtractDate: day("2024-12-31")})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, tb, "R1", "2023-06-30", "protected_sex_f"); got != 1 {
		t.Errorf("R1 protected_sex_f = %v, want 1", got)
	}
	if got := get(t, tb, "R2", "2023-06-30", "protected_sex_f"); got != 0 {
		t.Errorf("R2 protected_sex_f = %v, want 0", got)
	}
	audit := map[string]string{}
	_, j := tb.Column("audit_ward")
	for i := 0; i < tb.Rows(); i++ {
		audit[tb.ResidentID(i)] = tb.AuditValues[i*len(tb.Audit)+j]
	}
	if audit["R1"] != "Kilburn" || audit["R3"] != "Holborn & Covent Garden" {
		t.Errorf("audit_ward = %v", audit)
	}
}

// TestBadHeaders: a service file with a bad header stops the build naming
// it, unless broken files are allowed: then it is reported with every line
// lost and the build goes on; a bad header in an index file always stops
// the build.
func TestBadHeaders(t *testing.T) {
	for _, tc := range []struct {
		file    string
		wantErr bool
	}{{"repairs.csv", false}, {"residences.csv", true}} {
		t.Run(tc.file, func(t *testing.T) {
			dir := t.TempDir()
			entries, _ := os.ReadDir("testdata/mini")
			for _, e := range entries {
				b, _ := os.ReadFile(filepath.Join("testdata/mini", e.Name()))
				if e.Name() == tc.file {
					b = []byte(strings.Replace(string(b), "resident_id", "person", 1))
				}
				os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
			}
			opts := Options{Dir: dir, Entity: spec.Resident, AsOf: []contract.Day{day("2023-06-30")}}
			_, err := Build(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), tc.file+":1") {
				t.Fatalf("got %v, want an error at %s:1", err, tc.file)
			}
			var be *contract.BrokenFilesError
			if !tc.wantErr && !errors.As(err, &be) {
				t.Errorf("got %v, want a *contract.BrokenFilesError", err)
			}
			opts.AllowBrokenFiles = true
			tb, err := Build(context.Background(), opts)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), tc.file+":1") {
					t.Errorf("allowing broken files: got %v, want an error at %s:1", err, tc.file)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(filepath.Join(dir, tc.file))
			lines := strings.Count(string(raw), "\n") - 1
			for _, in := range tb.Inputs {
				if in.File == tc.file && (in.RowsRead != 0 || in.RowsUsed != 0 || in.Lost != lines || in.Fault == "") {
					t.Errorf("%s: %+v, want no row read and %d lines lost", tc.file, in, lines)
				}
			}
			if v := get(t, tb, "R1", "2023-06-30", "address_repairs_90d"); !math.IsNaN(v) {
				t.Errorf("address_repairs_90d = %v without a usable repairs file, want empty", v)
			}
		})
	}
}

// TestDirectionsInMeta checks that the directions a spec declares, on its
// features and its signals, reach the table's feature metadata (and so
// meta.json, the models and their reports).
func TestDirectionsInMeta(t *testing.T) {
	sp, err := spec.Parse([]byte(`version: 1
resident:
  signals:
    - age_years
    - {name: prior_escalations_household, direction: increasing}
  features:
    - name: eh_days
      service: early_help
      agg: days_since_last
      direction: decreasing
      description: Days since early help.
      template: "Early help {when}"
`), "d.yaml", contract.Default())
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Build(context.Background(), Options{Dir: "testdata/mini", Entity: spec.Resident, Spec: sp,
		AsOf: []contract.Day{day("2023-06-30")}, ExtractDate: day("2024-12-31")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range tb.Features {
		got[f.Name] = f.Direction
	}
	want := map[string]string{"eh_days": "decreasing", "age_years": "", "prior_escalations_household": "increasing"}
	for name, d := range want {
		if g, ok := got[name]; !ok || g != d {
			t.Errorf("%s: direction %q (present %v), want %q", name, g, ok, d)
		}
	}
	// The default spec's own signals carry no direction in Go: the spec declares it.
	for _, m := range Signals(spec.Resident) {
		if m.Direction != "" {
			t.Errorf("signal %s has a direction in Go (%s); only a spec declares one", m.Name, m.Direction)
		}
	}
}
