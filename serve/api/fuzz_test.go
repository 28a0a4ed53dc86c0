package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// serve sends one request straight to the handler.
func (e *env) serve(role auth.Role, method, path string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

// serveChecked is serve with the exchange checked against the OpenAPI
// document.
func (e *env) serveChecked(t *testing.T, role auth.Role, method, path string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	rec := e.serve(role, method, path, body)
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	req.Header.Set("Content-Type", "application/json")
	if err := e.oas.check(exchange{req: req, reqBody: body, status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}); err != nil {
		t.Error(err)
	}
	return rec
}

// checkProblem fails unless rec is a 2xx JSON answer or a 4xx problem.
func checkProblem(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("status %d with a body that is not JSON: %q", rec.Code, rec.Body.Bytes())
	}
	if rec.Code >= 400 {
		var p struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || p.Detail == "" {
			t.Fatalf("status %d without a problem document: %s", rec.Code, rec.Body.Bytes())
		}
	}
}

func FuzzScoreHandler(f *testing.F) {
	e := newEnv(f, "sqlite", envOptions{})
	valid, _ := json.Marshal(map[string]any{"rows": []any{e.row(1)}, "reasons": 2})
	f.Add(valid, true)
	f.Add([]byte(`{"rows":[{"rent_arrears_gbp_90d":NaN}]}`), false)
	f.Add([]byte(`{"rows":[{"rent_arrears_gbp_90d":1e999}],"reasons":-1}`), true)
	f.Add([]byte(`{"rows":[],"x":{}}`), false)
	f.Add([]byte(`[`), true)
	f.Fuzz(func(t *testing.T, body []byte, fraud bool) {
		target := "complex_case"
		if fraud {
			target = "tenancy_fraud"
		}
		rec := e.serveChecked(t, auth.DataScientist, "POST", "/api/v1/score?target="+target, body)
		checkProblem(t, rec)
		if rec.Code == 200 {
			var out scoreResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Results) == 0 {
				t.Fatalf("200 without results: %s", rec.Body.Bytes())
			}
		}
	})
}

func FuzzCaseHandlers(f *testing.F) {
	e := newEnv(f, "sqlite", envOptions{})
	seed(f, e.st)
	ctx := context.Background()
	ids := []int64{caseOf(f, e.st, store.ComplexCase, "R1"), caseOf(f, e.st, store.ComplexCase, "R2"), caseOf(f, e.st, store.TenancyFraud, "T1")}
	f.Add(uint8(0), false, []byte(`{"status":"reviewing","note":"x"}`))
	f.Add(uint8(1), true, []byte(`{"outcome":"no_need_found"}`))
	f.Add(uint8(2), true, []byte(`{"outcome":"fraud_confirmed","note":3}`))
	f.Add(uint8(0), false, []byte(`{"status":"closed"}`))
	f.Add(uint8(1), false, []byte(`{"status":"help_offered","extra":[1,2]}`))
	f.Fuzz(func(t *testing.T, which uint8, outcome bool, body []byte) {
		id := ids[int(which)%len(ids)]
		before, err := e.st.Case(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		role := auth.Caseworker
		if before.Kind == store.TenancyFraud {
			role = auth.FraudOfficer
		}
		path := fmt.Sprintf("/api/v1/cases/%d/status", id)
		if outcome {
			path = fmt.Sprintf("/api/v1/cases/%d/outcome", id)
		}
		rec := e.serveChecked(t, role, "POST", path, body)
		checkProblem(t, rec)
		after, err := e.st.Case(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Code != http.StatusOK && (after.Status != before.Status || after.Outcome != before.Outcome || !after.Updated.Equal(before.Updated)) {
			t.Fatalf("status %d but the case changed: %+v -> %+v", rec.Code, before, after)
		}
		if _, err := audit.Verify(ctx, e.st); err != nil {
			t.Fatalf("audit chain: %v", err)
		}
	})
}
