// Package frame gives a gota DataFrame view of a built feature table, for
// Go users exploring small samples (a few thousand rows): the table in
// memory (Of) or a written CSV table with its meta.json (ReadCSV).
//
// Identifier and audit columns are strings; features and labels are
// floats, NaN where the table has an empty value. A DataFrame copies every
// value, so use it for samples, not for a borough-sized table.
package frame

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"caserisk/features/build"
)

// Of returns a DataFrame of the table's rows (at most limit rows; limit <=
// 0 means all), with the columns in the order of the CSV output.
func Of(t *build.Table, limit int) dataframe.DataFrame {
	n := t.Rows()
	if limit > 0 && limit < n {
		n = limit
	}
	cols := make([]series.Series, 0, len(t.Header()))
	str := func(name string, f func(i int) string) {
		v := make([]string, n)
		for i := range v {
			v[i] = f(i)
		}
		cols = append(cols, series.New(v, series.String, name))
	}
	for _, id := range t.IDNames() {
		switch id {
		case "tenancy_id":
			str(id, t.TenancyID)
		case "resident_id":
			str(id, t.ResidentID)
		case "uprn":
			str(id, func(i int) string {
				if t.UPRN[i] == 0 {
					return ""
				}
				return fmt.Sprint(t.UPRN[i])
			})
		case "as_of":
			str(id, func(i int) string { return t.AsOf[t.AsOfIdx[i]].String() })
		}
	}
	num := func(name string, vals []float64, stride, j int) {
		v := make([]float64, n)
		for i := range v {
			v[i] = vals[i*stride+j]
		}
		cols = append(cols, series.New(v, series.Float, name))
	}
	for j, f := range t.Features {
		num(f.Name, t.Values, len(t.Features), j)
	}
	for j, l := range t.Labels {
		num(l, t.LabelValues, len(t.Labels), j)
	}
	for j, a := range t.Audit {
		str(a, func(i int) string { return t.AuditValues[i*len(t.Audit)+j] })
	}
	return dataframe.New(cols...)
}

// ReadCSV reads a feature table written as CSV, typing its columns from
// path.meta.json: ids and audit columns as strings, features and labels as
// floats with empty values as NaN.
func ReadCSV(path string) (dataframe.DataFrame, error) {
	raw, err := os.ReadFile(path + ".meta.json")
	if err != nil {
		return dataframe.DataFrame{}, fmt.Errorf("read feature table metadata: %w", err)
	}
	var m build.Meta
	if err := json.Unmarshal(raw, &m); err != nil {
		return dataframe.DataFrame{}, fmt.Errorf("read %s.meta.json: %w", path, err)
	}
	if m.Format != "caserisk-features" {
		return dataframe.DataFrame{}, fmt.Errorf("%s.meta.json: format %q is not caserisk-features", path, m.Format)
	}
	types := map[string]series.Type{}
	for _, c := range append(append([]string{}, m.IDs...), m.Audit...) {
		types[c] = series.String
	}
	for _, f := range m.Features {
		types[f.Name] = series.Float
	}
	for _, l := range m.Labels {
		types[l] = series.Float
	}
	fh, err := os.Open(path)
	if err != nil {
		return dataframe.DataFrame{}, fmt.Errorf("read feature table: %w", err)
	}
	defer fh.Close()
	df := dataframe.ReadCSV(fh, dataframe.WithTypes(types), dataframe.NaNValues([]string{"", "NaN", "NA"}))
	if df.Err != nil {
		return df, fmt.Errorf("read %s: %w", path, df.Err)
	}
	if df.Nrow() != m.Rows {
		return df, fmt.Errorf("read %s: %d rows, meta.json says %d", path, df.Nrow(), m.Rows)
	}
	return df, nil
}
