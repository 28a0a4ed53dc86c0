package assemble

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"caserisk/features/contract"
)

// readLinks reads a links file (contract.RawLinksHeader) into a mapping.
func readLinks(t testing.TB, path string) map[Key]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], contract.RawLinksHeader()) {
		t.Fatalf("%s: header %v", path, recs[0])
	}
	ids := make(map[Key]string, len(recs)-1)
	for _, r := range recs[1:] {
		ids[Key{r[0], r[1]}] = r[2]
	}
	return ids
}

func TestTinyFixture(t *testing.T) {
	ids := readLinks(t, "testdata/tiny/links.csv")
	out := t.TempDir()
	rep, err := Write(context.Background(), "testdata/tiny/raw", out, ids,
		Options{ExtractDate: contract.MustParseDay("2024-12-31")})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.Glob("testdata/tiny/want/*.csv")
	for _, w := range want {
		name := filepath.Base(w)
		exp, _ := os.ReadFile(w)
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, exp) {
			t.Errorf("%s:\ngot\n%s\nwant\n%s", name, got, exp)
		}
	}
	checkValid(t, out)
	if rep.Residents != 6 || rep.Residences != 6 || rep.HistoryStart != "2021-01-01" || rep.ExtractDate != "2024-12-31" {
		t.Errorf("report: residents %d, residences %d, history %s to %s", rep.Residents, rep.Residences, rep.HistoryStart, rep.ExtractDate)
	}
	rs := rep.Residence
	if rs.NoiseRunsMerged != 1 || rs.EndedAtDeath != 1 || rs.EndedMovedAway != 2 || rs.OpenAtEnd != 2 ||
		rs.FromPeopleRecords != 1 || rs.NoAddress != 1 || rs.Moves != 1 {
		t.Errorf("residence stats: %+v", rs)
	}
	if !slices.Equal(rep.RecordsPer[:4], []int{0, 4, 1, 1}) {
		t.Errorf("records per resident: %v", rep.RecordsPer)
	}
	// The manifest holds no personal data: no name, date of birth or address.
	man, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(man, &back); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Smith", "Ann", "1980-03-04", "Test Road", "NW1", "AB123456C"} {
		if bytes.Contains(man, []byte(s)) {
			t.Errorf("manifest holds personal data %q", s)
		}
	}
}

// TestUnmapped: a row or person record with no resident id is an error
// naming the file, line and record, and every one is counted.
func TestUnmapped(t *testing.T) {
	ids := readLinks(t, "testdata/tiny/links.csv")
	delete(ids, Key{"council_tax", "C2"}) // 5 rows and 1 person record
	delete(ids, Key{"education", "S6"})   // 1 person record
	var progress bytes.Buffer
	rep, err := Write(context.Background(), "testdata/tiny/raw", t.TempDir(), ids, Options{Progress: &progress})
	if err == nil {
		t.Fatal("no error for unmapped records")
	}
	if rep == nil || rep.Unmapped != 7 {
		t.Fatalf("unmapped: %+v", rep)
	}
	for _, s := range []string{"7 rows and person records", "council_tax.csv:6: record C2", "council_tax_people.csv:3: record C2"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if !strings.Contains(progress.String(), "5 without a resident id") {
		t.Errorf("progress: %s", progress.String())
	}
	if strings.Contains(progress.String(), "Bob") {
		t.Errorf("progress holds personal data")
	}
}

// TestBadMapping: a mapping naming an unknown source is an error.
func TestBadMapping(t *testing.T) {
	for _, ids := range []map[Key]string{
		{{"nosuch", "X"}: "R1"},
		{{"council_tax", "C1"}: ""},
	} {
		if _, err := Write(context.Background(), "testdata/tiny/raw", t.TempDir(), ids, Options{}); err == nil {
			t.Errorf("mapping %v: no error", ids)
		}
	}
}

// TestRandomMappings is a property test: for random groupings of the
// tiny fixture's records into residents, every row is kept, every output
// validates, residents.csv has one row per resident, and the output does
// not depend on the number of workers.
func TestRandomMappings(t *testing.T) {
	base := readLinks(t, "testdata/tiny/links.csv")
	var keys []Key
	for k := range base {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b Key) int { return strings.Compare(a.Source+a.RecordID, b.Source+b.RecordID) })
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 1))
		ids := map[Key]string{}
		distinct := map[string]bool{}
		for _, k := range keys {
			id := "P" + string(rune('A'+r.IntN(1+int(seed%6))))
			ids[k] = id
			distinct[id] = true
		}
		out1, out2 := t.TempDir(), t.TempDir()
		rep, err := Write(context.Background(), "testdata/tiny/raw", out1, ids, Options{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Write(context.Background(), "testdata/tiny/raw", out2, ids, Options{Workers: 3}); err != nil {
			t.Fatal(err)
		}
		checkValid(t, out1)
		checkConserved(t, "testdata/tiny/raw", out1)
		if rep.Residents != len(distinct) {
			t.Errorf("seed %d: %d residents, want %d", seed, rep.Residents, len(distinct))
		}
		for _, f := range rep.Files {
			if f.Rows != f.Written {
				t.Errorf("seed %d: %s: %d rows read, %d written", seed, f.File, f.Rows, f.Written)
			}
		}
		sameFiles(t, out1, out2)
	}
}

// sameFiles checks two directories hold the same CSV files, byte for byte.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(a, "*.csv"))
	for _, f := range files {
		x, _ := os.ReadFile(f)
		y, err := os.ReadFile(filepath.Join(b, filepath.Base(f)))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between runs (%v)", filepath.Base(f), err)
		}
	}
}
