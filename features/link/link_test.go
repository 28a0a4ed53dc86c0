package link

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"caserisk/features/contract"
	"caserisk/features/link/assemble"
)

func day(s string) contract.Day {
	t, err := contract.ParseDay(s)
	if err != nil {
		panic(err)
	}
	return t
}

func testNode(given, family, dob string) node {
	r := Record{Given: given, Family: family, DOB: contract.NoDay}
	if dob != "" {
		r.DOB = day(dob)
	}
	return makeNode(&r, newNicknames())
}

var testTh = thresholds{0.92, 0.80, 0.7, 0.4}

func TestCompareLevels(t *testing.T) {
	for _, c := range []struct {
		a, b  [3]string
		field int
		want  string
	}{
		{[3]string{"OLIVER", "SMITH", "1980-03-04"}, [3]string{"OLIVER", "SMITH", "1980-03-04"}, FieldGiven, "exact"},
		{[3]string{"OLIVER", "SMITH", ""}, [3]string{"OLLIE", "SMITH", ""}, FieldGiven, "nickname_or_variant"},
		{[3]string{"MARGARET", "SMITH", ""}, [3]string{"PEGGY", "SMITH", ""}, FieldGiven, "nickname_or_variant"},
		{[3]string{"OLIVER", "SMITH", ""}, [3]string{"OLIVRE", "SMITH", ""}, FieldGiven, "jw_high"},
		{[3]string{"OLIVER", "SMITH", ""}, [3]string{"GEORGE", "SMITH", ""}, FieldGiven, "else"},
		{[3]string{"O", "SMITH", ""}, [3]string{"OLIVER", "SMITH", ""}, FieldGiven, "initial"},
		{[3]string{"", "SMITH", ""}, [3]string{"OLIVER", "SMITH", ""}, FieldGiven, "null"},
		{[3]string{"OLIVER", "SMITH", ""}, [3]string{"SMITH", "OLIVER", ""}, FieldGiven, "swapped_with_family"},
		{[3]string{"OLIVER", "SMITH", ""}, [3]string{"SMYTH", "OLLIE", ""}, FieldFamily, "swapped_with_given"},
		{[3]string{"ANA", "DA SILVA", ""}, [3]string{"ANA", "SILVA", ""}, FieldFamily, "jw_high"},
		{[3]string{"A", "B", "1980-03-04"}, [3]string{"A", "B", "1980-04-03"}, FieldDOB, "day_month_swap"},
		{[3]string{"A", "B", "1980-03-04"}, [3]string{"A", "B", "1981-03-04"}, FieldDOB, "one_digit"},
		{[3]string{"A", "B", "1980-03-04"}, [3]string{"A", "B", "1980-07-21"}, FieldDOB, "same_year"},
		{[3]string{"A", "B", "1980-03-04"}, [3]string{"A", "B", "1955-07-21"}, FieldDOB, "else"},
		{[3]string{"A", "B", "1980-03-04"}, [3]string{"A", "B", ""}, FieldDOB, "null"},
	} {
		a, b := testNode(c.a[0], c.a[1], c.a[2]), testNode(c.b[0], c.b[1], c.b[2])
		p := compareNodes(&a, &b, &testTh)
		if got := LevelNames[c.field][p.Level(c.field)]; got != c.want {
			t.Errorf("%v vs %v: %s level %s, want %s", c.a, c.b, FieldNames[c.field], got, c.want)
		}
		if q := compareNodes(&b, &a, &testTh); q != p {
			t.Errorf("%v vs %v: comparison not symmetric", c.a, c.b)
		}
	}
}

func TestCompareAddress(t *testing.T) {
	var nb normaliser
	mk := func(addr, pc string, uprn int64) node {
		r := Record{Address: nb.address(addr), Postcode: nb.compact(pc), UPRN: uprn, DOB: contract.NoDay}
		return makeNode(&r, nil)
	}
	for _, c := range []struct {
		a, b node
		want string
	}{
		{mk("12 Agar Grove, London", "NW1 9UE", 1), mk("12 AGAR GR", "nw19ue", 1), "uprn"},
		{mk("12 Agar Grove, London", "NW1 9UE", 0), mk("12 AGAR GR", "nw19ue", 1), "address_exact"},
		{mk("Flat 3, 12 Agar Grove", "NW1 9UE", 0), mk("3/12 Agar Grove", "NW1 9UE", 0), "address_close"},
		{mk("1 York Way", "NW1 9UE", 0), mk("7 Mill Lane", "NW1 9UE", 0), "postcode"},
		{mk("1 York Way", "NW1 9UE", 0), mk("7 Mill Lane", "NW1 9AB", 0), "sector"},
		{mk("1 York Way", "NW1 9UE", 5), mk("7 Mill Lane", "N6 4AB", 6), "else"},
		{mk("", "", 0), mk("7 Mill Lane", "N6 4AB", 6), "null"},
	} {
		p := compareNodes(&c.a, &c.b, &testTh)
		if got := LevelNames[FieldAddress][p.Level(FieldAddress)]; got != c.want {
			t.Errorf("%q/%q vs %q/%q: address level %s, want %s", c.a.addr, c.a.pc, c.b.addr, c.b.pc, got, c.want)
		}
	}
}

func TestNormalise(t *testing.T) {
	var nb normaliser
	for _, c := range []struct{ in, want string }{
		{"o'brien", "OBRIEN"}, {"  Mary-Ann  ", "MARY ANN"}, {"Chloé", "CHLOE"}, {"Yılmaz", "YILMAZ"}, {"Nguyễn", "NGUYEN"},
	} {
		if got := nb.name(c.in); got != c.want {
			t.Errorf("name(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := nb.address("Flat 3, 12 Agar Grove, London"); got != "FLAT 3 12 AGAR GRV" {
		t.Errorf("address: %q", got)
	}
	if got := nb.compact("nw1 9ue"); got != "NW19UE" {
		t.Errorf("postcode: %q", got)
	}
	if got := soundexString(soundex("ROBERT")); got != "R163" {
		t.Errorf("soundex(ROBERT) = %s", got)
	}
	if got := soundexString(soundex("ASHCRAFT")); got != "A261" {
		t.Errorf("soundex(ASHCRAFT) = %s", got)
	}
}

// TestEMRecoversModel simulates comparison vectors from a known model and
// checks EM finds m and λ again (u fixed at the truth, as from random pairs).
func TestEMRecoversModel(t *testing.T) {
	var m, u [NumFields][]float64
	rng := rand.New(rand.NewPCG(5, 6))
	for f := 0; f < NumFields; f++ {
		nl := len(LevelNames[f])
		m[f], u[f] = make([]float64, nl), make([]float64, nl)
		// m concentrated on level 1, u on the last level.
		for lv := 1; lv < nl; lv++ {
			m[f][lv], u[f][lv] = 0.02, 0.02
		}
		m[f][1] = 1 - 0.02*float64(nl-2)
		u[f][nl-1] = 1 - 0.02*float64(nl-2)
	}
	const lambda = 0.3
	draw := func(p []float64) int {
		x := rng.Float64()
		for lv := 1; lv < len(p); lv++ {
			if x -= p[lv]; x < 0 {
				return lv
			}
		}
		return len(p) - 1
	}
	hist := map[Pattern]float64{}
	for i := 0; i < 200000; i++ {
		src := u
		if rng.Float64() < lambda {
			src = m
		}
		var p Pattern
		for f := 0; f < NumFields; f++ {
			p = p.with(f, draw(src[f]))
		}
		hist[p]++
	}
	var pats []patternCount
	for p, n := range hist {
		pats = append(pats, patternCount{p, n})
	}
	got := em(pats, defaultM, u, 0.1, false, false, 200, 1e-7)
	if math.Abs(got.Lambda-lambda) > 0.01 {
		t.Errorf("lambda %v, want %v", got.Lambda, lambda)
	}
	for f := 0; f < NumFields; f++ {
		for lv := 1; lv < len(m[f]); lv++ {
			if math.Abs(got.M[f][lv]-m[f][lv]) > 0.01 {
				t.Errorf("m[%s][%s] = %.4f, want %.4f", FieldNames[f], LevelNames[f][lv], got.M[f][lv], m[f][lv])
			}
		}
	}
}

// TestClusterRefusesTwinChain: twins share family name, date of birth and
// address; a record that lost its given name links to both. The chain must
// not merge the twins.
func TestClusterRefusesTwinChain(t *testing.T) {
	recs := []Record{
		{Source: "a", RecordID: "1", Given: "OLIVER", Family: "SMITH", DOB: day("2001-05-06"), Sex: 'M', Address: "1 YORK WY", Postcode: "NW19UE", UPRN: 7},
		{Source: "b", RecordID: "1", Given: "OLIVER", Family: "SMITH", DOB: day("2001-05-06"), Sex: 'M', Address: "1 YORK WY", Postcode: "NW19UE"},
		{Source: "a", RecordID: "2", Given: "OSCAR", Family: "SMITH", DOB: day("2001-05-06"), Sex: 'M', Address: "1 YORK WY", Postcode: "NW19UE", UPRN: 7},
		{Source: "b", RecordID: "2", Given: "OSCAR", Family: "SMITH", DOB: day("2001-05-06"), Sex: 'M', Address: "1 YORK WY", Postcode: "NW19UE"},
		{Source: "c", RecordID: "9", Given: "", Family: "SMITH", DOB: day("2001-05-06"), Sex: 'M', Address: "1 YORK WY", Postcode: "NW19UE"},
	}
	cfg := DefaultConfig()
	cfg.Model.Fixed, cfg.Model.Lambda = true, 0.5
	cfg.Model.M, cfg.Model.U = map[string]map[string]float64{}, map[string]map[string]float64{}
	for f := 0; f < NumFields; f++ {
		cfg.Model.M[FieldNames[f]], cfg.Model.U[FieldNames[f]] = map[string]float64{}, map[string]float64{}
		nl := len(LevelNames[f])
		for lv := 1; lv < nl; lv++ {
			cfg.Model.M[FieldNames[f]][LevelNames[f][lv]] = 0.01
			cfg.Model.U[FieldNames[f]][LevelNames[f][lv]] = 0.01
		}
		cfg.Model.M[FieldNames[f]][LevelNames[f][1]] = 0.9
		cfg.Model.U[FieldNames[f]][LevelNames[f][nl-1]] = 0.9
	}
	cfg.Model.M["given_name"]["jw_low"], cfg.Model.U["given_name"]["jw_low"] = 0.05, 0.01
	cfg.Model.M["given_name"]["jw_high"], cfg.Model.U["given_name"]["jw_high"] = 0.05, 0.001
	cfg.Model.M["given_name"]["else"], cfg.Model.U["given_name"]["else"] = 1e-6, 0.9
	cfg.Model.U["sex"]["agree"] = 0.5
	res, err := Link(context.Background(), recs, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cluster[0] != res.Cluster[1] || res.Cluster[2] != res.Cluster[3] {
		t.Fatalf("each twin's own records should link: clusters %v", res.Cluster)
	}
	if res.Cluster[0] == res.Cluster[2] {
		t.Fatalf("twins merged through the record without a given name: clusters %v (refused %d)", res.Cluster, res.Stats.Refused)
	}
	if res.Stats.Refused == 0 {
		t.Errorf("no refused merge counted")
	}
	// Without the guard the chain merges them.
	cfg.Guard = Guard{MinWeight: -1000}
	res2, _ := Link(context.Background(), recs, cfg, nil)
	if res2.Cluster[0] != res2.Cluster[2] {
		t.Errorf("without the guard the twins stay apart: the test cannot fail (clusters %v)", res2.Cluster)
	}
}

func TestEvaluateCounts(t *testing.T) {
	// Predicted {a1,a2,b1} {b2} {c1}; true {a1,a2} {b1,b2} {c1}.
	recs := []Record{{Source: "s", RecordID: "a1"}, {Source: "s", RecordID: "a2"}, {Source: "s", RecordID: "b1"}, {Source: "s", RecordID: "b2"}, {Source: "s", RecordID: "c1"}}
	r := &Result{Records: recs, Cluster: []int32{0, 0, 0, 1, 2}}
	truth := map[assemble.Key]string{}
	for _, rc := range recs {
		truth[rc.Key()] = rc.RecordID[:1]
	}
	m := Evaluate(r, truth)
	if m.PredictedPairs != 3 || m.TruePairs != 2 || m.CorrectPairs != 1 {
		t.Fatalf("pairs: predicted %d true %d correct %d", m.PredictedPairs, m.TruePairs, m.CorrectPairs)
	}
	if m.ExactClusters != 1 || m.FalseMerges != 1 || m.PeopleWronglyJoined != 2 || m.MissedLinks != 1 {
		t.Fatalf("clusters: %+v", m)
	}
	if math.Abs(m.Precision-1.0/3) > 1e-9 || math.Abs(m.Recall-0.5) > 1e-9 {
		t.Fatalf("precision %v recall %v", m.Precision, m.Recall)
	}
}

func testBorough(t *testing.T) *Result {
	t.Helper()
	recs, err := ReadRecords(context.Background(), filepath.Join("testdata", "borough", "raw"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Model.USamples = 100_000
	res, err := Link(context.Background(), recs, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestEndToEnd links a small generated borough's raw extracts (testdata,
// from `caserisk generate --residents 400 --raw`) and checks the metrics
// against floors a little under those measured (precision 0.998, recall
// 0.980, blocking recall 0.990).
func TestEndToEnd(t *testing.T) {
	res := testBorough(t)
	truth, err := ReadTruth(filepath.Join("testdata", "borough", "oracle", "links.csv"))
	if err != nil {
		t.Fatal(err)
	}
	m := Evaluate(res, truth)
	t.Logf("%s", m)
	if m.Precision < 0.99 || m.Recall < 0.97 || m.BlockingRecall < 0.98 {
		t.Errorf("precision %.4f recall %.4f blocking recall %.4f below the floors 0.99/0.97/0.98", m.Precision, m.Recall, m.BlockingRecall)
	}
	ids := res.ResidentIDs()
	if len(ids) != len(res.Records) {
		t.Fatalf("%d ids for %d records", len(ids), len(res.Records))
	}
	// Deterministic: a second run (one worker) gives the same ids.
	recs2, _ := ReadRecords(context.Background(), filepath.Join("testdata", "borough", "raw"))
	cfg := res.Config
	cfg.Workers = 1
	res2, err := Link(context.Background(), recs2, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range res2.ResidentIDs() {
		if ids[k] != v {
			t.Fatalf("resident id of %v differs between runs: %s, %s", k, ids[k], v)
		}
	}
	var pairs, model bytes.Buffer
	if err := res.WritePairs(&pairs); err != nil {
		t.Fatal(err)
	}
	if err := res.WriteModel(&model); err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Records[:50] {
		for _, s := range []string{r.Given, r.Family, r.Address} {
			if len(s) > 3 && strings.Contains(pairs.String(), s) {
				t.Fatalf("pairs output holds a personal value")
			}
		}
	}
}

// TestDecisionsHonoured writes the review queue, fills it (accept the
// first, reject the second pair), reads it back and links again.
func TestDecisionsHonoured(t *testing.T) {
	res := testBorough(t)
	var q bytes.Buffer
	if err := res.WriteReview(&q); err != nil {
		t.Fatal(err)
	}
	review := res.ReviewPairs()
	if len(review) < 2 {
		t.Skipf("review queue has %d pairs", len(review))
	}
	lines := strings.Split(strings.TrimSpace(q.String()), "\n")
	var acc, rej Pair
	var found [2]bool
	for _, p := range review {
		if !found[0] && !p.Linked {
			acc, found[0] = p, true
		} else if !found[1] && p.Linked {
			rej, found[1] = p, true
		}
	}
	filled := []string{lines[0]}
	for _, p := range []struct {
		p  Pair
		ok bool
		d  string
	}{{acc, found[0], "accept"}, {rej, found[1], "REJECT"}} {
		if !p.ok {
			continue
		}
		a, b := res.Records[p.p.A], res.Records[p.p.B]
		filled = append(filled, strings.Join([]string{a.Source, a.RecordID, b.Source, b.RecordID}, ",")+strings.Repeat(",", len(pairHeader(true))-4)+p.d)
	}
	ds, err := ReadDecisions(strings.NewReader(strings.Join(filled, "\n")+"\n"), "review.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != len(filled)-1 {
		t.Fatalf("%d decisions read from %d rows", len(ds), len(filled)-1)
	}
	recs, _ := ReadRecords(context.Background(), filepath.Join("testdata", "borough", "raw"))
	res2, err := Link(context.Background(), recs, res.Config, ds)
	if err != nil {
		t.Fatal(err)
	}
	if found[0] && res2.Cluster[acc.A] != res2.Cluster[acc.B] {
		t.Errorf("accepted pair not linked")
	}
	if found[1] && res2.Cluster[rej.A] == res2.Cluster[rej.B] {
		t.Errorf("rejected pair still linked")
	}
	if !found[0] && !found[1] {
		t.Skip("no pair to decide")
	}
}

func TestReadDecisionsErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "empty file"},
		{"source_a,record_id_a,source_b\n", "lacks column record_id_b"},
		{"source_a,record_id_a,source_b,record_id_b,decision\ns,1,s,2,maybe\n", "review.csv:2: column decision"},
		{"source_a,record_id_a,source_b,record_id_b,decision\ns,1,s,2,accept\ns,,s,2,reject\n", "review.csv:3: column record_id_a"},
		{"source_a,record_id_a,source_b,record_id_b,decision\ns,1,s,1,accept\n", "itself"},
	} {
		_, err := ReadDecisions(strings.NewReader(c.in), "review.csv")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
}

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte("threshold: 0.95\nblocking:\n  rules: [[ni], [postcode, dob]]\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Threshold != 0.95 || len(cfg.Blocking.Rules) != 2 || cfg.Blocking.MaxBlock != DefaultConfig().Blocking.MaxBlock {
		t.Fatalf("config %+v", cfg)
	}
	for _, c := range []struct{ in, want string }{
		{"thresold: 0.9\n", "c.yaml: yaml: unmarshal errors:\n  line 1: field thresold not found"},
		{"threshold: 2\n", "c.yaml:1: threshold"},
		{"x: 1\nblocking:\n  rules: [[nino]]\n", "line 1"},
		{"blocking:\n  rules: [[nino]]\n", "c.yaml:2: blocking.rules: unknown blocking key"},
		{"model:\n  m:\n    given_name: {exactly: 0.9}\n", "c.yaml:3: model.m.given_name: unknown level"},
	} {
		_, err := ParseConfig([]byte(c.in), "c.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
}

func FuzzReadDecisions(f *testing.F) {
	f.Add("source_a,record_id_a,source_b,record_id_b,decision\ns,1,t,2,accept\n")
	f.Add("decision,source_a,record_id_a,source_b,record_id_b\nreject,s,1,t,2\n\"x\n")
	f.Fuzz(func(t *testing.T, in string) {
		ds, err := ReadDecisions(strings.NewReader(in), "f.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, d := range ds {
			if d.A == d.B || d.A.Source == "" || d.B.RecordID == "" {
				t.Fatalf("bad decision %+v", d)
			}
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add("threshold: 0.9\n")
	f.Add("blocking:\n  rules: [[ni]]\n  max_block: 10\nmodel: {fixed: true}\n")
	f.Fuzz(func(t *testing.T, in string) {
		cfg, err := ParseConfig([]byte(in), "f.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := cfg.validate(); err != nil {
			t.Fatalf("accepted config fails validation: %v", err)
		}
	})
}
