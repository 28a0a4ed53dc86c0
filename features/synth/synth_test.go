package synth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"caserisk/features/contract"
)

var testAsOf = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// generate writes a small borough to a fresh directory.
func generate(t testing.TB, residents int, seed uint64, workers int) string {
	t.Helper()
	dir := t.TempDir()
	cfg := Config{Residents: residents, Seed: seed, AsOf: testAsOf, YearsBefore: 4, Version: "test", Workers: workers}
	if _, err := Generate(context.Background(), cfg, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// table is a contract file read through the validating loader.
type table struct {
	f    *contract.File
	str  [][]string
	days [][]contract.Day
}

func (tb *table) col(t testing.TB, name string) int {
	t.Helper()
	for i, c := range tb.f.Columns {
		if c.Name == name {
			return i
		}
	}
	t.Fatalf("%s has no column %s", tb.f.Name, name)
	return -1
}

// load reads a contract file, failing the test on any rejected row.
func load(t testing.TB, dir, name string) *table {
	t.Helper()
	f, ok := contract.Default().File(name)
	if !ok {
		t.Fatalf("no contract file %s", name)
	}
	r, err := contract.Open(dir, f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tb := &table{f: f}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return tb
		}
		if err != nil {
			t.Fatal(err)
		}
		tb.str = append(tb.str, append([]string(nil), row.Str...))
		tb.days = append(tb.days, append([]contract.Day(nil), row.Day...))
	}
}

// oracleRows reads a two- or three-column oracle file keyed by its first column.
func oracleRows(t testing.TB, dir, name string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "oracle", name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var out [][]string
	for _, l := range lines[1:] {
		out = append(out, strings.Split(l, ","))
	}
	return out
}

func TestConformance(t *testing.T) {
	dir := generate(t, 3000, 1, 0)
	rep, err := contract.ValidateDir(context.Background(), dir, contract.Default())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		for _, f := range rep.Files {
			for _, e := range f.Errors {
				t.Errorf("%v", e.Error())
			}
		}
		t.Fatal("the loader rejected generated rows")
	}
	c := contract.Default()
	for _, f := range rep.Files {
		if !f.Present || f.Rows == 0 || f.Rejected > 0 || len(f.Extra) > 0 || len(f.Missing) > 0 {
			t.Errorf("%s: present %v, %d rows, %d rejected, extra %v, missing %v", f.File, f.Present, f.Rows, f.Rejected, f.Extra, f.Missing)
		}
	}
	services := c.Services()
	if len(services) < 16 {
		t.Fatalf("%d service files, want at least 16", len(services))
	}
	for _, f := range services {
		if _, ok := f.Column("resident_id"); !ok {
			t.Errorf("service file %s has no resident_id column", f.Name)
		}
	}
	for _, name := range []string{"manifest.json", "oracle/residents.csv", "oracle/tenancies.csv"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}

// readAll returns every file's bytes under dir, keyed by relative path.
func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterminism(t *testing.T) {
	a := readAll(t, generate(t, 2000, 7, 1))
	b := readAll(t, generate(t, 2000, 7, 3)) // more workers: same bytes
	if len(a) != len(b) || len(a) < 25 {
		t.Fatalf("file counts %d and %d", len(a), len(b))
	}
	for name, x := range a {
		if !bytes.Equal(x, b[name]) {
			t.Errorf("%s differs between two runs with the same arguments", name)
		}
	}
	c := readAll(t, generate(t, 2000, 8, 0))
	same := 0
	for name, x := range a {
		if bytes.Equal(x, c[name]) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d files identical under another seed", same)
	}
}

// auc is the ROC AUC of scores against 0/1 labels (ties count half).
func auc(scores []float64, labels []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // average 1-based rank of the tie group
		for k := i; k < j; k++ {
			if labels[idx[k]] {
				rankSum += mid
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return 0.5
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func TestAUCHelper(t *testing.T) {
	tests := []struct {
		s    []float64
		l    []bool
		want float64
	}{
		{[]float64{0.1, 0.2, 0.3, 0.4}, []bool{false, false, true, true}, 1},
		{[]float64{0.4, 0.3, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		{[]float64{0.5, 0.5, 0.5, 0.5}, []bool{false, true, false, true}, 0.5},
		{[]float64{0.1, 0.3, 0.2, 0.4}, []bool{false, false, true, true}, 0.75},
	}
	for _, tt := range tests {
		if got := auc(tt.s, tt.l); got != tt.want {
			t.Errorf("auc(%v, %v) = %v, want %v", tt.s, tt.l, got, tt.want)
		}
	}
}

// TestOracle checks base rates and the oracle's ranking power, and that
// the oracle's escalated agrees with the complex-case label computed from
// the extracts by the contract's definition.
func TestOracle(t *testing.T) {
	dir := generate(t, 5000, 3, 0)
	w, err := newWorld(Config{Residents: 5000, Seed: 3, AsOf: testAsOf, YearsBefore: 4})
	if err != nil {
		t.Fatal(err)
	}
	asOf, horizon := w.asOf, w.end

	home, escalatedUPRN := labelsFromExtracts(t, dir, asOf, horizon)
	rows := oracleRows(t, dir, "residents.csv")
	if len(rows) != len(home) {
		t.Errorf("oracle has %d residents, residences have %d people at the as-of date", len(rows), len(home))
	}
	var scores []float64
	var labels []bool
	mismatch, positives := 0, 0
	for _, r := range rows {
		u, ok := home[r[0]]
		if !ok {
			t.Fatalf("oracle resident %s has no residence on the as-of date", r[0])
		}
		p, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		esc := r[2] == "1"
		if esc != escalatedUPRN[u] {
			mismatch++
		}
		if esc {
			positives++
		}
		scores = append(scores, p)
		labels = append(labels, esc)
	}
	if mismatch > 0 {
		t.Errorf("%d of %d oracle labels disagree with the label computed from the extracts", mismatch, len(rows))
	}
	rate := float64(positives) / float64(len(rows))
	if rate < 0.02 || rate > 0.06 {
		t.Errorf("escalation rate %.4f, want 0.02–0.06", rate)
	}
	if a := auc(scores, labels); a < 0.75 || a > 0.95 {
		t.Errorf("oracle AUC %.3f, want 0.75–0.95", a)
	} else {
		t.Logf("%d residents at the as-of date, escalation rate %.3f, oracle AUC %.3f", len(rows), rate, a)
	}
	if n := len(rows); n < 4500 || n > 5500 {
		t.Errorf("%d residents at the as-of date, want about 5000", n)
	}

	// Tenancy fraud: 2–5% of council tenancies at the as-of date (wider
	// bounds at this small size).
	ten := oracleRows(t, dir, "tenancies.csv")
	fraud := 0
	for _, r := range ten {
		if r[1] == "1" {
			fraud++
		}
	}
	if fr := float64(fraud) / float64(len(ten)); fr < 0.015 || fr > 0.065 {
		t.Errorf("fraud rate %.4f of %d tenancies, want about 0.02–0.05", fr, len(ten))
	}
}

// labelsFromExtracts computes the complex-case label by the contract's
// definition from the generated extracts alone: each person's home (UPRN)
// on the as-of date, and the homes where someone living there on that date
// has an escalation event dated in (asOf, horizon].
func labelsFromExtracts(t testing.TB, dir string, asOf, horizon contract.Day) (home map[string]string, escalatedUPRN map[string]bool) {
	t.Helper()
	// The label from the extracts: household = people with a residence at
	// the same UPRN on the as-of date.
	res := load(t, dir, "residences")
	rid, ruprn, rs, re := res.col(t, "resident_id"), res.col(t, "uprn"), res.col(t, "start_date"), res.col(t, "end_date")
	home = map[string]string{}
	for i, row := range res.str {
		if res.days[i][rs] <= asOf && (res.days[i][re] == contract.NoDay || res.days[i][re] >= asOf) {
			if prev, ok := home[row[rid]]; ok && prev != row[ruprn] {
				t.Fatalf("resident %s lives at two UPRNs on the as-of date", row[rid])
			}
			home[row[rid]] = row[ruprn]
		}
	}
	escalatedPeople := map[string]bool{}
	for _, e := range contract.Escalations() {
		tb := load(t, dir, e.Service)
		ci, di, ri := tb.col(t, e.Column), tb.col(t, tb.f.EventDate), tb.col(t, "resident_id")
		for i, row := range tb.str {
			if row[ci] == e.Code && tb.days[i][di] > asOf && tb.days[i][di] <= horizon {
				escalatedPeople[row[ri]] = true
			}
		}
	}
	escalatedUPRN = map[string]bool{}
	for id := range escalatedPeople {
		if u, ok := home[id]; ok {
			escalatedUPRN[u] = true
		}
	}

	return home, escalatedUPRN
}

// checkOracleLabels fails the test when the oracle's residents differ from
// the people living in the borough on the as-of date, or its escalated
// column from the label computed from the extracts.
func checkOracleLabels(t testing.TB, dir string, asOf, horizon contract.Day) {
	t.Helper()
	home, esc := labelsFromExtracts(t, dir, asOf, horizon)
	rows := oracleRows(t, dir, "residents.csv")
	if len(rows) != len(home) {
		t.Errorf("oracle has %d residents, residences have %d people at the as-of date", len(rows), len(home))
	}
	for _, r := range rows {
		u, ok := home[r[0]]
		if !ok {
			t.Fatalf("oracle resident %s has no residence on the as-of date", r[0])
		}
		if (r[2] == "1") != esc[u] {
			t.Fatalf("oracle resident %s: escalated %s, extracts say %v", r[0], r[2], esc[u])
		}
	}
}

func TestDatesInSpan(t *testing.T) {
	dir := generate(t, 5000, 5, 0)
	w, _ := newWorld(Config{Residents: 5000, Seed: 5, AsOf: testAsOf, YearsBefore: 4})
	checkDates(t, dir, w)
}

// checkDates fails the test for a date after the extract's end, an event
// before the history's start, a row recorded before its event, or a period
// that ends before it starts.
func checkDates(t testing.TB, dir string, w *world) {
	t.Helper()
	for _, f := range contract.Default().Files {
		tb := load(t, dir, f.Name)
		for i := range tb.str {
			for j, c := range f.Columns {
				d := tb.days[i][j]
				if c.Type != contract.Date || d == contract.NoDay {
					continue
				}
				switch {
				case d > w.end:
					t.Fatalf("%s row %d: %s %s after the end of the history %s", f.Name, i+2, c.Name, d, w.end)
				case f.Kind == contract.Events && d < w.start:
					t.Fatalf("%s row %d: %s %s before the start of the history %s", f.Name, i+2, c.Name, d, w.start)
				}
			}
			if f.RecordedDate != "" && f.Kind == contract.Events {
				ev, rec := tb.days[i][tb.col(t, f.EventDate)], tb.days[i][tb.col(t, f.RecordedDate)]
				if rec != contract.NoDay && rec < ev {
					t.Fatalf("%s row %d: recorded %s before the event %s", f.Name, i+2, rec, ev)
				}
			}
			if f.EndDate != "" {
				st, en := tb.days[i][tb.col(t, f.EventDate)], tb.days[i][tb.col(t, f.EndDate)]
				if en != contract.NoDay && en < st {
					t.Fatalf("%s row %d: period ends %s before it starts %s", f.Name, i+2, en, st)
				}
			}
		}
	}
}

// TestCorrelations checks that hidden household factors show across
// services: homes with council tax arrears claim more support and see more
// social care; homes under tenancy fraud report fewer repairs.
func TestCorrelations(t *testing.T) {
	dir := generate(t, 5000, 11, 0)
	byUPRN := func(svc string, keep func(tb *table, row []string) bool) map[string]int {
		tb := load(t, dir, svc)
		ui := tb.col(t, "uprn")
		out := map[string]int{}
		for _, row := range tb.str {
			if row[ui] != "" && (keep == nil || keep(tb, row)) {
				out[row[ui]]++
			}
		}
		return out
	}
	arrears := byUPRN("council_tax", func(tb *table, row []string) bool { return row[tb.col(t, "event_type")] == "missed_payment" })
	cts := byUPRN("council_tax_support", nil)
	asc := byUPRN("adult_social_care", nil)
	csc := byUPRN("childrens_social_care", nil)
	hl := byUPRN("homelessness", nil)
	props := load(t, dir, "properties")
	var nA, nB, ctsA, ctsB, scA, scB, hlA, hlB float64
	for _, row := range props.str {
		u := row[props.col(t, "uprn")]
		sc := float64(asc[u] + csc[u])
		if arrears[u] >= 2 {
			nA++
			ctsA += float64(cts[u])
			scA += sc
			hlA += float64(hl[u])
		} else {
			nB++
			ctsB += float64(cts[u])
			scB += sc
			hlB += float64(hl[u])
		}
	}
	if nA < 50 {
		t.Fatalf("only %v homes with council tax arrears", nA)
	}
	for _, c := range []struct {
		what string
		a, b float64
	}{
		{"council tax support rows", ctsA / nA, ctsB / nB},
		{"social care rows", scA / nA, scB / nB},
		{"homelessness rows", hlA / nA, hlB / nB},
	} {
		if c.a <= 1.3*c.b {
			t.Errorf("%s per home: %.2f with arrears vs %.2f without, want clearly more with arrears", c.what, c.a, c.b)
		} else {
			t.Logf("%s per home: %.2f with arrears vs %.2f without", c.what, c.a, c.b)
		}
	}

	// Repairs per tenancy at the as-of date in the year before it.
	ten := load(t, dir, "tenancies")
	tenUPRN := map[string]string{}
	for _, row := range ten.str {
		tenUPRN[row[ten.col(t, "tenancy_id")]] = row[ten.col(t, "uprn")]
	}
	w, _ := newWorld(Config{Residents: 5000, Seed: 11, AsOf: testAsOf, YearsBefore: 4})
	rep := load(t, dir, "repairs")
	recent := map[string]int{}
	for i, row := range rep.str {
		d := rep.days[i][rep.col(t, "event_date")]
		if row[rep.col(t, "event_type")] == "reported" && d <= w.asOf && d > w.asOf-365 {
			recent[row[rep.col(t, "uprn")]]++
		}
	}
	var nF, nH, rF, rH float64
	for _, r := range oracleRows(t, dir, "tenancies.csv") {
		n := float64(recent[tenUPRN[r[0]]])
		if r[1] == "1" {
			nF++
			rF += n
		} else {
			nH++
			rH += n
		}
	}
	if nF < 5 || rF/nF >= 0.5*rH/nH {
		t.Errorf("repairs per tenancy in the last year: %.2f under fraud (%v tenancies) vs %.2f honest, want far fewer", rF/nF, nF, rH/nH)
	}
}

// TestMess checks the mess real extracts hold: exact duplicate rows,
// legacy codes before the 2023 change only, late-recorded rows, people in
// one system only, open investigations.
func TestMess(t *testing.T) {
	dir := generate(t, 3000, 13, 0)
	w, _ := newWorld(Config{Residents: 3000, Seed: 13, AsOf: testAsOf, YearsBefore: 4})
	// Duplicates, from the raw lines.
	var lines, dups int
	for _, f := range contract.Default().Services() {
		b, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		ls := strings.Split(string(b), "\n")
		for i := 2; i < len(ls); i++ {
			lines++
			if ls[i] != "" && ls[i] == ls[i-1] {
				dups++
			}
		}
	}
	if r := float64(dups) / float64(lines); r < 0.002 || r > 0.01 {
		t.Errorf("duplicate rows %.4f of %d, want about 0.005", r, lines)
	}
	// Legacy need codes (N1–N9) appear only before 2023.
	b, err := os.ReadFile(filepath.Join(dir, "childrens_social_care.csv"))
	if err != nil {
		t.Fatal(err)
	}
	legacy := 0
	for _, l := range strings.Split(string(b), "\n")[1:] {
		fs := strings.Split(l, ",")
		if len(fs) > 4 && len(fs[4]) == 2 && fs[4][0] == 'N' {
			legacy++
			if d, err := contract.ParseDay(fs[2]); err != nil || d >= w.legacyUntil {
				t.Fatalf("legacy need code on %s", fs[2])
			}
		}
	}
	if legacy == 0 {
		t.Error("no legacy need codes")
	}
	// Late-recorded rows, some recorded after the as-of date for events before it.
	csc := load(t, dir, "childrens_social_care")
	late, lateAcross := 0, 0
	for i := range csc.str {
		ev, rec := csc.days[i][csc.col(t, "event_date")], csc.days[i][csc.col(t, "recorded_date")]
		if rec-ev > 30 {
			late++
		}
		if ev <= w.asOf && rec > w.asOf {
			lateAcross++
		}
	}
	if late == 0 || lateAcross == 0 {
		t.Errorf("late-recorded rows: %d, across the as-of date: %d; want some of each", late, lateAcross)
	}
	// People in one system only: in residents.csv but with no residence.
	res := load(t, dir, "residences")
	housed := map[string]bool{}
	for _, row := range res.str {
		housed[row[0]] = true
	}
	people := load(t, dir, "residents")
	unhoused := 0
	for _, row := range people.str {
		if !housed[row[0]] {
			unhoused++
		}
	}
	if unhoused == 0 {
		t.Error("no people known to one system only")
	}
	// Open investigations have no closure; closed ones have an outcome.
	fi := load(t, dir, "fraud_investigations")
	open := 0
	for i, row := range fi.str {
		closed := fi.days[i][fi.col(t, "closed_date")] != contract.NoDay
		hasOutcome := row[fi.col(t, "outcome")] != ""
		if closed != hasOutcome {
			t.Fatalf("investigation %s: closed %v but outcome %q", row[0], closed, row[fi.col(t, "outcome")])
		}
		if !closed {
			open++
		}
	}
	if open == 0 || open == len(fi.str) {
		t.Errorf("%d of %d investigations open, want some but not all", open, len(fi.str))
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Residents: 100, Seed: 1, AsOf: testAsOf, YearsBefore: 4}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"ok", func(*Config) {}, ""},
		{"negative residents", func(c *Config) { c.Residents = -5 }, "residents -5"},
		{"zero residents", func(c *Config) { c.Residents = 0 }, "residents 0"},
		{"no history", func(c *Config) { c.YearsBefore = 0 }, "years-before 0"},
		{"long history", func(c *Config) { c.YearsBefore = 21 }, "years-before 21"},
		{"unset as-of", func(c *Config) { c.AsOf = time.Time{} }, "as-of 0001-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestGenerateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Generate(ctx, Config{Residents: 50000, Seed: 1, AsOf: testAsOf, YearsBefore: 4}, t.TempDir())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Generate on a cancelled context: %v, want context.Canceled", err)
	}
}

// FuzzGenerate checks, for any small borough, that the loader accepts every
// row and the oracle agrees with the data on who lives where.
func FuzzGenerate(f *testing.F) {
	f.Add(uint64(1), 40, int16(0), uint8(4))
	f.Add(uint64(99), 7, int16(-3000), uint8(1))
	f.Add(uint64(12345), 120, int16(2500), uint8(7))
	f.Fuzz(func(t *testing.T, seed uint64, n int, shift int16, years uint8) {
		if n < 1 || n > 300 || years < 1 || years > 8 {
			t.Skip()
		}
		asOf := testAsOf.AddDate(0, 0, int(shift))
		dir := t.TempDir()
		cfg := Config{Residents: n, Seed: seed, AsOf: asOf, YearsBefore: int(years)}
		if _, err := Generate(context.Background(), cfg, dir); err != nil {
			t.Fatal(err)
		}
		rep, err := contract.ValidateDir(context.Background(), dir, contract.Default())
		if err != nil {
			t.Fatal(err)
		}
		for _, fr := range rep.Files {
			for _, e := range fr.Errors {
				t.Errorf("%v", e.Error())
			}
		}
		w, err := newWorld(cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkOracleLabels(t, dir, w.asOf, w.end)
		checkDates(t, dir, w)
	})
}

func TestAgeAt(t *testing.T) {
	tests := []struct {
		birth, on string
		want      int
	}{
		{"2000-01-01", "2000-01-01", 0},
		{"2000-01-01", "2017-12-31", 17},
		{"2000-01-01", "2018-01-01", 18},
		{"1950-06-15", "2025-06-16", 75},
		{"2024-05-01", "2024-04-30", -1},
	}
	for _, tt := range tests {
		if got := ageAt(contract.MustParseDay(tt.birth), contract.MustParseDay(tt.on)); got != tt.want {
			t.Errorf("ageAt(%s, %s) = %d, want %d", tt.birth, tt.on, got, tt.want)
		}
	}
}

// TestTenanciesDoNotOverlap checks that a council home has one tenancy at a time.
func TestTenanciesDoNotOverlap(t *testing.T) {
	dir := generate(t, 5000, 17, 0)
	ten := load(t, dir, "tenancies")
	type period struct {
		id       string
		from, to contract.Day
	}
	byUPRN := map[string][]period{}
	seen := map[string]bool{}
	for i, row := range ten.str {
		id := row[ten.col(t, "tenancy_id")]
		if seen[id] {
			continue // the second tenant of a joint tenancy
		}
		seen[id] = true
		to := ten.days[i][ten.col(t, "end_date")]
		if to == contract.NoDay {
			to = contract.MakeDay(9999, 12, 31)
		}
		u := row[ten.col(t, "uprn")]
		byUPRN[u] = append(byUPRN[u], period{id, ten.days[i][ten.col(t, "start_date")], to})
	}
	for u, ps := range byUPRN {
		sort.Slice(ps, func(a, b int) bool { return ps[a].from < ps[b].from })
		for i := 1; i < len(ps); i++ {
			if ps[i].from <= ps[i-1].to {
				t.Errorf("UPRN %s: tenancy %s starts %s before %s ends %s", u, ps[i].id, ps[i].from, ps[i-1].id, ps[i-1].to)
			}
		}
	}
}

// TestReferences checks that every resident_id, uprn and tenancy_id a row
// names is defined in residents, properties and tenancies.
func TestReferences(t *testing.T) {
	dir := generate(t, 3000, 19, 0)
	keys := func(svc, col string) map[string]bool {
		tb := load(t, dir, svc)
		out := map[string]bool{}
		for _, row := range tb.str {
			out[row[tb.col(t, col)]] = true
		}
		return out
	}
	people, homes, tenancies := keys("residents", "resident_id"), keys("properties", "uprn"), keys("tenancies", "tenancy_id")
	if len(people) != len(load(t, dir, "residents").str) {
		t.Error("resident_id is not unique in residents.csv")
	}
	for _, f := range contract.Default().Files {
		tb := load(t, dir, f.Name)
		for _, ref := range []struct {
			col  string
			keys map[string]bool
		}{{"resident_id", people}, {"uprn", homes}, {"tenancy_id", tenancies}} {
			if _, ok := f.Column(ref.col); !ok {
				continue
			}
			ci := tb.col(t, ref.col)
			for i, row := range tb.str {
				if v := row[ci]; v != "" && !ref.keys[v] {
					t.Fatalf("%s row %d: %s %s is not defined", f.Name, i+2, ref.col, v)
				}
			}
		}
	}
}

// TestFraudSignals checks that tenancy fraud shows in the data and that
// investigations are a biased, imperfect subset.
func TestFraudSignals(t *testing.T) {
	dir := generate(t, 8000, 23, 0)
	w, _ := newWorld(Config{Residents: 8000, Seed: 23, AsOf: testAsOf, YearsBefore: 4})
	fraud := map[string]bool{}
	for _, r := range oracleRows(t, dir, "tenancies.csv") {
		fraud[r[0]] = r[1] == "1"
	}
	// Rent far in advance or in arrears at the as-of date: the last balance.
	ra := load(t, dir, "rent_account")
	last := map[string]float64{}
	lastDay := map[string]contract.Day{}
	for i, row := range ra.str {
		d := ra.days[i][ra.col(t, "event_date")]
		id := row[ra.col(t, "tenancy_id")]
		if d <= w.asOf && d >= lastDay[id] {
			lastDay[id] = d
			last[id], _ = strconv.ParseFloat(row[ra.col(t, "balance_gbp")], 64)
		}
	}
	var nF, nH, oddF, oddH float64
	for id, f := range fraud {
		odd := last[id] < -1000 || last[id] > 2000
		if f {
			nF++
			if odd {
				oddF++
			}
		} else {
			nH++
			if odd {
				oddH++
			}
		}
	}
	if nF < 10 || oddF/nF < 2*oddH/nH {
		t.Errorf("rent far in advance or in arrears: %.2f of %v fraud tenancies vs %.2f honest", oddF/nF, nF, oddH/nH)
	}
	// Investigations: fraud tenancies far more often investigated, mostly
	// confirmed; honest ones rarely confirmed.
	fi := load(t, dir, "fraud_investigations")
	investigated := map[string]bool{}
	var confF, closedF, confH, closedH float64
	for _, row := range fi.str {
		id, out := row[fi.col(t, "tenancy_id")], row[fi.col(t, "outcome")]
		investigated[id] = true
		f, atAsOf := fraud[id]
		if !atAsOf || out == "" {
			continue
		}
		if f {
			closedF++
			if out == "fraud_confirmed" {
				confF++
			}
		} else {
			closedH++
			if out == "fraud_confirmed" {
				confH++
			}
		}
	}
	var invF, invH float64
	for id, f := range fraud {
		if investigated[id] {
			if f {
				invF++
			} else {
				invH++
			}
		}
	}
	if invF/nF < 5*invH/nH {
		t.Errorf("investigated: %.2f of fraud tenancies vs %.3f of honest, want a strong bias", invF/nF, invH/nH)
	}
	if invF == nF {
		t.Error("every fraud tenancy investigated: want some undetected")
	}
	t.Logf("fraud tenancies %v of %v; odd rent balance %.2f vs %.2f; investigated %.2f vs %.3f; confirmed %.2f vs %.2f",
		nF, nF+nH, oddF/nF, oddH/nH, invF/nF, invH/nH, confF/closedF, confH/closedH)
	if closedF > 0 && confF/closedF < 0.4 || closedH > 0 && confH/closedH > 0.1 {
		t.Errorf("confirmed: %.2f of closed fraud investigations, %.2f of honest", confF/closedF, confH/closedH)
	}
}

// TestPopulation checks the borough's make-up against the targets: the
// population at the as-of date, council stock about a tenth of the
// population, census ethnic shares, and 30–60 service rows per resident.
func TestPopulation(t *testing.T) {
	const n = 6000
	dir := generate(t, n, 29, 0)
	people := len(oracleRows(t, dir, "residents.csv"))
	if people < n*9/10 || people > n*11/10 {
		t.Errorf("%d residents at the as-of date, want about %d", people, n)
	}
	if ten := len(oracleRows(t, dir, "tenancies.csv")); ten < n/10*3/4 || ten > n/10*5/4 {
		t.Errorf("%d council tenancies at the as-of date, want about %d", ten, n/10)
	}
	res := load(t, dir, "residents")
	eth := map[string]float64{}
	for _, row := range res.str {
		eth[row[res.col(t, "ethnic_group")]]++
	}
	for _, c := range []struct {
		group    string
		min, max float64
	}{{"white", 0.50, 0.65}, {"asian", 0.11, 0.21}, {"black", 0.05, 0.13}, {"mixed", 0.04, 0.10}, {"other", 0.05, 0.11}, {"not_recorded", 0.01, 0.10}} {
		if s := eth[c.group] / float64(len(res.str)); s < c.min || s > c.max {
			t.Errorf("ethnic group %s: share %.3f, want %.2f–%.2f", c.group, s, c.min, c.max)
		}
	}
	rows := 0
	for _, f := range contract.Default().Services() {
		rows += len(load(t, dir, f.Name).str)
	}
	if per := float64(rows) / float64(people); per < 30 || per > 60 {
		t.Errorf("%.1f service rows per resident, want 30–60", per)
	}
}
