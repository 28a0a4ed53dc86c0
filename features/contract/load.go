package contract

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// RowError is a row that breaks the contract: where it is and why. Values
// of personal-data columns are never copied into it.
type RowError struct {
	File   string // file name as opened
	Line   int    // 1-based physical line of the row's start; the header is line 1
	Column string // the column at fault; empty for a whole-row fault
	Value  string // the offending value (empty for personal-data columns)
	Reason string
	// Lines is the number of physical lines the record spans when more
	// than one (a quoted field ran over line ends); 0 otherwise.
	Lines int
	// structure marks a fault of the CSV itself (quoting, field count,
	// header) rather than of a value.
	structure bool
}

func (e *RowError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d", e.File, e.Line)
	if e.Column != "" {
		fmt.Fprintf(&b, ": column %s", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.Value != "" {
		fmt.Fprintf(&b, " (value %q)", e.Value)
	}
	if e.Lines > 1 {
		fmt.Fprintf(&b, " (the record spans lines %d to %d)", e.Line, e.Line+e.Lines-1)
	}
	return b.String()
}

// RejectsHeader returns the column names of a rejects file; RowError.Record
// gives its rows.
func RejectsHeader() []string { return []string{"file", "line", "column", "value", "reason"} }

// Record returns the error as a rejects-file row (see RejectsHeader).
func (e *RowError) Record() []string {
	return []string{e.File, strconv.Itoa(e.Line), e.Column, e.Value, e.Reason}
}

// Row is one validated row. Its slices are indexed by the contract's column
// order (File.Columns), whatever the order in the CSV file, and are reused by
// the next call to Reader.Next: copy what must outlive it.
type Row struct {
	Line int
	// Str holds every value as text: codes normalised to current codes,
	// "" where missing.
	Str []string
	// Num holds Int, Float and Bool (Y=1, N=0) columns; NaN where missing
	// or for other types.
	Num []float64
	// Day holds Date columns; NoDay where missing or for other types.
	Day []Day
}

// Reader streams the rows of one contract file, validating each one.
type Reader struct {
	file   *File
	name   string
	br     *bufio.Reader
	closer io.Closer
	line   int // physical line number of the last line read

	pos     []int // for each contract column, its index in the CSV header; -1 if absent
	nfields int   // number of header fields
	extra   []string
	missing []string

	codes  []map[string]string // per contract column: allowed and legacy code -> current code
	idCol  []bool              // per contract column: an identifier (a key, or named *_id)
	fields []string
	row    Row
	buf    []byte

	count  FileCount // what the reading gave so far
	broken *RowError // the first fault that breaks the file as a whole
}

// Open opens dir/f.Name for reading against f. The header is read and
// checked at once: a missing required column or a repeated column name is
// an error naming the file and line 1.
func Open(dir string, f *File) (*Reader, error) {
	path := filepath.Join(dir, f.Name)
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", f.Name, err)
	}
	r, err := NewReader(fh, f.Name, f)
	if err != nil {
		fh.Close()
		return nil, err
	}
	r.closer = fh
	return r, nil
}

// NewReader reads CSV from src against f; name is used in errors.
func NewReader(src io.Reader, name string, f *File) (*Reader, error) {
	r := &Reader{file: f, name: name, br: bufio.NewReaderSize(src, 1<<20)}
	header, err := r.readRecord()
	if err == io.EOF {
		return nil, &RowError{File: name, Line: 1, Reason: "empty file: no header row", structure: true}
	}
	if err != nil {
		var re *RowError
		if errors.As(err, &re) {
			re.Reason = "the header row cannot be read: " + re.Reason
		}
		return nil, err
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	at := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := at[h]; dup {
			return nil, &RowError{File: name, Line: 1, Column: h, Reason: "column appears twice in the header", structure: true}
		}
		at[h] = i
	}
	r.nfields = len(header)
	r.pos = make([]int, len(f.Columns))
	r.codes = make([]map[string]string, len(f.Columns))
	r.idCol = make([]bool, len(f.Columns))
	var missingReq []string
	for j, c := range f.Columns {
		p, ok := at[c.Name]
		if !ok {
			p = -1
			if c.Required {
				missingReq = append(missingReq, c.Name)
			} else {
				r.missing = append(r.missing, c.Name)
			}
		}
		delete(at, c.Name)
		r.pos[j] = p
		r.idCol[j] = c.Type == String && (strings.HasSuffix(c.Name, "_id") || slices.Contains(f.Key, c.Name))
		if c.Type == Code {
			m := make(map[string]string, len(c.Codes)+len(c.Legacy))
			for _, v := range c.Codes {
				m[v] = v
			}
			for old, cur := range c.Legacy {
				m[old] = cur
			}
			r.codes[j] = m
		}
	}
	if len(missingReq) > 0 {
		return nil, &RowError{File: name, Line: 1, Column: strings.Join(missingReq, ","),
			Reason:    fmt.Sprintf("header lacks required column(s) %s; it has %s", strings.Join(missingReq, ", "), strings.Join(header, ", ")),
			structure: true}
	}
	for h := range at {
		r.extra = append(r.extra, h)
	}
	slices.Sort(r.extra)
	n := len(f.Columns)
	r.row = Row{Str: make([]string, n), Num: make([]float64, n), Day: make([]Day, n)}
	r.count = FileCount{File: name, Present: true}
	return r, nil
}

// Extra returns the header's columns that the contract does not name; their
// values are ignored.
func (r *Reader) Extra() []string { return r.extra }

// Missing returns the contract's optional columns absent from the header;
// they read as missing values.
func (r *Reader) Missing() []string { return r.missing }

// Line returns the physical line number of the last line read.
func (r *Reader) Line() int { return r.line }

// Close closes the underlying file, if the Reader opened it.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Next returns the next row. At the end it returns io.EOF. A row that breaks
// the contract yields a *RowError (and a nil Row); reading may go on with
// the next call. Any other error is an I/O failure and ends the reading.
// Blank lines are skipped. Counts and Fault say what the reading gave.
func (r *Reader) Next() (*Row, error) {
	for {
		start := r.line + 1
		rec, err := r.readRecord()
		if err != nil {
			var re *RowError
			if errors.As(err, &re) {
				r.reject(re, start)
			}
			return nil, err
		}
		if len(rec) == 1 && rec[0] == "" {
			continue // blank line
		}
		r.row.Line = start
		if len(rec) != r.nfields {
			re := &RowError{File: r.name, Line: start, structure: true,
				Reason: fmt.Sprintf("row has %d fields, the header has %d", len(rec), r.nfields)}
			r.reject(re, start)
			return nil, re
		}
		if re := r.fill(rec, start); re != nil {
			r.reject(re, start)
			return nil, re
		}
		r.count.Rows++
		return &r.row, nil
	}
}

// reject counts a rejected record that started on line start and ended on
// the line last read: every physical line it spans is lost. A fault of the
// CSV's structure in a record that spans lines (a quote left open
// swallows the lines after it) breaks the file as a whole.
func (r *Reader) reject(re *RowError, start int) {
	lines := max(r.line-start+1, 1)
	if lines > 1 {
		re.Lines = lines
	}
	r.count.Rows++
	r.count.Rejected++
	r.count.Lost += lines
	if re.structure && (lines > 1 || strings.HasPrefix(re.Reason, unclosedQuote)) && r.broken == nil {
		r.broken = re
		r.count.Fault = re.Error()
	}
}

// Counts returns what the reading gave so far: rows read, rejected, and
// physical lines lost.
func (r *Reader) Counts() FileCount { return r.count }

// Fault returns the first fault found so far that breaks the file as a
// whole (broken quoting); nil when there is none.
func (r *Reader) Fault() *RowError { return r.broken }

func (r *Reader) fill(rec []string, line int) *RowError {
	row := &r.row
	for j := range r.file.Columns {
		c := &r.file.Columns[j]
		row.Num[j] = math.NaN()
		row.Day[j] = NoDay
		p := r.pos[j]
		if p < 0 {
			row.Str[j] = ""
			continue
		}
		v := rec[p]
		if v == "" {
			row.Str[j] = ""
			if c.Required {
				return r.fault(line, c, "", "required value is missing")
			}
			continue
		}
		row.Str[j] = v
		if r.idCol[j] && strings.ContainsAny(v, "\r\n") {
			// An identifier never holds a line break: a quote opened in
			// it ran over the lines after it.
			re := r.fault(line, c, "", "a line break inside an identifier: a quote left open ran over the lines after it")
			re.structure = true
			return re
		}
		switch c.Type {
		case Int:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return r.fault(line, c, v, "not an integer")
			}
			row.Num[j] = float64(n)
		case Float:
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return r.fault(line, c, v, "not a finite decimal number")
			}
			row.Num[j] = x
		case Date:
			d, ok := parseDayBytes(v)
			if !ok {
				return r.fault(line, c, v, "not a valid date in YYYY-MM-DD form")
			}
			row.Day[j] = d
		case Bool:
			switch v {
			case "Y":
				row.Num[j] = 1
			case "N":
				row.Num[j] = 0
			default:
				return r.fault(line, c, v, "not Y or N")
			}
		case Code:
			cur, ok := r.codes[j][v]
			if !ok {
				return r.fault(line, c, v, "unknown code; allowed: "+strings.Join(c.Codes, ", "))
			}
			row.Str[j] = cur
		}
	}
	return nil
}

func (r *Reader) fault(line int, c *Column, v, reason string) *RowError {
	if c.Personal {
		v = ""
	}
	return &RowError{File: r.name, Line: line, Column: c.Name, Value: v, Reason: reason}
}

// readRecord reads one CSV record (RFC 4180: quoted fields may hold commas,
// doubled quotes and newlines). Fields are substrings of one string per
// record, so a record costs one allocation.
func (r *Reader) readRecord() ([]string, error) {
	line, err := r.readLine()
	if err != nil {
		return nil, err
	}
	if bytes.IndexByte(line, '"') < 0 {
		s := string(line)
		r.fields = r.fields[:0]
		for {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				r.fields = append(r.fields, s)
				return r.fields, nil
			}
			r.fields = append(r.fields, s[:i])
			s = s[i+1:]
		}
	}
	return r.readQuoted(line)
}

// readLine returns the next physical line without its line ending. The
// slice is valid until the next read.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.buf = append(r.buf[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = r.br.ReadSlice('\n')
			r.buf = append(r.buf, line...)
		}
		line = r.buf
	}
	if err == io.EOF {
		if len(line) == 0 {
			return nil, io.EOF
		}
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s after line %d: %w", r.name, r.line, err)
	}
	r.line++
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return line, nil
}

// unclosedQuote is the reason of a quoted field left open to the end of the file.
const unclosedQuote = "quoted field is not closed before the end of the file"

func (r *Reader) readQuoted(first []byte) ([]string, error) {
	start := r.line
	var b []byte
	var ends []int // field end offsets in b
	cur := append([]byte(nil), first...)
	i := 0
	for {
		// At the start of a field.
		if i < len(cur) && cur[i] == '"' {
			i++
			for {
				j := bytes.IndexByte(cur[i:], '"')
				if j < 0 {
					b = append(b, cur[i:]...)
					b = append(b, '\n')
					next, err := r.readLine()
					if err == io.EOF {
						return nil, &RowError{File: r.name, Line: start, Reason: unclosedQuote, structure: true}
					}
					if err != nil {
						return nil, err
					}
					cur, i = append(cur[:0], next...), 0
					continue
				}
				b = append(b, cur[i:i+j]...)
				i += j + 1
				if i < len(cur) && cur[i] == '"' {
					b = append(b, '"')
					i++
					continue
				}
				break
			}
			if i < len(cur) && cur[i] != ',' {
				return nil, &RowError{File: r.name, Line: start, Reason: fmt.Sprintf("unexpected character %q after a closing quote", cur[i]), structure: true}
			}
		} else {
			j := bytes.IndexByte(cur[i:], ',')
			if j < 0 {
				j = len(cur) - i
			}
			field := cur[i : i+j]
			if bytes.IndexByte(field, '"') >= 0 {
				return nil, &RowError{File: r.name, Line: start, Reason: "a quote inside an unquoted field", structure: true}
			}
			b = append(b, field...)
			i += j
		}
		ends = append(ends, len(b))
		if i >= len(cur) {
			break
		}
		i++ // the comma
		if i == len(cur) {
			ends = append(ends, len(b)) // trailing empty field
			break
		}
	}
	s := string(b)
	r.fields = r.fields[:0]
	prev := 0
	for _, e := range ends {
		r.fields = append(r.fields, s[prev:e])
		prev = e
	}
	return r.fields, nil
}

// FileReport is what validating one file found.
type FileReport struct {
	File     string     `json:"file"`
	Present  bool       `json:"present"`
	Rows     int        `json:"rows"`            // data rows read
	Rejected int        `json:"rejected"`        // rows that broke the contract
	Lost     int        `json:"lost_lines"`      // physical lines not used (see FileCount)
	Fault    string     `json:"fault,omitempty"` // why the file cannot be read as a whole
	Extra    []string   `json:"extra_columns,omitempty"`
	Missing  []string   `json:"missing_optional_columns,omitempty"`
	Errors   []RowError `json:"errors,omitempty"` // the first MaxErrors faults
}

// DirReport is what validating a directory found, file by file in contract order.
type DirReport struct {
	ContractVersion string       `json:"contract_version"`
	Files           []FileReport `json:"files"`
}

// OK reports whether every required file is present and no row was rejected.
func (d *DirReport) OK() bool {
	for _, f := range d.Files {
		if f.Rejected > 0 || f.Fault != "" || (!f.Present && requiredFile(f.File)) {
			return false
		}
	}
	return true
}

// MaxErrors is how many row errors a FileReport keeps per file.
const MaxErrors = 20

// requiredFile reports whether a directory of joined data must hold the
// file: the index itself (residents, residences, properties). A council
// may lack any one service extract; the builder then reports it absent.
func requiredFile(name string) bool {
	switch name {
	case "residents.csv", "residences.csv", "properties.csv":
		return true
	}
	return false
}

// RequiredFile reports whether a directory of joined data must hold the named file.
func RequiredFile(name string) bool { return requiredFile(name) }

// ValidateDir reads every file of c in dir and reports, per file, the rows
// read and rejected with the first errors. It returns an error only when
// reading fails (or ctx ends); contract breaches are in the report.
func ValidateDir(ctx context.Context, dir string, c *Contract) (*DirReport, error) {
	rep := &DirReport{ContractVersion: c.Version}
	for i := range c.Files {
		f := &c.Files[i]
		fr := FileReport{File: f.Name}
		r, err := Open(dir, f)
		if errors.Is(err, os.ErrNotExist) {
			rep.Files = append(rep.Files, fr)
			continue
		}
		fr.Present = true
		var re *RowError
		if errors.As(err, &re) {
			fc, err := Unread(dir, f, re)
			if err != nil {
				return nil, err
			}
			fr.Rejected++
			fr.Lost, fr.Fault = fc.Lost, fc.Fault
			fr.Errors = append(fr.Errors, *re)
			rep.Files = append(rep.Files, fr)
			continue
		}
		if err != nil {
			return nil, err
		}
		fr.Extra, fr.Missing = r.Extra(), r.Missing()
		for {
			if fr.Rows%65536 == 0 {
				if err := ctx.Err(); err != nil {
					r.Close()
					return nil, err
				}
			}
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			fr.Rows++
			if errors.As(err, &re) {
				fr.Rejected++
				if len(fr.Errors) < MaxErrors {
					fr.Errors = append(fr.Errors, *re)
				}
				continue
			}
			if err != nil {
				r.Close()
				return nil, err
			}
		}
		r.Close()
		fr.Lost, fr.Fault = r.Counts().Lost, r.Counts().Fault
		rep.Files = append(rep.Files, fr)
	}
	return rep, nil
}
