// Package batch runs score runs: for an as-of date it loads the Residents
// Index and each resident's events into the store (the single view), builds
// point-in-time features for residents and council tenancies
// (features/build), scores every entity with each target's champion,
// explains each score, ranks and bands the scores, and stores them with
// cases opened for the top of each list, in one transaction per target.
//
// Households. Each complex-case score carries the household its resident
// lived in on the as-of date, as the feature builder placed them (the UPRN
// of the home; none when it is not known), so the store opens one review
// case per household, for its highest-risk member, and capacity counts
// households. Tenancy-fraud scores carry none: fraud is investigated per
// tenancy.
//
// Bands are the target catalogue's fixed calibrated-probability bands
// (models/target): "high" means the same chance in every run, whatever
// the capacity. The rank within the run is the queue's order.
//
// A run is idempotent per (target, as-of date, champion version): running
// it again returns the stored run without rebuilding features.
//
// A run holds the store's "score_runs" claim from start to end (and the
// single-view load and each recording their own): a second run while one
// is alive is refused with who holds it and until when; the claim of a run
// that died lapses within store.ClaimTTL, and the next run takes it and
// redoes the work (the same scores, no duplicate case). Before any work a
// run reads every extract once (contract.Scan): the per-file counts go to
// Config.OnFiles, a file that cannot be read as a whole stops the run
// unless Config.AllowBrokenFiles, and the files' dates give Coverage.
package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"caserisk/features/build"
	"caserisk/features/contract"
	"caserisk/models/target"
	"caserisk/serve/api/champion"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// Config configures a Runner. Store, Load and DataDir are required.
type Config struct {
	Store   store.Store
	Load    champion.Loader
	DataDir string // the directory of contract CSV files
	// Capacity is the default number of cases to open per target when a
	// run does not say; 0 means 100.
	Capacity int
	// Reasons is the number of reasons stored per score; 0 means 5.
	Reasons int
	// SkipIngest leaves the single view as it is (for a second run on the
	// same data); the features are still built from the files.
	SkipIngest bool
	// AllowBrokenFiles goes on when an extract cannot be read as a whole
	// (see contract.Check); its lost lines are counted.
	AllowBrokenFiles bool
	// OnFiles, when set, receives each run's per-file counts of the
	// extracts (rows read, rejected, lines lost) before any work.
	OnFiles func([]contract.FileCount)
	// Logger receives progress; nil discards. It never receives personal data.
	Logger *slog.Logger
}

// Runner runs score runs. It is safe for concurrent use; runs do not
// overlap (see the package comment).
type Runner struct {
	cfg Config
	log *slog.Logger

	mu   sync.Mutex
	scan *dirScan // the last scan of the extracts
}

// dirScan is a scan of the extracts and the files' sizes and times it was
// made from.
type dirScan struct {
	stamp string
	files []contract.FileScan
}

// New returns a Runner.
func New(cfg Config) (*Runner, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("batch: Config.Store is required")
	case cfg.Load == nil:
		return nil, errors.New("batch: Config.Load is required")
	case cfg.DataDir == "":
		return nil, errors.New("batch: Config.DataDir is required")
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = 100
	}
	if cfg.Reasons <= 0 {
		cfg.Reasons = 5
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, log: log}, nil
}

// scoreRunsClaim is the claim a run holds from start to end.
const scoreRunsClaim = "score_runs"

// ScoreRun scores every entity of each target as of asOf (YYYY-MM-DD) with
// the target's champion and opens cases for the top capacity of each list
// (0: the configured default), counting households for complex cases and
// tenancies for fraud, under the default claim options (see Run).
func (r *Runner) ScoreRun(ctx context.Context, asOf string, capacity int, targets []store.Target) ([]store.ScoreRun, error) {
	return r.Run(ctx, core.RunRequest{AsOf: asOf, Capacity: capacity, Targets: targets})
}

// job is one target to score.
type job struct {
	target store.Target
	champ  *champion.Champion
}

// Run implements core.Runner. A target whose run already exists for the
// champion's version is returned as stored, without claiming anything;
// the others are scored under the "score_runs" claim taken with req.Claim.
func (r *Runner) Run(ctx context.Context, req core.RunRequest) ([]store.ScoreRun, error) {
	day, err := contract.ParseDay(req.AsOf)
	if err != nil {
		return nil, &store.FieldError{Field: "as_of", Msg: fmt.Sprintf("%q is not a YYYY-MM-DD date", req.AsOf)}
	}
	capacity := req.Capacity
	if capacity < 0 {
		return nil, &store.FieldError{Field: "capacity", Msg: "must not be negative"}
	}
	if capacity == 0 {
		capacity = r.cfg.Capacity
	}
	targets := req.Targets
	if len(targets) == 0 {
		targets = store.Targets()
	}
	runs, jobs, err := r.plan(ctx, day, targets)
	if err != nil || len(jobs) == 0 {
		return runs, err
	}
	cl, err := r.cfg.Store.Claim(ctx, scoreRunsClaim, req.Claim)
	if err != nil {
		return nil, fmt.Errorf("score run as of %s: %w", day, err)
	}
	defer cl.Release()
	if prev, ok := cl.Lapsed(); ok {
		r.log.Warn("an earlier score run died; its claim lapsed and this run redoes its work",
			"holder", prev.Holder, "since", prev.Acquired, "lapsed", prev.Expires)
	}
	if prev, ok := cl.TookOver(); ok {
		r.log.Warn("score run claim taken over", "holder", prev.Holder, "since", prev.Acquired)
	}
	runs, err = r.runClaimed(cl.Context(), req.Claim, day, capacity, targets)
	return runs, cl.Err(err)
}

// runClaimed is Run under the claim.
func (r *Runner) runClaimed(ctx context.Context, claim store.ClaimOptions, day contract.Day, capacity int, targets []store.Target) ([]store.ScoreRun, error) {
	// Again under the claim: a run may have finished meanwhile.
	runs, jobs, err := r.plan(ctx, day, targets)
	if err != nil || len(jobs) == 0 {
		return runs, err
	}
	scan, err := r.scanFiles(ctx)
	if err != nil {
		return nil, err
	}
	counts := make([]contract.FileCount, len(scan))
	for i, s := range scan {
		counts[i] = s.FileCount
	}
	if r.cfg.OnFiles != nil {
		r.cfg.OnFiles(counts)
	}
	if err := contract.Check(counts, r.cfg.AllowBrokenFiles); err != nil {
		return nil, fmt.Errorf("score run: the extracts in %s: %w", r.cfg.DataDir, err)
	}
	if !r.cfg.SkipIngest {
		start := time.Now()
		n, err := Ingest(ctx, r.cfg.Store, r.cfg.DataDir, IngestOptions{Claim: claim, AllowBrokenFiles: r.cfg.AllowBrokenFiles})
		if err != nil {
			return nil, err
		}
		r.log.Info("single view loaded", "residents", n.Residents, "properties", n.Properties, "stays", n.Residences,
			"events", n.Events, "rejected_rows", n.Rejected, "lost_lines", n.Lost, "seconds", time.Since(start).Seconds())
	}
	for _, j := range jobs {
		run, err := r.scoreTarget(ctx, claim, j.target, j.champ, day, capacity)
		if err != nil {
			return nil, err
		}
		runs = append(runs, run)
	}
	return runs, nil
}

// plan returns the targets' stored runs for the date and champion, and the
// targets still to score with their champions loaded.
func (r *Runner) plan(ctx context.Context, day contract.Day, targets []store.Target) ([]store.ScoreRun, []job, error) {
	var jobs []job
	var runs []store.ScoreRun
	for _, t := range targets {
		m, err := r.cfg.Store.Champion(ctx, t)
		if err != nil {
			return nil, nil, fmt.Errorf("score run %s: champion: %w", t, err)
		}
		if prev, ok, err := r.existing(ctx, t, day.String(), m.Version); err != nil {
			return nil, nil, err
		} else if ok {
			r.log.Info("score run exists", "target", string(t), "as_of", day.String(), "model_version", m.Version, "run_id", prev.ID)
			runs = append(runs, prev)
			continue
		}
		ch, err := champion.Load(r.cfg.Load, m)
		if err != nil {
			return nil, nil, fmt.Errorf("score run %s: %w", t, err)
		}
		jobs = append(jobs, job{t, ch})
	}
	return runs, jobs, nil
}

// Coverage implements core.Runner: the dates the extracts cover, from when
// their history starts to their extract date (build.Coverage), from a
// scan of the files made again only when a file changed.
func (r *Runner) Coverage(ctx context.Context) (from, to string, err error) {
	scan, err := r.scanFiles(ctx)
	if err != nil {
		return "", "", err
	}
	f, t, ok := build.Coverage(scan)
	if !ok {
		return "", "", fmt.Errorf("the extracts in %s hold no dated rows", r.cfg.DataDir)
	}
	return f.String(), t.String(), nil
}

// scanFiles returns a scan of the extracts, made again when a file's size
// or modification time changed since the last one.
func (r *Runner) scanFiles(ctx context.Context) ([]contract.FileScan, error) {
	c := contract.Default()
	var stamp strings.Builder
	files := make([]*contract.File, len(c.Files))
	for i := range c.Files {
		files[i] = &c.Files[i]
		if st, err := os.Stat(filepath.Join(r.cfg.DataDir, c.Files[i].Name)); err == nil {
			fmt.Fprintf(&stamp, "%s %d %d\n", st.Name(), st.Size(), st.ModTime().UnixNano())
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.scan != nil && r.scan.stamp == stamp.String() {
		return r.scan.files, nil
	}
	start := time.Now()
	scan, err := contract.Scan(ctx, r.cfg.DataDir, files, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, fmt.Errorf("read the extracts in %s: %w", r.cfg.DataDir, err)
	}
	r.log.Info("extracts scanned", "files", len(scan), "seconds", time.Since(start).Seconds())
	r.scan = &dirScan{stamp: stamp.String(), files: scan}
	return scan, nil
}

// existing finds a stored run of the target for the date and version.
func (r *Runner) existing(ctx context.Context, t store.Target, asOf string, version int) (store.ScoreRun, bool, error) {
	rs, err := r.cfg.Store.ScoreRuns(ctx, t)
	if err != nil {
		return store.ScoreRun{}, false, fmt.Errorf("score run %s: list runs: %w", t, err)
	}
	for _, run := range rs {
		if run.AsOf == asOf && run.ModelVersion == version {
			return run, true, nil
		}
	}
	return store.ScoreRun{}, false, nil
}

// entityID returns the id of table row i in the target's id column (a
// tenancy id for tenancy_fraud, a resident id for complex_case).
func entityID(tab *build.Table, tg target.Target, i int) string {
	if tg.IDColumn == "tenancy_id" {
		return tab.TenancyID(i)
	}
	return tab.ResidentID(i)
}

// batchModel is a model that scores many rows at once; champion.Artifact
// is one.
type batchModel interface {
	MarginsColumns(ctx context.Context, cols [][]float64) ([]float64, error)
	Prob(margin float64) float64
}

// Scored is one entity's score before it is stored.
type scored struct {
	entity, resident string
	household        string // "" for none
	prob, margin     float64
	row              int
}

func (r *Runner) scoreTarget(ctx context.Context, claim store.ClaimOptions, t store.Target, ch *champion.Champion, day contract.Day, capacity int) (store.ScoreRun, error) {
	start := time.Now()
	tg := target.Of(t)
	tab, err := build.Build(ctx, build.Options{Dir: r.cfg.DataDir, AsOf: []contract.Day{day}, Entity: tg.Entity, AllowBrokenFiles: r.cfg.AllowBrokenFiles})
	if err != nil {
		return store.ScoreRun{}, fmt.Errorf("score run %s: %w", t, err)
	}
	if tab.Rows() == 0 {
		return store.ScoreRun{}, fmt.Errorf("score run %s: %w", t,
			&store.FieldError{Field: "as_of", Msg: fmt.Sprintf("no %s is in the data on %s", tg.Entity, day)})
	}
	cols, err := columns(tab, ch.Features())
	if err != nil {
		return store.ScoreRun{}, fmt.Errorf("score run %s: %w", t, err)
	}
	n := tab.Rows()
	items := make([]scored, n)
	for i := range items {
		items[i] = scored{entity: entityID(tab, tg, i), resident: tab.ResidentID(i), row: i}
		// A resident's household is the home the builder placed them in;
		// a tenancy is investigated on its own.
		if tg.IDColumn == "resident_id" && tab.UPRN[i] != 0 {
			items[i].household = strconv.FormatInt(tab.UPRN[i], 10)
		}
	}
	if bm, ok := ch.Model.(batchModel); ok {
		margins, err := bm.MarginsColumns(ctx, cols)
		if err != nil {
			return store.ScoreRun{}, fmt.Errorf("score run %s: %w", t, err)
		}
		for i := range items {
			items[i].margin, items[i].prob = margins[i], bm.Prob(margins[i])
		}
	} else {
		x := make([]float64, len(cols))
		for i := range items {
			for j, c := range cols {
				x[j] = c[i]
			}
			items[i].prob, items[i].margin = ch.Model.Score(x)
		}
	}
	sort.SliceStable(items, func(a, b int) bool {
		if items[a].prob != items[b].prob {
			return items[a].prob > items[b].prob
		}
		return items[a].entity < items[b].entity
	})
	scores := make([]store.Score, n)
	if err := r.explain(ctx, ch, cols, items, scores, day.Time()); err != nil {
		return store.ScoreRun{}, fmt.Errorf("score run %s: %w", t, err)
	}
	for rank, it := range items {
		scores[rank].EntityID, scores[rank].ResidentID = it.entity, it.resident
		scores[rank].Score, scores[rank].Margin, scores[rank].Rank = it.prob, it.margin, rank+1
		scores[rank].Band, scores[rank].Household = target.BandOf(it.prob), it.household
	}
	run, created, err := r.cfg.Store.RecordScoreRun(ctx, store.NewRun{Target: t, AsOf: day.String(), ModelVersion: ch.Version,
		Capacity: capacity, Scores: scores, Claim: claim})
	if err != nil {
		return store.ScoreRun{}, fmt.Errorf("score run %s: %w", t, err)
	}
	r.log.Info("score run", "target", string(t), "as_of", day.String(), "model_version", ch.Version, "rows", run.Rows,
		"cases_opened", run.CasesOpened, "created", created, "seconds", time.Since(start).Seconds())
	return run, nil
}

// explain fills each score's reasons (JSON), in parallel, phrased with
// dates counted back from the run's as-of date.
func (r *Runner) explain(ctx context.Context, ch *champion.Champion, cols [][]float64, items []scored, scores []store.Score, asOf time.Time) error {
	g, gctx := errgroup.WithContext(ctx)
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		g.Go(func() error {
			x := make([]float64, len(cols))
			for k := w; k < len(items); k += workers {
				if k%1024 == w && gctx.Err() != nil {
					return gctx.Err()
				}
				for j, c := range cols {
					x[j] = c[items[k].row]
				}
				b, err := json.Marshal(ch.Model.Reasons(x, r.cfg.Reasons, asOf))
				if err != nil {
					return fmt.Errorf("reasons of %s: %w", items[k].entity, err)
				}
				scores[k].Reasons = b
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("explain scores: %w", err)
	}
	return nil
}

// columns gathers the model's features from a built table, column-major.
// A feature the table lacks is an error naming it.
func columns(tab *build.Table, features []string) ([][]float64, error) {
	var missing []string
	idx := make([]int, len(features))
	for k, f := range features {
		kind, j := tab.Column(f)
		if kind != "feature" {
			missing = append(missing, f)
			continue
		}
		idx[k] = j
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the built features lack %d the champion needs (was it trained with another feature spec?): %v", len(missing), missing)
	}
	n, nf := tab.Rows(), len(tab.Features)
	cols := make([][]float64, len(features))
	for k, j := range idx {
		c := make([]float64, n)
		for i := range n {
			c[i] = tab.Values[i*nf+j]
		}
		cols[k] = c
	}
	return cols, nil
}
