package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"caserisk/features/contract"
	"caserisk/serve/api"
	"caserisk/serve/api/champion"
	"caserisk/serve/demo"
	"caserisk/serve/store"
	"caserisk/serve/web"
)

// borough is the synthetic borough every test shares: the demo's store
// with champions, a score run, open cases and a user per role, served by
// the API with the pages mounted.
type borough struct {
	st     store.Store
	srv    *api.Server
	ts     *httptest.Server
	tokens map[string]string // role → bearer token
}

var (
	setupOnce sync.Once
	shared    *borough
	setupErr  error
	setupDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	logAxeTally()
	if small != nil {
		small.ts.Close()
		small.srv.Close()
		small.st.Close()
	}
	if shared != nil {
		shared.ts.Close()
		shared.srv.Close()
		shared.st.Close()
	}
	if setupDir != "" {
		os.RemoveAll(setupDir)
	}
	os.Exit(code)
}

// setup builds the shared borough once (about half a minute on two cores).
func setup(t testing.TB) *borough {
	t.Helper()
	setupOnce.Do(func() {
		shared, setupErr = build()
	})
	if setupErr != nil {
		t.Fatalf("set up the synthetic borough: %v", setupErr)
	}
	return shared
}

func build() (*borough, error) {
	dir, err := os.MkdirTemp("", "caserisk-web-")
	if err != nil {
		return nil, err
	}
	setupDir = dir
	ctx := context.Background()
	o := demo.Defaults()
	o.Dir, o.Residents, o.Capacity, o.Serve, o.Out = dir, 6000, 25, false, io.Discard
	o.AsOf = contract.MustParseDay("2025-01-01")
	start := time.Now()
	res, err := demo.Run(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	st, err := store.Open(ctx, res.DB)
	if err != nil {
		return nil, err
	}
	srv, err := api.New(ctx, api.Config{Store: st, Load: champion.LoadArtifact, Pages: web.Mount, AuthCacheTTL: -1})
	if err != nil {
		st.Close()
		return nil, err
	}
	b := &borough{st: st, srv: srv, ts: httptest.NewServer(srv.Handler()), tokens: map[string]string{}}
	for _, u := range res.Users {
		b.tokens[u.Role] = u.Token
	}
	fmt.Fprintf(os.Stderr, "web tests: synthetic borough ready in %s\n", time.Since(start).Round(100*time.Millisecond))
	return b, nil
}
