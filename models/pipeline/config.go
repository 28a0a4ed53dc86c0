package pipeline

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"caserisk/features/contract"
	"caserisk/models/artifact"
	"caserisk/models/report"
	"caserisk/models/target"
)

//go:embed example.yaml
var example []byte

// Example returns the documented example configuration.
func Example() []byte { return bytes.Clone(example) }

// Config is a pipeline configuration, read from YAML (see example.yaml).
type Config struct {
	// Data is the directory of the council's contract CSV files.
	Data string `yaml:"data" json:"data"`
	// Results is where runs go: Results/runs/RUN-ID.
	Results string `yaml:"results" json:"results"`
	// TrainAsOf are the training as-of dates, oldest first.
	TrainAsOf []Date `yaml:"train_as_of" json:"train_as_of"`
	// HoldoutAsOf is the temporal hold-out date.
	HoldoutAsOf Date `yaml:"holdout_as_of" json:"holdout_as_of"`
	// Targets are the predictions to train: complex_case, tenancy_fraud.
	Targets []string `yaml:"targets" json:"targets"`
	// Seed drives every random choice.
	Seed uint64 `yaml:"seed" json:"seed"`
	// Capacity is the k of precision at k and the fairness selection.
	Capacity int `yaml:"capacity" json:"capacity"`
	// SelectBy is the cross-validation score: average_precision or roc_auc.
	SelectBy string `yaml:"select_by" json:"select_by"`
	// CVMaxRows caps the labelled rows each cross-validation fit trains
	// on (a random sample by person when a fold has more); 0 = every row.
	// The candidates always train on every row.
	CVMaxRows int `yaml:"cv_max_rows" json:"cv_max_rows,omitempty"`
	// Algorithms holds the grids; a nil grid skips the algorithm.
	Algorithms Algorithms `yaml:"algorithms" json:"algorithms"`
	// Fairness sets the audit's thresholds.
	Fairness Fairness `yaml:"fairness" json:"fairness"`
	// Reports adds governance facts and oracles to the reports.
	Reports Reports `yaml:"reports" json:"reports"`
	// Outcomes, when set, adds the case store's outcomes as labels.
	Outcomes *Outcomes `yaml:"outcomes" json:"outcomes,omitempty"`
	// Registry is the store URL candidates are registered in; empty
	// registers nothing. The caller opens it (Options.Registry).
	Registry string `yaml:"registry" json:"registry,omitempty"`
	// Register is which candidates are registered: "best" (default), the
	// best by cross-validation per target, or "all".
	Register string `yaml:"register" json:"register"`
}

// Reports holds what the reports take beyond the model and its hold-out.
type Reports struct {
	// Governance fills the model card and ATRS record (the keys of
	// caserisk report --governance); empty fields are marked as such.
	Governance report.Governance `yaml:"governance" json:"governance"`
	// Oracle maps a target to a synthetic borough's oracle file, whose true
	// probabilities give the report a ceiling; real data has none.
	Oracle map[string]string `yaml:"oracle" json:"oracle,omitempty"`
}

// Algorithms are the parameter grids of each algorithm.
type Algorithms struct {
	GBDT     *GBDTGrid     `yaml:"gbdt" json:"gbdt,omitempty"`
	Logistic *LogisticGrid `yaml:"logistic" json:"logistic,omitempty"`
}

// GBDTGrid lists the gradient-boosting values to try; every combination is
// one setting. An empty list keeps the default.
type GBDTGrid struct {
	Rounds              []int     `yaml:"rounds" json:"rounds"`
	MaxDepth            []int     `yaml:"max_depth" json:"max_depth"`
	LearningRate        []float64 `yaml:"learning_rate" json:"learning_rate"`
	MinChildWeight      []float64 `yaml:"min_child_weight" json:"min_child_weight"`
	Subsample           []float64 `yaml:"subsample" json:"subsample"`
	Lambda              []float64 `yaml:"lambda" json:"lambda"`
	EarlyStoppingRounds int       `yaml:"early_stopping_rounds" json:"early_stopping_rounds"`
}

// LogisticGrid lists the penalties to try.
type LogisticGrid struct {
	L2 []float64 `yaml:"l2" json:"l2"`
	L1 []float64 `yaml:"l1" json:"l1"`
}

// Fairness holds the fairness audit's thresholds (models/fairness).
type Fairness struct {
	RatioFlag float64 `yaml:"ratio_flag" json:"ratio_flag"`
	MinGroup  int     `yaml:"min_group" json:"min_group"`
}

// Outcomes says where the case store's outcomes come from: a store URL or
// a file written by caserisk labels export (exactly one).
type Outcomes struct {
	DB     string `yaml:"db" json:"db,omitempty"`
	Labels string `yaml:"labels" json:"labels,omitempty"`
}

// Date is a calendar day in a config, remembering its line for errors.
type Date struct {
	contract.Day
	Line int `json:"-"`
}

// UnmarshalYAML parses YYYY-MM-DD.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	day, err := contract.ParseDay(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("line %d, column %d: %q is not a date YYYY-MM-DD", n.Line, n.Column, n.Value)
	}
	d.Day, d.Line = day, n.Line
	return nil
}

// MarshalJSON writes the date as YYYY-MM-DD.
func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.Day.String() + `"`), nil }

// UnmarshalJSON reads YYYY-MM-DD.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date %s: %w", b, err)
	}
	day, err := contract.ParseDay(s)
	if err != nil {
		return fmt.Errorf("date %q: %w", s, err)
	}
	d.Day = day
	return nil
}

// LoadConfig reads a config file; relative paths in it are made relative
// to the file's directory.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pipeline config: %w", err)
	}
	c, err := ParseConfig(path, b)
	if err != nil {
		return nil, err
	}
	base := filepath.Dir(path)
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	abs(&c.Data)
	abs(&c.Results)
	for t, p := range c.Reports.Oracle {
		abs(&p)
		c.Reports.Oracle[t] = p
	}
	if c.Outcomes != nil {
		abs(&c.Outcomes.Labels)
	}
	return c, nil
}

// ParseConfig parses and checks a config; source names it in errors, which
// give the line of the fault. Unknown keys are errors.
func ParseConfig(source string, data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	c := &Config{SelectBy: "average_precision", Fairness: Fairness{RatioFlag: 0.8, MinGroup: 50}, Register: RegisterBest}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the config is empty", source)
		}
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if err := c.check(&root); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return c, nil
}

// lineOf returns the line of the value at a key path in the document (the
// line of the nearest ancestor found, 1 when none).
func lineOf(root *yaml.Node, keys ...string) int {
	n, line := root, 1
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

func (c *Config) check(root *yaml.Node) error {
	at := func(format string, args []any, keys ...string) error {
		return fmt.Errorf("line %d: "+format, append([]any{lineOf(root, keys...)}, args...)...)
	}
	if c.Data == "" {
		return at("data: the extracts' directory is required", nil, "data")
	}
	if c.Results == "" {
		return at("results: the results directory is required", nil, "results")
	}
	if len(c.TrainAsOf) < 3 {
		return at("train_as_of: give at least three dates (cross-validation needs two folds), got %d", []any{len(c.TrainAsOf)}, "train_as_of")
	}
	for i := 1; i < len(c.TrainAsOf); i++ {
		if c.TrainAsOf[i].Day <= c.TrainAsOf[i-1].Day {
			return fmt.Errorf("line %d: train_as_of: %s is not after %s; list the dates oldest first, once each",
				c.TrainAsOf[i].Line, c.TrainAsOf[i].Day, c.TrainAsOf[i-1].Day)
		}
	}
	if c.HoldoutAsOf.Day == 0 {
		return at("holdout_as_of: the hold-out date is required", nil, "holdout_as_of")
	}
	if last := c.TrainAsOf[len(c.TrainAsOf)-1]; c.HoldoutAsOf.Day <= last.Day {
		return fmt.Errorf("line %d: holdout_as_of %s must be after the last training date %s", c.HoldoutAsOf.Line, c.HoldoutAsOf.Day, last.Day)
	}
	if len(c.Targets) == 0 {
		return at("targets: name at least one of %s", []any{targetList()}, "targets")
	}
	seen := map[string]bool{}
	for _, t := range c.Targets {
		if _, err := target.Parse(t); err != nil || seen[t] {
			return at("targets: %q: want %s, each once", []any{t, targetList()}, "targets")
		}
		seen[t] = true
	}
	if c.Capacity <= 0 {
		return at("capacity: want a positive number of cases, got %d", []any{c.Capacity}, "capacity")
	}
	if c.SelectBy != "average_precision" && c.SelectBy != "roc_auc" {
		return at("select_by: %q: want average_precision or roc_auc", []any{c.SelectBy}, "select_by")
	}
	if c.CVMaxRows < 0 {
		return at("cv_max_rows: %d: want a number of rows, or 0 for every row", []any{c.CVMaxRows}, "cv_max_rows")
	}
	if c.Register != RegisterBest && c.Register != RegisterAll {
		return at("register: %q: want %s or %s", []any{c.Register, RegisterBest, RegisterAll}, "register")
	}
	for t, p := range c.Reports.Oracle {
		if !slices.Contains(c.Targets, t) {
			return at("reports: oracle: %q is not one of the targets (%s)", []any{t, strings.Join(c.Targets, ", ")}, "reports", "oracle", t)
		}
		if p == "" {
			return at("reports: oracle: %s: the file is required", []any{t}, "reports", "oracle", t)
		}
	}
	if c.Algorithms.GBDT == nil && c.Algorithms.Logistic == nil {
		return at("algorithms: give a grid for gbdt, logistic or both", nil, "algorithms")
	}
	for _, s := range c.settings() {
		if s.Algorithm == artifact.GBDT {
			if err := s.GBDT.Validate(0); err != nil {
				return at("algorithms: gbdt: %v", []any{err}, "algorithms", "gbdt")
			}
		} else if s.L2 < 0 || s.L1 < 0 {
			return at("algorithms: logistic: penalties must not be negative (l2 %g, l1 %g)", []any{s.L2, s.L1}, "algorithms", "logistic")
		}
	}
	if g := c.Algorithms.GBDT; g != nil && g.EarlyStoppingRounds < 0 {
		return at("algorithms: gbdt: early_stopping_rounds must not be negative", nil, "algorithms", "gbdt", "early_stopping_rounds")
	}
	if !(c.Fairness.RatioFlag > 0 && c.Fairness.RatioFlag <= 1) {
		return at("fairness: ratio_flag %g: want a ratio in (0, 1]", []any{c.Fairness.RatioFlag}, "fairness", "ratio_flag")
	}
	if c.Fairness.MinGroup < 0 {
		return at("fairness: min_group must not be negative", nil, "fairness", "min_group")
	}
	if o := c.Outcomes; o != nil && (o.DB == "") == (o.Labels == "") {
		return at("outcomes: give exactly one of db and labels", nil, "outcomes")
	}
	return nil
}

// What register: takes.
const (
	RegisterBest = "best"
	RegisterAll  = "all"
)

// targets lists the configured targets in the catalogue's order.
func (c *Config) targets() []target.Target {
	var out []target.Target
	for _, t := range target.All() {
		if slices.Contains(c.Targets, string(t.Name)) {
			out = append(out, t)
		}
	}
	return out
}

func targetList() string {
	var names []string
	for _, n := range target.Names() {
		names = append(names, string(n))
	}
	return strings.Join(names, ", ")
}
