package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store/storetest"
)

// TestBackupRestoreRoundTrip (PostgreSQL, pg_dump and pg_restore): the
// README's backup — pg_dump --format=custom while the store is in use —
// restored with pg_restore into a new database gives a store caserisk
// opens as it was: every table's rows, the audit log's hash chain (it
// verifies), the champion's artifact, a user's token (it authenticates), a
// web session (still valid), a score run and its cases, and new rows take
// fresh ids.
func TestBackupRestoreRoundTrip(t *testing.T) {
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian: postgresql-client): skipping the backup round trip", tool)
		}
	}
	src := storetest.PostgresURL(t)
	ctx := context.Background()
	s, err := Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// A store in use: users and a token, a champion, a score run with its
	// cases, audit rows, a web session, a sign-in limit.
	tok, err := auth.NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUserWithToken(ctx, "backup.caseworker", auth.Caseworker, tok)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.RegisterModel(ctx, testModel(ComplexCase))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PromoteModel(ctx, ComplexCase, m.Version, "tester"); err != nil {
		t.Fatal(err)
	}
	run, _, err := s.RecordScoreRun(ctx, NewRun{Target: ComplexCase, AsOf: "2025-03-31", ModelVersion: m.Version,
		Capacity: 5, Scores: testScores(40, "K")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		if _, err := s.AppendAudit(ctx, audit.Record{At: time.Now(), UserID: u.ID, User: u.Name, Role: string(auth.Caseworker),
			Action: "read", Resource: fmt.Sprintf("resident/RK%04d", i+1), Purpose: "complex-case review"}); err != nil {
			t.Fatal(err)
		}
	}
	before, err := audit.Verify(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	bounds := SessionBounds{Idle: time.Hour, Max: 10 * time.Hour, PerUser: 5, Total: 100}
	if err := s.CreateSession(ctx, "kept-session", WebSession{UserID: u.ID, TokenPrefix: tok.Prefix, TokenHash: tok.Hash,
		CSRF: "csrf", Created: time.Now()}, bounds); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TakeRate(ctx, RateLimit{Scope: "client", Every: time.Second, Burst: 3, Max: 10}, "10.0.0.9", time.Now()); err != nil {
		t.Fatal(err)
	}

	// pg_dump of the store's schema, then pg_restore into a new database.
	schema, base := schemaOf(t, src)
	dump := filepath.Join(t.TempDir(), "caserisk.dump")
	if out, err := exec.Command("pg_dump", "--format=custom", "--schema", schema, "--file", dump, base).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v: %s", err, out)
	}
	info, err := os.Stat(dump)
	if err != nil {
		t.Fatal(err)
	}
	restored := newDatabase(t, base)
	start := time.Now()
	if out, err := exec.Command("pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v: %s", err, out)
	}
	t.Logf("pg_dump wrote %d bytes; pg_restore took %s", info.Size(), time.Since(start).Round(time.Millisecond))
	ru, _ := url.Parse(restored)
	q := ru.Query()
	q.Set("search_path", schema)
	ru.RawQuery = q.Encode()
	r, err := Open(ctx, ru.String())
	if err != nil {
		t.Fatalf("open the restored store: %v", err)
	}
	defer r.Close()

	// Every table holds the same rows.
	srcRaw, err := sql.Open("pgx", src)
	if err != nil {
		t.Fatal(err)
	}
	defer srcRaw.Close()
	dstRaw, err := sql.Open("pgx", ru.String())
	if err != nil {
		t.Fatal(err)
	}
	defer dstRaw.Close()
	tables := tablesOf(t, srcRaw)
	if got := tablesOf(t, dstRaw); strings.Join(got, ",") != strings.Join(tables, ",") {
		t.Fatalf("restored tables %v, want %v", got, tables)
	}
	nonEmpty := 0
	for _, tb := range tables {
		a, b := tableDigest(t, srcRaw, tb), tableDigest(t, dstRaw, tb)
		if a != b {
			t.Errorf("table %s differs after the round trip", tb)
		}
		if a != "0:" {
			nonEmpty++
		}
	}
	if nonEmpty < 10 {
		t.Errorf("only %d of %d tables hold rows: the round trip proves little", nonEmpty, len(tables))
	}

	// And the store works as it did.
	after, err := audit.Verify(ctx, r)
	if err != nil || after != before {
		t.Errorf("restored audit log: %+v, %v; want %+v verified", after, err, before)
	}
	if p, err := auth.Authenticate(ctx, r, tok.Secret); err != nil || p.UserID != u.ID {
		t.Errorf("a token after the restore: %+v, %v", p, err)
	}
	ch, err := r.Champion(ctx, ComplexCase)
	if err != nil || string(ch.Artifact) != string(testModel(ComplexCase).Artifact) || ch.SHA256 != m.SHA256 {
		t.Errorf("restored champion: v%d sha %s (%v), want v%d sha %s", ch.Version, ch.SHA256, err, m.Version, m.SHA256)
	}
	if ws, err := r.Session(ctx, "kept-session", time.Now(), bounds); err != nil || ws.UserID != u.ID {
		t.Errorf("a web session after the restore: %+v, %v", ws, err)
	}
	if got, err := r.LatestRun(ctx, ComplexCase); err != nil || got.ID != run.ID || got.CasesOpened != run.CasesOpened {
		t.Errorf("restored latest run: %+v, %v; want %+v", got, err, run)
	}
	nu, err := r.CreateUser(ctx, "after.restore", auth.Admin)
	if err != nil || nu.ID <= u.ID {
		t.Errorf("a user created after the restore: id %d (%v), want above %d", nu.ID, err, u.ID)
	}
	if _, err := r.AppendAudit(ctx, audit.Record{At: time.Now(), UserID: u.ID, User: u.Name, Role: string(auth.Caseworker),
		Action: "read", Resource: "resident/RK0001", Purpose: "complex-case review"}); err != nil {
		t.Fatal(err)
	}
	if sum, err := audit.Verify(ctx, r); err != nil || sum.Rows != before.Rows+1 {
		t.Errorf("the restored log after one more row: %+v, %v", sum, err)
	}
}

// schemaOf returns the search_path schema of a storetest URL and the URL
// without it (pg_dump takes libpq's parameters only).
func schemaOf(t *testing.T, raw string) (schema, base string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	schema = q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	if schema == "" {
		t.Fatalf("no search_path in %s", u.Redacted())
	}
	return schema, u.String()
}

// newDatabase creates an empty database beside base's, dropped when the
// test ends, and returns its URL.
func newDatabase(t *testing.T, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "caserisk_restore_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Skipf("cannot create a database to restore into (the test role needs CREATEDB): %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE " + name + " WITH (FORCE)")
		admin.Close()
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}

// tablesOf lists the tables of the connection's schema.
func tablesOf(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// tableDigest is a table's row count and the MD5 of its rows as text, in
// a fixed order: equal digests, equal tables.
func tableDigest(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	var n int
	var sum sql.NullString
	q := fmt.Sprintf(`SELECT COUNT(*), md5(string_agg(r::text, '|' ORDER BY r::text)) FROM %q r`, table)
	if err := db.QueryRow(q).Scan(&n, &sum); err != nil {
		t.Fatalf("digest %s: %v", table, err)
	}
	return fmt.Sprintf("%d:%s", n, sum.String)
}
