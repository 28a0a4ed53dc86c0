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
	"sync"
	"unicode"
	"unicode/utf8"

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

// pairRef names one scored record pair compactly: the records (a < b) and
// the node pair's score, so millions of pairs sort and format cheaply.
type pairRef struct {
	a, b int32
	s    int32 // index into the scored node pairs
}

// scored is a node pair (a == b for records with identical details), its
// pattern and match weight.
type scored struct {
	a, b uint32
	pat  Pattern
	w    float64
}

// pairRefs returns the scored node pairs and the record pairs whose match
// probability is in [lo, hi), ordered by record.
func (r *Result) pairRefs(lo, hi float64) ([]scored, []pairRef) {
	var ss []scored
	var refs []pairRef
	add := func(a, b uint32, pat Pattern) {
		w := r.Model.prior + r.pairEvidence(a, pat)
		if p := Prob(w); p < lo || p >= hi {
			return
		}
		si := int32(len(ss))
		ss = append(ss, scored{a, b, pat, w})
		for _, ra := range r.nodeRecs[a] {
			for _, rb := range r.nodeRecs[b] {
				if a == b && rb <= ra {
					continue
				}
				refs = append(refs, pairRef{min(ra, rb), max(ra, rb), si})
			}
		}
	}
	for n := range r.nodeRecs {
		if len(r.nodeRecs[n]) > 1 {
			add(uint32(n), uint32(n), compareNodes(&r.nodes[n], &r.nodes[n], &thresholds{}))
		}
	}
	for _, c := range r.pairs {
		add(c.a, c.b, c.pat)
	}
	slices.SortFunc(refs, func(x, y pairRef) int {
		if x.a != y.a {
			return cmp.Compare(x.a, y.a)
		}
		return cmp.Compare(x.b, y.b)
	})
	return ss, refs
}

// pair expands a reference into a Pair.
func (r *Result) pair(ss []scored, ref pairRef) Pair {
	s := &ss[ref.s]
	pr := Pair{A: int(ref.a), B: int(ref.b), Weight: s.w, Prob: Prob(s.w), Linked: r.Cluster[ref.a] == r.Cluster[ref.b]}
	for f := 0; f < NumFields; f++ {
		lv := s.pat.Level(f)
		pr.Levels[f] = uint8(lv)
		pr.Weights[f] = r.fieldWeight(f, lv, s.a)
	}
	return pr
}

// Pairs returns the scored record pairs with match probability at least
// minProb, ordered by record: the candidate pairs and the pairs of records
// with identical details (compared once, as one).
func (r *Result) Pairs(minProb float64) []Pair {
	ss, refs := r.pairRefs(minProb, math.Inf(1))
	out := make([]Pair, len(refs))
	for i, ref := range refs {
		out[i] = r.pair(ss, ref)
	}
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

// appendField appends a CSV field, quoted if it needs to be.
func appendField(b []byte, s string) []byte {
	if !fieldNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// fieldNeedsQuotes is encoding/csv's rule: a field with a comma, quote,
// CR or LF, one that starts with a space, or `\.`.
func fieldNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` || strings.ContainsAny(s, ",\"\r\n") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// appendPairRow appends one CSV row of a pair (the columns of pairHeader).
func (r *Result) appendPairRow(b []byte, p *Pair, review bool) []byte {
	a, c := &r.Records[p.A], &r.Records[p.B]
	b = appendField(b, a.Source)
	b = append(b, ',')
	b = appendField(b, a.RecordID)
	b = append(b, ',')
	b = appendField(b, c.Source)
	b = append(b, ',')
	b = appendField(b, c.RecordID)
	b = append(b, ',')
	b = strconv.AppendFloat(b, p.Weight, 'f', 3, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, p.Prob, 'g', 6, 64)
	if p.Linked {
		b = append(b, ",Y"...)
	} else {
		b = append(b, ",N"...)
	}
	for f := 0; f < NumFields; f++ {
		b = append(b, ',')
		b = append(b, LevelNames[f][p.Levels[f]]...)
		b = append(b, ',')
		b = strconv.AppendFloat(b, p.Weights[f], 'f', 3, 64)
	}
	if review {
		b = append(b, ',')
	}
	return append(b, '\n')
}

// writePairRefs writes the header and the pairs' rows, formatted in
// chunks by the workers and written in order.
func (r *Result) writePairRefs(w io.Writer, ss []scored, refs []pairRef, review bool) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(pairHeader(review)); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	const chunk = 1 << 15
	workers := max(r.Config.Workers, 1)
	if r.Config.Workers == 0 {
		workers = 2
	}
	bufs := make([][]byte, workers)
	for start := 0; start < len(refs); start += chunk * workers {
		var wg sync.WaitGroup
		for k := 0; k < workers; k++ {
			lo := start + k*chunk
			if lo >= len(refs) {
				bufs[k] = bufs[k][:0]
				continue
			}
			hi := min(lo+chunk, len(refs))
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := bufs[k][:0]
				for _, ref := range refs[lo:hi] {
					p := r.pair(ss, ref)
					b = r.appendPairRow(b, &p, review)
				}
				bufs[k] = b
			}()
		}
		wg.Wait()
		for k := range bufs {
			if _, err := w.Write(bufs[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// WritePairs writes the scored pairs at or above Config.PairsFloor as CSV:
// the two records' source and record_id, the match weight and probability,
// whether they were linked, and each field's level and weight (log2 of its
// Bayes factor). No names or other details: the levels and weights say why.
func (r *Result) WritePairs(w io.Writer) error {
	ss, refs := r.pairRefs(r.Config.PairsFloor, math.Inf(1))
	return r.writePairRefs(w, ss, refs, false)
}

// ReviewPairs returns the clerical review queue: one pair for each
// decision that would join two residents or split one, the most uncertain
// first, at most Review.Size (see ReviewSummary for what it leaves to the
// model).
func (r *Result) ReviewPairs() []Pair {
	ss, refs, _ := r.reviewQueue()
	out := make([]Pair, len(refs))
	for i, ref := range refs {
		out[i] = r.pair(ss, ref)
	}
	return out
}

// Review returns the review queue's summary: what it holds and what it
// leaves to the model.
func (r *Result) Review() ReviewSummary {
	_, _, s := r.reviewQueue()
	return s
}

// WriteReview writes the review queue (ReviewPairs) as CSV with the columns
// of WritePairs and an empty decision column for a reviewer to fill with
// accept or reject. ReadDecisions reads it back.
func (r *Result) WriteReview(w io.Writer) error {
	ss, refs, _ := r.reviewQueue()
	return r.writePairRefs(w, ss, refs, true)
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
