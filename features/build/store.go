package build

import (
	"slices"

	"caserisk/features/contract"
)

// events is one contract file held in compact columnar arrays: one entry
// per kept row, grouped by resident (CSR) after finish. Code columns hold
// the code's 1-based position in the contract's code list (0 = missing);
// numeric columns are float32 (NaN = missing); dates are contract.Day.
type events struct {
	file *contract.File
	n    int

	res   []int32        // resident index
	day   []contract.Day // event date (EventDate column)
	known []contract.Day // max(event date, recorded date); nil when the file has no recorded date
	end   []contract.Day // period end (EndDate column); nil for events files
	prop  []int32        // property index; -1 unknown or missing; nil when not address-based
	ten   []int32        // tenancy index; -1 unknown; nil without tenancy_id
	line  []int32        // source line, for reports and tie-breaks
	hash  []uint64       // row hash for duplicate detection; dropped after finish

	codes [][]uint8        // per contract column; nil unless Code or Bool
	nums  [][]float32      // per contract column; nil unless Int, Float or Bool
	dates [][]contract.Day // per contract column; nil unless an extra Date column
	strs  [][]int32        // per contract column; interned text, only where a feature needs it
	dict  []map[string]int32

	// CSR groupings built by finish.
	resOff  []int32 // rows of resident i are resOff[i]:resOff[i+1]
	propOff []int32 // propIdx[propOff[p]:propOff[p+1]] are the rows at property p
	propIdx []int32
	tenOff  []int32
	tenIdx  []int32
}

// knownDay returns the day row i became known.
func (e *events) knownDay(i int32) contract.Day {
	if e.known != nil {
		return e.known[i]
	}
	return e.day[i]
}

// col returns the contract position of a column, or -1.
func (e *events) col(name string) int {
	for i, c := range e.file.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// codeOf returns the stored value of a code in a column (1-based), or 0
// when the column or code does not exist (it then matches nothing).
func (e *events) codeOf(column, code string) uint8 {
	j := e.col(column)
	if j < 0 {
		return 0
	}
	return codeIndex(&e.file.Columns[j], code)
}

func codeIndex(c *contract.Column, code string) uint8 {
	if c.Type == contract.Bool {
		switch code {
		case "Y":
			return 1
		case "N":
			return 2
		}
		return 0
	}
	for k, v := range c.Codes {
		if v == code {
			return uint8(k + 1)
		}
	}
	return 0
}

// resRows returns the row range of resident r.
func (e *events) resRows(r int32) (int32, int32) {
	if e == nil || r < 0 || int(r)+1 >= len(e.resOff) {
		return 0, 0
	}
	return e.resOff[r], e.resOff[r+1]
}

// propRows returns the rows at property p.
func (e *events) propRows(p int32) []int32 {
	if e == nil || p < 0 || e.propOff == nil || int(p)+1 >= len(e.propOff) {
		return nil
	}
	return e.propIdx[e.propOff[p]:e.propOff[p+1]]
}

// tenRows returns the rows of tenancy t.
func (e *events) tenRows(t int32) []int32 {
	if e == nil || t < 0 || e.tenOff == nil || int(t)+1 >= len(e.tenOff) {
		return nil
	}
	return e.tenIdx[e.tenOff[t]:e.tenOff[t+1]]
}

// groupBy returns a CSR grouping of rows by key (keys < 0 are left out):
// off has n+1 entries and idx lists the rows of group g in
// idx[off[g]:off[g+1]], in row order (a stable counting sort).
func groupBy(key []int32, n int) (off, idx []int32) {
	off = make([]int32, n+1)
	for _, k := range key {
		if k >= 0 {
			off[k+1]++
		}
	}
	for i := 1; i <= n; i++ {
		off[i] += off[i-1]
	}
	idx = make([]int32, off[n])
	next := slices.Clone(off[:n])
	for i, k := range key {
		if k >= 0 {
			idx[next[k]] = int32(i)
			next[k]++
		}
	}
	return off, idx
}

// permute reorders every column of e by perm (new row i = old row perm[i]).
func (e *events) permute(perm []int32) {
	e.res = gather(e.res, perm)
	e.day = gather(e.day, perm)
	e.known = gather(e.known, perm)
	e.end = gather(e.end, perm)
	e.prop = gather(e.prop, perm)
	e.ten = gather(e.ten, perm)
	e.line = gather(e.line, perm)
	e.hash = gather(e.hash, perm)
	for j := range e.codes {
		e.codes[j] = gather(e.codes[j], perm)
		e.nums[j] = gather(e.nums[j], perm)
		e.dates[j] = gather(e.dates[j], perm)
		e.strs[j] = gather(e.strs[j], perm)
	}
	e.n = len(perm)
}

func gather[T any](s []T, perm []int32) []T {
	if s == nil {
		return nil
	}
	out := make([]T, len(perm))
	for i, p := range perm {
		out[i] = s[p]
	}
	return out
}

// reserve grows every column's capacity to hold n rows.
func (e *events) reserve(n int) {
	grow(&e.res, n)
	grow(&e.day, n)
	grow(&e.known, n)
	grow(&e.end, n)
	grow(&e.prop, n)
	grow(&e.ten, n)
	grow(&e.line, n)
	grow(&e.hash, n)
	for j := range e.codes {
		grow(&e.codes[j], n)
		grow(&e.nums[j], n)
		grow(&e.dates[j], n)
		grow(&e.strs[j], n)
	}
}

func grow[T any](s *[]T, n int) {
	if *s != nil && cap(*s) < n {
		*s = slices.Grow(*s, n-len(*s))
	}
}
