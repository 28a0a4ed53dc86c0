package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"caserisk/serve/api"
	"caserisk/serve/api/champion"
	"caserisk/serve/auth"
	"caserisk/serve/store"
	"caserisk/serve/web"
	"caserisk/serve/web/internal/testidp"
)

// The people at the test provider. Their groups are the council's; the
// role map below gives caserisk's roles.
var (
	kim     = testidp.User{Subject: "00u-kim", Username: "kim.lee@council.example", Password: "kim-pw", Name: "Kim Lee", Email: "kim.lee@council.example", Groups: []string{"all-staff", "caserisk-caseworkers"}}
	lou     = testidp.User{Subject: "00u-lou", Username: "lou.park@council.example", Password: "lou-pw", Name: "Lou Park", Groups: []string{"all-staff"}}
	ann     = testidp.User{Subject: "00u-ann", Username: "ann.admin@council.example", Password: "ann-pw", Name: "Ann Admin", Groups: []string{"caserisk-admins"}}
	mallory = testidp.User{Subject: "00u-mallory", Username: "mallory@council.example", Password: "mallory-pw", Name: "Mallory", Groups: []string{"all-staff"},
		Tamper: func(c map[string]any) { c["groups"] = []string{"caserisk-admins"} }}
	otto = testidp.User{Subject: "00u-otto", Username: "otto@council.example", Password: "otto-pw", Name: "Otto", Groups: []string{"caserisk-caseworkers"},
		Resign: func(c map[string]any) { c["aud"], c["azp"] = []string{"another-app"}, "another-app" }}
	nina = testidp.User{Subject: "00u-nina", Username: "nina@council.example", Password: "nina-pw", Name: "Nina", Groups: []string{"caserisk-caseworkers"},
		Resign: func(c map[string]any) { c["nonce"] = "a-nonce-of-another-sign-in" }}
	olga = testidp.User{Subject: "00u-olga", Username: "olga@council.example", Password: "olga-pw", Name: "Olga", GroupsOverage: true}
)

const roleMapYAML = `caserisk-admins: admin
caserisk-caseworkers: caseworker
caserisk-fraud: fraud_officer
`

// oidcService is caserisk with sign-in through a real OpenID provider
// running on loopback: caserisk on 127.0.0.1, the provider on localhost
// (another site, as a real provider is).
type oidcService struct {
	st   store.Store
	srv  *api.Server
	ts   *httptest.Server
	idp  *testidp.Provider
	logs *syncBuffer // the pages' log
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// take returns what was logged since the last take.
func (s *syncBuffer) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

// startOIDC starts a provider with the people above and caserisk over st
// with OpenID Connect sign-in; both stop when the test ends.
func startOIDC(t *testing.T, st store.Store) *oidcService {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	idp, err := testidp.Start([]testidp.Client{{ID: "caserisk", Secret: "s3cret-for-tests",
		RedirectURIs: []string{base + "/sign-in/callback"}, PostLogoutRedirectURIs: []string{base + "/sign-in"}}},
		[]testidp.User{kim, lou, ann, mallory, otto, nina, olga})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idp.Close)
	roles, err := auth.ParseGroupRoles(strings.NewReader(roleMapYAML), "roles.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &web.OIDC{Issuer: idp.Issuer, ClientID: "caserisk", ClientSecret: "s3cret-for-tests", RedirectURL: base + "/sign-in/callback",
		Roles: roles, ProviderName: "your council account", AccessContact: "the IT service desk (extension 4000)"}
	logs := &syncBuffer{}
	srv, err := api.New(context.Background(), api.Config{Store: st, Load: champion.LoadArtifact, AuthCacheTTL: -1,
		Pages: web.MountWith(web.Options{OIDC: cfg, Logger: slog.New(slog.NewTextHandler(logs, nil))})})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return &oidcService{st: st, srv: srv, ts: ts, idp: idp, logs: logs}
}

// emptyStore is a new SQLite store with no data.
func emptyStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "oidc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// follow sends GET u and returns the answer without following redirects.
func follow(t *testing.T, c *http.Client, u string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	loc := resp.Header.Get("Location")
	if loc != "" {
		ref, err := resp.Request.URL.Parse(loc)
		if err != nil {
			t.Fatalf("GET %s: bad Location %q", u, loc)
		}
		loc = ref.String()
	}
	return resp.StatusCode, loc, string(b)
}

var authReqRe = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// throughProvider starts a sign-in on caserisk, signs in at the provider's
// login page as username, and returns caserisk's callback URL the
// provider sends the browser back to (not yet visited).
func (o *oidcService) throughProvider(t *testing.T, c *http.Client, username, password string) string {
	t.Helper()
	code, loc, _ := follow(t, c, o.ts.URL+"/sign-in/oidc")
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, o.idp.Issuer+"/") {
		t.Fatalf("start: status %d location %q, want a redirect to the provider", code, loc)
	}
	q, _ := url.Parse(loc)
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if q.Query().Get(k) == "" {
			t.Fatalf("the authorisation request has no %s: %s", k, loc)
		}
	}
	if q.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("PKCE method %q, want S256", q.Query().Get("code_challenge_method"))
	}
	for i := 0; i < 5 && strings.HasPrefix(loc, o.idp.Issuer) && !strings.Contains(loc, "/login"); i++ {
		_, loc, _ = follow(t, c, loc)
	}
	code, _, body := follow(t, c, loc)
	m := authReqRe.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("the provider's login page: status %d, %q", code, body)
	}
	resp, err := c.PostForm(o.idp.Issuer+"/login", url.Values{"authRequestID": {m[1]}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc = resp.Header.Get("Location")
	for i := 0; i < 5 && strings.HasPrefix(loc, o.idp.Issuer); i++ {
		_, loc, _ = follow(t, c, loc)
	}
	if !strings.HasPrefix(loc, o.ts.URL+"/sign-in/callback?") {
		t.Fatalf("the provider sent the browser to %q, want caserisk's callback", loc)
	}
	return loc
}

// signedIn reports whether the client has a caserisk session: the
// caseworker's queue answers (200) rather than sending it to sign in.
func (o *oidcService) signedIn(t *testing.T, c *http.Client, path string) (int, string) {
	t.Helper()
	code, loc, body := follow(t, c, o.ts.URL+path)
	if code == http.StatusSeeOther && loc == o.ts.URL+"/sign-in" {
		return 0, ""
	}
	return code, body
}

// auditSince returns "user action resource role" of the rows after mark.
func auditSince(t *testing.T, st store.Store, mark int64) []string {
	t.Helper()
	es, err := st.AuditPage(context.Background(), mark, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.User+" "+e.Action+" "+e.Resource+" "+e.Role)
	}
	return out
}

func auditMark(t *testing.T, st store.Store) int64 {
	t.Helper()
	var last int64
	for {
		es, err := st.AuditPage(context.Background(), last, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			return last
		}
		last = es[len(es)-1].ID
	}
}

func TestOIDCSignInAndOut(t *testing.T) {
	o := startOIDC(t, emptyStore(t))
	c := client(t)

	code, body := get(t, c, o.ts.URL+"/sign-in")
	if code != http.StatusOK || !strings.Contains(body, `href="/sign-in/oidc"`) || !strings.Contains(body, "Sign in with your council account") ||
		!strings.Contains(body, `name="token"`) {
		t.Fatalf("sign-in page: %d, want the provider's button and the token form:\n%s", code, body)
	}

	mark := auditMark(t, o.st)
	cb := o.throughProvider(t, c, kim.Username, kim.Password)
	code, _, body = follow(t, c, cb)
	if code != http.StatusOK || !strings.Contains(body, `http-equiv="refresh" content="0; url=/"`) {
		t.Fatalf("callback: %d, want the signed-in page moving on to /:\n%s", code, body)
	}
	code, loc, _ := follow(t, c, o.ts.URL+"/")
	if code != http.StatusSeeOther || loc != o.ts.URL+"/reviews" {
		t.Fatalf("home: %d %q, want the caseworker's queue", code, loc)
	}
	if code, body := o.signedIn(t, c, "/reviews"); code != http.StatusOK || !strings.Contains(body, "kim.lee@council.example (Caseworker)") {
		t.Fatalf("queue after sign-in: %d\n%s", code, body)
	}
	got := auditSince(t, o.st, mark)
	want := []string{"kim.lee@council.example user.provision user/1 caseworker", "kim.lee@council.example sign_in session/oidc caseworker"}
	if len(got) < 2 || strings.Join(got[:2], "\n") != strings.Join(want, "\n") {
		t.Errorf("audit rows %q, want %q first", got, want)
	}
	u, err := o.st.UserByID(context.Background(), 1)
	if err != nil || u.Subject != kim.Subject || u.Issuer != o.idp.Issuer || u.DisplayName != "Kim Lee" {
		t.Errorf("stored user %+v, %v", u, err)
	}

	// Replaying the callback is refused, whether from this browser (its
	// flow cookie is gone) or one holding the flow cookie (the state was
	// used): no session either way.
	other := client(t)
	if code, _, body := follow(t, other, cb); code != http.StatusBadRequest || !strings.Contains(body, "This sign-in link cannot be used") {
		t.Errorf("replay without the flow cookie: %d\n%s", code, body)
	}
	cu, _ := url.Parse(cb)
	thief := client(t)
	thief.Jar.SetCookies(cu, []*http.Cookie{{Name: "caserisk_oidc", Value: cu.Query().Get("state"), Path: "/"}})
	if code, _, body := follow(t, thief, cb); code != http.StatusBadRequest || !strings.Contains(body, "already used") {
		t.Errorf("replay with the flow cookie: %d\n%s", code, body)
	}
	for name, cl := range map[string]*http.Client{"replay": other, "replay with cookie": thief} {
		if code, _ := o.signedIn(t, cl, "/reviews"); code != 0 {
			t.Errorf("%s: a session was made (queue answered %d)", name, code)
		}
	}

	// Sign-out ends the caserisk session and offers the provider's.
	csrf := sessionCSRF(t, &borough{ts: o.ts}, c)
	code, _, body = post(t, c, o.ts.URL+"/sign-out", url.Values{"csrf_token": {csrf}})
	if code != http.StatusOK || !strings.Contains(body, "You are signed out") {
		t.Fatalf("sign-out: %d\n%s", code, body)
	}
	m := regexp.MustCompile(`href="([^"]+)" class="button" id="provider-sign-out"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the signed-out page offers no sign-out at the provider:\n%s", body)
	}
	end, _ := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
	if !strings.HasPrefix(end.String(), o.idp.Issuer+"/") || end.Query().Get("id_token_hint") == "" ||
		end.Query().Get("post_logout_redirect_uri") != o.ts.URL+"/sign-in" || end.Query().Get("client_id") != "caserisk" {
		t.Errorf("provider sign-out link %s", end)
	}
	if code, _ := o.signedIn(t, c, "/reviews"); code != 0 {
		t.Errorf("after sign-out the queue answered %d", code)
	}
	code, loc, _ = follow(t, c, end.String())
	if code != http.StatusFound || loc != o.ts.URL+"/sign-in" {
		t.Errorf("the provider's sign-out answered %d %q, want a redirect to caserisk's sign-in page", code, loc)
	}
}

// refused checks that visiting the callback answers code with want in the
// page, logs why (reason, when not ""), and leaves no session.
func (o *oidcService) refused(t *testing.T, what string, c *http.Client, cb string, code int, want, reason string) {
	t.Helper()
	o.logs.take()
	got, _, body := follow(t, c, cb)
	if logged := o.logs.take(); reason != "" && !strings.Contains(logged, reason) {
		t.Errorf("%s: the log does not say %q:\n%s", what, reason, logged)
	}
	if got != code || !strings.Contains(body, want) {
		t.Errorf("%s: %d, want %d with %q:\n%s", what, got, code, want, body)
	}
	for _, ck := range c.Jar.Cookies(mustURL(o.ts.URL)) {
		if ck.Name == "caserisk_session" {
			t.Errorf("%s: a session cookie was set", what)
		}
	}
	if qc, _ := o.signedIn(t, c, "/reviews"); qc != 0 {
		t.Errorf("%s: a session was made (queue answered %d)", what, qc)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestOIDCRefusesBadSignIns(t *testing.T) {
	o := startOIDC(t, emptyStore(t))
	ctx := context.Background()

	t.Run("no mapped group", func(t *testing.T) {
		mark := auditMark(t, o.st)
		c := client(t)
		o.refused(t, "unmapped", c, o.throughProvider(t, c, lou.Username, lou.Password), http.StatusForbidden,
			"you are not in a group that gives you a role in caserisk. Ask the IT service desk (extension 4000)", "")
		if got := auditSince(t, o.st, mark); strings.Join(got, "\n") != "lou.park@council.example sign_in.refused session/no_role none" {
			t.Errorf("audit rows %q", got)
		}
		if _, err := o.st.UserByExternalID(ctx, o.idp.Issuer, lou.Subject); err == nil {
			t.Error("a refused person got an account")
		}
	})
	t.Run("tampered ID token", func(t *testing.T) {
		mark := auditMark(t, o.st)
		c := client(t)
		o.refused(t, "tampered", c, o.throughProvider(t, c, mallory.Username, mallory.Password), http.StatusUnauthorized, "could not be verified", `err="failed to verify signature`)
		if got := auditSince(t, o.st, mark); len(got) != 0 {
			t.Errorf("a tampered token reached the core: audit rows %q", got)
		}
	})
	t.Run("wrong audience", func(t *testing.T) {
		c := client(t)
		o.refused(t, "wrong audience", c, o.throughProvider(t, c, otto.Username, otto.Password), http.StatusUnauthorized, "could not be verified", `err="oidc: expected audience \"caserisk\" got [\"another-app\"]"`)
	})
	t.Run("nonce of another sign-in", func(t *testing.T) {
		c := client(t)
		o.refused(t, "wrong nonce", c, o.throughProvider(t, c, nina.Username, nina.Password), http.StatusUnauthorized, "could not be verified", `reason="nonce does not match"`)
	})
	t.Run("expired ID token", func(t *testing.T) {
		o.idp.SetIDTokenLifetime(-time.Hour)
		defer o.idp.SetIDTokenLifetime(time.Hour)
		c := client(t)
		o.refused(t, "expired", c, o.throughProvider(t, c, kim.Username, kim.Password), http.StatusUnauthorized, "could not be verified", `reason="ID token expired"`)
	})
	t.Run("groups overage", func(t *testing.T) {
		c := client(t)
		o.refused(t, "overage", c, o.throughProvider(t, c, olga.Username, olga.Password), http.StatusForbidden, "because you are in too many", "")
	})
	t.Run("provider error", func(t *testing.T) {
		c := client(t)
		cb := o.throughProvider(t, c, kim.Username, kim.Password)
		u := mustURL(cb)
		o.refused(t, "provider error", c, o.ts.URL+"/sign-in/callback?error=access_denied&state="+url.QueryEscape(u.Query().Get("state")),
			http.StatusUnauthorized, "did not sign you in (access_denied)", `reason="provider error"`)
	})
	t.Run("state from another browser", func(t *testing.T) {
		victim, attacker := client(t), client(t)
		// The attacker signs in as themself and hands their callback to
		// the victim, whose browser started a sign-in of its own.
		cb := o.throughProvider(t, attacker, lou.Username, lou.Password)
		if code, _, _ := follow(t, victim, o.ts.URL+"/sign-in/oidc"); code != http.StatusSeeOther {
			t.Fatal("the victim's sign-in did not start")
		}
		o.refused(t, "login CSRF", victim, cb, http.StatusBadRequest, "not started in this browser", `reason="state does not match`)
		o.refused(t, "no state", victim, o.ts.URL+"/sign-in/callback?code=abc", http.StatusBadRequest, "This sign-in link cannot be used", "")
	})
	t.Run("code used twice", func(t *testing.T) {
		// The provider's code is good once: a second exchange, with a
		// fresh state, is refused by the provider.
		c := client(t)
		cb := o.throughProvider(t, c, kim.Username, kim.Password)
		if code, _, _ := follow(t, c, cb); code != http.StatusOK {
			t.Fatalf("first use: %d", code)
		}
		c2 := client(t)
		start, loc, _ := follow(t, c2, o.ts.URL+"/sign-in/oidc")
		if start != http.StatusSeeOther {
			t.Fatal("no start")
		}
		st := mustURL(loc).Query().Get("state")
		o.refused(t, "code reused", c2, o.ts.URL+"/sign-in/callback?code="+url.QueryEscape(mustURL(cb).Query().Get("code"))+"&state="+url.QueryEscape(st),
			http.StatusBadRequest, "did not accept the sign-in code", `reason="code exchange refused"`)
	})
}

func TestOIDCUsersFollowTheProvider(t *testing.T) {
	o := startOIDC(t, emptyStore(t))
	ctx := context.Background()
	signIn := func(t *testing.T, u testidp.User) (*http.Client, int, string) {
		t.Helper()
		c := client(t)
		code, _, body := follow(t, c, o.throughProvider(t, c, u.Username, u.Password))
		return c, code, body
	}
	admin, code, _ := signIn(t, ann)
	if code != http.StatusOK {
		t.Fatalf("admin sign-in: %d", code)
	}
	cw, code, _ := signIn(t, kim)
	if code != http.StatusOK {
		t.Fatalf("caseworker sign-in: %d", code)
	}
	u, err := o.st.UserByExternalID(ctx, o.idp.Issuer, kim.Subject)
	if err != nil {
		t.Fatal(err)
	}

	// The administrator sees the provider's users and disables Kim: her
	// session ends at once and the provider's yes no longer lets her in.
	code, body := o.signedIn(t, admin, "/admin/users")
	if code != http.StatusOK || !strings.Contains(body, "Kim Lee") || !strings.Contains(body, "kim.lee@council.example") {
		t.Fatalf("users page: %d\n%s", code, body)
	}
	csrf := sessionCSRF(t, &borough{ts: o.ts}, admin)
	if code, _, _ := post(t, admin, fmt.Sprintf("%s/admin/users/%d/disabled", o.ts.URL, u.ID), url.Values{"csrf_token": {csrf}, "disable": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("disable: %d", code)
	}
	if code, _ := o.signedIn(t, cw, "/reviews"); code != 0 {
		t.Errorf("a disabled user's session still answers %d", code)
	}
	mark := auditMark(t, o.st)
	_, code, body = signIn(t, kim)
	if code != http.StatusForbidden || !strings.Contains(body, "Your caserisk account is disabled") {
		t.Errorf("disabled user's sign-in: %d\n%s", code, body)
	}
	if got := auditSince(t, o.st, mark); strings.Join(got, "\n") != "kim.lee@council.example sign_in.refused session/disabled caseworker" {
		t.Errorf("audit rows %q", got)
	}
	if code, _, _ := post(t, admin, fmt.Sprintf("%s/admin/users/%d/disabled", o.ts.URL, u.ID), url.Values{"csrf_token": {csrf}, "disable": {"0"}}); code != http.StatusSeeOther {
		t.Fatalf("enable: %d", code)
	}

	// Moved to the fraud team at the provider: the next sign-in changes
	// the role.
	o.idp.SetGroups(kim.Subject, []string{"all-staff", "caserisk-fraud"})
	mark = auditMark(t, o.st)
	cw, code, _ = signIn(t, kim)
	if code != http.StatusOK {
		t.Fatalf("sign-in after moving team: %d", code)
	}
	if code, _, _ := follow(t, cw, o.ts.URL+"/reviews"); code != http.StatusForbidden {
		t.Errorf("a fraud officer sees the caseworkers' queue: %d", code)
	}
	if code, _ := o.signedIn(t, cw, "/fraud-referrals"); code != http.StatusOK {
		t.Errorf("fraud referrals: %d", code)
	}
	got := auditSince(t, o.st, mark)
	if len(got) < 2 || got[0] != fmt.Sprintf("kim.lee@council.example user.role user/%d/role/caseworker->fraud_officer fraud_officer", u.ID) {
		t.Errorf("audit rows %q", got)
	}

	// Left every caserisk group: the role goes at the next sign-in, the
	// administrator sees it, and her session (still open) ends too.
	o.idp.SetGroups(kim.Subject, []string{"all-staff"})
	_, code, _ = signIn(t, kim)
	if code != http.StatusForbidden {
		t.Errorf("sign-in without a mapped group: %d", code)
	}
	if code, _ := o.signedIn(t, cw, "/fraud-referrals"); code != 0 {
		t.Errorf("a session of a user without a role still answers %d", code)
	}
	if _, body := o.signedIn(t, admin, "/admin/users"); !regexp.MustCompile(`kim\.lee@council\.example.*?No role`).MatchString(body) {
		t.Errorf("the users page does not show Kim without a role:\n%s", body)
	}
}
