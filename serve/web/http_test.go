package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"caserisk/serve/store"
)

// client is a browser-like HTTP client with a cookie jar that does not
// follow redirects, so tests see each answer.
func client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// get fetches a page and returns its status and body.
func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page")
	}
	return m[1]
}

// signIn signs a client in with a role's token and returns the session's
// CSRF token.
func signIn(t *testing.T, b *borough, c *http.Client, role string) string {
	t.Helper()
	_, body := get(t, c, b.ts.URL+"/sign-in")
	code, loc, _ := post(t, c, b.ts.URL+"/sign-in", url.Values{"csrf_token": {csrfOf(t, body)}, "token": {b.tokens[role]}})
	if code != http.StatusSeeOther || loc != "/" {
		t.Fatalf("sign in as %s: status %d location %q", role, code, loc)
	}
	return sessionCSRF(t, b, c)
}

// sessionCSRF reads the session's CSRF token from the sign-out form of the
// user's start page.
func sessionCSRF(t *testing.T, b *borough, c *http.Client) string {
	t.Helper()
	resp, err := c.Get(b.ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	_, body := get(t, c, b.ts.URL+loc)
	return csrfOf(t, body)
}

func TestSignIn(t *testing.T) {
	b := setup(t)
	tests := []struct {
		name     string
		token    string
		withCSRF bool
		want     int
		wantText string
	}{
		{"no token", "", true, http.StatusUnauthorized, "Enter your access token"},
		{"malformed token", "hello", true, http.StatusUnauthorized, "starts with crk_"},
		{"unknown token", flip(b.tokens["caseworker"]), true, http.StatusUnauthorized, "not recognised"},
		{"no CSRF token", b.tokens["caseworker"], false, http.StatusForbidden, "form has expired"},
		{"good token", b.tokens["caseworker"], true, http.StatusSeeOther, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := client(t)
			_, body := get(t, c, b.ts.URL+"/sign-in")
			form := url.Values{"token": {tc.token}}
			if tc.withCSRF {
				form.Set("csrf_token", csrfOf(t, body))
			}
			code, _, page := post(t, c, b.ts.URL+"/sign-in", form)
			if code != tc.want || !strings.Contains(page, tc.wantText) {
				t.Fatalf("status %d, want %d; page holds %q: %v", code, tc.want, tc.wantText, strings.Contains(page, tc.wantText))
			}
			if strings.Contains(page, tc.token) && tc.token != "" {
				t.Fatalf("the page repeats the token")
			}
		})
	}
}

// flip changes a token's last character, keeping its shape.
func flip(tok string) string {
	last := tok[len(tok)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return tok[:len(tok)-1] + string(repl)
}

func TestSessionCookie(t *testing.T) {
	b := setup(t)
	c := client(t)
	_, body := get(t, c, b.ts.URL+"/sign-in")
	resp, err := c.PostForm(b.ts.URL+"/sign-in", url.Values{"csrf_token": {csrfOf(t, body)}, "token": {b.tokens["caseworker"]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found bool
	for _, ck := range resp.Cookies() {
		if ck.Name != "caserisk_session" {
			continue
		}
		found = true
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || len(ck.Value) < 40 || strings.Contains(ck.Value, b.tokens["caseworker"]) {
			t.Fatalf("session cookie: HttpOnly %v SameSite %v value length %d", ck.HttpOnly, ck.SameSite, len(ck.Value))
		}
	}
	if !found {
		t.Fatal("no session cookie set")
	}
}

func TestSignedOutIsSentToSignIn(t *testing.T) {
	b := setup(t)
	for _, path := range []string{"/", "/reviews", "/fraud-referrals", "/residents/R1", "/cases/1", "/models", "/admin/audit", "/admin/users"} {
		c := client(t)
		resp, err := c.Get(b.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sign-in" {
			t.Errorf("GET %s signed out: %d → %q, want 303 → /sign-in", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// firstCase returns the top open case of a kind.
func firstCase(t *testing.T, b *borough, kind store.Target) store.Case {
	t.Helper()
	cs, _, err := b.st.Queue(context.Background(), store.QueueQuery{Kind: kind, Limit: 1})
	if err != nil || len(cs) == 0 {
		t.Fatalf("no open %s case: %v", kind, err)
	}
	return cs[0]
}

// TestPurposeLimits checks each role reaches exactly the pages its purpose
// allows, with the API's rules.
func TestPurposeLimits(t *testing.T) {
	b := setup(t)
	cc := firstCase(t, b, store.ComplexCase)
	fc := firstCase(t, b, store.TenancyFraud)
	pages := map[string]string{
		"reviews": "/reviews", "fraud": "/fraud-referrals", "complex case": fmt.Sprintf("/cases/%d", cc.ID),
		"fraud case": fmt.Sprintf("/cases/%d", fc.ID), "resident": "/residents/" + cc.ResidentID,
		"models": "/models", "audit": "/admin/audit", "users": "/admin/users", "linkage review": "/linkage/review",
	}
	allowed := map[string][]string{
		"caseworker":     {"reviews", "complex case", "resident"},
		"fraud_officer":  {"fraud", "fraud case", "resident"},
		"data_scientist": {"models"},
		"admin":          {"models", "audit", "users"},
	}
	for role, ok := range allowed {
		t.Run(role, func(t *testing.T) {
			c := client(t)
			signIn(t, b, c, role)
			for name, path := range pages {
				want := http.StatusForbidden
				if strings.HasSuffix(name, " case") {
					// A case the role may not work is not found, as a
					// missing one is (its id cannot be probed).
					want = http.StatusNotFound
				}
				for _, a := range ok {
					if a == name {
						want = http.StatusOK
					}
				}
				code, body := get(t, c, b.ts.URL+path)
				if code != want {
					t.Errorf("%s GET %s: %d, want %d", role, path, code, want)
				}
				if strings.Contains(body, "%!") {
					t.Errorf("%s GET %s: a value is printed with the wrong format", role, path)
				}
				if code == http.StatusForbidden && !strings.Contains(body, "You cannot see this page") {
					t.Errorf("%s GET %s: 403 is not an error page", role, path)
				}
				if code == http.StatusNotFound && !strings.Contains(body, "Page not found") {
					t.Errorf("%s GET %s: 404 is not the not-found page", role, path)
				}
			}
		})
	}
	// A caseworker sees the resident's complex-case score history; a fraud
	// officer may see the resident, but never their complex-case score.
	cw := client(t)
	signIn(t, b, cw, "caseworker")
	if _, body := get(t, cw, b.ts.URL+"/residents/"+cc.ResidentID); !strings.Contains(body, "<td>Complex case") {
		t.Fatal("a caseworker does not see the complex-case score history")
	}
	c := client(t)
	signIn(t, b, c, "fraud_officer")
	_, body := get(t, c, b.ts.URL+"/residents/"+cc.ResidentID)
	if strings.Contains(body, "Complex case score") || strings.Contains(body, "<td>Complex case") {
		t.Fatal("a fraud officer sees a complex-case score or its history")
	}
}

func TestCSRFRequiredOnPost(t *testing.T) {
	b := setup(t)
	c := client(t)
	signIn(t, b, c, "caseworker")
	cc := firstCase(t, b, store.ComplexCase)
	for _, token := range []string{"", "forged"} {
		code, _, body := post(t, c, fmt.Sprintf("%s/cases/%d/status", b.ts.URL, cc.ID), url.Values{"csrf_token": {token}, "status": {"reviewing"}})
		if code != http.StatusForbidden || !strings.Contains(body, "form has expired") {
			t.Fatalf("POST with CSRF %q: status %d", token, code)
		}
	}
	k, err := b.st.Case(context.Background(), cc.ID)
	if err != nil || k.Status != cc.Status {
		t.Fatalf("a forged POST changed the case: %v %v", k.Status, err)
	}
}

func TestErrorsArePages(t *testing.T) {
	b := setup(t)
	c := client(t)
	signIn(t, b, c, "caseworker")
	tests := []struct {
		path string
		want int
	}{
		{"/cases/999999999", http.StatusNotFound},
		{"/cases/abc", http.StatusNotFound},
		{"/residents/NOPE-0", http.StatusNotFound},
		{"/residents/" + url.PathEscape("bad id!"), http.StatusNotFound},
		{"/reviews?offset=-4", http.StatusBadRequest},
	}
	for _, tc := range tests {
		code, body := get(t, c, b.ts.URL+tc.path)
		if code != tc.want || !strings.Contains(body, "<h1>") || strings.Contains(body, "goroutine") {
			t.Errorf("GET %s: %d, want %d as a page", tc.path, code, tc.want)
		}
	}
}

// apiGet calls the JSON API with a role's bearer token.
func apiGet(t *testing.T, b *borough, role, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+b.tokens[role])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestSignOut(t *testing.T) {
	b := setup(t)
	c := client(t)
	csrf := signIn(t, b, c, "caseworker")
	u, err := url.Parse(b.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	old := c.Jar.Cookies(u)
	code, loc, _ := post(t, c, b.ts.URL+"/sign-out", url.Values{"csrf_token": {csrf}})
	if code != http.StatusSeeOther || loc != "/sign-in" {
		t.Fatalf("sign out: %d → %q", code, loc)
	}
	// The old session cookie no longer works, even if a copy was kept.
	c2 := client(t)
	c2.Jar.SetCookies(u, old)
	resp, err := c2.Get(b.ts.URL + "/reviews")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sign-in" {
		t.Fatalf("the ended session still opens the queue: %d", resp.StatusCode)
	}
}

// TestCaseFormErrors: a form with a missing or impossible choice is shown
// again with an error summary naming the field, and nothing is written.
func TestCaseFormErrors(t *testing.T) {
	b := setup(t)
	c := client(t)
	csrf := signIn(t, b, c, "caseworker")
	k := firstCase(t, b, store.ComplexCase)
	base := fmt.Sprintf("%s/cases/%d", b.ts.URL, k.ID)
	tests := []struct {
		name, path string
		form       url.Values
		want       int
		field      string
	}{
		{"no status", "/status", url.Values{}, http.StatusBadRequest, `href="#status"`},
		{"status of the other workflow", "/status", url.Values{"status": {"investigating"}}, http.StatusBadRequest, `href="#status"`},
		{"status skipping a step", "/status", url.Values{"status": {"help_offered"}}, http.StatusConflict, `href="#status"`},
		{"status closed", "/status", url.Values{"status": {"closed"}}, http.StatusBadRequest, `href="#status"`},
		{"unknown status", "/status", url.Values{"status": {"flying"}}, http.StatusBadRequest, `href="#status"`},
		{"no outcome", "/outcome", url.Values{}, http.StatusBadRequest, `href="#outcome-help_accepted"`},
		{"fraud outcome on a review", "/outcome", url.Values{"outcome": {"fraud_confirmed"}}, http.StatusBadRequest, `href="#outcome-help_accepted"`},
		{"note too long", "/status", url.Values{"status": {"reviewing"}, "note": {strings.Repeat("x", 5000)}}, http.StatusBadRequest, `href="#status-note"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf_token", csrf)
			code, _, body := post(t, c, base+tc.path, tc.form)
			if code != tc.want || !strings.Contains(body, "There is a problem") || !strings.Contains(body, tc.field) {
				t.Fatalf("status %d (want %d); error summary links %s: %v", code, tc.want, tc.field, strings.Contains(body, tc.field))
			}
			now, err := b.st.Case(context.Background(), k.ID)
			if err != nil || now.Status != k.Status {
				t.Fatalf("a rejected form changed the case: %v %v", now.Status, err)
			}
		})
	}
}

// TestUnknownAddress: a browser gets a page, an API client a problem
// document.
func TestUnknownAddress(t *testing.T) {
	b := setup(t)
	tests := []struct {
		path, accept, wantType string
	}{
		{"/no-such-page", "text/html,application/xhtml+xml", "text/html"},
		{"/no-such-page", "application/json", "application/problem+json"},
		{"/api/v1/no-such-endpoint", "text/html", "application/problem+json"},
	}
	for _, tc := range tests {
		req, err := http.NewRequest(http.MethodGet, b.ts.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", tc.accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.wantType) {
			t.Errorf("GET %s (Accept %s): %d %s, want 404 %s", tc.path, tc.accept, resp.StatusCode, resp.Header.Get("Content-Type"), tc.wantType)
		}
	}
}

// TestAssign: a caseworker takes a case and releases it; each is audited.
func TestAssign(t *testing.T) {
	b := setup(t)
	c := client(t)
	csrf := signIn(t, b, c, "caseworker")
	k := firstCase(t, b, store.ComplexCase)
	u, err := b.st.UserByName(context.Background(), "demo-caseworker")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		form   url.Values
		want   int64
		inMine bool
	}{
		{"take", url.Values{"csrf_token": {csrf}}, u.ID, true},
		{"release", url.Values{"csrf_token": {csrf}, "release": {"1"}}, 0, false},
	}
	for _, tc := range tests {
		code, loc, _ := post(t, c, fmt.Sprintf("%s/cases/%d/assign", b.ts.URL, k.ID), tc.form)
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, fmt.Sprintf("/cases/%d", k.ID)) {
			t.Fatalf("%s: %d → %q", tc.name, code, loc)
		}
		now, err := b.st.Case(context.Background(), k.ID)
		if err != nil || now.AssignedTo != tc.want {
			t.Fatalf("%s: assigned to %d, want %d (%v)", tc.name, now.AssignedTo, tc.want, err)
		}
		_, body := get(t, c, b.ts.URL+"/reviews?mine=1")
		if got := strings.Contains(body, fmt.Sprintf(`href="/cases/%d"`, k.ID)); got != tc.inMine {
			t.Fatalf("%s: in my list %v, want %v", tc.name, got, tc.inMine)
		}
	}
	if !auditHas(t, b, "demo-caseworker", "update", fmt.Sprintf("case/%d", k.ID)) {
		t.Fatal("assignment is not audited")
	}
}

// TestAdminDisablesUser: a disabled user's session ends at once; enabling
// them again lets their token sign in; an admin cannot disable themselves.
func TestAdminDisablesUser(t *testing.T) {
	b := setup(t)
	admin := client(t)
	csrf := signIn(t, b, admin, "admin")
	fo := client(t)
	signIn(t, b, fo, "fraud_officer")
	ctx := context.Background()
	target, err := b.st.UserByName(ctx, "demo-fraud-officer")
	if err != nil {
		t.Fatal(err)
	}
	me, err := b.st.UserByName(ctx, "demo-admin")
	if err != nil {
		t.Fatal(err)
	}
	toggle := func(id int64, disable string) int {
		code, _, _ := post(t, admin, fmt.Sprintf("%s/admin/users/%d/disabled", b.ts.URL, id), url.Values{"csrf_token": {csrf}, "disable": {disable}})
		return code
	}
	if code := toggle(target.ID, "1"); code != http.StatusSeeOther {
		t.Fatalf("disable: %d", code)
	}
	if code, _ := get(t, fo, b.ts.URL+"/fraud-referrals"); code != http.StatusSeeOther {
		t.Fatalf("a disabled user's session still opens the queue: %d", code)
	}
	if code := toggle(target.ID, "0"); code != http.StatusSeeOther {
		t.Fatalf("enable: %d", code)
	}
	signIn(t, b, fo, "fraud_officer")
	if code := toggle(me.ID, "1"); code != http.StatusConflict {
		t.Fatalf("an admin disabling themselves: %d, want 409", code)
	}
	if !auditHas(t, b, "demo-admin", "user.disable", fmt.Sprintf("user/%d", target.ID)) {
		t.Fatal("disabling is not audited")
	}
}
