package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"caserisk/features/contract"
	"caserisk/models/pipeline"
	"caserisk/serve/api"
	"caserisk/serve/api/champion"
	"caserisk/serve/store"
)

// TestDemoEndToEnd runs the demo's whole pipeline on a small borough, then
// serves it and checks that the champions are the retraining pipeline's
// candidates with the better hold-out average precision in its manifest,
// that the complex-case queue holds scored residents whose scores come
// with reasons, and that a second run reuses every step.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the end-to-end demo takes about a minute; skipped with -short")
	}
	ctx := context.Background()
	o := Defaults()
	o.Dir, o.Residents, o.Capacity, o.Serve, o.Version = t.TempDir(), 6000, 25, false, "test"
	var progress bytes.Buffer
	o.Out = &progress
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if len(res.Runs) != 2 || len(res.Users) != 5 || len(res.Reports) != 4 || len(res.Champions) != 2 || res.Fits == 0 {
		t.Fatalf("result %+v", res)
	}
	for _, want := range []string{"run " + res.Run, res.Manifest, "cross-validation", "max_depth=5", "l2=10", "hold-out as of 2025-01-01"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("the progress does not show %q:\n%s", want, progress.String())
		}
	}
	m, err := pipeline.ReadManifest("", res.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Registered) != 4 || len(m.CrossValidation) != 2 {
		t.Fatalf("manifest: registered %+v, cross-validation of %d targets", m.Registered, len(m.CrossValidation))
	}
	for _, tg := range []string{"complex_case", "tenancy_fraud"} {
		want, bestAP := "", -1.0
		for _, c := range m.Candidates {
			if c.Target != tg {
				continue
			}
			for _, r := range m.Registered {
				if r.Target == tg && r.Algorithm == c.Algorithm && float64(c.Holdout.AP) > bestAP {
					want, bestAP = fmt.Sprintf("%s v%d", c.Algorithm, r.Version), float64(c.Holdout.AP)
				}
			}
		}
		if res.Champions[tg] != want {
			t.Errorf("%s champion %q, want %q (the better hold-out average precision in the manifest)", tg, res.Champions[tg], want)
		}
	}
	// The Residents Index built by linkage from the raw extracts: floors
	// below what a 6,000-resident borough gives, to catch breakage.
	if m := res.Linkage; m == nil || m.Precision < 0.98 || m.Recall < 0.95 {
		t.Errorf("linkage against the true links: %+v", m)
	}
	if rep, err := contract.ValidateDir(ctx, res.Linked, contract.Default()); err != nil || !rep.OK() {
		t.Errorf("the linked Residents Index breaks the contract: %v", err)
	}

	st, err := store.Open(ctx, res.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := api.New(ctx, api.Config{Store: st, Load: champion.LoadArtifact})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	token := map[string]string{}
	for _, u := range res.Users {
		token[u.Role] = u.Token
	}
	get := func(role, path string, v any) int {
		req, _ := http.NewRequest("GET", hs.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token[role])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if v != nil && resp.StatusCode == 200 {
			if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode
	}
	var queue struct {
		Total int `json:"total"`
		Cases []struct {
			ResidentID string  `json:"resident_id"`
			Score      float64 `json:"score"`
			Rank       int     `json:"rank"`
		} `json:"cases"`
	}
	if code := get("caseworker", "/api/v1/queues/complex-cases?limit=5", &queue); code != 200 {
		t.Fatalf("queue: HTTP %d", code)
	}
	if queue.Total != o.Capacity || len(queue.Cases) != 5 || queue.Cases[0].Rank != 1 || queue.Cases[0].Score <= queue.Cases[4].Score {
		t.Fatalf("queue %+v", queue)
	}
	for _, c := range queue.Cases {
		var risk struct {
			Scores []struct {
				Target  string `json:"target"`
				Band    string `json:"band"`
				Reasons []struct {
					Text string `json:"text"`
				} `json:"reasons"`
			} `json:"scores"`
		}
		if code := get("caseworker", "/api/v1/residents/"+c.ResidentID+"/risk", &risk); code != 200 {
			t.Fatalf("risk of %s: HTTP %d", c.ResidentID, code)
		}
		if len(risk.Scores) != 1 || risk.Scores[0].Target != "complex_case" || risk.Scores[0].Band != "high" || len(risk.Scores[0].Reasons) == 0 {
			t.Fatalf("risk of %s: %+v", c.ResidentID, risk)
		}
		for _, r := range risk.Scores[0].Reasons {
			if r.Text == "" || strings.Contains(r.Text, "_") {
				t.Errorf("reason %q is empty or shows an internal name", r.Text)
			}
		}
	}
	// Purpose limits hold on the demo's users.
	if code := get("caseworker", "/api/v1/queues/tenancy-fraud", nil); code != 403 {
		t.Errorf("caseworker reading the fraud queue: HTTP %d, want 403", code)
	}

	// A second run reuses every step that writes files and changes nothing.
	progress.Reset()
	again, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(progress.String(), "reusing"); n != 3 || again.Fits != 0 || again.Run != res.Run {
		t.Errorf("second run reused %d steps (want 3), fitted %d models (want 0), run %s (want %s):\n%s", n, again.Fits, again.Run, res.Run, progress.String())
	}
	if again.Champions["complex_case"] != res.Champions["complex_case"] || !strings.Contains(progress.String(), "champion already") {
		t.Errorf("second run champions %v, first %v", again.Champions, res.Champions)
	}
	for i := range again.Runs {
		if again.Runs[i].ID != res.Runs[i].ID {
			t.Errorf("second run made a new score run: %d, was %d", again.Runs[i].ID, res.Runs[i].ID)
		}
	}
	t.Log(progress.String())
}
