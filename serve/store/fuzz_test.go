package store

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
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

// FuzzStoreText drives the store's text inputs (an audit resource, a
// resident id, a user name) with arbitrary strings on every backend: each
// call either works or fails with ErrInvalid, ErrNotFound or ErrConflict,
// never with a database error, and the audit chain keeps verifying.
func FuzzStoreText(f *testing.F) {
	for _, s := range []string{"resident/R1", "", "\x00", "caf\xe9", "résumé", "R1' OR '1'='1", "%_", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	type opened struct {
		name string
		s    Store
	}
	var stores []opened
	for _, b := range backends() {
		if b.name == "postgres" && os.Getenv("CASERISK_TEST_POSTGRES") == "" {
			continue // the other tests say why PostgreSQL is skipped
		}
		s, _ := b.open(f)
		stores = append(stores, opened{b.name, s})
	}
	f.Fuzz(func(t *testing.T, text string) {
		ctx := context.Background()
		for _, o := range stores {
			s := o.s
			rec := auditRec(1)
			rec.Resource = text
			_, err := s.AppendAudit(ctx, rec)
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("%s: AppendAudit(resource %q): %v", o.name, text, err)
			}
			if err == nil {
				if _, err := audit.Verify(ctx, s); err != nil {
					t.Fatalf("%s: Verify after storing %q: %v", o.name, text, err)
				}
				got, err := s.Audit(ctx, AuditFilter{Resource: text, Limit: 1000})
				found := false
				for _, e := range got {
					found = found || e.Resource == text
				}
				if err != nil || !found {
					t.Fatalf("%s: Audit(resource %q) did not find the row (%d rows, %v)", o.name, text, len(got), err)
				}
			}
			if _, err := s.Resident(ctx, text); !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: Resident(%q): %v, want ErrNotFound", o.name, text, err)
			}
			if _, err := s.ResidentScores(ctx, text, ComplexCase); err != nil {
				t.Fatalf("%s: ResidentScores(%q): %v", o.name, text, err)
			}
			_, err = s.CreateUser(ctx, text, auth.Caseworker)
			if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrConflict) {
				t.Fatalf("%s: CreateUser(%q): %v", o.name, text, err)
			}
		}
	})
}
