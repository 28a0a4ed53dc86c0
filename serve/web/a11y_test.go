package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeEnv names the file of axe-core's axe.min.js; without it the tests
// look in the project's own npm install (.ci/run runs `npm ci` there).
const axeEnv = "CASERISK_AXE_JS"

// axeDefault is axe.min.js in .ci/axe, relative to this package.
var axeDefault = filepath.Join("..", "..", ".ci", "axe", "node_modules", "axe-core", "axe.min.js")

// axeTags are the rule sets run: WCAG 2.0, 2.1 and 2.2, levels A and AA.
const axeTags = `['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']`

var (
	axeOnce   sync.Once
	axeSource string
	axeWhy    string // why axe-core cannot run, when it cannot

	axeMu    sync.Mutex
	axeTally = map[string]int{} // rule id → violating nodes over the whole run
	axePages int
)

// loadAxe reads axe.min.js once.
func loadAxe() (string, string) {
	axeOnce.Do(func() {
		path, from := os.Getenv(axeEnv), axeEnv
		if path == "" {
			path, from = axeDefault, "the default path"
		}
		b, err := os.ReadFile(path)
		if err != nil {
			axeWhy = fmt.Sprintf("axe-core not installed (%s: %v; run `npm ci` in .ci/axe or set %s)", from, err, axeEnv)
			return
		}
		axeSource = string(b)
	})
	return axeSource, axeWhy
}

// axeViolation is one failed axe-core rule with the nodes that fail it.
type axeViolation struct {
	ID     string    `json:"id"`
	Impact string    `json:"impact"`
	Help   string    `json:"help"`
	Nodes  []axeNode `json:"nodes"`
}

type axeNode struct {
	Target  []string `json:"target"`
	Summary string   `json:"summary"`
}

// axeRun runs axe-core on the whole document with the WCAG A and AA rules
// and returns the violations (not the results that need a person's review).
const axeRun = `axe.run(document, {runOnly: {type: 'tag', values: ` + axeTags + `}, resultTypes: ['violations']})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.map(String), summary: n.failureSummary || ''}))})))`

// axeCheck runs axe-core on the page as it is and fails the test on any
// violation, naming the rule, its impact and the elements at fault. It is
// a subtest, skipped with a message when axe-core is not installed.
func (p *page) axeCheck(name string) {
	p.t.Helper()
	p.t.Run("axe/"+name, func(t *testing.T) {
		src, why := loadAxe()
		if why != "" {
			t.Skip(why)
		}
		vs, err := runAxe(p.ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		axeMu.Lock()
		axePages++
		for _, v := range vs {
			axeTally[v.ID+" ("+v.Impact+")"] += len(v.Nodes)
		}
		axeMu.Unlock()
		for _, v := range vs {
			var b strings.Builder
			for i, n := range v.Nodes {
				if i == 5 {
					fmt.Fprintf(&b, "\n    … and %d more", len(v.Nodes)-5)
					break
				}
				fmt.Fprintf(&b, "\n    %s: %s", strings.Join(n.Target, " "), strings.ReplaceAll(n.Summary, "\n", " "))
			}
			t.Errorf("%s: axe-core %s (%s): %s; %d elements:%s", name, v.ID, v.Impact, v.Help, len(v.Nodes), b.String())
		}
	})
}

// runAxe injects axe-core into the page unless it is there and runs it.
func runAxe(ctx context.Context, src string) ([]axeViolation, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object" && typeof axe.run === "function"`))
	if err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](src+"\n;typeof axe")); err != nil {
			return nil, fmt.Errorf("inject axe-core: %w", err)
		}
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	return vs, nil
}

// reflowState measures the page at the current viewport: how wide the
// document is, the elements that stick out past the viewport's right edge
// (outside a scrolling table wrapper, whose overflow stays inside it), and
// the wrappers that scroll but cannot be reached by keyboard or have no
// name.
const reflowState = `(() => {
  const vw = document.documentElement.clientWidth;
  const desc = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.classList.length ? "." + [...el.classList].join(".") : "") +
    ' "' + (el.innerText || "").trim().slice(0, 30).replace(/\s+/g, " ") + '"';
  const wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    const wrap = el.closest(".table-wrap");
    if (wrap && wrap !== el) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 0.5 && r.left > -1000) wide.push(desc(el) + " right edge at " + Math.round(r.right) + "px");
  }
  // Text can stick out of its element's box (a long word, an id).
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim() || n.parentElement.closest(".table-wrap")) continue;
    const range = document.createRange(); range.selectNodeContents(n);
    const r = range.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 0.5 && r.left > -1000) wide.push("text in " + desc(n.parentElement) + " right edge at " + Math.round(r.right) + "px");
  }
  const unreachable = [];
  for (const w of document.querySelectorAll(".table-wrap")) {
    if (w.scrollWidth <= w.clientWidth) continue;
    const named = w.getAttribute("aria-label") || (w.getAttribute("aria-labelledby") &&
      document.getElementById(w.getAttribute("aria-labelledby")));
    if (w.tabIndex !== 0 || w.getAttribute("role") !== "region" || !named) unreachable.push(desc(w));
  }
  return {viewport: vw, width: document.documentElement.scrollWidth, wide: wide.slice(0, 12), unreachable};
})()`

type reflow struct {
	Viewport    int      `json:"viewport"`
	Width       int      `json:"width"`
	Wide        []string `json:"wide"`
	Unreachable []string `json:"unreachable"`
}

// measureReflow measures the page in a 320×640 viewport and leaves the
// viewport at that size.
func (p *page) measureReflow() reflow {
	p.t.Helper()
	p.do(chromedp.EmulateViewport(320, 640))
	// Wait two frames so the layout is that of the new viewport.
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, chromedp.EvalAwaitPromise)); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
	r, err := chromedp.Run(p.ctx, chromedp.Evaluate[reflow](reflowState))
	if err != nil {
		p.t.Fatalf("measure reflow: %v", err)
	}
	return r
}

// reflowCheck shows the page in a 320×640 viewport (WCAG 1.4.10: 320 CSS
// px) and fails unless nothing but a data table's own wrapper scrolls
// sideways; with a screenshot name it writes screenshots/NAME-320.png. The
// viewport is 1280×800 again afterwards.
func (p *page) reflowCheck(name, screenshot string) {
	p.t.Helper()
	defer p.do(chromedp.EmulateViewport(1280, 800))
	r := p.measureReflow()
	if r.Viewport != 320 {
		p.t.Fatalf("%s: the viewport is %d px wide, want 320", name, r.Viewport)
	}
	if r.Width > r.Viewport {
		p.t.Errorf("%s: at 320 px the page is %d px wide; sticking out:\n  %s", name, r.Width, strings.Join(r.Wide, "\n  "))
	}
	if len(r.Unreachable) > 0 {
		p.t.Errorf("%s: at 320 px, tables not in a scrolling region a keyboard reaches (tabindex=0, role=region, a name):\n  %s", name, strings.Join(r.Unreachable, "\n  "))
	}
	if screenshot != "" {
		p.screenshot(screenshot + "-320")
	}
	// Regions scroll at this width that do not at 1280 px.
	p.axeCheck(name + " at 320px")
}

// logAxeTally prints, after the run, how many page states axe-core
// checked and the violating elements per rule.
func logAxeTally() {
	axeMu.Lock()
	defer axeMu.Unlock()
	if axePages == 0 {
		return
	}
	total := 0
	for _, n := range axeTally {
		total += n
	}
	fmt.Fprintf(os.Stderr, "web tests: axe-core checked %d page states: %d violating elements %v\n", axePages, total, axeTally)
}

// faultyPage breaks rules both checks must catch: a field without a label,
// an image without alt text, a scrolling region no keyboard reaches, and a
// block wider than a 320 px screen.
const faultyPage = `<!DOCTYPE html><html lang="en"><head><title>Faults</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main><h1>Faults</h1>
<input type="text" name="q"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<div class="table-wrap" style="overflow-x:auto"><table><tr><td style="white-space:nowrap">` + "a very long cell that will not wrap at all, wider than a phone" + `</td></tr></table></div>
<p style="width:600px">a paragraph wider than the screen</p></main></body></html>`

// TestChecksCatchFaults: the axe-core and reflow checks find the faults
// of a page made to break them, so a clean result on the real pages means
// something.
func TestChecksCatchFaults(t *testing.T) {
	src, why := loadAxe()
	if why != "" {
		t.Skip(why)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, faultyPage)
	}))
	defer ts.Close()
	p := newPage(t, &borough{ts: ts})
	p.open("/")
	vs, err := runAxe(p.ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, v := range vs {
		found[v.ID] = v.Impact
	}
	for _, id := range []string{"label", "image-alt"} {
		if found[id] == "" {
			t.Errorf("axe-core did not report %s; it reported %v", id, found)
		}
	}
	r := p.measureReflow()
	if r.Width <= 320 || len(r.Wide) == 0 || !strings.Contains(strings.Join(r.Wide, " "), "p ") {
		t.Errorf("the 600 px paragraph went unnoticed at 320 px: %+v", r)
	}
	if len(r.Unreachable) != 1 {
		t.Errorf("the scrolling wrapper without tabindex, role and name went unnoticed: %+v", r)
	}
	vs, err = runAxe(p.ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	found = map[string]string{}
	for _, v := range vs {
		found[v.ID] = v.Impact
	}
	if found["scrollable-region-focusable"] == "" {
		t.Errorf("axe-core at 320 px did not report scrollable-region-focusable; it reported %v", found)
	}
}
