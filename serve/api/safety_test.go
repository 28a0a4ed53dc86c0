package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"caserisk/features/spec"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// raw sends a request as a role and returns the response with its body read.
func (e *env) sendRaw(role auth.Role, method, path string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

// TestNoStore: answers of authenticated routes, which may hold personal
// data, must not be stored by browsers or proxies.
func TestNoStore(t *testing.T) {
	e := newEnv(t, "sqlite", envOptions{})
	seed(t, e.st)
	for _, p := range []string{"/api/v1/residents/R1", "/api/v1/residents/R1/risk", "/api/v1/queues/complex-cases",
		"/api/v1/residents/R404", fmt.Sprintf("/api/v1/cases/%d", caseOf(t, e.st, store.ComplexCase, "R1"))} {
		resp, body := e.sendRaw(auth.Caseworker, "GET", p)
		if resp.StatusCode >= 500 || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: %d with Cache-Control %q, want no-store: %s", p, resp.StatusCode, resp.Header.Get("Cache-Control"), body)
		}
	}
}

// TestForbiddenCaseIsNotFound: a case of a kind the role may not work is
// answered exactly as a missing case is, so its id cannot be probed.
func TestForbiddenCaseIsNotFound(t *testing.T) {
	e := newEnv(t, "sqlite", envOptions{})
	seed(t, e.st)
	fraud := caseOf(t, e.st, store.TenancyFraud, "T1")
	missing := fraud + 1000
	problemOf := func(id int64) (int, map[string]any) {
		resp, body := e.sendRaw(auth.Caseworker, "GET", fmt.Sprintf("/api/v1/cases/%d", id))
		var p map[string]any
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatal(err)
		}
		delete(p, "request_id")
		p["detail"] = strings.ReplaceAll(p["detail"].(string), fmt.Sprint(id), "ID")
		return resp.StatusCode, p
	}
	c1, p1 := problemOf(fraud)
	c2, p2 := problemOf(missing)
	b1, _ := json.Marshal(p1)
	b2, _ := json.Marshal(p2)
	if c1 != http.StatusNotFound || c1 != c2 || string(b1) != string(b2) {
		t.Errorf("a fraud case: %d %s; a missing case: %d %s; want the same 404", c1, b1, c2, b2)
	}
	if resp, _ := e.sendRaw(auth.FraudOfficer, "GET", fmt.Sprintf("/api/v1/cases/%d", fraud)); resp.StatusCode != http.StatusOK {
		t.Errorf("the fraud officer's own case: %d", resp.StatusCode)
	}
}

// TestHeadOnPublicRoutes: HEAD answers like GET, without a body.
func TestHeadOnPublicRoutes(t *testing.T) {
	e := newEnv(t, "sqlite", envOptions{})
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"} {
		get, _ := e.sendRaw("", "GET", p)
		head, body := e.sendRaw("", "HEAD", p)
		if head.StatusCode != get.StatusCode || head.StatusCode != http.StatusOK || body != "" ||
			head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %q (%q), GET: %d (%q)", p, head.StatusCode, body, head.Header.Get("Content-Type"),
				get.StatusCode, get.Header.Get("Content-Type"))
		}
	}
	if resp, _ := e.sendRaw(auth.Caseworker, "HEAD", "/api/v1/residents/R1"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("HEAD on an authenticated route: %d, want 405", resp.StatusCode)
	}
}

// TestDefaultMaxRowsFit: DefaultMaxRows rows of the widest model of the
// default feature spec, every value at full float64 precision, fit in
// DefaultMaxBodyBytes.
func TestDefaultMaxRowsFit(t *testing.T) {
	sp, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	widest := 0
	for _, entity := range []string{spec.Resident, spec.Tenancy} {
		var row strings.Builder
		row.WriteByte('{')
		for i, f := range sp.Section(entity).Features {
			if i > 0 {
				row.WriteByte(',')
			}
			fmt.Fprintf(&row, "%q:%s", f.Name, "-2.2250738585072014e-308")
		}
		row.WriteByte('}')
		widest = max(widest, row.Len())
	}
	body := len(`{"rows":[],"reasons":10}`) + DefaultMaxRows*(widest+1)
	t.Logf("widest row %d bytes; %d rows: %d bytes of %d", widest, DefaultMaxRows, body, DefaultMaxBodyBytes)
	if body > DefaultMaxBodyBytes {
		t.Errorf("%d rows of %d bytes take %d bytes, more than the %d-byte body limit", DefaultMaxRows, widest, body, DefaultMaxBodyBytes)
	}
}
