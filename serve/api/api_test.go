package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// seed loads three residents and one score run per target: complex_case
// scores R1..R3 (R1 and R3 in one household; cases for the top 2
// households, R1's and R2), tenancy_fraud scores tenancy T1 whose lead
// tenant is R2 (a case for it).
func seed(t testing.TB, st store.Store) {
	t.Helper()
	ctx := context.Background()
	in, err := st.BeginIngest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			_ = in.Rollback()
			t.Fatal(err)
		}
	}
	must(in.AddResidents(ctx, []store.Resident{
		{ID: "R1", GivenName: "Ada", FamilyName: "Test", DateOfBirth: "1980-01-02", FirstSeen: "2010-01-01"},
		{ID: "R2", GivenName: "Bo", FamilyName: "Test", FirstSeen: "2012-05-01"},
		{ID: "R3", GivenName: "Cy", FamilyName: "Test", FirstSeen: "2015-07-01"},
	}))
	must(in.AddProperties(ctx, []store.Property{{UPRN: 100, Address: "1 Test Street", Postcode: "ZZ1 1ZZ", Ward: "Central"}}))
	must(in.AddResidences(ctx, []store.Residence{{ResidentID: "R1", UPRN: 100, Start: "2010-01-01"}}))
	must(in.AddEvents(ctx, []store.Event{
		{ResidentID: "R1", Service: "repairs", Date: "2024-03-01", Type: "damp", UPRN: 100},
		{ResidentID: "R1", Service: "rent_account", Date: "2024-04-01", Type: "arrears", Amount: 420, HasAmount: true},
		{ResidentID: "R1", Service: "fraud_investigations", Date: "2024-05-01", Type: "referral"},
	}))
	must(in.Commit())
	reasons := json.RawMessage(`[{"feature":"rent_arrears_gbp_90d","value":420,"contribution":0.5,"text":"Rent arrears raised the risk"}]`)
	if _, _, err := st.RecordScoreRun(ctx, store.NewRun{Target: store.ComplexCase, AsOf: "2025-01-31", ModelVersion: 1, Capacity: 2,
		Scores: []store.Score{
			{EntityID: "R1", ResidentID: "R1", Score: 0.8, Margin: 1.4, Band: "high", Rank: 1, Reasons: reasons, Household: "100"},
			{EntityID: "R2", ResidentID: "R2", Score: 0.4, Margin: -0.4, Band: "medium", Rank: 2},
			{EntityID: "R3", ResidentID: "R3", Score: 0.1, Margin: -2.2, Band: "low", Rank: 3, Household: "100"},
		}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.RecordScoreRun(ctx, store.NewRun{Target: store.TenancyFraud, AsOf: "2025-01-31", ModelVersion: 1, Capacity: 1,
		Scores: []store.Score{{EntityID: "T1", ResidentID: "R2", Score: 0.6, Margin: 0.4, Band: "high", Rank: 1}}}); err != nil {
		t.Fatal(err)
	}
}

// caseOf returns the id of the open case of a kind for an entity.
func caseOf(t testing.TB, st store.Store, kind store.Target, entity string) int64 {
	t.Helper()
	cs, _, err := st.Queue(context.Background(), store.QueueQuery{Kind: kind, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.EntityID == entity {
			return c.ID
		}
	}
	t.Fatalf("no %s case for %s", kind, entity)
	return 0
}

func forBackends(t *testing.T, f func(t *testing.T, backend string)) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) { f(t, b) })
	}
}

func TestPurposeMatrix(t *testing.T) {
	forBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend, envOptions{})
		seed(t, e.st)
		score := map[string]any{"rows": []any{e.row(1)}}
		for _, tc := range []struct {
			method, path string
			body         any
			want         map[auth.Role]int
		}{
			{"POST", "/api/v1/score?target=complex_case", score, map[auth.Role]int{none: 401, cw: 200, fo: 403, ds: 200, ad: 403}},
			{"POST", "/api/v1/score?target=tenancy_fraud", score, map[auth.Role]int{none: 401, cw: 403, fo: 200, ds: 200, ad: 403}},
			{"GET", "/api/v1/residents/R1", nil, map[auth.Role]int{none: 401, cw: 200, fo: 200, ds: 403, ad: 403}},
			{"GET", "/api/v1/residents/R1/risk", nil, map[auth.Role]int{none: 401, cw: 200, fo: 200, ds: 403, ad: 403}},
			{"GET", "/api/v1/queues/complex-cases", nil, map[auth.Role]int{none: 401, cw: 200, fo: 403, ds: 403, ad: 403}},
			{"GET", "/api/v1/queues/tenancy-fraud", nil, map[auth.Role]int{none: 401, cw: 403, fo: 200, ds: 403, ad: 403}},
			{"GET", "/api/v1/models", nil, map[auth.Role]int{none: 401, cw: 403, fo: 403, ds: 200, ad: 200}},
			{"GET", "/api/v1/score-runs", nil, map[auth.Role]int{none: 401, cw: 403, fo: 403, ds: 200, ad: 200}},
			{"GET", "/api/v1/labels?target=complex_case", nil, map[auth.Role]int{none: 401, cw: 403, fo: 403, ds: 200, ad: 200}},
			{"GET", "/api/v1/audit", nil, map[auth.Role]int{none: 401, cw: 403, fo: 403, ds: 403, ad: 200}},
			{"POST", "/api/v1/models/1/promote?target=complex_case", nil, map[auth.Role]int{none: 401, cw: 403, fo: 403, ds: 200, ad: 200}},
			{"GET", "/healthz", nil, map[auth.Role]int{none: 200, cw: 200, fo: 200, ds: 200, ad: 200}},
			{"GET", "/readyz", nil, map[auth.Role]int{none: 200, ad: 200}},
			{"GET", "/api/v1/openapi.json", nil, map[auth.Role]int{none: 200}},
			{"GET", "/metrics", nil, map[auth.Role]int{none: 200}},
		} {
			for role, want := range tc.want {
				name := string(role)
				if name == "" {
					name = "no-token"
				}
				t.Run(tc.method+" "+tc.path+" as "+name, func(t *testing.T) {
					got, body := e.do(role, tc.method, tc.path, tc.body)
					if got != want {
						t.Fatalf("status %d, want %d: %s", got, want, body)
					}
				})
			}
		}
		// The risk view shows each role only its own target's score.
		for role, hidden := range map[auth.Role]string{cw: "tenancy_fraud", fo: "complex_case"} {
			_, body := e.do(role, "GET", "/api/v1/residents/R2/risk", nil)
			var risk riskResponse
			if err := json.Unmarshal(body, &risk); err != nil {
				t.Fatal(err)
			}
			if len(risk.Scores) != 1 {
				t.Fatalf("%s sees %d scores for R2, want 1: %s", role, len(risk.Scores), body)
			}
			if string(risk.Scores[0].Target) == hidden {
				t.Fatalf("%s sees a %s score", role, hidden)
			}
		}
		// Fraud investigations in the timeline only for fraud work.
		_, body := e.do(cw, "GET", "/api/v1/residents/R1", nil)
		if strings.Contains(string(body), "fraud_investigations") {
			t.Fatalf("a caseworker sees fraud investigations: %s", body)
		}
		_, body = e.do(fo, "GET", "/api/v1/residents/R1", nil)
		if !strings.Contains(string(body), "fraud_investigations") {
			t.Fatalf("a fraud officer does not see fraud investigations: %s", body)
		}
		// The promotion's target: ?target=, TARGET:N, or the only target
		// with that version.
		for path, want := range map[string]int{
			"/api/v1/models/1/promote":                                   400, // both targets have v1
			"/api/v1/models/complex_case:1/promote":                      200,
			"/api/v1/models/tenancy_fraud:1/promote?target=complex_case": 400,
			"/api/v1/models/9/promote":                                   404,
			"/api/v1/models/x:1/promote":                                 400,
		} {
			if got, body := e.do(ad, "POST", path, nil); got != want {
				t.Errorf("POST %s: %d, want %d: %s", path, got, want, body)
			}
		}
		// A wrong token is 401 like a missing one.
		e.tokens["bogus"] = "crk_" + strings.Repeat("A", 43)
		if got, _ := e.do("bogus", "GET", "/api/v1/models", nil); got != 401 {
			t.Fatalf("unknown token: status %d, want 401", got)
		}
	})
}

func TestResidentReadsAudited(t *testing.T) {
	forBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend, envOptions{})
		seed(t, e.st)
		for i, tc := range []struct {
			role     auth.Role
			path     string
			resource string
			status   int
		}{
			{auth.Caseworker, "/api/v1/residents/R1", "resident/R1", 200},
			{auth.Caseworker, "/api/v1/residents/R1/risk", "resident/R1/risk", 200},
			{auth.FraudOfficer, "/api/v1/residents/R2/risk", "resident/R2/risk", 200},
			{auth.Caseworker, "/api/v1/residents/NOPE", "resident/NOPE", 404},
			{auth.Caseworker, "/api/v1/queues/complex-cases", "queue/complex_case", 200},
			{auth.Caseworker, "/api/v1/residents?name=ada+test", "residents/search", 200},
		} {
			before := e.auditCount(tc.resource)
			got, body := e.do(tc.role, "GET", tc.path, nil)
			if got != tc.status {
				t.Fatalf("%d: %s: status %d, want %d: %s", i, tc.path, got, tc.status, body)
			}
			if after := e.auditCount(tc.resource); after != before+1 {
				t.Fatalf("%d: %s: %d audit rows for %s after the read, want %d", i, tc.path, after, tc.resource, before+1)
			}
			if tc.status == 200 && strings.Contains(tc.path, "/residents/R1") && !strings.Contains(tc.path, "risk") &&
				!strings.Contains(string(body), "Ada") {
				t.Fatalf("single view lacks the resident: %s", body)
			}
			if tc.resource == "residents/search" && !strings.Contains(string(body), `{"id":"R1","name":"Ada Test","date_of_birth":"1980-01-02","age":`) {
				t.Fatalf("the search does not find Ada Test with her details: %s", body)
			}
		}
		// A complex case lists its household's members with their own scores.
		got, body := e.do(auth.Caseworker, "GET", fmt.Sprintf("/api/v1/cases/%d", caseOf(t, e.st, store.ComplexCase, "R1")), nil)
		if got != 200 || !strings.Contains(string(body), `"household":"100"`) ||
			!strings.Contains(string(body), `"members":[{"resident_id":"R1","entity_id":"R1","score":0.8,"band":"high","rank":1},{"resident_id":"R3"`) {
			t.Fatalf("case of R1's household: %d %s", got, body)
		}
		// A forbidden read is refused before any data is read.
		before := e.auditCount("resident/")
		if got, _ := e.do(auth.DataScientist, "GET", "/api/v1/residents/R1", nil); got != 403 {
			t.Fatalf("data scientist read a resident: %d", got)
		}
		if e.auditCount("resident/") != before {
			t.Fatal("a refused read was audited as a read")
		}
		es, err := e.st.Audit(context.Background(), store.AuditFilter{Resource: "resident/R1", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if es[0].User != "test-caseworker" || es[0].Purpose != "complex-case review" || es[0].RequestID == "" {
			t.Fatalf("audit row lacks who/why/request: %+v", es[0])
		}
		// The rows the API wrote form an intact chain.
		sum, err := audit.Verify(context.Background(), e.st)
		if err != nil || sum.Rows < 5 {
			t.Fatalf("audit chain after API reads: %+v, %v", sum, err)
		}
	})
}

func TestBadInputs(t *testing.T) {
	forBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend, envOptions{})
		seed(t, e.st)
		cw := auth.Caseworker
		caseID := caseOf(t, e.st, store.ComplexCase, "R1")
		row := e.row(3)
		missing := e.row(3)
		delete(missing, "household_size")
		unknown := e.row(3)
		unknown["given_name"] = 1
		big := `{"rows":[` + strings.Repeat(" ", DefaultMaxBodyBytes) + `]}`
		tooMany := make([]any, 51)
		for i := range tooMany {
			tooMany[i] = row
		}
		for _, tc := range []struct {
			name, method, path string
			body               any
			status             int
			field              string
		}{
			{"malformed body", "POST", "/api/v1/score?target=complex_case", `{"rows":[`, 400, "rows[0]"},
			{"unknown field", "POST", "/api/v1/score?target=complex_case", map[string]any{"rows": []any{row}, "explain": true}, 400, "explain"},
			{"NaN", "POST", "/api/v1/score?target=complex_case", `{"rows":[{"rent_arrears_gbp_90d":NaN}]}`, 400, "rows[0].rent_arrears_gbp_90d"},
			{"missing feature", "POST", "/api/v1/score?target=complex_case", map[string]any{"rows": []any{missing}}, 400, "rows[0].household_size"},
			{"unknown feature", "POST", "/api/v1/score?target=complex_case", map[string]any{"rows": []any{unknown}}, 400, "rows[0].given_name"},
			{"oversize body", "POST", "/api/v1/score?target=complex_case", big, 413, "body"},
			{"too many rows", "POST", "/api/v1/score?target=complex_case", map[string]any{"rows": tooMany}, 413, "rows"},
			{"too many reasons", "POST", "/api/v1/score?target=complex_case", map[string]any{"rows": []any{row}, "reasons": 6}, 400, "reasons"},
			{"no target", "POST", "/api/v1/score", map[string]any{"rows": []any{row}}, 400, "target"},
			{"bad target", "POST", "/api/v1/score?target=fraud", map[string]any{"rows": []any{row}}, 400, "target"},
			{"unknown resident", "GET", "/api/v1/residents/R999", nil, 404, "id"},
			{"bad resident id", "GET", "/api/v1/residents/a%20b", nil, 400, "id"},
			{"bad timeline date", "GET", "/api/v1/residents/R1?from=2024-13-01", nil, 400, "from"},
			{"bad limit", "GET", "/api/v1/queues/complex-cases?limit=0", nil, 400, "limit"},
			{"bad queue status", "GET", "/api/v1/queues/complex-cases?status=investigating", nil, 400, "status"},
			{"unknown case", "POST", "/api/v1/cases/999999/status", map[string]any{"status": "reviewing"}, 404, "id"},
			{"bad case id", "POST", "/api/v1/cases/x/status", map[string]any{"status": "reviewing"}, 400, "id"},
			{"case unknown field", "POST", fmt.Sprintf("/api/v1/cases/%d/status", caseID), map[string]any{"status": "reviewing", "x": 1}, 400, "x"},
			{"case wrong type", "POST", fmt.Sprintf("/api/v1/cases/%d/status", caseID), `{"status":3}`, 400, "status"},
			{"case unknown status", "POST", fmt.Sprintf("/api/v1/cases/%d/status", caseID), map[string]any{"status": "done"}, 400, "status"},
			{"case bad transition", "POST", fmt.Sprintf("/api/v1/cases/%d/status", caseID), map[string]any{"status": "help_offered"}, 409, "status"},
			{"case no outcome", "POST", fmt.Sprintf("/api/v1/cases/%d/outcome", caseID), map[string]any{"note": "x"}, 400, "outcome"},
			{"case bad outcome", "POST", fmt.Sprintf("/api/v1/cases/%d/outcome", caseID), map[string]any{"outcome": "no_fraud"}, 400, "outcome"},
			{"case empty body", "POST", fmt.Sprintf("/api/v1/cases/%d/status", caseID), "", 400, "body"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, body := e.do(cw, tc.method, tc.path, tc.body)
				if got != tc.status {
					t.Fatalf("status %d, want %d: %s", got, tc.status, body)
				}
				var p struct {
					Status int `json:"status"`
					Errors []struct {
						Field string `json:"field"`
					} `json:"errors"`
				}
				if err := json.Unmarshal(body, &p); err != nil {
					t.Fatalf("not a problem document: %v: %s", err, body)
				}
				if p.Status != tc.status || len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
					t.Fatalf("problem %s does not name field %q", body, tc.field)
				}
			})
		}
		// None of the rejected case updates moved the case.
		k, err := e.st.Case(context.Background(), caseID)
		if err != nil {
			t.Fatal(err)
		}
		if k.Status != store.StatusNew {
			t.Fatalf("case moved to %s after rejected updates", k.Status)
		}
	})
}

func TestScoreAndReasons(t *testing.T) {
	e := newEnv(t, "sqlite", envOptions{})
	got, body := e.do(auth.DataScientist, "POST", "/api/v1/score?target=complex_case",
		map[string]any{"rows": []any{e.row(1), e.row(2)}, "reasons": 3})
	if got != 200 {
		t.Fatalf("status %d: %s", got, body)
	}
	var out scoreResponse
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	ch := e.srv.champions.Get(store.ComplexCase)
	if out.ModelVersion != ch.Version || len(out.Results) != 2 {
		t.Fatalf("response %s", body)
	}
	for i, r := range out.Results {
		x := make([]float64, ch.NumFeatures())
		for j, n := range ch.Features() {
			x[j] = e.row(i + 1)[n].(float64)
		}
		want, _ := ch.Model.Score(x)
		if r.Score != want || r.Band != ch.Bands.Band(want) {
			t.Fatalf("row %d: score %v band %s, want %v %s", i, r.Score, r.Band, want, ch.Bands.Band(want))
		}
		if len(r.Reasons) == 0 || len(r.Reasons) > 3 || r.Reasons[0].Text == "" {
			t.Fatalf("row %d: reasons %+v", i, r.Reasons)
		}
	}
	// The metrics count the rows and the requests by route template.
	_, metrics := e.do("", "GET", "/metrics", nil)
	for _, want := range []string{`caserisk_rows_scored_total{target="complex_case"} 2`,
		`caserisk_http_request_duration_seconds_count{method="POST",route="/api/v1/score",status="200"} 1`,
		`caserisk_champion_version{target="complex_case"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The as-of date the reasons count back from is a date, or a 400 naming it.
	if got, body := e.do(auth.DataScientist, "POST", "/api/v1/score?target=complex_case&as_of=2025-01-01",
		map[string]any{"rows": []any{e.row(1)}, "reasons": 2}); got != 200 {
		t.Fatalf("as_of: status %d: %s", got, body)
	}
	if got, body := e.do(auth.DataScientist, "POST", "/api/v1/score?target=complex_case&as_of=2025-02-30",
		map[string]any{"rows": []any{e.row(1)}, "reasons": 2}); got != 400 || !strings.Contains(string(body), `"as_of"`) {
		t.Fatalf("a bad as_of: status %d: %s", got, body)
	}
	// null is a value not known, scored as missing.
	row := e.row(1)
	row["school_attendance_pct"] = nil
	if got, body := e.do(auth.DataScientist, "POST", "/api/v1/score?target=complex_case", map[string]any{"rows": []any{row}, "reasons": 5}); got != 200 {
		t.Fatalf("null value: status %d: %s", got, body)
	}
}

func TestCaseWorkflowAndLabels(t *testing.T) {
	forBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend, envOptions{})
		seed(t, e.st)
		id := caseOf(t, e.st, store.ComplexCase, "R1")
		fraud := caseOf(t, e.st, store.TenancyFraud, "T1")
		steps := []struct {
			role   auth.Role
			path   string
			body   any
			status int
		}{
			// A case of a kind the role may not work is not found, as a
			// missing one is.
			{auth.FraudOfficer, fmt.Sprintf("/api/v1/cases/%d/status", id), map[string]any{"status": "reviewing"}, 404},
			{auth.Caseworker, fmt.Sprintf("/api/v1/cases/%d/status", fraud), map[string]any{"status": "investigating"}, 404},
			{auth.Caseworker, fmt.Sprintf("/api/v1/cases/%d/status", id), map[string]any{"status": "reviewing", "note": "called"}, 200},
			{auth.Caseworker, fmt.Sprintf("/api/v1/cases/%d/status", id), map[string]any{"status": "help_offered"}, 200},
			{auth.Caseworker, fmt.Sprintf("/api/v1/cases/%d/outcome", id), map[string]any{"outcome": "help_accepted"}, 200},
			{auth.Caseworker, fmt.Sprintf("/api/v1/cases/%d/status", id), map[string]any{"status": "reviewing"}, 409},
			{auth.FraudOfficer, fmt.Sprintf("/api/v1/cases/%d/outcome", fraud), map[string]any{"outcome": "no_fraud"}, 200},
		}
		for i, s := range steps {
			if got, body := e.do(s.role, "POST", s.path, s.body); got != s.status {
				t.Fatalf("step %d: status %d, want %d: %s", i, got, s.status, body)
			}
		}
		got, body := e.do(auth.Caseworker, "GET", fmt.Sprintf("/api/v1/cases/%d", id), nil)
		var detail caseDetail
		if err := json.Unmarshal(body, &detail); err != nil || got != 200 {
			t.Fatalf("case detail %d: %s", got, body)
		}
		if len(detail.History) < 4 || detail.Status != store.StatusClosed || detail.History[len(detail.History)-1].To != store.StatusClosed {
			t.Fatalf("case history %s", body)
		}
		if got, _ := e.do(auth.FraudOfficer, "GET", fmt.Sprintf("/api/v1/cases/%d", id), nil); got != 404 {
			t.Fatalf("fraud officer read a complex case: %d", got)
		}
		_, body = e.do(auth.DataScientist, "GET", "/api/v1/labels?target=complex_case", nil)
		var ls struct {
			Labels []labelJSON `json:"labels"`
		}
		if err := json.Unmarshal(body, &ls); err != nil {
			t.Fatal(err)
		}
		if len(ls.Labels) != 1 || ls.Labels[0].EntityID != "R1" || ls.Labels[0].Label != 1 {
			t.Fatalf("labels %s", body)
		}
		_, body = e.do(auth.Caseworker, "GET", "/api/v1/queues/complex-cases?status=closed", nil)
		var q queueResponse
		if err := json.Unmarshal(body, &q); err != nil {
			t.Fatal(err)
		}
		if q.Total != 1 || q.Cases[0].Outcome != store.OutcomeHelpAccepted {
			t.Fatalf("closed queue %s", body)
		}
	})
}

// TestPromoteUnderLoad hammers POST /score from several goroutines while a
// new version is promoted: no request may fail, and once the promotion has
// answered every new request is scored by the new champion.
func TestPromoteUnderLoad(t *testing.T) {
	forBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend, envOptions{})
		ctx := context.Background()
		v2, err := e.st.RegisterModel(ctx, store.NewModel{Target: store.ComplexCase, Path: "v2.json",
			Artifact: testArtifact(t, store.ComplexCase, 99, e.nfeat, 30, 4), Bands: store.Bands{High: 0.3, Medium: 0.1}, RegisteredBy: "test"})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"rows": []any{e.row(5)}, "reasons": 2})
		var (
			stop     atomic.Bool
			failures atomic.Int64
			total    atomic.Int64
			promoted atomic.Bool
			stale    atomic.Int64
			wg       sync.WaitGroup
		)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					after := promoted.Load()
					req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/score?target=complex_case", strings.NewReader(string(body)))
					req.Header.Set("Authorization", "Bearer "+e.tokens[auth.DataScientist])
					resp, err := e.http.Client().Do(req)
					if err != nil {
						failures.Add(1)
						continue
					}
					var out scoreResponse
					err = json.NewDecoder(resp.Body).Decode(&out)
					resp.Body.Close()
					total.Add(1)
					if err != nil || resp.StatusCode != 200 {
						failures.Add(1)
						continue
					}
					if after && out.ModelVersion != v2.Version {
						stale.Add(1)
					}
				}
			}()
		}
		for total.Load() < 50 {
			runtimeGosched()
		}
		if got, b := e.do(auth.Admin, "POST", fmt.Sprintf("/api/v1/models/%d/promote?target=complex_case", v2.Version), nil); got != 200 {
			t.Fatalf("promote: %d %s", got, b)
		}
		promoted.Store(true)
		start := total.Load()
		for total.Load() < start+50 {
			runtimeGosched()
		}
		stop.Store(true)
		wg.Wait()
		if failures.Load() != 0 {
			t.Fatalf("%d of %d requests failed during the promotion", failures.Load(), total.Load())
		}
		if stale.Load() != 0 {
			t.Fatalf("%d requests after the promotion were scored by the old champion", stale.Load())
		}
		if c := e.srv.champions.Get(store.ComplexCase); c.Version != v2.Version {
			t.Fatalf("champion is v%d, want v%d", c.Version, v2.Version)
		}
		m, err := e.st.Champion(ctx, store.ComplexCase)
		if err != nil || m.Version != v2.Version || m.PromotedBy != "test-admin" {
			t.Fatalf("registry champion %+v, %v", m, err)
		}
	})
}
