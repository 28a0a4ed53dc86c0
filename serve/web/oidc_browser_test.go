package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"caserisk/serve/audit"
	"caserisk/serve/web/internal/testidp"
)

// throughProvider signs in on the provider's own login page: from
// caserisk's sign-in page the browser follows "Sign in with your council
// account" to the provider (another site), the person types their user
// name and password there, and the provider sends the browser back.
func (p *page) throughProvider(o *oidcService, u testidp.User) {
	p.t.Helper()
	p.open("/sign-in")
	p.do(chromedp.Click(chromedp.CSS("#sign-in-oidc")))
	p.waitPath("/login")
	if got, _ := chromedp.Run(p.ctx, chromedp.Location()); !strings.HasPrefix(got, o.idp.Issuer+"/login") {
		p.t.Fatalf("the sign-in link led to %s, want the provider's login page", got)
	}
	p.do(chromedp.SendKeys(chromedp.CSS("#username"), u.Username), chromedp.SendKeys(chromedp.CSS("#password"), u.Password),
		chromedp.Click(chromedp.CSS("#login-submit")))
}

// TestOIDCBrowserSignIn: a caseworker signs in through a real OpenID
// provider's own pages and lands on the caseworker's queue of the
// synthetic borough; a person whose groups map to no role is refused with
// a page saying whom to ask; the audit log records both.
func TestOIDCBrowserSignIn(t *testing.T) {
	b := setup(t)
	o := startOIDC(t, b.st)
	mark := auditMark(t, b.st)

	p := newPage(t, b)
	p.base = o.ts.URL
	p.open("/sign-in")
	p.screenshot("sign-in-provider")
	p.checkAccessible("sign-in page with a provider", "")
	p.throughProvider(o, kim)
	p.waitPath("/reviews")
	if h := p.heading(); h != "My reviews" {
		t.Fatalf("after signing in through the provider the page heading is %q, want the caseworker's queue", h)
	}
	if rows := p.eval(`String(document.querySelectorAll("tbody tr a").length)`); rows == "0" {
		t.Error("the caseworker's queue lists no cases")
	}
	if who := p.eval(`document.querySelector(".header__user span").textContent`); who != "kim.lee@council.example (Caseworker)" {
		t.Errorf("header shows %q", who)
	}
	if o.idp.Logins() != 1 {
		t.Errorf("%d logins at the provider, want 1", o.idp.Logins())
	}

	// Signing out offers the provider's sign-out.
	p.submit("/sign-out", "form[action='/sign-out'] button")
	if h := p.heading(); h != "You are signed out" {
		t.Errorf("after sign-out the heading is %q", h)
	}
	if href := p.eval(`(document.querySelector("#provider-sign-out") || {href: ""}).href`); !strings.HasPrefix(href, o.idp.Issuer+"/") {
		t.Errorf("the signed-out page offers %q, want the provider's sign-out", href)
	}
	p.screenshot("signed-out-provider")
	p.checkAccessible("signed-out page", "")

	refused := newPage(t, b)
	refused.base = o.ts.URL
	refused.throughProvider(o, lou)
	refused.waitPath("/sign-in/callback")
	if h := refused.heading(); h != "You do not have access to caserisk" {
		t.Fatalf("an unmapped person sees %q", h)
	}
	if body := refused.eval(`document.body.innerText`); !strings.Contains(body, "Ask the IT service desk (extension 4000)") {
		t.Errorf("the refusal does not say whom to ask:\n%s", body)
	}
	refused.screenshot("sign-in-refused")
	refused.checkAccessible("refusal page", "")
	refused.do(chromedp.Navigate(o.ts.URL + "/reviews"))
	refused.waitPath("/sign-in") // no session

	deadline := time.Now().Add(5 * time.Second)
	for {
		got := strings.Join(auditSince(t, b.st, mark), "\n")
		ok := strings.Contains(got, "kim.lee@council.example "+audit.SignIn+" session/oidc caseworker") &&
			strings.Contains(got, "lou.park@council.example "+audit.SignInRefused+" session/no_role none")
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the audit log lacks the sign-in or the refusal:\n%s", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
