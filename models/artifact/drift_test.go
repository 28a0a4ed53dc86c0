package artifact

import (
	"context"
	"strings"
	"testing"
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
