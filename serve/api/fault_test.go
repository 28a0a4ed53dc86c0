package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// claimRunner is a score-run runner that holds the store's real
// "score_runs" claim for hold, as the batch runner does, over data that
// covers 2021-01-01 to 2025-01-01.
type claimRunner struct {
	st   store.Store
	hold atomic.Int64 // nanoseconds
}

func (r *claimRunner) Run(ctx context.Context, req core.RunRequest) ([]store.ScoreRun, error) {
	cl, err := r.st.Claim(ctx, "score_runs", req.Claim)
	if err != nil {
		return nil, err
	}
	defer cl.Release()
	select {
	case <-time.After(time.Duration(r.hold.Load())):
	case <-cl.Context().Done():
		return nil, cl.Err(cl.Context().Err())
	}
	return []store.ScoreRun{{ID: 1, Target: req.Targets[0], AsOf: req.AsOf, ModelVersion: 1}}, nil
}

func (r *claimRunner) Coverage(context.Context) (string, string, error) {
	return "2021-01-01", "2025-01-01", nil
}

// TestFaultBadRequests sends a corpus of bad requests to every route, as
// every role and none: malformed path parameters, query parameters and
// bodies, wrong content types and methods, and score runs dated outside
// the data; then concurrent score runs. No answer may be a 5xx.
func TestFaultBadRequests(t *testing.T) {
	runner := &claimRunner{}
	e := newEnv(t, "sqlite", envOptions{config: func(c *Config) { c.Runner = runner }})
	runner.st = e.st
	seed(t, e.st)
	h := e.srv.Handler()
	type result struct {
		method, path string
		status       int
		body         string
	}
	var results []result
	send := func(role auth.Role, method, path, ctype, body string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		switch role {
		case "":
		case "forged":
			req.Header.Set("Authorization", "Bearer crk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		default:
			req.Header.Set("Authorization", "Bearer "+e.tokens[role])
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		results = append(results, result{method, path, rec.Code, rec.Body.String()})
		return rec.Code
	}
	paramValues := []string{"0", "-1", "abc", "1e3", "99999999999999999999", "%00", "%ff%fe", strings.Repeat("a", 300), "R1", "1",
		"complex_case:0", "bogus:1", "..%2f..%2fetc"}
	queryValues := []string{"", "-1", "abc", "99999999999999999999", "2024-13-01", "%00", "complex_case", "bogus,closed", "1900-01-01"}
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	bodies := []string{"", "null", "[]", "{", "{}", `{"x":1}`, `"str"`, `{"as_of":1}`, `{"rows":"x"}`, `{"status":null}`,
		`{"status":"closed"}`, `{"outcome":"bogus","note":` + fmt.Sprintf("%q", strings.Repeat("n", 5000)) + `}`,
		`{"rows":[{"x":1e400}]}`, deep, "\xff\xfe{}", `{"as_of":"2024-01-01","capacity":-5}`, `{"as_of":"2024-01-01","targets":["x"]}`,
		`{"as_of":"2024-01-01","capacity":1e12}`, `{"as_of":"1900-01-01"}`, `{"as_of":"2099-01-01"}`, `{"as_of":"2024-02-30"}`,
		`{"rows":[]}`, `{"rows":[{}]}`}
	roles := []auth.Role{auth.Admin, auth.Caseworker, auth.FraudOfficer, "", "forged"}
	for _, r := range e.srv.table() {
		base := r.path
		fill := func(v string) string {
			segs := strings.Split(base, "/")
			for i, s := range segs {
				if strings.HasPrefix(s, ":") {
					segs[i] = v
				}
			}
			return strings.Join(segs, "/")
		}
		valid := fill("1")
		defQuery := url.Values{}
		for _, q := range r.query {
			if q.required {
				defQuery.Set(q.name, "complex_case")
			}
		}
		withQuery := func(p string, q url.Values) string {
			if len(q) == 0 {
				return p
			}
			return p + "?" + q.Encode()
		}
		for _, role := range roles {
			if strings.Contains(base, ":") {
				for _, v := range paramValues {
					send(role, r.method, withQuery(fill(v), defQuery), "", "{}")
				}
			}
			for _, q := range r.query {
				for _, v := range queryValues {
					qv := url.Values{}
					for k, vs := range defQuery {
						qv[k] = slices.Clone(vs)
					}
					qv.Set(q.name, v)
					send(role, r.method, withQuery(valid, qv), "", "")
				}
			}
			if r.method == http.MethodPost {
				for _, b := range bodies {
					send(role, r.method, withQuery(valid, defQuery), "application/json", b)
				}
				send(role, r.method, withQuery(valid, defQuery), "text/plain", "{}")
				send(role, r.method, withQuery(valid, defQuery), "application/json", strings.Repeat(" ", DefaultMaxBodyBytes+10))
			}
			for _, m := range []string{"PUT", "DELETE", "PATCH"} {
				send(role, m, withQuery(valid, defQuery), "", "")
			}
		}
	}
	// Score runs dated outside the data: 400 naming the range.
	for _, b := range []string{`{"as_of":"1900-01-01"}`, `{"as_of":"2099-01-01"}`} {
		if code := send(auth.Admin, "POST", "/api/v1/score-runs", "application/json", b); code != http.StatusBadRequest ||
			!strings.Contains(results[len(results)-1].body, "2021-01-01 to 2025-01-01") {
			t.Errorf("POST /score-runs %s: %d %s, want 400 naming the range", b, code, results[len(results)-1].body)
		}
	}
	// Concurrent score runs: the runner holds the claim longer than a
	// renewal, so the second sees a live holder: 200 and 409.
	runner.hold.Store(int64(3 * time.Second))
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("POST", "/api/v1/score-runs", strings.NewReader(`{"as_of":"2024-01-01"}`))
			req.Header.Set("Authorization", "Bearer "+e.tokens[auth.Admin])
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			mu.Lock()
			codes[rec.Code]++
			results = append(results, result{"POST", "/api/v1/score-runs (concurrent)", rec.Code, rec.Body.String()})
			mu.Unlock()
		}()
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	if codes[http.StatusOK] != 1 || codes[http.StatusConflict] != 1 {
		t.Errorf("two concurrent score runs: %v, want one 200 and one 409", codes)
	}
	for _, r := range results {
		if r.path == "/api/v1/score-runs (concurrent)" && r.status == http.StatusConflict && !strings.Contains(r.body, "is held by score run by test-admin") {
			t.Errorf("the 409 does not name the holder: %s", r.body)
		}
	}

	byStatus := map[int]int{}
	fives := 0
	for _, r := range results {
		byStatus[r.status]++
		if r.status >= 500 {
			fives++
			if fives <= 10 {
				t.Errorf("%s %s: %d %s", r.method, r.path, r.status, r.body)
			}
		}
	}
	var statuses []int
	for s := range byStatus {
		statuses = append(statuses, s)
	}
	sort.Ints(statuses)
	var parts []string
	for _, s := range statuses {
		parts = append(parts, fmt.Sprintf("%d: %d", s, byStatus[s]))
	}
	t.Logf("%d bad requests to %d routes as %d roles: %s; %d answers ≥ 500", len(results), len(e.srv.table()), len(roles),
		strings.Join(parts, ", "), fives)
}
