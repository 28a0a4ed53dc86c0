// Package demo runs caserisk's main job end to end on the embedded default:
// a synthetic borough; the retraining pipeline (models/pipeline) with an
// embedded configuration, which builds point-in-time features, picks
// gradient-boosted and logistic parameters for both predictions by temporal
// cross-validation, fits calibrated candidates, evaluates them on the
// temporal hold-out, writes their reports and registers them in the SQLite
// model registry, with a manifest per run; the better candidate of each
// pair by hold-out average precision promoted; a batch score run that opens
// the review and fraud queues; one user per role; and then the scoring
// service on localhost. Beside the main job it builds the Residents Index
// the way a council without one would: the borough's raw source extracts
// linked into residents (features/link), checked against the generator's
// truth, with the clerical review queue loaded for the data steward.
//
// The demo acts on the registry, the queues and the users through the
// application core (serve/core) as the operator "demo", so its promotions,
// score runs and users are checked and audited as from any front end.
//
// Generating and linking write their outputs under one folder with a stamp
// of their inputs, and the pipeline reuses its finished steps, so a second
// run starts the service in seconds. Cancelling the context (Ctrl-C) stops
// it cleanly at the next step boundary, or shuts the service down
// gracefully.
package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"caserisk/features/contract"
	"caserisk/features/link"
	"caserisk/features/link/assemble"
	"caserisk/features/link/review"
	"caserisk/features/synth"
	"caserisk/models/pipeline"
	"caserisk/models/target"
	"caserisk/serve/api"
	"caserisk/serve/api/champion"
	"caserisk/serve/auth"
	"caserisk/serve/batch"
	"caserisk/serve/core"
	"caserisk/serve/retraining"
	"caserisk/serve/store"
	"caserisk/serve/web"
)

// retrainYAML is the demo's pipeline configuration, less what its flags
// set (see retrain.yaml).
//
//go:embed retrain.yaml
var retrainYAML []byte

// Options configure a demo run.
type Options struct {
	// Dir holds everything the demo makes.
	Dir string
	// Residents, Seed and AsOf describe the synthetic borough. AsOf is the
	// demo's "today": the date of the score run; the data runs 12 months
	// past it, so the hold-out on that date has labels.
	Residents int
	Seed      uint64
	AsOf      contract.Day
	// Capacity is the number of cases each queue opens (and the k of the
	// reports' precision at capacity).
	Capacity int
	// Addr is where the service listens; Serve false stops after setting
	// everything up (the end-to-end test does).
	Addr  string
	Serve bool
	// Version is the caserisk version recorded in outputs.
	Version string
	// Out receives the step-by-step progress; Logger the service's logs.
	Out    io.Writer
	Logger *slog.Logger
}

// Defaults returns the demo's defaults: 20,000 residents (the whole run in
// one to two minutes on two cores), seed 7, as of 2025-01-01, capacity 100,
// on 127.0.0.1:8080, in ./demo-data.
func Defaults() Options {
	return Options{Dir: "demo-data", Residents: 20000, Seed: 7, AsOf: contract.MustParseDay("2025-01-01"),
		Capacity: 100, Addr: "127.0.0.1:8080", Serve: true, Out: io.Discard}
}

// User is a demo user and the bearer token made for them in this run.
type User struct {
	Name, Role, Token string
}

// Result says what the run made.
type Result struct {
	DB      string
	Borough string
	Linked  string // the joined data built by record linkage
	Linkage *link.Metrics
	// Run is the retraining pipeline's run id, Manifest its manifest file
	// and Fits the models it fitted in this invocation (0 when every step
	// was reused).
	Run       string
	Manifest  string
	Fits      int
	Reports   []string
	Champions map[string]string // target → "algo vN"
	Runs      []store.ScoreRun
	Users     []User
}

// MinResidents is the smallest borough the demo accepts: below it the
// tenancy-fraud hold-out holds too few closed investigations to compare two
// models on (about 60 at 20,000 residents, 12 at 4,000).
const MinResidents = 4000

// Run runs the demo.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Residents < MinResidents || o.Capacity <= 0 {
		return nil, fmt.Errorf("demo: residents (%d) must be at least %d and capacity (%d) positive", o.Residents, MinResidents, o.Capacity)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &run{o: o, res: &Result{Champions: map[string]string{}}, start: time.Now()}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"generate the synthetic borough", d.generate},
		{"link its raw extracts into a Residents Index", d.link},
		{"retrain: features, temporal cross-validation, calibrated candidates, hold-out, reports, registration", d.retrain},
		{"promote the better candidate of each pair by hold-out average precision", d.promote},
		{"score every resident and tenancy; open the queues", d.scoreRun},
		{"load the linkage review queue", d.reviewQueue},
		{"create one user per role", d.users},
	}
	defer d.close()
	for i, s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("demo: stopped before step %d: %w", i+1, err)
		}
		t := time.Now()
		d.say("[%d/%d] %s", i+1, len(steps)+1, s.name)
		if err := s.fn(ctx); err != nil {
			return nil, fmt.Errorf("demo: %s: %w", s.name, err)
		}
		d.say("      done in %s", time.Since(t).Round(100*time.Millisecond))
	}
	if err := d.core.Close(); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if !o.Serve {
		return d.res, nil
	}
	d.say("[%d/%d] serve the API on http://%s (set up in %s)", len(steps)+1, len(steps)+1, o.Addr, time.Since(d.start).Round(time.Second))
	return d.res, d.serve(ctx)
}

type run struct {
	o     Options
	res   *Result
	st    store.Store
	core  *core.Core
	as    core.Actor
	start time.Time
	// m is the retraining pipeline's manifest.
	m *pipeline.Manifest
}

// close closes the core (writing its queued audit rows) and the store.
func (d *run) close() {
	if d.core != nil {
		d.core.Close()
	}
	if d.st != nil {
		d.st.Close()
	}
}

func (d *run) say(format string, args ...any) {
	fmt.Fprintf(d.o.Out, format+"\n", args...)
}

func (d *run) path(parts ...string) string {
	return filepath.Join(append([]string{d.o.Dir}, parts...)...)
}

// fresh reports whether the outputs of a step exist with a stamp equal to
// key; done records it after the step.
func (d *run) fresh(stamp, key string, outputs ...string) bool {
	b, err := os.ReadFile(stamp)
	if err != nil || strings.TrimSpace(string(b)) != key {
		return false
	}
	for _, p := range outputs {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

func done(stamp, key string) error {
	return os.WriteFile(stamp, []byte(key+"\n"), 0o644)
}

func hashOf(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%v\x00", p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// The as-of dates: four training snapshots six months apart ending a year
// before "today" (cross-validation rolls over them; the candidates hold the
// last one out for early stopping and calibration), and "today" itself as
// the hold-out the reports evaluate.
func (d *run) trainAsOf() []contract.Day {
	return []contract.Day{d.o.AsOf.AddMonths(-30), d.o.AsOf.AddMonths(-24), d.o.AsOf.AddMonths(-18), d.o.AsOf.AddMonths(-12)}
}

func (d *run) boroughKey() string {
	return hashOf("borough", d.o.Residents, d.o.Seed, d.o.AsOf, d.o.Version)
}

func (d *run) generate(ctx context.Context) error {
	dir := d.path("borough")
	d.res.Borough = dir
	stamp, key := d.path(".borough.stamp"), d.boroughKey()
	if d.fresh(stamp, key, filepath.Join(dir, "manifest.json"), filepath.Join(dir, "raw", "manifest.json")) {
		d.say("      reusing %s", dir)
		return nil
	}
	cfg := synth.Config{Residents: d.o.Residents, Seed: d.o.Seed, AsOf: d.o.AsOf.Time(), YearsBefore: 4, Version: d.o.Version}
	m, err := synth.Generate(ctx, cfg, dir)
	if err != nil {
		return err
	}
	if _, err := synth.GenerateRaw(ctx, synth.RawConfig{Seed: d.o.Seed}, dir); err != nil {
		return err
	}
	rows := 0
	for _, n := range m.Rows {
		rows += n
	}
	d.say("      %d residents, %d rows in %d files, history %s to %s", d.o.Residents, rows, len(m.Rows), m.HistoryStart, m.HistoryEnd)
	return done(stamp, key)
}

// link links the borough's raw extracts (raw/) into residents and writes
// the joined data to linked/, with the linkage's files in linked/linkage/,
// and reports precision and recall against the generator's true links.
// The rest of the demo runs on the generator's own joined data; the linked
// copy shows what linkage makes of the raw extracts.
func (d *run) link(ctx context.Context) error {
	dir := d.path("linked")
	d.res.Linked = dir
	stamp, key := d.path(".linked.stamp"), hashOf("linked", d.boroughKey())
	evalPath := filepath.Join(dir, "linkage", "evaluation.json")
	if d.fresh(stamp, key, filepath.Join(dir, "manifest.json"), evalPath) {
		b, err := os.ReadFile(evalPath)
		if err != nil {
			return err
		}
		var m link.Metrics
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("%s: %w", evalPath, err)
		}
		d.res.Linkage = &m
		d.say("      reusing %s", dir)
		return nil
	}
	raw := filepath.Join(d.res.Borough, "raw")
	recs, err := link.ReadRecords(ctx, raw)
	if err != nil {
		return err
	}
	res, err := link.Link(ctx, recs, link.DefaultConfig(), nil)
	if err != nil {
		return err
	}
	if err := res.WriteFiles(filepath.Join(dir, "linkage")); err != nil {
		return err
	}
	if _, err := assemble.Write(ctx, raw, dir, res.ResidentIDs(), assemble.Options{}); err != nil {
		return err
	}
	truth, err := link.ReadTruth(filepath.Join(d.res.Borough, contract.RawLinksFile))
	if err != nil {
		return err
	}
	m := link.Evaluate(res, truth)
	d.res.Linkage = &m
	if err := link.WriteEvaluation(filepath.Dir(evalPath), m); err != nil {
		return err
	}
	d.say("      %d person records from %d sources linked into %d residents: pairwise precision %.4f, recall %.4f against the true links (%d false merges)",
		res.Stats.Records, len(contract.Default().RawSources()), res.Stats.Clusters, m.Precision, m.Recall, m.FalseMerges)
	return done(stamp, key)
}

// reviewQueue loads the linkage's clerical review queue, with the details of
// the records it names, for the data steward's review page. Decisions made
// in an earlier run are kept.
func (d *run) reviewQueue(ctx context.Context) error {
	raw := filepath.Join(d.res.Borough, "raw")
	queue := filepath.Join(d.res.Linked, "linkage", "review.csv")
	pairs, err := review.ReadQueue(queue)
	if err != nil {
		return err
	}
	summary, err := review.ReadSummary(queue)
	if err != nil {
		return err
	}
	people, err := review.People(ctx, raw, review.Keys(pairs))
	if err != nil {
		return err
	}
	c, err := d.core.ImportLinkReview(ctx, d.as, store.LinkReviewFrom(pairs, summary, people))
	if err != nil {
		return err
	}
	d.say("      %s", reviewLine(c))
	return nil
}

func (d *run) openStore(ctx context.Context) error {
	if d.st != nil {
		return nil
	}
	d.res.DB = "sqlite://" + d.path("caserisk.db")
	st, err := store.Open(ctx, d.res.DB)
	if err != nil {
		return err
	}
	r, err := batch.New(batch.Config{Store: st, Load: champion.LoadArtifact, DataDir: d.res.Borough,
		Capacity: d.o.Capacity, Logger: d.o.Logger})
	if err != nil {
		st.Close()
		return err
	}
	c, err := core.New(core.Config{Store: st, Runner: r, Logger: d.o.Logger})
	if err != nil {
		st.Close()
		return err
	}
	d.st, d.core, d.as = st, c, core.Operator("demo")
	return nil
}

// pipelineConfig writes DIR/pipeline.yaml, the embedded configuration
// below the keys the demo's flags set, with paths relative to DIR, and
// returns its path. The file changes only when the flags do.
func (d *run) pipelineConfig() (string, error) {
	train := d.trainAsOf()
	dates := make([]string, len(train))
	for i, day := range train {
		dates[i] = day.String()
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by caserisk demo from its flags and its embedded retraining config.\n")
	fmt.Fprintf(&b, "data: borough\nresults: pipeline\ntrain_as_of: [%s]\nholdout_as_of: %s\nseed: %d\ncapacity: %d\n\n",
		strings.Join(dates, ", "), d.o.AsOf, d.o.Seed, d.o.Capacity)
	b.Write(retrainYAML)
	path := d.path("pipeline.yaml")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b.Bytes()) {
		return path, nil
	}
	return path, os.WriteFile(path, b.Bytes(), 0o644)
}

// retrain runs the retraining pipeline on the borough: its candidates are
// registered in the demo's registry through the core, and its manifest
// says what was tried and how each candidate did on the hold-out.
func (d *run) retrain(ctx context.Context) error {
	if err := d.openStore(ctx); err != nil {
		return err
	}
	path, err := d.pipelineConfig()
	if err != nil {
		return err
	}
	c, err := pipeline.LoadConfig(path)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ad := retraining.New(d.core, d.as)
	m, err := pipeline.Run(ctx, pipeline.Options{Config: c, ConfigBytes: b, Registry: ad, Version: d.o.Version,
		Out: &indent{w: d.o.Out, prefix: "      "}})
	if err != nil {
		return err
	}
	d.m = m
	d.res.Run, d.res.Manifest, d.res.Fits = m.ID, filepath.Join(c.Results, "runs", m.ID, "manifest.json"), m.Fits
	for _, cand := range m.Candidates {
		if cand.Report != "" {
			d.res.Reports = append(d.res.Reports, filepath.Join(c.Results, cand.Report))
		}
	}
	if m.Fits == 0 {
		d.say("      reusing run %s: every step reused, no model fitted", m.ID)
	}
	d.say("      caserisk pipeline show %s prints the whole manifest", d.res.Manifest)
	return m.WriteScores(d.o.Out, "      ")
}

// promote promotes, per target, the registered candidate with the higher
// average precision on the hold-out (the manifest's figure): precision at
// the top of the list is what a team with limited capacity needs. A person
// promotes in production; the demo does it so the service has champions to
// show. A candidate that is champion already is left as it is.
func (d *run) promote(ctx context.Context) error {
	ap := map[string]float64{}
	for _, c := range d.m.Candidates {
		if c.Holdout != nil && !math.IsNaN(float64(c.Holdout.AP)) {
			ap[c.Target+"/"+c.Algorithm] = float64(c.Holdout.AP)
		}
	}
	current, err := d.core.ChampionVersions(ctx, d.as)
	if err != nil {
		return err
	}
	for _, t := range target.Names() {
		var best *pipeline.Registration
		bestAP := math.Inf(-1)
		for i, r := range d.m.Registered {
			if a, ok := ap[r.Target+"/"+r.Algorithm]; ok && r.Target == string(t) && a > bestAP {
				best, bestAP = &d.m.Registered[i], a
			}
		}
		if best == nil {
			return fmt.Errorf("%s: the pipeline registered no candidate with a hold-out average precision", t)
		}
		state := "promoted"
		if current[t] == best.Version {
			state = "champion already"
		} else if _, err := d.core.Promote(ctx, d.as, t, best.Version); err != nil {
			return err
		}
		d.res.Champions[string(t)] = fmt.Sprintf("%s v%d", best.Algorithm, best.Version)
		d.say("      %-13s %s v%d %s (hold-out average precision %.3f)", t, best.Algorithm, best.Version, state, bestAP)
	}
	return nil
}

// indent writes each line with a prefix.
type indent struct {
	w      io.Writer
	prefix string
	mid    bool // within a line
}

func (p *indent) Write(b []byte) (int, error) {
	var out []byte
	for _, c := range b {
		if !p.mid {
			out = append(out, p.prefix...)
		}
		out = append(out, c)
		p.mid = c != '\n'
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (d *run) scoreRun(ctx context.Context) error {
	runs, err := d.core.ScoreRun(ctx, d.as, core.ScoreRunRequest{AsOf: d.o.AsOf.String(), Capacity: d.o.Capacity})
	if err != nil {
		return err
	}
	d.res.Runs = runs
	for _, run := range runs {
		d.say("      %-13s run %d as of %s with v%d: %d scored, top %d opened as cases", run.Target, run.ID, run.AsOf, run.ModelVersion, run.Rows, run.Capacity)
	}
	return nil
}

// users makes one user per role; a user made by an earlier run gets a new
// token (only token hashes are stored, so an old token cannot be shown).
func (d *run) users(ctx context.Context) error {
	for _, role := range []auth.Role{auth.Caseworker, auth.FraudOfficer, auth.DataScientist, auth.DataSteward, auth.Admin} {
		name := "demo-" + strings.ReplaceAll(string(role), "_", "-")
		_, tok, err := d.core.NewToken(ctx, d.as, name)
		if errors.Is(err, store.ErrNotFound) {
			_, tok, err = d.core.AddUser(ctx, d.as, name, role)
		}
		if err != nil {
			return err
		}
		d.res.Users = append(d.res.Users, User{Name: name, Role: string(role), Token: tok})
	}
	return nil
}

func (d *run) serve(ctx context.Context) error {
	srv, err := api.New(ctx, api.Config{Store: d.st, Load: champion.LoadArtifact, Logger: d.o.Logger, Pages: web.MountWith(web.Options{Logger: d.o.Logger})})
	if err != nil {
		return err
	}
	defer srv.Close()
	base := "http://" + d.o.Addr
	d.say("\ncaserisk is serving the synthetic borough on %s (Ctrl-C stops it).\n", base)
	d.say("Open %s/ in a browser and sign in with one of these bearer tokens", base)
	d.say("(made for this run; only their hashes are stored):")
	for _, u := range d.res.Users {
		d.say("  %-15s %-20s %s", u.Role, u.Name, u.Token)
	}
	tok := func(role string) string {
		for _, u := range d.res.Users {
			if u.Role == role {
				return u.Token
			}
		}
		return ""
	}
	d.say("\nTry:")
	d.say("  curl -s %s/healthz", base)
	d.say("  curl -s -H 'Authorization: Bearer %s' '%s/api/v1/queues/complex-cases?limit=5'", tok("caseworker"), base)
	d.say("  curl -s -H 'Authorization: Bearer %s' '%s/api/v1/queues/tenancy-fraud?limit=5'", tok("fraud_officer"), base)
	d.say("  curl -s -H 'Authorization: Bearer %s' %s/api/v1/models", tok("data_scientist"), base)
	d.say("  the API reference: %s/api/v1/openapi.json", base)
	d.say("\nThe Residents Index built by record linkage from the raw extracts is in %s;", d.res.Linked)
	d.say("the data steward reviews the pairs near its threshold at %s/linkage/review.", base)
	d.say("\nReports (open in a browser):")
	for _, r := range d.res.Reports {
		d.say("  %s", r)
	}
	return srv.Run(ctx, d.o.Addr)
}

// WriteSummary writes the result as JSON (tokens left out), for scripts.
func (r *Result) WriteSummary(w io.Writer) error {
	out := *r
	out.Users = nil
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// reviewLine says what the data steward's review queue holds and what it
// leaves to the model.
func reviewLine(c store.LinkQueueCounts) string {
	if sm := c.Summary; sm != nil {
		return fmt.Sprintf("%d pairs for the data steward to review (%d decided): one for each of the most uncertain decisions "+
			"to join or split residents, of %d that the %d pairs near the threshold come down to; %d left as the model made them "+
			"(%d kept as one resident, %d as two)", c.Pairs, c.Decided, sm.Decisions, sm.NearThreshold, sm.ByModel, sm.ByModelLinked, sm.ByModelApart)
	}
	return fmt.Sprintf("%d pairs near the threshold to review (%d decided)", c.Pairs, c.Decided)
}
