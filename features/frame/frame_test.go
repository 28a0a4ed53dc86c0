package frame

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"caserisk/features/build"
	"caserisk/features/contract"
	"caserisk/features/spec"
)

func mini(t testing.TB, entity string) *build.Table {
	tb, err := build.Build(context.Background(), build.Options{Dir: "../build/testdata/mini", Entity: entity,
		AsOf: []contract.Day{contract.MustParseDay("2023-06-30")}, ExtractDate: contract.MustParseDay("2024-12-31")})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestOfAndReadCSVAgree(t *testing.T) {
	for _, entity := range []string{spec.Resident, spec.Tenancy} {
		t.Run(entity, func(t *testing.T) {
			tb := mini(t, entity)
			df := Of(tb, 0)
			if df.Err != nil {
				t.Fatal(df.Err)
			}
			if df.Nrow() != tb.Rows() || df.Ncol() != len(tb.Header()) {
				t.Fatalf("frame %dx%d, table %dx%d", df.Nrow(), df.Ncol(), tb.Rows(), len(tb.Header()))
			}
			path := filepath.Join(t.TempDir(), "f.csv")
			if err := tb.WriteFiles(path); err != nil {
				t.Fatal(err)
			}
			rd, err := ReadCSV(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range tb.Header() {
				a, b := df.Col(name), rd.Col(name)
				if a.Err != nil || b.Err != nil {
					t.Fatalf("column %s: %v %v", name, a.Err, b.Err)
				}
				if a.Type() != b.Type() {
					t.Errorf("%s: type %s in memory, %s from CSV", name, a.Type(), b.Type())
					continue
				}
				for i := 0; i < a.Len(); i++ {
					x, y := a.Elem(i), b.Elem(i)
					if a.Type() == "float" {
						fx, fy := x.Float(), y.Float()
						if !(fx == fy || math.IsNaN(fx) && math.IsNaN(fy) || math.Abs(fx-fy) < 1e-4) {
							t.Errorf("%s row %d: %v in memory, %v from CSV", name, i, fx, fy)
						}
					} else if x.String() != y.String() {
						t.Errorf("%s row %d: %q in memory, %q from CSV", name, i, x.String(), y.String())
					}
				}
			}
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	if _, err := ReadCSV(filepath.Join(t.TempDir(), "missing.csv")); err == nil {
		t.Error("no error for a table without meta.json")
	}
}

func ExampleOf() {
	tb, err := build.Build(context.Background(), build.Options{Dir: "../build/testdata/mini", Entity: spec.Resident,
		AsOf: []contract.Day{contract.MustParseDay("2023-06-30")}, ExtractDate: contract.MustParseDay("2024-12-31")})
	if err != nil {
		fmt.Println(err)
		return
	}
	df := Of(tb, 0).Select([]string{"resident_id", "household_size", "rent_arrears_gbp_now", "label_complex_case"})
	fmt.Println(df.Nrow(), "rows")
	for i := 0; i < df.Nrow(); i++ {
		fmt.Println(df.Elem(i, 0), df.Elem(i, 1), df.Elem(i, 2), df.Elem(i, 3))
	}
	// Output:
	// 3 rows
	// R1 2.000000 200.000000 1.000000
	// R2 2.000000 200.000000 1.000000
	// R3 1.000000 0.000000 0.000000
}
