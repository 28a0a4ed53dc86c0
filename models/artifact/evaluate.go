package artifact

import (
	"context"
	"fmt"
	"math"
	"strings"

	"caserisk/models/dataset"
	"caserisk/models/metrics"
)

// Evaluation is a model's metrics on a labelled table.
type Evaluation struct {
	Model      string          `json:"model"` // the model file's name
	Algorithm  string          `json:"algorithm"`
	Target     string          `json:"target"`
	Checksum   string          `json:"checksum"`
	Data       string          `json:"data"`  // the table's name
	Label      string          `json:"label"` // the label column evaluated against
	Rows       int             `json:"rows"`  // labelled rows
	Unlabelled int             `json:"unlabelled"`
	Report     *metrics.Report `json:"report"`
	// Stock ranks every row, labelled or not, against the confirmed
	// positives (JudgeStock without an oracle); nil when every row is
	// labelled.
	Stock  *Stock            `json:"stock,omitempty"`
	Oracle *OracleComparison `json:"oracle,omitempty"`

	// probs and labels of the labelled rows, and of every row, for
	// CompareOracle.
	table    *dataset.Table
	probs    []float64
	all      *dataset.Table
	allProbs []float64
	opts     metrics.Options
}

// Evaluate scores the labelled rows of t (rows with an empty label are
// left out and counted) and computes the metrics.
func Evaluate(ctx context.Context, m *Model, t *dataset.Table, o metrics.Options) (*Evaluation, error) {
	if t.Label == nil {
		return nil, fmt.Errorf("evaluate: %s has no label column", t.Source)
	}
	var keep []int
	for i, y := range t.Label {
		if !math.IsNaN(y) {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("evaluate: %s has no row with a known %s", t.Source, t.LabelName)
	}
	allProbs, _, err := m.Scores(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	lab, probs := t, allProbs
	if len(keep) < t.Len() {
		lab, probs = t.Subset(keep), make([]float64, len(keep))
		for k, i := range keep {
			probs[k] = allProbs[i]
		}
	}
	rep, err := metrics.Evaluate(ctx, probs, lab.Label, o)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", t.Source, err)
	}
	e := &Evaluation{
		Algorithm: m.Algorithm, Target: m.Target, Checksum: m.Checksum, Data: t.Source, Label: t.LabelName,
		Rows: lab.Len(), Unlabelled: t.Len() - len(keep), Report: rep, table: lab, probs: probs, all: t, allProbs: allProbs, opts: o,
	}
	if e.Unlabelled > 0 && lab.Positives() > 0 {
		if e.Stock, err = JudgeStock(ctx, allProbs, t.Label, nil, WithStockKs(o)); err != nil {
			return nil, fmt.Errorf("evaluate %s: %w", t.Source, err)
		}
	}
	return e, nil
}

// OracleComparison sets the model beside the synthetic borough's oracle,
// which knows each resident's true escalation probability (and each
// tenancy's true fraud state): on the rows both cover, the oracle's AUC is
// the ceiling no model of the data can beat, and the gap to the model's AUC
// on the same rows is what is left to learn.
type OracleComparison struct {
	Source    string `json:"source"`     // the oracle file's name
	Key       string `json:"key"`        // the id column joined on
	AsOf      string `json:"as_of"`      // the as-of date of the rows compared, if restricted
	Rows      int    `json:"rows"`       // labelled rows the oracle covers
	Unmatched int    `json:"unmatched"`  // labelled rows (at AsOf) the oracle lacks
	ProbCol   string `json:"prob_col"`   // the oracle's probability column; empty if none
	ResultCol string `json:"result_col"` // the oracle's 0/1 outcome column; empty if none
	// LabelAgreement is the share of compared rows whose table label equals
	// the oracle's outcome (nil without an outcome column).
	LabelAgreement *float64        `json:"label_agreement,omitempty"`
	Model          *metrics.Report `json:"model"`
	Oracle         *metrics.Report `json:"oracle,omitempty"` // nil without a probability column
	// Stock, when the table has unlabelled rows and the oracle an outcome
	// column (tenancy fraud), judges the model over every row at the
	// as-of date against the oracle's truth (JudgeStock).
	Stock *Stock `json:"stock,omitempty"`
}

// CompareOracle joins the evaluated rows with an oracle table on the first
// of resident_id and tenancy_id both have. The oracle describes one as-of
// date: when the evaluated rows span several, asOf must name the one to
// compare. The oracle's probability column is the first named p_*; its
// outcome column is the first other column holding only 0 and 1.
func (e *Evaluation) CompareOracle(ctx context.Context, oracle *dataset.Table, asOf string, o metrics.Options) (*OracleComparison, error) {
	t := e.table
	key := ""
	for _, k := range []string{"resident_id", "tenancy_id"} {
		_, a := t.Key(k)
		_, b := oracle.Key(k)
		if a && b {
			key = k
			break
		}
	}
	if key == "" {
		return nil, fmt.Errorf("oracle %s: no resident_id or tenancy_id column shared with %s", oracle.Source, t.Source)
	}
	rows := make([]int, 0, t.Len())
	dates := t.AsOfDates()
	switch {
	case asOf != "":
		d, _ := t.Key(dataset.AsOf)
		for i := range t.Len() {
			if d[i] == asOf {
				rows = append(rows, i)
			}
		}
		if len(rows) == 0 {
			return nil, fmt.Errorf("oracle: %s has no labelled row with as_of %s (dates: %s)", t.Source, asOf, strings.Join(dates, ", "))
		}
	case len(dates) > 1:
		return nil, fmt.Errorf("oracle: %s has rows at %d as-of dates (%s) and the oracle describes one: name it with --oracle-as-of",
			t.Source, len(dates), strings.Join(dates, ", "))
	default:
		for i := range t.Len() {
			rows = append(rows, i)
		}
	}
	c := &OracleComparison{Source: oracle.Source, Key: key, AsOf: asOf}
	var prob, result []float64
	for j, n := range oracle.Names {
		switch {
		case strings.HasPrefix(n, "p_") && prob == nil:
			c.ProbCol, prob = n, oracle.Cols[j]
		case result == nil && binary(oracle.Cols[j]):
			c.ResultCol, result = n, oracle.Cols[j]
		}
	}
	at, err := t.Subset(rows).MatchRows(oracle, key)
	if err != nil {
		return nil, fmt.Errorf("oracle: %w", err)
	}
	var mp, op, y []float64
	agree := 0
	for k, j := range at {
		if j < 0 {
			c.Unmatched++
			continue
		}
		i := rows[k]
		mp = append(mp, e.probs[i])
		y = append(y, t.Label[i])
		if prob != nil {
			op = append(op, prob[j])
		}
		if result != nil && result[j] == t.Label[i] {
			agree++
		}
	}
	c.Rows = len(y)
	if c.Rows == 0 {
		return nil, fmt.Errorf("oracle %s: none of the %d rows compared has a matching %s", oracle.Source, len(rows), key)
	}
	if result != nil {
		a := float64(agree) / float64(c.Rows)
		c.LabelAgreement = &a
	}
	if c.Model, err = metrics.Evaluate(ctx, mp, y, o); err != nil {
		return nil, fmt.Errorf("oracle rows: model metrics: %w", err)
	}
	if prob != nil {
		for k, p := range op {
			if math.IsNaN(p) || p < 0 || p > 1 {
				return nil, fmt.Errorf("oracle %s: %s value %v is not a probability (compared row %d)", oracle.Source, c.ProbCol, p, k+1)
			}
		}
		if c.Oracle, err = metrics.Evaluate(ctx, op, y, o); err != nil {
			return nil, fmt.Errorf("oracle rows: oracle metrics: %w", err)
		}
	}
	if result != nil && e.Unlabelled > 0 {
		if c.Stock, err = e.stockAgainst(ctx, oracle, key, asOf, result); err != nil {
			return nil, err
		}
	}
	e.Oracle = c
	return c, nil
}

// stockAgainst judges every evaluated row (at asOf, when given) that the
// oracle covers against the oracle's outcome column.
func (e *Evaluation) stockAgainst(ctx context.Context, oracle *dataset.Table, key, asOf string, result []float64) (*Stock, error) {
	t := e.all
	var rows []int
	d, hasDate := t.Key(dataset.AsOf)
	for i := range t.Len() {
		if asOf == "" || hasDate && d[i] == asOf {
			rows = append(rows, i)
		}
	}
	at, err := t.Subset(rows).MatchRows(oracle, key)
	if err != nil {
		return nil, fmt.Errorf("oracle: %w", err)
	}
	var scores, labels, truth []float64
	unmatched := 0
	for k, j := range at {
		if j < 0 {
			unmatched++
			continue
		}
		i := rows[k]
		scores, labels, truth = append(scores, e.allProbs[i]), append(labels, t.Label[i]), append(truth, result[j])
	}
	if len(scores) == 0 {
		return nil, fmt.Errorf("oracle %s: none of the %d rows of %s has a matching %s", oracle.Source, len(rows), t.Source, key)
	}
	st, err := JudgeStock(ctx, scores, labels, truth, WithStockKs(e.opts))
	if err != nil {
		return nil, fmt.Errorf("oracle %s: %w", oracle.Source, err)
	}
	st.Unmatched = unmatched
	return st, nil
}

// binary reports whether a column holds only 0 and 1.
func binary(c []float64) bool {
	for _, v := range c {
		if v != 0 && v != 1 {
			return false
		}
	}
	return len(c) > 0
}
