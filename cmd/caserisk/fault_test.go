package main

// The fault suite (issue #16): the built binary is killed with SIGKILL at
// random points of score runs (and so of the single-view load they hold),
// run again at once, and what it leaves is compared with an uninterrupted
// run; two runs are started together; a corpus of bad files goes through
// the commands that read extracts. Each test logs what it tried and what it
// found (go test -v -run Fault, or make faults) and fails on a difference,
// a lost line or a run that does not recover within the claim's lapse.

import (
	"bufio"
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"caserisk/features/spec"
	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/logistic"
	"caserisk/serve/store"
	"caserisk/serve/store/storetest"
)

// faultAsOf and faultCapacity are the score run every fault test makes.
const (
	faultAsOf     = "2024-01-01"
	faultCapacity = "40"
)

// faultKit is what the fault tests share: the built binary, a generated
// borough, champion artifacts, and the outcome of an uninterrupted run.
type faultKit struct {
	bin, data string
	models    map[string]string // target → artifact path
	ref       runState
	refTime   time.Duration
	// phases are the uninterrupted run's phases, each with the log line
	// that starts it and how long it took.
	phases []phase
}

// phase is a stretch of a score run: it starts when the run logs a line
// holding after ("" at the start) and lasts about took.
type phase struct {
	name, after string
	took        time.Duration
}

var (
	faultOnce sync.Once
	faultK    *faultKit
	faultErr  error
)

// faultSetup builds the binary and the borough once for the fault tests.
func faultSetup(t testing.TB) *faultKit {
	t.Helper()
	if testing.Short() {
		t.Skip("the fault suite builds the binary and kills runs: not in -short")
	}
	faultOnce.Do(func() { faultK, faultErr = newFaultKit() })
	if faultErr != nil {
		t.Fatalf("fault suite setup: %v", faultErr)
	}
	return faultK
}

func newFaultKit() (*faultKit, error) {
	dir, err := os.MkdirTemp("", "caserisk-fault-")
	if err != nil {
		return nil, err
	}
	k := &faultKit{bin: filepath.Join(dir, "caserisk"), data: filepath.Join(dir, "borough"), models: map[string]string{}}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	if out, err := exec.Command(goBin, "build", "-o", k.bin, ".").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v: %s", err, out)
	}
	if out, err := exec.Command(k.bin, "generate", "--residents", "2000", "--seed", "16", "--as-of", "2024-01-01",
		"--years-before", "3", "--out", k.data).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("generate: %v: %s", err, out)
	}
	sp, err := spec.Default()
	if err != nil {
		return nil, err
	}
	for target, entity := range map[string]string{"complex_case": spec.Resident, "tenancy_fraud": spec.Tenancy} {
		feats := sp.Section(entity).Features[:4]
		m := &artifact.Model{Algorithm: artifact.Logistic, Target: target,
			Logistic:   &logistic.Model{Mean: make([]float64, 4), Scale: []float64{1, 1, 1, 1}, Coef: []float64{0.7, -0.3, 0.5, 0.2}},
			Imputation: &artifact.Imputation{Values: make([]float64, 4)}}
		for _, f := range feats {
			m.Features = append(m.Features, artifact.Feature{FeatureMeta: dataset.FeatureMeta{Name: f.Name}})
		}
		p := filepath.Join(dir, target+".json")
		if err := m.Save(p); err != nil {
			return nil, err
		}
		k.models[target] = p
	}
	ref := "sqlite://" + filepath.Join(dir, "ref.db")
	if err := k.prepare(ref); err != nil {
		return nil, err
	}
	start := time.Now()
	out, err := k.scoreRun(ref).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("uninterrupted score run: %v: %s", err, out)
	}
	k.refTime = time.Since(start)
	// The phases, from the run's log: the scan of the extracts, the
	// single-view load (after the per-file summary), then each target's
	// features, scoring and recording.
	secs := func(marker string) time.Duration {
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.Contains(line, marker) {
				continue
			}
			if _, v, ok := strings.Cut(line, " seconds="); ok {
				f, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
				return time.Duration(f * float64(time.Second))
			}
		}
		return 0
	}
	k.phases = []phase{
		{"scan", "", secs(`msg="extracts scanned"`)},
		{"single-view load", "extracts in ", secs(`msg="single view loaded"`)},
	}
	prev := `msg="single view loaded"`
	for _, line := range strings.Split(string(out), "\n") {
		if _, rest, ok := strings.Cut(line, `msg="score run" target=`); ok {
			t := strings.Fields(rest)[0]
			k.phases = append(k.phases, phase{t + " features, scores, recording", prev, secs(`msg="score run" target=` + t)})
			prev = `msg="score run" target=` + t
		}
	}
	for _, p := range k.phases {
		if p.took == 0 {
			return nil, fmt.Errorf("the uninterrupted run's log has no time for the %s: %s", p.name, out)
		}
	}
	if k.ref, err = readRunState(ref); err != nil {
		return nil, err
	}
	if len(k.ref.runs) != 2 || k.ref.cases == nil || len(k.ref.cases) == 0 {
		return nil, fmt.Errorf("the uninterrupted run made %d runs and %d cases", len(k.ref.runs), len(k.ref.cases))
	}
	return k, nil
}

// prepare registers and promotes the champions in a fresh database.
func (k *faultKit) prepare(db string) error {
	for target, path := range k.models {
		for _, args := range [][]string{
			{"models", "register", "--db", db, "--target", target, "--band-high", "0.5", "--band-medium", "0.2", path},
			{"models", "promote", "--db", db, "--target", target, "--version", "1"},
		} {
			if out, err := exec.Command(k.bin, args...).CombinedOutput(); err != nil {
				return fmt.Errorf("caserisk %s: %v: %s", strings.Join(args, " "), err, out)
			}
		}
	}
	return nil
}

// scoreRun is the command every fault test runs.
func (k *faultKit) scoreRun(db string, extra ...string) *exec.Cmd {
	args := append([]string{"score-run", "--db", db, "--data", k.data, "--as-of", faultAsOf, "--capacity", faultCapacity}, extra...)
	return exec.Command(k.bin, args...)
}

// runState is what a score run leaves in the store, in a form to compare.
type runState struct {
	runs, scores, cases []string
	residents, events   int
	// Left behind (after a kill): claims held, pending runs, staged rows.
	claims        []string
	pending       int
	staged        int
	duplicateOpen int // open cases of the same kind and entity beyond one
}

func openRaw(db string) (*sql.DB, error) {
	if strings.HasPrefix(db, "postgres") {
		return sql.Open("pgx", db)
	}
	_, dsn, err := store.ParseURL(db)
	if err != nil {
		return nil, err
	}
	return sql.Open("sqlite", dsn)
}

func readRunState(db string) (runState, error) {
	var s runState
	raw, err := openRaw(db)
	if err != nil {
		return s, err
	}
	defer raw.Close()
	lines := func(q string) ([]string, error) {
		rows, err := raw.Query(q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return nil, err
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				parts[i] = fmt.Sprint(v)
			}
			out = append(out, strings.Join(parts, "|"))
		}
		return out, rows.Err()
	}
	count := func(q string) (int, error) {
		var n int
		err := raw.QueryRow(q).Scan(&n)
		return n, err
	}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	s.runs, err = lines(`SELECT target, as_of, model_version, row_count, capacity, cases_opened FROM score_runs
		WHERE state = 'complete' ORDER BY target`)
	add(err)
	s.scores, err = lines(`SELECT r.target, s.entity_id, s.resident_id, s.score_rank, s.score, s.margin, s.band, s.reasons
		FROM scores s JOIN score_runs r ON r.id = s.run_id WHERE r.state = 'complete' ORDER BY r.target, s.score_rank`)
	add(err)
	s.cases, err = lines(`SELECT c.kind, c.entity_id, c.resident_id, c.score_rank, c.score, c.status FROM cases c ORDER BY c.kind, c.score_rank`)
	add(err)
	s.claims, err = lines(`SELECT name, holder FROM claims ORDER BY name`)
	add(err)
	s.residents, err = count(`SELECT COUNT(*) FROM residents`)
	add(err)
	s.events, err = count(`SELECT COUNT(*) FROM events`)
	add(err)
	s.pending, err = count(`SELECT COUNT(*) FROM score_runs WHERE state = 'pending'`)
	add(err)
	for _, t := range []string{"residents_load", "properties_load", "residences_load", "events_load"} {
		n, err := count(`SELECT COUNT(*) FROM ` + t)
		add(err)
		s.staged += n
	}
	s.duplicateOpen, err = count(`SELECT COUNT(*) FROM (SELECT kind, entity_id FROM cases WHERE status <> 'closed'
		GROUP BY kind, entity_id HAVING COUNT(*) > 1) d`)
	add(err)
	return s, errors.Join(errs...)
}

// diff describes how a store differs from the uninterrupted run's.
func (s runState) diff(ref runState) []string {
	var out []string
	cmp := func(what string, a, b []string) {
		if !slices.Equal(a, b) {
			n := 0
			for i := range min(len(a), len(b)) {
				if a[i] != b[i] {
					n++
				}
			}
			out = append(out, fmt.Sprintf("%s: %d rows, want %d (%d differ)", what, len(a), len(b), n+abs(len(a)-len(b))))
		}
	}
	cmp("complete runs", s.runs, ref.runs)
	cmp("scores", s.scores, ref.scores)
	cmp("cases", s.cases, ref.cases)
	if s.residents != ref.residents || s.events != ref.events {
		out = append(out, fmt.Sprintf("single view: %d residents and %d events, want %d and %d", s.residents, s.events, ref.residents, ref.events))
	}
	if s.pending != 0 || len(s.claims) != 0 || s.duplicateOpen != 0 {
		out = append(out, fmt.Sprintf("left over: %d pending runs, claims %v, %d duplicated open cases", s.pending, s.claims, s.duplicateOpen))
	}
	return out
}

func abs(n int) int { return max(n, -n) }

// TestFaultKillScoreRun kills `caserisk score-run` with SIGKILL at a
// random point of each phase of a run (the scan of the extracts, the
// single-view load, each target's features, scoring and recording, and
// once anywhere), found by the lines the run logs as it goes, on SQLite
// and PostgreSQL, then runs the same command again at once:
// it must succeed, waiting at most for the dead run's claim to lapse
// (store.ClaimTTL), and leave exactly what the uninterrupted run left.
func TestFaultKillScoreRun(t *testing.T) {
	k := faultSetup(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 16))
	type trial struct {
		db    string
		ph    phase
		delay time.Duration // after the phase starts
	}
	var trials []trial
	backends := []string{"sqlite"}
	if os.Getenv(storetest.Env) != "" {
		backends = append(backends, "postgres")
	} else {
		t.Logf("%s is unset: killing SQLite runs only", storetest.Env)
	}
	for _, b := range backends {
		// A kill in each phase, at a random point of it; SQLite also once
		// anywhere in the run.
		phases := slices.Clone(k.phases)
		if b == "sqlite" {
			phases = append(phases, phase{"anywhere", "", k.refTime})
		}
		for i, ph := range phases {
			db := "sqlite://" + filepath.Join(t.TempDir(), fmt.Sprintf("kill%d.db", i))
			if b == "postgres" {
				db = storetest.PostgresURL(t)
			}
			trials = append(trials, trial{db, ph, time.Duration(rng.Float64() * float64(ph.took))})
		}
	}
	var phaseText []string
	for _, p := range k.phases {
		phaseText = append(phaseText, fmt.Sprintf("%s %.2f s", p.name, p.took.Seconds()))
	}
	t.Logf("uninterrupted run: %.1f s (%s); %d runs, %d scores, %d cases, %d residents, %d events; kill seed %d",
		k.refTime.Seconds(), strings.Join(phaseText, ", "), len(k.ref.runs), len(k.ref.scores), len(k.ref.cases), k.ref.residents, k.ref.events, seed)
	var mu sync.Mutex
	var report []string
	// Three trials at a time: most of a trial is the wait for the claim.
	sem := make(chan struct{}, 3)
	var wg sync.WaitGroup
	for i, tr := range trials {
		if err := k.prepare(tr.db); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			line, problems := k.killAndRerun(tr.db, tr.ph.after, tr.delay)
			mu.Lock()
			defer mu.Unlock()
			report = append(report, fmt.Sprintf("trial %d (%s), kill %.2f s into the %s: %s", i, strings.SplitN(tr.db, ":", 2)[0],
				tr.delay.Seconds(), tr.ph.name, line))
			for _, p := range problems {
				t.Errorf("trial %d, kill %s into the %s: %s", i, tr.delay.Round(time.Millisecond), tr.ph.name, p)
			}
		}()
	}
	wg.Wait()
	slices.Sort(report)
	for _, r := range report {
		t.Log(r)
	}
}

// killAndRerun runs score-run, kills it delay after it logs a line
// holding after (after its start when after is ""), runs it again and
// compares. It returns what it found and any problem.
func (k *faultKit) killAndRerun(db, after string, delay time.Duration) (string, []string) {
	var problems []string
	cmd := k.scoreRun(db)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return "", []string{err.Error()}
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return "", []string{err.Error()}
	}
	var log bytes.Buffer
	triggered := make(chan struct{})
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pipe)
		once := sync.Once{}
		if after == "" {
			once.Do(func() { close(triggered) })
		}
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if after != "" && strings.Contains(sc.Text(), after) {
				once.Do(func() { close(triggered) })
			}
		}
	}()
	done := make(chan error, 1)
	go func() {
		<-scanned
		done <- cmd.Wait()
	}()
	killed := false
	select {
	case err := <-done:
		if err != nil {
			problems = append(problems, fmt.Sprintf("the first run failed before the kill: %v: %s", err, log.String()))
		}
	case <-triggered:
		select {
		case err := <-done:
			if err != nil {
				problems = append(problems, fmt.Sprintf("the first run failed before the kill: %v: %s", err, log.String()))
			}
		case <-time.After(delay):
			_ = cmd.Process.Kill() // SIGKILL
			<-done
			killed = true
		}
	}
	at := time.Since(started)
	left, err := readRunState(db)
	if err != nil {
		return "", append(problems, "read the store after the kill: "+err.Error())
	}
	found := "finished before the kill"
	if killed {
		found = fmt.Sprintf("killed at %.2f s: %d complete runs, %d pending, %d rows staged, claims %v",
			at.Seconds(), len(left.runs), left.pending, left.staged, claimNames(left.claims))
	}
	start := time.Now()
	out, err := k.scoreRun(db).CombinedOutput()
	took := time.Since(start)
	if err != nil {
		return found, append(problems, fmt.Sprintf("the run again at once failed: %v: %s", err, out))
	}
	// The rerun may wait for the dead run's claim to lapse, then does the
	// work; allow for a loaded machine.
	if limit := store.ClaimTTL + 3*k.refTime + 10*time.Second; took > limit {
		problems = append(problems, fmt.Sprintf("the run again took %s, more than %s", took.Round(time.Millisecond), limit))
	}
	final, err := readRunState(db)
	if err != nil {
		return found, append(problems, "read the store after the rerun: "+err.Error())
	}
	problems = append(problems, final.diff(k.ref)...)
	return fmt.Sprintf("%s; the run again took %.1f s; %d differences", found, took.Seconds(), len(problems)), problems
}

func claimNames(claims []string) []string {
	out := make([]string, len(claims))
	for i, c := range claims {
		out[i], _, _ = strings.Cut(c, "|")
	}
	return out
}

// TestFaultConcurrentScoreRuns starts two score runs at once on one
// database: one runs, the other succeeds too or is refused naming the
// holder; the store is what one uninterrupted run leaves.
func TestFaultConcurrentScoreRuns(t *testing.T) {
	k := faultSetup(t)
	db := "sqlite://" + filepath.Join(t.TempDir(), "concurrent.db")
	if err := k.prepare(db); err != nil {
		t.Fatal(err)
	}
	type result struct {
		code int
		out  string
	}
	res := make([]result, 2)
	var wg sync.WaitGroup
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := k.scoreRun(db).CombinedOutput()
			res[i] = result{exitOf(err), string(out)}
		}()
	}
	wg.Wait()
	ok := 0
	for _, r := range res {
		switch {
		case r.code == 0:
			ok++
		case r.code == 1 && strings.Contains(r.out, "score_runs is held by score run by ") && strings.Contains(r.out, "--force"):
		default:
			t.Errorf("concurrent score run: exit %d: %s", r.code, r.out)
		}
	}
	if ok == 0 {
		t.Error("neither concurrent run succeeded")
	}
	st, err := readRunState(db)
	if err != nil {
		t.Fatal(err)
	}
	d := st.diff(k.ref)
	for _, p := range d {
		t.Error(p)
	}
	t.Logf("two runs at once: exit codes %d and %d; %d differences from an uninterrupted run", res[0].code, res[1].code, len(d))
}

func exitOf(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// fileSummary parses a file's line of the per-file summary: rows read,
// rejected, lines lost.
func fileSummary(stderr, file string) (rows, rejected, lost int, ok bool) {
	for _, line := range strings.Split(stderr, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[0] == file {
			r, e1 := strconv.Atoi(f[1])
			j, e2 := strconv.Atoi(f[2])
			l, e3 := strconv.Atoi(f[3])
			if e1 == nil && e2 == nil && e3 == nil {
				return r, j, l, true
			}
		}
	}
	return 0, 0, 0, false
}

// TestFaultBadFiles runs a corpus of corrupted service files through
// `caserisk features` and `caserisk score-run`: a file that cannot be read
// as a whole fails (exit 1, naming file and line) unless broken files are
// allowed; every line of every file is read, rejected or counted lost; and
// dates outside the data are usage errors naming the range.
func TestFaultBadFiles(t *testing.T) {
	k := faultSetup(t)
	orig, err := os.ReadFile(filepath.Join(k.data, "repairs.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(orig), "\n"), "\n")
	header, body := lines[0], lines[1:]
	with := func(f func([]string) []string) string {
		b := slices.Clone(body)
		return header + strings.Join(f(b), "") + "\n"
	}
	cases := []struct {
		name   string
		repair string
		broken string // "FILE:LINE" named by the failure; "" when the file reads
	}{
		{"duplicate header column", strings.Replace(header, "priority", "event_date", 1) + strings.Join(body, "") + "\n", "repairs.csv:1"},
		{"missing required header column", strings.Replace(header, "event_date", "when", 1) + strings.Join(body, "") + "\n", "repairs.csv:1"},
		{"unclosed quote on line 3", with(func(b []string) []string { b[1] = `"` + b[1]; return b }), "repairs.csv:3"},
		{"quote closed 40 lines later", with(func(b []string) []string {
			b[9] = strings.Replace(b[9], ",", `,"`, 1)
			b[49] = strings.Replace(b[49], ",", `",`, 1)
			return b
		}), "repairs.csv:11"},
		{"bad dates and codes", with(func(b []string) []string {
			for i := 5; i < len(b); i += 97 {
				b[i] = strings.Replace(b[i], "20", "2O", 1)
			}
			return b
		}), ""},
		{"short rows", with(func(b []string) []string {
			for i := 3; i < len(b); i += 131 {
				b[i] = "R1,2\n"
			}
			return b
		}), ""},
		{"stray quote in a field", with(func(b []string) []string { b[20] = strings.Replace(b[20], ",", `,x"`, 1); return b }), ""},
		{"binary garbage", header + "\x00\xff\xfe,\x01\x02\n" + strings.Join(body, "") + "\n", ""},
		{"CRLF line ends", strings.ReplaceAll(string(orig), "\n", "\r\n"), ""},
	}
	out := t.TempDir()
	var report []string
	for _, tc := range cases {
		dir := t.TempDir()
		entries, err := os.ReadDir(k.data)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			b, _ := os.ReadFile(filepath.Join(k.data, e.Name()))
			if e.Name() == "repairs.csv" {
				b = []byte(tc.repair)
			}
			if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		dataLines := strings.Count(strings.TrimSuffix(tc.repair, "\n"), "\n")
		features := func(extra ...string) (int, string) {
			args := append([]string{"features", "--data", dir, "--as-of", faultAsOf, "--out", filepath.Join(out, "f.csv")}, extra...)
			o, err := exec.Command(k.bin, args...).CombinedOutput()
			return exitOf(err), string(o)
		}
		code, msg := features()
		want := 0
		if tc.broken != "" {
			want = 1
		}
		if code != want || (tc.broken != "" && !strings.Contains(msg, tc.broken)) {
			t.Errorf("%s: features exit %d, want %d naming %q: %s", tc.name, code, want, tc.broken, msg)
			continue
		}
		code, msg = features("--allow-broken-files")
		rows, rejected, lost, ok := fileSummary(msg, "repairs.csv")
		if code != 0 || !ok {
			t.Errorf("%s: features --allow-broken-files: exit %d, summary found %v: %s", tc.name, code, ok, msg)
			continue
		}
		// Every line is a record used, or counted lost.
		if used := rows - rejected; used+lost != dataLines {
			t.Errorf("%s: %d records used + %d lines lost = %d, the file has %d data lines", tc.name, used, lost, used+lost, dataLines)
		}
		report = append(report, fmt.Sprintf("%-32s exit %d without the flag; %d rows read, %d rejected, %d lines lost of %d",
			tc.name, want, rows, rejected, lost, dataLines))
		if tc.name == "duplicate header column" {
			// score-run, with and without --skip-ingest, stops on it too.
			db := "sqlite://" + filepath.Join(t.TempDir(), "bad.db")
			if err := k.prepare(db); err != nil {
				t.Fatal(err)
			}
			for _, extra := range [][]string{nil, {"--skip-ingest"}} {
				args := append([]string{"score-run", "--db", db, "--data", dir, "--as-of", faultAsOf}, extra...)
				o, err := exec.Command(k.bin, args...).CombinedOutput()
				if exitOf(err) != 1 || !strings.Contains(string(o), "repairs.csv:1") {
					t.Errorf("score-run %v over a broken file: exit %d: %s", extra, exitOf(err), o)
				}
			}
			report = append(report, "score-run over the duplicate header, with and without --skip-ingest: exit 1 naming repairs.csv:1")
		}
	}
	// Dates outside the data: usage errors naming the range.
	db := "sqlite://" + filepath.Join(t.TempDir(), "dates.db")
	if err := k.prepare(db); err != nil {
		t.Fatal(err)
	}
	for _, asOf := range []string{"1900-01-01", "2099-01-01"} {
		o, err := exec.Command(k.bin, "score-run", "--db", db, "--data", k.data, "--as-of", asOf).CombinedOutput()
		if exitOf(err) != 2 || !strings.Contains(string(o), "the data covers 2021-01-01 to 2025-01-01") {
			t.Errorf("score-run --as-of %s: exit %d: %s", asOf, exitOf(err), o)
		}
	}
	report = append(report, "score-run --as-of 1900-01-01 and 2099-01-01: exit 2 naming the range")
	for _, r := range report {
		t.Log(r)
	}
}
