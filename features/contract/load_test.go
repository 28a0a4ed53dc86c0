package contract

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustFile(t testing.TB, name string) *File {
	t.Helper()
	f, ok := Default().File(name)
	if !ok {
		t.Fatalf("no file %s in the contract", name)
	}
	return f
}

func readAll(t *testing.T, f *File, src string) ([]Row, []*RowError, error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(src), f.Name, f)
	if err != nil {
		return nil, nil, err
	}
	var rows []Row
	var errs []*RowError
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows, errs, nil
		}
		var re *RowError
		if errors.As(err, &re) {
			errs = append(errs, re)
			continue
		}
		if err != nil {
			return rows, errs, err
		}
		rows = append(rows, Row{Line: row.Line, Str: append([]string(nil), row.Str...),
			Num: append([]float64(nil), row.Num...), Day: append([]Day(nil), row.Day...)})
	}
}

const repairsHeader = "repair_id,resident_id,uprn,event_date,event_type,trade,priority\n"

func TestReaderErrorsNameFileLineColumn(t *testing.T) {
	f := mustFile(t, "repairs.csv")
	tests := []struct {
		name, body     string
		line           int
		column, reason string
	}{
		{"bad date", "J1,R1,100000000001,2024-02-30,reported,plumbing,urgent\n", 2, "event_date", "not a valid date"},
		{"unknown code", "J1,R1,100000000001,2024-02-03,exploded,plumbing,urgent\n", 2, "event_type", "unknown code"},
		{"missing required", "J1,,100000000001,2024-02-03,reported,plumbing,urgent\n", 2, "resident_id", "required value is missing"},
		{"bad integer", "J1,R1,12x,2024-02-03,reported,plumbing,urgent\n", 2, "uprn", "not an integer"},
		{"field count", "J1,R1,100000000001,2024-02-03,reported\n", 2, "", "row has 5 fields"},
		{"second row", "J1,R1,100000000001,2024-02-03,reported,,\nJ2,R1,100000000001,03/02/2024,reported,,\n", 3, "event_date", "not a valid date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, err := readAll(t, f, repairsHeader+tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if len(errs) != 1 {
				t.Fatalf("got %d row errors, want 1: %v", len(errs), errs)
			}
			e := errs[0]
			if e.File != "repairs.csv" || e.Line != tc.line || e.Column != tc.column || !strings.Contains(e.Reason, tc.reason) {
				t.Errorf("got %+v, want line %d column %q reason ~%q", e, tc.line, tc.column, tc.reason)
			}
			if !strings.HasPrefix(e.Error(), "repairs.csv:") {
				t.Errorf("error text %q does not start with the file", e.Error())
			}
		})
	}
}

func TestReaderHeaderErrors(t *testing.T) {
	f := mustFile(t, "repairs.csv")
	for _, tc := range []struct{ name, src, want string }{
		{"wrong header", "repair,resident,uprn,date\n", "header lacks required column(s) repair_id"},
		{"duplicate column", "repair_id,resident_id,uprn,uprn,event_date,event_type\n", "column appears twice"},
		{"empty", "", "empty file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tc.src), "repairs.csv", f)
			var re *RowError
			if !errors.As(err, &re) || re.Line != 1 || !strings.Contains(re.Reason, tc.want) {
				t.Fatalf("got %v, want a line-1 error containing %q", err, tc.want)
			}
		})
	}
}

func TestReaderColumnsAnyOrderQuotesLegacyCodes(t *testing.T) {
	f := mustFile(t, "anti_social_behaviour.csv")
	src := "\ufeffcategory,role,event_date,resident_id,incident_id,uprn,note\r\n" +
		"HARASS,victim,2021-05-01,R7,\"I,1\",,\"said \"\"hello\"\"\nover two lines\"\r\n" +
		"\r\n" +
		"noise,perpetrator,2024-01-02,R8,I2,100000000002,\r\n"
	r, err := NewReader(strings.NewReader(src), f.Name, f)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Extra(); len(got) != 1 || got[0] != "note" {
		t.Errorf("Extra() = %v, want [note]", got)
	}
	rows, errs, err := readAll(t, f, src)
	if err != nil || len(errs) > 0 {
		t.Fatalf("err %v, row errors %v", err, errs)
	}
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	id, _ := colIndex(f, "incident_id")
	cat, _ := colIndex(f, "category")
	u, _ := colIndex(f, "uprn")
	date, _ := colIndex(f, "event_date")
	if rows[0].Str[id] != "I,1" || rows[0].Str[cat] != "harassment" || !math.IsNaN(rows[0].Num[u]) {
		t.Errorf("row 1 = %v", rows[0].Str)
	}
	if rows[1].Line != 5 || rows[1].Num[u] != 100000000002 || rows[1].Day[date] != MustParseDay("2024-01-02") {
		t.Errorf("row 2 = line %d %v %v", rows[1].Line, rows[1].Num, rows[1].Day)
	}
}

func colIndex(f *File, name string) (int, bool) {
	for i, c := range f.Columns {
		if c.Name == name {
			return i, true
		}
	}
	return -1, false
}

func TestPersonalValuesNeverInErrors(t *testing.T) {
	f := mustFile(t, "residents.csv")
	src := "resident_id,given_name,family_name,date_of_birth,sex,ethnic_group,disability,first_seen_date\n" +
		"R1,Ada,Lovelace,1815-13-10,F,white,N,2020-01-01\n"
	_, errs, err := readAll(t, f, src)
	if err != nil || len(errs) != 1 {
		t.Fatalf("err %v, row errors %v", err, errs)
	}
	if errs[0].Column != "date_of_birth" || errs[0].Value != "" || strings.Contains(errs[0].Error(), "1815") {
		t.Errorf("personal value leaked: %v", errs[0])
	}
}

func TestValidateDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("repairs.csv", repairsHeader+"J1,R1,100000000001,2024-02-03,reported,,\nJ2,R1,100000000001,2024-13-03,reported,,\n")
	write("properties.csv", "uprn,address,postcode,ward,property_type,tenure,bedrooms,council_tax_band\n100000000001,\"1 High St, London\",NW1 1AA,Kilburn,flat,council,2,C\n")
	rep, err := ValidateDir(context.Background(), dir, Default())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatal("report OK despite a bad row and missing residents.csv")
	}
	byName := map[string]FileReport{}
	for _, fr := range rep.Files {
		byName[fr.File] = fr
	}
	if r := byName["repairs.csv"]; r.Rows != 2 || r.Rejected != 1 || r.Errors[0].Line != 3 {
		t.Errorf("repairs report %+v", r)
	}
	if r := byName["properties.csv"]; !r.Present || r.Rows != 1 || r.Rejected != 0 {
		t.Errorf("properties report %+v", r)
	}
	if byName["residents.csv"].Present {
		t.Error("residents.csv reported present")
	}
}

func TestDayRoundTrip(t *testing.T) {
	for d := MustParseDay("1899-12-25"); d < MustParseDay("2101-01-05"); d += 7 {
		s := d.String()
		back, err := ParseDay(s)
		if err != nil || back != d {
			t.Fatalf("%d -> %q -> %d, %v", d, s, back, err)
		}
		if string(d.AppendFormat(nil)) != s || d.Time().Format("2006-01-02") != s || DayOf(d.Time()) != d {
			t.Fatalf("formats disagree for %s", s)
		}
	}
	if MustParseDay("1970-01-01") != 0 {
		t.Error("epoch is not day 0")
	}
	for _, bad := range []string{"2023-02-29", "2024-00-10", "2024-1-10", "20240110", "2024-01-32", ""} {
		if _, err := ParseDay(bad); err == nil {
			t.Errorf("ParseDay(%q) accepted", bad)
		}
	}
	for _, tc := range []struct {
		from string
		n    int
		want string
	}{{"2024-01-31", 1, "2024-02-29"}, {"2024-03-15", 12, "2025-03-15"}, {"2024-03-15", -3, "2023-12-15"}, {"2023-12-31", -12, "2022-12-31"}} {
		if got := MustParseDay(tc.from).AddMonths(tc.n).String(); got != tc.want {
			t.Errorf("%s + %d months = %s, want %s", tc.from, tc.n, got, tc.want)
		}
	}
}

// FuzzReader checks that no input makes the reader panic or loop, and that
// every row error names the file and a line within the input.
func FuzzReader(f *testing.F) {
	f.Add(repairsHeader + "J1,R1,100000000001,2024-02-03,reported,plumbing,urgent\n")
	f.Add(repairsHeader + "\"J\"\"1\",R1,1,2024-02-03,reported,,\n\"unterminated")
	f.Add("repair_id,resident_id,uprn,event_date,event_type\nx,y,z\n")
	file := mustFile(f, "repairs.csv")
	f.Fuzz(func(t *testing.T, src string) {
		r, err := NewReader(strings.NewReader(src), "repairs.csv", file)
		if err != nil {
			return
		}
		lines := strings.Count(src, "\n") + 1
		for i := 0; i < 10000; i++ {
			_, err := r.Next()
			if err == io.EOF {
				return
			}
			var re *RowError
			if errors.As(err, &re) {
				if re.File != "repairs.csv" || re.Line < 2 || re.Line > lines {
					t.Fatalf("row error with bad position: %+v (input has %d lines)", re, lines)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}
