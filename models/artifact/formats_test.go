package artifact

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"caserisk/features/build"
	"caserisk/features/contract"
	"caserisk/features/spec"
	"caserisk/features/synth"
	"caserisk/models/dataset"
)

// TestTrainOnOneFormatScoreTheOther builds one feature table from a small
// synthetic borough, writes it as CSV and as Parquet, and checks that the
// two files read as the same table, that a model trained on either gives
// bit-identical margins on both, and that those margins equal the ones for
// the built table in memory (what the batch scorer sees).
func TestTrainOnOneFormatScoreTheOther(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	if _, err := synth.Generate(ctx, synth.Config{Residents: 3000, Seed: 5,
		AsOf: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), YearsBefore: 4}, src); err != nil {
		t.Fatal(err)
	}
	tb, err := build.Build(ctx, build.Options{Dir: src, Entity: spec.Resident,
		AsOf: []contract.Day{contract.MustParseDay("2022-01-01"), contract.MustParseDay("2023-01-01")}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tables := map[string]*dataset.Table{}
	for _, format := range []string{"csv", "parquet"} {
		path := filepath.Join(dir, "features."+format)
		if err := tb.WriteFiles(path); err != nil {
			t.Fatal(err)
		}
		tab, err := dataset.Read(ctx, path, dataset.Options{Label: build.LabelComplexCase})
		if err != nil {
			t.Fatal(err)
		}
		tables[format] = tab
	}
	c, p := tables["csv"], tables["parquet"]
	if c.Fingerprint() != p.Fingerprint() {
		t.Fatalf("the CSV and the Parquet read as different tables (fingerprints %s, %s)", c.Fingerprint(), p.Fingerprint())
	}
	if c.Len() != tb.Rows() || len(c.Names) != len(tb.Features) {
		t.Fatalf("read %d rows × %d features, built %d × %d", c.Len(), len(c.Names), tb.Rows(), len(tb.Features))
	}
	// The built table's values in memory, column-major in the files' order.
	mem := make([][]float64, len(tb.Features))
	for j := range tb.Features {
		mem[j] = make([]float64, tb.Rows())
		for i := range mem[j] {
			mem[j][i] = tb.Value(i, j)
		}
	}
	for _, algo := range []string{GBDT, Logistic} {
		for _, trainOn := range []string{"csv", "parquet"} {
			t.Run(algo+"/trained on "+trainOn, func(t *testing.T) {
				tr, va, err := tables[trainOn].SplitFraction(0.3, 1)
				if err != nil {
					t.Fatal(err)
				}
				m, err := Fit(ctx, tr, va, fitOptions(algo))
				if err != nil {
					t.Fatal(err)
				}
				mc, err := m.Margins(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				mp, err := m.Margins(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				x := make([]float64, len(m.Features))
				differ := 0
				for i := range mc {
					for k, f := range m.Features {
						_, j := tb.Column(f.Name)
						x[k] = mem[j][i]
					}
					inMemory := m.Margin(x)
					if math.Float64bits(mc[i]) != math.Float64bits(mp[i]) || math.Float64bits(mc[i]) != math.Float64bits(inMemory) {
						if differ++; differ <= 5 {
							t.Errorf("row %d: margin %v from the CSV, %v from the Parquet, %v from the table in memory", i+1, mc[i], mp[i], inMemory)
						}
					}
				}
				if differ > 0 {
					t.Fatalf("%d of %d margins differ", differ, len(mc))
				}
			})
		}
	}
}
