package review

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"caserisk/features/contract"
	"caserisk/features/link"
	"caserisk/features/link/assemble"
)

const queueHead = "source_a,record_id_a,source_b,record_id_b,match_weight,match_probability,linked,given_name_level,given_name_weight,date_of_birth_level,date_of_birth_weight,decision\n"

func TestParseQueue(t *testing.T) {
	good := queueHead +
		"council_tax,C1,schools,S1,6.500,0.989,Y,exact,3.100,day_month_swap,1.200,\n" +
		"council_tax,C2,council_tax,C3,-0.250,0.5,N,jw_low,-1.000,null,0.000,\n"
	ps, err := ParseQueue(strings.NewReader(good), "review.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("%d pairs, want 2", len(ps))
	}
	p := ps[0]
	if p.Line != 2 || p.A != (assemble.Key{Source: "council_tax", RecordID: "C1"}) || p.B.RecordID != "S1" ||
		p.Weight != 6.5 || p.Prob != 0.989 || !p.Linked {
		t.Errorf("first pair %+v", p)
	}
	want := []Field{{"given_name", "exact", 3.1}, {"date_of_birth", "day_month_swap", 1.2}}
	if len(p.Fields) != 2 || p.Fields[0] != want[0] || p.Fields[1] != want[1] {
		t.Errorf("fields %+v, want %+v", p.Fields, want)
	}
	if ps[1].Linked || ps[1].Line != 3 || ps[1].Weight != -0.25 {
		t.Errorf("second pair %+v", ps[1])
	}

	bad := []struct {
		name, in, want string
	}{
		{"empty", "", "review.csv:1: empty file"},
		{"not a queue", "a,b\n1,2\n", "review.csv:1: header lacks column source_a"},
		{"missing id", queueHead + "council_tax,,schools,S1,1,0.9,Y,exact,1,exact,1,\n", "review.csv:2: a pair without both"},
		{"self pair", queueHead + "x,1,x,1,1,0.9,Y,exact,1,exact,1,\n", "review.csv:2: a record paired with itself"},
		{"bad weight", queueHead + "a,1,b,1,heavy,0.9,Y,exact,1,exact,1,\n", "review.csv:2:9: column match_weight"},
		{"bad field weight", queueHead + "a,1,b,1,1,0.9,Y,exact,1,exact,NaN,\n" + "", "review.csv:2:"},
		{"probability", queueHead + "a,1,b,1,1,1.5,Y,exact,1,exact,1,\n", "review.csv:2: column match_probability"},
		{"linked", queueHead + "a,1,b,1,1,0.5,yes,exact,1,exact,1,\n", "review.csv:2: column linked"},
		{"ragged line 3", queueHead + "a,1,b,1,1,0.5,Y,exact,1,exact,1,\na,1\n", "review.csv: record on line 3"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseQueue(strings.NewReader(tt.in), "review.csv")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func FuzzParseQueue(f *testing.F) {
	f.Add(queueHead + "council_tax,C1,schools,S1,6.500,0.989,Y,exact,3.100,day_month_swap,1.200,\n")
	f.Add(queueHead + "a,1,a,1,x,2,Q,,,,\n")
	f.Add("source_a\n\"")
	f.Fuzz(func(t *testing.T, in string) {
		ps, err := ParseQueue(strings.NewReader(in), "q.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "q.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, p := range ps {
			if p.A == p.B || p.A.Source == "" || p.B.RecordID == "" || p.Prob < 0 || p.Prob > 1 || p.Line < 2 {
				t.Fatalf("accepted a bad pair %+v", p)
			}
		}
	})
}

func TestDecisionsAppendReadAndPending(t *testing.T) {
	path := filepath.Join(t.TempDir(), "decisions.csv")
	if ds, err := ReadDecisions(path); err != nil || ds != nil {
		t.Fatalf("an absent file: %v, %v", ds, err)
	}
	k := func(s, id string) assemble.Key { return assemble.Key{Source: s, RecordID: id} }
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, d := range []Decision{
		{A: k("a", "1"), B: k("b", "1"), Accept: true, At: at},
		{A: k("c", "9"), B: k("a", "2"), At: at},
	} {
		a, err := OpenAppender(path) // reopened: the header is written once
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Append(d); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "source_a,record_id_a,source_b,record_id_b,decision,decided_at\n" +
		"a,1,b,1,accept,2025-03-01T12:00:00Z\nc,9,a,2,reject,2025-03-01T12:00:00Z\n"
	if string(data) != want {
		t.Fatalf("decisions file:\n%s\nwant:\n%s", data, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("decisions file mode %v, want 0600", st.Mode().Perm())
	}
	ds, err := ReadDecisions(path)
	if err != nil || len(ds) != 2 || !ds[0].Accept || ds[1].Accept {
		t.Fatalf("ReadDecisions = %+v, %v", ds, err)
	}
	// Pending drops decided pairs whichever way round they are named.
	queue := []Pair{
		{A: k("b", "1"), B: k("a", "1")},
		{A: k("a", "2"), B: k("c", "9")},
		{A: k("a", "3"), B: k("c", "9")},
	}
	left := Pending(queue, ds)
	if len(left) != 1 || left[0].A.RecordID != "3" || len(queue) != 3 {
		t.Fatalf("Pending = %+v", left)
	}
	// WriteDecisions writes the same form.
	var b bytes.Buffer
	if err := WriteDecisions(&b, []Decision{{A: k("a", "1"), B: k("b", "1"), Accept: true, At: at}}); err != nil {
		t.Fatal(err)
	}
	back, err := link.ReadDecisions(&b, "export.csv")
	if err != nil || len(back) != 1 || !back[0].Accept || back[0].B != k("b", "1") {
		t.Fatalf("exported decisions read back as %+v, %v", back, err)
	}
	// An empty file holds no decisions (the appender gives it a header).
	empty := filepath.Join(t.TempDir(), "empty.csv")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if ds, err := ReadDecisions(empty); err != nil || len(ds) != 0 {
		t.Fatalf("an empty file: %v, %v", ds, err)
	}
}

func TestPeople(t *testing.T) {
	dir := t.TempDir()
	src := contract.Default().RawSources()[0]
	pf := contract.RawPeople(src)
	var cols []string
	for _, c := range pf.Columns {
		cols = append(cols, c.Name)
	}
	row := func(vals map[string]string) string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = vals[c]
		}
		return strings.Join(out, ",")
	}
	body := strings.Join(cols, ",") + "\n" +
		row(map[string]string{"record_id": "R1", "given_name": "Ann", "family_name": "Lee", "date_of_birth": "1980-03-04",
			"sex": "F", "address": "\"1 High St, Town\"", "postcode": "AB1 2CD", "uprn": "100", "ethnic_group": "white"}) + "\n" +
		row(map[string]string{"record_id": "R2", "given_name": "Bo", "date_of_birth": "not a date"}) + "\n" +
		row(map[string]string{"record_id": "R3", "given_name": "Cy"}) + "\n"
	if err := os.WriteFile(filepath.Join(dir, pf.Name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	k := func(id string) assemble.Key { return assemble.Key{Source: src.Service, RecordID: id} }
	got, err := People(context.Background(), dir, map[assemble.Key]bool{k("R1"): true, k("R2"): true, k("R9"): true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("People found %d records, want R1 only (R2's row is rejected, R3 not asked, R9 absent)", len(got))
	}
	p := got[k("R1")]
	if p.GivenName != "Ann" || p.Address != "1 High St, Town" || p.UPRN != "100" || p.Sex != "F" {
		t.Fatalf("R1 = %+v", p)
	}
	if strings.Contains(strings.Join(p.Values(), ","), "white") {
		t.Fatal("a protected characteristic is among the details")
	}
	if len(p.Values()) != len(DetailColumns()) {
		t.Fatal("Values and DetailColumns disagree")
	}
	// A source the keys name whose file is missing is an error naming it.
	other := contract.Default().RawSources()[1]
	_, err = People(context.Background(), dir, map[assemble.Key]bool{{Source: other.Service, RecordID: "x"}: true})
	if err == nil || !strings.Contains(err.Error(), other.Service) {
		t.Fatalf("missing people file: %v", err)
	}
}

// TestEveryLevelIsExplained: each comparison level of the linkage has words
// of its own, not the fallback of its name.
func TestEveryLevelIsExplained(t *testing.T) {
	for f, field := range link.FieldNames {
		if FieldText(field) == strings.ReplaceAll(field, "_", " ") && field != "sex" {
			t.Errorf("field %s has no words", field)
		}
		for _, level := range link.LevelNames[f] {
			if got := LevelText(field, level); got == strings.ReplaceAll(level, "_", " ") {
				t.Errorf("level %s of %s has no words", level, field)
			}
		}
	}
	if got := Explain("date_of_birth", "day_month_swap"); got != "dates of birth: day and month swapped" {
		t.Errorf("Explain = %q", got)
	}
}

func TestReadSummary(t *testing.T) {
	dir := t.TempDir()
	queue := filepath.Join(dir, "review.csv")
	if s, err := ReadSummary(queue); s != nil || err != nil {
		t.Fatalf("no summary: %+v, %v", s, err)
	}
	if SummaryPath(queue) != filepath.Join(dir, "review.json") {
		t.Fatalf("summary path %s", SummaryPath(queue))
	}
	good := `{"size": 500, "low": 0.5, "high": 0.999, "near_threshold_pairs": 9000, "decisions": 2000, "already_reviewed": 10,
		"reviewed_pairs": 12, "queued": 500, "queued_pairs": 2100, "decided_by_model": 1490, "decided_by_model_linked": 400,
		"decided_by_model_apart": 1090, "decided_by_model_pairs": 6888}`
	for _, tc := range []struct {
		name, text, err string
	}{
		{"good", good, ""},
		{"not JSON", "{", "review.json"},
		{"unknown field", `{"pairs": 3}`, `unknown field "pairs"`},
		{"negative", `{"decisions": -1, "queued": -1}`, "must not be negative"},
		{"not adding up", `{"decisions": 10, "queued": 5, "decided_by_model": 4}`, "do not add up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(SummaryPath(queue), []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := ReadSummary(queue)
			if tc.err == "" {
				if err != nil || s.Queued != 500 || s.ByModel != 1490 || s.NearThreshold != 9000 {
					t.Fatalf("%+v, %v", s, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}
