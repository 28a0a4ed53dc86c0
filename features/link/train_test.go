package link

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"caserisk/features/contract"
	"caserisk/features/link/assemble"
)

// TestSessionRecoversM simulates a training session blocked on the date of
// birth: every pair agrees on it, matches draw the other fields' levels
// from a known m and non-matches from u. EM with the date of birth left
// out must recover m of the other fields and the session's match share,
// and leave the blocked field's m as it was.
func TestSessionRecoversM(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var m, u [NumFields][]float64
	for f := 0; f < NumFields; f++ {
		nl := len(LevelNames[f])
		m[f], u[f] = make([]float64, nl), make([]float64, nl)
		for lv := 1; lv < nl; lv++ {
			m[f][lv], u[f][lv] = 0.03, 0.01
		}
		m[f][1] = 1 - 0.03*float64(nl-2)
		u[f][1] = 0.01
		u[f][nl-1] = 1 - 0.01*float64(nl-2)
	}
	draw := func(p []float64) int {
		x := rng.Float64()
		for lv := 1; lv < len(p); lv++ {
			if x -= p[lv]; x < 0 {
				return lv
			}
		}
		return len(p) - 1
	}
	const lambda = 0.2
	hist := map[Pattern]float64{}
	for i := 0; i < 300000; i++ {
		src := u
		if rng.Float64() < lambda {
			src = m
		}
		var p Pattern
		for f := 0; f < NumFields; f++ {
			lv := draw(src[f])
			if f == FieldDOB {
				lv = lvExact // the session's key
			}
			p = p.with(f, lv)
		}
		hist[p]++
	}
	pats := sortedPatterns(hist)
	o := emOpts{active: allFields(), maxIter: 200, tol: 1e-7}
	o.active[FieldDOB] = false
	got := emFit(pats, defaultM, u, 0.1, o)
	if math.Abs(got.Lambda-lambda) > 0.01 {
		t.Errorf("session lambda %.4f, want %.4f", got.Lambda, lambda)
	}
	for f := 0; f < NumFields; f++ {
		if f == FieldDOB {
			if got.M[f][lvExact] != defaultM[f][lvExact] {
				t.Errorf("m of the blocked field changed: %v", got.M[f])
			}
			continue
		}
		for lv := 1; lv < len(m[f]); lv++ {
			if math.Abs(got.M[f][lv]-m[f][lv]) > 0.015 {
				t.Errorf("m[%s][%s] = %.4f, want %.4f", FieldNames[f], LevelNames[f][lv], got.M[f][lv], m[f][lv])
			}
		}
	}
}

// TestTermFrequency: an exact match on a common name weighs less than one
// on a rare name; the exact level's u becomes the value's share of
// records, floored at TFMinU.
func TestTermFrequency(t *testing.T) {
	l := &linker{}
	add := func(given string, records int) {
		l.nodes = append(l.nodes, testNode(given, "SMITH", ""))
		rs := make([]int32, records)
		l.nrecs = append(l.nrecs, rs)
	}
	add("JOHN", 500)   // share 0.5
	add("AMELIA", 499) // share 0.499
	add("ZEBEDEE", 1)  // share 0.001
	var u [NumFields][]float64
	for f := 0; f < NumFields; f++ {
		u[f] = make([]float64, len(LevelNames[f]))
		u[f][lvExact] = 0.01
	}
	for _, c := range []struct {
		minU float64
		want [3]float64
	}{
		{1e-4, [3]float64{math.Log2(0.01 / 0.5), math.Log2(0.01 / 0.499), math.Log2(0.01 / 0.001)}},
		{0.01, [3]float64{math.Log2(0.01 / 0.5), math.Log2(0.01 / 0.499), 0}}, // the rare name floored
	} {
		adj := l.termFrequencies(u, []string{"given_name"}, c.minU)
		if adj[FieldFamily] != nil {
			t.Fatalf("family name adjusted though not asked")
		}
		for i, w := range c.want {
			if math.Abs(float64(adj[FieldGiven][i])-w) > 1e-5 {
				t.Errorf("minU %g: node %d adjustment %.4f, want %.4f", c.minU, i, adj[FieldGiven][i], w)
			}
		}
	}
	r := &Result{tf: l.termFrequencies(u, []string{"given_name", "family_name"}, 1e-4)}
	r.Model.M[FieldGiven] = []float64{0, 0.9}
	r.Model.U[FieldGiven] = []float64{0, 0.01}
	r.Model.Lambda = 0.5
	r.Model.finish()
	common, rare := r.fieldWeight(FieldGiven, lvExact, 0), r.fieldWeight(FieldGiven, lvExact, 2)
	if !(rare > common+5) {
		t.Errorf("exact match weights: rare name %.2f, common name %.2f", rare, common)
	}
	if w := r.fieldWeight(FieldGiven, lvExact, 0); math.Abs(w-math.Log2(0.9/0.5)) > 1e-5 {
		t.Errorf("common name weight %.4f, want log2(m/tf) = %.4f", w, math.Log2(0.9/0.5))
	}
}

// fixedConfig is a config with a fixed model: exact agreement strong,
// disagreement against (the twin-chain test's model).
func fixedConfig() Config {
	cfg := DefaultConfig()
	cfg.Model.Fixed, cfg.Model.Lambda = true, 0.01
	cfg.Model.M, cfg.Model.U = map[string]map[string]float64{}, map[string]map[string]float64{}
	for f := 0; f < NumFields; f++ {
		cfg.Model.M[FieldNames[f]], cfg.Model.U[FieldNames[f]] = map[string]float64{}, map[string]float64{}
		nl := len(LevelNames[f])
		for lv := 1; lv < nl; lv++ {
			cfg.Model.M[FieldNames[f]][LevelNames[f][lv]] = 0.01
			cfg.Model.U[FieldNames[f]][LevelNames[f][lv]] = 0.01
		}
		cfg.Model.M[FieldNames[f]][LevelNames[f][1]] = 0.9
		cfg.Model.U[FieldNames[f]][LevelNames[f][1]] = 0.001
		cfg.Model.U[FieldNames[f]][LevelNames[f][nl-1]] = 0.9
	}
	cfg.Model.M["given_name"]["nickname_or_variant"], cfg.Model.U["given_name"]["nickname_or_variant"] = 0.05, 0.001
	cfg.Model.U["sex"]["agree"] = 0.5
	cfg.Model.USamples = 1000
	return cfg
}

// TestBlockingHardCases: each kind of hard true pair (no date of birth and
// no postcode, names swapped, a nickname after a move, a family name
// change, a day-month swap, an NI number only) is a candidate pair under
// the default rules; the kinds the address and swap rules were added for
// are missed without them (so the test can fail).
func TestBlockingHardCases(t *testing.T) {
	dob, dobSwapped := day("1990-03-04"), day("1990-04-03")
	base := Record{Given: "AMELIA", Family: "OKAFOR", DOB: dob, Sex: 'F', Address: "12 YORK RD", Postcode: "NW19UE", UPRN: 100}
	with := func(f func(r *Record)) Record { r := base; f(&r); return r }
	oldRules := DefaultConfig().Blocking.Rules[:8]
	for _, c := range []struct {
		name   string
		a, b   Record
		newish bool // missed by the first eight rules
	}{
		{"no dob, no postcode, same address", with(func(r *Record) { r.DOB, r.Postcode, r.UPRN = contract.NoDay, "", 0 }),
			with(func(r *Record) { r.DOB, r.Postcode, r.UPRN, r.Family, r.Sex = contract.NoDay, "", 0, "OKAFRO", 0 }), true},
		{"names swapped, no dob", with(func(r *Record) { r.DOB, r.UPRN = contract.NoDay, 0 }),
			with(func(r *Record) {
				r.DOB, r.UPRN, r.Given, r.Family, r.Address = contract.NoDay, 0, "OKAFOR", "AMELIA", "FLAT 2 12 YORK RD"
			}), true},
		{"names swapped at one UPRN, no dob or postcode", with(func(r *Record) { r.DOB, r.Postcode = contract.NoDay, "" }),
			with(func(r *Record) {
				r.DOB, r.Postcode, r.Given, r.Family, r.Address = contract.NoDay, "", "OKAFOR", "AMELIA", "12 YORK ROAD"
			}), true},
		{"nickname after a move", base, with(func(r *Record) { r.Given, r.Address, r.Postcode, r.UPRN = "MILLIE", "3 HIGH ST", "E18AA", 200 }), false},
		{"family name change", base, with(func(r *Record) { r.Family, r.Postcode = "JONES", "" }), false},
		{"day-month swap", base, with(func(r *Record) { r.DOB, r.UPRN, r.Given = dobSwapped, 0, "AMELIE" }), false},
		{"NI number only", with(func(r *Record) { r.NI = "QQ123456A" }),
			with(func(r *Record) {
				r.NI, r.Given, r.Family, r.DOB, r.Address, r.Postcode, r.UPRN = "QQ123456A", "AMY", "OKAFFOR", contract.NoDay, "9 ELM GRV", "N11AA", 300
			}), false},
	} {
		for _, old := range []bool{false, true} {
			if old && !c.newish {
				continue
			}
			a, b := c.a, c.b
			a.Source, a.RecordID, b.Source, b.RecordID = "x", "1", "y", "1"
			filler := Record{Source: "z", RecordID: "1", Given: "OSCAR", Family: "BROWN", DOB: day("1950-01-02"), Sex: 'M', Address: "1 ELM GRV", Postcode: "N11AA", UPRN: 5}
			cfg := fixedConfig()
			if old {
				cfg.Blocking.Rules = oldRules
			}
			res, err := Link(context.Background(), []Record{a, b, filler}, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			na, nb := uint32(res.nodeOf[0]), uint32(res.nodeOf[1])
			found := na == nb
			for _, p := range res.pairs {
				if (p.a == na && p.b == nb) || (p.a == nb && p.b == na) {
					found = true
				}
			}
			if !old && !found {
				t.Errorf("%s: not a candidate pair", c.name)
			}
			if old && found {
				t.Errorf("%s: a candidate under the first eight rules too: the case tests nothing new", c.name)
			}
		}
	}
}

// TestRejectionWins: a rejection holds against accepted pairs that
// contradict it, directly, through other accepts, or through records with
// identical details; the contradicting accepts are counted.
func TestRejectionWins(t *testing.T) {
	p := Record{Given: "OLIVER", Family: "SMITH", DOB: day("2001-05-06"), Sex: 'M', Address: "1 YORK WY", Postcode: "NW19UE", UPRN: 7}
	rec := func(src string, given string) Record {
		r := p
		r.Source, r.RecordID, r.Given = src, "1", given
		return r
	}
	k := func(src string) assemble.Key { return assemble.Key{Source: src, RecordID: "1"} }
	for _, c := range []struct {
		name      string
		recs      []Record
		ds        []Decision
		conflicts int
	}{
		// B and C have identical details (one comparison node without the fix).
		{"identical records", []Record{rec("a", "OLLIE"), rec("b", "OLIVER"), rec("c", "OLIVER")},
			[]Decision{{A: k("a"), B: k("b"), Accept: true}, {A: k("a"), B: k("c")}}, 1},
		{"rejected pair identical", []Record{rec("a", "OLIVER"), rec("b", "OLIVER"), rec("c", "OLLIE")},
			[]Decision{{A: k("a"), B: k("b")}}, 0},
		{"chain of accepts", []Record{rec("a", "OLLIE"), rec("b", "OLIVER"), rec("c", "OLLY")},
			[]Decision{{A: k("a"), B: k("b"), Accept: true}, {A: k("b"), B: k("c"), Accept: true}, {A: k("a"), B: k("c")}}, 1},
	} {
		res, err := Link(context.Background(), c.recs, fixedConfig(), c.ds)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range c.ds {
			if d.Accept {
				continue
			}
			var ia, ib int
			for i := range res.Records {
				switch res.Records[i].Key() {
				case d.A:
					ia = i
				case d.B:
					ib = i
				}
			}
			if res.Cluster[ia] == res.Cluster[ib] {
				t.Errorf("%s: rejected pair %v–%v linked (clusters %v)", c.name, d.A, d.B, res.Cluster)
			}
		}
		if res.Stats.ConflictingAccepts != c.conflicts {
			t.Errorf("%s: %d conflicting accepts counted, want %d", c.name, res.Stats.ConflictingAccepts, c.conflicts)
		}
	}
	// Without decisions the three records are one person (the test can fail).
	res, _ := Link(context.Background(), []Record{rec("a", "OLLIE"), rec("b", "OLIVER"), rec("c", "OLIVER")}, fixedConfig(), nil)
	if res.Cluster[0] != res.Cluster[2] {
		t.Errorf("without decisions the records are not linked: clusters %v", res.Cluster)
	}
}

// TestDenseHist: patterns counted in the flat histogram come back as they
// went in, in pattern order.
func TestDenseHist(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[Pattern]float64{}
	h := newDenseHist()
	for i := 0; i < 5000; i++ {
		var p Pattern
		for f := 0; f < NumFields; f++ {
			p = p.with(f, rng.IntN(len(LevelNames[f])))
		}
		n := float64(1 + rng.IntN(4))
		want[p] += n
		h.add(p, n)
	}
	got := h.patterns()
	if len(got) != len(want) {
		t.Fatalf("%d patterns, want %d", len(got), len(want))
	}
	for i, pc := range got {
		if want[pc.p] != pc.n {
			t.Errorf("pattern %x: count %v, want %v", pc.p, pc.n, want[pc.p])
		}
		if i > 0 && got[i-1].p >= pc.p {
			t.Fatalf("patterns out of order")
		}
	}
}

// TestWriteFilesFormat: the hand-rolled CSV of pairs, review queue and
// links is byte for byte what encoding/csv writes for the same rows.
func TestWriteFilesFormat(t *testing.T) {
	res := testBorough(t)
	row := func(p *Pair, review bool) []string {
		a, b := &res.Records[p.A], &res.Records[p.B]
		linked := "N"
		if p.Linked {
			linked = "Y"
		}
		out := []string{a.Source, a.RecordID, b.Source, b.RecordID,
			strconv.FormatFloat(p.Weight, 'f', 3, 64), strconv.FormatFloat(p.Prob, 'g', 6, 64), linked}
		for f := 0; f < NumFields; f++ {
			out = append(out, LevelNames[f][p.Levels[f]], strconv.FormatFloat(p.Weights[f], 'f', 3, 64))
		}
		if review {
			out = append(out, "")
		}
		return out
	}
	for _, c := range []struct {
		name   string
		pairs  []Pair
		review bool
		write  func(io.Writer) error
	}{
		{"pairs", res.Pairs(res.Config.PairsFloor), false, res.WritePairs},
		{"review", res.ReviewPairs(), true, res.WriteReview},
	} {
		var want, got bytes.Buffer
		cw := csv.NewWriter(&want)
		cw.Write(pairHeader(c.review))
		for i := range c.pairs {
			cw.Write(row(&c.pairs[i], c.review))
		}
		cw.Flush()
		if err := c.write(&got); err != nil {
			t.Fatal(err)
		}
		if len(c.pairs) < 10 {
			t.Fatalf("%s: %d pairs: too few to test", c.name, len(c.pairs))
		}
		if !bytes.Equal(want.Bytes(), got.Bytes()) {
			t.Errorf("%s: output differs from encoding/csv (%d and %d bytes)", c.name, got.Len(), want.Len())
		}
	}
	var want, got bytes.Buffer
	if err := WriteLinks(&want, res.ResidentIDs()); err != nil {
		t.Fatal(err)
	}
	if err := res.writeLinks(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want.Bytes(), got.Bytes()) {
		t.Errorf("links: output differs from WriteLinks")
	}
	for _, s := range []string{"", "a", "a,b", `say "hi"`, "two\nlines", " lead", "\ttab", "x\r", `\.`, "\u00a0nbsp", "é"} {
		var w bytes.Buffer
		cw := csv.NewWriter(&w)
		cw.Write([]string{s})
		cw.Flush()
		if got := string(appendField(nil, s)) + "\n"; got != w.String() {
			t.Errorf("field %q written %q, want %q", s, got, w.String())
		}
	}
}
