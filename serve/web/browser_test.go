package web_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"caserisk/serve/audit"
	"caserisk/serve/store"
)

// chromiumPath finds Debian's Chromium (or a Chrome) for the browser tests.
func chromiumPath() (string, bool) {
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// page is one browser tab on the shared borough.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// newPage starts a headless Chromium with a fresh profile (so each test
// has its own cookies) and a 1280×800 viewport. Without Chromium the test
// is skipped.
func newPage(t *testing.T, b *borough) *page {
	t.Helper()
	path, ok := chromiumPath()
	if !ok {
		t.Skip("chromium not installed (apt-get install chromium): browser tests skipped")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	p := &page{t: t, ctx: ctx, base: b.ts.URL}
	p.do(chromedp.EmulateViewport(1280, 800))
	return p
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression returning a string.
func (p *page) eval(js string) string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// open navigates to a path and waits for the page to load.
func (p *page) open(path string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.base + path))
	p.waitPath(strings.SplitN(path, "?", 2)[0])
}

// waitPath waits until the tab shows a loaded page at path (a prefix when
// it ends with '/').
func (p *page) waitPath(path string) {
	p.t.Helper()
	js := fmt.Sprintf(`(location.pathname === %q || (%q.endsWith("/") && location.pathname.startsWith(%q))) && document.readyState === "complete" ? "yes" : "no"`, path, path, path)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
		if err == nil && v == "yes" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	got, _ := chromedp.Run(p.ctx, chromedp.Location())
	p.t.Fatalf("waited for %s; the tab is at %s", path, got)
}

// submit clicks sel after the other steps and waits for the next page at
// path: the old document is marked first, so a page at the same path
// counts only once it is new.
func (p *page) submit(path, sel string, before ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	p.eval(`(window.__old = "yes", "")`)
	p.do(append(before, chromedp.Click(chromedp.CSS(sel)))...)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`window.__old === "yes" ? "old" : document.readyState`))
		if err == nil && v == "complete" {
			p.waitPath(path)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("clicking %s loaded no new page", sel)
}

// heading returns the page's h1.
func (p *page) heading() string {
	p.t.Helper()
	return p.eval(`(document.querySelector("h1") || {textContent: ""}).textContent.trim()`)
}

// hasHeadings fails the test unless the page has a level-2 heading of each
// given text.
func (p *page) hasHeadings(what string, want ...string) {
	p.t.Helper()
	hs := "\n" + p.eval(`Array.from(document.querySelectorAll('h2')).map(h => h.innerText.trim()).join('\n')`) + "\n"
	for _, w := range want {
		if !strings.Contains(hs, "\n"+w+"\n") {
			p.t.Errorf("%s has no %q heading (headings: %q)", what, w, strings.TrimSpace(hs))
		}
	}
}

// screenshot writes the viewport (1280×800 unless a check has changed it
// for the moment) to screenshots/NAME.png.
func (p *page) screenshot(name string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll("screenshots", 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("screenshots", name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// staticChecks finds what axe-core's WCAG rules leave to a person: not
// exactly one h1, a skipped heading level (axe-core counts both as best
// practice, outside the WCAG rule sets the tests run; the error summary's
// heading above the h1 is left out), and a value printed with the wrong
// format verb.
const staticChecks = `(() => {
  const out = [];
  if (document.body.innerText.includes("%!")) out.push("a value is printed with the wrong format (%!)");
  // The error summary stands above the h1, as in the GOV.UK Design System.
  const hs = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].filter(h => !h.closest(".error-summary[role=alert]")).map(h => +h.tagName[1]);
  if (hs.filter(l => l === 1).length !== 1) out.push("not exactly one h1: " + hs.filter(l => l === 1).length);
  if (hs.length && hs[0] !== 1) out.push("the first heading is not h1");
  for (let i = 1; i < hs.length; i++) if (hs[i] > hs[i-1] + 1) out.push("heading level skipped: h" + hs[i-1] + " then h" + hs[i]);
  return out.join("\n");
})()`

// rawWords finds what a page must never show a person, with every
// <details> opened: a raw code (a snake_case word such as missed_payment)
// and a yes/no value in brackets ("(Yes)"), the marks of text written for
// machines.
const rawWords = `(() => {
  const closed = [...document.querySelectorAll("details:not([open])")];
  closed.forEach(d => d.open = true);
  const text = document.body.innerText;
  closed.forEach(d => d.open = false);
  const out = [];
  const codes = text.match(/\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g);
  if (codes) out.push("raw codes: " + [...new Set(codes)].slice(0, 12).join(", "));
  for (const m of ["(Yes)", "(No)"]) if (text.includes(m)) out.push("a value in brackets: " + m);
  return out.join("\n");
})()`

// wordsCheck fails the test when the page shows a raw code or "(Yes)".
func (p *page) wordsCheck(name string) {
	p.t.Helper()
	if faults := p.eval(rawWords); faults != "" {
		p.t.Errorf("%s: the page shows text written for machines:\n%s", name, faults)
	}
}

// markFocusable numbers every element a keyboard user must reach (a radio
// group counts once; a scrolling table's wrapper and a details' summary
// count; what a closed details hides does not) and returns how many there
// are.
const markFocusable = `(() => {
  const seen = new Set(); let n = 0;
  for (const el of document.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex='0']")) {
    if (el.type === "hidden" || el.disabled) continue;
    // Inside a closed <details> only its summary is shown.
    const shut = el.closest("details:not([open])");
    if (shut && el !== shut.querySelector("summary")) continue;
    if (el.type === "radio") { if (seen.has(el.name)) continue; seen.add(el.name); }
    el.dataset.kbd = String(n++);
  }
  return String(n);
})()`

// focusState says which marked element has focus and whether the focus is
// visible: an outline, a box shadow or the yellow focus colour.
const focusState = `(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "none";
  const s = getComputedStyle(e);
  const visible = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0 && s.outlineColor !== "rgba(0, 0, 0, 0)") ||
    s.boxShadow !== "none" || s.backgroundColor === "rgb(255, 221, 0)";
  let k = e.dataset.kbd;
  if (k === undefined && e.type === "radio") {
    const first = document.querySelector('input[type=radio][name="' + e.name + '"][data-kbd]');
    if (first) k = first.dataset.kbd;
  }
  return (k === undefined ? "?" : k) + (visible ? ":visible" : ":hidden");
})()`

// checkAccessible checks the page as it is shown: axe-core's WCAG 2.2 A
// and AA rules at 1280 and at 320 px, no raw code or "(Yes)" in its text
// (wordsCheck), the reflow at 320 px (with
// screenshots/SHOT-320.png when shot is not ""), the heading structure,
// and a walk with the Tab key: every link, button, field and scrolling
// region must receive focus, and the focus must be visible.
func (p *page) checkAccessible(name, shot string) {
	p.t.Helper()
	p.axeCheck(name)
	p.wordsCheck(name)
	p.reflowCheck(name, shot)
	if faults := p.eval(staticChecks); faults != "" {
		p.t.Errorf("%s: accessibility faults:\n%s", name, faults)
	}
	var n int
	if _, err := fmt.Sscan(p.eval(markFocusable), &n); err != nil {
		p.t.Fatal(err)
	}
	reached := make(map[string]bool)
	p.eval(`(document.activeElement && document.activeElement.blur && document.activeElement.blur(), "")`)
	for i := 0; i < n+3 && len(reached) < n; i++ {
		p.do(chromedp.KeyEvent("\t"))
		st := p.eval(focusState)
		idx, vis, _ := strings.Cut(st, ":")
		if idx == "none" || idx == "?" {
			continue
		}
		if vis != "visible" {
			p.t.Errorf("%s: element %s receives focus without a visible focus indicator", name, idx)
		}
		reached[idx] = true
	}
	if len(reached) < n {
		missing := []string{}
		for i := 0; i < n; i++ {
			if !reached[fmt.Sprint(i)] {
				missing = append(missing, p.eval(fmt.Sprintf(`document.querySelector('[data-kbd="%d"]').outerHTML.slice(0, 80)`, i)))
			}
		}
		p.t.Errorf("%s: %d of %d controls not reached by Tab: %v", name, n-len(reached), n, missing)
	}
}

// signIn signs in through the form.
func (p *page) signIn(b *borough, role string) {
	p.t.Helper()
	p.open("/sign-in")
	p.submit("/", "button[type=submit].button", chromedp.SendKeys(chromedp.CSS("#token"), b.tokens[role]))
}

// auditHas reports whether the audit log holds a row of user doing action
// on resource.
func auditHas(t *testing.T, b *borough, user, action, resource string) bool {
	t.Helper()
	es, err := b.st.Audit(context.Background(), store.AuditFilter{Action: action, Resource: resource, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.User == user && e.Resource == resource {
			return true
		}
	}
	return false
}

// TestCaseworkerJourney: a caseworker signs in, opens the queue, opens a
// resident's case, moves it on and records the outcome; the outcome is
// stored, becomes a label, and every view is audited.
func TestCaseworkerJourney(t *testing.T) {
	b := setup(t)
	p := newPage(t, b)
	p.open("/sign-in")
	p.screenshot("sign-in")
	p.checkAccessible("sign-in", "sign-in")
	p.submit("/sign-in", "button[type=submit].button", chromedp.SendKeys(chromedp.CSS("#token"), "crk_not-a-token"))
	if !strings.Contains(p.eval(`document.body.innerText`), "There is a problem") {
		t.Fatal("a wrong token shows no error summary")
	}
	p.screenshot("sign-in-error")
	p.checkAccessible("sign-in error", "")
	p.open("/no-such-page")
	if h := p.heading(); h != "Page not found" {
		t.Fatalf("an unknown address signed out shows %q", h)
	}
	p.checkAccessible("not found, signed out", "")
	p.signIn(b, "caseworker")
	p.waitPath("/reviews")
	if h := p.heading(); h != "My reviews" {
		t.Fatalf("start page heading %q", h)
	}
	p.screenshot("caseworker-queue")
	p.checkAccessible("caseworker queue", "caseworker-queue")
	queueNamesPeople(t, b, p)
	p.open("/reviews?offset=not-a-number")
	if h := p.heading(); h != "Page not found" {
		t.Fatalf("a bad page number shows %q", h)
	}
	p.checkAccessible("bad request", "")
	p.open("/no-such-page")
	p.screenshot("not-found")
	p.checkAccessible("not found", "")
	p.open("/reviews")

	href := p.eval(`document.querySelector("tbody tr a").getAttribute("href")`)
	var caseID int64
	if _, err := fmt.Sscanf(href, "/cases/%d", &caseID); err != nil {
		t.Fatalf("first queue link %q: %v", href, err)
	}
	p.do(chromedp.Click(chromedp.CSS("tbody tr a")))
	p.waitPath(href)
	k, err := b.st.Case(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	lead := fullName(t, b, k.ResidentID)
	if !strings.Contains(p.heading(), lead) {
		t.Fatalf("case page heading %q does not name resident %s, %s", p.heading(), k.ResidentID, lead)
	}
	body := p.eval(`document.body.innerText`)
	for _, want := range []string{"Raising the chance", "chance.", "residents scored like this", "Scored as of "} {
		if !strings.Contains(body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	p.hasHeadings("case page", "The household", "Why "+lead+" ranks the case", "Move the case on")
	// Every scored member of the household is listed by name with their
	// own chance.
	if k.Household != "" {
		members, err := b.st.HouseholdScores(context.Background(), k.RunID, k.Household)
		if err != nil {
			t.Fatal(err)
		}
		rows := p.eval(`document.querySelector("#members-caption").closest("table").querySelector("tbody").innerText`)
		for _, m := range members {
			if !strings.Contains(rows, fullName(t, b, m.ResidentID)) {
				t.Errorf("the case page does not list household member %s (%s):\n%s", m.ResidentID, fullName(t, b, m.ResidentID), rows)
			}
		}
	}
	p.screenshot("caseworker-case")
	p.checkAccessible("case page", "caseworker-case")

	p.submit(href, "#assign")
	if !strings.Contains(p.eval(`document.body.innerText`), "to you") {
		t.Fatal("the case page does not say the case is assigned to the caseworker")
	}
	p.open("/reviews?mine=1")
	if n := p.eval(fmt.Sprintf(`String(document.querySelectorAll('tbody a[href="/cases/%d"]').length)`, caseID)); n != "1" {
		t.Fatal("the assigned case is not in the caseworker's own list")
	}
	p.open(href)
	p.submit(href, "#status-submit", chromedp.SetValue(chromedp.CSS("#status"), "reviewing"),
		chromedp.SendKeys(chromedp.CSS("#status-note"), "Reviewed the record"))
	if !strings.Contains(p.eval(`document.body.innerText`), "The case has been updated") {
		t.Fatal("no confirmation after the status change")
	}
	p.checkAccessible("case page, updated", "")
	p.submit(href+"/outcome", "#outcome-submit")
	if !strings.Contains(p.eval(`document.body.innerText`), "Choose the outcome of the case") {
		t.Fatal("closing without an outcome shows no error")
	}
	p.checkAccessible("case page, no outcome chosen", "")
	p.submit(href, "#outcome-submit", chromedp.Click(chromedp.CSS("#outcome-help_accepted")))
	p.screenshot("caseworker-case-closed")
	p.checkAccessible("case closed", "")

	k, err = b.st.Case(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	if k.Status != store.StatusClosed || k.Outcome != store.OutcomeHelpAccepted {
		t.Fatalf("case %d is %s/%s, want closed/help_accepted", caseID, k.Status, k.Outcome)
	}
	labels, err := b.st.Labels(context.Background(), store.ComplexCase)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range labels {
		found = found || (l.CaseID == caseID && l.Label == 1)
	}
	if !found {
		t.Fatalf("case %d's outcome is not a training label", caseID)
	}
	if !auditHas(t, b, "demo-caseworker", "update", fmt.Sprintf("case/%d", caseID)) {
		t.Error("no audit row of the case update")
	}

	p.open("/residents/" + k.ResidentID)
	// The resident page of the top case fits two screens before any
	// expansion.
	if h := p.eval(`String(document.documentElement.scrollHeight)`); atoi(t, h) > 1600 {
		t.Errorf("the resident page of the top case is %s px tall at 1280 × 800, want at most two screens (1600 px)", h)
	}
	p.hasHeadings("resident page", "Complex case score", "Household", "Timeline across services")
	if h := p.heading(); h != lead {
		t.Errorf("the resident page's heading is %q, want the resident's name %q", h, lead)
	}
	p.screenshot("caseworker-resident")
	p.checkAccessible("resident page", "caseworker-resident")
	for _, res := range []string{"resident/" + k.ResidentID, "resident/" + k.ResidentID + "/risk", fmt.Sprintf("case/%d", caseID)} {
		if !auditHas(t, b, "demo-caseworker", "read", res) {
			t.Errorf("no audit row of the caseworker reading %s", res)
		}
	}
	timelineWorks(t, p, k.ResidentID)

	// Finding a resident by name.
	top := k
	r, err := b.st.Resident(context.Background(), top.ResidentID)
	if err != nil {
		t.Fatal(err)
	}
	p.open("/residents")
	p.checkAccessible("search page", "")
	p.submit("/residents", "#search-submit", chromedp.SendKeys(chromedp.CSS("#name"), strings.ToLower(r.Resident.GivenName[:3]+" "+r.Resident.FamilyName)))
	if n := p.eval(fmt.Sprintf(`String(document.querySelectorAll('tbody a[href="/residents/%s"]').length)`, top.ResidentID)); n != "1" {
		t.Errorf("searching for %s %s does not find them", r.Resident.GivenName, r.Resident.FamilyName)
	}
	p.screenshot("caseworker-search")
	p.checkAccessible("search results", "caseworker-search")
	if !auditHas(t, b, "demo-caseworker", "read", "residents/search") {
		t.Error("the search is not audited")
	}
	p.open("/residents?search=1&dob=1999-02-31")
	if !strings.Contains(p.eval(`document.body.innerText`), "Date of birth must be a real date") {
		t.Error("a date of birth that does not exist shows no error")
	}
	p.checkAccessible("search, bad date", "")
	if _, err := audit.Verify(context.Background(), b.st); err != nil {
		t.Fatalf("audit chain after the journey: %v", err)
	}
}

// fullName is a resident's given and family name from the store.
func fullName(t *testing.T, b *borough, id string) string {
	t.Helper()
	v, err := b.st.Resident(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(v.Resident.GivenName + " " + v.Resident.FamilyName)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

// queueNamesPeople checks the caseworker's queue on the page: one case per
// household (no two open cases of one household in the store) and every
// case shown with its resident's name.
func queueNamesPeople(t *testing.T, b *borough, p *page) {
	t.Helper()
	cases, _, err := b.st.Queue(context.Background(), store.QueueQuery{Kind: store.ComplexCase, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int64{}
	for _, k := range cases {
		if k.Household == "" {
			continue
		}
		if other, dup := seen[k.Household]; dup {
			t.Errorf("cases %d and %d are both open for one household", other, k.ID)
		}
		seen[k.Household] = k.ID
	}
	rows := p.eval(`Array.from(document.querySelectorAll("#cases-caption ~ tbody tr")).map(r => r.innerText).join("\n")`)
	for _, k := range cases[:min(len(cases), 25)] {
		if name := fullName(t, b, k.ResidentID); !strings.Contains(rows, name) {
			t.Errorf("the queue does not name case %d's resident %s (%s)", k.ID, k.ResidentID, name)
		}
	}
}

// noNames fails the test when the page shows the name of a resident of
// any open case or of their household.
func noNames(t *testing.T, b *borough, p *page, what string) {
	t.Helper()
	body := p.eval(`(() => { const d = [...document.querySelectorAll("details")]; const o = d.map(x => x.open); d.forEach(x => x.open = true); const t = document.body.innerText; d.forEach((x, i) => x.open = o[i]); return t; })()`)
	for _, kind := range store.Targets() {
		cases, _, err := b.st.Queue(context.Background(), store.QueueQuery{Kind: kind, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range cases {
			ids := []string{k.ResidentID}
			if k.Household != "" {
				ms, err := b.st.HouseholdScores(context.Background(), k.RunID, k.Household)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range ms {
					ids = append(ids, m.ResidentID)
				}
			}
			for _, id := range ids {
				if name := fullName(t, b, id); name != "" && strings.Contains(body, name) {
					t.Errorf("the %s shows the name of resident %s", what, id)
				}
			}
		}
	}
}

// timelineWorks filters the resident's timeline by a service and pages it.
func timelineWorks(t *testing.T, p *page, id string) {
	t.Helper()
	first := p.eval(`(document.querySelector(".service-list a") || {getAttribute: () => ""}).getAttribute("href")`)
	if first == "" {
		t.Log("the resident has events of one service at most: no service filter to follow")
		return
	}
	service := p.eval(`document.querySelector(".service-list a").innerText`)
	p.open(first)
	caption := p.eval(`document.querySelector("#timeline-caption").innerText`)
	title, _, _ := strings.Cut(service, " (")
	if !strings.HasPrefix(caption, title+": events 1 to ") {
		t.Errorf("following %q shows the caption %q", service, caption)
	}
	p.checkAccessible("resident page, timeline of one service", "")
	p.open("/residents/" + id + "?from=2024-13-01")
	if !strings.Contains(p.eval(`document.body.innerText`), "From must be a real date") {
		t.Error("a timeline filter with a date that does not exist shows no error")
	}
	p.checkAccessible("resident page, bad timeline filter", "")
}

// TestFraudOfficerPurposeLimit: a fraud officer works the fraud queue but
// cannot reach a resident's complex-case score by URL.
func TestFraudOfficerPurposeLimit(t *testing.T) {
	b := setup(t)
	cc := firstCase(t, b, store.ComplexCase)
	p := newPage(t, b)
	p.signIn(b, "fraud_officer")
	p.waitPath("/fraud-referrals")
	p.screenshot("fraud-queue")
	p.checkAccessible("fraud queue", "fraud-queue")

	// A complex case is not found for a fraud officer, as a missing case
	// is: its id cannot be probed.
	p.open(fmt.Sprintf("/cases/%d", cc.ID))
	if h := p.heading(); h != "Page not found" {
		t.Fatalf("a fraud officer opening complex case %d sees %q", cc.ID, h)
	}
	p.screenshot("fraud-officer-case-not-found")
	p.checkAccessible("case not found page", "")
	p.open("/residents/" + cc.ResidentID)
	if body := p.eval(`document.body.innerText`); strings.Contains(body, "Complex case score") || strings.Contains(body, "residents scored like this") {
		t.Fatal("the resident page shows a fraud officer the complex-case score")
	}
	p.open("/reviews")
	if h := p.heading(); h != "You cannot see this page" {
		t.Fatalf("a fraud officer opening the review queue sees %q", h)
	}

	fc := firstCase(t, b, store.TenancyFraud)
	p.open(fmt.Sprintf("/cases/%d", fc.ID))
	p.screenshot("fraud-case")
	p.checkAccessible("fraud case", "fraud-case")
	p.submit(fmt.Sprintf("/cases/%d", fc.ID), "#status-submit", chromedp.SetValue(chromedp.CSS("#status"), "investigating"))
	p.submit(fmt.Sprintf("/cases/%d", fc.ID), "#outcome-submit", chromedp.Click(chromedp.CSS("#outcome-fraud_confirmed")))
	k, err := b.st.Case(context.Background(), fc.ID)
	if err != nil || k.Outcome != store.OutcomeFraudConfirmed {
		t.Fatalf("fraud case %d: outcome %q, %v", fc.ID, k.Outcome, err)
	}
}

// TestDataScientistPromotes: a data scientist reads the models and promotes
// a candidate after confirming; the service's champion changes at once.
func TestDataScientistPromotes(t *testing.T) {
	b := setup(t)
	p := newPage(t, b)
	p.signIn(b, "data_scientist")
	p.waitPath("/models")
	p.screenshot("models")
	// The comparison answers "is the candidate better?" without scrolling.
	if bottom := p.eval(`String(Math.ceil(document.querySelector("table").getBoundingClientRect().bottom))`); atoi(t, bottom) > 800 {
		t.Errorf("the first comparison ends %s px down the models page, below the 800 px screen", bottom)
	}
	if v := p.eval(`document.querySelector(".verdict").innerText`); !strings.HasPrefix(v, "Yes") && !strings.HasPrefix(v, "No") &&
		!strings.HasPrefix(v, "Not clearly") && !strings.HasPrefix(v, "There is no") {
		t.Errorf("the models page's first verdict is %q", v)
	}
	// Fairness: characteristics with a flagged group are open, others closed.
	if bad := p.eval(`Array.from(document.querySelectorAll("details")).filter(d => d.parentElement.closest("details") === null && /: (groups flagged|no group flagged)/.test(d.querySelector("summary").innerText)).filter(d => d.querySelector("summary").innerText.includes("groups flagged") !== d.open).map(d => d.querySelector("summary").innerText).join("; ")`); bad != "" {
		t.Errorf("fairness sections open without a flagged group or closed with one: %s", bad)
	}
	noNames(t, b, p, "models page")
	full, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("full-page screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join("screenshots", "models-full-page.png"), full, 0o644); err != nil {
		t.Fatal(err)
	}
	p.checkAccessible("models page", "models")
	if n := p.eval(`String(document.querySelectorAll("figure.chart img").length)`); n == "0" {
		t.Fatal("the models page draws no chart")
	}
	// Performance by group: the demo registers each model with its
	// hold-out fairness audit.
	summaries := p.eval(`Array.from(document.querySelectorAll("summary")).map(c => c.innerText).join("\n")`)
	p.hasHeadings("models page", "Complex case: is the candidate better?")
	if !strings.Contains(p.eval(`Array.from(document.querySelectorAll("h3")).map(h => h.innerText).join("\n")`), "Fairness by group") ||
		!strings.Contains(summaries, "Ward: ") {
		t.Fatalf("the models page shows no fairness by group; summaries:\n%s", summaries)
	}
	href := p.eval(`(document.querySelector('a[href$="/promote"]') || {getAttribute: () => ""}).getAttribute("href")`)
	var target string
	var version int
	if _, err := fmt.Sscanf(strings.ReplaceAll(href, "/", " "), " models %s %d promote", &target, &version); err != nil {
		t.Fatalf("no promote link (%q): %v", href, err)
	}
	p.submit(href, `a[href$="/promote"]`)
	p.screenshot("promote-confirm")
	p.checkAccessible("promote confirmation", "")
	noNames(t, b, p, "promotion confirmation")
	p.submit("/models", "#confirm-promote")
	if !strings.Contains(p.eval(`document.body.innerText`), "The model has been promoted") {
		t.Fatal("no confirmation of the promotion")
	}
	p.checkAccessible("models page, promoted", "")
	vs, err := b.st.ChampionVersions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if vs[store.Target(target)] != version {
		t.Fatalf("champion of %s is v%d, want v%d", target, vs[store.Target(target)], version)
	}
	if !auditHas(t, b, "demo-data-scientist", audit.ModelPromote, fmt.Sprintf("model/%s/%d", target, version)) {
		t.Fatal("the promotion is not audited")
	}
	// The API's champion changed without a restart.
	code, body := apiGet(t, b, "data_scientist", "/api/v1/models?target="+target)
	if code != 200 || !strings.Contains(body, fmt.Sprintf(`"version":%d,"stage":"champion"`, version)) {
		t.Fatalf("API models after promotion: %d %s", code, body)
	}
}

// TestAdminPages: an administrator sees users and roles, filters the audit
// log and verifies its chain.
func TestAdminPages(t *testing.T) {
	b := setup(t)
	p := newPage(t, b)
	p.signIn(b, "admin")
	p.waitPath("/models")
	p.open("/admin/users")
	p.screenshot("admin-users")
	p.checkAccessible("users page", "admin-users")
	p.open("/admin/audit?action=read")
	p.screenshot("admin-audit")
	p.checkAccessible("audit page", "admin-audit")
	p.open("/admin/audit?user_id=not-a-number")
	if !strings.Contains(p.eval(`document.body.innerText`), "There is a problem") {
		t.Fatal("a bad audit filter shows no error summary")
	}
	p.checkAccessible("audit page, bad filter", "")
	p.submit("/admin/audit/verify", "#verify")
	deadline := time.Now().Add(20 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		got, _ = chromedp.Run(p.ctx, chromedp.Evaluate[string](`(document.querySelector("#verify-result") || {textContent: ""}).textContent`))
		if got != "" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.HasPrefix(got, "The chain holds") {
		t.Fatalf("audit verification says %q", got)
	}
	p.screenshot("admin-audit-verified")
	p.checkAccessible("audit page, verified", "")
	if errors.Is(context.Cause(p.ctx), context.DeadlineExceeded) {
		t.Fatal("browser timed out")
	}
}

// TestDataStewardReviewsLinkage: a data steward signs in to the linkage
// review queue, opens the next pair, sees the two records side by side
// with each field's comparison, and rejects it; the decision is stored and
// the next pair follows.
func TestDataStewardReviewsLinkage(t *testing.T) {
	b := withLinkage(t)
	p := newPage(t, b)
	p.signIn(b, "data_steward")
	p.waitPath("/linkage/review")
	if h := p.heading(); h != "Linkage review" {
		t.Fatalf("start page heading %q", h)
	}
	p.checkAccessible("linkage review queue", "linkage-queue")

	p.submit("/linkage/review/pairs/", "#start-review")
	var id int64
	if _, err := fmt.Sscanf(p.eval(`location.pathname`), "/linkage/review/pairs/%d", &id); err != nil {
		t.Fatalf("the next pair's address: %v", err)
	}
	p.hasHeadings("pair page", "The two records", "How the linkage compared them", "Your decision")
	if n := p.eval(`String(document.querySelectorAll("#records-table tbody tr").length)`); n != "8" {
		t.Errorf("the side-by-side table has %s rows, want 8", n)
	}
	if lines := p.eval(`document.querySelector("#comparison-lines").innerText`); !strings.Contains(lines, "Dates of birth: ") {
		t.Errorf("no plain-English line for the dates of birth: %q", lines)
	}
	full, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("full-page screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join("screenshots", "linkage-review.png"), full, 0o644); err != nil {
		t.Fatal(err)
	}
	p.checkAccessible("linkage pair", "linkage-review")

	p.submit("/linkage/review/pairs/", "#decision-reject")
	if !strings.Contains(p.eval(`document.body.innerText`), "Decision recorded: the last pair is two people") {
		t.Fatal("no confirmation of the decision")
	}
	p.checkAccessible("linkage pair, decision recorded", "")
	if got := p.eval(`location.pathname`); got == fmt.Sprintf("/linkage/review/pairs/%d", id) {
		t.Fatal("the page did not move to the next pair")
	}
	v, err := b.st.LinkPair(context.Background(), id)
	if err != nil || v.Pair.Decision != store.LinkReject {
		t.Fatalf("pair %d: decision %q, %v", id, v.Pair.Decision, err)
	}
	if !auditHas(t, b, "demo-data-steward", "link_reject", fmt.Sprintf("linkage/pair/%d", id)) {
		t.Fatal("the decision is not audited")
	}
}
