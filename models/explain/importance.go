package explain

import (
	"context"
	"fmt"
	"math"
	"sort"

	"caserisk/models/tree"
)

// Importance is one feature's global importance.
type Importance struct {
	Feature string `json:"feature"`
	// MeanAbsSHAP is the mean absolute contribution over the rows, in
	// log-odds: how much the feature moves scores on average.
	MeanAbsSHAP float64 `json:"mean_abs_shap"`
	// Gain is the total loss reduction of the feature's splits (trees only;
	// 0 for linear models).
	Gain float64 `json:"gain"`
}

// TotalGain sums each split's Gain per feature over the ensemble.
func TotalGain(e *tree.Ensemble) []float64 {
	g := make([]float64, e.NumFeatures)
	for i := range e.Trees {
		t := &e.Trees[i]
		for n := range t.Left {
			if !t.IsLeaf(n) {
				g[t.Feature[n]] += t.Gain[n]
			}
		}
	}
	return g
}

// importanceBlock is how many rows MeanAbsSHAP explains at a time, so that
// a large table never needs its whole contribution matrix in memory.
const importanceBlock = 4096

// MeanAbsSHAP returns each feature's mean absolute contribution over the
// rows of a column-major table (cols[j][i] is feature j of row i, as in
// dataset.Table.Cols). Tree ensembles are explained on all cores; the
// result does not depend on their number. It stops with ctx's error when
// ctx is cancelled.
func MeanAbsSHAP(ctx context.Context, c Contributor, cols [][]float64) ([]float64, error) {
	nf := c.NumFeatures()
	if len(cols) != nf {
		return nil, fmt.Errorf("explain: table has %d feature columns, model has %d", len(cols), nf)
	}
	n := 0
	if nf > 0 {
		n = len(cols[0])
	}
	for j, col := range cols {
		if len(col) != n {
			return nil, fmt.Errorf("explain: column %d has %d rows, column 0 has %d", j, len(col), n)
		}
	}
	sum := make([]float64, nf)
	if n == 0 {
		return sum, nil
	}
	X := make([]float64, min(n, importanceBlock)*nf)
	out := make([]float64, min(n, importanceBlock)*(nf+1))
	batch, isBatch := c.(*Explainer)
	for lo := 0; lo < n; lo += importanceBlock {
		hi := min(lo+importanceBlock, n)
		rows := hi - lo
		for i := 0; i < rows; i++ {
			for j := 0; j < nf; j++ {
				X[i*nf+j] = cols[j][lo+i]
			}
		}
		if isBatch {
			if err := batch.ContributionsBatch(ctx, X[:rows*nf], out[:rows*(nf+1)]); err != nil {
				return nil, err
			}
		} else {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("explain: importance: %w", err)
			}
			for i := 0; i < rows; i++ {
				c.Contributions(X[i*nf:(i+1)*nf], out[i*(nf+1):(i+1)*(nf+1)])
			}
		}
		for i := 0; i < rows; i++ {
			for j := 0; j < nf; j++ {
				sum[j] += math.Abs(out[i*(nf+1)+j])
			}
		}
	}
	for j := range sum {
		sum[j] /= float64(n)
	}
	return sum, nil
}

// GlobalImportance ranks the features by mean absolute contribution over
// the table, with the total split gain alongside when e is not nil. Ties
// keep feature order.
func GlobalImportance(ctx context.Context, c Contributor, e *tree.Ensemble, names []string, cols [][]float64) ([]Importance, error) {
	if len(names) != c.NumFeatures() {
		return nil, fmt.Errorf("explain: %d feature names for a model with %d features", len(names), c.NumFeatures())
	}
	shap, err := MeanAbsSHAP(ctx, c, cols)
	if err != nil {
		return nil, err
	}
	var gain []float64
	if e != nil {
		if e.NumFeatures != len(names) {
			return nil, fmt.Errorf("explain: ensemble has %d features, %d names given", e.NumFeatures, len(names))
		}
		gain = TotalGain(e)
	}
	out := make([]Importance, len(names))
	for j, n := range names {
		out[j] = Importance{Feature: n, MeanAbsSHAP: shap[j]}
		if gain != nil {
			out[j].Gain = gain[j]
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].MeanAbsSHAP > out[b].MeanAbsSHAP })
	return out, nil
}
