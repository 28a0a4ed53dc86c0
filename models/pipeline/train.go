package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"caserisk/features/contract"
	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/fairness"
	"caserisk/models/metrics"
	"caserisk/models/report"
	"caserisk/models/target"
)

// Fold is one temporal cross-validation fold of a setting.
type Fold struct {
	TrainUpTo string `json:"train_up_to"` // training rows are dated up to here
	Validate  string `json:"validate"`    // validation rows are dated here
	Rows      int    `json:"rows"`        // labelled validation rows
	Positives int    `json:"positives"`
	// Fitted is the labelled training rows the fold's models were fitted
	// on: all of them, or a sample of cv_max_rows.
	Fitted int `json:"fitted_rows"`
	AUC    Num `json:"roc_auc"`
	AP     Num `json:"average_precision"`
	// Skipped says why the fold was not scored (one class only).
	Skipped string `json:"skipped,omitempty"`
}

// CVResult is a setting's cross-validation.
type CVResult struct {
	Setting Setting `json:"setting"`
	Folds   []Fold  `json:"folds"`
	// Score is the mean of the scored folds' select_by metric; null when
	// no fold could be scored.
	Score Num `json:"score"`
}

// folds splits the training table into the rolling folds: fold k trains
// on rows dated up to d[k-1] and validates on rows dated d[k].
func folds(tab *dataset.Table, days []string) (trains, valids []*dataset.Table, err error) {
	for k := 1; k < len(days); k++ {
		upTo, _, err := tab.SplitAfter(days[k])
		if err != nil {
			return nil, nil, err
		}
		tr, va, err := upTo.SplitAfter(days[k-1])
		if err != nil {
			return nil, nil, err
		}
		trains, valids = append(trains, tr), append(valids, va)
	}
	return trains, valids, nil
}

func bothClasses(t *dataset.Table) (rows, pos int, ok bool) {
	l, _ := t.DropUnlabelled()
	rows, pos = l.Len(), l.Positives()
	return rows, pos, pos > 0 && pos < rows
}

func (r *runner) cvPath(t target.Target) string { return r.path("cv", string(t.Name)+".json") }

// sample returns a fold's labelled training rows, at most cv_max_rows of
// them: a random sample by person (dataset.Table.SplitFraction), the same
// for a seed.
func (r *runner) sample(tab *dataset.Table) (*dataset.Table, error) {
	l, _ := tab.DropUnlabelled()
	if r.c.CVMaxRows <= 0 || l.Len() <= r.c.CVMaxRows {
		return l, nil
	}
	_, s, err := l.SplitFraction(float64(r.c.CVMaxRows)/float64(l.Len()), r.c.Seed)
	return s, err
}

func (r *runner) crossValidate(ctx context.Context) (bool, error) {
	reusedAll := true
	days := make([]string, len(r.c.TrainAsOf))
	for i, d := range r.c.TrainAsOf {
		days[i] = d.Day.String()
	}
	for i := 1; i < len(r.c.TrainAsOf); i++ {
		if prev := r.c.TrainAsOf[i-1].Day; prev.AddMonths(contract.LabelHorizonMonths) > r.c.TrainAsOf[i].Day {
			r.m.Notes = append(r.m.Notes, fmt.Sprintf("cross-validation: the outcomes of rows as of %s run to %s, past the next date %s; "+
				"fold scores flatter every setting a little and serve only to rank the settings (the hold-out is the honest estimate)",
				prev, prev.AddMonths(contract.LabelHorizonMonths), r.c.TrainAsOf[i].Day))
			break
		}
	}
	if r.c.CVMaxRows > 0 {
		r.m.Notes = append(r.m.Notes, fmt.Sprintf("cross-validation: each fold's models train on at most %d labelled rows (a random sample by person); "+
			"the candidates train on every row", r.c.CVMaxRows))
	}
	for _, t := range r.c.targets() {
		path := r.cvPath(t)
		if fresh(path+".done", path) {
			continue
		}
		reusedAll = false
		tab, err := r.read(ctx, t, "train")
		if err != nil {
			return false, err
		}
		trains, valids, err := folds(tab, days)
		if err != nil {
			return false, err
		}
		for k := range trains {
			if trains[k], err = r.sample(trains[k]); err != nil {
				return false, fmt.Errorf("%s fold %d: %w", t.Name, k+1, err)
			}
		}
		var results []CVResult
		for _, s := range r.c.settings() {
			res := CVResult{Setting: s}
			sum, n := 0.0, 0
			for k := range trains {
				f := Fold{TrainUpTo: days[k], Validate: days[k+1], Fitted: trains[k].Len()}
				f.Rows, f.Positives, _ = bothClasses(valids[k])
				f.AUC, f.AP = Num(math.NaN()), Num(math.NaN())
				if _, _, ok := bothClasses(trains[k]); !ok {
					f.Skipped = "the training rows hold one class only"
				} else if _, _, ok := bothClasses(valids[k]); !ok {
					f.Skipped = "the validation rows hold one class only"
				}
				if f.Skipped == "" {
					m, err := artifact.Fit(ctx, trains[k], nil, s.fitOptions(r.c.Seed, 0))
					if err != nil {
						return false, fmt.Errorf("%s %s fold %d: %w", t.Name, s.Name, k+1, err)
					}
					r.fits++
					ev, err := artifact.Evaluate(ctx, m, valids[k], metrics.Options{Ks: []int{r.c.Capacity}, Bootstrap: -1})
					if err != nil {
						return false, fmt.Errorf("%s %s fold %d: %w", t.Name, s.Name, k+1, err)
					}
					f.AUC, f.AP = Num(ev.Report.ROCAUC.Value), Num(ev.Report.AveragePrecision.Value)
					v := float64(f.AP)
					if r.c.SelectBy == "roc_auc" {
						v = float64(f.AUC)
					}
					sum, n = sum+v, n+1
				}
				res.Folds = append(res.Folds, f)
			}
			res.Score = Num(math.NaN())
			if n > 0 {
				res.Score = Num(sum / float64(n))
			}
			r.say("      %-13s %-8s %-70s %s %s over %d folds", t.Name, s.Algorithm, s.Name, r.c.SelectBy, res.Score, n)
			results = append(results, res)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return false, err
		}
		if err := writeJSON(path, results); err != nil {
			return false, err
		}
		if err := os.WriteFile(path+".done", []byte(r.m.ID+"\n"), 0o644); err != nil {
			return false, err
		}
	}
	return reusedAll, nil
}

// best returns, per algorithm, the index of the best-scoring setting (the
// first on a tie or when none could be scored).
func best(results []CVResult) map[string]int {
	out := map[string]int{}
	for i, res := range results {
		a := res.Setting.Algorithm
		j, ok := out[a]
		if !ok {
			out[a] = i
			continue
		}
		if s := float64(res.Score); !math.IsNaN(s) && (math.IsNaN(float64(results[j].Score)) || s > float64(results[j].Score)) {
			out[a] = i
		}
	}
	return out
}

func (r *runner) modelPath(t target.Target, algo string) string {
	return r.path("models", string(t.Name)+"-"+algo+".json")
}

// fitRecord is what the fit step keeps beside each model.
type fitRecord struct {
	Setting Setting `json:"setting"`
	Seconds float64 `json:"seconds"`
	Note    string  `json:"note,omitempty"`
}

func (r *runner) fit(ctx context.Context) (bool, error) {
	reusedAll := true
	n := len(r.c.TrainAsOf)
	validAfter := r.c.TrainAsOf[n-2].Day.String()
	for _, t := range r.c.targets() {
		var results []CVResult
		if err := readJSON(r.cvPath(t), &results); err != nil {
			return false, err
		}
		var tab *dataset.Table
		for _, algo := range []string{artifact.GBDT, artifact.Logistic} {
			i, ok := best(results)[algo]
			if !ok {
				continue
			}
			s := results[i].Setting
			path := r.modelPath(t, algo)
			if fresh(path+".done", path, path+".fit.json") {
				continue
			}
			reusedAll = false
			if tab == nil {
				var err error
				if tab, err = r.read(ctx, t, "train"); err != nil {
					return false, err
				}
			}
			tr, held, err := tab.SplitAfter(validAfter)
			if err != nil {
				return false, err
			}
			settings := r.c.settings()
			for _, cs := range settings {
				if cs.Name == s.Name && cs.Algorithm == s.Algorithm {
					s = cs // the parameters are not in the JSON
				}
			}
			es := 0
			if g := r.c.Algorithms.GBDT; g != nil {
				es = g.EarlyStoppingRounds
			}
			fo := s.fitOptions(r.c.Seed, es)
			fo.Created = r.c.HoldoutAsOf.Time()
			fo.Version = r.o.Version
			fo.Metrics = metrics.Options{Ks: []int{r.c.Capacity}, Seed: r.c.Seed}
			fo.HeldOut = fmt.Sprintf("pipeline: rows dated after %s (as of %s) held out; halved by id: tuning half for early stopping and calibration, evaluation half for the metrics",
				validAfter, r.c.TrainAsOf[n-1].Day)
			rec := fitRecord{Setting: s}
			m, err := artifact.Fit(ctx, tr, held, fo)
			if err != nil {
				// A sparse label (few closed fraud investigations) may leave
				// the held-out halves with one class: fit uncalibrated, say so.
				fo.HeldOut, fo.GBDT.EarlyStoppingRounds = "pipeline: none (the held-out rows could not be used: "+err.Error()+")", 0
				m2, err2 := artifact.Fit(ctx, tr, nil, fo)
				if err2 != nil {
					return false, fmt.Errorf("%s %s: %w", t.Name, algo, err)
				}
				m, rec.Note = m2, "uncalibrated: "+err.Error()
				r.say("      %-13s %-8s warning: %s", t.Name, algo, rec.Note)
			}
			r.fits++
			// The fitting time is the clock's: kept in the manifest, not in
			// the model file, so the same inputs give the same bytes.
			rec.Seconds, m.Training.Seconds = m.Training.Seconds, 0
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return false, err
			}
			if err := m.Save(path); err != nil {
				return false, err
			}
			if err := writeJSON(path+".fit.json", rec); err != nil {
				return false, err
			}
			if err := os.WriteFile(path+".done", []byte(r.m.ID+"\n"), 0o644); err != nil {
				return false, err
			}
			r.say("      %-13s %-8s %s: %d training rows (%d positive), checksum %.12s (%.1fs)", t.Name, algo, s.Name,
				m.Training.Rows, m.Training.Positives, m.Checksum, rec.Seconds)
		}
	}
	return reusedAll, nil
}

// EvalOptions are the metric options of every hold-out evaluation in a
// run: caserisk evaluate --k CAPACITY --seed SEED computes the same.
func (c *Config) EvalOptions() metrics.Options {
	return metrics.Options{Ks: []int{c.Capacity}, Threshold: 0.5, Bootstrap: 200, Seed: c.Seed, ECEBins: 10}
}

func holdoutOf(ev *artifact.Evaluation) *Holdout {
	rep := ev.Report
	h := &Holdout{Rows: rep.N, Positives: rep.Positives, AUC: Num(rep.ROCAUC.Value), AP: Num(rep.AveragePrecision.Value),
		LogLoss: Num(rep.LogLoss.Value), Brier: Num(rep.Brier.Value), ECE: Num(rep.ECE.Value), K: -1}
	if len(rep.TopK) > 0 {
		h.K, h.PrecisionAtK, h.RecallAtK = rep.TopK[0].K, Num(rep.TopK[0].Precision.Value), Num(rep.TopK[0].Recall.Value)
	}
	return h
}

func rel(base, path string) string {
	if p, err := filepath.Rel(base, path); err == nil {
		return p
	}
	return path
}

func (r *runner) evaluate(ctx context.Context) (bool, error) {
	reusedAll := true
	mo := r.c.EvalOptions()
	for _, t := range r.c.targets() {
		var results []CVResult
		if err := readJSON(r.cvPath(t), &results); err != nil {
			return false, err
		}
		if r.m.CrossValidation == nil {
			r.m.CrossValidation = map[string][]CVResult{}
		}
		r.m.CrossValidation[string(t.Name)] = results
		bests := best(results)
		hold, err := r.read(ctx, t, "holdout")
		if err != nil {
			return false, err
		}
		algos := []string{}
		for _, a := range []string{artifact.GBDT, artifact.Logistic} {
			if _, ok := bests[a]; ok {
				algos = append(algos, a)
			}
		}
		for _, algo := range algos {
			path := r.modelPath(t, algo)
			var rec fitRecord
			if err := readJSON(path+".fit.json", &rec); err != nil {
				return false, err
			}
			m, err := artifact.Load(path)
			if err != nil {
				return false, err
			}
			sum, err := fileSHA256(path)
			if err != nil {
				return false, err
			}
			c := Candidate{Target: string(t.Name), Algorithm: algo, Setting: rec.Setting.Name, CV: results[bests[algo]].Folds,
				CVScore: results[bests[algo]].Score, Model: rel(r.c.Results, path), SHA256: sum, FitSeconds: rec.Seconds, Note: rec.Note,
				TrainingRows: m.Training.Rows, TrainingPositives: m.Training.Positives, Unlabelled: m.Training.Unlabelled,
				Data: rel(r.c.Results, r.table(t, "holdout"))}
			c.Reproduce = fmt.Sprintf("caserisk evaluate --model %s --data %s --k %d --seed %d", path, r.table(t, "holdout"), r.c.Capacity, r.c.Seed)
			dir := r.path("reports", string(t.Name)+"-"+algo)
			evPath := filepath.Join(dir, "evaluation.json")
			stamp := filepath.Join(dir, ".done")
			// The stamp holds the model's SHA-256: a refitted model is
			// evaluated again.
			if b, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(b)) == sum && fresh(stamp, evPath) {
				var ev artifact.Evaluation
				if err := readJSON(evPath, &ev); err != nil {
					return false, err
				}
				c.Holdout = holdoutOf(&ev)
				if _, err := os.Stat(filepath.Join(dir, "report.html")); err == nil {
					c.Report = rel(r.c.Results, filepath.Join(dir, "report.html"))
				}
				r.m.Candidates = append(r.m.Candidates, c)
				continue
			}
			reusedAll = false
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return false, err
			}
			ev, err := artifact.Evaluate(ctx, m, hold, mo)
			if err != nil {
				return false, fmt.Errorf("%s %s: %w", t.Name, algo, err)
			}
			ev.Model = filepath.Base(path)
			if err := writeJSON(evPath, ev); err != nil {
				return false, err
			}
			c.Holdout = holdoutOf(ev)
			if err := r.writeReport(ctx, t, algo, algos, m, hold, dir); err != nil {
				c.ReportNote = "no report: " + err.Error()
				r.say("      %-13s %-8s %s", t.Name, algo, c.ReportNote)
			} else {
				c.Report = rel(r.c.Results, filepath.Join(dir, "report.html"))
			}
			if err := os.WriteFile(stamp, []byte(sum+"\n"), 0o644); err != nil {
				return false, err
			}
			h := c.Holdout
			r.say("      %-13s %-8s hold-out as of %s: %d rows (%d positive), AUC %s, average precision %s, precision in the top %d %s",
				t.Name, algo, r.c.HoldoutAsOf.Day, h.Rows, h.Positives, h.AUC, h.AP, h.K, h.PrecisionAtK)
			r.m.Candidates = append(r.m.Candidates, c)
		}
		r.noteSmallHoldout(t)
	}
	return reusedAll, nil
}

// minHoldoutPositives is the fewest positive hold-out rows whose metrics
// a run does not warn about.
const minHoldoutPositives = 10

// noteSmallHoldout notes a target whose hold-out holds so few positive
// rows that its figures cannot tell the candidates apart.
func (r *runner) noteSmallHoldout(t target.Target) {
	for _, c := range r.m.Candidates {
		if h := c.Holdout; c.Target == string(t.Name) && h != nil && h.Positives < minHoldoutPositives {
			r.m.Notes = append(r.m.Notes, fmt.Sprintf("hold-out: %s has %d labelled rows (%d positive) as of %s: too few to tell its candidates apart; "+
				"read its figures (and any choice made on them) as rough", t.Name, h.Rows, h.Positives, r.c.HoldoutAsOf.Day))
			return
		}
	}
}

// writeReport writes a candidate's report, with the other algorithm's
// candidate as the baseline.
func (r *runner) writeReport(ctx context.Context, t target.Target, algo string, algos []string, m *artifact.Model, hold *dataset.Table, dir string) error {
	var base *artifact.Model
	baseName := ""
	for _, a := range algos {
		if a != algo {
			var err error
			if base, err = artifact.Load(r.modelPath(t, a)); err != nil {
				return err
			}
			baseName = string(t.Name) + "-" + a
		}
	}
	var oracle *dataset.Table
	if p, ok := r.c.Reports.Oracle[string(t.Name)]; ok {
		var err error
		if oracle, err = dataset.Read(ctx, p, dataset.Options{}); err != nil {
			return fmt.Errorf("oracle: %w", err)
		}
	}
	name := string(t.Name) + "-" + algo
	in, err := report.FromArtifact(ctx, name, m, hold, base, baseName, oracle, r.c.Capacity, r.c.EvalOptions())
	if err != nil {
		return err
	}
	in.Fairness = fairness.Options{Capacity: r.c.Capacity, RatioFlag: r.c.Fairness.RatioFlag, MinGroup: r.c.Fairness.MinGroup}
	rep, err := report.Build(ctx, *in)
	if err != nil {
		return err
	}
	gov := r.c.Reports.Governance
	return report.WriteDir(dir, rep, report.FactsOf(name, m, hold, in.GroupOrder), &gov)
}

// register compares each target's candidates with its champion on the
// same hold-out rows and registers the best candidate (or, with register:
// all, every candidate) as a candidate. It never promotes.
func (r *runner) register(ctx context.Context) (bool, error) {
	type pick struct {
		c     *Candidate
		score float64
	}
	picks := map[string]*pick{}
	for i := range r.m.Candidates {
		c := &r.m.Candidates[i]
		s := float64(c.CVScore)
		if math.IsNaN(s) {
			s = math.Inf(-1)
		}
		if p := picks[c.Target]; p == nil || s > p.score {
			picks[c.Target] = &pick{c, s}
		}
	}
	for _, p := range picks {
		p.c.Best = true
	}
	if err := r.complexAgreement(ctx); err != nil {
		return false, err
	}
	reg := r.o.Registry
	if reg == nil {
		r.m.Notes = append(r.m.Notes, "no registry configured: nothing registered")
		r.say("      no registry: nothing registered (set registry in the config or pass --db)")
		return false, nil
	}
	reusedAll := true
	for _, t := range r.c.targets() {
		var cands []*Candidate
		for i := range r.m.Candidates {
			c := &r.m.Candidates[i]
			if c.Target == string(t.Name) && (c.Best || r.c.Register == RegisterAll) {
				cands = append(cands, c)
			}
		}
		if len(cands) == 0 {
			continue
		}
		var champ *Comparison
		if art, version, err := reg.Champion(ctx, t.Name); err == nil {
			champ = r.compare(ctx, t, art, version)
		} else if !errors.Is(err, ErrNoChampion) {
			return false, fmt.Errorf("%s: the champion: %w", t.Name, err)
		}
		for _, c := range cands {
			rg, err := r.registerOne(ctx, reg, t, c)
			if err != nil {
				return false, err
			}
			rg.Champion = champ
			if rg.New {
				reusedAll = false
			}
			state := "registered"
			if !rg.New {
				state = "already registered"
			}
			r.say("      %-13s %s %s as v%d (a candidate; a person promotes: caserisk models promote --target %s --version %d)",
				t.Name, c.Algorithm, state, rg.Version, t.Name, rg.Version)
			r.say("      %-13s hold-out AUC %s, average precision %s, precision in the top %d %s", "", c.Holdout.AUC, c.Holdout.AP, c.Holdout.K, c.Holdout.PrecisionAtK)
			r.m.Registered = append(r.m.Registered, rg)
		}
		switch {
		case champ == nil:
			r.say("      %-13s no champion yet", "")
		case champ.Holdout != nil:
			r.say("      %-13s champion v%d on the same %d rows: AUC %s, average precision %s, precision in the top %d %s", "",
				champ.Version, champ.Holdout.Rows, champ.Holdout.AUC, champ.Holdout.AP, champ.Holdout.K, champ.Holdout.PrecisionAtK)
		default:
			r.say("      %-13s champion v%d: %s", "", champ.Version, champ.Note)
		}
	}
	return reusedAll, nil
}

// registerOne registers a candidate's model file with its report's
// fairness audit.
func (r *runner) registerOne(ctx context.Context, reg Registry, t target.Target, c *Candidate) (Registration, error) {
	req := RegisterRequest{Target: t.Name, Path: filepath.Join(r.c.Results, c.Model)}
	if c.Report != "" {
		fj, err := os.ReadFile(filepath.Join(r.c.Results, filepath.Dir(c.Report), "fairness.json"))
		if err != nil {
			return Registration{}, fmt.Errorf("%s %s: the report's fairness audit: %w", t.Name, c.Algorithm, err)
		}
		req.Fairness = fj
	}
	version, created, err := reg.Register(ctx, req)
	if err != nil {
		return Registration{}, fmt.Errorf("%s %s: register: %w", t.Name, c.Algorithm, err)
	}
	return Registration{Target: string(t.Name), Algorithm: c.Algorithm, Model: c.Model, Version: version, New: created}, nil
}

// compare evaluates the champion on the hold-out rows.
func (r *runner) compare(ctx context.Context, t target.Target, art []byte, version int) *Comparison {
	sum := sha256.Sum256(art)
	cmp := &Comparison{Version: version, SHA256: hex.EncodeToString(sum[:])}
	m, err := artifact.Parse(art)
	if err == nil {
		var hold *dataset.Table
		if hold, err = r.read(ctx, t, "holdout"); err == nil {
			var ev *artifact.Evaluation
			if ev, err = artifact.Evaluate(ctx, m, hold, r.c.EvalOptions()); err == nil {
				cmp.Holdout = holdoutOf(ev)
			}
		}
	}
	if err != nil {
		cmp.Note = "not evaluated on the hold-out: " + err.Error()
	}
	return cmp
}

// ComplexAgreement compares the complex-case outcomes recorded in the case
// store with the extracts' label on the same resident and as-of date (where
// the run built that row and its label is known).
type ComplexAgreement struct {
	Outcomes int `json:"outcomes"`
	// Matched outcomes have a labelled row; Agree of them the same label.
	Matched int `json:"matched"`
	Agree   int `json:"agree"`
	// Conflicts list the cases whose outcome and extract label differ.
	Conflicts []ComplexConflict `json:"conflicts,omitempty"`
}

// ComplexConflict is a closed case whose outcome disagrees with the
// extracts' label.
type ComplexConflict struct {
	CaseID       int64  `json:"case_id"`
	AsOf         string `json:"as_of"`
	Outcome      string `json:"outcome"`
	OutcomeLabel int    `json:"outcome_label"`
	ExtractLabel int    `json:"extract_label"`
}

// complexAgreement fills the manifest's complex-case agreement.
func (r *runner) complexAgreement(ctx context.Context) error {
	if len(r.complexOutcomes) == 0 || !slices.Contains(r.c.Targets, string(target.ComplexCase)) {
		return nil
	}
	t := target.Of(target.ComplexCase)
	labels := map[string]float64{}
	for _, split := range []string{"train", "holdout"} {
		tab, err := r.read(ctx, t, split)
		if err != nil {
			return err
		}
		ids, ok1 := tab.Key(t.IDColumn)
		asOf, ok2 := tab.Key("as_of")
		if !ok1 || !ok2 {
			return fmt.Errorf("%s: no %s or as_of column", tab.Source, t.IDColumn)
		}
		for i := range ids {
			labels[ids[i]+"|"+asOf[i]] = tab.Label[i]
		}
	}
	a := &ComplexAgreement{Outcomes: len(r.complexOutcomes)}
	for _, l := range r.complexOutcomes {
		v, ok := labels[l.ResidentID+"|"+l.AsOf]
		if !ok || math.IsNaN(v) {
			continue
		}
		a.Matched++
		if int(v) == l.Label {
			a.Agree++
			continue
		}
		a.Conflicts = append(a.Conflicts, ComplexConflict{CaseID: l.CaseID, AsOf: l.AsOf, Outcome: l.Outcome, OutcomeLabel: l.Label, ExtractLabel: int(v)})
	}
	r.m.Outcomes.ComplexCase = a
	r.say("      complex-case outcomes: %d recorded, %d on rows of this run, %d agree with the extracts' label", a.Outcomes, a.Matched, a.Agree)
	return nil
}
