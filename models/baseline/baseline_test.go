package baseline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"caserisk/models/dataset"
)

// table returns rows where the label is 1 exactly when x > 0.7 (so a
// depth-1 tree can learn it), with a noise column and some missing x.
func table(t *testing.T, rows int, seed uint64) *dataset.Table {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 5))
	var b strings.Builder
	b.WriteString("resident_id,x,noise,label_y\n")
	for i := range rows {
		x := rng.Float64()
		xs := fmt.Sprintf("%.4f", x)
		if i%37 == 0 {
			xs = ""
			x = 0 // the median of x is about 0.5: imputed rows are negatives
		}
		y := 0
		if x > 0.7 {
			y = 1
		}
		fmt.Fprintf(&b, "R%d,%s,%.3f,%d\n", i, xs, rng.NormFloat64(), y)
	}
	tab, err := dataset.ReadCSV(context.Background(), "t.csv", []byte(b.String()), dataset.Options{Label: "label_y"})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestFitPredict(t *testing.T) {
	train, test := table(t, 1200, 1), table(t, 400, 2)
	o := Options{MaxDepth: 2, Sample: 300, Seed: 3}
	b, err := Fit(context.Background(), train, o)
	if err != nil {
		t.Fatal(err)
	}
	if b.Sample != 300 || b.SamplePositives != 150 {
		t.Errorf("sample %d with %d positives, want 300 with 150", b.Sample, b.SamplePositives)
	}
	pred, err := b.Predict(test)
	if err != nil {
		t.Fatal(err)
	}
	wrong := 0
	for i, p := range pred {
		if p != test.Label[i] {
			wrong++
		}
	}
	if wrong > 12 {
		t.Errorf("%d of %d test rows wrong on a threshold rule", wrong, len(pred))
	}
	// The same seed gives the same tree.
	b2, _ := Fit(context.Background(), train, o)
	pred2, _ := b2.Predict(test)
	if !slices.Equal(pred, pred2) {
		t.Error("the same seed gave different predictions")
	}
}

func TestFitErrors(t *testing.T) {
	tab := table(t, 100, 1)
	var negatives []int
	for i, y := range tab.Label {
		if y == 0 {
			negatives = append(negatives, i)
		}
	}
	tests := []struct {
		name string
		tab  *dataset.Table
		o    Options
		want string
	}{
		{"depth", tab, Options{MaxDepth: 0, Sample: 10}, "max depth 0"},
		{"one class", tab.Subset(negatives), Options{MaxDepth: 2, Sample: 10}, "one class only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Fit(context.Background(), tc.tab, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
	other, _ := dataset.ReadCSV(context.Background(), "o.csv", []byte("x,label_y\n1,0\n"), dataset.Options{Label: "label_y"})
	b, err := Fit(context.Background(), tab, Options{MaxDepth: 1, Sample: 50})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Predict(other); err == nil || !strings.Contains(err.Error(), `o.csv has no feature "noise"`) {
		t.Errorf("error = %v", err)
	}
}

func TestConfusions(t *testing.T) {
	labels := []float64{1, 1, 0, 0, 0, 1}
	tests := []struct {
		name  string
		flags []float64
		want  Confusion
	}{
		{"mixed", []float64{1, 0, 1, 0, 0, 1}, Confusion{Flagged: 3, TP: 2, FP: 1, FN: 1, TN: 2, Precision: 2.0 / 3, Recall: 2.0 / 3, Accuracy: 4.0 / 6}},
		{"none flagged", []float64{0, 0, 0, 0, 0, 0}, Confusion{Flagged: 0, FN: 3, TN: 3, Accuracy: 0.5}},
		{"all flagged", []float64{1, 1, 1, 1, 1, 1}, Confusion{Flagged: 6, TP: 3, FP: 3, Precision: 0.5, Recall: 1, Accuracy: 0.5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Confusions([]string{tc.name}, [][]float64{tc.flags}, labels)
			if err != nil {
				t.Fatal(err)
			}
			g := got[0]
			g.Name, g.Table = "", ""
			if g != tc.want {
				t.Errorf("got %+v\nwant %+v", g, tc.want)
			}
		})
	}
	if _, err := Confusions([]string{"short"}, [][]float64{{1}}, labels); err == nil {
		t.Error("length mismatch accepted")
	}
}

func TestFlagging(t *testing.T) {
	scores := []float64{0.2, 0.9, 0.5, 0.9, 0.1}
	tests := []struct {
		name string
		got  []float64
		want []float64
	}{
		{"top 2", TopN(scores, 2), []float64{0, 1, 0, 1, 0}},
		{"top 3", TopN(scores, 3), []float64{0, 1, 1, 1, 0}},
		{"top 9", TopN(scores, 9), []float64{1, 1, 1, 1, 1}},
		{"at 0.5", AtThreshold(scores, 0.5), []float64{0, 1, 1, 1, 0}},
	}
	for _, tc := range tests {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
