package api

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"caserisk/models/artifact"
	"caserisk/models/calibrate"
	"caserisk/models/dataset"
	"caserisk/models/tree"
	"caserisk/serve/api/champion"
	"caserisk/serve/auth"
	"caserisk/serve/store"
	"caserisk/serve/store/storetest"
)

// testFeatures are the synthetic model's inputs.
func testFeatures(n int) []string {
	base := []string{"rent_arrears_gbp_90d", "repairs_count_365d", "school_attendance_pct", "asb_incidents_365d",
		"council_tax_arrears_gbp", "household_size", "months_at_address", "early_help_episodes_730d"}
	out := make([]string, n)
	for i := range out {
		if i < len(base) {
			out[i] = base[i]
		} else {
			out[i] = fmt.Sprintf("feature_%02d", i)
		}
	}
	return out
}

// randomEnsemble returns trees complete to depth, with random splits on
// random features and covers that add up, deterministic for a seed.
func randomEnsemble(seed uint64, nfeat, ntrees, depth int) *tree.Ensemble {
	r := mrand.New(mrand.NewPCG(seed, 7))
	e := &tree.Ensemble{Base: -2, NumFeatures: nfeat}
	for range ntrees {
		n := 1<<(depth+1) - 1
		t := tree.Tree{Left: make([]int32, n), Right: make([]int32, n), Feature: make([]int32, n), Threshold: make([]float64, n),
			DefaultLeft: make([]bool, n), Value: make([]float64, n), Cover: make([]float64, n), Gain: make([]float64, n)}
		var fill func(i, d int, cover float64)
		fill = func(i, d int, cover float64) {
			t.Cover[i] = cover
			if d == depth {
				t.Left[i], t.Right[i], t.Feature[i] = -1, -1, -1
				t.Value[i] = (r.Float64() - 0.5) * 0.2
				return
			}
			l, rr := 2*i+1, 2*i+2
			t.Left[i], t.Right[i] = int32(l), int32(rr)
			t.Feature[i] = int32(r.IntN(nfeat))
			t.Threshold[i] = r.Float64() * 100
			t.DefaultLeft[i] = r.IntN(2) == 0
			t.Gain[i] = r.Float64()
			share := 0.2 + 0.6*r.Float64()
			fill(l, d+1, cover*share)
			fill(rr, d+1, cover*(1-share))
		}
		fill(0, 0, 1000)
		e.Trees = append(e.Trees, t)
	}
	return e
}

// testArtifact returns the bytes of a valid gbdt artifact for target.
func testArtifact(t testing.TB, target store.Target, seed uint64, nfeat, ntrees, depth int) []byte {
	t.Helper()
	names := testFeatures(nfeat)
	m := &artifact.Model{Algorithm: artifact.GBDT, Target: string(target), Ensemble: randomEnsemble(seed, nfeat, ntrees, depth),
		Calibration: &calibrate.Calibrator{Method: calibrate.None}, Created: "2026-01-01T00:00:00Z", CaseriskVersion: "test"}
	for _, n := range names {
		m.Features = append(m.Features, artifact.Feature{FeatureMeta: dataset.FeatureMeta{Name: n, Unit: "count", Description: strings.ReplaceAll(n, "_", " ")}})
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("test artifact: %v", err)
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatalf("test artifact: %v", err)
	}
	return b
}

// openTestStore opens a fresh store on the named backend, skipping
// PostgreSQL when CASERISK_TEST_POSTGRES is unset or unreachable; each
// PostgreSQL test gets a schema of its own. It also returns a raw
// connection for tampering tests.
func openTestStore(t testing.TB, backend string) (store.Store, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	var u string
	switch backend {
	case "sqlite":
		u = "sqlite://" + filepath.Join(t.TempDir(), "api.db")
	case "postgres":
		u = storetest.PostgresURL(t)
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	st, err := store.Open(ctx, u)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	dialect, dsn, _ := store.ParseURL(u)
	driver := "sqlite"
	if dialect == store.Postgres {
		driver = "pgx"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return st, raw
}

// env is a running API over a test store with one user per role.
type env struct {
	t      testing.TB
	st     store.Store
	raw    *sql.DB
	srv    *Server
	http   *httptest.Server
	tokens map[auth.Role]string
	nfeat  int
	// oas checks exchanges against the served OpenAPI document; every
	// request through http is checked (benchmarks excepted), and a
	// mismatch fails the test naming the operation.
	oas *oasCheck
}

// envOptions shape a test environment.
type envOptions struct {
	nfeat, ntrees, depth int
	config               func(*Config)
}

func newEnv(t testing.TB, backend string, o envOptions) *env {
	t.Helper()
	if o.nfeat == 0 {
		o.nfeat, o.ntrees, o.depth = 8, 20, 4
	}
	st, raw := openTestStore(t, backend)
	ctx := context.Background()
	e := &env{t: t, st: st, raw: raw, tokens: map[auth.Role]string{}, nfeat: o.nfeat}
	for _, role := range auth.Roles() {
		tok, err := auth.NewToken(nil)
		if err != nil {
			t.Fatal(err)
		}
		u, err := st.CreateUser(ctx, "test-"+string(role), role)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddToken(ctx, u.ID, tok); err != nil {
			t.Fatal(err)
		}
		e.tokens[role] = tok.Secret
	}
	for i, target := range store.Targets() {
		m, err := st.RegisterModel(ctx, store.NewModel{Target: target, Path: "test.json",
			Artifact: testArtifact(t, target, uint64(i+1), o.nfeat, o.ntrees, o.depth),
			Bands:    store.Bands{High: 0.3, Medium: 0.1}, RegisteredBy: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.PromoteModel(ctx, target, m.Version, "test"); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{Store: st, Load: champion.LoadArtifact, MaxRows: 50, MaxReasons: 5}
	if o.config != nil {
		o.config(&cfg)
	}
	srv, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.oas = loadOASCheck(t, srv.doc)
	var h http.Handler = srv.Handler()
	if _, bench := t.(*testing.B); !bench {
		h = e.oas.wrap(h, func(err error) { t.Error(err) })
	}
	e.http = httptest.NewServer(h)
	t.Cleanup(func() {
		e.http.Close()
		srv.Close()
	})
	return e
}

// do sends a request as role ("" for no token) and returns the status and
// body; an error status other than 404 must come as a problem document.
func (e *env) do(role auth.Role, method, path string, body any) (int, []byte) {
	e.t.Helper()
	status, header, out := e.send(role, method, path, body, "")
	if status >= 400 && !strings.HasPrefix(header.Get("Content-Type"), "application/problem+json") && status != 404 {
		e.t.Errorf("%s %s: status %d with Content-Type %q, want a problem document", method, path, status, header.Get("Content-Type"))
	}
	return status, out
}

// send sends a request as role ("" for no token) with body (nil, a string,
// bytes, or a value sent as JSON) and an optional Content-Type override
// (default application/json), and returns the status, headers and body.
func (e *env) send(role auth.Role, method, path string, body any, contentType string) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	}
	if rd != nil {
		if contentType == "" {
			contentType = "application/json"
		}
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

// row returns a feature row as a JSON object with values from seed.
func (e *env) row(seed int) map[string]any {
	r := map[string]any{}
	for j, n := range testFeatures(e.nfeat) {
		r[n] = math.Mod(float64(seed*31+j*17), 100)
	}
	return r
}

// auditCount returns the number of audit rows whose resource starts with prefix.
func (e *env) auditCount(prefix string) int {
	e.t.Helper()
	es, err := e.st.Audit(context.Background(), store.AuditFilter{Resource: prefix, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(es)
}

// Short names for the roles in the permission tables of the tests; none
// sends no token.
const (
	none = auth.Role("")
	cw   = auth.Caseworker
	fo   = auth.FraudOfficer
	ds   = auth.DataScientist
	ad   = auth.Admin
)

// backends are the databases every API test runs against.
func backends() []string { return []string{"sqlite", "postgres"} }
