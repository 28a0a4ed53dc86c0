package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// Load-test bars of the scoring service (issue 6), on loopback with a
// 200-tree depth-6 champion.
const (
	barScoreRPS   = 5000
	barScoreP99ms = 10
	barReasonsRPS = 1000
	barRiskRPS    = 3000
)

// wrkResult is what a wrk run reports.
type wrkResult struct {
	rps     float64
	p50ms   float64
	p99ms   float64
	non2xx  int
	errors  int
	total   int
	rawText string
}

var (
	reRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reLatency = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	reNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	reErrors  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	reTotal   = regexp.MustCompile(`(\d+) requests in`)
)

// parseWrk reads wrk --latency output.
func parseWrk(out string) (wrkResult, error) {
	r := wrkResult{rawText: out}
	m := reRPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, l := range reLatency.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(l[2], 64)
		switch l[3] {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		if l[1] == "50" {
			r.p50ms = v
		} else {
			r.p99ms = v
		}
	}
	if m := reNon2xx.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.Atoi(m[1])
	}
	if m := reErrors.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.errors += n
		}
	}
	if m := reTotal.FindStringSubmatch(out); m != nil {
		r.total, _ = strconv.Atoi(m[1])
	}
	return r, nil
}

func TestParseWrk(t *testing.T) {
	out := `Running 5s test @ http://127.0.0.1:1/api/v1/score
  2 threads and 16 connections
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    1.52ms
     99%    3.25ms
  41213 requests in 5.00s, 9.08MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   8241.77
Transfer/sec:      1.82MB
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.rps != 8241.77 || r.p50ms != 0.812 || r.p99ms != 3.25 || r.non2xx != 7 || r.errors != 3 || r.total != 41213 {
		t.Fatalf("parsed %+v", r)
	}
	if _, err := parseWrk("garbage"); err == nil {
		t.Fatal("garbage parsed")
	}
}

// luaString quotes s for a Lua script.
func luaString(s string) string { return strconv.Quote(s) }

// runWrk drives url for d with a Lua script and returns the parsed result.
func runWrk(b *testing.B, wrk, url, script string, d time.Duration, conns int) wrkResult {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.lua")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(wrk, "-t1", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", int(d.Seconds())), "--latency", "-s", path, url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// benchServer starts the API on 127.0.0.1 over a fresh SQLite store with
// a 200-tree depth-6 champion per target and a seeded score run.
func benchServer(b *testing.B, nfeat int) (*env, string, func()) {
	b.Helper()
	e := newEnv(b, "sqlite", envOptions{nfeat: nfeat, ntrees: 200, depth: 6,
		config: func(c *Config) { c.MaxRows = 1000; c.MaxReasons = 10 }})
	seed(b, e.st)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}
	return e, "http://" + ln.Addr().String(), stop
}

func postScript(token, body string) string {
	return `wrk.method = "POST"
wrk.body = ` + luaString(body) + `
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ` + token + `"
`
}

// BenchmarkServeWrk measures the service with wrk against the issue's
// bars (5 s per endpoint, one wrk thread, 4 connections or
// $CASERISK_WRK_CONNECTIONS); it skips when wrk is not installed. On two
// cores one wrk thread leaves the service a core of its own: with two, the
// load generator and the service preempt each other and the p99 measures
// the scheduler, and more connections only queue.
func BenchmarkServeWrk(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk not installed (apt-get install wrk): skipping the load benchmarks")
	}
	const nfeat = 50
	conns := 4
	if v := os.Getenv("CASERISK_WRK_CONNECTIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("CASERISK_WRK_CONNECTIONS=%q: want a positive whole number", v)
		}
		conns = n
	}
	e, base, stop := benchServer(b, nfeat)
	defer stop()
	oneRow, _ := json.Marshal(map[string]any{"rows": []any{e.row(7)}})
	withReasons, _ := json.Marshal(map[string]any{"rows": []any{e.row(7)}, "reasons": 5})
	d := 5 * time.Second
	report := func(b *testing.B, r wrkResult, minRPS, maxP99 float64) {
		b.ReportMetric(r.rps, "req/s")
		b.ReportMetric(r.p50ms, "p50-ms")
		b.ReportMetric(r.p99ms, "p99-ms")
		b.ReportMetric(float64(r.non2xx+r.errors), "failed")
		if r.non2xx+r.errors > 0 {
			b.Errorf("%d non-2xx responses and %d socket errors of %d", r.non2xx, r.errors, r.total)
		}
		if r.rps < minRPS {
			b.Logf("BELOW BAR: %.0f req/s < %.0f", r.rps, minRPS)
		}
		if maxP99 > 0 && r.p99ms > maxP99 {
			b.Logf("BELOW BAR: p99 %.2f ms > %.0f ms", r.p99ms, maxP99)
		}
	}
	b.Run("score-1-row", func(b *testing.B) {
		for range b.N {
			r := runWrk(b, wrk, base+"/api/v1/score?target=complex_case", postScript(e.tokens[auth.DataScientist], string(oneRow)), d, conns)
			report(b, r, barScoreRPS, barScoreP99ms)
		}
	})
	b.Run("score-1-row-5-reasons", func(b *testing.B) {
		for range b.N {
			r := runWrk(b, wrk, base+"/api/v1/score?target=complex_case", postScript(e.tokens[auth.DataScientist], string(withReasons)), d, conns)
			report(b, r, barReasonsRPS, 0)
		}
	})
	b.Run("resident-risk", func(b *testing.B) {
		script := `wrk.headers["Authorization"] = "Bearer ` + e.tokens[auth.Caseworker] + `"
local ids = {"R1", "R2", "R3"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/residents/" .. ids[(i % 3) + 1] .. "/risk")
end
`
		for range b.N {
			before := e.auditCount("resident/")
			r := runWrk(b, wrk, base, script, d, conns)
			report(b, r, barRiskRPS, 0)
			// Every read is in the audit log.
			if got := e.auditCount("resident/") - before; got < min(r.total, 1000) {
				b.Errorf("%d audit rows for %d reads", got, r.total)
			}
		}
	})
	b.Run("promote-during-load", func(b *testing.B) {
		ctx := context.Background()
		var versions []int
		for i := range 2 {
			m, err := e.st.RegisterModel(ctx, store.NewModel{Target: store.ComplexCase, Path: "bench.json",
				Artifact: testArtifact(b, store.ComplexCase, uint64(100+i), nfeat, 200, 6),
				Bands:    store.Bands{High: 0.3, Medium: 0.1}, RegisteredBy: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			versions = append(versions, m.Version)
		}
		for range b.N {
			var wg sync.WaitGroup
			var promotions int
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(500 * time.Millisecond)
				for k := 0; k < 6; k++ {
					v := versions[k%len(versions)]
					if got, body := e.do(auth.Admin, "POST", fmt.Sprintf("/api/v1/models/%d/promote?target=complex_case", v), nil); got != 200 {
						b.Errorf("promote v%d: %d %s", v, got, body)
					}
					promotions++
					time.Sleep(500 * time.Millisecond)
				}
			}()
			r := runWrk(b, wrk, base+"/api/v1/score?target=complex_case", postScript(e.tokens[auth.DataScientist], string(withReasons)), d, conns)
			wg.Wait()
			b.ReportMetric(float64(promotions), "promotions")
			b.ReportMetric(float64(r.non2xx+r.errors), "failed")
			b.ReportMetric(r.rps, "req/s")
			if r.non2xx+r.errors != 0 {
				b.Errorf("%d of %d requests failed while promoting", r.non2xx+r.errors, r.total)
			}
		}
	})
}

// BenchmarkHandlers measures the CPU cost of one request through the whole
// middleware chain, in process (no network), with a 200-tree depth-6
// champion over 50 features.
func BenchmarkHandlers(b *testing.B) {
	e := newEnv(b, "sqlite", envOptions{nfeat: 50, ntrees: 200, depth: 6})
	seed(b, e.st)
	oneRow, _ := json.Marshal(map[string]any{"rows": []any{e.row(7)}})
	withReasons, _ := json.Marshal(map[string]any{"rows": []any{e.row(7)}, "reasons": 5})
	for _, bc := range []struct {
		name, method, path string
		role               auth.Role
		body               []byte
	}{
		{"score-1-row", "POST", "/api/v1/score?target=complex_case", auth.DataScientist, oneRow},
		{"score-1-row-5-reasons", "POST", "/api/v1/score?target=complex_case", auth.DataScientist, withReasons},
		{"resident-risk", "GET", "/api/v1/residents/R1/risk", auth.Caseworker, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if rec := e.serve(bc.role, bc.method, bc.path, bc.body); rec.Code != 200 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
				}
			}
		})
	}
}
