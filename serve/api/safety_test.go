package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"caserisk/features/spec"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// TestNoStore: answers of authenticated routes, which may hold personal
// data, must not be stored by browsers or proxies.
func TestNoStore(t *testing.T) {
	e := newEnv(t, "sqlite", envOptions{})
	seed(t, e.st)
	for _, p := range []string{"/api/v1/residents/R1", "/api/v1/residents/R1/risk", "/api/v1/queues/complex-cases",
		"/api/v1/residents/R404", fmt.Sprintf("/api/v1/cases/%d", caseOf(t, e.st, store.ComplexCase, "R1"))} {
		status, header, body := e.send(auth.Caseworker, "GET", p, nil, "")
		if status >= 500 || header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: %d with Cache-Control %q, want no-store: %s", p, status, header.Get("Cache-Control"), body)
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
		status, _, body := e.send(auth.Caseworker, "GET", fmt.Sprintf("/api/v1/cases/%d", id), nil, "")
		var p map[string]any
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		delete(p, "request_id")
		p["detail"] = strings.ReplaceAll(p["detail"].(string), fmt.Sprint(id), "ID")
		return status, p
	}
	c1, p1 := problemOf(fraud)
	c2, p2 := problemOf(missing)
	b1, _ := json.Marshal(p1)
	b2, _ := json.Marshal(p2)
	if c1 != http.StatusNotFound || c1 != c2 || string(b1) != string(b2) {
		t.Errorf("a fraud case: %d %s; a missing case: %d %s; want the same 404", c1, b1, c2, b2)
	}
	if status, _, _ := e.send(auth.FraudOfficer, "GET", fmt.Sprintf("/api/v1/cases/%d", fraud), nil, ""); status != http.StatusOK {
		t.Errorf("the fraud officer's own case: %d", status)
	}
}

// TestHeadOnPublicRoutes: HEAD answers like GET, without a body.
func TestHeadOnPublicRoutes(t *testing.T) {
	e := newEnv(t, "sqlite", envOptions{})
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"} {
		getStatus, getHeader, _ := e.send("", "GET", p, nil, "")
		headStatus, headHeader, body := e.send("", "HEAD", p, nil, "")
		if headStatus != getStatus || headStatus != http.StatusOK || len(body) != 0 ||
			headHeader.Get("Content-Type") != getHeader.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %q (%q), GET: %d (%q)", p, headStatus, body, headHeader.Get("Content-Type"),
				getStatus, getHeader.Get("Content-Type"))
		}
	}
	if status, _, _ := e.send(auth.Caseworker, "HEAD", "/api/v1/residents/R1", nil, ""); status != http.StatusMethodNotAllowed {
		t.Errorf("HEAD on an authenticated route: %d, want 405", status)
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
