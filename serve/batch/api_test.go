package batch

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"caserisk/models/target"
	"caserisk/serve/api"
	"caserisk/serve/api/champion"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// apiWithRunner starts the API on st with a score-run runner on the borough
// in dir that scores at most capacity cases (0: the runner's default); the
// server is closed when the test ends.
func apiWithRunner(t *testing.T, st store.Store, dir string, capacity int) *api.Server {
	t.Helper()
	r, err := New(Config{Store: st, Load: champion.LoadArtifact, DataDir: dir, Capacity: capacity})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(context.Background(), api.Config{Store: st, Load: champion.LoadArtifact, Runner: r})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// TestScoreRunThroughAPI runs a score run from POST /api/v1/score-runs on
// a synthetic borough and follows it through the caseworker's queue and a
// resident's risk, as the service is used.
func TestScoreRunThroughAPI(t *testing.T) {
	dir := borough(t)
	ctx := context.Background()
	st := openStore(t, "sqlite")
	promoteChampionsFrom(t, st, dir, 7)
	tokens := map[auth.Role]string{}
	for _, role := range []auth.Role{auth.Admin, auth.Caseworker} {
		tok, err := auth.NewToken(nil)
		if err != nil {
			t.Fatal(err)
		}
		u, err := st.CreateUser(ctx, "t-"+string(role), role)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddToken(ctx, u.ID, tok); err != nil {
			t.Fatal(err)
		}
		tokens[role] = tok.Secret
	}
	srv := apiWithRunner(t, st, dir, 0)
	call := func(role auth.Role, method, path, body string, out any) int {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tokens[role])
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if out != nil && rec.Code == http.StatusOK {
			if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, rec.Body.Bytes())
			}
		}
		return rec.Code
	}
	var runs struct {
		Runs []struct {
			Target      string `json:"target"`
			Rows        int    `json:"rows"`
			CasesOpened int    `json:"cases_opened"`
		} `json:"runs"`
	}
	if code := call(auth.Caseworker, "POST", "/api/v1/score-runs", `{"as_of":"2024-01-01"}`, nil); code != http.StatusForbidden {
		t.Fatalf("a caseworker started a score run: %d", code)
	}
	if code := call(auth.Admin, "POST", "/api/v1/score-runs", `{"as_of":"2024-01-01","capacity":15,"targets":["complex_case"]}`, &runs); code != 200 {
		t.Fatalf("score run: status %d", code)
	}
	if len(runs.Runs) != 1 || runs.Runs[0].CasesOpened != 15 || runs.Runs[0].Rows < 1000 {
		t.Fatalf("runs %+v", runs)
	}
	var queue struct {
		Total int `json:"total"`
		Cases []struct {
			ResidentID string  `json:"resident_id"`
			Score      float64 `json:"score"`
			Rank       int     `json:"rank"`
		} `json:"cases"`
	}
	if code := call(auth.Caseworker, "GET", "/api/v1/queues/complex-cases?limit=5", "", &queue); code != 200 || queue.Total != 15 || len(queue.Cases) != 5 {
		t.Fatalf("queue %d %+v", code, queue)
	}
	for i := 1; i < len(queue.Cases); i++ {
		if queue.Cases[i].Score > queue.Cases[i-1].Score {
			t.Fatalf("queue not ranked: %+v", queue.Cases)
		}
	}
	var risk struct {
		Scores []struct {
			Rank    int               `json:"rank"`
			Band    string            `json:"band"`
			Reasons []champion.Reason `json:"reasons"`
		} `json:"scores"`
	}
	top := queue.Cases[0].ResidentID
	if code := call(auth.Caseworker, "GET", "/api/v1/residents/"+top+"/risk", "", &risk); code != 200 {
		t.Fatalf("risk: %d", code)
	}
	if len(risk.Scores) != 1 || risk.Scores[0].Rank != queue.Cases[0].Rank || risk.Scores[0].Band != target.BandOf(queue.Cases[0].Score) || len(risk.Scores[0].Reasons) == 0 {
		t.Fatalf("risk of %s: %+v", top, risk)
	}
	var view struct {
		Resident struct {
			ID string `json:"id"`
		} `json:"resident"`
		Timeline []json.RawMessage `json:"timeline"`
	}
	if code := call(auth.Caseworker, "GET", "/api/v1/residents/"+top, "", &view); code != 200 || view.Resident.ID != top {
		t.Fatalf("single view of %s: %d %+v", top, code, view)
	}
	// Repeating the run is idempotent.
	if code := call(auth.Admin, "POST", "/api/v1/score-runs", `{"as_of":"2024-01-01","capacity":15,"targets":["complex_case"]}`, &runs); code != 200 {
		t.Fatalf("repeat: %d", code)
	}
	all, err := st.ScoreRuns(ctx, "")
	if err != nil || len(all) != 1 {
		t.Fatalf("%d runs after a repeat (%v)", len(all), err)
	}
}

// TestScoreRunAPIAnswers: dates outside the data are 400 problems naming
// the range; a run while another holds the claim is a 409 naming it;
// concurrent POSTs give 200 or 409, never a 5xx.
func TestScoreRunAPIAnswers(t *testing.T) {
	dir := borough(t)
	ctx := context.Background()
	st := openStore(t, "sqlite")
	promoteChampions(t, st, dir)
	tok, err := auth.NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUserWithToken(ctx, "admin.one", auth.Admin, tok); err != nil {
		t.Fatal(err)
	}
	srv := apiWithRunner(t, st, dir, 5)
	post := func(body string) (int, string) {
		req := httptest.NewRequest("POST", "/api/v1/score-runs", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.Secret)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	for _, body := range []string{`{"as_of":"1900-01-01"}`, `{"as_of":"2099-01-01"}`} {
		if code, out := post(body); code != http.StatusBadRequest || !strings.Contains(out, "2021-01-01 to 2025-01-01") {
			t.Errorf("%s: %d %s, want 400 naming the range", body, code, out)
		}
	}
	other, err := st.Claim(ctx, scoreRunsClaim, store.ClaimOptions{Holder: "another score run"})
	if err != nil {
		t.Fatal(err)
	}
	if code, out := post(`{"as_of":"2024-01-01"}`); code != http.StatusConflict || !strings.Contains(out, "another score run") {
		t.Errorf("while held: %d %s, want 409 naming the holder", code, out)
	}
	other.Release()
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = post(`{"as_of":"2024-01-01"}`)
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
		default:
			t.Errorf("concurrent POST /score-runs: %d, want 200 or 409", c)
		}
	}
	if ok == 0 {
		t.Errorf("concurrent POSTs: %v, want one 200", codes)
	}
}
