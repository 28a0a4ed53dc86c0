package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"caserisk/serve/api"
	"caserisk/serve/api/champion"
	"caserisk/serve/auth"
	"caserisk/serve/store"
	"caserisk/serve/web"
)

var (
	smallOnce sync.Once
	small     *borough
	smallErr  error
)

// smallBorough is an empty service with one user per role and no models:
// quick to start, so that fuzzing workers (which must answer within
// seconds) can each build one.
func smallBorough(t testing.TB) *borough {
	t.Helper()
	smallOnce.Do(func() { small, smallErr = buildSmall() })
	if smallErr != nil {
		t.Fatalf("set up the small service: %v", smallErr)
	}
	return small
}

func buildSmall() (*borough, error) {
	dir, err := os.MkdirTemp("", "caserisk-web-small-")
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "small.db"))
	if err != nil {
		return nil, err
	}
	b := &borough{st: st, tokens: map[string]string{}}
	for _, r := range []auth.Role{auth.Caseworker, auth.FraudOfficer, auth.DataScientist, auth.Admin} {
		tok, err := auth.NewToken(nil)
		if err != nil {
			return nil, err
		}
		if _, err := st.CreateUserWithToken(ctx, "small-"+string(r), r, tok); err != nil {
			return nil, err
		}
		b.tokens[string(r)] = tok.Secret
	}
	if b.srv, err = api.New(ctx, api.Config{Store: st, Load: champion.LoadArtifact, Pages: web.Mount, AuthCacheTTL: -1}); err != nil {
		return nil, err
	}
	b.ts = httptest.NewServer(b.srv.Handler())
	return b, nil
}

// FuzzSignIn posts arbitrary tokens to the sign-in form: the answer is a
// sign-in page again (401) or, for a real token, a redirect; never a
// server error, and the page never repeats what was typed.
func FuzzSignIn(f *testing.F) {
	f.Add("crk_abc")
	f.Add("")
	f.Add("Bearer crk_")
	f.Add("<script>alert(1)</script>")
	f.Add(strings.Repeat("crk_", 300))
	f.Fuzz(func(t *testing.T, token string) {
		b := smallBorough(t)
		c := client(t)
		_, body := get(t, c, b.ts.URL+"/sign-in")
		code, _, page := post(t, c, b.ts.URL+"/sign-in", url.Values{"csrf_token": {csrfOf(t, body)}, "token": {token}})
		if code != http.StatusUnauthorized && code != http.StatusSeeOther {
			t.Fatalf("token %q: status %d", token, code)
		}
		if len(token) > 3 && strings.Contains(page, token) && !strings.Contains(body, token) {
			t.Fatalf("the page repeats the token %q", token)
		}
	})
}

// FuzzAuditFilter drives the audit page's filters with arbitrary values:
// the answer is the page (200) or the page with an error summary (400),
// never a server error.
func FuzzAuditFilter(f *testing.F) {
	f.Add("3", "read", "resident/")
	f.Add("-1", "", "")
	f.Add("x", "\x00", "%")
	f.Add("99999999999999999999", "sign_in", "case/1")
	f.Fuzz(func(t *testing.T, userID, action, resource string) {
		b := smallBorough(t)
		c := client(t)
		signIn(t, b, c, "admin")
		q := url.Values{"user_id": {userID}, "action": {action}, "resource": {resource}}
		code, body := get(t, c, b.ts.URL+"/admin/audit?"+q.Encode())
		if code != http.StatusOK && code != http.StatusBadRequest {
			t.Fatalf("filters %q %q %q: status %d", userID, action, resource, code)
		}
		if code == http.StatusBadRequest && !strings.Contains(body, "There is a problem") {
			t.Fatalf("a 400 without an error summary")
		}
	})
}
