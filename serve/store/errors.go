package store

import "fmt"

// FieldError is an ErrInvalid error that names the field at fault, so the
// API can report it (errors.As) and errors.Is(err, ErrInvalid) holds.
type FieldError struct {
	Field string // the argument or JSON field, e.g. "status"
	Msg   string // why it is invalid
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// invalidf returns a *FieldError naming the field.
func invalidf(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
