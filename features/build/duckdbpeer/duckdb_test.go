//go:build cgo

package duckdbpeer

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // DuckDB, the peer

	"caserisk/features/build"
	"caserisk/features/contract"
	"caserisk/features/spec"
	"caserisk/features/synth"
)

// specOnly is the default spec without its signals: exactly the
// aggregations the SQL computes.
func specOnly(t testing.TB) *spec.Spec {
	t.Helper()
	sp, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	sp.Resident.Signals = nil
	return sp
}

// runDuckDB runs the spec's SQL on dir as of asOf with the given threads,
// writes the table to out as CSV when out is not empty, and returns the
// open database holding the table "features" (the caller closes it).
func runDuckDB(t testing.TB, sp *spec.Spec, dir string, asOf contract.Day, threads int, out string) *sql.DB {
	t.Helper()
	stmts, err := Script(sp, contract.Default(), dir, asOf, "features")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // temp tables live on one connection
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	stmts = append([]string{fmt.Sprintf("SET threads = %d", threads)}, stmts...)
	if out != "" {
		stmts = append(stmts, "COPY features TO "+quote(out)+" (HEADER)")
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			db.Close()
			t.Fatalf("duckdb: %v\n%s", err, s)
		}
	}
	return db
}

// compare checks every value of DuckDB's table against the builder's, bit
// for bit, and returns the number of cells compared; each differing cell
// is an error.
func compare(t testing.TB, db *sql.DB, tb *build.Table, sp *spec.Spec) int {
	t.Helper()
	names := make([]string, len(sp.Resident.Features))
	for k, f := range sp.Resident.Features {
		names[k] = ident(f.Name)
	}
	rows, err := db.Query("SELECT resident_id, " + strings.Join(names, ", ") + " FROM features")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	row := make(map[string]int, tb.Rows())
	for i := range tb.Rows() {
		row[tb.ResidentID(i)] = i
	}
	cols := make([]int, len(names))
	for k, f := range sp.Resident.Features {
		kind, j := tb.Column(f.Name)
		if j < 0 {
			t.Fatalf("the builder has no column %s (%s)", f.Name, kind)
		}
		cols[k] = j
	}
	vals := make([]sql.NullFloat64, len(names))
	dest := make([]any, len(names)+1)
	var id string
	dest[0] = &id
	for k := range vals {
		dest[k+1] = &vals[k]
	}
	n, cells := 0, 0
	bad := map[string]int{}
	var example []string
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		n++
		i, ok := row[id]
		if !ok {
			t.Fatalf("DuckDB has resident %s, the builder does not", id)
		}
		for k, v := range vals {
			want := tb.Value(i, cols[k])
			got := math.NaN()
			if v.Valid {
				got = v.Float64
			}
			cells++
			if same(got, want) {
				continue
			}
			f := sp.Resident.Features[k]
			bad[f.Name]++
			if len(example) < 5 {
				example = append(example, fmt.Sprintf("%s of %s: DuckDB %v, builder %v", f.Name, id, got, want))
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != tb.Rows() {
		t.Errorf("DuckDB's population has %d residents, the builder's %d", n, tb.Rows())
	}
	for name, c := range bad {
		t.Errorf("%s: %d residents differ between DuckDB and the builder", name, c)
	}
	if len(example) > 0 {
		t.Errorf("for example: %s", strings.Join(example, "; "))
	}
	return cells
}

// same reports whether DuckDB's value a equals the builder's b (both
// rounded as the builder rounds), both missing, or both zero.
func same(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b
}

// TestDuckDBAgreesWithBuilder runs the SQL on a small generated borough
// and checks every value against the builder's, so that the benchmark
// compares the same work.
func TestDuckDBAgreesWithBuilder(t *testing.T) {
	dir := t.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Config{Residents: 3000, Seed: 5,
		AsOf: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), YearsBefore: 4}, dir); err != nil {
		t.Fatal(err)
	}
	sp := specOnly(t)
	for _, d := range []string{"2022-07-01", "2024-01-01"} {
		asOf, err := contract.ParseDay(d)
		if err != nil {
			t.Fatal(err)
		}
		tb, err := build.Build(context.Background(), build.Options{Dir: dir, Entity: spec.Resident, AsOf: []contract.Day{asOf}, Spec: sp})
		if err != nil {
			t.Fatal(err)
		}
		db := runDuckDB(t, sp, dir, asOf, 2, "")
		cells := compare(t, db, tb, sp)
		db.Close()
		if cells < 1000 {
			t.Errorf("as of %s: only %d values compared", d, cells)
		}
	}
}

// BenchmarkFeaturesVsDuckDB240k builds the default spec's resident
// aggregations (not the signals) for a 240,000-resident borough with the
// builder and with DuckDB's SQL (threads = GOMAXPROCS, both reading the
// same CSV files and writing a CSV file), alternating
// CASERISK_BENCH_RUNS times (default 1), reports the medians and their
// ratio (builder / DuckDB; the bar is ≤ 1) and checks every value. The
// borough comes from `caserisk generate --residents 240000 --seed 11
// --as-of 2025-01-01`, made once under $CASERISK_DUCKDB_BENCH_DIR (default
// under os.TempDir()); CASERISK_DUCKDB_RESIDENTS changes its size.
func BenchmarkFeaturesVsDuckDB240k(b *testing.B) {
	residents := 240_000
	if s := os.Getenv("CASERISK_DUCKDB_RESIDENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("CASERISK_DUCKDB_RESIDENTS=%q: want a positive number", s)
		}
		residents = n
	}
	runs := 1
	if s := os.Getenv("CASERISK_BENCH_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("CASERISK_BENCH_RUNS=%q: want a positive integer", s)
		}
		runs = n
	}
	root := os.Getenv("CASERISK_DUCKDB_BENCH_DIR")
	if root == "" {
		root = os.TempDir()
	}
	dir := filepath.Join(root, fmt.Sprintf("caserisk-duckdb-bench-borough-%d-seed11-2025-01-01", residents))
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		bin := filepath.Join(b.TempDir(), "caserisk")
		if out, err := exec.Command("go", "build", "-o", bin, "caserisk/cmd/caserisk").CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
		os.RemoveAll(dir)
		tmp := dir + ".tmp"
		os.RemoveAll(tmp)
		if out, err := exec.Command(bin, "generate", "--residents", strconv.Itoa(residents), "--seed", "11",
			"--as-of", "2025-01-01", "--out", tmp).CombinedOutput(); err != nil {
			b.Fatalf("caserisk generate: %v\n%s", err, out)
		}
		if err := os.Rename(tmp, dir); err != nil {
			b.Fatal(err)
		}
	}
	if out, err := exec.Command("uptime").Output(); err == nil {
		b.Logf("load: %s", strings.TrimSpace(string(out)))
	}
	asOf := contract.MakeDay(2024, 7, 1)
	sp := specOnly(b)
	tmp := b.TempDir()
	var ours, theirs []float64
	var tb *build.Table
	for range b.N {
		for range runs {
			t0 := time.Now()
			db := runDuckDB(b, sp, dir, asOf, 0, filepath.Join(tmp, "duckdb.csv"))
			theirs = append(theirs, time.Since(t0).Seconds())
			db.Close()

			t0 = time.Now()
			var err error
			tb, err = build.Build(context.Background(), build.Options{Dir: dir, Entity: spec.Resident, AsOf: []contract.Day{asOf}, Spec: sp})
			if err != nil {
				b.Fatal(err)
			}
			if err := tb.WriteFiles(filepath.Join(tmp, "features.csv")); err != nil {
				b.Fatal(err)
			}
			ours = append(ours, time.Since(t0).Seconds())
		}
	}
	o, d := median(ours), median(theirs)
	b.ReportMetric(o, "builder_s")
	b.ReportMetric(d, "duckdb_s")
	b.ReportMetric(o/d, "ratio")
	b.Logf("%d residents as of %s, %d features: builder %.2f s, DuckDB %.2f s (medians of %d): ratio %.3f (builder %v, DuckDB %v)",
		tb.Rows(), asOf, len(sp.Resident.Features), o, d, runs, o/d, ours, theirs)
	if out, err := exec.Command("uptime").Output(); err == nil {
		b.Logf("load after: %s", strings.TrimSpace(string(out)))
	}
	db := runDuckDB(b, sp, dir, asOf, 0, "")
	defer db.Close()
	cells := compare(b, db, tb, sp)
	b.ReportMetric(float64(cells), "values_compared")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
