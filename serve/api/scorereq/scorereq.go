// Package scorereq decodes and checks the body of a scoring request,
//
//	{"rows": [{"<feature>": number|null, ...}, ...], "reasons": K}
//
// strictly: every feature the model needs must be present in every row, no
// other key is allowed, values must be finite JSON numbers (null marks a
// value that is not known and is scored as missing), and "reasons" must be a
// whole number between 0 and the configured maximum. Each rejected field is
// named by its path, e.g. rows[2].rent_arrears_gbp, so the caller can fix it.
//
// The body is parsed by a small hand-written JSON reader for this one shape
// (the scoring endpoint's hot path); it follows RFC 8259's grammar for
// strings, numbers and literals and rejects anything else with the byte
// offset and the field being read.
package scorereq

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"caserisk/serve/api/problem"
)

// Schema is the model's input: the feature names in row order.
type Schema interface {
	// Index returns the position of feature name in a row.
	Index(name string) (int, bool)
	// NumFeatures is the length of a row.
	NumFeatures() int
	// Features lists the feature names in row order.
	Features() []string
}

// byteIndexer is a Schema that looks a name up without converting it to a
// string (no allocation per feature on the hot path).
type byteIndexer interface {
	IndexBytes(name []byte) (int, bool)
}

// Limits bounds a request.
type Limits struct {
	MaxRows    int // most rows in one request
	MaxReasons int // largest "reasons"
}

// Request is a decoded scoring request.
type Request struct {
	// Rows holds len(Rows) rows of NumFeatures values each; NaN marks a
	// value sent as null.
	Rows [][]float64
	// Reasons is how many reasons to return per row (0: none).
	Reasons int
}

// maxFieldErrors bounds how many field errors one response lists.
const maxFieldErrors = 20

// TooManyRowsError reports a request with more rows than allowed; the API
// answers it with 413 Content Too Large.
type TooManyRowsError struct{ Max int }

func (e *TooManyRowsError) Error() string {
	return fmt.Sprintf("rows: more than %d rows in one request", e.Max)
}

// FieldErrors is a list of rejected fields; the API answers it with 400.
type FieldErrors []problem.FieldError

func (e FieldErrors) Error() string {
	if len(e) == 0 {
		return "invalid request"
	}
	s := e[0].Error()
	if len(e) > 1 {
		s += fmt.Sprintf(" (and %d more)", len(e)-1)
	}
	return s
}

// Decode reads one request from r. It returns a *TooManyRowsError, a
// FieldErrors listing the rejected fields, or a wrapped read error (such as
// *http.MaxBytesError when the body is over its limit).
func Decode(r io.Reader, s Schema, lim Limits) (*Request, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	return Bytes(b, s, lim)
}

// Bytes decodes a request held in memory.
func Bytes(b []byte, s Schema, lim Limits) (*Request, error) {
	p := &parser{b: b, s: s, lim: lim}
	req, err := p.request()
	if err != nil {
		return nil, err
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return req, nil
}

type parser struct {
	b    []byte
	i    int
	s    Schema
	lim  Limits
	errs FieldErrors
	key  []byte // scratch for keys with escapes
}

func (p *parser) fail(field, format string, args ...any) {
	if len(p.errs) < maxFieldErrors {
		p.errs = append(p.errs, problem.FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
}

// syntax reports malformed JSON at the current offset while reading field.
func (p *parser) syntax(field, what string) error {
	if p.i >= len(p.b) {
		return FieldErrors{{Field: field, Detail: "malformed JSON: body ends early"}}
	}
	c := p.b[p.i]
	shown := strconv.QuoteRune(rune(c))
	if c >= utf8.RuneSelf {
		shown = fmt.Sprintf("byte 0x%02x", c)
	}
	return FieldErrors{{Field: field, Detail: fmt.Sprintf("malformed JSON at byte %d: %s, found %s", p.i, what, shown)}}
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (p *parser) peek() byte {
	p.ws()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// expect consumes c or fails.
func (p *parser) expect(c byte, field, what string) error {
	if p.peek() != c {
		return p.syntax(field, what)
	}
	p.i++
	return nil
}

// str reads a string and returns its bytes (valid until the next call).
func (p *parser) str(field string) ([]byte, error) {
	if p.peek() != '"' {
		return nil, p.syntax(field, "expected a string")
	}
	p.i++
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !utf8.Valid(s) {
				return nil, FieldErrors{{Field: field, Detail: fmt.Sprintf("malformed JSON at byte %d: string is not UTF-8", start)}}
			}
			return s, nil
		case c == '\\':
			return p.escaped(field, start)
		case c < 0x20:
			return nil, p.syntax(field, "control character in a string")
		}
		p.i++
	}
	return nil, p.syntax(field, "unterminated string")
}

// escaped finishes a string with escapes, starting over from start.
func (p *parser) escaped(field string, start int) ([]byte, error) {
	out := append(p.key[:0], p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			p.key = out
			if !utf8.Valid(out) {
				return nil, FieldErrors{{Field: field, Detail: fmt.Sprintf("malformed JSON at byte %d: string is not UTF-8", start)}}
			}
			return out, nil
		case c < 0x20:
			return nil, p.syntax(field, "control character in a string")
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.b) {
			return nil, p.syntax(field, "unterminated string")
		}
		switch e := p.b[p.i]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4(p.i + 1)
			if !ok {
				return nil, p.syntax(field, `bad \u escape`)
			}
			p.i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if p.i+2 < len(p.b) && p.b[p.i+1] == '\\' && p.b[p.i+2] == 'u' {
					r2, ok = p.hex4(p.i + 3)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					p.i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, p.syntax(field, "bad escape in a string")
		}
		p.i++
	}
	return nil, p.syntax(field, "unterminated string")
}

func (p *parser) hex4(at int) (rune, bool) {
	if at+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number reads a JSON number and returns its text.
func (p *parser) number(field string) ([]byte, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.b) && p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case digits() == 0:
		return nil, p.syntax(field, "expected a digit")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.syntax(field, "expected a digit after the decimal point")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.syntax(field, "expected a digit in the exponent")
		}
	}
	return p.b[start:p.i], nil
}

// literal consumes word (true, false, null) or fails.
func (p *parser) literal(field, word string) error {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return p.syntax(field, "expected a value")
	}
	p.i += len(word)
	return nil
}

// scalar reads a value that should be a number or null. It returns the
// number and whether it was null; a string or boolean is recorded as a
// field error (ok false, nil error); an object, array or bad syntax is
// returned as an error.
func (p *parser) scalar(field string) (v float64, isNull, ok bool, err error) {
	switch c := p.peek(); {
	case c == 'n':
		return 0, true, true, p.literal(field, "null")
	case c == '-' || c >= '0' && c <= '9':
		num, err := p.number(field)
		if err != nil {
			return 0, false, false, err
		}
		x, perr := strconv.ParseFloat(string(num), 64)
		if perr != nil && !errors.Is(perr, strconv.ErrRange) || math.IsInf(x, 0) {
			p.fail(field, "number %s is out of range", num)
			return 0, false, false, nil
		}
		return x, false, true, nil
	case c == 't' || c == 'f':
		word := map[byte]string{'t': "true", 'f': "false"}[c]
		if err := p.literal(field, word); err != nil {
			return 0, false, false, err
		}
		p.fail(field, "must be a number or null, got boolean %s", word)
		return 0, false, false, nil
	case c == '"':
		s, err := p.str(field)
		if err != nil {
			return 0, false, false, err
		}
		got := "a string"
		if len(s) <= 20 {
			got = "string " + strconv.Quote(string(s))
		}
		p.fail(field, "must be a number or null, got %s", got)
		return 0, false, false, nil
	case c == '{' || c == '[':
		return 0, false, false, FieldErrors{{Field: field, Detail: fmt.Sprintf("must be a number or null, got %q", string(c))}}
	}
	return 0, false, false, p.syntax(field, "expected a value")
}

// scalarAt is scalar with the field's name built only on an error.
func (p *parser) scalarAt(field func() string) (v float64, isNull, ok bool, err error) {
	switch c := p.peek(); {
	case c == 'n' && len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "null":
		p.i += 4
		return 0, true, true, nil
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		num, err := p.number("")
		if err == nil {
			x, perr := strconv.ParseFloat(string(num), 64)
			if perr == nil && !math.IsInf(x, 0) {
				return x, false, true, nil
			}
		}
		p.i = start
	}
	return p.scalar(field())
}

func (p *parser) request() (*Request, error) {
	if p.peek() != '{' {
		if p.i >= len(p.b) {
			return nil, p.syntax("body", "expected a JSON object")
		}
		return nil, FieldErrors{{Field: "body", Detail: "must be a JSON object"}}
	}
	p.i++
	req := &Request{}
	var seenRows, seenReasons bool
	if p.peek() == '}' {
		p.i++
	} else {
		for {
			k, err := p.str("body")
			if err != nil {
				return nil, err
			}
			key := string(k)
			if key == "" {
				key = `""`
			}
			if err := p.expect(':', key, "expected ':'"); err != nil {
				return nil, err
			}
			switch key {
			case "rows":
				if seenRows {
					return nil, FieldErrors{{Field: key, Detail: "given twice"}}
				}
				seenRows = true
				if err := p.rows(req); err != nil {
					return nil, err
				}
			case "reasons":
				if seenReasons {
					return nil, FieldErrors{{Field: key, Detail: "given twice"}}
				}
				seenReasons = true
				if err := p.reasons(req); err != nil {
					return nil, err
				}
			default:
				return nil, FieldErrors{{Field: key, Detail: "unknown field (allowed: rows, reasons)"}}
			}
			c := p.peek()
			if c == ',' {
				p.i++
				continue
			}
			if c == '}' {
				p.i++
				break
			}
			return nil, p.syntax(key, "expected ',' or '}'")
		}
	}
	if p.peek() != 0 {
		return nil, FieldErrors{{Field: "body", Detail: "unexpected data after the JSON object"}}
	}
	if !seenRows {
		p.fail("rows", "required")
	} else if len(req.Rows) == 0 && len(p.errs) == 0 {
		p.fail("rows", "must hold at least one row")
	}
	return req, nil
}

func (p *parser) reasons(req *Request) error {
	c := p.peek()
	if c == '{' || c == '[' {
		return FieldErrors{{Field: "reasons", Detail: fmt.Sprintf("must be a whole number, got %q", string(c))}}
	}
	start := p.i
	v, isNull, ok, err := p.scalar("reasons")
	if err != nil || !ok {
		if err == nil && len(p.errs) > 0 {
			last := &p.errs[len(p.errs)-1]
			last.Detail = "must be a whole number" + last.Detail[len("must be a number or null"):]
		}
		return err
	}
	text := string(p.b[start:p.i])
	if isNull || v != math.Trunc(v) || v < 0 || v > float64(p.lim.MaxReasons) {
		p.fail("reasons", "must be a whole number from 0 to %d, got %s", p.lim.MaxReasons, text)
		return nil
	}
	req.Reasons = int(v)
	return nil
}

func (p *parser) rows(req *Request) error {
	if p.peek() != '[' {
		if p.i >= len(p.b) {
			return p.syntax("rows", "expected an array")
		}
		return FieldErrors{{Field: "rows", Detail: "must be an array of objects"}}
	}
	p.i++
	if p.peek() == ']' {
		p.i++
		return nil
	}
	nf := p.s.NumFeatures()
	set := make([]bool, nf)
	for i := 0; ; i++ {
		if i >= p.lim.MaxRows {
			return &TooManyRowsError{Max: p.lim.MaxRows}
		}
		row := make([]float64, nf)
		if err := p.row(i, row, set); err != nil {
			return err
		}
		req.Rows = append(req.Rows, row)
		switch p.peek() {
		case ',':
			p.i++
			continue
		case ']':
			p.i++
			return nil
		}
		return p.syntax(fmt.Sprintf("rows[%d]", i), "expected ',' or ']'")
	}
}

func (p *parser) row(i int, row []float64, set []bool) error {
	at := "rows[" + strconv.Itoa(i) + "]"
	if p.peek() != '{' {
		if p.i >= len(p.b) {
			return p.syntax(at, "expected an object")
		}
		return FieldErrors{{Field: at, Detail: "must be an object of feature values"}}
	}
	p.i++
	clear(set)
	if p.peek() == '}' {
		p.i++
	} else {
		// Field paths are built only when an error names them.
		var name []byte
		fieldOf := func() string {
			if len(name) == 0 {
				return at + `.""`
			}
			return at + "." + string(name)
		}
		lastOf := func() string { return at }
		for {
			var err error
			if name, err = p.str(lastOf()); err != nil {
				return err
			}
			var j int
			var known bool
			if ib, fast := p.s.(byteIndexer); fast {
				j, known = ib.IndexBytes(name)
			} else {
				j, known = p.s.Index(string(name))
			}
			lastOf = fieldOf
			if p.peek() != ':' {
				return p.syntax(fieldOf(), "expected ':'")
			}
			p.i++
			v, isNull, ok, err := p.scalarAt(fieldOf)
			if err != nil {
				return err
			}
			switch {
			case !known:
				p.fail(fieldOf(), "unknown feature for this model")
			case set[j]:
				p.fail(fieldOf(), "given twice")
			case ok:
				set[j] = true
				if isNull {
					v = math.NaN()
				}
				row[j] = v
			default:
				set[j] = true // the value's own error is reported
			}
			c := p.peek()
			if c == ',' {
				p.i++
				continue
			}
			if c == '}' {
				p.i++
				break
			}
			return p.syntax(fieldOf(), "expected ',' or '}'")
		}
	}
	names := p.s.Features()
	for j, ok := range set {
		if !ok {
			p.fail(at+"."+names[j], "missing feature (send null for a value that is not known)")
		}
	}
	return nil
}
