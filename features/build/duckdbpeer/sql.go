// Package duckdbpeer writes a feature spec's resident aggregations as SQL
// for DuckDB, over the same contract CSV files the feature builder reads
// and with the same point-in-time rules, so that the builder can be
// measured against an embedded analytical SQL engine and its values
// checked against an independent implementation (see the benchmark in
// this package's tests, which links DuckDB's Go driver; the package itself
// does not).
//
// The SQL covers the spec's aggregation features (count, any, sum, mean,
// min, max, last, distinct, days_since_last, days_since_first, share in
// every scope) for one as-of date, not the cross-service signals written
// in Go. The rules, as the builder's (and its pandas peer's):
//
//   - a row is known on the as-of date when its event date, and the later
//     of its event and recorded dates, are on or before it; exact duplicate
//     rows count once; legacy codes are mapped to current ones;
//   - the population is the residents first seen on or before the as-of
//     date, not known dead by then, with a current residence (the latest
//     started, on or before the as-of date, not ended before it);
//   - a window of w days holds the events dated after as_of − w;
//   - person features aggregate the resident's own events, household
//     features the events of everyone whose current address is the
//     resident's, address features the events recorded against the
//     resident's UPRN;
//   - an empty group counts 0 for count, any, distinct and sum, and is
//     missing (NULL) for the others;
//   - values are rounded as the builder rounds them (build.Decimals: 2
//     decimals for GBP, 4 for the rest).
package duckdbpeer

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"caserisk/features/build"
	"caserisk/features/contract"
	"caserisk/features/spec"
)

// Script returns the SQL statements that build the resident features of
// the spec from the contract CSV files in dir as of asOf into the table
// named table (resident_id, uprn, then one column per feature, in spec
// order). Run them in order on one connection.
func Script(sp *spec.Spec, c *contract.Contract, dir string, asOf contract.Day, table string) ([]string, error) {
	a := "DATE '" + asOf.String() + "'"
	csv := func(file string) string {
		return "read_csv(" + quote(filepath.Join(dir, file)) + ", header = true, all_varchar = true)"
	}
	var stmts []string
	stmts = append(stmts,
		`CREATE OR REPLACE TEMP TABLE alive AS
SELECT resident_id FROM (
  SELECT DISTINCT ON (resident_id) resident_id,
    TRY_CAST(first_seen_date AS DATE) AS first_seen,
    TRY_CAST(date_of_death AS DATE) AS death,
    TRY_CAST(death_recorded_date AS DATE) AS death_recorded
  FROM `+csv("residents.csv")+`)
WHERE first_seen <= `+a+`
  AND NOT coalesce(CASE WHEN death_recorded IS NULL OR death >= death_recorded THEN death ELSE death_recorded END <= `+a+`, false)`,
		`CREATE OR REPLACE TEMP TABLE pop AS
SELECT resident_id, uprn FROM (
  SELECT DISTINCT resident_id, TRY_CAST(uprn AS BIGINT) AS uprn,
    TRY_CAST(start_date AS DATE) AS start_date, TRY_CAST(end_date AS DATE) AS end_date
  FROM `+csv("residences.csv")+`)
WHERE start_date <= `+a+` AND (end_date IS NULL OR end_date >= `+a+`)
  AND resident_id IN (SELECT resident_id FROM alive)
QUALIFY row_number() OVER (PARTITION BY resident_id ORDER BY start_date DESC, uprn DESC) = 1`)

	// One table of known rows per service file, and one aggregation per
	// file and grouping key, every feature of the group a FILTERed
	// aggregate of it.
	type group struct {
		file, key string
		cols      []string // "expr AS name"
	}
	var groups []*group
	byKey := map[string]*group{}
	files := map[string]bool{}
	var outCols []string
	var joins []string
	for k, f := range sp.Resident.Features {
		file, ok := c.File(f.Service)
		if !ok {
			return nil, fmt.Errorf("duckdb sql: feature %s: no contract file for service %q", f.Name, f.Service)
		}
		ev := "ev_" + file.Service
		if !files[file.Name] {
			files[file.Name] = true
			stmt, err := eventTable(file, ev, csv(file.Name), a)
			if err != nil {
				return nil, err
			}
			stmts = append(stmts, stmt)
		}
		key, target := "uprn", "uprn"
		switch f.Scope {
		case "person":
			key, target = "resident_id", "resident_id"
		case "household":
			key = "hh_uprn"
		}
		g := byKey[ev+"/"+key]
		if g == nil {
			g = &group{file: ev, key: key}
			byKey[ev+"/"+key] = g
			groups = append(groups, g)
			joins = append(joins, fmt.Sprintf("LEFT JOIN g%d ON g%d.%s = pop.%s", len(groups)-1, len(groups)-1, key, target))
		}
		col := fmt.Sprintf("f%d", k)
		expr, fill, err := aggregate(f, a)
		if err != nil {
			return nil, err
		}
		g.cols = append(g.cols, expr+" AS "+col)
		gi := slices.Index(groups, g)
		v := fmt.Sprintf("g%d.%s", gi, col)
		if fill != "" {
			v = "coalesce(" + v + ", " + fill + ")"
		}
		// The builder's one rounding: 2 decimals for GBP, 4 for the rest.
		outCols = append(outCols, fmt.Sprintf("round(CAST(%s AS DOUBLE), %d) AS %s", v, build.Decimals(f.Unit), ident(f.Name)))
	}
	for i, g := range groups {
		stmts = append(stmts, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE g%d AS\nSELECT %s, %s\nFROM %s WHERE %s IS NOT NULL GROUP BY %s",
			i, g.key, strings.Join(g.cols, ",\n  "), g.file, g.key, g.key))
	}
	stmts = append(stmts, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS\nSELECT pop.resident_id, pop.uprn,\n  %s\nFROM pop\n%s",
		ident(table), strings.Join(outCols, ",\n  "), strings.Join(joins, "\n")))
	return stmts, nil
}

// eventTable is the statement that keeps the rows of one file known on the
// as-of date, with legacy codes mapped, the event date as _date and the
// household (the current UPRN of the row's resident) as hh_uprn.
func eventTable(file *contract.File, name, scan, asOf string) (string, error) {
	if file.EventDate == "" {
		return "", fmt.Errorf("duckdb sql: %s has no event date", file.Name)
	}
	var repl []string
	for _, col := range file.Columns {
		if len(col.Legacy) == 0 {
			continue
		}
		olds := make([]string, 0, len(col.Legacy))
		for o := range col.Legacy {
			olds = append(olds, o)
		}
		slices.Sort(olds)
		cs := "CASE " + ident(col.Name)
		for _, o := range olds {
			cs += " WHEN " + quote(o) + " THEN " + quote(col.Legacy[o])
		}
		repl = append(repl, cs+" ELSE "+ident(col.Name)+" END AS "+ident(col.Name))
	}
	hasUPRN := slices.ContainsFunc(file.Columns, func(c contract.Column) bool { return c.Name == "uprn" })
	if hasUPRN {
		repl = append(repl, "TRY_CAST(uprn AS BIGINT) AS uprn")
	}
	sel := "*"
	if len(repl) > 0 {
		sel = "* REPLACE (" + strings.Join(repl, ", ") + ")"
	}
	date := "TRY_CAST(" + ident(file.EventDate) + " AS DATE)"
	known := date
	if file.RecordedDate != "" {
		rec := "TRY_CAST(" + ident(file.RecordedDate) + " AS DATE)"
		known = "CASE WHEN " + rec + " IS NULL OR " + date + " >= " + rec + " THEN " + date + " ELSE " + rec + " END"
	}
	return fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s AS
SELECT e.*, hh.uprn AS hh_uprn FROM (
  SELECT %s, %s AS _date FROM (SELECT DISTINCT * FROM %s)
  WHERE %s <= %s AND %s <= %s) e
LEFT JOIN pop hh ON hh.resident_id = e.resident_id`, name, sel, date, scan, date, asOf, known, asOf), nil
}

// aggregate returns the aggregate expression of a feature over its file's
// known rows, and the value of a resident whose group is empty ("" for
// NULL).
func aggregate(f spec.Feature, asOf string) (expr, fill string, err error) {
	var conds []string
	if f.Window > 0 {
		conds = append(conds, fmt.Sprintf("_date > %s - INTERVAL %d DAY", asOf, f.Window))
	}
	conds = append(conds, condSQL(f.Where)...)
	filter := ""
	if len(conds) > 0 {
		filter = " FILTER (WHERE " + strings.Join(conds, " AND ") + ")"
	}
	num := "TRY_CAST(" + ident(f.Column) + " AS DOUBLE)"
	switch f.Agg {
	case "count":
		return "count(*)" + filter, "0", nil
	case "any":
		return "CAST(count(*)" + filter + " > 0 AS DOUBLE)", "0", nil
	case "sum":
		return "sum(" + num + ")" + filter, "0", nil
	case "mean":
		return "avg(" + num + ")" + filter, "", nil
	case "min", "max":
		return f.Agg + "(" + num + ")" + filter, "", nil
	case "last":
		// The latest dated non-missing value (pandas' groupby last).
		c := append(slices.Clone(conds), num+" IS NOT NULL")
		return "arg_max(" + num + ", _date) FILTER (WHERE " + strings.Join(c, " AND ") + ")", "", nil
	case "distinct":
		return "count(DISTINCT " + ident(f.Column) + ")" + filter, "0", nil
	case "days_since_last":
		return "date_diff('day', max(_date)" + filter + ", " + asOf + ")", "", nil
	case "days_since_first":
		return "date_diff('day', min(_date)" + filter + ", " + asOf + ")", "", nil
	case "share":
		hit := strings.Join(condSQL(f.ShareOf), " AND ")
		return "avg(CASE WHEN " + hit + " THEN 1.0 ELSE 0.0 END)" + filter, "", nil
	}
	return "", "", fmt.Errorf("duckdb sql: feature %s: aggregation %q is not written in SQL", f.Name, f.Agg)
}

func condSQL(cs []spec.Cond) []string {
	var out []string
	for _, c := range cs {
		codes := make([]string, len(c.Codes))
		for i, v := range c.Codes {
			codes[i] = quote(v)
		}
		out = append(out, "coalesce("+ident(c.Column)+" IN ("+strings.Join(codes, ", ")+"), false)")
	}
	return out
}

// quote is a SQL string literal; ident a quoted identifier.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
