package champion

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"caserisk/models/artifact"
	"caserisk/models/explain"
	"caserisk/models/tree"
	"caserisk/serve/store"
)

// Artifact is a caserisk model artifact (models/artifact) ready to serve:
// scores come from the artifact (margin, then its calibrator) and reasons
// from exact per-feature contributions (TreeSHAP for gradient-boosted
// trees, the linear terms for logistic models) phrased by models/explain.
type Artifact struct {
	m       *artifact.Model
	names   []string
	phrase  *explain.Phrasing
	contrib explain.Contributor
	bufs    sync.Pool // *[]float64 of NumFeatures+1 contributions

	compileOnce sync.Once
	compiled    *tree.Compiled // gbdt batch predictor, built on first use
	compileErr  error
}

// FromArtifact prepares a parsed artifact for serving.
func FromArtifact(m *artifact.Model) (*Artifact, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("model artifact: %w", err)
	}
	c, err := m.Explainer()
	if err != nil {
		return nil, fmt.Errorf("model artifact: %w", err)
	}
	a := &Artifact{m: m, names: m.Names(), phrase: explain.NewPhrasing(m.FeatureInfos()), contrib: c}
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
	if t, err := TargetOf(m.Target); err != nil || t != target {
		return nil, fmt.Errorf("the artifact predicts %q, not %q", m.Target, target)
	}
	return FromArtifact(m)
}

// TargetOf returns the target an artifact predicts: its target field is
// the target's name or the label column it was trained on
// (label_complex_case, label_tenancy_fraud).
func TargetOf(artifactTarget string) (store.Target, error) {
	return store.ArtifactTarget(artifactTarget)
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
// direction, strongest first, each phrased for a caseworker with dates
// counted back from asOf. A reason that runs against its feature's declared
// direction is withheld (explain.WrongWay) and the next strongest shown.
func (a *Artifact) Reasons(x []float64, k int, asOf time.Time) []Reason {
	if k <= 0 {
		return nil
	}
	bp := a.bufs.Get().(*[]float64)
	defer a.bufs.Put(bp)
	contribs := *bp
	a.contrib.Contributions(x, contribs)
	e := a.phrase.Explain(x, contribs, k, asOf)
	all := append(e.Raising, e.Lowering...)
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

// Prob maps a margin to the calibrated probability.
func (a *Artifact) Prob(margin float64) float64 { return a.m.Prob(margin) }

// batchBlock is the number of rows one batch-scoring task handles.
const batchBlock = 4096

// MarginsColumns returns the margins of column-major rows (cols[j][i] is
// feature j of row i, in Features order), in parallel blocks: gradient-
// boosted trees with the compiled predictor (tree.Compile), logistic models
// row by row. The result does not depend on the number of threads.
func (a *Artifact) MarginsColumns(ctx context.Context, cols [][]float64) ([]float64, error) {
	if len(cols) != len(a.names) {
		return nil, fmt.Errorf("batch margins: %d columns for %d features", len(cols), len(a.names))
	}
	n := len(cols[0])
	if a.m.Algorithm == artifact.GBDT {
		a.compileOnce.Do(func() { a.compiled, a.compileErr = tree.Compile(a.m.Ensemble) })
		if a.compileErr != nil {
			return nil, fmt.Errorf("batch margins: %w", a.compileErr)
		}
	}
	out := make([]float64, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for lo := 0; lo < n; lo += batchBlock {
		hi := min(lo+batchBlock, n)
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			if a.compiled != nil {
				part := make([][]float64, len(cols))
				for j, c := range cols {
					part[j] = c[lo:hi]
				}
				return a.compiled.MarginsColumns(part, out[lo:hi])
			}
			x := make([]float64, len(cols))
			for i := lo; i < hi; i++ {
				for j, c := range cols {
					x[j] = c[i]
				}
				out[i] = a.m.Margin(x)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("batch margins: %w", err)
	}
	return out, nil
}
