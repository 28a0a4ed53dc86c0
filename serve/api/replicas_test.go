package api

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"caserisk/serve/api/champion"
	"caserisk/serve/auth"
	"caserisk/serve/store"
	"caserisk/serve/store/storetest"
)

// serving runs srv on a loopback port until the test ends and returns
// its base URL and a function that stops it (as SIGTERM does) and waits.
func serving(t *testing.T, srv *Server) (base string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	var serr error
	stop = func() error {
		once.Do(func() {
			cancel()
			serr = <-done
		})
		return serr
	}
	t.Cleanup(func() { stop() })
	return "http://" + ln.Addr().String(), stop
}

// get sends a GET with an optional bearer token and returns the status,
// the Connection header and the body.
func get(t *testing.T, rawURL, token string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	conn := resp.Header.Get("Connection")
	if resp.Close {
		conn = "close"
	}
	return resp.StatusCode, conn, string(b)
}

// TestDrainDelay: after SIGTERM readiness answers 503 at once, yet the
// service keeps serving for DrainDelay, telling clients to close their
// connections, and only then stops listening.
func TestDrainDelay(t *testing.T) {
	const delay = 600 * time.Millisecond
	e := newEnv(t, "sqlite", envOptions{config: func(c *Config) { c.DrainDelay = delay }})
	base, stop := serving(t, e.srv)
	if code, conn, _ := get(t, base+"/readyz", ""); code != 200 || conn == "close" {
		t.Fatalf("readyz before shutdown: %d (Connection: %q)", code, conn)
	}
	start := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	for {
		select {
		case <-e.srv.draining:
		case <-time.After(5 * time.Millisecond):
			continue
		}
		break
	}
	if code, _, _ := get(t, base+"/readyz", ""); code != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining: %d, want 503", code)
	}
	code, conn, body := get(t, base+"/api/v1/models", e.tokens[auth.Admin])
	if code != 200 || conn != "close" {
		t.Errorf("a request while draining: %d (Connection: %q) %s; want 200 and Connection: close", code, conn, body)
	}
	if got := metricValue(t, e, "caserisk_draining"); got != "1" {
		t.Errorf("caserisk_draining %q while draining, want 1", got)
	}
	select {
	case err := <-stopped:
		t.Fatalf("stopped %s after SIGTERM, before the drain delay of %s: %v", time.Since(start), delay, err)
	case <-time.After(delay / 2):
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el < delay {
			t.Errorf("stopped after %s, want at least the drain delay %s", el, delay)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the service did not stop after its drain delay")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("still listening after the drain")
	}
}

// metricValue reads one unlabelled metric's value from /metrics.
func metricValue(t *testing.T, e *env, name string) string {
	t.Helper()
	code, body := e.do("", "GET", "/metrics", nil)
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// cuttable is a TCP proxy to PostgreSQL that the test can cut (every
// connection closed, new ones refused) and restore: the database becomes
// unreachable for the service as on a lost network.
type cuttable struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

func newCuttable(t *testing.T, target string) *cuttable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttable{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.accept()
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	return p
}

func (p *cuttable) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close(); c.Close() }()
		go func() { io.Copy(c, up); up.Close(); c.Close() }()
	}
}

func (p *cuttable) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// TestReadyWhileDatabaseUnreachable (PostgreSQL): readiness answers 503
// within its timeout while the database cannot be reached, and 200 again
// once it can, with no restart; liveness answers throughout.
func TestReadyWhileDatabaseUnreachable(t *testing.T) {
	direct := storetest.PostgresURL(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCuttable(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	ctx := context.Background()
	st, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := New(ctx, Config{Store: st, Load: champion.LoadArtifact, ReadyTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base, _ := serving(t, srv)
	if code, _, body := get(t, base+"/readyz", ""); code != 200 {
		t.Fatalf("readyz with the database up: %d %s", code, body)
	}
	proxy.setCut(true)
	start := time.Now()
	code, _, body := get(t, base+"/readyz", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database") {
		t.Errorf("readyz with the database unreachable: %d %s, want 503 naming the database", code, body)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("readyz took %s to answer with the database unreachable, want about its 1 s timeout", el)
	}
	if code, _, _ := get(t, base+"/healthz", ""); code != 200 {
		t.Errorf("healthz with the database unreachable: %d, want 200 (the process lives)", code)
	}
	proxy.setCut(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _, body := get(t, base+"/readyz", "")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after the database came back: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestChangesReachEveryReplica (PostgreSQL): two services on one
// database, each with a long poll and token cache. A promotion through
// one is served by the other within a second, and a user disabled from a
// third process (as `caserisk users disable` does) is refused by both
// within a second, though both had the token cached.
func TestChangesReachEveryReplica(t *testing.T) {
	u := storetest.PostgresURL(t)
	ctx := context.Background()
	cli, err := store.Open(ctx, u) // the third process: the CLI
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	tokens := map[auth.Role]string{}
	userIDs := map[auth.Role]int64{}
	for _, role := range []auth.Role{auth.Admin, auth.DataScientist} {
		tok, err := auth.NewToken(nil)
		if err != nil {
			t.Fatal(err)
		}
		usr, err := cli.CreateUserWithToken(ctx, "replica-"+string(role), role, tok)
		if err != nil {
			t.Fatal(err)
		}
		tokens[role], userIDs[role] = tok.Secret, usr.ID
	}
	var versions []int
	for i := range 2 {
		m, err := cli.RegisterModel(ctx, store.NewModel{Target: store.ComplexCase, Path: fmt.Sprintf("v%d.json", i+1),
			Artifact: testArtifact(t, store.ComplexCase, uint64(i+1), 8, 10, 3), Bands: store.Bands{High: 0.3, Medium: 0.1}, RegisteredBy: "test"})
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, m.Version)
	}
	if _, err := cli.PromoteModel(ctx, store.ComplexCase, versions[0], "test"); err != nil {
		t.Fatal(err)
	}
	var bases []string
	for range 2 {
		st, err := store.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		srv, err := New(ctx, Config{Store: st, Load: champion.LoadArtifact, RefreshEvery: time.Hour, AuthCacheTTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		base, _ := serving(t, srv)
		waitFor(t, "the change watch", func() bool { return metricOf(t, base, "caserisk_change_watch_up") == "1" })
		bases = append(bases, base)
	}
	for _, b := range bases { // both cache the data scientist's token
		if code, _, body := get(t, b+"/api/v1/models", tokens[auth.DataScientist]); code != 200 {
			t.Fatalf("models: %d %s", code, body)
		}
	}

	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/models/%d/promote?target=complex_case", bases[0], versions[1]), nil)
	req.Header.Set("Authorization", "Bearer "+tokens[auth.Admin])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	promoted := time.Now()
	if resp.StatusCode != 200 {
		t.Fatalf("promote through replica 1: %d", resp.StatusCode)
	}
	want := fmt.Sprintf(`"complex_case":%d`, versions[1])
	waitFor(t, "replica 2 to serve the promoted champion", func() bool {
		_, _, body := get(t, bases[1]+"/readyz", "")
		return strings.Contains(body, want)
	})
	seen := time.Since(promoted)
	t.Logf("promotion through replica 1 served by replica 2 after %s", seen.Round(time.Millisecond))
	if seen > time.Second {
		t.Errorf("replica 2 served the promotion after %s, want within 1 s", seen)
	}

	if err := cli.SetUserDisabled(ctx, userIDs[auth.DataScientist], true); err != nil {
		t.Fatal(err)
	}
	disabled := time.Now()
	for i, b := range bases {
		waitFor(t, fmt.Sprintf("replica %d to refuse the disabled user", i+1), func() bool {
			code, _, _ := get(t, b+"/api/v1/models", tokens[auth.DataScientist])
			return code == http.StatusUnauthorized
		})
	}
	took := time.Since(disabled)
	t.Logf("a user disabled by another process refused by both replicas after %s", took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("the disabled user was refused after %s, want within 1 s", took)
	}
	if got := metricOf(t, bases[1], `caserisk_changes_total{kind="champion"}`); got == "" || got == "0" {
		t.Errorf("replica 2 counted %q champion changes", got)
	}
}

// waitFor polls cond every 10 ms for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metricOf reads one metric's value from a running service's /metrics.
func metricOf(t *testing.T, base, name string) string {
	t.Helper()
	code, _, body := get(t, base+"/metrics", "")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}
