// Package problem writes HTTP API errors as RFC 9457 problem details
// (application/problem+json): a type, a title, the status, a detail that a
// caller can act on and, for bad input, the fields at fault.
//
// Problem documents never carry personal data: a detail names a field, a
// row index or an id the caller sent, never a resident's name or address.
package problem

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// ContentType is the media type of a problem document (RFC 9457 §3).
const ContentType = "application/problem+json"

// FieldError names one field of a request that was rejected and why.
type FieldError struct {
	// Field is a JSON-path-like location: "rows[3].age_years", "reasons",
	// "status", or a query parameter such as "target".
	Field string `json:"field"`
	// Detail says what is wrong with it.
	Detail string `json:"detail"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Detail }

// Problem is an RFC 9457 problem details document.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Title)
}

// typeBase prefixes the problem type URIs; they identify the kind of
// problem and are documented in the OpenAPI document.
const typeBase = "https://caserisk.invalid/problems/"

// New returns a problem with the given status, a type and title derived
// from it, and a formatted detail.
func New(status int, format string, args ...any) *Problem {
	return &Problem{
		Type:   typeBase + slug(status),
		Title:  http.StatusText(status),
		Status: status,
		Detail: fmt.Sprintf(format, args...),
	}
}

// Invalid returns a 400 problem listing the fields at fault; its detail is
// the first field's message so that a caller reading only the detail still
// learns which field is wrong.
func Invalid(errs ...FieldError) *Problem {
	p := New(http.StatusBadRequest, "invalid request")
	p.Type = typeBase + "invalid-request"
	p.Errors = errs
	if len(errs) > 0 {
		p.Detail = errs[0].Error()
		if len(errs) > 1 {
			p.Detail += fmt.Sprintf(" (and %d more)", len(errs)-1)
		}
	}
	return p
}

// WithFields returns p with the given field errors attached.
func (p *Problem) WithFields(errs ...FieldError) *Problem {
	p.Errors = append(p.Errors, errs...)
	return p
}

// slug names a status's problem type, e.g. 404 → "not-found".
func slug(status int) string {
	t := strings.ToLower(http.StatusText(status))
	if t == "" {
		return fmt.Sprintf("status-%d", status)
	}
	return strings.NewReplacer(" ", "-", "'", "").Replace(t)
}

// Write sends p as application/problem+json with its status code.
func Write(w http.ResponseWriter, p *Problem) {
	body, err := json.Marshal(p)
	if err != nil {
		// A Problem holds only strings and ints; this cannot happen, but a
		// plain status still tells the caller what went wrong.
		http.Error(w, http.StatusText(p.Status), p.Status)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(body, '\n'))
}
