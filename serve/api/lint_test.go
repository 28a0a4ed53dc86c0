package api

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// redocly returns the path of Redocly's CLI: on PATH, or where .ci/run
// installs it (.ci/redocly, from its package-lock.json).
func redocly(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("redocly"); err == nil {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "..", ".ci", "redocly", "node_modules", ".bin", "redocly"))
	if err == nil {
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("Redocly's CLI is not installed (npm ci --prefix .ci/redocly): skipping the OpenAPI lint")
	return ""
}

// TestOpenAPILint lints the served document with Redocly's CLI and its
// recommended rules, failing on any error or warning that
// testdata/redocly-lint-ignore.yaml does not list with its reason.
func TestOpenAPILint(t *testing.T) {
	bin := redocly(t)
	e := newEnv(t, "sqlite", envOptions{})
	dir := t.TempDir()
	file := filepath.Join(dir, "openapi.json")
	if err := os.WriteFile(file, e.srv.doc, 0o644); err != nil {
		t.Fatal(err)
	}
	ignore, err := os.ReadFile(filepath.Join("testdata", "redocly-lint-ignore.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".redocly.lint-ignore.yaml"), ignore, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "lint", "--extends=recommended", "--format=json", "--max-problems=1000", file)
	cmd.Dir = dir // no redocly.yaml there: the recommended rules as shipped
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("redocly lint: %v\n%s", err, stderr.String())
	}
	var report struct {
		Totals struct {
			Errors   int `json:"errors"`
			Warnings int `json:"warnings"`
			Ignored  int `json:"ignored"`
		} `json:"totals"`
		Problems []struct {
			Ignored  bool   `json:"ignored"`
			RuleID   string `json:"ruleId"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
			Location []struct {
				Pointer string `json:"pointer"`
			} `json:"location"`
		} `json:"problems"`
	}
	if jerr := json.Unmarshal(out, &report); jerr != nil {
		t.Fatalf("redocly lint wrote no JSON report (%v): %s\n%s", jerr, out, stderr.String())
	}
	for _, p := range report.Problems {
		where := ""
		if len(p.Location) > 0 {
			where = p.Location[0].Pointer
		}
		if p.Ignored {
			t.Logf("redocly %s %s at %s (reviewed, in the ignore file): %s", p.Severity, p.RuleID, where, p.Message)
			continue
		}
		t.Errorf("redocly %s %s at %s: %s", p.Severity, p.RuleID, where, p.Message)
	}
	if report.Totals.Errors+report.Totals.Warnings > 0 || err != nil {
		t.Fatalf("redocly lint: %d errors, %d warnings (exit: %v)", report.Totals.Errors, report.Totals.Warnings, err)
	}
	t.Logf("redocly lint (recommended): 0 errors, 0 warnings, %d reviewed findings ignored", report.Totals.Ignored)
}
