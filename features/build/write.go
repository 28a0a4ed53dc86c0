package build

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
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

// appendValue formats a value: empty for NaN, at most 4 decimals (2 for
// GBP), without trailing zeros.
func appendValue(b []byte, v float64, unit string) []byte {
	if math.IsNaN(v) {
		return b
	}
	prec := 4
	if unit == "GBP" {
		prec = 2
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	p := math.Pow(10, float64(prec))
	return strconv.AppendFloat(b, math.Round(v*p)/p, 'f', -1, 64)
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
		for j, v := range t.Values[i*nf : (i+1)*nf] {
			b = append(b, ',')
			b = appendValue(b, v, t.Features[j].Unit)
		}
		for _, v := range t.LabelValues[i*nl : (i+1)*nl] {
			b = append(b, ',')
			b = appendValue(b, v, "")
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

// WriteParquet writes the table as Parquet (Snappy): ids and audit columns
// as strings, as_of as a string date, features and labels as optional
// doubles (null where empty). Columns appear in name order.
func (t *Table) WriteParquet(w io.Writer) error {
	group := parquet.Group{}
	for _, id := range t.IDNames() {
		if id == "uprn" {
			group[id] = parquet.Optional(parquet.Int(64))
		} else {
			group[id] = parquet.String()
		}
	}
	for _, f := range t.Features {
		group[f.Name] = parquet.Optional(parquet.Leaf(parquet.DoubleType))
	}
	for _, l := range t.Labels {
		group[l] = parquet.Optional(parquet.Leaf(parquet.DoubleType))
	}
	for _, a := range t.Audit {
		group[a] = parquet.String()
	}
	schema := parquet.NewSchema("features", group)
	col := func(name string) int {
		leaf, ok := schema.Lookup(name)
		if !ok {
			panic("parquet schema lacks " + name)
		}
		return leaf.ColumnIndex
	}
	ids := t.IDNames()
	idCol := make([]int, len(ids))
	for k, id := range ids {
		idCol[k] = col(id)
	}
	fCol := make([]int, len(t.Features))
	for j, f := range t.Features {
		fCol[j] = col(f.Name)
	}
	lCol := make([]int, len(t.Labels))
	for j, l := range t.Labels {
		lCol[j] = col(l)
	}
	aCol := make([]int, len(t.Audit))
	for j, a := range t.Audit {
		aCol[j] = col(a)
	}
	pw := parquet.NewWriter(w, schema, parquet.Compression(&parquet.Snappy))
	ncol := len(schema.Columns())
	nf, nl, na := len(t.Features), len(t.Labels), len(t.Audit)
	double := func(v float64, c int) parquet.Value {
		if math.IsNaN(v) {
			return parquet.NullValue().Level(0, 0, c)
		}
		return parquet.DoubleValue(v).Level(0, 1, c)
	}
	const batch = 1024
	rows := make([]parquet.Row, 0, batch)
	var dates [][]byte
	for _, d := range t.AsOf {
		dates = append(dates, []byte(d.String()))
	}
	for i := range t.Res {
		row := make(parquet.Row, ncol)
		for k, id := range ids {
			c := idCol[k]
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
				row[c] = parquet.ByteArrayValue(dates[t.AsOfIdx[i]]).Level(0, 0, c)
			}
		}
		for j, v := range t.Values[i*nf : (i+1)*nf] {
			row[fCol[j]] = double(v, fCol[j])
		}
		for j, v := range t.LabelValues[i*nl : (i+1)*nl] {
			row[lCol[j]] = double(v, lCol[j])
		}
		for j, s := range t.AuditValues[i*na : (i+1)*na] {
			row[aCol[j]] = parquet.ByteArrayValue([]byte(s)).Level(0, 0, aCol[j])
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

// WriteFiles writes the table to path (Parquet when path ends in
// .parquet, CSV otherwise), with path.meta.json and path.rejects.csv
// beside it. The table is written to a temporary file first and renamed,
// so a failed build leaves no half-written table.
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
	body := t.WriteCSV
	if strings.HasSuffix(strings.ToLower(path), ".parquet") {
		body = t.WriteParquet
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
