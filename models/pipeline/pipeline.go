// Package pipeline is caserisk's retraining pipeline: from a YAML config
// (see Example) it builds point-in-time feature tables from the council's
// extracts merged with the outcomes recorded in the case store, picks each
// algorithm's parameters by temporal cross-validation (rolling as-of
// folds: train on the dates up to t, validate on the next date; never a
// random split across time), fits the candidates with calibration on the
// last training date's rows, evaluates them and the current champion on
// the temporal hold-out, writes an evaluation report per candidate, and
// registers the best candidate per target (or every candidate, with
// register: all) as a candidate in the model registry. It never promotes:
// a person does.
//
// Training comes before serving: the package imports nothing of serve/.
// It reads the recorded outcomes through an OutcomeSource and registers
// through a Registry, two small interfaces the caller implements on its
// store (serve/registry does, on the service's); targets, their entities
// and label columns come from models/target.
//
// Every run has an id derived from its inputs (the config, the SHA-256 of
// every input file and exported outcome, the code version) and writes
// RESULTS/runs/ID/manifest.json: config, data fingerprints, code version,
// seeds, every output with its SHA-256, the cross-validation scores, the
// hold-out metrics and the champion comparison. The same inputs give the
// same run id and byte-identical model files: a model's creation time is
// the hold-out date, not the clock, and its fitting time is not recorded
// in the file (the manifest has it).
//
// Each step marks its completion in the run folder; running the same
// inputs again reuses every finished step, so an interrupted run resumes
// where it stopped. Feature tables live in RESULTS/features/KEY, keyed by
// the data and dates, and are shared by runs that differ only in their
// grids.
package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"caserisk/features/build"
	"caserisk/features/contract"
	"caserisk/models/dataset"
	"caserisk/models/target"
)

// Options configure a run.
type Options struct {
	// Config is the parsed config; ConfigBytes the file's bytes (hashed
	// into the run id and kept in the manifest).
	Config      *Config
	ConfigBytes []byte
	// Registry is where candidates are registered and champions read;
	// nil registers nothing (the run trains, evaluates and reports). The
	// caller opens it, from Config.Registry or a flag.
	Registry Registry
	// Outcomes is the source of the case store's outcomes, required when
	// the config's outcomes name a db (outcomes.labels is a file the
	// pipeline reads itself). The caller opens it.
	Outcomes OutcomeSource
	// Version is the caserisk version, recorded in models and the manifest.
	Version string
	// Out receives one line per step (and per unit of work).
	Out io.Writer
	// Progress, when set, receives the feature builder's progress lines
	// (meant for a terminal).
	Progress io.Writer
	// AllowBrokenFiles builds features when an extract cannot be read as a
	// whole (build.Options.AllowBrokenFiles); otherwise the run stops.
	AllowBrokenFiles bool
}

type runner struct {
	o   Options
	c   *Config
	dir string // the run folder
	m   *Manifest
	out io.Writer
	// exported are the fraud outcomes from the case store; complexOutcomes
	// the complex-case ones.
	exported        []Investigation
	complexOutcomes []Outcome
	// fits counts the models fitted (not reused) by this invocation.
	fits int
}

// Run runs the pipeline and returns its manifest.
func Run(ctx context.Context, o Options) (*Manifest, error) {
	if o.Config == nil {
		return nil, errors.New("pipeline: no config")
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	r := &runner{o: o, c: o.Config, out: o.Out}
	start := time.Now()
	if err := r.inputs(ctx); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	steps := []struct {
		name string
		fn   func(context.Context) (bool, error)
	}{
		{"merge the extracts with the recorded outcomes", r.dataView},
		{"build point-in-time feature tables", r.features},
		{"temporal cross-validation over the grid", r.crossValidate},
		{"fit the candidates (calibrated on the last training date)", r.fit},
		{"evaluate on the hold-out and write the reports", r.evaluate},
		{"compare with the champions and register the candidates", r.register},
	}
	for i, s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("pipeline: run %s stopped before step %d (run it again to resume): %w", r.m.ID, i+1, err)
		}
		t := time.Now()
		r.say("[%d/%d] %s", i+1, len(steps), s.name)
		reused, err := s.fn(ctx)
		if err != nil {
			return nil, fmt.Errorf("pipeline: run %s: %s: %w", r.m.ID, s.name, err)
		}
		st := Step{Name: s.name, Reused: reused, Seconds: math.Round(time.Since(t).Seconds()*1000) / 1000}
		r.m.Steps = append(r.m.Steps, st)
		if reused {
			r.say("      reused")
		} else {
			r.say("      done in %s", time.Since(t).Round(100*time.Millisecond))
		}
	}
	r.m.Fits = r.fits
	r.m.Seconds = math.Round(time.Since(start).Seconds()*1000) / 1000
	if err := r.writeManifest(); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	r.say("run %s: manifest %s", r.m.ID, filepath.Join(r.dir, "manifest.json"))
	return r.m, nil
}

func (r *runner) say(format string, args ...any) { fmt.Fprintf(r.out, format+"\n", args...) }

func (r *runner) path(parts ...string) string {
	return filepath.Join(append([]string{r.dir}, parts...)...)
}

// hashOf hashes its parts, each written with %v and a separator.
func hashOf(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%v\x00", p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fileSHA256 returns a file's SHA-256 in hex.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// codeVersion is the caserisk version plus the VCS revision the binary was
// built from, when the build recorded it.
func codeVersion(v string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+modified"
				}
			}
		}
		if rev != "" {
			return v + " (" + rev + dirty + ")"
		}
	}
	return v
}

// inputs fingerprints the extracts, reads the outcomes and fixes the run id.
func (r *runner) inputs(ctx context.Context) error {
	c := r.c
	m := &Manifest{Config: c, ConfigText: string(r.o.ConfigBytes), Code: codeVersion(r.o.Version), Seed: c.Seed,
		Data: map[string]string{}, Started: time.Now().UTC().Format(time.RFC3339)}
	r.m = m
	if _, err := os.Stat(c.Data); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	for _, f := range contract.Default().Files {
		p := filepath.Join(c.Data, f.Name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		sum, err := fileSHA256(p)
		if err != nil {
			return err
		}
		m.Data[f.Name] = sum
	}
	if len(m.Data) == 0 {
		return fmt.Errorf("data: %s holds no contract file", c.Data)
	}
	if err := r.outcomes(ctx); err != nil {
		return err
	}
	keys := make([]string, 0, len(m.Data))
	for k := range m.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := []any{"run", r.o.ConfigBytes, m.Code}
	for _, k := range keys {
		parts = append(parts, k, m.Data[k])
	}
	parts = append(parts, "outcomes", m.OutcomesSHA256)
	if err := r.oracles(); err != nil {
		return err
	}
	for _, t := range c.targets() {
		if sum, ok := m.Oracles[string(t.Name)]; ok {
			parts = append(parts, "oracle", t.Name, sum)
		}
	}
	m.ID = c.HoldoutAsOf.Time().Format("20060102") + "-" + hashOf(parts...)[:12]
	r.dir = filepath.Join(c.Results, "runs", m.ID)
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return err
	}
	r.say("run %s in %s (%d input files fingerprinted)", m.ID, r.dir, len(m.Data))
	return nil
}

// oracles fingerprints the reports' oracle files.
func (r *runner) oracles() error {
	for _, t := range r.c.targets() {
		p, ok := r.c.Reports.Oracle[string(t.Name)]
		if !ok {
			continue
		}
		sum, err := fileSHA256(p)
		if err != nil {
			return fmt.Errorf("reports: oracle of %s: %w", t.Name, err)
		}
		if r.m.Oracles == nil {
			r.m.Oracles = map[string]string{}
		}
		r.m.Oracles[string(t.Name)] = sum
	}
	return nil
}

// outcomes reads the case store's outcomes (through Options.Outcomes for
// config outcomes.db, or a file from caserisk labels export) and
// fingerprints them.
func (r *runner) outcomes(ctx context.Context) error {
	o := r.c.Outcomes
	if o == nil {
		return nil
	}
	if o.Labels != "" {
		rows, rejects, err := ReadInvestigations(o.Labels)
		if err != nil {
			return fmt.Errorf("outcomes: %w", err)
		}
		if len(rejects) > 0 {
			return fmt.Errorf("outcomes: %w", &rejects[0])
		}
		r.exported = rows
	} else {
		src := r.o.Outcomes
		if src == nil {
			return fmt.Errorf("outcomes: db %s is configured but the caller gave no outcomes source", o.DB)
		}
		fraud, err := src.Outcomes(ctx, target.TenancyFraud)
		if err != nil {
			return fmt.Errorf("outcomes: %w", err)
		}
		uprns, err := TenancyUPRNs(r.c.Data)
		if err != nil {
			return fmt.Errorf("outcomes: %w", err)
		}
		rows, unplaced, err := FraudOutcomes(fraud, uprns)
		if err != nil {
			return fmt.Errorf("outcomes: %w", err)
		}
		r.exported = rows
		r.m.Outcomes.Unplaced = unplaced
		cc, err := src.Outcomes(ctx, target.ComplexCase)
		if err != nil {
			return fmt.Errorf("outcomes: %w", err)
		}
		r.complexOutcomes = cc
	}
	h := sha256.New()
	if err := WriteInvestigations(h, r.exported); err != nil {
		return err
	}
	r.m.OutcomesSHA256 = hex.EncodeToString(h.Sum(nil))
	r.m.Outcomes.Exported = len(r.exported)
	r.m.Outcomes.ComplexCaseOutcomes = len(r.complexOutcomes)
	return nil
}

// done marks a step (or unit) finished; fresh reports whether it is, with
// every output present.
func (r *runner) done(name string) error {
	return os.WriteFile(r.path(".done-"+name), []byte(r.m.ID+"\n"), 0o644)
}

func fresh(stamp string, outputs ...string) bool {
	if _, err := os.Stat(stamp); err != nil {
		return false
	}
	for _, p := range outputs {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

// dataView makes RUN/data: links to the extract files and, with outcomes,
// a merged fraud_investigations.csv.
func (r *runner) dataView(ctx context.Context) (bool, error) {
	dir := r.path("data")
	stamp := r.path(".done-data")
	recPath := r.path("reconciliation.json")
	if fresh(stamp, recPath) {
		b, err := os.ReadFile(recPath)
		if err != nil {
			return false, err
		}
		if err := json.Unmarshal(b, &r.m.Outcomes.Reconciliation); err != nil {
			return false, fmt.Errorf("%s: %w", recPath, err)
		}
		return true, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	const fraud = "fraud_investigations.csv"
	if r.c.Outcomes == nil {
		if err := linkExtracts(dir, r.c.Data); err != nil {
			return false, err
		}
	} else {
		if err := linkExtracts(dir, r.c.Data, fraud); err != nil {
			return false, err
		}
		src := filepath.Join(r.c.Data, fraud)
		var extract []Investigation
		if _, err := os.Stat(src); err == nil {
			rows, _, err := ReadInvestigations(src)
			if err != nil {
				return false, err
			}
			extract = rows
		}
		add, rec := Reconcile(extract, r.exported)
		r.m.Outcomes.Reconciliation = rec
		if err := appendInvestigations(filepath.Join(dir, fraud), src, add); err != nil {
			return false, err
		}
		r.say("      %d outcomes from the case store: %d added, %d duplicates, %d conflicts with the extracts",
			rec.Exported, rec.Added, len(rec.Duplicates), len(rec.Conflicts))
		for _, p := range rec.Conflicts {
			r.say("      conflict: tenancy %s: %s (line %d) says %s, %s says %s; the extract's row is kept",
				p.TenancyID, p.ExtractID, p.ExtractLine, p.ExtractOutcome, p.ExportedID, p.ExportedOutcome)
		}
	}
	if err := writeJSON(recPath, r.m.Outcomes.Reconciliation); err != nil {
		return false, err
	}
	return false, r.done("data")
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// table returns the path of a target's feature table for a split (train
// or holdout), in the shared feature cache.
func (r *runner) table(t target.Target, split string) string {
	return filepath.Join(r.c.Results, "features", r.featureKey(t.Entity), t.Entity+"-"+split+".csv")
}

// featureKey identifies a feature table's inputs: the merged data, the
// dates, the code version.
func (r *runner) featureKey(entity string) string {
	var parts []any
	keys := make([]string, 0, len(r.m.Data))
	for k := range r.m.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		parts = append(parts, k, r.m.Data[k])
	}
	dates := make([]string, len(r.c.TrainAsOf))
	for i, d := range r.c.TrainAsOf {
		dates[i] = d.Day.String()
	}
	parts = append(parts, "outcomes", r.m.OutcomesSHA256, entity, strings.Join(dates, ","), r.c.HoldoutAsOf.Day, r.m.Code)
	return hashOf(parts...)[:16]
}

func (r *runner) trainDays() []contract.Day {
	out := make([]contract.Day, len(r.c.TrainAsOf))
	for i, d := range r.c.TrainAsOf {
		out[i] = d.Day
	}
	return out
}

func (r *runner) features(ctx context.Context) (bool, error) {
	reusedAll := true
	for _, t := range r.c.targets() {
		for _, split := range []struct {
			name string
			asOf []contract.Day
		}{{"train", r.trainDays()}, {"holdout", []contract.Day{r.c.HoldoutAsOf.Day}}} {
			path := r.table(t, split.name)
			stamp := path + ".done"
			if fresh(stamp, path, path+".meta.json") {
				continue
			}
			reusedAll = false
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return false, err
			}
			tab, err := build.Build(ctx, build.Options{Dir: r.path("data"), AsOf: split.asOf, Entity: t.Entity, Progress: r.o.Progress,
				AllowBrokenFiles: r.o.AllowBrokenFiles})
			if err != nil {
				return false, err
			}
			if err := tab.WriteFiles(path); err != nil {
				return false, err
			}
			if err := os.WriteFile(stamp, []byte(r.m.ID+"\n"), 0o644); err != nil {
				return false, err
			}
			r.say("      %-8s %-7s %6d rows × %d features, %d rows rejected", t.Entity, split.name, tab.Rows(), len(tab.Features), len(tab.Rejects))
		}
	}
	return reusedAll, nil
}

// read reads a target's feature table.
func (r *runner) read(ctx context.Context, t target.Target, split string) (*dataset.Table, error) {
	return dataset.Read(ctx, r.table(t, split), dataset.Options{Label: t.Label})
}
