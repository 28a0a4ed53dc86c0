package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// TestOpenAPIMatchesRoutes walks the router's routes and the served
// document and fails if either has a route the other lacks.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t, "sqlite", envOptions{})
	got, body := e.do("", "GET", "/api/v1/openapi.json", nil)
	if got != 200 {
		t.Fatalf("status %d", got)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	routed := map[string]bool{}
	for _, r := range e.srv.engine.Routes() {
		routed[r.Method+" "+openAPIPath(r.Path)] = true
	}
	var diffs []string
	for k := range routed {
		if !documented[k] {
			diffs = append(diffs, "routed but not documented: "+k)
		}
	}
	for k := range documented {
		if !routed[k] {
			diffs = append(diffs, "documented but not routed: "+k)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Fatal(strings.Join(diffs, "\n"))
	}
	// The endpoints are all there.
	for _, k := range []string{"POST /api/v1/score", "GET /api/v1/residents/{id}", "GET /api/v1/residents/{id}/risk",
		"GET /api/v1/queues/complex-cases", "GET /api/v1/queues/tenancy-fraud", "POST /api/v1/cases/{id}/status",
		"POST /api/v1/cases/{id}/outcome", "GET /api/v1/models", "POST /api/v1/models/{version}/promote", "GET /api/v1/audit",
		"GET /healthz", "GET /readyz", "GET /metrics", "POST /api/v1/score-runs"} {
		if !documented[k] {
			t.Errorf("%s is missing", k)
		}
	}
	// Every $ref resolves within the document.
	var full map[string]any
	if err := json.Unmarshal(body, &full); err != nil {
		t.Fatal(err)
	}
	resolve := func(ptr string) bool {
		var at any = full
		for _, tok := range strings.Split(strings.TrimPrefix(ptr, "#/"), "/") {
			m, ok := at.(map[string]any)
			if !ok {
				return false
			}
			if at, ok = m[strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)]; !ok {
				return false
			}
		}
		return true
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok && (!strings.HasPrefix(r, "#/") || !resolve(r)) {
				t.Errorf("dangling $ref %s", r)
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(full)
}

// blockingRunner is a score-run runner that waits until released, to hold
// a request in flight.
type blockingRunner struct {
	started chan struct{}
	release chan struct{}
}

func (b *blockingRunner) Run(ctx context.Context, req core.RunRequest) ([]store.ScoreRun, error) {
	close(b.started)
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return []store.ScoreRun{{ID: 1, Target: req.Targets[0], AsOf: req.AsOf, ModelVersion: 1}}, nil
}

func (b *blockingRunner) Coverage(context.Context) (string, string, error) {
	return "2020-01-01", "2025-12-31", nil
}

// TestGracefulShutdown cancels the serving context while a request is in
// flight: the service reports not-ready, finishes the request, and stops.
func TestGracefulShutdown(t *testing.T) {
	br := &blockingRunner{started: make(chan struct{}), release: make(chan struct{})}
	e := newEnv(t, "sqlite", envOptions{config: func(c *Config) { c.Runner = br; c.ShutdownGrace = 10 * time.Second }})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, ln) }()

	var wg sync.WaitGroup
	var status int
	wg.Add(1)
	go func() {
		defer wg.Done()
		req, _ := http.NewRequest("POST", base+"/api/v1/score-runs", strings.NewReader(`{"as_of":"2025-01-31","targets":["complex_case"]}`))
		req.Header.Set("Authorization", "Bearer "+e.tokens[auth.Admin])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("in-flight request failed: %v", err)
			return
		}
		resp.Body.Close()
		status = resp.StatusCode
	}()
	<-br.started
	cancel() // SIGTERM
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case <-e.srv.draining:
		default:
			if time.Now().After(deadline) {
				t.Fatal("server did not start draining")
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		break
	}
	// The in-flight request is still running; readiness now says no.
	rec := newRecorder()
	e.srv.Handler().ServeHTTP(rec, mustRequest(t, "GET", "/readyz"))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz while draining: %d", rec.Code)
	}
	select {
	case err := <-served:
		t.Fatalf("server stopped before the request in flight finished: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(br.release)
	wg.Wait()
	if status != 200 {
		t.Fatalf("in-flight request: status %d, want 200", status)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}

// TestRefreshPicksUpPromotionsElsewhere promotes through the store (as
// `caserisk models promote` does) and checks Refresh swaps the champion.
func TestRefreshPicksUpPromotionsElsewhere(t *testing.T) {
	e := newEnv(t, "sqlite", envOptions{})
	ctx := context.Background()
	m, err := e.st.RegisterModel(ctx, store.NewModel{Target: store.TenancyFraud, Path: "v2.json",
		Artifact: testArtifact(t, store.TenancyFraud, 5, e.nfeat, 10, 3), Bands: store.Bands{High: 0.5, Medium: 0.2}, RegisteredBy: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.PromoteModel(ctx, store.TenancyFraud, m.Version, "cli"); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if v := e.srv.champions.Get(store.TenancyFraud).Version; v != m.Version {
		t.Fatalf("champion v%d after refresh, want v%d", v, m.Version)
	}
	// A registered artifact that does not load is refused at promotion.
	bad, err := e.st.RegisterModel(ctx, store.NewModel{Target: store.TenancyFraud, Path: "bad.json",
		Artifact: testArtifact(t, store.ComplexCase, 6, e.nfeat, 5, 3), Bands: store.Bands{High: 0.5, Medium: 0.2}, RegisteredBy: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	got, body := e.do(auth.Admin, "POST", fmt.Sprintf("/api/v1/models/%d/promote?target=tenancy_fraud", bad.Version), nil)
	if got != http.StatusUnprocessableEntity {
		t.Fatalf("promoting a mismatched artifact: %d %s", got, body)
	}
	if v := e.srv.champions.Get(store.TenancyFraud).Version; v != m.Version {
		t.Fatalf("champion changed to v%d after a refused promotion", v)
	}
	// Version 2 exists only for tenancy_fraud, so the target may be left out.
	if got, body := e.do(auth.Admin, "POST", fmt.Sprintf("/api/v1/models/%d/promote", m.Version), nil); got != 200 ||
		!strings.Contains(string(body), `"target":"tenancy_fraud"`) {
		t.Fatalf("promote by unique version: %d %s", got, body)
	}
	if _, err := e.st.Champion(ctx, store.TenancyFraud); err != nil || errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
}
