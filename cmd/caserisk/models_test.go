package main

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/logistic"
	"caserisk/serve/store/storetest"
)

// runOut runs the CLI and returns its exit code and standard output.
func runOut(t *testing.T, args ...string) (int, string) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return exitCode(err), out.String()
}

func tinyModel(t *testing.T, target string) string {
	t.Helper()
	m := &artifact.Model{
		Algorithm: artifact.Logistic, Target: target,
		Features:   []artifact.Feature{{FeatureMeta: dataset.FeatureMeta{Name: "arrears_gbp"}}},
		Logistic:   &logistic.Model{Mean: []float64{0}, Scale: []float64{1}, Coef: []float64{0.5}},
		Imputation: &artifact.Imputation{Values: []float64{0}},
	}
	p := filepath.Join(t.TempDir(), target+".json")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStoreCommands(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "c.db")
	raw, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	storeCommands(t, "sqlite://"+dbPath, func() []string {
		return []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET user_name = 'someone else' WHERE id = 2`}
	}, raw)
}

// TestStoreCommandsPostgres runs the same commands against PostgreSQL in a
// schema of its own; it skips without CASERISK_TEST_POSTGRES.
func TestStoreCommandsPostgres(t *testing.T) {
	u := storetest.PostgresURL(t)
	raw, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	storeCommands(t, u, func() []string {
		return []string{`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`,
			`UPDATE audit_log SET user_name = 'someone else' WHERE id = 2`}
	}, raw)
}

// storeCommands runs the users, models and audit commands against db, then
// tampers with the audit log through raw and checks audit verify fails.
func storeCommands(t *testing.T, db string, tamper func() []string, raw *sql.DB) {
	dir := t.TempDir()
	model := tinyModel(t, "complex_case")
	steps := []struct {
		name string
		args []string
		want int
		out  string // a substring of stdout
	}{
		{"users add", []string{"users", "add", "--db", db, "--name", "j.smith", "--role", "caseworker"}, 0, "crk_"},
		{"users add again", []string{"users", "add", "--db", db, "--name", "j.smith", "--role", "admin"}, 1, ""},
		{"bad role", []string{"users", "add", "--db", db, "--name", "x", "--role", "mayor"}, 2, ""},
		{"missing name", []string{"users", "add", "--db", db, "--role", "admin"}, 2, ""},
		{"users list", []string{"users", "list", "--db", db}, 0, "j.smith"},
		{"register without bands or label rate", []string{"models", "register", "--db", db, "--target", "complex_case", model}, 2, ""},
		{"register one band", []string{"models", "register", "--db", db, "--target", "complex_case", "--band-high", "0.4", model}, 2, ""},
		{"register", []string{"models", "register", "--db", db, "--target", "complex_case", "--by", "ds", "--band-high", "0.4", "--band-medium", "0.1", model}, 0, "complex_case v1"},
		{"register wrong target", []string{"models", "register", "--db", db, "--target", "tenancy_fraud", model}, 2, ""},
		{"register bad bands", []string{"models", "register", "--db", db, "--target", "complex_case", "--band-high", "0.1", "--band-medium", "0.3", model}, 2, ""},
		{"register no file", []string{"models", "register", "--db", db, "--target", "complex_case", filepath.Join(dir, "none.json")}, 1, ""},
		{"register no arg", []string{"models", "register", "--db", db, "--target", "complex_case"}, 2, ""},
		{"promote", []string{"models", "promote", "--db", db, "--target", "complex_case", "--version", "1", "--by", "admin"}, 0, "v1 is the champion"},
		{"promote unknown", []string{"models", "promote", "--db", db, "--target", "complex_case", "--version", "5"}, 1, ""},
		{"promote bad version", []string{"models", "promote", "--db", db, "--target", "complex_case", "--version", "0"}, 2, ""},
		{"list", []string{"models", "list", "--db", db}, 0, "champion"},
		{"bad db", []string{"models", "list", "--db", "mysql://x"}, 1, ""},
		{"labels", []string{"models", "labels", "--db", db, "--target", "complex_case"}, 0, "kind,entity_id,resident_id,as_of,label"},
		{"labels no target", []string{"models", "labels", "--db", db}, 2, ""},
		{"verify", []string{"audit", "verify", "--db", db}, 0, "audit log intact: 5 rows"},
		{"policy", []string{"users", "policy"}, 0, "permissions: [cases:complex_case, residents:read, scores:complex_case]"},
		{"policy check missing", []string{"users", "policy", "--check", filepath.Join(dir, "none.yaml")}, 1, ""},
	}
	for _, s := range steps {
		code, out := runOut(t, s.args...)
		if code != s.want || !strings.Contains(out, s.out) {
			t.Fatalf("%s: caserisk %v: exit %d, output %q; want exit %d and %q", s.name, s.args, code, out, s.want, s.out)
		}
	}
	// A head recorded earlier must be found; an unknown one fails.
	_, out := runOut(t, "audit", "verify", "--db", db)
	head := strings.TrimSpace(out[strings.LastIndex(out, " ")+1:])
	if code, _ := runOut(t, "audit", "verify", "--db", db, "--head", head); code != 0 {
		t.Errorf("audit verify --head (the current head): exit %d, want 0", code)
	}
	if code, _ := runOut(t, "audit", "verify", "--db", db, "--head", strings.Repeat("ab", 32)); code != 1 {
		t.Errorf("audit verify --head (a hash not in the log): exit %d, want 1", code)
	}
	// Alter a row of the log behind the store's back: verify must fail.
	for _, q := range tamper() {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if code, _ := runOut(t, "audit", "verify", "--db", db); code != 1 {
		t.Fatalf("audit verify after tampering: exit %d, want 1", code)
	}
}
