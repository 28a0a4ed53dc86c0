package link

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"caserisk/features/link/assemble"
)

// Pair is a scored pair of records: indices into Result.Records, the match
// weight and probability, and each field's comparison level and weight.
type Pair struct {
	A, B    int
	Weight  float64
	Prob    float64
	Levels  [NumFields]uint8
	Weights [NumFields]float64
	Linked  bool // the two records ended in one cluster
}

// Pairs returns the scored record pairs with match probability at least
// minProb, ordered by record: the candidate pairs and the pairs of records
// with identical details (compared once, as one).
func (r *Result) Pairs(minProb float64) []Pair {
	var out []Pair
	add := func(a, b int32, pat Pattern) {
		w := r.Model.prior + r.pairEvidence(uint32(a), pat)
		p := Prob(w)
		if p < minProb {
			return
		}
		for _, ra := range r.nodeRecs[a] {
			for _, rb := range r.nodeRecs[b] {
				if a == b && rb <= ra {
					continue
				}
				x, y := int(ra), int(rb)
				if x > y {
					x, y = y, x
				}
				pr := Pair{A: x, B: y, Weight: w, Prob: p, Linked: r.Cluster[x] == r.Cluster[y]}
				for f := 0; f < NumFields; f++ {
					lv := pat.Level(f)
					pr.Levels[f] = uint8(lv)
					pr.Weights[f] = r.fieldWeight(f, lv, uint32(a))
				}
				out = append(out, pr)
			}
		}
	}
	for n := range r.nodeRecs {
		if len(r.nodeRecs[n]) > 1 {
			add(int32(n), int32(n), compareNodes(&r.nodes[n], &r.nodes[n], &thresholds{}))
		}
	}
	for _, c := range r.pairs {
		add(int32(c.a), int32(c.b), c.pat)
	}
	slices.SortFunc(out, func(x, y Pair) int {
		if x.A != y.A {
			return cmp.Compare(x.A, y.A)
		}
		return cmp.Compare(x.B, y.B)
	})
	return out
}

func pairHeader(review bool) []string {
	h := []string{"source_a", "record_id_a", "source_b", "record_id_b", "match_weight", "match_probability", "linked"}
	for _, f := range FieldNames {
		h = append(h, f+"_level", f+"_weight")
	}
	if review {
		h = append(h, "decision")
	}
	return h
}

func (r *Result) pairRow(p *Pair, review bool) []string {
	a, b := &r.Records[p.A], &r.Records[p.B]
	linked := "N"
	if p.Linked {
		linked = "Y"
	}
	row := []string{a.Source, a.RecordID, b.Source, b.RecordID,
		strconv.FormatFloat(p.Weight, 'f', 3, 64), strconv.FormatFloat(p.Prob, 'g', 6, 64), linked}
	for f := 0; f < NumFields; f++ {
		row = append(row, LevelNames[f][p.Levels[f]], strconv.FormatFloat(p.Weights[f], 'f', 3, 64))
	}
	if review {
		row = append(row, "")
	}
	return row
}

// WritePairs writes the scored pairs at or above Config.PairsFloor as CSV:
// the two records' source and record_id, the match weight and probability,
// whether they were linked, and each field's level and weight (log2 of its
// Bayes factor). No names or other details: the levels and weights say why.
func (r *Result) WritePairs(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(pairHeader(false)); err != nil {
		return err
	}
	for _, p := range r.Pairs(r.Config.PairsFloor) {
		if err := cw.Write(r.pairRow(&p, false)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReviewPairs returns the clerical review queue: pairs whose match
// probability is in [Review.Low, Review.High), the closest to the threshold
// first.
func (r *Result) ReviewPairs() []Pair {
	ps := r.Pairs(r.Config.Review.Low)
	ps = slices.DeleteFunc(ps, func(p Pair) bool { return p.Prob >= r.Config.Review.High })
	tw := math.Log2(r.Config.Threshold / (1 - r.Config.Threshold))
	slices.SortStableFunc(ps, func(x, y Pair) int {
		return cmp.Compare(math.Abs(x.Weight-tw), math.Abs(y.Weight-tw))
	})
	return ps
}

// WriteReview writes the review queue (ReviewPairs) as CSV with the columns
// of WritePairs and an empty decision column for a reviewer to fill with
// accept or reject. ReadDecisions reads it back.
func (r *Result) WriteReview(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(pairHeader(true)); err != nil {
		return err
	}
	for _, p := range r.ReviewPairs() {
		if err := cw.Write(r.pairRow(&p, true)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadDecisions reads reviewed pairs: CSV with at least the columns
// source_a, record_id_a, source_b, record_id_b and decision (a filled review
// queue, or a decisions file of just those columns). A decision is accept or
// reject (any case); an empty decision is a pair not yet reviewed and is
// skipped. Errors name the file (name), line and column.
func ReadDecisions(rd io.Reader, name string) ([]Decision, error) {
	cr := csv.NewReader(rd)
	cr.FieldsPerRecord = 0
	cr.ReuseRecord = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s:1: empty file: no header row", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	need := []string{"source_a", "record_id_a", "source_b", "record_id_b", "decision"}
	at := make([]int, len(need))
	for i, col := range need {
		at[i] = slices.IndexFunc(head, func(h string) bool { return strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) == col })
		if at[i] < 0 {
			return nil, fmt.Errorf("%s:1: header lacks column %s", name, col)
		}
	}
	var out []Decision
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		get := func(i int) string { return strings.TrimSpace(rec[at[i]]) }
		var d Decision
		switch strings.ToLower(get(4)) {
		case "":
			continue
		case "accept":
			d.Accept = true
		case "reject":
		default:
			return nil, fmt.Errorf("%s:%d: column decision: %q is not accept or reject", name, line, get(4))
		}
		for i := 0; i < 4; i++ {
			if get(i) == "" {
				return nil, fmt.Errorf("%s:%d: column %s: missing", name, line, need[i])
			}
		}
		d.A = assemble.Key{Source: get(0), RecordID: get(1)}
		d.B = assemble.Key{Source: get(2), RecordID: get(3)}
		if d.A == d.B {
			return nil, fmt.Errorf("%s:%d: a record paired with itself", name, line)
		}
		out = append(out, d)
	}
}
