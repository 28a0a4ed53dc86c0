// Package frame gives gota DataFrame views of the tables models/dataset
// reads (a feature table as CSV or Parquet, as a model sees it) and the
// per-column summary that `caserisk inspect` prints, computed with gota's
// DataFrame.Describe.
//
// Key columns (ids, dates, audit columns) are String series; features and
// the label are Float series, NaN where the table has an empty value. A
// DataFrame holds every value as a gota element (about 16 bytes a number)
// and gota sorts a column once for each order statistic, so Describe
// builds one column's frame at a time, over a sample of rows if asked.
package frame

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"caserisk/models/dataset"
)

// Roles of a column in a Summary.
const (
	RoleKey     = "key"     // an identifier or a date
	RoleAudit   = "audit"   // a protected characteristic kept for fairness audits
	RoleFeature = "feature" // a model input
	RoleLabel   = "label"   // the outcome
)

// Of returns the table as a DataFrame, its columns in the table's order:
// keys, features, then the label.
func Of(t *dataset.Table) dataframe.DataFrame {
	var cols []series.Series
	for _, c := range columns(t) {
		cols = append(cols, c.series())
	}
	return dataframe.New(cols...)
}

// column is one column of a table with its role.
type column struct {
	name, role string
	text       []string
	nums       []float64
}

func (c column) series() series.Series {
	if c.text != nil {
		return series.New(c.text, series.String, c.name)
	}
	return series.New(c.nums, series.Float, c.name)
}

func columns(t *dataset.Table) []column {
	var cols []column
	for _, k := range t.Keys {
		role := RoleKey
		if slices.Contains(t.Audit, k.Name) {
			role = RoleAudit
		}
		cols = append(cols, column{name: k.Name, role: role, text: k.Values})
	}
	for j, n := range t.Names {
		cols = append(cols, column{name: n, role: RoleFeature, nums: t.Cols[j]})
	}
	if t.Label != nil {
		cols = append(cols, column{name: t.LabelName, role: RoleLabel, nums: t.Label})
	}
	return cols
}

// Column summarises one column. Numbers are over the non-missing values;
// they are NaN for a key column or a column with no value.
type Column struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Unit    string `json:"unit,omitempty"`
	Missing int    `json:"missing"`
	// Distinct counts the different values of a key column.
	Distinct int `json:"distinct,omitempty"`
	// First and Last are a key column's smallest and largest values, in
	// text order.
	First string `json:"first,omitempty"`
	Last  string `json:"last,omitempty"`

	Mean   float64 `json:"mean"`
	StdDev float64 `json:"stddev"`
	Min    float64 `json:"min"`
	P25    float64 `json:"p25"`
	Median float64 `json:"median"`
	P75    float64 `json:"p75"`
	Max    float64 `json:"max"`
}

// Summary describes a table's columns.
type Summary struct {
	Source string `json:"source"`
	// Rows is the table's row count; Described the rows the columns are
	// summarised over (all of them, or an evenly spaced sample).
	Rows      int      `json:"rows"`
	Described int      `json:"described"`
	Columns   []Column `json:"columns"`
	// Ignored are the table's columns left unread: labels other than the
	// one asked for.
	Ignored []string `json:"ignored,omitempty"`
}

// Describe summarises every column of t over at most maxRows evenly spaced
// rows (all rows when maxRows <= 0): for each, gota's Describe of a
// one-column DataFrame of its non-missing values (gota counts a NaN into a
// mean and its order statistics, so missing values are taken out first and
// counted in Missing).
func Describe(ctx context.Context, t *dataset.Table, maxRows int) (*Summary, error) {
	sum := &Summary{Source: t.Source, Rows: t.Len(), Described: t.Len(), Ignored: t.Ignored}
	if maxRows > 0 && maxRows < t.Len() {
		rows := make([]int, maxRows)
		for k := range rows {
			rows[k] = k * t.Len() / maxRows
		}
		t = t.Subset(rows)
		sum.Described = maxRows
	}
	units := map[string]string{}
	for _, m := range t.Meta {
		units[m.Name] = m.Unit
	}
	for _, c := range columns(t) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		col := Column{Name: c.name, Role: c.role, Unit: units[c.name]}
		for _, p := range []*float64{&col.Mean, &col.StdDev, &col.Min, &col.P25, &col.Median, &col.P75, &col.Max} {
			*p = math.NaN()
		}
		s := c.series()
		var keep []int
		if c.text != nil {
			seen := map[string]bool{}
			for i, v := range c.text {
				if v == "" {
					col.Missing++
					continue
				}
				keep = append(keep, i)
				seen[v] = true
			}
			col.Distinct = len(seen)
		} else {
			for i, nan := range s.IsNaN() {
				if nan {
					col.Missing++
				} else {
					keep = append(keep, i)
				}
			}
		}
		if len(keep) > 0 {
			if err := describe(&col, s.Subset(keep)); err != nil {
				return nil, fmt.Errorf("summarise %s, column %s: %w", t.Source, c.name, err)
			}
		}
		sum.Columns = append(sum.Columns, col)
	}
	return sum, nil
}

// describeRows are the rows of gota's Describe, in its order.
var describeRows = []string{"mean", "median", "stddev", "min", "25%", "50%", "75%", "max"}

// describe fills col from gota's Describe of the series s.
func describe(col *Column, s series.Series) error {
	d := dataframe.New(s).Describe()
	if d.Err != nil {
		return d.Err
	}
	if got := d.Col("column").Records(); !slices.Equal(got, describeRows) {
		return fmt.Errorf("gota's Describe gave rows %v, want %v", got, describeRows)
	}
	v := d.Col(s.Name)
	if s.Type() == series.String {
		r := v.Records()
		col.First, col.Last = r[3], r[7]
		return nil
	}
	f := v.Float()
	col.Mean, col.Median, col.StdDev, col.Min, col.P25, col.Max = f[0], f[1], f[2], f[3], f[4], f[7]
	col.P75 = f[6]
	return nil
}
