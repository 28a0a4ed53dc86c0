//go:build cgo

package build

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // DuckDB, an independent Parquet reader

	"caserisk/features/contract"
	"caserisk/features/spec"
)

// TestParquetEqualsCSVInDuckDB writes one built table as CSV and as
// Parquet and reads the Parquet back with DuckDB, a reader that shares no
// code with caserisk: its columns must come in the CSV's order with the
// types the writer documents (as_of a DATE, features DOUBLE), and every
// cell must equal the CSV's cell, numbers bit for bit, and the table's
// value in memory, which is what a model scoring the built table sees.
func TestParquetEqualsCSVInDuckDB(t *testing.T) {
	src := testBorough(t)
	for _, tc := range []struct {
		entity string
		asOf   []contract.Day
	}{
		{spec.Resident, []contract.Day{day("2022-01-01"), day("2023-01-01")}},
		{spec.Tenancy, []contract.Day{day("2023-01-01")}},
	} {
		t.Run(tc.entity, func(t *testing.T) {
			tb, err := Build(context.Background(), Options{Dir: src, Entity: tc.entity, AsOf: tc.asOf})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			csvPath, pqPath := filepath.Join(dir, "f.csv"), filepath.Join(dir, "f.parquet")
			for _, p := range []string{csvPath, pqPath} {
				if err := tb.WriteFiles(p); err != nil {
					t.Fatal(err)
				}
			}
			compareWithDuckDB(t, tb, csvPath, pqPath)
		})
	}
}

func compareWithDuckDB(t *testing.T, tb *Table, csvPath, pqPath string) {
	fh, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", csvPath, err)
	}
	header, recs := recs[0], recs[1:]

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatalf("open DuckDB: %v", err)
	}
	defer db.Close()
	quoted := "'" + strings.ReplaceAll(pqPath, "'", "''") + "'"

	// The schema as DuckDB sees it.
	rows, err := db.Query("DESCRIBE SELECT * FROM read_parquet(" + quoted + ")")
	if err != nil {
		t.Fatalf("DuckDB: %v", err)
	}
	var names, types []string
	for rows.Next() {
		vals := make([]any, 6)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		names = append(names, fmt.Sprint(vals[0]))
		types = append(types, fmt.Sprint(vals[1]))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if !slices.Equal(names, header) {
		t.Fatalf("Parquet columns in DuckDB:\n%v\nCSV header:\n%v", names, header)
	}
	nid, nf, nl := len(tb.IDNames()), len(tb.Features), len(tb.Labels)
	for j, name := range names {
		want := "VARCHAR"
		switch {
		case name == "as_of":
			want = "DATE"
		case name == "uprn":
			want = "BIGINT"
		case j >= nid && j < nid+nf+nl:
			want = "DOUBLE"
		}
		if types[j] != want {
			t.Errorf("column %s is %s in DuckDB, want %s", name, types[j], want)
		}
	}

	// Every cell, in file order.
	rows, err = db.Query("SELECT * FROM read_parquet(" + quoted + ")")
	if err != nil {
		t.Fatalf("DuckDB: %v", err)
	}
	defer rows.Close()
	vals := make([]any, len(names))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	i, bad := 0, 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		if i >= len(recs) {
			t.Fatalf("DuckDB reads more rows than the CSV's %d", len(recs))
		}
		for j, v := range vals {
			cell := recs[i][j]
			if why := cellDiffers(v, cell); why != "" {
				if bad++; bad <= 10 {
					t.Errorf("row %d, column %s: Parquet %v (%T), CSV %q: %s", i+1, names[j], v, v, cell, why)
				}
				continue
			}
			if j >= nid && j < nid+nf {
				if mem := tb.Value(i, j-nid); !sameBits(v, mem) {
					if bad++; bad <= 10 {
						t.Errorf("row %d, column %s: Parquet %v, table in memory %v", i+1, names[j], v, mem)
					}
				}
			}
		}
		i++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(recs) || i != tb.Rows() {
		t.Fatalf("DuckDB read %d rows, the CSV has %d, the table %d", i, len(recs), tb.Rows())
	}
	if bad > 0 {
		t.Fatalf("%d cells differ", bad)
	}
	t.Logf("%d rows × %d columns equal in DuckDB's Parquet and the CSV", i, len(names))
}

// cellDiffers says why a value DuckDB read differs from the CSV's text
// for the same cell, or "" when they are equal (numbers bit for bit).
func cellDiffers(v any, cell string) string {
	switch x := v.(type) {
	case nil:
		if cell != "" {
			return "null in Parquet"
		}
	case float64:
		f, err := strconv.ParseFloat(cell, 64)
		if err != nil {
			return "the CSV cell is not a number"
		}
		if math.Float64bits(f) != math.Float64bits(x) {
			return fmt.Sprintf("the CSV reads as %v (bits %x against %x)", f, math.Float64bits(f), math.Float64bits(x))
		}
	case int64:
		if strconv.FormatInt(x, 10) != cell {
			return "different integer"
		}
	case time.Time:
		if x.Format(time.DateOnly) != cell {
			return "different date"
		}
	case string:
		if x != cell {
			return "different text"
		}
	default:
		return fmt.Sprintf("unexpected type %T", v)
	}
	return ""
}

func sameBits(v any, mem float64) bool {
	if v == nil {
		return math.IsNaN(mem)
	}
	f, ok := v.(float64)
	return ok && math.Float64bits(f) == math.Float64bits(mem)
}
