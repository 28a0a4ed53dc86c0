package store

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"sqlite://./caserisk.db", "sqlite:///tmp/x.db?_pragma=cache_size(2000)", "sqlite://",
		"postgres://u:p@127.0.0.1:5432/db?sslmode=disable", "postgresql://h/db", "mysql://x", "sqlite://a?b=%zz", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		dialect, dsn, err := ParseURL(raw)
		if err != nil {
			if strings.Contains(raw, ":secret@") && strings.Contains(err.Error(), "secret") {
				t.Fatalf("error shows the password: %v", err)
			}
			return
		}
		switch dialect {
		case SQLite:
			if !strings.HasPrefix(raw, "sqlite://") || !strings.HasPrefix(dsn, "file:") || !strings.Contains(dsn, "_txlock=immediate") {
				t.Fatalf("ParseURL(%q) = %q, %q", raw, dialect, dsn)
			}
		case Postgres:
			if dsn != raw {
				t.Fatalf("ParseURL(%q) changed a PostgreSQL URL to %q", raw, dsn)
			}
		default:
			t.Fatalf("ParseURL(%q): unknown dialect %q", raw, dialect)
		}
	})
}

// FuzzCheckTransition checks the workflow rules hold for any input: an
// allowed move is one listed by NextStatuses, closing needs a known outcome,
// and every refusal is a FieldError or a transition error.
func FuzzCheckTransition(f *testing.F) {
	f.Add("complex_case", "new", "reviewing", "")
	f.Add("complex_case", "help_offered", "closed", "help_accepted")
	f.Add("tenancy_fraud", "referred", "closed", "no_fraud")
	f.Add("tenancy_fraud", "closed", "investigating", "")
	f.Fuzz(func(t *testing.T, kind, from, to, outcome string) {
		err := CheckTransition(Target(kind), Status(from), Status(to), Outcome(outcome))
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) && !errors.Is(err, ErrTransition) {
				t.Fatalf("CheckTransition(%q, %q, %q, %q): untyped error %v", kind, from, to, outcome, err)
			}
			return
		}
		listed := false
		for _, s := range NextStatuses(Target(kind), Status(from)) {
			listed = listed || s == Status(to)
		}
		if !listed {
			t.Fatalf("allowed %s → %s for %s, which NextStatuses does not list", from, to, kind)
		}
		if closing := Status(to) == StatusClosed; closing {
			if _, ok := LabelOf(Target(kind), Outcome(outcome)); !ok && outcome != string(OutcomeNotReachable) &&
				outcome != string(OutcomeAlreadyKnown) && outcome != string(OutcomeInsufficientEvidence) {
				t.Fatalf("closed a %s case with unknown outcome %q", kind, outcome)
			}
		} else if outcome != "" {
			t.Fatalf("allowed an outcome %q without closing", outcome)
		}
	})
}
