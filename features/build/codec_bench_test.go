package build

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"testing"
	"time"

	"caserisk/features/contract"
	"caserisk/features/spec"
)

// writeCSVWithEncodingCSV is Table.WriteCSV written with encoding/csv, the
// library way it is measured against: the same cells, one []string a row.
func (t *Table) writeCSVWithEncodingCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header()); err != nil {
		return err
	}
	nf, nl, na := len(t.Features), len(t.Labels), len(t.Audit)
	rec := make([]string, 0, len(t.Header()))
	var b []byte
	num := func(v float64) string {
		b = appendValue(b[:0], v)
		return string(b)
	}
	for i := range t.Res {
		rec = rec[:0]
		if t.Ten != nil {
			rec = append(rec, t.TenancyID(i))
		}
		uprn := ""
		if u := t.UPRN[i]; u != 0 {
			uprn = strconv.FormatInt(u, 10)
		}
		rec = append(rec, t.ResidentID(i), uprn, t.AsOf[t.AsOfIdx[i]].String())
		for _, v := range t.Values[i*nf : (i+1)*nf] {
			rec = append(rec, num(v))
		}
		for _, v := range t.LabelValues[i*nl : (i+1)*nl] {
			rec = append(rec, num(v))
		}
		rec = append(rec, t.AuditValues[i*na:(i+1)*na]...)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// BenchmarkWriteCSVVsEncodingCSV measures why Table.WriteCSV is
// hand-written: a resident table of the test borough as of eight dates,
// written by both (their outputs byte for byte the same), medians of five
// and their ratio.
func BenchmarkWriteCSVVsEncodingCSV(b *testing.B) {
	dir, err := borough()
	if err != nil {
		b.Fatal(err)
	}
	var asOf []contract.Day
	for m := range 8 {
		asOf = append(asOf, contract.MakeDay(2021, 1, 1).AddMonths(3*m))
	}
	tb, err := Build(context.Background(), Options{Dir: dir, Entity: spec.Resident, AsOf: asOf})
	if err != nil {
		b.Fatal(err)
	}
	var ours, lib bytes.Buffer
	if err := tb.WriteCSV(&ours); err != nil {
		b.Fatal(err)
	}
	if err := tb.writeCSVWithEncodingCSV(&lib); err != nil {
		b.Fatal(err)
	}
	if !bytes.Equal(ours.Bytes(), lib.Bytes()) {
		b.Fatal("the two writers' outputs differ")
	}
	b.SetBytes(int64(ours.Len()))
	median := func(write func(io.Writer) error) float64 {
		var secs []float64
		for range 5 {
			start := time.Now()
			if err := write(io.Discard); err != nil {
				b.Fatal(err)
			}
			secs = append(secs, time.Since(start).Seconds())
		}
		slices.Sort(secs)
		return secs[2]
	}
	for range b.N {
		l, o := median(tb.writeCSVWithEncodingCSV), median(tb.WriteCSV)
		b.ReportMetric(float64(tb.Rows()), "rows")
		b.ReportMetric(float64(len(tb.Header())), "columns")
		b.ReportMetric(l, "encoding/csv-s")
		b.ReportMetric(o, "ours-s")
		b.ReportMetric(l/o, "x-faster")
	}
}
