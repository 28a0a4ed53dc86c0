package fairness

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestAuditCountsAndFlags(t *testing.T) {
	// 400 rows in two groups. Group a: positives score high; group b: the
	// model ranks its positives low, so at capacity b's TPR falls behind.
	var scores, labels []float64
	var g []string
	for i := 0; i < 200; i++ {
		pos := i%4 == 0
		s := 0.1
		if pos {
			s = 0.9
		}
		scores, labels, g = append(scores, s), append(labels, b2f(pos)), append(g, "a")
	}
	for i := 0; i < 200; i++ {
		pos := i%4 == 0
		s := 0.2
		if pos && i%8 == 0 {
			s = 0.8
		}
		scores, labels, g = append(scores, s), append(labels, b2f(pos)), append(g, "b")
	}
	rep, err := Audit(scores, labels, map[string][]string{"grp": g}, nil, Options{Capacity: 75})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Selected != 75 || rep.Positives != 100 {
		t.Fatalf("selected %d positives %d", rep.Selected, rep.Positives)
	}
	a, b := rep.Characteristics[0].Groups[0], rep.Characteristics[0].Groups[1]
	// a: 50 positives at 0.9 all selected; b: 25 positives at 0.8 selected.
	if a.Selected != 50 || a.TPR.Value != 1 || b.Selected != 25 || b.TPR.Value != 0.5 {
		t.Fatalf("a %+v\nb %+v", a, b)
	}
	if *b.TPRRatio != 0.5 || *b.SelectionRatio != 0.5 || len(b.Flags) != 2 || len(a.Flags) != 0 {
		t.Errorf("ratios/flags wrong: b %v %v %v", *b.TPRRatio, *b.SelectionRatio, b.Flags)
	}
	if got := rep.Characteristics[0].Flagged; len(got) != 1 || got[0] != "b" {
		t.Errorf("flagged %v", got)
	}
	if b.Precision.Value != 1 || b.FPR.Value != 0 {
		t.Errorf("b precision %v fpr %v", b.Precision.Value, b.FPR.Value)
	}
	if math.Abs(a.MeanScore-(50*0.9+150*0.1)/200) > 1e-12 || a.ObservedRate.Value != 0.25 {
		t.Errorf("calibration a: mean %v observed %v", a.MeanScore, a.ObservedRate.Value)
	}
}

func TestSmallGroupsAreSaidNotHidden(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 1000
	scores, labels, g := make([]float64, n), make([]float64, n), make([]string, n)
	for i := range scores {
		scores[i] = r.Float64()
		labels[i] = b2f(r.Float64() < scores[i])
		g[i] = "big"
		if i < 10 {
			g[i] = "tiny"
		}
		if i >= 10 && i < 20 {
			g[i] = ""
		}
	}
	rep, err := Audit(scores, labels, map[string][]string{"x": g}, []string{"x"}, Options{Capacity: 100})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, gr := range rep.Characteristics[0].Groups {
		names = append(names, gr.Name)
		if gr.Name != "big" && (!gr.TooSmall || gr.SelectionRatio != nil || len(gr.Flags) > 0) {
			t.Errorf("group %s: too small to judge must be said and not flagged: %+v", gr.Name, gr)
		}
	}
	if strings.Join(names, ",") != "big,not recorded,tiny" {
		t.Errorf("groups %v", names)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatalf("report does not marshal: %v", err)
	}
}

func TestWilson(t *testing.T) {
	// Known values: 8 of 10 → (0.490, 0.943).
	r := wilson(8, 10)
	if math.Abs(r.Lo-0.4902) > 1e-3 || math.Abs(r.Hi-0.9433) > 1e-3 {
		t.Errorf("wilson(8,10) = %v", r)
	}
	if r := wilson(0, 0); r.Defined {
		t.Error("0/0 is defined")
	}
}

func TestAuditRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name           string
		scores, labels []float64
		groups         map[string][]string
		want           string
	}{
		{"length", []float64{0.1}, []float64{0, 1}, nil, "1 scores but 2 labels"},
		{"nan", []float64{math.NaN()}, []float64{0}, nil, "row 0 is NaN"},
		{"label", []float64{0.1}, []float64{2}, nil, "label of row 0"},
		{"groups", []float64{0.1}, []float64{1}, map[string][]string{"sex": {"F", "M"}}, "sex has 2 values"},
		{"empty", nil, nil, nil, "no rows"},
	} {
		_, err := Audit(tc.scores, tc.labels, tc.groups, nil, Options{Capacity: 1})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
