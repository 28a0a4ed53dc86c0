// Package storetest provides a PostgreSQL schema per test for the store's
// users' tests.
//
// The tests of the store and of the packages over it (api, batch, the CLI)
// run against PostgreSQL only when CASERISK_TEST_POSTGRES names a database,
// e.g.
//
//	export CASERISK_TEST_POSTGRES='postgres://caserisk:caserisk@127.0.0.1:5432/caserisk_test?sslmode=disable'
//
// and skip otherwise. Each test gets a schema of its own, so tests and
// packages running in parallel do not see each other's rows.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// Env is the environment variable naming the test database.
const Env = "CASERISK_TEST_POSTGRES"

// PostgresURL creates a uniquely named, empty schema in the database named
// by CASERISK_TEST_POSTGRES and returns that URL with search_path set to the
// schema: what store.Open (or sql.Open("pgx", …)) takes. The schema is
// dropped when the test and its cleanups finish; cleanups registered after
// this call (closing the store) run before the drop. It skips the test when
// the variable is unset, unusable or the server unreachable.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		t.Skip(Env + " is unset: skipping the PostgreSQL backend (e.g. postgres://caserisk:caserisk@127.0.0.1:5432/caserisk_test?sslmode=disable)")
	}
	pu, err := url.Parse(base)
	if err != nil {
		t.Skipf("%s unusable: %v", Env, err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Skipf("%s unusable: %v", Env, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Skipf("PostgreSQL at %s unreachable: %v", Env, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "caserisk_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	return pu.String()
}
