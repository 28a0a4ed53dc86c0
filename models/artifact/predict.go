package artifact

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"

	"golang.org/x/sync/errgroup"

	"caserisk/models/calibrate"
	"caserisk/models/dataset"
	"caserisk/models/tree"
)

// batchRows is the number of rows one scoring task handles.
const batchRows = 8192

// Margin returns the model's raw output (log-odds) for one row x in the
// model's feature order (NaN marks a missing value).
func (m *Model) Margin(x []float64) float64 {
	if m.Algorithm == Logistic {
		return m.Logistic.Margin(m.Imputation.Row(x, nil))
	}
	return m.Ensemble.Margin(x)
}

// Prob maps a margin to the model's probability: the calibrator's when the
// model has one, the logistic sigmoid otherwise.
func (m *Model) Prob(margin float64) float64 {
	if m.Calibration != nil {
		return m.Calibration.Prob(margin)
	}
	return (&calibrate.Calibrator{Method: calibrate.None}).Prob(margin)
}

// Score returns the calibrated probability for one row x.
func (m *Model) Score(x []float64) float64 { return m.Prob(m.Margin(x)) }

// Row returns x with missing values replaced by the imputation values and
// the missing indicators appended, in dst (grown as needed).
func (imp *Imputation) Row(x, dst []float64) []float64 {
	n := len(imp.Values)
	need := n + len(imp.Indicators)
	if cap(dst) < need {
		dst = make([]float64, need)
	}
	dst = dst[:need]
	for j, v := range x[:n] {
		if math.IsNaN(v) {
			v = imp.Values[j]
		}
		dst[j] = v
	}
	for k, j := range imp.Indicators {
		dst[n+k] = 0
		if math.IsNaN(x[j]) {
			dst[n+k] = 1
		}
	}
	return dst
}

// Margins returns the margin of every row of t, after mapping the table's
// columns to the model's features with FeatureIndex. Rows are scored in
// parallel batches, gbdt ensembles with the compiled predictor
// (tree.Compile); the result does not depend on the number of threads.
func (m *Model) Margins(ctx context.Context, t *dataset.Table) ([]float64, error) {
	idx, err := m.FeatureIndex(t)
	if err != nil {
		return nil, err
	}
	var compiled *tree.Compiled
	if m.Algorithm == GBDT {
		if compiled, err = tree.Compile(m.Ensemble); err != nil {
			return nil, fmt.Errorf("score %s: %w", t.Source, err)
		}
	}
	out := make([]float64, t.Len())
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for lo := 0; lo < t.Len(); lo += batchRows {
		hi := min(lo+batchRows, t.Len())
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			if compiled != nil {
				cols := make([][]float64, len(idx))
				for j, c := range idx {
					cols[j] = t.Cols[c][lo:hi]
				}
				return compiled.MarginsColumns(cols, out[lo:hi])
			}
			x := make([]float64, len(idx))
			var buf []float64
			for i := lo; i < hi; i++ {
				for j, c := range idx {
					x[j] = t.Cols[c][i]
				}
				buf = m.Imputation.Row(x, buf)
				out[i] = m.Logistic.Margin(buf)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("score %s: %w", t.Source, err)
	}
	return out, nil
}

// Scores returns the margins of t's rows and their probabilities.
func (m *Model) Scores(ctx context.Context, t *dataset.Table) (probs, margins []float64, err error) {
	margins, err = m.Margins(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	probs = make([]float64, len(margins))
	for i, z := range margins {
		probs[i] = m.Prob(z)
	}
	return probs, margins, nil
}

// WriteScores writes one CSV line per row of t with encoding/csv: its key
// columns (ids and dates, but not the protected characteristics in
// t.Audit), then score (the calibrated probability) and margin (log-odds),
// each in the shortest form that reads back as the same float64.
func WriteScores(w io.Writer, t *dataset.Table, probs, margins []float64) error {
	if len(probs) != t.Len() || len(margins) != t.Len() {
		return fmt.Errorf("write scores: %d rows, %d scores, %d margins", t.Len(), len(probs), len(margins))
	}
	cw := csv.NewWriter(w)
	var keys []dataset.KeyColumn
	rec := []string{}
	for _, k := range t.Keys {
		if !slices.Contains(t.Audit, k.Name) {
			keys = append(keys, k)
			rec = append(rec, k.Name)
		}
	}
	if err := cw.Write(append(rec, "score", "margin")); err != nil {
		return fmt.Errorf("write scores: %w", err)
	}
	for i := range t.Len() {
		rec = rec[:0]
		for _, k := range keys {
			rec = append(rec, k.Values[i])
		}
		rec = append(rec, strconv.FormatFloat(probs[i], 'g', -1, 64), strconv.FormatFloat(margins[i], 'g', -1, 64))
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write scores: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write scores: %w", err)
	}
	return nil
}
