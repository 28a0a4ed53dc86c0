package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"caserisk/serve/store/storetest"
)

// backend is a database the shared suite runs against.
type backend struct {
	name string
	// open returns a fresh, empty store and a raw connection to the same
	// database (for tampering), or skips the test.
	open func(t testing.TB) (Store, *sql.DB)
}

// backends returns SQLite and PostgreSQL. PostgreSQL needs
// CASERISK_TEST_POSTGRES (e.g.
// postgres://caserisk:caserisk@127.0.0.1:5432/caserisk_test?sslmode=disable)
// and skips when it is unset or unreachable. Each test gets its own schema.
func backends() []backend {
	return []backend{
		{name: "sqlite", open: openSQLite},
		{name: "postgres", open: openPostgres},
	}
}

// forEachBackend runs f as a subtest per backend.
func forEachBackend(t *testing.T, f func(t *testing.T, s Store, raw *sql.DB)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s, raw := b.open(t)
			f(t, s, raw)
		})
	}
}

func openSQLite(t testing.TB) (Store, *sql.DB) {
	t.Helper()
	u := "sqlite://" + filepath.Join(t.TempDir(), "test.db")
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	t.Cleanup(func() { s.Close() })
	_, dsn, _ := ParseURL(u)
	raw, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return s, raw
}

func openPostgres(t testing.TB) (Store, *sql.DB) {
	t.Helper()
	u := storetest.PostgresURL(t)
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	raw, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return s, raw
}
