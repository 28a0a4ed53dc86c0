// Package review holds the clerical review queue of a linkage run: one
// pair for each decision near the threshold that would join two residents
// or split one, the most uncertain first, sized to a data steward's week;
// the counts of what it leaves to the model (Summary); the two person
// records' details; and the reviewers' decisions.
//
// 'caserisk link' writes the queue (OUT/linkage/review.csv, see
// link.Result.WriteReview): each pair's two record keys, match weight and
// probability, whether the run linked them, and each field's comparison
// level and weight, with no personal details. ReadQueue reads it back;
// People looks up the details of the records a reviewer must see from the
// raw extracts; decisions are kept in a CSV file (DecisionsHeader) that
// 'caserisk link --decisions' reuses, through link.ReadDecisions.
//
// Nothing here logs or prints: the details People returns are for the
// reviewer's eyes (a terminal or the web page), never for a log.
package review

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"caserisk/features/link"
	"caserisk/features/link/assemble"
)

// Field is one compared field of a pair: its name (given_name,
// date_of_birth, …), the comparison level the two records reached
// (exact, day_month_swap, …) and that level's match weight (log2 of its
// Bayes factor: positive for evidence of one person, negative against).
type Field struct {
	Name   string
	Level  string
	Weight float64
}

// Pair is one row of the review queue.
type Pair struct {
	// Line is the pair's line in the queue file (1 is the header).
	Line int
	// A and B are the two person records.
	A, B assemble.Key
	// Weight is the pair's total match weight; Prob its match probability.
	Weight, Prob float64
	// Linked reports whether the run that made the queue linked the two.
	Linked bool
	// Fields are the per-field comparisons, in the queue's column order.
	Fields []Field
}

// Key returns the pair's key, the same whichever record is A.
func (p *Pair) Key() PairKey { return KeyOf(p.A, p.B) }

// PairKey names a pair of records independently of their order.
type PairKey [2]assemble.Key

// KeyOf orders two records' keys so that (a, b) and (b, a) are one pair.
func KeyOf(a, b assemble.Key) PairKey {
	if a.Source > b.Source || (a.Source == b.Source && a.RecordID > b.RecordID) {
		a, b = b, a
	}
	return PairKey{a, b}
}

// queueColumns are the columns a queue must have besides the fields'.
var queueColumns = [...]string{"source_a", "record_id_a", "source_b", "record_id_b", "match_weight", "match_probability", "linked"}

// ReadQueue reads a review queue file (OUT/linkage/review.csv). Errors name
// the file and line.
func ReadQueue(path string) ([]Pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	defer f.Close()
	return ParseQueue(f, path)
}

// ParseQueue reads a review queue from r; name is used in errors, which
// name the line (and column) at fault. The fields are the columns
// NAME_level with a matching NAME_weight; other columns (decision, say) are
// ignored. The pairs are in the file's order, the most uncertain first as
// 'caserisk link' writes them.
func ParseQueue(r io.Reader, name string) ([]Pair, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s:1: empty file: no header row", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for i := range head {
		head[i] = strings.TrimSpace(strings.TrimPrefix(head[i], "\ufeff"))
	}
	var at [len(queueColumns)]int
	for i, c := range queueColumns {
		if at[i] = slices.Index(head, c); at[i] < 0 {
			return nil, fmt.Errorf("%s:1: header lacks column %s: is this a review queue from 'caserisk link'?", name, c)
		}
	}
	type fieldCol struct {
		name          string
		level, weight int
	}
	var fields []fieldCol
	for i, h := range head {
		if n, ok := strings.CutSuffix(h, "_level"); ok && n != "" {
			if w := slices.Index(head, n+"_weight"); w >= 0 {
				fields = append(fields, fieldCol{n, i, w})
			}
		}
	}
	var out []Pair
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		get := func(i int) string { return strings.TrimSpace(rec[i]) }
		p := Pair{Line: line,
			A: assemble.Key{Source: get(at[0]), RecordID: get(at[1])},
			B: assemble.Key{Source: get(at[2]), RecordID: get(at[3])}}
		if p.A.Source == "" || p.A.RecordID == "" || p.B.Source == "" || p.B.RecordID == "" {
			return nil, fmt.Errorf("%s:%d: a pair without both sources and record ids", name, line)
		}
		if p.A == p.B {
			return nil, fmt.Errorf("%s:%d: a record paired with itself", name, line)
		}
		num := func(col int) (float64, error) {
			v, err := strconv.ParseFloat(get(col), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				_, c := cr.FieldPos(col)
				return 0, fmt.Errorf("%s:%d:%d: column %s: %q is not a finite number", name, line, c, head[col], get(col))
			}
			return v, nil
		}
		if p.Weight, err = num(at[4]); err != nil {
			return nil, err
		}
		if p.Prob, err = num(at[5]); err != nil {
			return nil, err
		}
		if p.Prob < 0 || p.Prob > 1 {
			return nil, fmt.Errorf("%s:%d: column match_probability: %v is not in [0, 1]", name, line, p.Prob)
		}
		switch get(at[6]) {
		case "Y":
			p.Linked = true
		case "N":
		default:
			return nil, fmt.Errorf("%s:%d: column linked: %q is not Y or N", name, line, get(at[6]))
		}
		for _, fc := range fields {
			w, err := num(fc.weight)
			if err != nil {
				return nil, err
			}
			p.Fields = append(p.Fields, Field{Name: fc.name, Level: get(fc.level), Weight: w})
		}
		out = append(out, p)
	}
}

// Summary counts what a review queue holds and what it leaves to the
// model, as 'caserisk link' writes it beside the queue (review.json).
type Summary = link.ReviewSummary

// SummaryPath returns where the summary of the queue at queuePath is:
// the queue's name with .json for its extension.
func SummaryPath(queuePath string) string {
	return strings.TrimSuffix(queuePath, filepath.Ext(queuePath)) + ".json"
}

// ReadSummary reads the summary beside the queue at queuePath
// (SummaryPath). A queue without one (written by an older caserisk) gives
// nil and no error. Errors name the file.
func ReadSummary(queuePath string) (*Summary, error) {
	path := SummaryPath(queuePath)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("review summary: %w", err)
	}
	var s Summary
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("review summary %s: %w", path, err)
	}
	for name, v := range map[string]int{"size": s.Size, "near_threshold_pairs": s.NearThreshold, "decisions": s.Decisions,
		"queued": s.Queued, "decided_by_model": s.ByModel, "already_reviewed": s.AlreadyReviewed} {
		if v < 0 {
			return nil, fmt.Errorf("review summary %s: %s is %d, a count must not be negative", path, name, v)
		}
	}
	if s.Queued+s.ByModel+s.AlreadyReviewed != s.Decisions {
		return nil, fmt.Errorf("review summary %s: %d queued, %d left to the model and %d already reviewed do not add up to the %d decisions",
			path, s.Queued, s.ByModel, s.AlreadyReviewed, s.Decisions)
	}
	return &s, nil
}
