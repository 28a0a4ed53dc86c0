// Package scorereq decodes and checks the body of a scoring request,
//
//	{"rows": [{"<feature>": number|null, ...}, ...], "reasons": K}
//
// strictly: every feature the model needs must be present in every row, no
// other key is allowed, values must be finite JSON numbers (null marks a
// value that is not known and is scored as missing), and "reasons" must be a
// whole number between 0 and the configured maximum. Each rejected field is
// named by its path, e.g. rows[2].rent_arrears_gbp, so the caller can fix it.
package scorereq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

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

type decoder struct {
	dec  *json.Decoder
	s    Schema
	lim  Limits
	errs FieldErrors
}

func (d *decoder) fail(field, format string, args ...any) {
	if len(d.errs) < maxFieldErrors {
		d.errs = append(d.errs, problem.FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
}

// syntax wraps a JSON syntax or read error with the field being read. A
// read error (e.g. *http.MaxBytesError) is returned as is, wrapped.
func (d *decoder) syntax(field string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	var se *json.SyntaxError
	if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
		detail := "malformed JSON"
		if se != nil {
			detail = fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, se.Error())
		} else {
			detail = "malformed JSON: body ends early"
		}
		return FieldErrors{{Field: field, Detail: detail}}
	}
	return fmt.Errorf("reading %s: %w", field, err)
}

// Decode reads one request from r. It returns a *TooManyRowsError, a
// FieldErrors listing the rejected fields, or a wrapped read error (such as
// *http.MaxBytesError when the body is over its limit).
func Decode(r io.Reader, s Schema, lim Limits) (*Request, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	d := &decoder{dec: dec, s: s, lim: lim}
	req, err := d.request()
	if err != nil {
		return nil, err
	}
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	return req, nil
}

func (d *decoder) request() (*Request, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, d.syntax("body", err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return nil, FieldErrors{{Field: "body", Detail: "must be a JSON object"}}
	}
	req := &Request{}
	seen := map[string]bool{}
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return nil, d.syntax("body", err)
		}
		key, _ := tok.(string)
		if key == "" {
			key = `""`
		}
		if seen[key] {
			return nil, FieldErrors{{Field: key, Detail: "given twice"}}
		}
		seen[key] = true
		switch key {
		case "rows":
			if err := d.rows(req); err != nil {
				return nil, err
			}
		case "reasons":
			if err := d.reasons(req); err != nil {
				return nil, err
			}
		default:
			return nil, FieldErrors{{Field: key, Detail: "unknown field (allowed: rows, reasons)"}}
		}
	}
	if _, err := d.dec.Token(); err != nil { // the closing brace
		return nil, d.syntax("body", err)
	}
	if _, err := d.dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, d.syntax("body", err)
		}
		return nil, FieldErrors{{Field: "body", Detail: "unexpected data after the JSON object"}}
	}
	if !seen["rows"] {
		d.fail("rows", "required")
	} else if len(req.Rows) == 0 && len(d.errs) == 0 {
		d.fail("rows", "must hold at least one row")
	}
	return req, nil
}

func (d *decoder) reasons(req *Request) error {
	tok, err := d.dec.Token()
	if err != nil {
		return d.syntax("reasons", err)
	}
	n, ok := tok.(json.Number)
	if !ok {
		if delim, isDelim := tok.(json.Delim); isDelim {
			return FieldErrors{{Field: "reasons", Detail: fmt.Sprintf("must be a whole number, got %q", delim.String())}}
		}
		d.fail("reasons", "must be a whole number, got %s", kind(tok))
		return nil
	}
	k, err := strconv.Atoi(n.String())
	if err != nil || k < 0 || k > d.lim.MaxReasons {
		d.fail("reasons", "must be a whole number from 0 to %d, got %s", d.lim.MaxReasons, n.String())
		return nil
	}
	req.Reasons = k
	return nil
}

func (d *decoder) rows(req *Request) error {
	tok, err := d.dec.Token()
	if err != nil {
		return d.syntax("rows", err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '[' {
		return FieldErrors{{Field: "rows", Detail: "must be an array of objects"}}
	}
	nf := d.s.NumFeatures()
	set := make([]bool, nf)
	for i := 0; d.dec.More(); i++ {
		if i >= d.lim.MaxRows {
			return &TooManyRowsError{Max: d.lim.MaxRows}
		}
		row := make([]float64, nf)
		if err := d.row(i, row, set); err != nil {
			return err
		}
		req.Rows = append(req.Rows, row)
	}
	if _, err := d.dec.Token(); err != nil { // the closing bracket
		return d.syntax("rows", err)
	}
	return nil
}

func (d *decoder) row(i int, row []float64, set []bool) error {
	at := fmt.Sprintf("rows[%d]", i)
	tok, err := d.dec.Token()
	if err != nil {
		return d.syntax(at, err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return FieldErrors{{Field: at, Detail: "must be an object of feature values"}}
	}
	clear(set)
	field := at
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return d.syntax(field, err)
		}
		name, _ := tok.(string)
		field = at + "." + name
		if name == "" {
			field = at + `.""`
		}
		j, known := d.s.Index(name)
		tok, err = d.dec.Token()
		if err != nil {
			return d.syntax(field, err)
		}
		if delim, ok := tok.(json.Delim); ok {
			return FieldErrors{{Field: field, Detail: fmt.Sprintf("must be a number or null, got %q", delim.String())}}
		}
		switch {
		case !known:
			d.fail(field, "unknown feature for this model")
			continue
		case set[j]:
			d.fail(field, "given twice")
			continue
		}
		set[j] = true
		switch v := tok.(type) {
		case nil:
			row[j] = math.NaN()
		case json.Number:
			x, err := strconv.ParseFloat(v.String(), 64)
			if err != nil || math.IsInf(x, 0) {
				d.fail(field, "number %s is out of range", v.String())
				continue
			}
			row[j] = x
		default:
			d.fail(field, "must be a number or null, got %s", kind(tok))
		}
	}
	if _, err := d.dec.Token(); err != nil { // the closing brace
		return d.syntax(at, err)
	}
	names := d.s.Features()
	for j, ok := range set {
		if !ok {
			d.fail(at+"."+names[j], "missing feature (send null for a value that is not known)")
		}
	}
	return nil
}

// kind names a JSON token's type for an error message.
func kind(tok json.Token) string {
	switch v := tok.(type) {
	case string:
		if len(v) > 20 {
			return "a string"
		}
		return "string " + strconv.Quote(v)
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// Bytes decodes a request held in memory.
func Bytes(b []byte, s Schema, lim Limits) (*Request, error) {
	return Decode(bytes.NewReader(b), s, lim)
}
