package artifact

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"

	"caserisk/models/dataset"
	"caserisk/models/explain"
)

// checkDirection checks a feature's declared direction and training range.
func (f *Feature) checkDirection() error {
	if _, err := explain.DirectionSign(f.Direction); err != nil {
		return err
	}
	switch {
	case len(f.Range) == 0:
		return nil
	case len(f.Range) != 2:
		return fmt.Errorf("range has %d values, want the lowest and the highest", len(f.Range))
	case !(f.Range[0] <= f.Range[1]) || math.IsInf(f.Range[0], 0) || math.IsInf(f.Range[1], 0):
		return fmt.Errorf("range [%v, %v] is not two finite values in order", f.Range[0], f.Range[1])
	}
	return nil
}

// directedRange returns the lowest and highest recorded value of a
// feature with a declared direction, or nil.
func directedRange(meta dataset.FeatureMeta, col []float64) []float64 {
	if meta.Direction == "" {
		return nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range col {
		if !math.IsNaN(v) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if lo > hi {
		return nil // never recorded in training
	}
	return []float64{lo, hi}
}

// monotone returns the gbdt constraints for the training features by name:
// each declared direction (+1 increasing, -1 decreasing) unless
// o.NoDirections, then o.Monotone over them. A 0 leaves a feature free and
// is dropped.
func monotone(tr *dataset.Table, o FitOptions) (map[string]int8, error) {
	out := map[string]int8{}
	if !o.NoDirections {
		for i, f := range tr.Meta {
			d, err := explain.DirectionSign(f.Direction)
			if err != nil {
				return nil, fmt.Errorf("fit: feature %s of %s: %w", tr.Names[i], tr.Source, err)
			}
			if d != 0 {
				out[tr.Names[i]] = d
			}
		}
	}
	for name, c := range o.Monotone {
		if !slices.Contains(tr.Names, name) {
			return nil, fmt.Errorf("fit: monotone constraint on %q, which is not a feature of %s", name, tr.Source)
		}
		if c == 0 {
			delete(out, name)
		} else {
			out[name] = c
		}
	}
	return out, nil
}

// monotoneVector lays constraints by name out in feature order; nil when
// there are none.
func monotoneVector(names []string, mono map[string]int8) []int8 {
	if len(mono) == 0 {
		return nil
	}
	v := make([]int8, len(names))
	for j, n := range names {
		v[j] = mono[n]
	}
	return v
}

// monotoneParam is the constraints as the model file's params record them.
func monotoneParam(mono map[string]int8) map[string]any {
	out := make(map[string]any, len(mono))
	for k, v := range mono {
		out[k] = int(v)
	}
	return out
}

// Monotone returns the monotone constraints a gbdt model was trained with,
// by feature name (+1 or -1); empty for a logistic model or none.
func (m *Model) Monotone() map[string]int8 {
	out := map[string]int8{}
	raw, _ := m.Params["monotone"].(map[string]any)
	for k, v := range raw {
		var c float64
		switch n := v.(type) {
		case int:
			c = float64(n)
		case float64:
			c = n
		case json.Number:
			c, _ = n.Float64()
		}
		if c > 0 {
			out[k] = 1
		} else if c < 0 {
			out[k] = -1
		}
	}
	return out
}

// How a learned effect was checked against a declared direction.
const (
	ByConstraint  = "monotone constraint"
	ByCoefficient = "coefficient"
	ByCorrelation = "SHAP correlation"
)

// DirectionCheck is one feature's learned effect set against the direction
// its metadata declares.
type DirectionCheck struct {
	Feature     string `json:"feature"`
	Description string `json:"description,omitempty"`
	Direction   string `json:"direction"`
	// Evidence is how the learned effect was found: ByConstraint (gbdt
	// trained with the feature constrained: the model cannot run against
	// it), ByCoefficient (logistic: the coefficient's sign) or
	// ByCorrelation (gbdt without a constraint: the correlation of the
	// feature's values with its contributions).
	Evidence string `json:"evidence"`
	// Effect is the coefficient, or the correlation; null when not measurable.
	Effect *float64 `json:"effect"`
	// Against reports a learned effect that runs against the direction.
	Against bool `json:"against"`
	// Withheld counts the rows where a reason from the feature would have
	// been shown but ran against the direction, and was left out of what
	// users see.
	Withheld int `json:"withheld_reasons"`
}

// DirectionReport checks every feature with a declared direction.
type DirectionReport struct {
	// Rows is the number of rows the reasons were counted on; Reasons the
	// reasons per row each way that were considered.
	Rows    int              `json:"rows"`
	Reasons int              `json:"reasons_each_way"`
	Checks  []DirectionCheck `json:"checks"`
}

// Flagged returns the checks a data scientist must see: a learned effect
// against the declared direction, or reasons withheld.
func (r *DirectionReport) Flagged() []DirectionCheck {
	var out []DirectionCheck
	for _, c := range r.Checks {
		if c.Against || c.Withheld > 0 {
			out = append(out, c)
		}
	}
	return out
}

// CheckDirections sets the model's learned effect of every feature with a
// declared direction against that direction, on at most maxRows evenly
// spaced rows of t (all with maxRows 0): for logistic the coefficient's
// sign, for gbdt the monotone constraint it was trained with or, without
// one, the correlation of the feature's values with its contributions;
// and counts, per feature, the rows whose k reasons each way would have
// held a reason that runs against the direction (withheld from users). It
// returns nil when no feature declares a direction.
func (m *Model) CheckDirections(ctx context.Context, t *dataset.Table, maxRows, k int) (*DirectionReport, error) {
	infos := m.FeatureInfos()
	if !slices.ContainsFunc(infos, func(f explain.FeatureInfo) bool { return f.Direction != "" }) {
		return nil, nil
	}
	cols, err := m.Columns(t)
	if err != nil {
		return nil, fmt.Errorf("directions on %s: %w", t.Source, err)
	}
	c, err := m.Explainer()
	if err != nil {
		return nil, err
	}
	sample := explain.EvenlySpaced(cols, maxRows)
	audit, err := explain.AuditDirections(ctx, c, infos, sample, k)
	if err != nil {
		return nil, fmt.Errorf("directions on %s: %w", t.Source, err)
	}
	rep := &DirectionReport{Reasons: k}
	if len(sample) > 0 {
		rep.Rows = len(sample[0])
	}
	mono := m.Monotone()
	index := make(map[string]int, len(m.Features))
	for j, f := range m.Features {
		index[f.Name] = j
	}
	for _, a := range audit {
		j := index[a.Feature]
		f := m.Features[j]
		d, _ := explain.DirectionSign(a.Direction)
		ch := DirectionCheck{Feature: a.Feature, Description: f.Description, Direction: a.Direction, Withheld: a.Withheld}
		effect := a.Correlation
		switch {
		case m.Algorithm == Logistic:
			ch.Evidence, effect = ByCoefficient, m.Logistic.Coef[j]
			ch.Against = effect*float64(d) < 0
		case mono[a.Feature] != 0:
			ch.Evidence = ByConstraint
			ch.Against = mono[a.Feature] != d
		default:
			ch.Evidence = ByCorrelation
			ch.Against = effect*float64(d) < 0
		}
		if !math.IsNaN(effect) {
			ch.Effect = &effect
		}
		rep.Checks = append(rep.Checks, ch)
	}
	sort.SliceStable(rep.Checks, func(a, b int) bool {
		x, y := rep.Checks[a], rep.Checks[b]
		if x.Against != y.Against {
			return x.Against
		}
		return x.Withheld > y.Withheld
	})
	return rep, nil
}
