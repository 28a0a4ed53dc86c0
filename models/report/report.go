// Package report writes a model's evaluation report: a self-contained HTML
// page (charts drawn with gonum/plot, embedded as SVG; no outside assets)
// with the metrics and their intervals, ROC and precision–recall curves, a
// reliability chart, the score distribution by label, gain and lift at
// capacity, global importance and the fairness audit; the same numbers as
// JSON; and, from those, the model card and the Algorithmic Transparency
// Recording Standard (ATRS) record.
//
// With a baseline model the two are drawn side by side; with the synthetic
// borough's oracle (the true probabilities), its curve is drawn as the
// ceiling a model could reach on the same rows.
package report

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"caserisk/models/artifact"
	"caserisk/models/fairness"
	"caserisk/models/metrics"
)

// Model is one model's scores on the evaluation rows.
type Model struct {
	// Name labels the model in charts and tables, e.g. "gbdt complex_case v3".
	Name string
	// Scores are calibrated probabilities, one per row.
	Scores []float64
	// Importance is the model's global importance, most important first
	// (mean |SHAP| per feature, in plain-English feature descriptions).
	Importance []Bar
	// ImportanceMeasure names what Importance measures.
	ImportanceMeasure string
}

// Input is what a report is built from.
type Input struct {
	Title  string
	Model  Model
	Labels []float64
	// Baseline, if set, is a second model scored on the same rows.
	Baseline *Model
	// Oracle, if set, holds the true probability of each row (synthetic
	// data only): the ceiling any model can reach.
	Oracle []float64
	// Groups maps each audited characteristic to one group per row.
	Groups map[string][]string
	// GroupOrder fixes the order of the characteristics in the audit.
	GroupOrder []string
	// Capacity is the number of cases a team can review: the k of precision
	// at k, the selection of the fairness audit, the mark on the gain chart.
	Capacity int
	Metrics  metrics.Options
	Fairness fairness.Options
	// Directions, if set, checks the model's learned effects against the
	// directions its features declare (artifact.Model.CheckDirections).
	Directions *artifact.DirectionReport
}

// Evaluation is one model's figures.
type Evaluation struct {
	Name    string          `json:"name"`
	Metrics *metrics.Report `json:"metrics"`
	// Gain is the share of all positives found in the top share of rows.
	Gain []GainPoint `json:"gain"`
	// AtCapacity is precision, recall and lift in the top Capacity rows.
	AtCapacity CapacityPoint `json:"at_capacity"`
	Importance []Bar         `json:"importance,omitempty"`
	Measure    string        `json:"importance_measure,omitempty"`
}

// GainPoint is one point of a cumulative gain curve.
type GainPoint struct {
	Share float64 `json:"share_reviewed"`
	Found float64 `json:"share_of_positives_found"`
}

// CapacityPoint is the operating point at capacity.
type CapacityPoint struct {
	K         int     `json:"k"`
	Positives int     `json:"positives_found"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Lift      float64 `json:"lift"`
}

// Report is a built report, ready to be written.
type Report struct {
	Title    string           `json:"title"`
	Rows     int              `json:"rows"`
	Capacity int              `json:"capacity"`
	Model    Evaluation       `json:"model"`
	Baseline *Evaluation      `json:"baseline,omitempty"`
	Oracle   *Evaluation      `json:"oracle,omitempty"`
	Fairness *fairness.Report `json:"fairness,omitempty"`
	// Directions lists every feature with a declared direction, its learned
	// effect and the reasons withheld for running against it.
	Directions *artifact.DirectionReport `json:"directions,omitempty"`
	Charts     []Chart                   `json:"-"`
	Notes      []string                  `json:"notes,omitempty"`

	posScores, negScores []float64 // the model's scores by label, for the histogram
}

// Build evaluates the model (and baseline and oracle, if given), audits
// fairness, and draws the charts.
func Build(ctx context.Context, in Input) (*Report, error) {
	n := len(in.Labels)
	if n == 0 {
		return nil, errors.New("report: no rows")
	}
	if in.Capacity <= 0 {
		return nil, fmt.Errorf("report: capacity %d, want a positive number of cases", in.Capacity)
	}
	check := func(what string, v []float64) error {
		if len(v) != n {
			return fmt.Errorf("report: %s has %d values for %d rows", what, len(v), n)
		}
		return nil
	}
	if err := check("model "+in.Model.Name, in.Model.Scores); err != nil {
		return nil, err
	}
	mo := in.Metrics
	if len(mo.Ks) == 0 {
		mo.Ks = []int{in.Capacity}
	} else if !containsInt(mo.Ks, in.Capacity) {
		mo.Ks = append(append([]int{}, mo.Ks...), in.Capacity)
		sort.Ints(mo.Ks)
	}
	r := &Report{Title: in.Title, Rows: n, Capacity: in.Capacity}
	ev, err := evaluate(ctx, in.Model, in.Labels, in.Capacity, mo)
	if err != nil {
		return nil, err
	}
	r.Model = *ev
	for i, y := range in.Labels {
		if y == 1 {
			r.posScores = append(r.posScores, in.Model.Scores[i])
		} else {
			r.negScores = append(r.negScores, in.Model.Scores[i])
		}
	}
	if in.Baseline != nil {
		if err := check("baseline "+in.Baseline.Name, in.Baseline.Scores); err != nil {
			return nil, err
		}
		if r.Baseline, err = evaluate(ctx, *in.Baseline, in.Labels, in.Capacity, mo); err != nil {
			return nil, err
		}
	}
	if in.Oracle != nil {
		if err := check("oracle", in.Oracle); err != nil {
			return nil, err
		}
		if r.Oracle, err = evaluate(ctx, Model{Name: "oracle (true probabilities)", Scores: in.Oracle}, in.Labels, in.Capacity, mo); err != nil {
			return nil, err
		}
		r.Notes = append(r.Notes, "The oracle is the synthetic borough's true probability of each outcome: the ceiling that no model can pass on these rows.")
	}
	if r.Directions = in.Directions; r.Directions != nil {
		if fl := r.Directions.Flagged(); len(fl) > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%d features with a declared direction have a learned effect against it or reasons withheld for running against it: see Declared directions.", len(fl)))
		}
	}
	if len(in.Groups) > 0 {
		fo := in.Fairness
		if fo.Capacity == 0 && fo.Threshold == 0 {
			fo.Capacity = in.Capacity
		}
		if r.Fairness, err = fairness.Audit(in.Model.Scores, in.Labels, in.Groups, in.GroupOrder, fo); err != nil {
			return nil, err
		}
	}
	if r.Charts, err = charts(r); err != nil {
		return nil, err
	}
	return r, nil
}

func containsInt(xs []int, v int) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

func evaluate(ctx context.Context, m Model, labels []float64, capacity int, o metrics.Options) (*Evaluation, error) {
	mr, err := metrics.Evaluate(ctx, m.Scores, labels, o)
	if err != nil {
		return nil, fmt.Errorf("report: evaluating %s: %w", m.Name, err)
	}
	ev := &Evaluation{Name: m.Name, Metrics: mr, Importance: m.Importance, Measure: m.ImportanceMeasure}
	ev.Gain, ev.AtCapacity = gain(m.Scores, labels, capacity)
	return ev, nil
}

// gain returns the cumulative gain curve (at most about 200 points) and
// the operating point at capacity. Rows are ranked by descending score, ties
// by row order, as metrics ranks them.
func gain(scores, labels []float64, capacity int) ([]GainPoint, CapacityPoint) {
	n := len(scores)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	total := 0.0
	for _, y := range labels {
		total += y
	}
	step := max(1, n/200)
	pts := []GainPoint{{0, 0}}
	found := 0.0
	var cp CapacityPoint
	for r, i := range idx {
		found += labels[i]
		if r+1 == min(capacity, n) {
			cp = CapacityPoint{K: r + 1, Positives: int(found), Precision: found / float64(r+1)}
			if total > 0 {
				cp.Recall = found / total
				cp.Lift = cp.Precision / (total / float64(n))
			}
		}
		if (r+1)%step == 0 || r == n-1 {
			f := 0.0
			if total > 0 {
				f = found / total
			}
			pts = append(pts, GainPoint{Share: float64(r+1) / float64(n), Found: f})
		}
	}
	return pts, cp
}

func evals(r *Report) []*Evaluation {
	out := []*Evaluation{&r.Model}
	if r.Baseline != nil {
		out = append(out, r.Baseline)
	}
	if r.Oracle != nil {
		out = append(out, r.Oracle)
	}
	return out
}

func charts(r *Report) ([]Chart, error) {
	var out []Chart
	var roc, pr, gainS, rel []Series
	for _, e := range evals(r) {
		dashed := e == r.Oracle
		var s Series
		for _, p := range e.Metrics.ROC {
			s.X, s.Y = append(s.X, p.FPR), append(s.Y, p.TPR)
		}
		s.Name, s.Dashed = fmt.Sprintf("%s (AUC %.3f)", e.Name, e.Metrics.ROCAUC.Value), dashed
		roc = append(roc, s)
		s = Series{Name: fmt.Sprintf("%s (AP %.3f)", e.Name, e.Metrics.AveragePrecision.Value), Dashed: dashed}
		for _, p := range e.Metrics.PR {
			s.X, s.Y = append(s.X, p.Recall), append(s.Y, p.Precision)
		}
		pr = append(pr, s)
		s = Series{Name: e.Name, Dashed: dashed}
		for _, p := range e.Gain {
			s.X, s.Y = append(s.X, p.Share), append(s.Y, p.Found)
		}
		gainS = append(gainS, s)
		if e != r.Oracle {
			s = Series{Name: fmt.Sprintf("%s (ECE %.3f)", e.Name, e.Metrics.ECE.Value)}
			for _, b := range e.Metrics.Reliability {
				if b.Count > 0 {
					s.X, s.Y = append(s.X, b.MeanScore.Value), append(s.Y, b.FracPositive.Value)
				}
			}
			rel = append(rel, s)
		}
	}
	m := r.Model.Metrics
	add := func(c Chart, err error) error {
		if err == nil {
			out = append(out, c)
		}
		return err
	}
	if err := add(LineChart("ROC curve", "false-positive rate", "true-positive rate",
		fmt.Sprintf("ROC curve: %s reaches an AUC of %.3f (95%% interval %.3f–%.3f).", r.Model.Name, m.ROCAUC.Value, m.ROCAUC.Lo, m.ROCAUC.Hi),
		roc, true, "chance", false)); err != nil {
		return nil, err
	}
	if err := add(LineChart("Precision–recall curve", "recall", "precision",
		fmt.Sprintf("Precision–recall curve: average precision %.3f against a base rate of %.3f.", m.AveragePrecision.Value, m.Prevalence),
		pr, true, "", true)); err != nil {
		return nil, err
	}
	if err := add(LineChart("Calibration (reliability)", "mean predicted probability", "observed rate",
		fmt.Sprintf("Reliability chart: predicted probability against observed rate in %d bins; expected calibration error %.4f.", len(m.Reliability), m.ECE.Value),
		rel, false, "perfect calibration", false)); err != nil {
		return nil, err
	}
	pos, neg := r.posScores, r.negScores
	if err := add(Histogram("Score distribution by outcome", "calibrated probability",
		fmt.Sprintf("Distribution of scores: %d rows with the outcome and %d without.", len(pos), len(neg)),
		[]Series{{Name: "outcome", X: pos}, {Name: "no outcome", X: neg, Dashed: true}}, 40)); err != nil {
		return nil, err
	}
	cp := r.Model.AtCapacity
	capShare := float64(cp.K) / float64(r.Rows)
	gainS = append(gainS, Series{Name: fmt.Sprintf("capacity %d (%.1f%% of rows)", cp.K, 100*capShare), X: []float64{capShare, capShare}, Y: []float64{0, 1}, Dashed: true})
	if err := add(LineChart("Cumulative gain", "share of rows reviewed, highest scores first", "share of outcomes found",
		fmt.Sprintf("Gain: reviewing the top %d rows finds %d outcomes (%.1f%% of all), a lift of %.1f over random review.", cp.K, cp.Positives, 100*cp.Recall, cp.Lift),
		gainS, true, "random review", false)); err != nil {
		return nil, err
	}
	if len(r.Model.Importance) > 0 {
		bars := r.Model.Importance[:min(20, len(r.Model.Importance))]
		if err := add(BarChart("Global importance", r.Model.Measure,
			fmt.Sprintf("The %d most important features by %s; the first is %s.", len(bars), r.Model.Measure, bars[0].Label), bars)); err != nil {
			return nil, err
		}
	}
	return out, nil
}
