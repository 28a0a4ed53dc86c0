package dataset

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sync/errgroup"
)

// Options say how to read a table.
type Options struct {
	// Label is the label column; empty when the caller needs no label (the
	// scorer). A named label that the file lacks is an error.
	Label string
	// Ignore names further columns to keep as strings rather than features.
	Ignore []string
	// Labels names further outcome columns (beside those named label_*):
	// never features, left unread and listed in Table.Ignored, unless one
	// is Label. The scorer names the model's own label here, so a table
	// that carries it is scored, not refused.
	Labels []string
	// Audit names columns holding protected characteristics, kept for
	// fairness audits: read as keys and listed in Table.Audit, as are
	// columns named audit_*.
	Audit []string
	// Threads bounds the goroutines parsing a CSV file; 0 means GOMAXPROCS.
	Threads int
}

// Read reads a CSV or Parquet table (Parquet when the name ends in
// .parquet) and the feature metadata file beside it, if there is one (see
// MetaPath).
func Read(ctx context.Context, path string, o Options) (*Table, error) {
	meta, err := ReadMeta(path)
	if err != nil {
		return nil, err
	}
	if meta != nil {
		o.Ignore = append(slices.Clone(o.Ignore), meta.IDs...)
		o.Audit = append(slices.Clone(o.Audit), meta.Audit...)
		o.Labels = append(slices.Clone(o.Labels), meta.Labels...)
	}
	var t *Table
	if strings.HasSuffix(strings.ToLower(path), ".parquet") {
		t, err = readParquetFile(ctx, path, o)
	} else {
		var data []byte
		data, err = readFile(path, threads(o.Threads))
		if err != nil {
			return nil, fmt.Errorf("read table: %w", err)
		}
		t, err = ReadCSV(ctx, filepath.Base(path), data, o)
	}
	if err != nil {
		return nil, err
	}
	if meta != nil {
		meta.attach(t)
	}
	return t, nil
}

// readFile reads a whole file, large ones in parts read at the same time
// (the copies out of the page cache, and the page faults of the buffer,
// then share the cores), and then on to the end, should the file have
// grown meanwhile.
func readFile(path string, parts int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	const minPart = 16 << 20
	if parts < 2 || size < 2*minPart || !st.Mode().IsRegular() {
		return io.ReadAll(f)
	}
	parts = min(parts, int(size/minPart))
	buf := make([]byte, size)
	var g errgroup.Group
	for k := range parts {
		lo, hi := size*int64(k)/int64(parts), size*int64(k+1)/int64(parts)
		g.Go(func() error {
			n, err := f.ReadAt(buf[lo:hi], lo)
			if err == io.EOF && int64(n) < hi-lo {
				return fmt.Errorf("%s: shrank while being read", path)
			}
			if err != nil && err != io.EOF {
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	rest, err := io.ReadAll(io.NewSectionReader(f, size, 1<<62))
	if err != nil {
		return nil, err
	}
	return append(buf, rest...), nil
}

// role is what a column is used for.
type role int

const (
	roleFeature role = iota
	roleKey
	roleLabel
	roleSkip
)

// plan assigns a role to each header column and checks the header.
func plan(source string, header []string, o Options) ([]role, error) {
	roles := make([]role, len(header))
	seen := make(map[string]int, len(header))
	foundLabel := o.Label == ""
	for j, name := range header {
		if name == "" {
			return nil, fmt.Errorf("%s: line 1, column %d: empty column name", source, j+1)
		}
		if k, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s: line 1: column %q appears twice (columns %d and %d)", source, name, k+1, j+1)
		}
		seen[name] = j
		switch {
		case name == o.Label:
			roles[j] = roleLabel
			foundLabel = true
		case isLabelName(name) || slices.Contains(o.Labels, name):
			roles[j] = roleSkip
		case isKeyName(name, o.Ignore) || isAuditName(name, o.Audit):
			roles[j] = roleKey
		default:
			roles[j] = roleFeature
		}
	}
	if !foundLabel {
		return nil, fmt.Errorf("%s: no label column %q (columns: %s)", source, o.Label, strings.Join(header, ", "))
	}
	return roles, nil
}

// missing reports whether a cell stands for a missing value.
func missing(b []byte) bool {
	switch string(b) {
	case "", "NA", "N/A", "NaN", "nan", "null", "NULL":
		return true
	}
	return false
}

// trimSpace trims ASCII spaces and tabs.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseNumber parses a finite decimal number without copying b.
func parseNumber(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	if v, ok := fastDecimal(b); ok {
		return v, true
	}
	// strconv copies the string into any error it returns, so the
	// zero-copy view never escapes.
	v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// fastDecimal parses the common case of a plain decimal ([+-]digits[.digits])
// with at most 19 significant digits, so that they fit in a uint64 m, and
// returns the correctly rounded float64 of ±m/10^k (k digits after the
// point), the same as strconv.ParseFloat's:
//
//   - m ≤ 2^53 and k ≤ 22: both are exact float64 values and one division
//     rounds correctly (Clinger's fast path);
//   - otherwise, k ≤ 19 (10^k fits in a uint64): an exact integer division
//     of m·2^s by 10^k gives the 53 bits of the result, a rounding bit and
//     whether anything is left (the sticky bit), rounded half to even.
//
// Anything else is left to strconv.
func fastDecimal(b []byte) (float64, bool) {
	i, neg := 0, false
	switch b[0] {
	case '-':
		neg, i = true, 1
	case '+':
		i = 1
	}
	// The digits, as one integer m (wrapping past 19 digits: checked below).
	var m uint64
	start := i
	for i < len(b) && b[i]-'0' <= 9 {
		m = m*10 + uint64(b[i]-'0')
		i++
	}
	intDigits, frac := i-start, 0
	if i < len(b) && b[i] == '.' {
		i++
		fs := i
		for i+8 <= len(b) {
			d, ok := eightDigits(b[i : i+8])
			if !ok {
				break
			}
			m = m*100_000_000 + d
			i += 8
		}
		for i < len(b) && b[i]-'0' <= 9 {
			m = m*10 + uint64(b[i]-'0')
			i++
		}
		frac = i - fs
	}
	if i != len(b) || intDigits+frac == 0 {
		return 0, false
	}
	if intDigits+frac > 19 {
		// Leading zeros are not significant; more than 19 digits that are
		// may not fit in 64 bits.
		sig := intDigits + frac
		for _, c := range b[start:] {
			if c == '0' || c == '.' {
				if c == '0' {
					sig--
				}
				continue
			}
			break
		}
		if sig > 19 {
			return 0, false
		}
	}
	var v float64
	switch {
	case m <= 1<<53 && frac <= 22:
		v = float64(m)
		if frac > 0 {
			v /= math.Pow10(frac)
		}
	case frac <= 19 && frac > 0:
		var ok bool
		if v, ok = divPow10(m, frac); !ok {
			return 0, false
		}
	default:
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// eightDigits returns the value of 8 ASCII digits, the first the most
// significant, or false when b holds anything else (eight bytes at once,
// as simdjson and fast_float do).
func eightDigits(b []byte) (uint64, bool) {
	v := binary.LittleEndian.Uint64(b)
	if ((v+0x4646464646464646)|(v-0x3030303030303030))&0x8080808080808080 != 0 {
		return 0, false
	}
	v -= 0x3030303030303030
	v = v*10 + v>>8 // pairs of digits in every other byte
	const mask = 0x000000FF000000FF
	v = ((v&mask)*(100+1_000_000<<32) + ((v>>16)&mask)*(1+10_000<<32)) >> 32
	return v, true
}

// pow10u holds 10^k for k = 0..19, the powers that fit in a uint64.
var pow10u = func() (p [20]uint64) {
	p[0] = 1
	for k := 1; k < len(p); k++ {
		p[k] = p[k-1] * 10
	}
	return p
}()

// divPow10 returns m/10^k correctly rounded (half to even), for m > 2^53
// and 1 ≤ k ≤ 19, when the result is below 2^53 (ok false otherwise).
func divPow10(m uint64, k int) (float64, bool) {
	d := pow10u[k]
	// With s = 53 - len(m) + len(d), m·2^s/d lies in (2^52, 2^54).
	s := 53 - bits.Len64(m) + bits.Len64(d)
	if s < 0 {
		return 0, false // m/d ≥ 2^53: a large integer part
	}
	var hi, lo uint64
	switch {
	case s >= 64:
		hi = m << (s - 64)
	case s > 0:
		hi, lo = m>>(64-s), m<<s
	default:
		lo = m
	}
	q, r := bits.Div64(hi, lo, d) // hi < d since the quotient is < 2^54
	if q < 1<<53 {
		// One more bit: q' = ⌊m·2^(s+1)/d⌋ = 2q + (2r ≥ d), r' = 2r mod d.
		s++
		q <<= 1
		if r >= d-r {
			q |= 1
			r -= d - r
		} else {
			r <<= 1
		}
	}
	// q has 54 bits: 53 of the result and the rounding bit.
	mant, round := q>>1, q&1
	if round == 1 && (r != 0 || mant&1 == 1) {
		mant++
	}
	// mant·2^(1-s), 2^(1-s) a normal power of two (s ≤ 117): exact.
	return float64(mant) * math.Float64frombits(uint64(1023+1-s)<<52), true
}

// isISODate reports whether b is a valid YYYY-MM-DD date.
func isISODate(b []byte) bool {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return false
	}
	_, err := time.Parse(time.DateOnly, string(b))
	return err == nil
}

// colStats gathers, for one candidate feature column over a range of rows,
// what is needed to decide the column's role and report a bad value.
type colStats struct {
	hasNum, hasDate bool
	firstText       int // row of the first non-numeric value, -1 if none
	textVal         string
	firstBad        int // row of the first value neither number nor date
	badVal          string
}

func newColStats() colStats { return colStats{firstText: -1, firstBad: -1} }

// cell parses one text cell of a candidate feature column into col[r].
func (s *colStats) cell(col []float64, r int, b []byte) {
	b = trimSpace(b)
	if missing(b) {
		col[r] = math.NaN()
		return
	}
	if v, ok := parseNumber(b); ok {
		col[r] = v
		s.hasNum = true
		return
	}
	col[r] = math.NaN()
	if s.firstText < 0 {
		s.firstText, s.textVal = r, string(b)
	}
	if isISODate(b) {
		s.hasDate = true
	} else if s.firstBad < 0 {
		s.firstBad, s.badVal = r, string(b)
	}
}

// merge folds the stats of a later row range into s.
func (s *colStats) merge(o colStats) {
	s.hasNum = s.hasNum || o.hasNum
	s.hasDate = s.hasDate || o.hasDate
	if s.firstText < 0 && o.firstText >= 0 {
		s.firstText, s.textVal = o.firstText, o.textVal
	}
	if s.firstBad < 0 && o.firstBad >= 0 {
		s.firstBad, s.badVal = o.firstBad, o.badVal
	}
}

// cellError is a bad value at a data row (0-based, after the header).
type cellError struct {
	row    int
	column string
	value  string
	why    string
}

// decide returns whether the column is a date column (kept as strings) or
// a feature, or the error for its first bad value.
func (s *colStats) decide(name string) (isDate bool, err *cellError) {
	switch {
	case s.firstText < 0:
		return false, nil
	case !s.hasNum && s.hasDate && s.firstBad < 0:
		return true, nil
	case s.hasNum:
		return false, &cellError{s.firstText, name, s.textVal, "is not a number"}
	case s.hasDate:
		return false, &cellError{s.firstBad, name, s.badVal, "is neither a number nor an ISO date (YYYY-MM-DD)"}
	default:
		return false, &cellError{s.firstText, name, s.textVal,
			"is not a number; the column holds text: name it in --ignore to keep it out of the features"}
	}
}

// parseLabel parses a label cell: 0, 1, or missing (NaN).
func parseLabel(b []byte) (float64, bool) {
	b = trimSpace(b)
	if missing(b) {
		return math.NaN(), true
	}
	v, ok := parseNumber(b)
	if !ok || (v != 0 && v != 1) {
		return 0, false
	}
	return v, true
}

// assemble builds the table from parsed columns once roles are final.
type assembled struct {
	header []string
	roles  []role
	audit  []string    // Options.Audit
	nums   [][]float64 // per header column, for features and the label
	strs   [][]string  // per header column, for keys
}

func (a *assembled) table(source string, rows int, label string) *Table {
	t := &Table{Source: source, rows: rows, LabelName: label}
	for j, name := range a.header {
		switch a.roles[j] {
		case roleFeature:
			t.Names = append(t.Names, name)
			t.Cols = append(t.Cols, a.nums[j])
			t.Meta = append(t.Meta, FeatureMeta{Name: name})
		case roleKey:
			t.Keys = append(t.Keys, KeyColumn{Name: name, Values: a.strs[j]})
			if isAuditName(name, a.audit) {
				t.Audit = append(t.Audit, name)
			}
		case roleLabel:
			t.Label = a.nums[j]
		case roleSkip:
			t.Ignored = append(t.Ignored, name)
		}
	}
	return t
}

func threads(n int) int {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return max(n, 1)
}

// sortedCopy returns a sorted copy of names (for stable error text).
func sortedCopy(names []string) []string {
	s := slices.Clone(names)
	slices.Sort(s)
	return s
}
