package champion

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"caserisk/models/artifact"
	"caserisk/models/explain"
	"caserisk/serve/store"
)

// Artifact is a caserisk model artifact (models/artifact) ready to serve:
// scores come from the artifact (margin, then its calibrator) and reasons
// from exact per-feature contributions (TreeSHAP for gradient-boosted
// trees, the linear terms for logistic models) phrased by models/explain.
type Artifact struct {
	m       *artifact.Model
	names   []string
	infos   []explain.FeatureInfo
	contrib explain.Contributor
	bufs    sync.Pool // *[]float64 of NumFeatures+1 contributions
}

// FromArtifact prepares a parsed artifact for serving.
func FromArtifact(m *artifact.Model) (*Artifact, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("model artifact: %w", err)
	}
	a := &Artifact{m: m, names: m.Names(), infos: make([]explain.FeatureInfo, len(m.Features))}
	for i, f := range m.Features {
		a.infos[i] = explain.FeatureInfo{Name: f.Name, Description: f.Description, Unit: f.Unit, WindowDays: f.WindowDays,
			Service: f.Service, Aggregation: f.Aggregation, Template: f.Template, ZeroTemplate: f.ZeroTemplate}
	}
	switch m.Algorithm {
	case artifact.GBDT:
		a.contrib = explain.TreeSHAP(m.Ensemble)
	case artifact.Logistic:
		l := &explain.Linear{Mean: m.Logistic.Mean, Scale: m.Logistic.Scale, Coef: m.Logistic.Coef, Intercept: m.Logistic.Intercept,
			Impute: m.Imputation.Values, Indicators: m.Imputation.Indicators}
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("model artifact: %w", err)
		}
		a.contrib = l
	default:
		return nil, fmt.Errorf("model artifact: unknown algorithm %q", m.Algorithm)
	}
	n := len(a.names) + 1
	a.bufs.New = func() any { b := make([]float64, n); return &b }
	return a, nil
}

// LoadArtifact is the Loader for caserisk model artifacts: it parses and
// checks the stored bytes (format, checksum, structure) and that the model
// predicts the registered target.
func LoadArtifact(target store.Target, b []byte) (Model, error) {
	m, err := artifact.Parse(b)
	if err != nil {
		return nil, err
	}
	if m.Target != string(target) {
		return nil, fmt.Errorf("the artifact predicts %q, not %q", m.Target, target)
	}
	return FromArtifact(m)
}

// Artifact returns the underlying model.
func (a *Artifact) Artifact() *artifact.Model { return a.m }

// Features lists the model's inputs in row order.
func (a *Artifact) Features() []string { return a.names }

// Score returns the calibrated probability and the margin of row x.
func (a *Artifact) Score(x []float64) (prob, margin float64) {
	margin = a.m.Margin(x)
	return a.m.Prob(margin), margin
}

// Reasons returns the k features that moved the margin most, in either
// direction, strongest first, each phrased for a caseworker.
func (a *Artifact) Reasons(x []float64, k int) []Reason {
	if k <= 0 {
		return nil
	}
	bp := a.bufs.Get().(*[]float64)
	defer a.bufs.Put(bp)
	contribs := *bp
	a.contrib.Contributions(x, contribs)
	up, down := explain.Reasons(a.infos, x, contribs, k)
	all := append(up, down...)
	sort.SliceStable(all, func(i, j int) bool { return math.Abs(all[i].Contribution) > math.Abs(all[j].Contribution) })
	if len(all) > k {
		all = all[:k]
	}
	out := make([]Reason, len(all))
	for i, r := range all {
		out[i] = Reason{Feature: r.Feature, Value: r.Value, Contribution: r.Contribution, Text: r.Text}
	}
	return out
}
