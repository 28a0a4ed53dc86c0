package build

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"caserisk/features/contract"
)

// InputReport is what the builder did with one input file. Rows read are
// data rows (the header excluded); rows used are the rows kept for the
// point-in-time computation; the other counts say why the rest were not
// used. Unknown UPRNs and tenancies are counted but the rows are kept (the
// row still describes a known resident).
type InputReport struct {
	File            string `json:"file"`
	Present         bool   `json:"present"`
	RowsRead        int    `json:"rows_read"`
	RowsUsed        int    `json:"rows_used"`
	Rejected        int    `json:"rejected"`
	Lost            int    `json:"lost_lines"` // physical lines not used (contract.FileCount)
	Fault           string `json:"fault,omitempty"`
	Duplicates      int    `json:"duplicates"`
	UnknownResident int    `json:"unknown_resident"`
	UnknownUPRN     int    `json:"unknown_uprn"`
	UnknownTenancy  int    `json:"unknown_tenancy"`
	OutOfSpan       int    `json:"out_of_span"`
	SHA256          string `json:"sha256,omitempty"`
}

// index holds the entity files: residents, properties and the tenancy ids.
type index struct {
	resIDs     []string
	resOf      map[string]int32
	dob        []contract.Day
	first      []contract.Day
	death      []contract.Day // date of death; NoDay if none or unknown
	deathKnown []contract.Day // the day a death became known; NoDay if none
	sex        []uint8
	eth        []uint8
	dis        []uint8
	resLine    []int32

	propUPRN []int64
	propOf   map[int64]int32
	ward     []uint8
	tenure   []uint8
	ptype    []uint8
	bedrooms []float32

	tenIDs []string
	tenOf  map[string]int32
}

// loaded is one file's load result.
type loaded struct {
	ev     *events
	rep    InputReport
	notes  []contract.RowError // rows not used, and why (rejects included)
	maxDay contract.Day        // latest event date among kept rows
	strict error               // the first contract breach, in strict mode
}

// fileProgress counts rows read for the progress display.
type fileProgress struct {
	name string
	rows atomic.Int64
	done atomic.Bool
}

// openHashed opens dir/f.Name with a reader that also computes the file's SHA-256.
func openHashed(dir string, f *contract.File) (*contract.Reader, *os.File, *hashReader, error) {
	fh, err := os.Open(filepath.Join(dir, f.Name))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open %s: %w", f.Name, err)
	}
	hr := &hashReader{r: fh, h: sha256.New()}
	r, err := contract.NewReader(hr, f.Name, f)
	if err != nil {
		fh.Close()
		return nil, nil, nil, err
	}
	return r, fh, hr, nil
}

type hashReader struct {
	r io.Reader
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

// sum drains the rest of the file (so the digest covers it all) and returns the hex digest.
func (h *hashReader) sum() (string, error) {
	if _, err := io.Copy(io.Discard, h); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.h.Sum(nil)), nil
}

// rowLoop reads every row of r, calling use for valid rows. Contract
// breaches are counted and noted (or end the loop in strict mode); the
// reader's counts (rows read, rejected, lines lost, a fault that breaks
// the file) go to the report.
func rowLoop(ctx context.Context, r *contract.Reader, l *loaded, prog *fileProgress, strict bool, use func(*contract.Row)) error {
	defer func() {
		c := r.Counts()
		l.rep.RowsRead, l.rep.Rejected, l.rep.Lost, l.rep.Fault = c.Rows, c.Rejected, c.Lost, c.Fault
	}()
	for n := 0; ; n++ {
		if n&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if prog != nil {
				prog.rows.Store(int64(n))
			}
		}
		row, err := r.Next()
		if err == io.EOF {
			if prog != nil {
				prog.rows.Store(int64(r.Counts().Rows))
			}
			return nil
		}
		var re *contract.RowError
		if errors.As(err, &re) {
			l.notes = append(l.notes, *re)
			if strict {
				l.strict = re
				return nil
			}
			continue
		}
		if err != nil {
			return err
		}
		use(row)
	}
}

// headerFault reports a file whose header keeps it from being read: every
// data line of it is lost.
func headerFault(dir string, f *contract.File, err error, l *loaded, strict bool) error {
	re, ok := contract.HeaderFault(err)
	if !ok {
		return err
	}
	fc, cerr := contract.Unread(dir, f, re)
	if cerr != nil {
		return cerr
	}
	l.rep.Present = true
	l.rep.Lost, l.rep.Fault = fc.Lost, fc.Fault
	l.notes = append(l.notes, *re)
	if strict {
		l.strict = re
	}
	return re
}

func note(file string, line int32, column, value, reason string) contract.RowError {
	return contract.RowError{File: file, Line: int(line), Column: column, Value: value, Reason: reason}
}

// loadResidents reads residents.csv into the index.
func loadResidents(ctx context.Context, dir string, f *contract.File, ix *index, prog *fileProgress, strict bool) (*loaded, error) {
	l := &loaded{rep: InputReport{File: f.Name}}
	r, fh, hr, err := openHashed(dir, f)
	if err != nil {
		return l, headerFault(dir, f, err, l, strict)
	}
	defer fh.Close()
	l.rep.Present = true
	cID, cDOB, cFirst := colIdx(f, "resident_id"), colIdx(f, "date_of_birth"), colIdx(f, "first_seen_date")
	cDeath, cRec := colIdx(f, "date_of_death"), colIdx(f, "death_recorded_date")
	cSex, cEth, cDis := colIdx(f, "sex"), colIdx(f, "ethnic_group"), colIdx(f, "disability")
	ix.resOf = make(map[string]int32)
	hashes := map[string]uint64{}
	rh := newRowHasher()
	err = rowLoop(ctx, r, l, prog, strict, func(row *contract.Row) {
		id := row.Str[cID]
		h := rh.sum(row.Str)
		if at, dup := ix.resOf[id]; dup {
			l.rep.Duplicates++
			reason := fmt.Sprintf("resident_id already defined at line %d; this row is not used", ix.resLine[at])
			if hashes[id] == h {
				reason = fmt.Sprintf("exact duplicate of line %d; counted once", ix.resLine[at])
			}
			l.notes = append(l.notes, note(f.Name, int32(row.Line), "resident_id", id, reason))
			return
		}
		hashes[id] = h
		ix.resOf[id] = int32(len(ix.resIDs))
		ix.resIDs = append(ix.resIDs, id)
		ix.resLine = append(ix.resLine, int32(row.Line))
		ix.dob = append(ix.dob, row.Day[cDOB])
		ix.first = append(ix.first, row.Day[cFirst])
		known := contract.NoDay
		switch death, rec := row.Day[cDeath], row.Day[cRec]; {
		case death != contract.NoDay:
			known = max(death, rec)
		case rec != contract.NoDay:
			known = rec
		}
		ix.deathKnown = append(ix.deathKnown, known)
		ix.death = append(ix.death, row.Day[cDeath])
		ix.sex = append(ix.sex, codeIndex(&f.Columns[cSex], row.Str[cSex]))
		ix.eth = append(ix.eth, codeIndex(&f.Columns[cEth], row.Str[cEth]))
		ix.dis = append(ix.dis, codeIndex(&f.Columns[cDis], row.Str[cDis]))
	})
	if err != nil {
		return l, err
	}
	l.rep.RowsUsed = len(ix.resIDs)
	l.rep.SHA256, err = hr.sum()
	if err != nil {
		return l, fmt.Errorf("read %s: %w", f.Name, err)
	}
	return l, nil
}

// loadProperties reads properties.csv into the index.
func loadProperties(ctx context.Context, dir string, f *contract.File, ix *index, prog *fileProgress, strict bool) (*loaded, error) {
	l := &loaded{rep: InputReport{File: f.Name}}
	r, fh, hr, err := openHashed(dir, f)
	if err != nil {
		return l, headerFault(dir, f, err, l, strict)
	}
	defer fh.Close()
	l.rep.Present = true
	cU, cWard, cTen, cType, cBed := colIdx(f, "uprn"), colIdx(f, "ward"), colIdx(f, "tenure"), colIdx(f, "property_type"), colIdx(f, "bedrooms")
	ix.propOf = make(map[int64]int32)
	var lines []int32
	err = rowLoop(ctx, r, l, prog, strict, func(row *contract.Row) {
		u := int64(row.Num[cU])
		if at, dup := ix.propOf[u]; dup {
			l.rep.Duplicates++
			l.notes = append(l.notes, note(f.Name, int32(row.Line), "uprn", row.Str[cU],
				fmt.Sprintf("uprn already defined at line %d; this row is not used", lines[at])))
			return
		}
		ix.propOf[u] = int32(len(ix.propUPRN))
		ix.propUPRN = append(ix.propUPRN, u)
		lines = append(lines, int32(row.Line))
		ix.ward = append(ix.ward, codeIndex(&f.Columns[cWard], row.Str[cWard]))
		ix.tenure = append(ix.tenure, codeIndex(&f.Columns[cTen], row.Str[cTen]))
		ix.ptype = append(ix.ptype, codeIndex(&f.Columns[cType], row.Str[cType]))
		ix.bedrooms = append(ix.bedrooms, float32(row.Num[cBed]))
	})
	if err != nil {
		return l, err
	}
	l.rep.RowsUsed = len(ix.propUPRN)
	l.rep.SHA256, err = hr.sum()
	if err != nil {
		return l, fmt.Errorf("read %s: %w", f.Name, err)
	}
	return l, nil
}

// Tenancy id handling of loadEvents.
const (
	tenNone   = iota // the file has no tenancy_id column
	tenDefine        // the file defines tenancy ids (tenancies.csv)
	tenLookup        // the file refers to tenancy ids
)

// loadEvents reads an events or periods file into columnar arrays.
// needStr lists the String columns to intern (for distinct counts).
func loadEvents(ctx context.Context, dir string, f *contract.File, ix *index, needStr []string, tenMode int, prog *fileProgress, strict bool) (*loaded, error) {
	l := &loaded{rep: InputReport{File: f.Name}, maxDay: contract.NoDay}
	r, fh, hr, err := openHashed(dir, f)
	if errors.Is(err, os.ErrNotExist) && !contract.RequiredFile(f.Name) {
		return l, nil // absent: reported as not present
	}
	if err != nil {
		return l, headerFault(dir, f, err, l, strict)
	}
	defer fh.Close()
	l.rep.Present = true
	nc := len(f.Columns)
	e := &events{file: f, codes: make([][]uint8, nc), nums: make([][]float32, nc),
		dates: make([][]contract.Day, nc), strs: make([][]int32, nc), dict: make([]map[string]int32, nc)}
	cRes, cDay := colIdx(f, "resident_id"), colIdx(f, f.EventDate)
	cRec, cEnd, cU, cTen := -1, -1, -1, -1
	if f.RecordedDate != "" {
		cRec = colIdx(f, f.RecordedDate)
		e.known = []contract.Day{}
	}
	if f.EndDate != "" {
		cEnd = colIdx(f, f.EndDate)
		e.end = []contract.Day{}
	}
	if f.AddressBased {
		cU = colIdx(f, "uprn")
		e.prop = []int32{}
	}
	if tenMode != tenNone {
		cTen = colIdx(f, "tenancy_id")
		e.ten = []int32{}
		if tenMode == tenDefine {
			ix.tenOf = make(map[string]int32)
		}
	}
	type colKind struct{ j, kind int }
	const (
		kCode = iota
		kNum
		kBool
		kDate
		kStr
	)
	var cols []colKind
	for j, c := range f.Columns {
		if c.Personal || j == cDay || j == cRec || j == cEnd {
			continue
		}
		switch c.Type {
		case contract.Code:
			e.codes[j] = []uint8{}
			cols = append(cols, colKind{j, kCode})
		case contract.Int, contract.Float:
			if c.Name == "uprn" {
				continue
			}
			e.nums[j] = []float32{}
			cols = append(cols, colKind{j, kNum})
		case contract.Bool:
			e.codes[j], e.nums[j] = []uint8{}, []float32{}
			cols = append(cols, colKind{j, kBool})
		case contract.Date:
			e.dates[j] = []contract.Day{}
			cols = append(cols, colKind{j, kDate})
		case contract.String:
			if slices.Contains(needStr, c.Name) {
				e.strs[j], e.dict[j] = []int32{}, map[string]int32{}
				cols = append(cols, colKind{j, kStr})
			}
		}
	}
	// Rows of period files (and investigations) carry values that become
	// known after the row's date (an end date, an outcome), so two rows
	// with the same key are the same record whatever those values say:
	// they are duplicates by key, and the earliest-known one is used.
	// Other rows are duplicates only when every value is the same.
	var keyCols []int
	if f.Kind == contract.Periods || f.Service == "fraud_investigations" {
		for _, k := range f.Key {
			keyCols = append(keyCols, colIdx(f, k))
		}
	}
	keyVals := make([]string, len(keyCols))
	rh := newRowHasher()
	// After the first rows, size the columns for the whole file (from the
	// file size and the mean row length) so they do not grow by doubling.
	var size int64
	if st, err := fh.Stat(); err == nil {
		size = st.Size()
	}
	sampled, sampleBytes := 0, 0
	lastID, lastRes := "", int32(-1)
	lastUPRN, lastProp := int64(-1), int32(-1)
	lastTenID, lastTen := "", int32(-1)
	err = rowLoop(ctx, r, l, prog, strict, func(row *contract.Row) {
		if sampled < 1000 {
			sampled++
			for _, v := range row.Str {
				sampleBytes += len(v) + 1
			}
			if sampled == 1000 && size > 0 {
				e.reserve(int(float64(size)/(float64(sampleBytes)/1000)*1.03) + 1024)
			}
		}
		// Extracts usually list a person's rows together: remember the last id.
		id := row.Str[cRes]
		ri, ok := lastRes, true
		if id != lastID {
			ri, ok = ix.resOf[id]
			if ok {
				lastID, lastRes = id, ri
			}
		}
		if !ok {
			l.rep.UnknownResident++
			l.notes = append(l.notes, note(f.Name, int32(row.Line), "resident_id", row.Str[cRes], "resident_id is not in residents.csv; row not used"))
			return
		}
		e.res = append(e.res, ri)
		d := row.Day[cDay]
		e.day = append(e.day, d)
		if e.known != nil {
			e.known = append(e.known, max(d, row.Day[cRec]))
		}
		if e.end != nil {
			e.end = append(e.end, row.Day[cEnd])
		}
		if e.prop != nil {
			p := int32(-1)
			if u := row.Num[cU]; !math.IsNaN(u) {
				if int64(u) == lastUPRN {
					p = lastProp
				} else if q, ok := ix.propOf[int64(u)]; ok {
					p, lastUPRN, lastProp = q, int64(u), q
				} else {
					l.rep.UnknownUPRN++
				}
			}
			e.prop = append(e.prop, p)
		}
		if e.ten != nil {
			id := row.Str[cTen]
			t, ok := lastTen, true
			if id != lastTenID {
				t, ok = ix.tenOf[id]
			}
			if ok {
				lastTenID, lastTen = id, t
			} else {
				if tenMode == tenDefine {
					t = int32(len(ix.tenIDs))
					ix.tenOf[id] = t
					ix.tenIDs = append(ix.tenIDs, id)
				} else {
					t = -1
					l.rep.UnknownTenancy++
				}
			}
			e.ten = append(e.ten, t)
		}
		for _, c := range cols {
			j := c.j
			switch c.kind {
			case kCode:
				e.codes[j] = append(e.codes[j], codeIndex(&f.Columns[j], row.Str[j]))
			case kNum:
				e.nums[j] = append(e.nums[j], float32(row.Num[j]))
			case kBool:
				e.codes[j] = append(e.codes[j], codeIndex(&f.Columns[j], row.Str[j]))
				e.nums[j] = append(e.nums[j], float32(row.Num[j]))
			case kDate:
				e.dates[j] = append(e.dates[j], row.Day[j])
			case kStr:
				s := row.Str[j]
				id, ok := e.dict[j][s]
				if !ok {
					id = int32(len(e.dict[j]))
					e.dict[j][s] = id
				}
				e.strs[j] = append(e.strs[j], id)
			}
		}
		e.line = append(e.line, int32(row.Line))
		if keyCols != nil {
			for k, j := range keyCols {
				keyVals[k] = row.Str[j]
			}
			e.hash = append(e.hash, rh.sum(keyVals))
		} else {
			e.hash = append(e.hash, rh.sum(row.Str))
		}
		if d > l.maxDay {
			l.maxDay = d
		}
	})
	if err != nil {
		return l, err
	}
	e.n = len(e.res)
	l.ev = e
	l.rep.SHA256, err = hr.sum()
	if err != nil {
		return l, fmt.Errorf("read %s: %w", f.Name, err)
	}
	return l, nil
}

// finish drops rows dated outside [spanStart, spanEnd] and exact
// duplicates (noting both), groups the rows by resident and builds the
// property and tenancy groupings.
func (l *loaded) finish(nres, nprop, nten int, spanStart, spanEnd contract.Day) {
	e := l.ev
	if e == nil {
		return
	}
	f := e.file
	keyRes := make([]int32, e.n)
	for i := 0; i < e.n; i++ {
		keyRes[i] = e.res[i]
		d, k := e.day[i], e.knownDay(int32(i))
		if d < spanStart || d > spanEnd || k > spanEnd {
			keyRes[i] = -1
			l.rep.OutOfSpan++
			col, v := f.EventDate, d
			if d >= spanStart && d <= spanEnd {
				col, v = f.RecordedDate, k
			}
			l.notes = append(l.notes, note(f.Name, e.line[i], col, v.String(),
				fmt.Sprintf("date outside the data's span %s to %s; row not used", spanStart, spanEnd)))
		}
	}
	off, idx := groupBy(keyRes, nres)
	// Duplicates share the resident, so they sit in the same group.
	byKey := f.Kind == contract.Periods || f.Service == "fraud_investigations"
	dup := make([]bool, e.n)
	var tmp []int32
	for r := 0; r < nres; r++ {
		g := idx[off[r]:off[r+1]]
		if len(g) < 2 {
			continue
		}
		tmp = append(tmp[:0], g...)
		slices.SortFunc(tmp, func(a, b int32) int {
			if c := cmp.Compare(e.hash[a], e.hash[b]); c != 0 {
				return c
			}
			if c := cmp.Compare(e.knownDay(a), e.knownDay(b)); c != 0 {
				return c
			}
			return cmp.Compare(e.line[a], e.line[b])
		})
		first := tmp[0]
		for k := 1; k < len(tmp); k++ {
			b := tmp[k]
			if e.hash[b] != e.hash[first] {
				first = b
				continue
			}
			dup[b] = true
			l.rep.Duplicates++
			reason := fmt.Sprintf("exact duplicate of line %d; counted once", e.line[first])
			if byKey {
				reason = fmt.Sprintf("same %s as line %d; the earlier-known row is used", strings.Join(f.Key, ", "), e.line[first])
			}
			l.notes = append(l.notes, note(f.Name, e.line[b], "", "", reason))
		}
	}
	perm := make([]int32, 0, len(idx))
	for _, i := range idx {
		if !dup[i] {
			perm = append(perm, i)
		}
	}
	e.permute(perm)
	e.hash = nil
	e.resOff = make([]int32, nres+1)
	for _, r := range e.res {
		e.resOff[r+1]++
	}
	for i := 1; i <= nres; i++ {
		e.resOff[i] += e.resOff[i-1]
	}
	if e.prop != nil {
		e.propOff, e.propIdx = groupBy(e.prop, nprop)
	}
	if e.ten != nil {
		e.tenOff, e.tenIdx = groupBy(e.ten, nten)
	}
	l.rep.RowsUsed = e.n
	slices.SortStableFunc(l.notes, func(a, b contract.RowError) int { return cmp.Compare(a.Line, b.Line) })
}

// rowHasher hashes a row's values for duplicate detection. Only equality
// of hashes matters, so the random seed does not change any output.
type rowHasher struct{ seed maphash.Seed }

func newRowHasher() rowHasher { return rowHasher{seed: maphash.MakeSeed()} }

func (rh rowHasher) sum(vals []string) uint64 {
	h := uint64(len(vals))
	for _, v := range vals {
		h = (h ^ maphash.String(rh.seed, v)) * 0x9e3779b97f4a7c15
	}
	return h
}

func colIdx(f *contract.File, name string) int {
	for i, c := range f.Columns {
		if c.Name == name {
			return i
		}
	}
	panic(fmt.Sprintf("contract file %s has no column %s", f.Name, name))
}
