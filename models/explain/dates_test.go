package explain

import (
	"math"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		days float64
		want string
	}{
		{0, "0 days"},
		{1, "1 day"},
		{45.6, "45 days"},
		{60, "60 days"},
		{62, "2 months"},
		{365, "11 months"},
		{366, "12 months"},
		{700, "22 months"},
		{731, "2 years"},
		{1461, "4 years"},
		{1560, "4 years and 3 months"},
		{-3, "0 days"},
		{math.NaN(), "0 days"},
	}
	for _, tc := range tests {
		if got := Duration(tc.days); got != tc.want {
			t.Errorf("Duration(%v) = %q, want %q", tc.days, got, tc.want)
		}
	}
}

func TestDescribeAtNamesTheEvidenceDate(t *testing.T) {
	asOf := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	elsewhere := FeatureInfo{Name: "tenant_registered_elsewhere_days", Unit: "days",
		Template: "A tenant registered to vote at another address {since}", Missing: "empty when no tenant is registered to vote at another address"}
	repairs := FeatureInfo{Name: "days_without_repair_report", Unit: "days", Template: "No repair reported at the home {for}"}
	death := FeatureInfo{Name: "days_since_tenant_death", Unit: "days", Template: "A tenant died {date}"}
	tests := []struct {
		f    FeatureInfo
		v    float64
		at   time.Time
		want string
	}{
		// 2025-01-01 less 670 days is 2023-03-03.
		{elsewhere, 670, asOf, "A tenant registered to vote at another address since March 2023"},
		{elsewhere, 670, time.Time{}, "A tenant registered to vote at another address for 22 months"},
		{elsewhere, math.NaN(), asOf, "no tenant is registered to vote at another address"},
		{repairs, 1461, asOf, "No repair reported at the home for 4 years"},
		{repairs, 1461, time.Time{}, "No repair reported at the home for 4 years"},
		{death, 400, asOf, "A tenant died in November 2023"},
		{death, 400, time.Time{}, "A tenant died 13 months ago"},
		{death, 0, asOf, "A tenant died today"},
	}
	for _, tc := range tests {
		if got := DescribeAt(tc.f, tc.v, tc.at); got != tc.want {
			t.Errorf("DescribeAt(%s, %v, %v) = %q, want %q", tc.f.Name, tc.v, tc.at.Format(time.DateOnly), got, tc.want)
		}
	}
	if got := PhraseAt(elsewhere, 670, true, asOf); got != "A tenant registered to vote at another address since March 2023 raised the risk" {
		t.Errorf("PhraseAt = %q", got)
	}
	// Reasons without a date phrase durations; ReasonsAt names the month.
	up, _ := Reasons([]FeatureInfo{elsewhere}, []float64{670}, []float64{1.5}, 3)
	upAt, _ := ReasonsAt([]FeatureInfo{elsewhere}, []float64{670}, []float64{1.5}, 3, asOf)
	if len(up) != 1 || len(upAt) != 1 || up[0].Text == upAt[0].Text || upAt[0].Text != "A tenant registered to vote at another address since March 2023 raised the risk" {
		t.Errorf("Reasons %+v, ReasonsAt %+v", up, upAt)
	}
	// A days feature without a date placeholder keeps its number.
	plain := FeatureInfo{Name: "days_since_repair", Unit: "days", Template: "Last repair activity {value} days ago"}
	if got := DescribeAt(plain, 40, asOf); got != "Last repair activity 40 days ago" {
		t.Errorf("plain days template: %q", got)
	}
}
