package explain

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
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
	bw := bufio.NewWriterSize(w, 1<<16)
	line := []byte(nil)
	for i, h := range head {
		if i > 0 {
			line = append(line, ',')
		}
		line = appendCSVField(line, h)
	}
	if _, err := bw.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("explain: write CSV: %w", err)
	}
	// Each block's lines are formatted in parallel, in chunks of rows, and
	// written in order.
	const chunkRows = 256
	workers := runtime.GOMAXPROCS(0)
	var bufs [][]byte
	err := eachBlock(ctx, c, cols, func(lo int, out []float64) error {
		rows := len(out) / (nf + 1)
		nchunks := (rows + chunkRows - 1) / chunkRows
		bufs = slices.Grow(bufs[:0], nchunks)[:nchunks]
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(workers, nchunks) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				x := make([]float64, nf)
				for k := int(next.Add(1) - 1); k < nchunks; k = int(next.Add(1) - 1) {
					b := bufs[k][:0]
					for i := k * chunkRows; i < min((k+1)*chunkRows, rows); i++ {
						b = appendExplainedLine(b, &o, phr, cols, lo+i, out[i*(nf+1):(i+1)*(nf+1)], x)
					}
					bufs[k] = b
				}
			}()
		}
		wg.Wait()
		for _, b := range bufs {
			if _, err := bw.Write(b); err != nil {
				return fmt.Errorf("explain: write CSV: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("explain: write CSV: %w", err)
	}
	return nil
}

// appendExplainedLine appends row i's CSV line: keys, score, margin,
// contributions and reasons as WriteCSV describes. x is scratch of one
// value per feature.
func appendExplainedLine(b []byte, o *CSVOptions, phr *Phrasing, cols [][]float64, i int, phi, x []float64) []byte {
	first := true
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	for _, k := range o.Keys {
		sep()
		b = appendCSVField(b, k[i])
	}
	if o.Scores != nil {
		sep()
		b = appendFloat(b, o.Scores[i])
	}
	sep()
	b = appendFloat(b, sum(phi))
	if o.Contributions {
		for _, v := range phi {
			b = appendFloat(append(b, ','), v)
		}
	}
	if o.Reasons > 0 {
		for j := range x {
			x[j] = cols[j][i]
		}
		var asOf time.Time
		if o.AsOf != nil {
			asOf = o.AsOf[i]
		}
		e := phr.Explain(x, phi, o.Reasons, asOf)
		for _, rs := range [][]Reason{e.Raising, e.Lowering} {
			for r := 0; r < o.Reasons; r++ {
				b = append(b, ',')
				if r < len(rs) {
					b = appendCSVField(b, rs[r].Text)
				}
			}
		}
	}
	return append(b, '\n')
}

// appendCSVField appends a text field as encoding/csv's Writer writes it:
// quoted, with quotes doubled, when it holds a comma, a quote, a line
// break or starts with a space, or is \. (so that the output is byte for
// byte the same as csv.Writer's).
func appendCSVField(b []byte, f string) []byte {
	needs := f == `\.`
	if !needs && f != "" {
		needs = strings.ContainsAny(f, ",\"\r\n")
		if !needs {
			r, _ := utf8.DecodeRuneInString(f)
			needs = unicode.IsSpace(r)
		}
	}
	if !needs {
		return append(b, f...)
	}
	b = append(b, '"')
	for i := 0; i < len(f); i++ {
		if f[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, f[i])
	}
	return append(b, '"')
}

// appendFloat appends v exactly (the shortest decimal that reads back as
// v), and negative zero as 0.
func appendFloat(b []byte, v float64) []byte {
	if v == 0 {
		v = 0
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}
