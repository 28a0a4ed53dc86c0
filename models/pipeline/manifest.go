package pipeline

import (
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Manifest records a run: what went in, what came out, and how the
// candidates compare.
type Manifest struct {
	ID      string  `json:"id"`
	Started string  `json:"started"`
	Seconds float64 `json:"seconds"`
	// Code is the caserisk version (and VCS revision when known).
	Code string `json:"code_version"`
	// Seed is the seed of every random choice.
	Seed       uint64  `json:"seed"`
	Config     *Config `json:"config"`
	ConfigText string  `json:"config_text"`
	// Data maps each input file to its SHA-256.
	Data map[string]string `json:"data"`
	// OutcomesSHA256 fingerprints the outcomes from the case store, as
	// fraud_investigations rows.
	OutcomesSHA256 string `json:"outcomes_sha256"`
	// Oracles maps a target to its reports' oracle file's SHA-256.
	Oracles  map[string]string `json:"oracles,omitempty"`
	Outcomes OutcomesSummary   `json:"outcomes"`
	// CrossValidation holds every setting's fold scores, by target.
	CrossValidation map[string][]CVResult `json:"cross_validation"`
	Candidates      []Candidate           `json:"candidates"`
	Registered      []Registration        `json:"registered"`
	Outputs         []Output              `json:"outputs"`
	Steps           []Step                `json:"steps"`
	// Fits counts the models fitted by this invocation (0 when every step
	// was reused).
	Fits  int      `json:"fits"`
	Notes []string `json:"notes,omitempty"`
}

// OutcomesSummary says what the case store contributed.
type OutcomesSummary struct {
	Exported            int            `json:"exported"`
	ComplexCaseOutcomes int            `json:"complex_case_outcomes"`
	Unplaced            []int64        `json:"unplaced,omitempty"`
	Reconciliation      Reconciliation `json:"reconciliation"`
	// ComplexCase compares the complex-case outcomes with the extracts'
	// labels; nil without complex-case outcomes.
	ComplexCase *ComplexAgreement `json:"complex_case,omitempty"`
}

// Candidate is one trained model: a target and algorithm with the setting
// cross-validation chose.
type Candidate struct {
	Target    string `json:"target"`
	Algorithm string `json:"algorithm"`
	Setting   string `json:"setting"`
	CV        []Fold `json:"cv_folds"`
	CVScore   Num    `json:"cv_score"`
	// Best marks the candidate registered for its target.
	Best              bool     `json:"best"`
	Model             string   `json:"model"` // relative to the results directory
	SHA256            string   `json:"sha256"`
	TrainingRows      int      `json:"training_rows"`
	TrainingPositives int      `json:"training_positives"`
	Unlabelled        int      `json:"unlabelled"`
	FitSeconds        float64  `json:"fit_seconds"`
	Data              string   `json:"holdout_data"`
	Holdout           *Holdout `json:"holdout"`
	Report            string   `json:"report,omitempty"`
	ReportNote        string   `json:"report_note,omitempty"`
	Note              string   `json:"note,omitempty"`
	// Reproduce is the caserisk evaluate command giving the same hold-out
	// metrics.
	Reproduce string `json:"reproduce"`
}

// Holdout is a model's metrics on the hold-out rows.
type Holdout struct {
	Rows         int `json:"rows"`
	Positives    int `json:"positives"`
	AUC          Num `json:"roc_auc"`
	AP           Num `json:"average_precision"`
	LogLoss      Num `json:"log_loss"`
	Brier        Num `json:"brier"`
	ECE          Num `json:"ece"`
	K            int `json:"k"`
	PrecisionAtK Num `json:"precision_at_k"`
	RecallAtK    Num `json:"recall_at_k"`
}

// Registration is a target's best candidate in the registry.
type Registration struct {
	Target    string      `json:"target"`
	Algorithm string      `json:"algorithm"`
	Model     string      `json:"model"`
	Version   int         `json:"version"`
	New       bool        `json:"new"` // false when an earlier run registered the same bytes
	Champion  *Comparison `json:"champion,omitempty"`
}

// Comparison is the champion's metrics on the same hold-out rows.
type Comparison struct {
	Version int      `json:"version"`
	SHA256  string   `json:"sha256"`
	Holdout *Holdout `json:"holdout,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// Output is a file the run made, with its SHA-256.
type Output struct {
	Path   string `json:"path"` // relative to the results directory
	SHA256 string `json:"sha256"`
}

// Step is one step of a run.
type Step struct {
	Name    string  `json:"name"`
	Reused  bool    `json:"reused"`
	Seconds float64 `json:"seconds"`
}

// Num is a float64 written as null in JSON when it is not a number.
type Num float64

// MarshalJSON writes NaN and infinities as null.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("number %s: %w", b, err)
	}
	*n = Num(f)
	return nil
}

// String formats the number with four decimals, "-" when not a number.
func (n Num) String() string {
	if math.IsNaN(float64(n)) {
		return "-"
	}
	return strconv.FormatFloat(float64(n), 'f', 4, 64)
}

// writeManifest hashes the run's outputs and the feature tables it used,
// and writes manifest.json.
func (r *runner) writeManifest() error {
	var outs []Output
	add := func(path string) error {
		sum, err := fileSHA256(path)
		if err != nil {
			return err
		}
		outs = append(outs, Output{Path: rel(r.c.Results, path), SHA256: sum})
		return nil
	}
	err := filepath.WalkDir(r.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() || d.Type()&fs.ModeSymlink != 0 || strings.HasPrefix(name, ".") || name == "manifest.json" ||
			strings.HasSuffix(name, ".done") || strings.HasSuffix(name, ".tmp") {
			return nil
		}
		return add(p)
	})
	if err != nil {
		return fmt.Errorf("hash the outputs: %w", err)
	}
	for _, t := range r.c.targets() {
		for _, split := range []string{"train", "holdout"} {
			p := r.table(t, split)
			for _, f := range []string{p, p + ".meta.json", p + ".rejects.csv"} {
				if _, err := os.Stat(f); err == nil {
					if err := add(f); err != nil {
						return err
					}
				}
			}
		}
	}
	slices.SortFunc(outs, func(a, b Output) int { return strings.Compare(a.Path, b.Path) })
	r.m.Outputs = slices.CompactFunc(outs, func(a, b Output) bool { return a.Path == b.Path })
	return writeJSON(r.path("manifest.json"), r.m)
}

// ReadManifest reads a run's manifest: run is a run id (looked up under
// results/runs), a run folder or a manifest file.
func ReadManifest(results, run string) (*Manifest, error) {
	candidates := []string{run, filepath.Join(run, "manifest.json")}
	if results != "" {
		candidates = append(candidates, filepath.Join(results, "runs", run, "manifest.json"))
	}
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			var m Manifest
			if err := readJSON(p, &m); err != nil {
				return nil, fmt.Errorf("read manifest: %w", err)
			}
			return &m, nil
		}
	}
	return nil, fmt.Errorf("read manifest: no run %q (looked in %s)", run, strings.Join(candidates, ", "))
}

// WriteSummary prints a manifest for a person.
func (m *Manifest) WriteSummary(w io.Writer) error {
	fmt.Fprintf(w, "run %s (started %s, %.1fs, %d fits)\n", m.ID, m.Started, m.Seconds, m.Fits)
	fmt.Fprintf(w, "code %s, seed %d\n", m.Code, m.Seed)
	if c := m.Config; c != nil {
		fmt.Fprintf(w, "data %s; training as of %d dates from %s to %s; hold-out as of %s; capacity %d\n", c.Data, len(c.TrainAsOf),
			c.TrainAsOf[0].Day, c.TrainAsOf[len(c.TrainAsOf)-1].Day, c.HoldoutAsOf.Day, c.Capacity)
	}
	keys := make([]string, 0, len(m.Data))
	for k := range m.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Fprintf(w, "\ninputs (SHA-256):\n")
	for _, k := range keys {
		fmt.Fprintf(w, "  %-32s %s\n", k, m.Data[k])
	}
	o := m.Outcomes
	fmt.Fprintf(w, "\noutcomes from the case store: %d fraud outcomes (%d added, %d duplicates, %d conflicts, %d unplaced); %d complex-case outcomes\n",
		o.Exported, o.Reconciliation.Added, len(o.Reconciliation.Duplicates), len(o.Reconciliation.Conflicts), len(o.Unplaced), o.ComplexCaseOutcomes)
	for _, p := range o.Reconciliation.Conflicts {
		fmt.Fprintf(w, "  conflict: tenancy %s: %s (line %d) %s vs %s %s\n", p.TenancyID, p.ExtractID, p.ExtractLine, p.ExtractOutcome, p.ExportedID, p.ExportedOutcome)
	}
	if a := o.ComplexCase; a != nil {
		fmt.Fprintf(w, "  complex-case outcomes on rows of this run: %d, of which %d agree with the extracts' label\n", a.Matched, a.Agree)
	}
	fmt.Fprintln(w)
	if err := m.writeGrid(w, ""); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tALGORITHM\tBEST\tCV SCORE\tTRAIN ROWS\tHOLD-OUT ROWS\tAUC\tAVG PRECISION\tPRECISION@K\tSETTING")
	for _, c := range m.Candidates {
		h := c.Holdout
		if h == nil {
			h = &Holdout{AUC: Num(math.NaN()), AP: Num(math.NaN()), PrecisionAtK: Num(math.NaN())}
		}
		best := ""
		if c.Best {
			best = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", c.Target, c.Algorithm, best, c.CVScore, c.TrainingRows, h.Rows,
			h.AUC, h.AP, h.PrecisionAtK, c.Setting)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range m.Candidates {
		if c.Note != "" || c.ReportNote != "" {
			fmt.Fprintf(w, "note: %s %s: %s %s\n", c.Target, c.Algorithm, c.Note, c.ReportNote)
		}
	}
	fmt.Fprintln(w)
	for _, r := range m.Registered {
		fmt.Fprintf(w, "%s: %s registered as v%d (candidate; not promoted)\n", r.Target, r.Algorithm, r.Version)
		if ch := r.Champion; ch != nil && ch.Holdout != nil {
			fmt.Fprintf(w, "  champion v%d on the same %d rows: AUC %s, average precision %s, precision@%d %s\n",
				ch.Version, ch.Holdout.Rows, ch.Holdout.AUC, ch.Holdout.AP, ch.Holdout.K, ch.Holdout.PrecisionAtK)
		} else if ch != nil {
			fmt.Fprintf(w, "  champion v%d: %s\n", ch.Version, ch.Note)
		} else {
			fmt.Fprintf(w, "  no champion\n")
		}
	}
	for _, n := range m.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "\n%d outputs hashed; steps:\n", len(m.Outputs))
	for _, s := range m.Steps {
		state := "ran"
		if s.Reused {
			state = "reused"
		}
		fmt.Fprintf(w, "  %-62s %-6s %.1fs\n", s.Name, state, s.Seconds)
	}
	return nil
}

// chosen reports whether a candidate was fitted with the setting.
func (m *Manifest) chosen(target string, s Setting) bool {
	for _, c := range m.Candidates {
		if c.Target == target && c.Algorithm == s.Algorithm && c.Setting == s.Name {
			return true
		}
	}
	return false
}

// writeGrid writes every setting's cross-validation score, the chosen
// settings marked *, each line after indent.
func (m *Manifest) writeGrid(w io.Writer, indent string) error {
	selectBy := "average_precision"
	if m.Config != nil {
		selectBy = m.Config.SelectBy
	}
	fmt.Fprintf(w, "%scross-validation: mean %s over the folds (* the setting each candidate was fitted with)\n", indent, selectBy)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, t := range slices.Sorted(maps.Keys(m.CrossValidation)) {
		for _, res := range m.CrossValidation[t] {
			mark, folds := " ", 0
			if m.chosen(t, res.Setting) {
				mark = "*"
			}
			for _, f := range res.Folds {
				if f.Skipped == "" {
					folds++
				}
			}
			fmt.Fprintf(tw, "%s  %s\t%s\t%s %s\t%d of %d folds\t%s\n", indent, t, res.Setting.Algorithm, mark, res.Score, folds, len(res.Folds), res.Setting.Name)
		}
	}
	return tw.Flush()
}

// WriteScores writes, for a person, the run's cross-validation grid and
// its candidates' hold-out figures with their registered versions, each
// line after indent: the short form of WriteSummary.
func (m *Manifest) WriteScores(w io.Writer, indent string) error {
	if err := m.writeGrid(w, indent); err != nil {
		return err
	}
	day := ""
	if m.Config != nil {
		day = " as of " + m.Config.HoldoutAsOf.Day.String()
	}
	fmt.Fprintf(w, "%shold-out%s:\n", indent, day)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range m.Candidates {
		h := c.Holdout
		if h == nil {
			continue
		}
		reg := "not registered"
		for _, r := range m.Registered {
			if r.Target == c.Target && r.Algorithm == c.Algorithm {
				reg = fmt.Sprintf("registered as v%d", r.Version)
			}
		}
		fmt.Fprintf(tw, "%s  %s\t%s\t%d rows (%d positive)\tAUC %s\taverage precision %s\tprecision in the top %d %s\t%s\n",
			indent, c.Target, c.Algorithm, h.Rows, h.Positives, h.AUC, h.AP, h.K, h.PrecisionAtK, reg)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range m.Candidates {
		if c.Note != "" {
			fmt.Fprintf(w, "%snote: %s %s: %s\n", indent, c.Target, c.Algorithm, c.Note)
		}
	}
	for _, n := range m.Notes {
		fmt.Fprintf(w, "%snote: %s\n", indent, n)
	}
	return nil
}
