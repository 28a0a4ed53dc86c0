package contract

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Writer writes the rows of one contract file as CSV, in the contract's
// column order and with each value formatted as its column's type demands.
// A value of the wrong type, a code the column does not allow, or a missing
// required value is an error that names the file, the row and the column,
// so a producer (such as the synthetic borough) cannot write a row the
// loader would reject.
//
// Setters record the first error; WriteRow and Err report it. A Writer is
// not safe for concurrent use; use one per goroutine.
type Writer struct {
	file   *File
	w      io.Writer
	index  map[string]int
	codes  []map[string]bool // allowed codes (current and legacy) per Code column
	quote  []bool            // whether a column's values may need CSV quoting
	fields [][]byte
	set    []bool
	line   []byte
	rows   int
	err    error
}

// NewWriter returns a Writer for file f that writes to w. It writes no
// header; call WriteHeader first when w starts a new file.
func NewWriter(w io.Writer, f *File) *Writer {
	wr := &Writer{
		file:   f,
		w:      w,
		index:  make(map[string]int, len(f.Columns)),
		codes:  make([]map[string]bool, len(f.Columns)),
		fields: make([][]byte, len(f.Columns)),
		set:    make([]bool, len(f.Columns)),
		quote:  make([]bool, len(f.Columns)),
	}
	for i, c := range f.Columns {
		wr.index[c.Name] = i
		wr.quote[i] = c.Type == String
		if c.Type == Code {
			m := make(map[string]bool, len(c.Codes)+len(c.Legacy))
			for _, code := range c.Codes {
				m[code] = true
			}
			for code := range c.Legacy {
				m[code] = true
			}
			for code := range m {
				if needsQuote([]byte(code)) {
					wr.quote[i] = true
				}
			}
			wr.codes[i] = m
		}
	}
	return wr
}

// WriteHeader writes the header row: the column names in contract order.
func (w *Writer) WriteHeader() error {
	if _, err := io.WriteString(w.w, strings.Join(w.file.Header(), ",")+"\n"); err != nil {
		return fmt.Errorf("%s: write header: %w", w.file.Name, err)
	}
	return nil
}

// File returns the contract file the Writer writes.
func (w *Writer) File() *File { return w.file }

// Rows returns the number of rows written so far (duplicates included).
func (w *Writer) Rows() int { return w.rows }

// Err returns the first error met, if any.
func (w *Writer) Err() error { return w.err }

// fail records the first error, naming the file, the row (counted from 1,
// header excluded) and the column.
func (w *Writer) fail(col, reason string) {
	if w.err == nil {
		w.err = fmt.Errorf("%s: row %d: column %s: %s", w.file.Name, w.rows+1, col, reason)
	}
}

// lookup returns the index of the named column. A linear scan beats a map
// for the few columns of a contract file.
func (w *Writer) lookup(name string) (int, bool) {
	if len(w.file.Columns) > 16 {
		i, ok := w.index[name]
		return i, ok
	}
	for i := range w.file.Columns {
		if w.file.Columns[i].Name == name {
			return i, true
		}
	}
	return 0, false
}

// slot returns the index of the named column, checking its type.
func (w *Writer) slot(name string, t Type) (int, bool) {
	i, ok := w.lookup(name)
	if !ok {
		w.fail(name, "no such column in the contract")
		return 0, false
	}
	if got := w.file.Columns[i].Type; got != t {
		w.fail(name, fmt.Sprintf("column is %s, value is %s", got, t))
		return 0, false
	}
	w.set[i] = true
	w.fields[i] = w.fields[i][:0]
	return i, true
}

// SetString sets a String column. An empty string is a missing value.
func (w *Writer) SetString(name, s string) {
	if i, ok := w.slot(name, String); ok {
		if strings.ContainsAny(s, "\r\n") {
			w.fail(name, "value contains a line break")
			return
		}
		w.fields[i] = append(w.fields[i], s...)
	}
}

// SetInt sets an Int column.
func (w *Writer) SetInt(name string, v int64) {
	if i, ok := w.slot(name, Int); ok {
		w.fields[i] = strconv.AppendInt(w.fields[i], v, 10)
	}
}

// SetFloat sets a Float column with the given number of decimals. NaN and
// infinities are errors: write a missing value by not setting the column.
func (w *Writer) SetFloat(name string, v float64, decimals int) {
	if i, ok := w.slot(name, Float); ok {
		if v != v || v > 1e300 || v < -1e300 {
			w.fail(name, fmt.Sprintf("value %v is not a finite decimal", v))
			return
		}
		w.fields[i] = strconv.AppendFloat(w.fields[i], v, 'f', decimals, 64)
	}
}

// Earliest and latest dates a Writer writes: the loader's range.
var (
	minWriteDay = MakeDay(1800, 1, 1)
	maxWriteDay = MakeDay(9999, 12, 31)
)

// SetDate sets a Date column. NoDay and dates outside 1800–9999 are errors:
// write a missing date by not setting the column.
func (w *Writer) SetDate(name string, d Day) {
	if i, ok := w.slot(name, Date); ok {
		if d < minWriteDay || d > maxWriteDay {
			w.fail(name, fmt.Sprintf("day %d is outside 1800-01-01 to 9999-12-31", int32(d)))
			return
		}
		w.fields[i] = d.AppendFormat(w.fields[i])
	}
}

// SetCode sets a Code column; the code must be one of the column's codes or
// legacy codes.
func (w *Writer) SetCode(name, code string) {
	if i, ok := w.slot(name, Code); ok {
		if !w.codes[i][code] {
			w.fail(name, fmt.Sprintf("code %q is not allowed", code))
			return
		}
		w.fields[i] = append(w.fields[i], code...)
	}
}

// SetBool sets a Bool column to Y or N.
func (w *Writer) SetBool(name string, b bool) {
	if i, ok := w.slot(name, Bool); ok {
		if b {
			w.fields[i] = append(w.fields[i], 'Y')
		} else {
			w.fields[i] = append(w.fields[i], 'N')
		}
	}
}

// WriteRow checks that every required column was set, writes the row and
// clears it for the next. It returns the first error met since the Writer
// was made; after an error nothing more is written.
func (w *Writer) WriteRow() error {
	if w.err != nil {
		return w.err
	}
	for i, c := range w.file.Columns {
		if c.Required && (!w.set[i] || len(w.fields[i]) == 0) {
			w.fail(c.Name, "required value missing")
			return w.err
		}
	}
	w.line = w.line[:0]
	for i := range w.fields {
		if i > 0 {
			w.line = append(w.line, ',')
		}
		switch {
		case !w.set[i]:
		case w.quote[i]:
			w.line = appendField(w.line, w.fields[i])
		default: // numbers, dates, Y/N and plain codes never need quotes
			w.line = append(w.line, w.fields[i]...)
		}
		w.set[i] = false
	}
	w.line = append(w.line, '\n')
	return w.flushLine()
}

// RepeatRow writes the last row again: an exact duplicate, as real extracts
// sometimes hold.
func (w *Writer) RepeatRow() error {
	if w.err != nil {
		return w.err
	}
	if w.rows == 0 {
		w.fail("", "no row to repeat")
		return w.err
	}
	return w.flushLine()
}

func (w *Writer) flushLine() error {
	if _, err := w.w.Write(w.line); err != nil {
		w.err = fmt.Errorf("%s: row %d: %w", w.file.Name, w.rows+1, err)
		return w.err
	}
	w.rows++
	return nil
}

// needsQuote reports whether a CSV field must be quoted: it holds a comma
// or a quote, or starts or ends with a space.
func needsQuote(v []byte) bool {
	if len(v) > 0 && (v[0] == ' ' || v[len(v)-1] == ' ') {
		return true
	}
	return bytes.IndexByte(v, ',') >= 0 || bytes.IndexByte(v, '"') >= 0
}

// appendField appends one CSV field, quoted (RFC 4180) when it holds a
// comma, a quote or leading/trailing space.
func appendField(dst, v []byte) []byte {
	if !needsQuote(v) {
		return append(dst, v...)
	}
	dst = append(dst, '"')
	for _, c := range v {
		if c == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}
