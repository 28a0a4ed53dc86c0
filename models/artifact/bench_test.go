package artifact

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"caserisk/models/calibrate"
	"caserisk/models/dataset"
	"caserisk/models/tree"
)

// randomEnsemble returns trees full to the given depth on random features
// and thresholds: the shape of a trained 100-round, depth-6 model.
func randomEnsemble(rng *rand.Rand, trees, depth, nfeat int) *tree.Ensemble {
	e := &tree.Ensemble{Base: -3, NumFeatures: nfeat}
	nodes := 1<<(depth+1) - 1
	for range trees {
		var t tree.Tree
		for i := range nodes {
			l, r := int32(2*i+1), int32(2*i+2)
			f, v := int32(rng.IntN(nfeat)), 0.0
			if int(l) >= nodes {
				l, r, f, v = -1, -1, -1, rng.NormFloat64()*0.1
			}
			t.Left, t.Right, t.Feature = append(t.Left, l), append(t.Right, r), append(t.Feature, f)
			t.Threshold = append(t.Threshold, rng.ExpFloat64()*50)
			t.DefaultLeft = append(t.DefaultLeft, rng.IntN(2) == 0)
			t.Value, t.Cover, t.Gain = append(t.Value, v), append(t.Cover, 1), append(t.Gain, 0)
		}
		e.Trees = append(e.Trees, t)
	}
	return e
}

// BenchmarkScore scores 1M rows × 40 features with a 100-tree, depth-6
// gbdt model, as caserisk score does after reading the table.
func BenchmarkScore(b *testing.B) {
	const rows, nfeat = 1_000_000, 40
	rng := rand.New(rand.NewPCG(1, 1))
	var sb strings.Builder
	names := make([]string, nfeat)
	for j := range names {
		names[j] = fmt.Sprintf("f%d", j)
	}
	sb.WriteString("resident_id," + strings.Join(names, ",") + "\n")
	for i := range rows {
		fmt.Fprintf(&sb, "R%d", i)
		for range nfeat {
			if rng.IntN(10) == 0 {
				sb.WriteString(",")
			} else {
				fmt.Fprintf(&sb, ",%.2f", rng.ExpFloat64()*50)
			}
		}
		sb.WriteString("\n")
	}
	tab, err := dataset.ReadCSV(context.Background(), "bench.csv", []byte(sb.String()), dataset.Options{})
	if err != nil {
		b.Fatal(err)
	}
	m := &Model{Algorithm: GBDT, Target: "label_y", Ensemble: randomEnsemble(rng, 100, 6, nfeat),
		Calibration: &calibrate.Calibrator{Method: calibrate.Platt, A: -1, B: 0}}
	for _, n := range names {
		m.Features = append(m.Features, Feature{FeatureMeta: dataset.FeatureMeta{Name: n}})
	}
	if err := m.Validate(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, _, err := m.Scores(context.Background(), tab); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/time.Since(start).Seconds(), "rows/s")
}
