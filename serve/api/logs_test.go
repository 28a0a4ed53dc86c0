package api

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"caserisk/serve/auth"
)

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsHoldNoPersonalData reads a resident's data, sends bodies with
// personal data in them, and checks the service log holds none of it, nor
// a path with a resident's id, while it does log each request.
func TestLogsHoldNoPersonalData(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, "sqlite", envOptions{config: func(c *Config) { c.Logger = log }})
	seed(t, e.st)
	row := e.row(1)
	row["given_name"] = "Ada"
	for _, r := range []struct {
		role         auth.Role
		method, path string
		body         any
	}{
		{auth.Caseworker, "GET", "/api/v1/residents/R1", nil},
		{auth.Caseworker, "GET", "/api/v1/residents/R1/risk", nil},
		{auth.DataScientist, "POST", "/api/v1/score?target=complex_case", map[string]any{"rows": []any{row}}},
		{auth.DataScientist, "POST", "/api/v1/score?target=complex_case", `{"rows":[{"address":"1 Test Street, ZZ1 1ZZ"}]}`},
		{auth.Caseworker, "POST", "/api/v1/cases/1/status", map[string]any{"status": "reviewing", "note": "Ada said she is struggling"}},
		{"", "GET", "/api/v1/residents/R1?from=1980-01-02", nil},
	} {
		e.do(r.role, r.method, r.path, r.body)
	}
	out := buf.String()
	if strings.Count(out, `"msg":"request"`) < 6 {
		t.Fatalf("requests were not logged:\n%s", out)
	}
	for _, secret := range []string{"Ada", "Test Street", "ZZ1", "1980-01-02", "struggling", "/residents/R1", "crk_"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q:\n%s", secret, out)
		}
	}
}
