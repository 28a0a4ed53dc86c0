package main

// Three replicas behind a real load balancer (issue #22): the built binary
// serves three times on one PostgreSQL schema, HAProxy (Debian's package)
// balances them with the configuration the README gives, and the test
// signs a user in through it, starts one score run through two replicas,
// promotes a model through one, and drives load while it kills a replica
// with SIGKILL and restarts another with SIGTERM, counting every answer.

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"caserisk/features/spec"
	"caserisk/models/artifact"
	"caserisk/serve/auth"
	"caserisk/serve/store"
	"caserisk/serve/store/storetest"
)

// replicaLoadEnv sets how long the load with the kills lasts: 15 s in the
// test by default, the bar's 60 s in the benchmark.
const replicaLoadEnv = "CASERISK_REPLICA_LOAD"

// loadDuration reads replicaLoadEnv, else def.
func loadDuration(tb testing.TB, def time.Duration) time.Duration {
	raw := os.Getenv(replicaLoadEnv)
	if raw == "" {
		return def
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d < 6*time.Second {
		tb.Fatalf("%s=%q: want a duration of at least 6s, e.g. 60s", replicaLoadEnv, raw)
	}
	return d
}

// TestReplicasBehindHAProxy: a user signed in through the balancer stays
// signed in across replicas; a score run started through two replicas at
// once runs once; a promotion through one replica is served by every
// replica within 1 s; over the load (CASERISK_REPLICA_LOAD, 15 s here)
// with one replica killed (SIGKILL, then started again) and one restarted
// (SIGTERM, then started again), no request fails, and the balancer
// retried those the dead replica could not answer.
func TestReplicasBehindHAProxy(t *testing.T) {
	r := replicaScenario(t, loadDuration(t, 15*time.Second))
	r.check(t)
}

// BenchmarkReplicasBehindHAProxy is the bar's form: 60 s of load.
func BenchmarkReplicasBehindHAProxy(b *testing.B) {
	load := loadDuration(b, 60*time.Second)
	for range b.N {
		r := replicaScenario(b, load)
		r.check(b)
		b.ReportMetric(float64(r.total)/load.Seconds(), "req/s")
		b.ReportMetric(float64(r.failed()), "failed")
		b.ReportMetric(float64(r.retries+r.redispatches), "lb-retries")
		b.ReportMetric(float64(r.promotion.Milliseconds()), "promotion-ms")
	}
}

// scenarioResult is what the scenario saw.
type scenarioResult struct {
	load       time.Duration
	signedIn   map[string]int // replica → pages served to the signed-in user before the load
	scoreRuns  []int          // the statuses of the score run started through two replicas
	runDiffs   []string       // how the store differs from one uninterrupted run
	promotion  time.Duration  // until the last replica served the promoted model
	perReplica map[string]time.Duration
	total      int
	byKind     map[string]int
	failures   []loadResult
	retries    int // HAProxy: retries and redispatches over the run
	// redispatches and the servers' final status (UP, DOWN) from HAProxy's statistics.
	redispatches int
	status       map[string]string
	// afterRestart counts answers from each restarted replica after it came back.
	afterRestart map[string]int
	killedAt     time.Duration // into the load
	termAt       time.Duration
	termTook     time.Duration // SIGTERM to exit: the drain
	stillSigned  bool          // the signed-in user's page after the load
}

func (r *scenarioResult) failed() int { return len(r.failures) }

func (r *scenarioResult) check(tb testing.TB) {
	tb.Helper()
	if len(r.signedIn) != 3 {
		tb.Errorf("the signed-in user was served by %v, want all three replicas", r.signedIn)
	}
	ok := 0
	for _, code := range r.scoreRuns {
		switch code {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
		default:
			tb.Errorf("a score run through two replicas at once answered %d, want 200 or 409", code)
		}
	}
	if ok == 0 {
		tb.Errorf("neither replica ran the score run: %v", r.scoreRuns)
	}
	for _, d := range r.runDiffs {
		tb.Errorf("after one score run through two replicas: %s", d)
	}
	for name, d := range r.perReplica {
		if d > time.Second {
			tb.Errorf("replica %s served the promoted model after %s, want within 1 s", name, d)
		}
	}
	for i, f := range r.failures {
		if i == 10 {
			tb.Errorf("… and %d more failed requests", len(r.failures)-10)
			break
		}
		tb.Errorf("failed: %s at +%s on %q: status %d %s", f.kind, f.at.Round(time.Millisecond), f.replica, f.status, f.err)
	}
	if r.retries+r.redispatches == 0 {
		tb.Errorf("HAProxy retried nothing: the killed replica's requests were not seen (retries %d, redispatches %d)",
			r.retries, r.redispatches)
	}
	for _, name := range []string{"r1", "r2", "r3"} {
		if r.status[name] != "UP" {
			tb.Errorf("replica %s is %q at the end, want UP", name, r.status[name])
		}
	}
	for _, name := range []string{"r2", "r3"} {
		if r.afterRestart[name] == 0 {
			tb.Errorf("replica %s served nothing after it was started again", name)
		}
	}
	if !r.stillSigned {
		tb.Error("the signed-in user was signed out by the restarts")
	}
	tb.Logf("signed-in user served by %v; score run through two replicas at once: %v; promotion served by every replica after %s (%v); "+
		"load %s: %d requests (%.0f/s) %v, %d failed; SIGKILL r3 at +%s, SIGTERM r2 at +%s (drained and exited in %s); "+
		"HAProxy retries %d, redispatches %d; answers after restart %v; servers %v",
		r.signedIn, r.scoreRuns, r.promotion.Round(time.Millisecond), roundAll(r.perReplica), r.load, r.total,
		float64(r.total)/r.load.Seconds(), r.byKind, len(r.failures), r.killedAt.Round(time.Millisecond),
		r.termAt.Round(time.Millisecond), r.termTook.Round(time.Millisecond), r.retries, r.redispatches, r.afterRestart, r.status)
}

func roundAll(m map[string]time.Duration) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v.Round(time.Millisecond).String()
	}
	return out
}

// replica is one `caserisk serve` process.
type replica struct {
	name, addr, logPath string
	args                []string
	cmd                 *exec.Cmd
	exited              chan error
}

func (r *replica) start(bin string) error {
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	r.cmd = exec.Command(bin, r.args...)
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", r.name, err)
	}
	r.exited = make(chan error, 1)
	go func() {
		r.exited <- r.cmd.Wait()
		logf.Close()
	}()
	return nil
}

// waitReady waits for the replica's /readyz to answer 200.
func (r *replica) waitReady(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get("http://" + r.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case err := <-r.exited:
			r.exited <- err
			return fmt.Errorf("%s exited while starting (%v): %s", r.name, err, tail(r.logPath))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %s", r.name, d, tail(r.logPath))
		}
	}
}

func (r *replica) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	select {
	case err := <-r.exited:
		r.exited <- err
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
}

// tail returns the end of a log file.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// freeAddrs returns n loopback addresses with free ports.
func freeAddrs(tb testing.TB, n int) []string {
	tb.Helper()
	var out []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// haproxyConfig returns the README's HAProxy configuration with the
// test's addresses: the service (8080), the replicas (8081–8083) and the
// statistics (8404).
func haproxyConfig(tb testing.TB, front string, replicas []string, stats string) string {
	tb.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		tb.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```haproxy\n")
	cfg, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		tb.Fatal("README.md has no ```haproxy block")
	}
	repl := map[string]string{"127.0.0.1:8080": front, "127.0.0.1:8404": stats}
	for i, a := range replicas {
		repl[fmt.Sprintf("127.0.0.1:%d", 8081+i)] = a
	}
	for from, to := range repl {
		if strings.Count(cfg, from) != 1 {
			tb.Fatalf("the README's HAProxy configuration names %s %d times, want once", from, strings.Count(cfg, from))
		}
		cfg = strings.Replace(cfg, from, to, 1)
	}
	return cfg
}

// haproxyStats reads the backend's servers from HAProxy's CSV statistics:
// status, retries and redispatches by server name.
func haproxyStats(stats string) (status map[string]string, retries, redispatches int, err error) {
	resp, err := http.Get("http://" + stats + "/stats;csv")
	if err != nil {
		return nil, 0, 0, err
	}
	defer resp.Body.Close()
	rd := csv.NewReader(resp.Body)
	rd.FieldsPerRecord = -1
	recs, err := rd.ReadAll()
	if err != nil || len(recs) < 2 {
		return nil, 0, 0, fmt.Errorf("read HAProxy's statistics: %v (%d lines)", err, len(recs))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.TrimPrefix(h, "# ")] = i
	}
	status = map[string]string{}
	for _, rec := range recs[1:] {
		if rec[col["pxname"]] != "replicas" {
			continue
		}
		name := rec[col["svname"]]
		if name == "BACKEND" {
			retries, _ = strconv.Atoi(rec[col["wretr"]])
			redispatches, _ = strconv.Atoi(rec[col["wredis"]])
			continue
		}
		status[name] = strings.Fields(rec[col["status"]] + " ")[0]
	}
	return status, retries, redispatches, nil
}

// loadResult is one request of the load.
type loadResult struct {
	kind    string
	at      time.Duration // since the load started
	status  int
	err     string
	replica string // X-Caserisk-Replica
}

// replicaScenario runs the whole scenario; failures of its set-up stop
// the test, what it measures is returned for check.
func replicaScenario(tb testing.TB, load time.Duration) *scenarioResult {
	if _, err := exec.LookPath("haproxy"); err != nil {
		tb.Skip("haproxy is not installed (Debian: apt-get install haproxy): skipping the replicas behind a load balancer")
	}
	db := storetest.PostgresURL(tb)
	k := faultSetup(tb)
	dir := tb.TempDir()
	ctx := context.Background()

	// The store: the fault kit's champions (version 1 of each target), a
	// second complex-case model to promote, and a user per role.
	if err := k.prepare(db); err != nil {
		tb.Fatal(err)
	}
	m, err := artifact.Load(k.models["complex_case"])
	if err != nil {
		tb.Fatal(err)
	}
	for i := range m.Logistic.Coef {
		m.Logistic.Coef[i] *= -1.5
	}
	v2 := filepath.Join(dir, "complex_case_v2.json")
	if err := m.Save(v2); err != nil {
		tb.Fatal(err)
	}
	if out, err := exec.Command(k.bin, "models", "register", "--db", db, "--target", "complex_case",
		"--band-high", "0.5", "--band-medium", "0.2", v2).CombinedOutput(); err != nil {
		tb.Fatalf("register v2: %v: %s", err, out)
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	tokens := map[auth.Role]string{}
	for _, role := range []auth.Role{auth.Caseworker, auth.DataScientist, auth.Admin} {
		tok, err := auth.NewToken(nil)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := st.CreateUserWithToken(ctx, "replica."+string(role), role, tok); err != nil {
			tb.Fatal(err)
		}
		tokens[role] = tok.Secret
	}
	sp, err := spec.Default()
	if err != nil {
		tb.Fatal(err)
	}
	rows := map[string]string{}
	for target, entity := range map[string]string{"complex_case": spec.Resident, "tenancy_fraud": spec.Tenancy} {
		var fields []string
		for i, f := range sp.Section(entity).Features[:4] {
			fields = append(fields, fmt.Sprintf("%q: %d", f.Name, i*3+1))
		}
		rows[target] = `{"rows": [{` + strings.Join(fields, ", ") + `}]}`
	}

	// Three replicas, then HAProxy.
	addrs := freeAddrs(tb, 5)
	front, stats := addrs[3], addrs[4]
	var reps []*replica
	for i := range 3 {
		r := &replica{name: fmt.Sprintf("r%d", i+1), addr: addrs[i], logPath: filepath.Join(dir, fmt.Sprintf("r%d.log", i+1)),
			args: []string{"serve", "--db", db, "--addr", addrs[i], "--data", k.data, "--capacity", faultCapacity,
				"--drain-delay", "2s", "--grace", "15s", "--log-level", "warn"}}
		if err := r.start(k.bin); err != nil {
			tb.Fatal(err)
		}
		reps = append(reps, r)
	}
	defer func() {
		for _, r := range reps {
			r.stop()
		}
		if tb.Failed() {
			for _, r := range reps {
				tb.Logf("%s's log ends: %s", r.name, tail(r.logPath))
			}
		}
	}()
	for _, r := range reps {
		if err := r.waitReady(60 * time.Second); err != nil {
			tb.Fatal(err)
		}
	}
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(haproxyConfig(tb, front, addrs[:3], stats)), 0o644); err != nil {
		tb.Fatal(err)
	}
	if out, err := exec.Command("haproxy", "-c", "-f", cfgPath).CombinedOutput(); err != nil {
		tb.Fatalf("haproxy -c: %v: %s", err, out)
	}
	haLog := filepath.Join(dir, "haproxy.log")
	haOut, err := os.Create(haLog)
	if err != nil {
		tb.Fatal(err)
	}
	ha := exec.Command("haproxy", "-db", "-f", cfgPath)
	ha.Stdout, ha.Stderr = haOut, haOut
	if err := ha.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() {
		ha.Process.Signal(syscall.SIGTERM)
		ha.Wait()
		haOut.Close()
		if tb.Failed() {
			tb.Logf("HAProxy's log ends: %s", tail(haLog))
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, _, _, err := haproxyStats(stats)
		if err == nil && status["r1"] == "UP" && status["r2"] == "UP" && status["r3"] == "UP" {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("HAProxy's servers not UP after 30 s: %v %v: %s", status, err, tail(haLog))
		}
		time.Sleep(100 * time.Millisecond)
	}
	base := "http://" + front
	res := &scenarioResult{load: load, signedIn: map[string]int{}, perReplica: map[string]time.Duration{},
		byKind: map[string]int{}, afterRestart: map[string]int{}}

	// A caseworker signs in through the balancer and is served by every
	// replica.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn(tb, browser, base, tokens[auth.Caseworker])
	for range 12 {
		code, replica, body := send(browser, "GET", base+"/reviews", "", "")
		if code != 200 {
			tb.Fatalf("the signed-in user's queue through the balancer: %d on %s: %.300s", code, replica, body)
		}
		res.signedIn[replica]++
	}

	// One score run, started through two replicas at once: the claims
	// hold across processes.
	var wg sync.WaitGroup
	res.scoreRuns = make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, body := send(http.DefaultClient, "POST", "http://"+reps[i].addr+"/api/v1/score-runs",
				tokens[auth.DataScientist], fmt.Sprintf(`{"as_of": %q, "capacity": %s}`, faultAsOf, faultCapacity))
			res.scoreRuns[i] = code
			if code != 200 && code != 409 {
				tb.Logf("score run through %s: %d %.500s", reps[i].name, code, body)
			}
		}()
	}
	wg.Wait()
	stAfter, err := readRunState(db)
	if err != nil {
		tb.Fatal(err)
	}
	res.runDiffs = stAfter.diff(k.ref)

	// A promotion through r1, timed until every replica scores with it.
	code, _, body := send(http.DefaultClient, "POST", "http://"+reps[0].addr+"/api/v1/models/2/promote?target=complex_case",
		tokens[auth.Admin], "")
	if code != 200 {
		tb.Fatalf("promote through r1: %d %s", code, body)
	}
	promoted := time.Now()
	for _, r := range reps {
		for {
			code, _, body := send(http.DefaultClient, "POST", "http://"+r.addr+"/api/v1/score?target=complex_case",
				tokens[auth.DataScientist], rows["complex_case"])
			if code == 200 && strings.Contains(body, `"model_version":2`) {
				res.perReplica[r.name] = time.Since(promoted)
				break
			}
			if time.Since(promoted) > 10*time.Second {
				tb.Fatalf("%s does not serve the promoted model after 10 s: %d %s", r.name, code, body)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	res.promotion = time.Since(promoted)

	// The load, through the balancer, with a SIGKILL and a SIGTERM.
	residents := residentIDs(tb, db, 50)
	kinds := []struct {
		name, method, path, token, body string
		client                          *http.Client
	}{
		{"GET /api/v1/models", "GET", "/api/v1/models", tokens[auth.DataScientist], "", nil},
		{"GET /api/v1/residents/{id}", "GET", "/api/v1/residents/", tokens[auth.Caseworker], "", nil},
		{"GET /api/v1/queues/complex-cases", "GET", "/api/v1/queues/complex-cases?limit=20", tokens[auth.Caseworker], "", nil},
		{"POST /api/v1/score", "POST", "/api/v1/score?target=tenancy_fraud", tokens[auth.DataScientist], rows["tenancy_fraud"], nil},
		{"GET /reviews (signed in)", "GET", "/reviews", "", "", browser},
		{"GET /api/v1/residents/{id}/risk", "GET", "/api/v1/residents/", tokens[auth.Caseworker], "", nil},
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}
	defer transport.CloseIdleConnections()
	api := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	lctx, stopLoad := context.WithTimeout(ctx, load)
	defer stopLoad()
	start := time.Now()
	var mu sync.Mutex
	var results []loadResult
	const workers = 6
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker goes round every kind of request in turn.
			for i := w; lctx.Err() == nil; i++ {
				kd := kinds[i%len(kinds)]
				path := kd.path
				if strings.HasSuffix(path, "/residents/") {
					path += residents[(i*7)%len(residents)]
					if strings.HasSuffix(kd.name, "/risk") {
						path += "/risk"
					}
				}
				c := api
				if kd.client != nil {
					c = kd.client
				}
				at := time.Since(start)
				code, replica, body := send(c, kd.method, base+path, kd.token, kd.body)
				r := loadResult{kind: kd.name, at: at, status: code, replica: replica}
				if code == 0 {
					r.err = body
				} else if code != 200 {
					r.err = fmt.Sprintf("%.200s", body)
				}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		}()
	}
	restarted := map[string]time.Duration{}
	events := make(chan error, 1)
	go func() {
		events <- func() error {
			sleepUntil(start, load*15/100)
			res.killedAt = time.Since(start)
			if err := reps[2].cmd.Process.Signal(syscall.SIGKILL); err != nil {
				return err
			}
			<-reps[2].exited
			sleepUntil(start, load*30/100)
			if err := reps[2].start(k.bin); err != nil {
				return err
			}
			if err := reps[2].waitReady(30 * time.Second); err != nil {
				return err
			}
			mu.Lock()
			restarted["r3"] = time.Since(start)
			mu.Unlock()
			sleepUntil(start, load*45/100)
			res.termAt = time.Since(start)
			if err := reps[1].cmd.Process.Signal(syscall.SIGTERM); err != nil {
				return err
			}
			if err := <-reps[1].exited; err != nil {
				return fmt.Errorf("r2 after SIGTERM: %v", err)
			}
			res.termTook = time.Since(start) - res.termAt
			if err := reps[1].start(k.bin); err != nil {
				return err
			}
			if err := reps[1].waitReady(30 * time.Second); err != nil {
				return err
			}
			mu.Lock()
			restarted["r2"] = time.Since(start)
			mu.Unlock()
			return nil
		}()
	}()
	wg.Wait()
	if err := <-events; err != nil {
		tb.Fatalf("kill and restart: %v", err)
	}
	for _, r := range results {
		res.total++
		res.byKind[r.kind]++
		if r.status != 200 {
			res.failures = append(res.failures, r)
		}
		if when, ok := restarted[r.replica]; ok && r.at > when {
			res.afterRestart[r.replica]++
		}
	}
	// HAProxy sees the restarted replicas UP once two checks pass.
	deadline = time.Now().Add(10 * time.Second)
	for {
		res.status, res.retries, res.redispatches, err = haproxyStats(stats)
		if err == nil && res.status["r1"] == "UP" && res.status["r2"] == "UP" && res.status["r3"] == "UP" {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	code, _, _ = send(browser, "GET", base+"/reviews", "", "")
	res.stillSigned = code == 200
	return res
}

// sleepUntil sleeps until d after start.
func sleepUntil(start time.Time, d time.Duration) {
	time.Sleep(time.Until(start.Add(d)))
}

// send makes one request and returns the status (0 on a transport
// error), the replica that answered and the body (or the error).
func send(c *http.Client, method, rawURL, token, body string) (int, string, string) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		return 0, "", err.Error()
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, resp.Header.Get("X-Caserisk-Replica"), "reading the answer: " + err.Error()
	}
	return resp.StatusCode, resp.Header.Get("X-Caserisk-Replica"), string(b)
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signIn signs in with a token through the sign-in form, as a browser.
func signIn(tb testing.TB, c *http.Client, base, token string) {
	tb.Helper()
	code, _, page := send(c, "GET", base+"/sign-in", "", "")
	m := csrfInput.FindStringSubmatch(page)
	if code != 200 || m == nil {
		tb.Fatalf("sign-in page: %d, form token found %v", code, m != nil)
	}
	form := url.Values{"csrf_token": {m[1]}, "token": {token}}
	req, _ := http.NewRequest("POST", base+"/sign-in", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		tb.Fatalf("sign in through the balancer: %d", resp.StatusCode)
	}
}

// residentIDs reads n resident ids from the single view.
func residentIDs(tb testing.TB, db string, n int) []string {
	tb.Helper()
	raw, err := openRaw(db)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT resident_id FROM residents ORDER BY resident_id LIMIT ` + strconv.Itoa(n))
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			tb.Fatal(err)
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		tb.Fatal("the single view holds no residents")
	}
	return out
}
