// Package demo runs caserisk's main job end to end on the embedded default:
// a synthetic borough, point-in-time features for several as-of dates,
// gradient-boosted and logistic models for both predictions trained with a
// temporal hold-out, their evaluation reports, the model registry in SQLite
// with the better model of each pair promoted, a batch score run that opens
// the review and fraud queues, one user per role, and then the scoring
// service on localhost. Beside the main job it builds the Residents Index
// the way a council without one would: the borough's raw source extracts
// linked into residents (features/link), checked against the generator's
// truth, with the clerical review queue loaded for the data steward.
//
// Every step writes its outputs under one folder with a stamp of its inputs;
// a second run reuses each step whose stamp still matches, so it starts the
// service in seconds. Cancelling the context (Ctrl-C) stops it cleanly at
// the next step boundary, or shuts the service down gracefully.
package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"caserisk/features/build"
	"caserisk/features/contract"
	"caserisk/features/link"
	"caserisk/features/link/assemble"
	"caserisk/features/link/review"
	"caserisk/features/spec"
	"caserisk/features/synth"
	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/gbdt"
	"caserisk/models/logistic"
	"caserisk/models/metrics"
	"caserisk/models/report"
	"caserisk/serve/api"
	"caserisk/serve/api/champion"
	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/batch"
	"caserisk/serve/store"
	"caserisk/serve/web"
)

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
// about two minutes on two cores), seed 7, as of 2025-01-01, capacity 100,
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
	DB        string
	Borough   string
	Linked    string // the joined data built by record linkage
	Linkage   *link.Metrics
	Reports   []string
	Champions map[string]string // target → "algo vN"
	Runs      []store.ScoreRun
	Users     []User
}

// Targets of the demo, with the entity each scores.
var targets = [...]struct {
	target, entity, label, oracle string
}{
	{"complex_case", spec.Resident, build.LabelComplexCase, "residents.csv"},
	{"tenancy_fraud", spec.Tenancy, "label_tenancy_fraud", ""},
}

var algos = [...]string{artifact.GBDT, artifact.Logistic}

// Run runs the demo.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Residents <= 0 || o.Capacity <= 0 {
		return nil, fmt.Errorf("demo: residents (%d) and capacity (%d) must be positive", o.Residents, o.Capacity)
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
		{"build point-in-time features", d.features},
		{"train gradient-boosted and logistic models", d.train},
		{"evaluate on the hold-out and write the reports", d.reports},
		{"register the models and promote the better of each pair", d.register},
		{"score every resident and tenancy; open the queues", d.scoreRun},
		{"load the linkage review queue", d.reviewQueue},
		{"create one user per role", d.users},
	}
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
	if d.st != nil {
		defer d.st.Close()
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
	start time.Time
	// ap holds each model's hold-out average precision, by model file.
	ap map[string]float64
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
// before "today" (the last one held out for early stopping and
// calibration), and "today" itself as the hold-out the reports evaluate.
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
	c, err := d.st.ImportLinkReview(ctx, store.LinkReviewFrom(pairs, summary, people))
	if err != nil {
		return err
	}
	if err := d.audit(ctx, "import", "linkage/review", "record linkage clerical review"); err != nil {
		return err
	}
	d.say("      %s", reviewLine(c))
	return nil
}

func (d *run) table(entity, split string) string {
	return d.path("features", entity+"-"+split+".csv")
}

func (d *run) features(ctx context.Context) error {
	if err := os.MkdirAll(d.path("features"), 0o755); err != nil {
		return err
	}
	stamp := d.path(".features.stamp")
	key := hashOf("features", d.boroughKey(), d.trainAsOf(), d.o.AsOf)
	var outs []string
	for _, t := range targets {
		outs = append(outs, d.table(t.entity, "train"), d.table(t.entity, "holdout"))
	}
	if d.fresh(stamp, key, outs...) {
		d.say("      reusing %s", d.path("features"))
		return nil
	}
	for _, t := range targets {
		for _, split := range []struct {
			name string
			asOf []contract.Day
		}{{"train", d.trainAsOf()}, {"holdout", []contract.Day{d.o.AsOf}}} {
			tab, err := build.Build(ctx, build.Options{Dir: d.res.Borough, AsOf: split.asOf, Entity: t.entity})
			if err != nil {
				return err
			}
			if err := tab.WriteFiles(d.table(t.entity, split.name)); err != nil {
				return err
			}
			d.say("      %-8s %-7s %6d rows × %d features, as of %v", t.entity, split.name, tab.Rows(), len(tab.Features), split.asOf)
		}
	}
	return done(stamp, key)
}

func (d *run) model(target, algo string) string {
	return d.path("models", target+"-"+algo+".json")
}

func (d *run) modelsKey() string {
	return hashOf("models", d.boroughKey(), d.trainAsOf(), d.o.AsOf, "v1")
}

func (d *run) train(ctx context.Context) error {
	if err := os.MkdirAll(d.path("models"), 0o755); err != nil {
		return err
	}
	stamp, key := d.path(".models.stamp"), d.modelsKey()
	var outs []string
	for _, t := range targets {
		for _, a := range algos {
			outs = append(outs, d.model(t.target, a))
		}
	}
	if d.fresh(stamp, key, outs...) {
		d.say("      reusing %s", d.path("models"))
		return nil
	}
	for _, t := range targets {
		// The latest snapshot is held out; for tenancy fraud, whose labels
		// exist only where an investigation closed, the latest two.
		validAfter := d.trainAsOf()[2].String()
		if t.entity == spec.Tenancy {
			validAfter = d.trainAsOf()[1].String()
		}
		tab, err := dataset.Read(ctx, d.table(t.entity, "train"), dataset.Options{Label: t.label})
		if err != nil {
			return err
		}
		tr, held, err := tab.SplitAfter(validAfter)
		if err != nil {
			return err
		}
		for _, a := range algos {
			p := gbdt.DefaultParams()
			p.Rounds, p.MaxDepth, p.LearningRate, p.EarlyStoppingRounds, p.Seed = 300, 5, 0.05, 30, d.o.Seed
			lo := logistic.DefaultOptions()
			lo.L2 = 1
			mo := metrics.DefaultOptions()
			mo.Seed = d.o.Seed
			m, err := artifact.Fit(ctx, tr, held, artifact.FitOptions{
				Algorithm: a, GBDT: p, Logistic: lo, Seed: d.o.Seed, Metrics: mo, Version: d.o.Version,
				HeldOut: "--valid-after " + validAfter + "; held-out rows halved by id: tuning half for early stopping and calibration, evaluation half for the metrics",
				Created: d.o.AsOf.Time(),
			})
			if err != nil {
				return fmt.Errorf("%s %s: %w", t.target, a, err)
			}
			if err := m.Save(d.model(t.target, a)); err != nil {
				return err
			}
			d.say("      %-13s %-8s %6d training rows, held-out AUC %.3f (%.1fs)", t.target, a, m.Training.Rows,
				m.Validation.Report.ROCAUC.Value, m.Training.Seconds)
		}
	}
	return done(stamp, key)
}

// reports evaluates each model on the hold-out (with the other algorithm as
// the baseline and, for residents, the oracle's ceiling) and writes its
// report. Each model's average precision is kept to choose the champions;
// when the reports are fresh it is read back from them.
func (d *run) reports(ctx context.Context) error {
	d.ap = map[string]float64{}
	stamp := d.path(".reports.stamp")
	key := hashOf("reports", d.modelsKey(), d.o.Capacity, "v1")
	var outs []string
	for _, t := range targets {
		for _, a := range algos {
			outs = append(outs, d.reportJSON(t.target, a))
		}
	}
	if d.fresh(stamp, key, outs...) {
		for _, t := range targets {
			for _, a := range algos {
				ap, err := readAP(d.reportJSON(t.target, a))
				if err != nil {
					return err
				}
				d.ap[d.model(t.target, a)] = ap
				d.res.Reports = append(d.res.Reports, d.path("reports", t.target+"-"+a, "report.html"))
			}
		}
		d.say("      reusing %s", d.path("reports"))
		return nil
	}
	gov := &report.Governance{Organisation: "Demo: a synthetic London borough", Phase: "demonstration on synthetic data"}
	for _, t := range targets {
		tab, err := dataset.Read(ctx, d.table(t.entity, "holdout"), dataset.Options{Label: t.label})
		if err != nil {
			return err
		}
		var oracle *dataset.Table
		if t.oracle != "" {
			if oracle, err = dataset.Read(ctx, filepath.Join(d.res.Borough, "oracle", t.oracle), dataset.Options{}); err != nil {
				return err
			}
		}
		for i, a := range algos {
			other := algos[1-i]
			m, err := artifact.Load(d.model(t.target, a))
			if err != nil {
				return err
			}
			base, err := artifact.Load(d.model(t.target, other))
			if err != nil {
				return err
			}
			name := t.target + "-" + a
			mo := metrics.Options{Ks: []int{100, 200, 500}, Threshold: 0.5, Seed: d.o.Seed}
			in, err := report.FromArtifact(ctx, name, m, tab, base, t.target+"-"+other, oracle, d.o.Capacity, mo)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			r, err := report.Build(ctx, *in)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			dir := d.path("reports", name)
			if err := report.WriteDir(dir, r, report.FactsOf(name, m, tab, in.GroupOrder), gov); err != nil {
				return err
			}
			d.ap[d.model(t.target, a)] = r.Model.Metrics.AveragePrecision.Value
			d.res.Reports = append(d.res.Reports, filepath.Join(dir, "report.html"))
			mr := r.Model.Metrics
			d.say("      %-22s hold-out as of %s: %5d rows, AUC %.3f, average precision %.3f, precision in the top %d %.3f",
				name, d.o.AsOf, r.Rows, mr.ROCAUC.Value, mr.AveragePrecision.Value, d.o.Capacity, r.Model.AtCapacity.Precision)
		}
	}
	return done(stamp, key)
}

func (d *run) reportJSON(target, algo string) string {
	return d.path("reports", target+"-"+algo, "report.json")
}

// readAP reads the model's hold-out average precision from its report.json.
func readAP(path string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var r struct {
		Model struct {
			Metrics struct {
				AveragePrecision struct {
					Value *float64 `json:"value"`
				} `json:"average_precision"`
			} `json:"metrics"`
		} `json:"model"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Model.Metrics.AveragePrecision.Value == nil {
		return 0, fmt.Errorf("%s: no average precision in the report (%v)", path, err)
	}
	return *r.Model.Metrics.AveragePrecision.Value, nil
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
	d.st = st
	return nil
}

func (d *run) audit(ctx context.Context, action, resource, purpose string) error {
	_, err := d.st.AppendAudit(ctx, audit.Record{At: time.Now(), User: "demo", Role: "cli", Action: action, Resource: resource, Purpose: purpose})
	if err != nil {
		return fmt.Errorf("write the audit row: %w", err)
	}
	return nil
}

// register adds each model file the registry does not hold yet and
// promotes, per target, the model with the higher average precision on the
// hold-out: precision at the top of the list is what a team with limited
// capacity needs. A person promotes in production; the demo does it so the
// service has champions to show.
func (d *run) register(ctx context.Context) error {
	if err := d.openStore(ctx); err != nil {
		return err
	}
	for _, t := range targets {
		target := store.Target(t.target)
		have, err := d.st.Models(ctx, target)
		if err != nil {
			return err
		}
		versions := map[string]int{}
		best, bestAP := "", -1.0
		for _, a := range algos {
			path := d.model(t.target, a)
			nm, err := store.ModelFromFile(path, target, store.Bands{}, "demo")
			if err != nil {
				return err
			}
			// Register the hold-out fairness audit with the model, so the
			// models page shows performance by group.
			fj, err := os.ReadFile(d.path("reports", t.target+"-"+a, "fairness.json"))
			if err != nil {
				return err
			}
			if nm, err = store.AttachFairness(nm, fj); err != nil {
				return err
			}
			sum := sha256.Sum256(nm.Artifact)
			for _, h := range have {
				if h.SHA256 == hex.EncodeToString(sum[:]) {
					versions[a] = h.Version
				}
			}
			if versions[a] == 0 {
				m, err := d.st.RegisterModel(ctx, nm)
				if err != nil {
					return err
				}
				versions[a] = m.Version
				if err := d.audit(ctx, "model.register", fmt.Sprintf("model/%s/%d", t.target, m.Version), "model management"); err != nil {
					return err
				}
			}
			if ap := d.ap[path]; ap > bestAP {
				best, bestAP = a, ap
			}
		}
		m, err := d.st.PromoteModel(ctx, target, versions[best], "demo")
		if err != nil {
			return err
		}
		if err := d.audit(ctx, "model.promote", fmt.Sprintf("model/%s/%d", t.target, m.Version), "model management"); err != nil {
			return err
		}
		d.res.Champions[t.target] = fmt.Sprintf("%s v%d", best, m.Version)
		d.say("      %-13s champion: %s v%d (hold-out average precision %.3f)", t.target, best, m.Version, bestAP)
	}
	return nil
}

func (d *run) scoreRun(ctx context.Context) error {
	r, err := batch.New(batch.Config{Store: d.st, Load: champion.LoadArtifact, DataDir: d.res.Borough,
		Capacity: d.o.Capacity, Logger: d.o.Logger})
	if err != nil {
		return err
	}
	runs, err := r.ScoreRun(ctx, d.o.AsOf.String(), d.o.Capacity, nil)
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
		tok, err := auth.NewToken(nil)
		if err != nil {
			return err
		}
		u, err := d.st.UserByName(ctx, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if u, err = d.st.CreateUserWithToken(ctx, name, role, tok); err != nil {
				return err
			}
			err = d.audit(ctx, "user.add", fmt.Sprintf("user/%d", u.ID), "user management")
		case err == nil:
			if err = d.st.AddToken(ctx, u.ID, tok); err == nil {
				err = d.audit(ctx, "user.token", fmt.Sprintf("user/%d", u.ID), "user management")
			}
		}
		if err != nil {
			return err
		}
		d.res.Users = append(d.res.Users, User{Name: name, Role: string(role), Token: tok.Secret})
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
