package explain

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// tableBlock is how many rows the table functions explain at a time, so
// that a large table never needs its whole contribution matrix in memory.
const tableBlock = 4096

// eachBlock explains a column-major table (cols[j][i] is feature j of row
// i, as in dataset.Table.Cols) block by block, calling f with the first row
// of the block and its contributions (rows × (nf+1), row-major). Tree
// ensembles are explained on all cores.
func eachBlock(ctx context.Context, c Contributor, cols [][]float64, f func(lo int, out []float64) error) error {
	nf := c.NumFeatures()
	if len(cols) != nf {
		return fmt.Errorf("explain: table has %d feature columns, model has %d", len(cols), nf)
	}
	n := 0
	if nf > 0 {
		n = len(cols[0])
	}
	for j, col := range cols {
		if len(col) != n {
			return fmt.Errorf("explain: column %d has %d rows, column 0 has %d", j, len(col), n)
		}
	}
	X := make([]float64, min(n, tableBlock)*nf)
	out := make([]float64, min(n, tableBlock)*(nf+1))
	batch, isBatch := c.(*Explainer)
	for lo := 0; lo < n; lo += tableBlock {
		rows := min(lo+tableBlock, n) - lo
		for i := 0; i < rows; i++ {
			for j := 0; j < nf; j++ {
				X[i*nf+j] = cols[j][lo+i]
			}
		}
		if isBatch {
			if err := batch.ContributionsBatch(ctx, X[:rows*nf], out[:rows*(nf+1)]); err != nil {
				return err
			}
		} else {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("explain: rows %d to %d: %w", lo, lo+rows, err)
			}
			for i := 0; i < rows; i++ {
				c.Contributions(X[i*nf:(i+1)*nf], out[i*(nf+1):(i+1)*(nf+1)])
			}
		}
		if err := f(lo, out[:rows*(nf+1)]); err != nil {
			return err
		}
	}
	return nil
}

// CSVOptions configures WriteCSV.
type CSVOptions struct {
	// Infos describe the model's features, in model order; their names head
	// the contribution columns and their metadata phrases the reasons.
	Infos []FeatureInfo
	// KeyNames and Keys are identifier columns copied to the front of each
	// line (Keys[k][i] is key column k of row i), e.g. resident_id, as_of.
	KeyNames []string
	Keys     [][]string
	// Scores, when set, are the rows' calibrated probabilities, written in
	// a score column before the margin.
	Scores []float64
	// Contributions writes one contribution column per feature (headed
	// shap_NAME) and the bias (shap_bias) last: XGBoost's pred_contribs
	// layout.
	Contributions bool
	// Reasons is how many raising and how many lowering reasons to write
	// per row; 0 writes none.
	Reasons int
	// AsOf, when set, holds each row's as-of date, which the reasons count
	// dates back from; without it day counts read as durations before the
	// score date.
	AsOf []time.Time
}

// WriteCSV explains every row of a column-major table and writes one CSV
// line per row: the key columns, the score (with Scores), the margin, with
// Contributions one contribution per feature (shap_NAME) and the bias
// (shap_bias), and with Reasons > 0 the reason sentences (raising_1..K,
// lowering_1..K; empty where there are fewer). The contribution columns are
// for analysts; the reason columns are the ones to show to caseworkers.
func WriteCSV(ctx context.Context, w io.Writer, c Contributor, cols [][]float64, o CSVOptions) error {
	nf := c.NumFeatures()
	if len(o.Infos) != nf {
		return fmt.Errorf("explain: %d feature descriptions for a model with %d features", len(o.Infos), nf)
	}
	if len(o.KeyNames) != len(o.Keys) {
		return fmt.Errorf("explain: %d key names for %d key columns", len(o.KeyNames), len(o.Keys))
	}
	for k, col := range o.Keys {
		if nf > 0 && len(col) != len(cols[0]) {
			return fmt.Errorf("explain: key column %s has %d rows, the table %d", o.KeyNames[k], len(col), len(cols[0]))
		}
	}
	if o.Scores != nil && nf > 0 && len(o.Scores) != len(cols[0]) {
		return fmt.Errorf("explain: %d scores for a table of %d rows", len(o.Scores), len(cols[0]))
	}
	if o.AsOf != nil && nf > 0 && len(o.AsOf) != len(cols[0]) {
		return fmt.Errorf("explain: %d as-of dates for a table of %d rows", len(o.AsOf), len(cols[0]))
	}
	phr := NewPhrasing(o.Infos)
	cw := csv.NewWriter(w)
	head := append([]string(nil), o.KeyNames...)
	if o.Scores != nil {
		head = append(head, "score")
	}
	head = append(head, "margin")
	if o.Contributions {
		for _, f := range o.Infos {
			head = append(head, "shap_"+f.Name)
		}
		head = append(head, "shap_bias")
	}
	for _, kind := range []string{"raising", "lowering"} {
		for r := 1; r <= o.Reasons; r++ {
			head = append(head, kind+"_"+strconv.Itoa(r))
		}
	}
	if err := cw.Write(head); err != nil {
		return fmt.Errorf("explain: write CSV: %w", err)
	}
	x := make([]float64, nf)
	rec := make([]string, len(head))
	err := eachBlock(ctx, c, cols, func(lo int, out []float64) error {
		for i := 0; i < len(out)/(nf+1); i++ {
			phi := out[i*(nf+1) : (i+1)*(nf+1)]
			rec = rec[:0]
			for _, k := range o.Keys {
				rec = append(rec, k[lo+i])
			}
			if o.Scores != nil {
				rec = append(rec, formatFloat(o.Scores[lo+i]))
			}
			rec = append(rec, formatFloat(sum(phi)))
			if o.Contributions {
				for _, v := range phi {
					rec = append(rec, formatFloat(v))
				}
			}
			if o.Reasons > 0 {
				for j := range x {
					x[j] = cols[j][lo+i]
				}
				var asOf time.Time
				if o.AsOf != nil {
					asOf = o.AsOf[lo+i]
				}
				e := phr.Explain(x, phi, o.Reasons, asOf)
				for _, rs := range [][]Reason{e.Raising, e.Lowering} {
					for r := 0; r < o.Reasons; r++ {
						if r < len(rs) {
							rec = append(rec, rs[r].Text)
						} else {
							rec = append(rec, "")
						}
					}
				}
			}
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("explain: write CSV: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("explain: write CSV: %w", err)
	}
	return nil
}

// formatFloat writes v exactly, and negative zero as 0.
func formatFloat(v float64) string {
	if v == 0 {
		v = 0
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}
