package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
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
	base := os.Getenv("CASERISK_TEST_POSTGRES")
	if base == "" {
		t.Skip("CASERISK_TEST_POSTGRES is unset: skipping the PostgreSQL backend (e.g. postgres://caserisk:caserisk@127.0.0.1:5432/caserisk_test?sslmode=disable)")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Skipf("CASERISK_TEST_POSTGRES unusable: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Skipf("PostgreSQL at CASERISK_TEST_POSTGRES unreachable: %v", err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "caserisk_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	s, err := Open(context.Background(), pu.String())
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	raw, err := sql.Open("pgx", pu.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return s, raw
}
