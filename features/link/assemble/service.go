package assemble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"caserisk/features/contract"
)

// seenAtEnd is a last-seen day meaning "still seen at the extract's end":
// the person holds an open tenancy or registration.
const seenAtEnd contract.Day = math.MaxInt32

// seenState is one worker's first and last sighting of each resident in
// any row (merged across workers by min and max, so the result does not
// depend on which worker read which file).
type seenState struct {
	first, last []contract.Day
}

func newSeenState(n int) *seenState {
	s := &seenState{first: make([]contract.Day, n), last: make([]contract.Day, n)}
	for i := range s.first {
		s.first[i], s.last[i] = contract.NoDay, contract.NoDay
	}
	return s
}

func mergeSeen(all []*seenState) *seenState {
	out := all[0]
	for _, s := range all[1:] {
		for i := range out.first {
			if d := s.first[i]; d != contract.NoDay && (out.first[i] == contract.NoDay || d < out.first[i]) {
				out.first[i] = d
			}
			if d := s.last[i]; d != contract.NoDay && (out.last[i] == contract.NoDay || d > out.last[i]) {
				out.last[i] = d
			}
		}
	}
	return out
}

// obs is a sighting of a resident, as collected while copying rows.
type obs struct {
	res  int32
	day  contract.Day
	uprn int64
}

// serviceResult is what copying one source file gave.
type serviceResult struct {
	count          FileCount
	minDay, maxDay contract.Day // earliest and latest event date; NoDay if no row
	sightings      obsChunks
}

// obsChunks is an append-only list of sightings in fixed-size chunks: no
// copying as it grows.
type obsChunks [][]obs

const obsChunk = 1 << 16

func (c *obsChunks) add(o obs) {
	if n := len(*c); n == 0 || len((*c)[n-1]) == obsChunk {
		*c = append(*c, make([]obs, 0, obsChunk))
	}
	last := &(*c)[len(*c)-1]
	*last = append(*last, o)
}

// notHome reports whether a file's uprn is not where the person lives:
// fraud_investigations names the investigated tenancy's home.
func notHome(service string) bool { return service == "fraud_investigations" }

// setter writes column j of a row through a contract.Writer.
type setter func(w *contract.Writer, row *contract.Row)

// setters returns, per column of f, how to copy a validated row's value to
// a Writer of the same columns: by the column's type, skipping missing
// values. skip names a column handled by the caller.
func setters(f *contract.File, skip int) []setter {
	out := make([]setter, len(f.Columns))
	for j, col := range f.Columns {
		if j == skip {
			continue
		}
		name := col.Name
		switch col.Type {
		case contract.String:
			out[j] = func(w *contract.Writer, row *contract.Row) {
				if v := row.Str[j]; v != "" {
					w.SetString(name, v)
				}
			}
		case contract.Int:
			out[j] = func(w *contract.Writer, row *contract.Row) {
				if v := row.Num[j]; v == v {
					w.SetInt(name, int64(v))
				}
			}
		case contract.Float:
			out[j] = func(w *contract.Writer, row *contract.Row) {
				if v := row.Num[j]; v == v {
					w.SetFloat(name, v, decimals(row.Str[j]))
				}
			}
		case contract.Date:
			out[j] = func(w *contract.Writer, row *contract.Row) {
				if d := row.Day[j]; d != contract.NoDay {
					w.SetDate(name, d)
				}
			}
		case contract.Code:
			out[j] = func(w *contract.Writer, row *contract.Row) {
				if v := row.Str[j]; v != "" {
					w.SetCode(name, v)
				}
			}
		case contract.Bool:
			out[j] = func(w *contract.Writer, row *contract.Row) {
				if v := row.Num[j]; v == v {
					w.SetBool(name, v == 1)
				}
			}
		}
	}
	return out
}

// decimals returns the number of digits after the point in a decimal as
// written, so a copy keeps its form ("300.00" stays "300.00"); -1 (the
// shortest form that reads back as the same number) for an exponent form.
func decimals(s string) int {
	if strings.ContainsAny(s, "eE") {
		return -1
	}
	if k := strings.IndexByte(s, '.'); k >= 0 {
		return len(s) - k - 1
	}
	return 0
}

// colIndex returns the index of the named column of f, or -1.
func colIndex(f *contract.File, name string) int {
	for j, c := range f.Columns {
		if c.Name == name && name != "" {
			return j
		}
	}
	return -1
}

// copyProperties copies properties.csv through the contract and returns
// the gazetteer of its addresses.
func copyProperties(ctx context.Context, rawDir, outDir string, f *contract.File) (FileCount, *gazetteer, error) {
	fc := FileCount{File: f.Name}
	r, err := contract.Open(rawDir, f)
	if err != nil {
		return fc, nil, fmt.Errorf("assemble: %w", err)
	}
	defer r.Close()
	out, err := create(outDir, f.Name)
	if err != nil {
		return fc, nil, err
	}
	g := newGazetteer()
	cU, cA, cP := colIndex(f, "uprn"), colIndex(f, "address"), colIndex(f, "postcode")
	w := contract.NewWriter(out.bw, f)
	set := setters(f, -1)
	if err := copyRows(ctx, r, w, &fc, func(row *contract.Row) bool {
		for _, s := range set {
			s(w, row)
		}
		g.add(row.Str[cA], row.Str[cP], int64(row.Num[cU]))
		return true
	}); err != nil {
		out.close()
		return fc, nil, err
	}
	return fc, g, out.close()
}

// copyRows writes the header, then reads every row of r and, for each
// valid one, lets fill set the Writer's values (or refuse the row) and
// writes it.
func copyRows(ctx context.Context, r *contract.Reader, w *contract.Writer, fc *FileCount, fill func(*contract.Row) bool) error {
	if err := w.WriteHeader(); err != nil {
		return fmt.Errorf("assemble: %w", err)
	}
	for {
		if fc.Rows&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fc.Rows++
			if rowFault(fc, err) {
				continue
			}
			return fmt.Errorf("assemble: %w", err)
		}
		fc.Rows++
		if !fill(row) {
			continue
		}
		if err := w.WriteRow(); err != nil {
			return fmt.Errorf("assemble: %w", err)
		}
		fc.Written++
	}
	return nil
}

// copyService copies the raw form of source file f (number si of the raw
// sources) to outDir with each record id replaced by its resident id, and
// collects the residents' sightings and first and last days seen.
func copyService(ctx context.Context, rawDir, outDir string, f *contract.File, si int, ix *index, st *seenState) (*serviceResult, error) {
	res := &serviceResult{count: FileCount{File: f.Name}, minDay: contract.NoDay, maxDay: contract.NoDay}
	rf := contract.RawFile(f)
	r, err := contract.Open(rawDir, rf)
	if errors.Is(err, os.ErrNotExist) {
		return res, nil // a council may lack an extract
	}
	if err != nil {
		return nil, fmt.Errorf("assemble: %w", err)
	}
	defer r.Close()
	out, err := create(outDir, f.Name)
	if err != nil {
		return nil, err
	}
	cRec := colIndex(rf, contract.RawRecordID)
	cEv, cEnd, cU := colIndex(f, f.EventDate), colIndex(f, f.EndDate), colIndex(f, "uprn")
	home := cU >= 0 && !notHome(f.Service)
	periods := f.Kind == contract.Periods && cEnd >= 0
	w := contract.NewWriter(out.bw, f)
	set := setters(f, cRec)
	fc := &res.count
	err = copyRows(ctx, r, w, fc, func(row *contract.Row) bool {
		n, ok := ix.record(si, row.Str[cRec])
		if !ok {
			fc.Unmapped++
			if len(fc.Errors) < maxFileErrors {
				fc.Errors = append(fc.Errors, fmt.Sprintf("%s:%d: record %s has no resident id in the mapping", rf.Name, row.Line, row.Str[cRec]))
			}
			return false
		}
		ix.inRows[n] = true
		p := ix.recRes[n]
		w.SetString("resident_id", ix.residents[p])
		for _, s := range set {
			if s != nil {
				s(w, row)
			}
		}
		ev := row.Day[cEv]
		if res.minDay == contract.NoDay || ev < res.minDay {
			res.minDay = ev
		}
		if res.maxDay == contract.NoDay || ev > res.maxDay {
			res.maxDay = ev
		}
		if d := st.first[p]; d == contract.NoDay || ev < d {
			st.first[p] = ev
		}
		if notHome(f.Service) {
			return true
		}
		last := ev
		end := contract.NoDay
		if periods {
			if end = row.Day[cEnd]; end == contract.NoDay {
				last = seenAtEnd
			} else {
				last = max(last, end)
			}
		}
		if d := st.last[p]; d == contract.NoDay || last > d {
			st.last[p] = last
		}
		if home {
			if u := row.Num[cU]; u == u {
				res.sightings.add(obs{p, ev, int64(u)})
				if end != contract.NoDay {
					res.sightings.add(obs{p, end, int64(u)})
				}
			}
		}
		return true
	})
	if err != nil {
		out.close()
		return nil, err
	}
	if err := w.Err(); err != nil {
		out.close()
		return nil, fmt.Errorf("assemble: %w", err)
	}
	return res, out.close()
}

// groupSightings gathers the sightings of every file by resident (CSR).
func groupSightings(nres int, svc []*serviceResult) (off []int64, all []sighting) {
	off = make([]int64, nres+1)
	for _, s := range svc {
		for _, ch := range s.sightings {
			for _, o := range ch {
				off[o.res+1]++
			}
		}
	}
	for i := range nres {
		off[i+1] += off[i]
	}
	all = make([]sighting, off[nres])
	next := make([]int64, nres)
	copy(next, off[:nres])
	for _, s := range svc {
		for _, ch := range s.sightings {
			for _, o := range ch {
				all[next[o.res]] = sighting{o.day, o.uprn}
				next[o.res]++
			}
		}
		s.sightings = nil
	}
	return off, all
}
