package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"caserisk/serve/api"
	"caserisk/serve/api/champion"
	"caserisk/serve/auth"
	"caserisk/serve/store"
	"caserisk/serve/web"
)

// TestFaultSignInFlood: one user signs in 10,050 times from one address; every
// answer is a sign-in (303) or a rate limit (429), never a 5xx; the
// user's earliest sessions are ended; and another user at the same
// address then signs in at once.
func TestFaultSignInFlood(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "flood.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tokens := map[string]string{}
	for _, name := range []string{"flood.a", "calm.b"} {
		tok, err := auth.NewToken(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateUserWithToken(ctx, name, auth.Caseworker, tok); err != nil {
			t.Fatal(err)
		}
		tokens[name] = tok.Secret
	}
	srv, err := api.New(ctx, api.Config{Store: st, Load: champion.LoadArtifact, Pages: web.Mount, AuthCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// One form token for every attempt: the form echoes the cookie.
	const csrf = "flood-test-csrf-token"
	signIn := func(user string) (int, string) {
		form := url.Values{"csrf_token": {csrf}, "token": {tokens[user]}}
		req := httptest.NewRequest("POST", "/sign-in", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "caserisk_signin", Value: csrf})
		req.RemoteAddr = "10.1.2.3:40000"
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			if c.Name == "caserisk_session" && c.Value != "" {
				return rec.Code, c.Value
			}
		}
		return rec.Code, ""
	}
	// signedIn reports whether a session cookie still opens the queue.
	signedIn := func(session string) bool {
		req := httptest.NewRequest("GET", "/reviews", nil)
		req.AddCookie(&http.Cookie{Name: "caserisk_session", Value: session})
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec.Code == http.StatusOK
	}
	codes := map[int]int{}
	var sessions []string
	for range 10050 {
		code, s := signIn("flood.a")
		codes[code]++
		if s != "" {
			sessions = append(sessions, s)
		}
	}
	t.Logf("10,050 sign-ins by one user: %v (status: count); %d sessions made", codes, len(sessions))
	if codes[http.StatusSeeOther]+codes[http.StatusTooManyRequests] != 10050 || codes[http.StatusSeeOther] == 0 {
		t.Errorf("statuses %v, want only 303 and 429", codes)
	}
	if signedIn(sessions[0]) || !signedIn(sessions[len(sessions)-1]) {
		t.Error("the flooding user's first session should be ended and the last one live")
	}
	code, s := signIn("calm.b")
	if code != http.StatusSeeOther || s == "" || !signedIn(s) {
		t.Errorf("another user after the flood: %d, want a sign-in at once", code)
	}
}

// TestHeadSignIn: HEAD on the sign-in page answers like GET (monitors
// probe with HEAD), without a body over HTTP.
func TestHeadSignIn(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "head.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := api.New(ctx, api.Config{Store: st, Load: champion.LoadArtifact, Pages: web.Mount})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	get, err := http.Get(ts.URL + "/sign-in")
	if err != nil {
		t.Fatal(err)
	}
	get.Body.Close()
	head, err := http.Head(ts.URL + "/sign-in")
	if err != nil {
		t.Fatal(err)
	}
	defer head.Body.Close()
	body, _ := io.ReadAll(head.Body)
	if head.StatusCode != http.StatusOK || head.StatusCode != get.StatusCode || len(body) != 0 ||
		head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
		t.Errorf("HEAD /sign-in: %d %q (%d body bytes); GET: %d %q", head.StatusCode, head.Header.Get("Content-Type"), len(body),
			get.StatusCode, get.Header.Get("Content-Type"))
	}
}
