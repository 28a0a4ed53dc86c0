package review

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"time"

	"caserisk/features/link"
	"caserisk/features/link/assemble"
)

// Decision is a reviewer's verdict on a pair: Accept when the two records
// are one person, else (rejected) two people. At is when it was made (zero
// when the file does not say).
type Decision struct {
	A, B   assemble.Key
	Accept bool
	At     time.Time
}

// Verdict returns "accept" or "reject", the decisions file's words.
func (d *Decision) Verdict() string {
	if d.Accept {
		return "accept"
	}
	return "reject"
}

// Link returns the decision as the linkage takes it.
func (d *Decision) Link() link.Decision { return link.Decision{A: d.A, B: d.B, Accept: d.Accept} }

// DecisionsHeader returns the header of a decisions file: the two records'
// keys, the verdict (accept or reject) and when it was made (RFC 3339, UTC).
// No personal details: 'caserisk link --decisions' reads it through
// link.ReadDecisions.
func DecisionsHeader() []string {
	return []string{"source_a", "record_id_a", "source_b", "record_id_b", "decision", "decided_at"}
}

// ReadDecisions reads a decisions file (or a filled review queue) through
// link.ReadDecisions. A file that does not exist, or is empty, holds no
// decisions (OpenAppender creates it).
func ReadDecisions(path string) ([]link.Decision, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("decisions: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		return nil, nil
	}
	return link.ReadDecisions(f, path)
}

// Pending returns the pairs of the queue that no decision covers, in the
// queue's order. A decision covers a pair whichever way round it names the
// two records.
func Pending(queue []Pair, decided []link.Decision) []Pair {
	done := make(map[PairKey]bool, len(decided))
	for _, d := range decided {
		done[KeyOf(d.A, d.B)] = true
	}
	return slices.DeleteFunc(slices.Clone(queue), func(p Pair) bool { return done[p.Key()] })
}

// row returns a decision as a decisions file's row.
func (d *Decision) row() []string {
	at := ""
	if !d.At.IsZero() {
		at = d.At.UTC().Format(time.RFC3339)
	}
	return []string{d.A.Source, d.A.RecordID, d.B.Source, d.B.RecordID, d.Verdict(), at}
}

// WriteDecisions writes decisions as a decisions file (DecisionsHeader
// first) to w.
func WriteDecisions(w io.Writer, ds []Decision) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(DecisionsHeader()); err != nil {
		return fmt.Errorf("write decisions: %w", err)
	}
	for i := range ds {
		if err := cw.Write(ds[i].row()); err != nil {
			return fmt.Errorf("write decisions: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write decisions: %w", err)
	}
	return nil
}

// Appender appends decisions to a decisions file, each written through at
// once, so a reviewer who stops loses nothing.
type Appender struct {
	path string
	f    *os.File
	cw   *csv.Writer
}

// OpenAppender opens the decisions file at path for appending, creating it
// (readable by its owner only) with DecisionsHeader when it is absent or
// empty.
func OpenAppender(path string) (*Appender, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("decisions: %w", err)
	}
	a := &Appender{path: path, f: f, cw: csv.NewWriter(f)}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("decisions: %w", err)
	}
	if st.Size() == 0 {
		if err := a.write(DecisionsHeader()); err != nil {
			f.Close()
			return nil, err
		}
	}
	return a, nil
}

// Append writes one decision and flushes it to the file.
func (a *Appender) Append(d Decision) error { return a.write(d.row()) }

func (a *Appender) write(rec []string) error {
	if err := a.cw.Write(rec); err != nil {
		return fmt.Errorf("append to %s: %w", a.path, err)
	}
	a.cw.Flush()
	if err := a.cw.Error(); err != nil {
		return fmt.Errorf("append to %s: %w", a.path, err)
	}
	return nil
}

// Close closes the file.
func (a *Appender) Close() error {
	if err := a.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", a.path, err)
	}
	return nil
}
