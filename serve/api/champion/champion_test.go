package champion

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"caserisk/models/artifact"
	"caserisk/models/artifact/artifacttest"
	"caserisk/models/dataset"
	"caserisk/serve/store"
)

// stump returns a valid one-split gbdt artifact for target: feature
// "arrears_gbp" < 100 gives margin -leaf, else +leaf.
func stump(t *testing.T, target string, leaf float64) *artifact.Model {
	t.Helper()
	return artifacttest.Stump(target, leaf)
}

func marshal(t *testing.T, m *artifact.Model) []byte {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadArtifactScoresAndExplains(t *testing.T) {
	m, err := LoadArtifact(store.ComplexCase, marshal(t, stump(t, "label_complex_case", 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		x      []float64
		margin float64
	}{
		{[]float64{50, 0}, -1},
		{[]float64{150, 0}, 1},
		{[]float64{math.NaN(), 0}, -1}, // missing goes left
	} {
		p, margin := m.Score(tc.x)
		if margin != tc.margin || math.Abs(p-1/(1+math.Exp(-tc.margin))) > 1e-12 {
			t.Fatalf("x=%v: prob %v margin %v, want margin %v", tc.x, p, margin, tc.margin)
		}
	}
	rs := m.Reasons([]float64{150, 3}, 3, time.Time{})
	if len(rs) != 1 || rs[0].Feature != "arrears_gbp" || rs[0].Contribution != 1 || rs[0].Text == "" {
		t.Fatalf("reasons %+v", rs)
	}
	if got := m.Reasons([]float64{150, 3}, 0, time.Time{}); got != nil {
		t.Fatalf("k=0 gave %v", got)
	}
	a := m.(*Artifact)
	margins, err := a.MarginsColumns(context.Background(), [][]float64{{50, 150, math.NaN()}, {0, 0, 0}})
	if err != nil || margins[0] != -1 || margins[1] != 1 || margins[2] != -1 {
		t.Fatalf("batch margins %v, %v", margins, err)
	}
}

// TestReasonsNameDatesAndKeepDirections: the served reasons count days back
// from the as-of date into a month, and a reason that runs against its
// feature's declared direction is withheld.
func TestReasonsNameDatesAndKeepDirections(t *testing.T) {
	m := stump(t, "complex_case", 1)
	// The split is on feature 1 now: days since the household's latest
	// crisis, declared decreasing; < 100 days gives +1, else -1.
	m.Ensemble.Trees[0].Feature[0] = 1
	m.Ensemble.Trees[0].Value = []float64{0, 1, -1}
	m.Features[1].FeatureMeta = dataset.FeatureMeta{Name: "days_since_crisis", Unit: "days", Template: "A crisis in the household {when}",
		Direction: "decreasing"}
	m.Features[1].Range = []float64{0, 3000}
	a, err := LoadArtifact(store.ComplexCase, marshal(t, m))
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rs := a.Reasons([]float64{0, 40}, 3, asOf)
	if len(rs) != 1 || rs[0].Text != "A crisis in the household in November 2024 raised the risk" {
		t.Fatalf("reasons %+v", rs)
	}
	// A crisis long ago lowers the margin here: "a crisis lowered the risk"
	// runs against the declared direction and is not shown.
	if rs := a.Reasons([]float64{0, 907}, 3, asOf); len(rs) != 0 {
		t.Fatalf("a wrong-way reason was shown: %+v", rs)
	}
}

func TestLoadArtifactRejects(t *testing.T) {
	good := marshal(t, stump(t, "complex_case", 1))
	for name, tc := range map[string]struct {
		target store.Target
		b      []byte
		want   string
	}{
		"wrong target": {store.TenancyFraud, good, "predicts"},
		"not a model":  {store.ComplexCase, []byte(`{"hello":1}`), "not a caserisk model"},
		"tampered":     {store.ComplexCase, []byte(strings.Replace(string(good), `"threshold":[100`, `"threshold":[101`, 1)), "checksum"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadArtifact(tc.target, tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestBands(t *testing.T) {
	for _, tc := range []struct {
		b  store.Bands
		ok bool
	}{
		{store.Bands{High: 0.5, Medium: 0.2}, true},
		{store.Bands{High: 0.2, Medium: 0.5}, false},
		{store.Bands{High: 1.5, Medium: 0.2}, false},
		{store.Bands{High: 0.5, Medium: -0.1}, false},
		{store.Bands{High: math.NaN(), Medium: 0.1}, false},
	} {
		if err := ValidateBands(tc.b); (err == nil) != tc.ok {
			t.Errorf("%+v: err %v", tc.b, err)
		}
	}
}

func TestReasonJSON(t *testing.T) {
	b, err := json.Marshal(Reason{Feature: "f", Value: math.NaN(), Contribution: 0.5, Text: "t"})
	if err != nil || string(b) != `{"feature":"f","value":null,"contribution":0.5,"text":"t"}` {
		t.Fatalf("%s %v", b, err)
	}
	var r Reason
	if err := json.Unmarshal(b, &r); err != nil || !math.IsNaN(r.Value) || r.Contribution != 0.5 {
		t.Fatalf("%+v %v", r, err)
	}
}

// TestHolderSwap swaps champions while readers load them: every reader
// sees a whole champion, and after Set returns every Get sees the new one.
func TestHolderSwap(t *testing.T) {
	var h Holder
	if h.Get(store.ComplexCase) != nil {
		t.Fatal("empty holder has a champion")
	}
	mk := func(v int) *Champion {
		m, err := LoadArtifact(store.ComplexCase, marshal(t, stump(t, "complex_case", float64(v))))
		if err != nil {
			t.Fatal(err)
		}
		c, err := New(store.ComplexCase, v, m, store.Bands{High: 0.5, Medium: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := h.Set(mk(1)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c := h.Get(store.ComplexCase)
				_, margin := c.Model.Score([]float64{150, 0})
				if margin != float64(c.Version) {
					t.Errorf("champion v%d scored with another model's margin %v", c.Version, margin)
					return
				}
			}
		}()
	}
	for v := 2; v <= 20; v++ {
		old, err := h.Set(mk(v))
		if err != nil || old.Version != v-1 {
			t.Fatalf("swap to v%d replaced %+v (%v)", v, old, err)
		}
		if got := h.Get(store.ComplexCase).Version; got != v {
			t.Fatalf("after Set(v%d) Get gives v%d", v, got)
		}
	}
	close(stop)
	wg.Wait()
	if _, err := h.Set(&Champion{Target: "other"}); err == nil {
		t.Fatal("set a champion for an unknown target")
	}
}
