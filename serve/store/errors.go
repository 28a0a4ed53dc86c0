package store

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// FieldError is an ErrInvalid error that names the field at fault, so the
// API can report it (errors.As) and errors.Is(err, ErrInvalid) holds.
type FieldError struct {
	Field string // the argument or JSON field, e.g. "status"
	Msg   string // why it is invalid
}

// Error returns "field: why".
func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// invalidf returns a *FieldError naming the field.
func invalidf(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// validText reports whether s can be stored as text by both dialects:
// valid UTF-8 without NUL (PostgreSQL refuses both).
func validText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// checkText returns a FieldError when s is not valid text.
func checkText(field, s string) error {
	if !validText(s) {
		return invalidf(field, "not valid UTF-8 text (or contains NUL)")
	}
	return nil
}
