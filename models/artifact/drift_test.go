package artifact

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"caserisk/models/drift"
)

func TestDriftProfilesTravelAndDetectShift(t *testing.T) {
	m, va := trained(t, GBDT)
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Profiles == nil || len(back.Profiles.Features) != len(m.Features) || back.Profiles.Score == nil {
		t.Fatalf("profiles lost in the file: %+v", back.Profiles)
	}
	ctx := context.Background()
	same, err := back.Drift(ctx, va)
	if err != nil {
		t.Fatal(err)
	}
	if same.Score.PSI > 0.1 || same.Features[0].PSI > 0.1 {
		t.Errorf("held-out rows of the same population drifted: score %v, %v", same.Score, same.Features[0])
	}
	// Triple every arrears value: that feature, and the score, must move most.
	col, _ := va.Column("arrears_gbp")
	for i := range col {
		col[i] *= 3
	}
	moved, err := back.Drift(ctx, va)
	if err != nil {
		t.Fatal(err)
	}
	if moved.Features[0].Name != "arrears_gbp" || moved.Features[0].PSI < 0.25 || moved.Score.PSI <= same.Score.PSI {
		t.Errorf("shift not found: top %v, score %v", moved.Features[0], moved.Score)
	}
	back.Profiles = nil
	if _, err := back.Drift(ctx, va); err == nil || !strings.Contains(err.Error(), "no training profiles") {
		t.Errorf("a model without profiles: %v", err)
	}
}

// TestProfilesOfTheTrainingRows checks the stored profiles against
// profiles built from the training rows directly: the features', and the
// score's from scoring the rows again, whether Fit took the margins from
// the trainer (gbdt without early stopping) or scored the rows itself.
func TestProfilesOfTheTrainingRows(t *testing.T) {
	tab := synthetic(t, 3000, 1)
	tr, va, err := tab.SplitFraction(0.3, 1)
	if err != nil {
		t.Fatal(err)
	}
	labelled, _ := tr.DropUnlabelled()
	for _, c := range []struct {
		name, algo string
		stop       int
	}{{"gbdt", GBDT, 0}, {"gbdt-early-stopping", GBDT, 2}, {"logistic", Logistic, 0}} {
		t.Run(c.name, func(t *testing.T) {
			o := fitOptions(c.algo)
			o.GBDT.EarlyStoppingRounds = c.stop
			if c.stop > 0 {
				o.GBDT.Rounds, o.GBDT.LearningRate, o.GBDT.MaxDepth = 200, 1, 6 // overfits: stops early
			}
			var tm Timings
			o.Timings = &tm
			m, err := Fit(context.Background(), tr, va, o)
			if err != nil {
				t.Fatal(err)
			}
			if c.stop > 0 && m.Training.Rounds == m.Training.BestRound+1 {
				t.Fatalf("early stopping dropped no trees (%d rounds)", m.Training.Rounds)
			}
			for j, name := range labelled.Names {
				want, _ := drift.NewProfile(labelled.Cols[j], driftBins)
				if !reflect.DeepEqual(m.Profiles.Features[name], want) {
					t.Errorf("%s: profile %+v, want %+v", name, m.Profiles.Features[name], want)
				}
			}
			probs, _, err := m.Scores(context.Background(), labelled)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := drift.NewProfile(probs, driftBins)
			if !reflect.DeepEqual(m.Profiles.Score, want) {
				t.Errorf("score profile %+v, want %+v", m.Profiles.Score, want)
			}
			var names []string
			for _, s := range tm.Steps {
				names = append(names, s.Name)
			}
			if got := strings.Join(names, " "); got != "prepare fingerprint fit calibrate validate profile check" {
				t.Errorf("steps %q", got)
			}
			if tm.Total() <= 0 || tm.Get("fit") <= 0 {
				t.Errorf("timings %+v", tm)
			}
		})
	}
}
