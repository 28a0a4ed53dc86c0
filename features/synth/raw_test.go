package synth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"caserisk/features/contract"
)

// readRaw reads a raw-layout file through the contract loader, failing on
// any row error, and calls fn with each row.
func readRaw(t *testing.T, dir string, f *contract.File, fn func(*contract.Row)) int {
	t.Helper()
	r, err := contract.Open(dir, f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.Extra()) > 0 || len(r.Missing()) > 0 {
		t.Errorf("%s: extra columns %v, missing columns %v", f.Name, r.Extra(), r.Missing())
	}
	n := 0
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		fn(row)
	}
}

func TestGenerateRaw(t *testing.T) {
	dir := generate(t, 3000, 11, 2)
	ctx := context.Background()
	if _, err := GenerateRaw(ctx, RawConfig{Seed: 11, Workers: 1}, dir); err != nil {
		t.Fatal(err)
	}
	first := readAll(t, filepath.Join(dir, "raw"))
	firstLinks, err := os.ReadFile(filepath.Join(dir, contract.RawLinksFile))
	if err != nil {
		t.Fatal(err)
	}
	m, err := GenerateRaw(ctx, RawConfig{Seed: 11, Workers: 5}, dir)
	if err != nil {
		t.Fatal(err)
	}
	second := readAll(t, filepath.Join(dir, "raw"))
	secondLinks, _ := os.ReadFile(filepath.Join(dir, contract.RawLinksFile))
	if len(first) != len(second) || !bytes.Equal(firstLinks, secondLinks) {
		t.Fatalf("1 and 5 workers wrote different files or links")
	}
	for name, b := range first {
		if !bytes.Equal(b, second[name]) {
			t.Errorf("raw/%s differs between 1 and 5 workers", name)
		}
	}
	if !bytes.Equal(first["properties.csv"], mustRead(t, filepath.Join(dir, "properties.csv"))) {
		t.Error("raw/properties.csv is not a copy of properties.csv")
	}

	// The truth: every record exactly once.
	truth := map[[2]string]string{}
	lines := strings.Split(strings.TrimSuffix(string(firstLinks), "\n"), "\n")
	if lines[0] != strings.Join(contract.RawLinksHeader(), ",") {
		t.Fatalf("links header %q", lines[0])
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 3 {
			t.Fatalf("links row %q", l)
		}
		k := [2]string{f[0], f[1]}
		if _, dup := truth[k]; dup {
			t.Fatalf("links: record %s/%s twice", f[0], f[1])
		}
		truth[k] = f[2]
	}
	if m.Rows[contract.RawLinksFile] != len(truth) || m.Records != len(truth) {
		t.Errorf("manifest: %d links, %d records; file holds %d", m.Rows[contract.RawLinksFile], m.Records, len(truth))
	}

	c := contract.Default()
	rawDir := filepath.Join(dir, "raw")
	idForm := regexp.MustCompile(`^[A-Z]{1,4}[0-9A-Z]{8}$`)
	seen := 0
	for si, f := range c.RawSources() {
		rep := m.Sources[si]
		if rep.Source != f.Service {
			t.Fatalf("manifest source %d is %s, want %s", si, rep.Source, f.Service)
		}
		// People: every record in the truth, with the right form.
		recRows := map[string]int{}
		pf := contract.RawPeople(f)
		niForm := regexp.MustCompile(`^QQ[0-9]{6}[A-D]$`)
		n := readRaw(t, rawDir, pf, func(row *contract.Row) {
			id := row.Str[0]
			// What a source holds follows its policy.
			if v := row.Str[col(pf, "ni_number")]; v != "" && (rep.NINumber == 0 || !niForm.MatchString(v)) {
				t.Errorf("%s: record %s: NI number where none is held or not QQ-prefixed", f.Service, id)
			}
			if row.Str[col(pf, "uprn")] != "" && rep.UPRN == 0 {
				t.Errorf("%s: record %s holds a uprn", f.Service, id)
			}
			if (row.Str[col(pf, "ethnic_group")] != "" || row.Str[col(pf, "disability")] != "") && !rep.Ethnicity {
				t.Errorf("%s: record %s holds ethnicity or disability", f.Service, id)
			}
			if (row.Str[col(pf, "date_of_death")] != "") != (row.Str[col(pf, "death_recorded_date")] != "") ||
				(row.Str[col(pf, "date_of_death")] != "" && !rep.Death) {
				t.Errorf("%s: record %s: death fields against the policy", f.Service, id)
			}
			if !idForm.MatchString(id) || !strings.HasPrefix(id, rep.Prefix) {
				t.Errorf("%s: record id %q is not %s + 8 base-36 characters", f.Service, id, rep.Prefix)
			}
			if _, ok := truth[[2]string{f.Service, id}]; !ok {
				t.Errorf("%s: record %s is not in the links", f.Service, id)
			}
			recRows[id] = 0
		})
		seen += n
		if n != rep.Records || n != m.Rows["raw/"+f.Service+"_people.csv"] {
			t.Errorf("%s: %d people rows, manifest says %d", f.Service, n, rep.Records)
		}
		// Service rows: conserved, in order, each under a record of its true resident.
		var joined []string
		jr := readRaw(t, dir, f, func(row *contract.Row) { joined = append(joined, row.Str[col(f, "resident_id")]) })
		rf := contract.RawFile(f)
		k := 0
		people := map[string]bool{}
		rr := readRaw(t, rawDir, rf, func(row *contract.Row) {
			id := row.Str[col(rf, contract.RawRecordID)]
			if _, ok := recRows[id]; !ok {
				t.Fatalf("%s line %d: record %s has no person record", rf.Name, row.Line, id)
			}
			recRows[id]++
			if got := truth[[2]string{f.Service, id}]; k < len(joined) && got != joined[k] {
				t.Fatalf("%s line %d: record %s is resident %s, the joined row is %s", rf.Name, row.Line, id, got, joined[k])
			}
			people[truth[[2]string{f.Service, id}]] = true
			k++
		})
		if rr != jr || rr != rep.Rows || rr != m.Rows["raw/"+f.Name] {
			t.Errorf("%s: %d raw rows, %d joined rows, manifest %d", f.Service, rr, jr, rep.Rows)
		}
		want := map[string]bool{}
		for _, id := range joined {
			want[id] = true
		}
		if len(want) != len(people) || len(want) != rep.People {
			t.Errorf("%s: %d residents with rows, %d with records holding rows, manifest %d", f.Service, len(want), len(people), rep.People)
		}
		empty := 0
		for _, n := range recRows {
			if n == 0 {
				empty++
			}
		}
		if empty != rep.EmptyDuplicates {
			t.Errorf("%s: %d records without rows, %d empty duplicates by design", f.Service, empty, rep.EmptyDuplicates)
		}
		if rep.Records != rep.People+rep.Duplicates+rep.EmptyDuplicates {
			t.Errorf("%s: %d records != %d people + %d duplicates + %d empty", f.Service, rep.Records, rep.People, rep.Duplicates, rep.EmptyDuplicates)
		}
	}
	if seen != len(truth) {
		t.Errorf("%d people records in all sources, %d links", seen, len(truth))
	}

	// Corruption rates near their targets (binomial, 4 standard errors).
	var mf RawManifest
	if err := json.Unmarshal(first["manifest.json"], &mf); err != nil {
		t.Fatal(err)
	}
	for _, k := range mf.Corruption {
		if k.Eligible < 200 {
			continue
		}
		se := math.Sqrt(k.Target * (1 - k.Target) / float64(k.Eligible))
		if math.Abs(k.Rate-k.Target) > 4*se+0.001 {
			t.Errorf("%s: rate %.4f over %d records, target %.4f", k.Kind, k.Rate, k.Eligible, k.Target)
		}
	}
	dup, ppl := 0, 0
	for _, s := range mf.Sources {
		dup += s.Duplicates
		ppl += s.People
	}
	if r := float64(dup) / float64(ppl); r < 0.004 || r > 0.02 {
		t.Errorf("duplicates: %.4f of people in a source", r)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editDistance is the Damerau (optimal string alignment) distance.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

func TestTypoIsOneEdit(t *testing.T) {
	r := newRNG(1, 2)
	names := slices.Concat(givenF, givenM, family)
	for n := 0; n < 20000; n++ {
		s := names[n%len(names)]
		got := typo(s, r)
		if d := editDistance(strings.ToLower(s), strings.ToLower(got)); d != 1 {
			t.Fatalf("typo(%q) = %q: distance %d", s, got, d)
		}
	}
}

func TestDOBTypoAndSwap(t *testing.T) {
	r := newRNG(3, 4)
	for n := 0; n < 5000; n++ {
		d := contract.MakeDay(1930, 1, 1) + contract.Day(r.IntN(30000))
		got := dobTypo(d, r)
		if got == d {
			t.Fatalf("dobTypo(%s) unchanged", d)
		}
		a, b := d.String(), got.String()
		diff := 0
		for i := range a {
			if a[i] != b[i] {
				diff++
			}
		}
		if diff != 1 {
			t.Fatalf("dobTypo(%s) = %s: %d digits differ", a, b, diff)
		}
	}
}

func TestNameListsCovered(t *testing.T) {
	for _, n := range slices.Concat(givenF, givenM) {
		if _, ok := givenVariants[n]; !ok {
			t.Errorf("given name %q has no entry in givenVariants", n)
		}
	}
	for _, n := range family {
		if _, ok := familyVariants[n]; !ok {
			t.Errorf("family name %q has no entry in familyVariants", n)
		}
	}
	for n, vs := range givenVariants {
		for _, v := range vs {
			if v == n || v == "" || !utf8.ValidString(v) {
				t.Errorf("variant %q of %q", v, n)
			}
		}
	}
}

func TestRecordIDsUnique(t *testing.T) {
	for _, seed := range []uint64{0, 7, 1 << 40} {
		seen := map[string]bool{}
		for key := uint64(0); key < 200_000; key++ {
			id := rawRecordID("CT", seed, 0, key)
			if seen[id] {
				t.Fatalf("seed %d: id %s twice", seed, id)
			}
			seen[id] = true
		}
	}
}

func TestNINumbers(t *testing.T) {
	rw := &rawWorld{}
	for _, seed := range []uint64{1, 2, 99} {
		h := mix64(seed ^ 0x4e49)
		rw.niMul = (h%1_000_000)*10 + []uint64{1, 3, 7, 9}[h>>60&3]
		rw.niAdd = mix64(h) % niSpace
		form := regexp.MustCompile(`^QQ[0-9]{6}[A-D]$`)
		seen := map[string]bool{}
		for i := 0; i < 300_000; i++ {
			ni := rw.niNumber(i)
			if !form.MatchString(ni) || seen[ni] {
				t.Fatalf("seed %d: NI %q malformed or repeated", seed, ni)
			}
			seen[ni] = true
		}
	}
}

func TestAddressVariants(t *testing.T) {
	tests := []struct {
		fn       func(string) string
		in, want string
	}{
		{func(s string) string { return replaceWord(s, "Road", "Rd") }, "12 Maitland Park Road, London", "12 Maitland Park Rd, London"},
		{func(s string) string { return replaceWord(s, "Road", "Rd") }, "12 Roadside Way, London", "12 Roadside Way, London"},
		{func(s string) string { return replaceWord(s, "Street", "St") }, "Flat A, 3 Albert Street", "Flat A, 3 Albert St"},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
	r := newRNG(5, 6)
	for n := 0; n < 200; n++ {
		got := flatFormat("Flat C, 45 Albert Street, London", r)
		switch got {
		case "C/45 Albert Street, London", "Flat C 45 Albert Street, London", "45C Albert Street, London":
		default:
			t.Fatalf("flatFormat gave %q", got)
		}
	}
}

// FuzzLineReader checks that the rewriter's CSV reader reads back what
// appendRecord writes, and agrees with the contract loader on field values.
func FuzzLineReader(f *testing.F) {
	f.Add("a", "b,c", `d"e`)
	f.Add(" x", "", "multi\nline")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		if strings.ContainsRune(a+b+c, '\r') || !utf8.ValidString(a+b+c) {
			return
		}
		rec := []string{a, b, c}
		line := appendRecord(nil, rec)
		lr := &lineReader{br: bufio.NewReader(bytes.NewReader(append(line, line...))), name: "fuzz"}
		for k := 0; k < 2; k++ {
			got, err := lr.next()
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			if !slices.Equal(got, rec) {
				if len(got) == 1 && got[0] == "" && a+b+c == "" {
					continue
				}
				t.Fatalf("%q: read %q, wrote %q", line, got, rec)
			}
		}
	})
}

// TestTwinsAndSharedNames checks that the truth holds the hard cases of
// linkage: twins (same family name, date of birth and address, different
// given names) and a child sharing a parent's given name at one address.
func TestTwinsAndSharedNames(t *testing.T) {
	dir := generate(t, 6000, 5, 2)
	res := load(t, dir, "residents.csv")
	rs := load(t, dir, "residences.csv")
	id, gi, fi, di := res.col(t, "resident_id"), res.col(t, "given_name"), res.col(t, "family_name"), res.col(t, "date_of_birth")
	type person struct{ given, family, dob string }
	people := map[string]person{}
	for _, r := range res.str {
		people[r[id]] = person{r[gi], r[fi], r[di]}
	}
	// Group people by their first address.
	byHome := map[string][]string{}
	seen := map[string]bool{}
	for _, r := range rs.str {
		rid := r[rs.col(t, "resident_id")]
		if !seen[rid] {
			seen[rid] = true
			byHome[r[rs.col(t, "uprn")]] = append(byHome[r[rs.col(t, "uprn")]], rid)
		}
	}
	twins, shared := 0, 0
	for _, ids := range byHome {
		for a := 0; a < len(ids); a++ {
			for b := a + 1; b < len(ids); b++ {
				p, q := people[ids[a]], people[ids[b]]
				if p.family != q.family {
					continue
				}
				switch {
				case p.dob != "" && p.dob == q.dob && p.given != q.given:
					twins++
				case p.given == q.given && p.dob != "" && q.dob != "" && dobGapYears(p.dob, q.dob) >= 16:
					shared++ // a parent and child
				}
			}
		}
	}
	t.Logf("%d twin pairs, %d pairs sharing names", twins, shared)
	if twins < 5 || twins > 300 {
		t.Errorf("%d twin pairs in a borough of 6,000", twins)
	}
	if shared < 5 {
		t.Errorf("%d pairs sharing a given and family name at one address", shared)
	}
}

func dobGapYears(a, b string) int {
	x, y := contract.MustParseDay(a), contract.MustParseDay(b)
	return int(math.Abs(float64(x-y))) / 365
}

// TestTwinOf checks the rates and the make-up of twins and of boys named
// after their father.
func TestTwinOf(t *testing.T) {
	w, err := newWorld(Config{Residents: 100, Seed: 1, AsOf: testAsOf, YearsBefore: 4})
	if err != nil {
		t.Fatal(err)
	}
	un := &unit{id: "0000001", r: newRNG(1, 1), tw: newRNG(1, 1|twinStream)}
	father := &person{given: "David", family: "Okafor", rel: "head", end: never}
	mother := &person{given: "Abena", family: "Okafor", female: true, rel: "partner", end: never}
	h := &household{members: []*person{father, mother}}
	const n = 40000
	named, twins := 0, 0
	for k := 0; k < n; k++ {
		c := &person{given: "Kofi", family: "Okafor", female: k%2 == 0, birth: w.asOf - 100, eth: "black"}
		tw := w.twinOf(un, h, c)
		if c.given == "David" {
			if c.female {
				t.Fatal("a girl named after her father")
			}
			named++
		}
		if tw != nil {
			twins++
			if tw.birth != c.birth || tw.family != c.family || tw.given == c.given {
				t.Fatalf("twin %+v of %+v", tw, c)
			}
		}
	}
	if r := float64(named) / (n / 2); math.Abs(r-namedAfterRate) > 0.005 {
		t.Errorf("%.4f of boys named after their father, want %.3f", r, namedAfterRate)
	}
	if r := float64(twins) / n; math.Abs(r-twinRate) > 0.004 {
		t.Errorf("%.4f of births twins, want %.3f", r, twinRate)
	}
}
