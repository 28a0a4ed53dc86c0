// Package fairness audits a model's selections group by group: for each
// characteristic (sex, age band, ethnic group, disability, ward) and each of
// its groups, how many were selected at capacity, how many of the people who
// went on to have the outcome were found (true-positive rate), how many
// without it were flagged (false-positive rate), precision, and calibration
// within the group, each with a 95% interval; and the ratio of each group's
// selection rate and true-positive rate to the best-served group's, flagged
// where it falls below a threshold (the "four-fifths" rule, 0.8 by default).
//
// Groups too small to judge are reported as such, not hidden: a ratio from a
// handful of people is noise, and saying so is part of an honest audit.
//
// The characteristics are used here, for the audit, and are not model
// features unless a feature spec says so.
package fairness

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Options set the audit's capacity and thresholds.
type Options struct {
	// Capacity is how many rows are selected: the top Capacity by score
	// (ties broken by row order). Zero selects by Threshold instead.
	Capacity int
	// Threshold selects rows with score ≥ Threshold when Capacity is 0.
	Threshold float64
	// RatioFlag flags a group whose selection-rate or TPR ratio to the
	// best-served group falls below it. Default 0.8.
	RatioFlag float64
	// MinGroup is the fewest rows a group needs to be judged, MinPositives
	// the fewest outcomes, and MinExpected the fewest selections the group
	// would get at the overall selection rate: below any of them a ratio is
	// noise. Defaults 50, 5 and 5.
	MinGroup, MinPositives, MinExpected int
}

func (o *Options) defaults() {
	if o.RatioFlag == 0 {
		o.RatioFlag = 0.8
	}
	if o.MinGroup == 0 {
		o.MinGroup = 50
	}
	if o.MinPositives == 0 {
		o.MinPositives = 5
	}
	if o.MinExpected == 0 {
		o.MinExpected = 5
	}
}

// Rate is a proportion with its Wilson 95% interval. N is the denominator;
// a rate with N = 0 is undefined and reported as NaN with Defined false.
type Rate struct {
	Value   float64 `json:"value"`
	Lo      float64 `json:"lo"`
	Hi      float64 `json:"hi"`
	K       int     `json:"k"`
	N       int     `json:"n"`
	Defined bool    `json:"defined"`
}

// MarshalJSON writes an undefined rate's value and interval as null (JSON
// has no NaN).
func (r Rate) MarshalJSON() ([]byte, error) {
	if !r.Defined {
		return []byte(fmt.Sprintf(`{"value":null,"lo":null,"hi":null,"k":%d,"n":%d,"defined":false}`, r.K, r.N)), nil
	}
	type plain Rate
	return json.Marshal(plain(r))
}

func wilson(k, n int) Rate {
	if n == 0 {
		return Rate{Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	const z = 1.959963984540054
	p := float64(k) / float64(n)
	nn := float64(n)
	den := 1 + z*z/nn
	centre := (p + z*z/(2*nn)) / den
	half := z * math.Sqrt(p*(1-p)/nn+z*z/(4*nn*nn)) / den
	return Rate{Value: p, Lo: math.Max(0, centre-half), Hi: math.Min(1, centre+half), K: k, N: n, Defined: true}
}

// Group is the audit of one group of one characteristic.
type Group struct {
	Name      string `json:"name"`
	Rows      int    `json:"rows"`
	Positives int    `json:"positives"`
	Selected  int    `json:"selected"`
	// SelectionRate is selected / rows; TPR selected positives / positives;
	// FPR selected negatives / negatives; Precision selected positives /
	// selected.
	SelectionRate Rate `json:"selection_rate"`
	TPR           Rate `json:"tpr"`
	FPR           Rate `json:"fpr"`
	Precision     Rate `json:"precision"`
	// MeanScore and ObservedRate compare the model's average predicted
	// probability with what happened: calibration within the group.
	MeanScore    float64 `json:"mean_score"`
	ObservedRate Rate    `json:"observed_rate"`
	// Ratios to the best-served judged group; nil when not judged.
	SelectionRatio *float64 `json:"selection_ratio"`
	TPRRatio       *float64 `json:"tpr_ratio"`
	// TooSmall says the group has too few rows (or positives) to judge; its
	// figures are shown but carry no flag.
	TooSmall bool     `json:"too_small"`
	Flags    []string `json:"flags,omitempty"`
}

// Characteristic is the audit of every group of one characteristic.
type Characteristic struct {
	Name   string  `json:"name"`
	Groups []Group `json:"groups"`
	// Flagged lists the groups with a flag.
	Flagged []string `json:"flagged,omitempty"`
}

// Report is a whole audit.
type Report struct {
	Rows            int              `json:"rows"`
	Positives       int              `json:"positives"`
	Selected        int              `json:"selected"`
	Capacity        int              `json:"capacity,omitempty"`
	Threshold       float64          `json:"threshold,omitempty"`
	RatioFlag       float64          `json:"ratio_flag"`
	MinGroup        int              `json:"min_group"`
	MinPositives    int              `json:"min_positives"`
	MinExpected     int              `json:"min_expected_selections"`
	Characteristics []Characteristic `json:"characteristics"`
}

// Flags returns every flag of the report as "characteristic=group: flag".
func (r *Report) Flags() []string {
	var out []string
	for _, c := range r.Characteristics {
		for _, g := range c.Groups {
			for _, f := range g.Flags {
				out = append(out, fmt.Sprintf("%s=%s: %s", c.Name, g.Name, f))
			}
		}
	}
	return out
}

// Audit computes the report. scores are calibrated probabilities, labels 0
// or 1, and groups maps each characteristic's name to one group name per
// row (empty = "not recorded"). Characteristics are reported in name order
// unless order lists them.
func Audit(scores, labels []float64, groups map[string][]string, order []string, o Options) (*Report, error) {
	o.defaults()
	n := len(scores)
	if len(labels) != n {
		return nil, fmt.Errorf("fairness: %d scores but %d labels", n, len(labels))
	}
	if n == 0 {
		return nil, errors.New("fairness: no rows")
	}
	for i := range scores {
		if math.IsNaN(scores[i]) {
			return nil, fmt.Errorf("fairness: score of row %d is NaN", i)
		}
		if labels[i] != 0 && labels[i] != 1 {
			return nil, fmt.Errorf("fairness: label of row %d is %v, want 0 or 1", i, labels[i])
		}
	}
	for name, g := range groups {
		if len(g) != n {
			return nil, fmt.Errorf("fairness: characteristic %s has %d values for %d rows", name, len(g), n)
		}
	}
	selected := selectRows(scores, o)
	rep := &Report{Rows: n, Capacity: o.Capacity, Threshold: o.Threshold, RatioFlag: o.RatioFlag,
		MinGroup: o.MinGroup, MinPositives: o.MinPositives, MinExpected: o.MinExpected}
	for i := range labels {
		if labels[i] == 1 {
			rep.Positives++
		}
		if selected[i] {
			rep.Selected++
		}
	}
	if len(order) == 0 {
		for name := range groups {
			order = append(order, name)
		}
		sort.Strings(order)
	}
	for _, name := range order {
		vals, ok := groups[name]
		if !ok {
			return nil, fmt.Errorf("fairness: no values for characteristic %s", name)
		}
		rep.Characteristics = append(rep.Characteristics, audit(name, vals, scores, labels, selected, float64(rep.Selected)/float64(n), o))
	}
	return rep, nil
}

// selectRows marks the top o.Capacity rows by score (ties by row order), or
// the rows at or above o.Threshold.
func selectRows(scores []float64, o Options) []bool {
	sel := make([]bool, len(scores))
	if o.Capacity <= 0 {
		for i, s := range scores {
			sel[i] = s >= o.Threshold
		}
		return sel
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	for _, i := range idx[:min(o.Capacity, len(idx))] {
		sel[i] = true
	}
	return sel
}

type tally struct {
	rows, pos, sel, selPos int
	sumScore               float64
}

func audit(name string, vals []string, scores, labels []float64, selected []bool, selRate float64, o Options) Characteristic {
	t := map[string]*tally{}
	for i, v := range vals {
		if v == "" {
			v = "not recorded"
		}
		g := t[v]
		if g == nil {
			g = &tally{}
			t[v] = g
		}
		g.rows++
		g.sumScore += scores[i]
		if labels[i] == 1 {
			g.pos++
		}
		if selected[i] {
			g.sel++
			if labels[i] == 1 {
				g.selPos++
			}
		}
	}
	names := make([]string, 0, len(t))
	for v := range t {
		names = append(names, v)
	}
	sort.Strings(names)
	c := Characteristic{Name: name}
	for _, v := range names {
		g := t[v]
		neg := g.rows - g.pos
		c.Groups = append(c.Groups, Group{
			Name: v, Rows: g.rows, Positives: g.pos, Selected: g.sel,
			SelectionRate: wilson(g.sel, g.rows),
			TPR:           wilson(g.selPos, g.pos),
			FPR:           wilson(g.sel-g.selPos, neg),
			Precision:     wilson(g.selPos, g.sel),
			MeanScore:     g.sumScore / float64(g.rows),
			ObservedRate:  wilson(g.pos, g.rows),
			TooSmall:      g.rows < o.MinGroup || g.pos < o.MinPositives || float64(g.rows)*selRate < float64(o.MinExpected),
		})
	}
	// Ratios to the best-served judged group.
	bestSel, bestTPR := 0.0, 0.0
	for _, g := range c.Groups {
		if g.TooSmall {
			continue
		}
		bestSel = math.Max(bestSel, g.SelectionRate.Value)
		bestTPR = math.Max(bestTPR, g.TPR.Value)
	}
	for i := range c.Groups {
		g := &c.Groups[i]
		if g.TooSmall {
			continue
		}
		if bestSel > 0 {
			r := g.SelectionRate.Value / bestSel
			g.SelectionRatio = &r
			if r < o.RatioFlag {
				g.Flags = append(g.Flags, fmt.Sprintf("selection rate %.2f× the best-served group's (below %.2f)", r, o.RatioFlag))
			}
		}
		if bestTPR > 0 {
			r := g.TPR.Value / bestTPR
			g.TPRRatio = &r
			if r < o.RatioFlag {
				g.Flags = append(g.Flags, fmt.Sprintf("true-positive rate %.2f× the best-served group's (below %.2f)", r, o.RatioFlag))
			}
		}
		if len(g.Flags) > 0 {
			c.Flagged = append(c.Flagged, g.Name)
		}
	}
	return c
}
