package build

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"caserisk/features/contract"
)

// Meta is the table's metadata, written beside it as FILE.meta.json.
// Trainers use Features as the model inputs and ignore IDs and Audit.
type Meta struct {
	Format          string        `json:"format"`
	FormatVersion   int           `json:"format_version"`
	ContractVersion string        `json:"contract_version"`
	SpecSHA256      string        `json:"spec_sha256"`
	Entity          string        `json:"entity"`
	AsOf            []string      `json:"as_of"`
	ExtractDate     string        `json:"extract_date"`
	LabelsAvailable []string      `json:"labels_available_for"`
	IDs             []string      `json:"ids"`
	Labels          []string      `json:"labels"`
	Audit           []string      `json:"audit"`
	Rows            int           `json:"rows"`
	Features        []FeatureMeta `json:"features"`
	Inputs          []InputReport `json:"inputs"`
}

// Meta returns the table's metadata.
func (t *Table) Meta() Meta {
	m := Meta{Format: "caserisk-features", FormatVersion: 1, ContractVersion: contract.Version,
		SpecSHA256: t.SpecSHA256, Entity: t.Entity, ExtractDate: t.ExtractDate.String(),
		IDs: t.IDNames(), Labels: t.Labels, Audit: t.Audit, Rows: t.Rows(), Features: t.Features,
		Inputs: t.Inputs, LabelsAvailable: []string{}}
	for k, d := range t.AsOf {
		m.AsOf = append(m.AsOf, d.String())
		if t.LabelsAvailable[k] {
			m.LabelsAvailable = append(m.LabelsAvailable, d.String())
		}
	}
	return m
}

// Header returns the table's column names in output order: ids, features, labels, audit.
func (t *Table) Header() []string {
	h := t.IDNames()
	for _, f := range t.Features {
		h = append(h, f.Name)
	}
	h = append(h, t.Labels...)
	return append(h, t.Audit...)
}

// Decimals returns the number of decimals a feature of the given unit is
// rounded to when it is computed: 2 for GBP, 4 for anything else (whole
// numbers stay whole). The rounding is applied once, to the values in the
// table, so the table in memory, its CSV and its Parquet hold the same
// float64 values; see Round.
func Decimals(unit string) int {
	if unit == "GBP" {
		return 2
	}
	return 4
}

// Round rounds v to the given number of decimals: the float64 nearest to
// the decimal, which is also what strconv.ParseFloat gives for the
// decimal's shortest text, so a rounded value written as text reads back
// bit for bit. Zero is always +0 ("-0" and "0" read back as different
// bits); NaN, infinities, whole numbers and values too large to carry
// decimals are returned as they are.
func Round(v float64, decimals int) float64 {
	if v == 0 {
		return 0
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v == math.Trunc(v) {
		return v
	}
	p := math.Pow10(decimals)
	s := v * p
	if math.Abs(s) >= 1<<52 {
		return v
	}
	if r := math.Round(s) / p; r != 0 {
		return r
	}
	return 0
}

// appendValue formats a value: empty for NaN, otherwise the shortest
// decimal that reads back as the same float64 (strconv's 'f', -1), so the
// CSV holds exactly the values of the table and of its Parquet copy.
func appendValue(b []byte, v float64) []byte {
	if math.IsNaN(v) {
		return b
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// csvQuote appends s as one CSV field, quoting it when needed (RFC 4180).
func csvQuote(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\n\r") {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

// WriteCSV writes the table as CSV with a header row.
func (t *Table) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var b []byte
	for i, h := range t.Header() {
		if i > 0 {
			b = append(b, ',')
		}
		b = csvQuote(b, h)
	}
	b = append(b, '\n')
	nf, nl, na := len(t.Features), len(t.Labels), len(t.Audit)
	tenancy := t.Ten != nil
	for i := range t.Res {
		if tenancy {
			b = csvQuote(b, t.TenancyID(i))
			b = append(b, ',')
		}
		b = csvQuote(b, t.ResidentID(i))
		b = append(b, ',')
		if u := t.UPRN[i]; u != 0 {
			b = strconv.AppendInt(b, u, 10)
		}
		b = append(b, ',')
		b = t.AsOf[t.AsOfIdx[i]].AppendFormat(b)
		for _, v := range t.Values[i*nf : (i+1)*nf] {
			b = append(b, ',')
			b = appendValue(b, v)
		}
		for _, v := range t.LabelValues[i*nl : (i+1)*nl] {
			b = append(b, ',')
			b = appendValue(b, v)
		}
		for _, s := range t.AuditValues[i*na : (i+1)*na] {
			b = append(b, ',')
			b = csvQuote(b, s)
		}
		b = append(b, '\n')
		if len(b) > 1<<16 {
			if _, err := bw.Write(b); err != nil {
				return fmt.Errorf("write features CSV: %w", err)
			}
			b = b[:0]
		}
	}
	if _, err := bw.Write(b); err != nil {
		return fmt.Errorf("write features CSV: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write features CSV: %w", err)
	}
	return nil
}

// parquetSchema returns the table's Parquet schema, its columns in the
// order of the CSV header (Header): ids, features, labels, audit. A
// parquet.Group lists its fields by name, so the schema is taken from a
// struct type made for the table, whose fields keep their order.
func (t *Table) parquetSchema() *parquet.Schema {
	var fields []reflect.StructField
	add := func(name string, typ reflect.Type, opts string) {
		fields = append(fields, reflect.StructField{Name: fmt.Sprintf("C%d", len(fields)), Type: typ,
			Tag: reflect.StructTag(`parquet:"` + name + opts + `"`)})
	}
	text, number := reflect.TypeFor[string](), reflect.TypeFor[*float64]()
	for _, id := range t.IDNames() {
		switch id {
		case "uprn":
			add(id, reflect.TypeFor[*int64](), ",optional")
		case "as_of":
			add(id, reflect.TypeFor[int32](), ",date")
		default:
			add(id, text, "")
		}
	}
	for _, f := range t.Features {
		add(f.Name, number, ",optional")
	}
	for _, l := range t.Labels {
		add(l, number, ",optional")
	}
	for _, a := range t.Audit {
		add(a, text, "")
	}
	return parquet.SchemaOf(reflect.New(reflect.StructOf(fields)).Interface())
}

// WriteParquet writes the table as Parquet (Snappy) with the columns of the
// CSV in the same order: ids and audit columns as strings, uprn as an
// optional INT64, as_of as a DATE, features and labels as optional DOUBLEs
// (null where empty) holding the same float64 values as the CSV's text.
func (t *Table) WriteParquet(w io.Writer) error {
	schema := t.parquetSchema()
	ncol := len(schema.Columns())
	if ncol != len(t.Header()) {
		return fmt.Errorf("write features Parquet: schema has %d columns, the table %d", ncol, len(t.Header()))
	}
	pw := parquet.NewWriter(w, schema, parquet.Compression(&parquet.Snappy))
	ids := t.IDNames()
	nid, nf, nl, na := len(ids), len(t.Features), len(t.Labels), len(t.Audit)
	double := func(v float64, c int) parquet.Value {
		if math.IsNaN(v) {
			return parquet.NullValue().Level(0, 0, c)
		}
		return parquet.DoubleValue(v).Level(0, 1, c)
	}
	dates := make([]int32, len(t.AsOf))
	for k, d := range t.AsOf {
		dates[k] = int32(d) // days since 1970-01-01, as DATE counts them
	}
	const batch = 1024
	rows := make([]parquet.Row, 0, batch)
	for i := range t.Res {
		row := make(parquet.Row, ncol)
		for c, id := range ids {
			switch id {
			case "tenancy_id":
				row[c] = parquet.ByteArrayValue([]byte(t.TenancyID(i))).Level(0, 0, c)
			case "resident_id":
				row[c] = parquet.ByteArrayValue([]byte(t.ResidentID(i))).Level(0, 0, c)
			case "uprn":
				if u := t.UPRN[i]; u != 0 {
					row[c] = parquet.Int64Value(u).Level(0, 1, c)
				} else {
					row[c] = parquet.NullValue().Level(0, 0, c)
				}
			case "as_of":
				row[c] = parquet.Int32Value(dates[t.AsOfIdx[i]]).Level(0, 0, c)
			}
		}
		for j, v := range t.Values[i*nf : (i+1)*nf] {
			c := nid + j
			row[c] = double(v, c)
		}
		for j, v := range t.LabelValues[i*nl : (i+1)*nl] {
			c := nid + nf + j
			row[c] = double(v, c)
		}
		for j, s := range t.AuditValues[i*na : (i+1)*na] {
			c := nid + nf + nl + j
			row[c] = parquet.ByteArrayValue([]byte(s)).Level(0, 0, c)
		}
		rows = append(rows, row)
		if len(rows) == batch || i == len(t.Res)-1 {
			if _, err := pw.WriteRows(rows); err != nil {
				return fmt.Errorf("write features Parquet: %w", err)
			}
			rows = rows[:0]
		}
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("write features Parquet: %w", err)
	}
	return nil
}

// WriteRejects writes the rows not used, with file, line, column, value and reason.
func (t *Table) WriteRejects(w io.Writer) error {
	bw := bufio.NewWriter(w)
	var b []byte
	b = append(b, strings.Join(contract.RejectsHeader(), ",")...)
	b = append(b, '\n')
	for _, e := range t.Rejects {
		for k, v := range e.Record() {
			if k > 0 {
				b = append(b, ',')
			}
			b = csvQuote(b, v)
		}
		b = append(b, '\n')
		if len(b) > 1<<16 {
			bw.Write(b)
			b = b[:0]
		}
	}
	bw.Write(b)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write rejects: %w", err)
	}
	return nil
}

// WriteFiles writes the table to path, as Parquet when it ends in
// .parquet and as CSV when it ends in .csv (any other extension is an
// error), with path.meta.json and path.rejects.csv beside it. The table is
// written to a temporary file first and renamed, so a failed build leaves
// no half-written table.
func (t *Table) WriteFiles(path string) error {
	write := func(p string, fn func(io.Writer) error) error {
		tmp, err := os.CreateTemp(filepath.Dir(p), ".caserisk-*")
		if err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		defer os.Remove(tmp.Name())
		if err := fn(tmp); err != nil {
			tmp.Close()
			return fmt.Errorf("write %s: %w", p, err)
		}
		if err := tmp.Chmod(0o644); err != nil {
			tmp.Close()
			return fmt.Errorf("write %s: %w", p, err)
		}
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if err := os.Rename(tmp.Name(), p); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		return nil
	}
	var body func(io.Writer) error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		body = t.WriteCSV
	case ".parquet":
		body = t.WriteParquet
	default:
		return fmt.Errorf("write %s: the extension %q is neither .csv nor .parquet", path, filepath.Ext(path))
	}
	if err := write(path, body); err != nil {
		return err
	}
	if err := write(path+".meta.json", func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(t.Meta())
	}); err != nil {
		return err
	}
	return write(path+".rejects.csv", t.WriteRejects)
}

// Files returns what reading each input file gave (rows read, rejected,
// lines lost, fault), in contract order: the per-file summary every
// command that reads extracts prints (contract.WriteSummary).
func (t *Table) Files() []contract.FileCount {
	out := make([]contract.FileCount, len(t.Inputs))
	for i, in := range t.Inputs {
		out[i] = fileCount(in.File, in)
	}
	return out
}

func fileCount(name string, in InputReport) contract.FileCount {
	return contract.FileCount{File: name, Present: in.Present, Rows: in.RowsRead, Rejected: in.Rejected, Lost: in.Lost, Fault: in.Fault}
}

// Summary writes the per-file summary of the files read
// (contract.WriteSummary), then what the build did with the rows read:
// used, duplicates, unknown residents, out of span, unknown UPRNs.
func (t *Table) Summary(w io.Writer) {
	contract.WriteSummary(w, t.Files())
	fmt.Fprintf(w, "\n%-30s %9s %6s %8s %8s %7s\n", "file", "used", "dups", "unknown", "span", "uprn?")
	for _, in := range t.Inputs {
		if !in.Present {
			continue
		}
		fmt.Fprintf(w, "%-30s %9d %6d %8d %8d %7d\n", in.File, in.RowsUsed, in.Duplicates, in.UnknownResident, in.OutOfSpan, in.UnknownUPRN)
	}
	fmt.Fprintf(w, "%d rows × %d features (%s), as of %d date(s); extract date %s\n", t.Rows(), len(t.Features), t.Entity, len(t.AsOf), t.ExtractDate)
	for k, d := range t.AsOf {
		if !t.LabelsAvailable[k] {
			fmt.Fprintf(w, "labels empty for as-of %s: the data does not reach %s\n", d, d.AddMonths(contract.LabelHorizonMonths))
		}
	}
}
