package dataset

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// columnOrder returns the written column order: keys, features, label.
func (t *Table) columnOrder() []string {
	var cols []string
	for _, k := range t.Keys {
		cols = append(cols, k.Name)
	}
	cols = append(cols, t.Names...)
	if t.Label != nil {
		cols = append(cols, t.LabelName)
	}
	return cols
}

// WriteCSV writes the table as CSV: key columns, features, then the label.
// Missing values are written empty; numbers in the shortest form that
// reads back exactly.
func WriteCSV(w io.Writer, t *Table) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(strings.Join(quoteAll(t.columnOrder()), ","))
	bw.WriteByte('\n')
	var b []byte
	for i := range t.rows {
		b = b[:0]
		sep := false
		comma := func() {
			if sep {
				b = append(b, ',')
			}
			sep = true
		}
		for _, k := range t.Keys {
			comma()
			b = append(b, quote(k.Values[i])...)
		}
		for _, c := range t.Cols {
			comma()
			b = appendNumber(b, c[i])
		}
		if t.Label != nil {
			comma()
			b = appendNumber(b, t.Label[i])
		}
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

func appendNumber(b []byte, v float64) []byte {
	if math.IsNaN(v) {
		return b
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// quote quotes a CSV field when it needs it.
func quote(s string) string {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func quoteAll(v []string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = quote(s)
	}
	return out
}

// WriteParquet writes the table as a flat Parquet file: keys as optional
// strings, features and the label as optional doubles (NaN as null). The
// column order is kept in the file's metadata so ReadParquet restores it.
func WriteParquet(w io.Writer, t *Table) error {
	group := parquet.Group{}
	for _, k := range t.Keys {
		group[k.Name] = parquet.Optional(parquet.String())
	}
	for _, n := range t.Names {
		group[n] = parquet.Optional(parquet.Leaf(parquet.DoubleType))
	}
	if t.Label != nil {
		group[t.LabelName] = parquet.Optional(parquet.Leaf(parquet.DoubleType))
	}
	schema := parquet.NewSchema("caserisk_table", group)
	order := t.columnOrder()
	pw := parquet.NewWriter(w, schema, parquet.KeyValueMetadata(orderKey, strings.Join(order, ",")),
		parquet.Compression(&parquet.Zstd))
	index := func(name string) int {
		leaf, _ := schema.Lookup(name)
		return leaf.ColumnIndex
	}
	keyIdx := make([]int, len(t.Keys))
	for j, k := range t.Keys {
		keyIdx[j] = index(k.Name)
	}
	featIdx := make([]int, len(t.Names))
	for j, n := range t.Names {
		featIdx[j] = index(n)
	}
	labelIdx := -1
	if t.Label != nil {
		labelIdx = index(t.LabelName)
	}
	num := func(v float64, col int) parquet.Value {
		if math.IsNaN(v) {
			return parquet.NullValue().Level(0, 0, col)
		}
		return parquet.DoubleValue(v).Level(0, 1, col)
	}
	const batch = 1024
	rows := make([]parquet.Row, 0, batch)
	flush := func() error {
		if _, err := pw.WriteRows(rows); err != nil {
			return fmt.Errorf("write parquet: %w", err)
		}
		rows = rows[:0]
		return nil
	}
	for i := range t.rows {
		row := make(parquet.Row, len(order))
		for j, k := range t.Keys {
			row[keyIdx[j]] = parquet.ByteArrayValue([]byte(k.Values[i])).Level(0, 1, keyIdx[j])
		}
		for j, c := range t.Cols {
			row[featIdx[j]] = num(c[i], featIdx[j])
		}
		if labelIdx >= 0 {
			row[labelIdx] = num(t.Label[i], labelIdx)
		}
		rows = append(rows, row)
		if len(rows) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	return nil
}
