package artifact

import (
	"context"
	"math"
	"strings"
	"testing"

	"caserisk/models/dataset"
)

// declare sets the direction of the named features of a table's metadata.
func declare(tab *dataset.Table, dirs map[string]string) {
	for i, n := range tab.Names {
		if d, ok := dirs[n]; ok {
			tab.Meta[i].Direction = d
		}
	}
}

// TestDirectionsToConstraintsToChecks: a direction declared in the feature
// metadata becomes a gbdt monotone constraint the trained model obeys, the
// training range is kept, and CheckDirections reports the constraint; the
// same declaration against what the data says is flagged for an
// unconstrained gbdt (by the SHAP correlation) and for logistic (by the
// coefficient's sign).
func TestDirectionsToConstraintsToChecks(t *testing.T) {
	ctx := context.Background()
	tab := synthetic(t, 3000, 1)
	// repairs_90d truly raises the risk; declare it decreasing, against the data.
	declare(tab, map[string]string{"repairs_90d": "decreasing", "arrears_gbp": "increasing"})
	tr, va, err := tab.SplitFraction(0.3, 1)
	if err != nil {
		t.Fatal(err)
	}

	m, err := Fit(ctx, tr, va, fitOptions(GBDT))
	if err != nil {
		t.Fatal(err)
	}
	mono := m.Monotone()
	if mono["repairs_90d"] != -1 || mono["arrears_gbp"] != 1 || len(mono) != 2 {
		t.Fatalf("constraints %v, want repairs_90d -1 and arrears_gbp +1", mono)
	}
	j := m.index(t, "repairs_90d")
	if r := m.Features[j].Range; len(r) != 2 || r[0] != 0 || r[1] != 5 {
		t.Errorf("range of repairs_90d %v, want [0 5]", r)
	}
	if r := m.Features[m.index(t, "noise")].Range; r != nil {
		t.Errorf("a feature without a direction keeps a range: %v", r)
	}
	// The margin never rises with repairs_90d, whatever the other values.
	cols, err := m.Columns(va)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, len(cols))
	for i := 0; i < 200; i++ {
		for k := range cols {
			x[k] = cols[k][i]
		}
		prev := math.Inf(1)
		for v := 0.0; v <= 5; v++ {
			x[j] = v
			if mg := m.Margin(x); mg > prev+1e-12 {
				t.Fatalf("row %d: margin rises from %v to %v as repairs_90d reaches %v", i, prev, mg, v)
			} else {
				prev = mg
			}
		}
	}
	check := func(m *Model) map[string]DirectionCheck {
		t.Helper()
		rep, err := m.CheckDirections(ctx, va, 0, 5)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != va.Len() || rep.Reasons != 5 || len(rep.Checks) != 2 {
			t.Fatalf("report %+v", rep)
		}
		out := map[string]DirectionCheck{}
		for _, c := range rep.Checks {
			out[c.Feature] = c
		}
		return out
	}
	c := check(m)
	if c["repairs_90d"].Evidence != ByConstraint || c["repairs_90d"].Against {
		t.Errorf("constrained gbdt: %+v", c["repairs_90d"])
	}

	// Saved and loaded, the model keeps its directions and constraints.
	path := t.TempDir() + "/m.json"
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Monotone()["repairs_90d"] != -1 || back.FeatureInfos()[j].Direction != "decreasing" || len(back.FeatureInfos()[j].Range) != 2 {
		t.Errorf("after a round trip: constraints %v, info %+v", back.Monotone(), back.FeatureInfos()[j])
	}

	o := fitOptions(GBDT)
	o.NoDirections = true
	free, err := Fit(ctx, tr, va, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(free.Monotone()) != 0 {
		t.Fatalf("NoDirections: constraints %v", free.Monotone())
	}
	c = check(free)
	if ch := c["repairs_90d"]; ch.Evidence != ByCorrelation || !ch.Against || ch.Effect == nil || *ch.Effect <= 0 || ch.Withheld == 0 {
		t.Errorf("unconstrained gbdt: %+v", ch)
	}
	if ch := c["arrears_gbp"]; ch.Against {
		t.Errorf("arrears_gbp declared as the data has it, flagged: %+v", ch)
	}

	o = fitOptions(GBDT)
	o.Monotone = map[string]int8{"repairs_90d": 0}
	lifted, err := Fit(ctx, tr, va, o)
	if err != nil {
		t.Fatal(err)
	}
	if mono := lifted.Monotone(); len(mono) != 1 || mono["arrears_gbp"] != 1 {
		t.Errorf("--monotone repairs_90d=0: constraints %v", mono)
	}

	lm, err := Fit(ctx, tr, va, fitOptions(Logistic))
	if err != nil {
		t.Fatal(err)
	}
	if ch := check(lm)["repairs_90d"]; ch.Evidence != ByCoefficient || !ch.Against || *ch.Effect <= 0 {
		t.Errorf("logistic: %+v", ch)
	}
}

func TestDirectionErrors(t *testing.T) {
	tab := synthetic(t, 400, 2)
	declare(tab, map[string]string{"noise": "upwards"})
	_, err := Fit(context.Background(), tab, nil, FitOptions{Algorithm: GBDT, GBDT: fitOptions(GBDT).GBDT})
	if err == nil || !strings.Contains(err.Error(), `noise`) || !strings.Contains(err.Error(), `"upwards"`) {
		t.Errorf("unknown direction: %v", err)
	}
	m, _ := trained(t, GBDT)
	m.Features[0].Range = []float64{3, 1}
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "range") {
		t.Errorf("reversed range: %v", err)
	}
	m.Features[0].Range, m.Features[0].Direction = nil, "sideways"
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "sideways") {
		t.Errorf("unknown direction: %v", err)
	}
	if rep, err := m.CheckDirections(context.Background(), synthetic(t, 10, 3), 0, 5); err == nil && rep != nil {
		t.Errorf("a model with no valid direction checked: %+v", rep)
	}
}

// index returns the position of a feature in the model.
func (m *Model) index(t *testing.T, name string) int {
	t.Helper()
	for j, f := range m.Features {
		if f.Name == name {
			return j
		}
	}
	t.Fatalf("no feature %s", name)
	return -1
}
