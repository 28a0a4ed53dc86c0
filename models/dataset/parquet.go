package dataset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// orderKey is the Parquet key-value metadata entry in which WriteParquet
// records the column order (Parquet groups list their fields by name).
const orderKey = "caserisk.columns"

// leafKind is how a Parquet leaf column is read.
type leafKind int

const (
	leafNumber leafKind = iota // boolean, integer or floating point
	leafDate                   // INT32 with the DATE logical type
	leafText                   // byte array: parsed like a CSV cell
)

func readParquetFile(ctx context.Context, path string, o Options) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read table: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read table: %w", err)
	}
	return ReadParquet(ctx, filepath.Base(path), f, st.Size(), o)
}

// ReadParquet reads a flat Parquet table; source names it in errors, which
// give the 1-based data row and the column of a bad value. Numeric and
// boolean columns are read as numbers, DATE columns as ISO dates, and text
// columns are parsed as a CSV cell would be.
func ReadParquet(ctx context.Context, source string, r io.ReaderAt, size int64, o Options) (t *Table, err error) {
	// parquet-go can panic on a corrupted file; report it as a bad input.
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("%s: corrupt parquet file: %v", source, p)
		}
	}()
	pf, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: open parquet: %w", source, err)
	}
	paths := pf.Schema().Columns()
	header := make([]string, len(paths))
	kinds := make([]leafKind, len(paths))
	for j, p := range paths {
		if len(p) != 1 {
			return nil, fmt.Errorf("%s: column %s is nested; only flat tables are supported", source, strings.Join(p, "."))
		}
		header[j] = p[0]
		leaf, _ := pf.Schema().Lookup(p...)
		if leaf.MaxRepetitionLevel > 0 {
			return nil, fmt.Errorf("%s: column %s is repeated; only flat tables are supported", source, p[0])
		}
		typ := leaf.Node.Type()
		switch typ.Kind() {
		case parquet.Boolean, parquet.Int32, parquet.Int64, parquet.Float, parquet.Double:
			kinds[j] = leafNumber
			if lt := typ.LogicalType(); lt != nil {
				if _, ok := lt.Value.(*format.DateType); ok {
					kinds[j] = leafDate
				}
			}
		case parquet.ByteArray, parquet.FixedLenByteArray:
			kinds[j] = leafText
		default:
			return nil, fmt.Errorf("%s: column %s has unsupported type %s", source, p[0], typ)
		}
	}
	roles, err := plan(source, header, o)
	if err != nil {
		return nil, err
	}
	rows := int(pf.NumRows())
	if rows < 0 {
		return nil, fmt.Errorf("%s: the footer claims %d rows", source, rows)
	}
	// Columns grow as rows arrive rather than trusting the footer's count
	// for one allocation: a corrupted footer must not exhaust memory.
	a := &assembled{header: header, roles: roles, audit: o.Audit, nums: make([][]float64, len(header)), strs: make([][]string, len(header))}
	stats := make([]colStats, len(header))
	for j, r := range roles {
		stats[j] = newColStats()
		switch {
		case r == roleKey || (r == roleFeature && kinds[j] == leafDate):
			a.strs[j] = []string{}
			a.roles[j] = roleKey
		case r == roleFeature && kinds[j] == leafText:
			a.nums[j] = []float64{}
			a.strs[j] = []string{} // kept in case it is a date column
		case r == roleFeature || r == roleLabel:
			a.nums[j] = []float64{}
		}
	}
	grow := func(n int) {
		for j := range a.nums {
			if a.nums[j] != nil {
				a.nums[j] = append(a.nums[j], make([]float64, n)...)
			}
			if a.strs[j] != nil {
				a.strs[j] = append(a.strs[j], make([]string, n)...)
			}
		}
	}

	reader := parquet.NewReader(pf)
	defer reader.Close()
	buf := make([]parquet.Row, 1024)
	var scratch []byte
	row := 0
	for row < rows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := reader.ReadRows(buf)
		if n+row > rows {
			return nil, fmt.Errorf("%s: more rows than the footer's %d", source, rows)
		}
		if n == 0 && err == nil {
			return nil, fmt.Errorf("%s: row %d: the reader makes no progress; the file is corrupt", source, row+1)
		}
		grow(n)
		for _, pr := range buf[:n] {
			for _, v := range pr {
				j := v.Column()
				if j < 0 || j >= len(header) {
					return nil, fmt.Errorf("%s: row %d: value for unknown column %d", source, row+1, j)
				}
				switch a.roles[j] {
				case roleKey:
					a.strs[j][row] = parquetString(v, kinds[j])
				case roleFeature:
					if kinds[j] == leafText {
						scratch = append(scratch[:0], v.ByteArray()...)
						if v.IsNull() {
							scratch = scratch[:0]
						}
						stats[j].cell(a.nums[j], row, scratch)
						a.strs[j][row] = string(trimSpace(scratch))
					} else {
						a.nums[j][row] = parquetNumber(v)
					}
				case roleLabel:
					var (
						y  float64
						ok bool
					)
					if kinds[j] == leafText {
						y, ok = parseLabel(v.ByteArray())
					} else {
						y = parquetNumber(v)
						ok = math.IsNaN(y) || y == 0 || y == 1
					}
					if !ok {
						return nil, fmt.Errorf("%s: row %d, column %s: label value %q is not 0, 1 or empty",
							source, row+1, header[j], parquetString(v, kinds[j]))
					}
					a.nums[j][row] = y
				}
			}
			row++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: row %d: %w", source, row+1, err)
		}
	}
	if row != rows {
		return nil, fmt.Errorf("%s: read %d rows, but the footer says %d", source, row, rows)
	}
	for j, r := range a.roles {
		if r != roleFeature || kinds[j] != leafText {
			continue
		}
		isDate, ce := stats[j].decide(header[j])
		if ce != nil {
			return nil, fmt.Errorf("%s: row %d, column %s: value %q %s", source, ce.row+1, ce.column, ce.value, ce.why)
		}
		if isDate {
			a.roles[j], a.nums[j] = roleKey, nil
		} else {
			a.strs[j] = nil
		}
	}
	if order, ok := pf.Lookup(orderKey); ok {
		reorder(a, strings.Split(order, ","))
	}
	return a.table(source, rows, o.Label), nil
}

// parquetNumber converts a numeric Parquet value; null is NaN.
func parquetNumber(v parquet.Value) float64 {
	if v.IsNull() {
		return math.NaN()
	}
	switch v.Kind() {
	case parquet.Boolean:
		if v.Boolean() {
			return 1
		}
		return 0
	case parquet.Int32:
		return float64(v.Int32())
	case parquet.Int64:
		return float64(v.Int64())
	case parquet.Float:
		return widen(v.Float())
	}
	return v.Double()
}

// widen converts a float32 to the float64 of its shortest decimal form, so
// that 98.4 stored as FLOAT reads as 98.4 (as the same value in a CSV file
// does) rather than 98.4000015258789.
func widen(f float32) float64 {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return float64(f)
	}
	var buf [32]byte
	v, err := strconv.ParseFloat(string(strconv.AppendFloat(buf[:0], float64(f), 'g', -1, 32)), 64)
	if err != nil {
		return float64(f)
	}
	return v
}

// parquetString renders a Parquet value as a key string.
func parquetString(v parquet.Value, k leafKind) string {
	switch {
	case v.IsNull():
		return ""
	case k == leafDate:
		return time.Unix(int64(v.Int32())*86400, 0).UTC().Format(time.DateOnly)
	case k == leafText:
		return string(trimSpace(v.ByteArray()))
	}
	return strconv.FormatFloat(parquetNumber(v), 'f', -1, 64)
}

// reorder puts the columns in the recorded order when it names exactly the
// file's columns; otherwise the schema's order stands.
func reorder(a *assembled, order []string) {
	if len(order) != len(a.header) || !slices.Equal(sortedCopy(order), sortedCopy(a.header)) {
		return
	}
	idx := make([]int, len(order))
	for i, name := range order {
		idx[i] = slices.Index(a.header, name)
	}
	b := assembled{header: order, audit: a.audit}
	for _, j := range idx {
		b.roles = append(b.roles, a.roles[j])
		b.nums = append(b.nums, a.nums[j])
		b.strs = append(b.strs, a.strs[j])
	}
	*a = b
}
