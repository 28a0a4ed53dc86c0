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

// MeanAbsSHAP returns each feature's mean absolute contribution over the
// rows of a column-major table (cols[j][i] is feature j of row i, as in
// dataset.Table.Cols). Tree ensembles are explained on all cores; the
// result does not depend on their number. It stops with ctx's error when
// ctx is cancelled.
func MeanAbsSHAP(ctx context.Context, c Contributor, cols [][]float64) ([]float64, error) {
	nf := c.NumFeatures()
	total := make([]float64, nf)
	n := 0
	err := eachBlock(ctx, c, cols, func(_ int, out []float64) error {
		rows := len(out) / (nf + 1)
		for i := 0; i < rows; i++ {
			for j := 0; j < nf; j++ {
				total[j] += math.Abs(out[i*(nf+1)+j])
			}
		}
		n += rows
		return nil
	})
	if err != nil {
		return nil, err
	}
	for j := range total {
		if n > 0 {
			total[j] /= float64(n)
		}
	}
	return total, nil
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
