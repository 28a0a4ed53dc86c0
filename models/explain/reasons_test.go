package explain

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestFormatValue(t *testing.T) {
	tests := []struct {
		unit string
		v    float64
		want string
	}{
		{"GBP", 1240, "£1,240"},
		{"GBP", 1234567.6, "£1,234,568"},
		{"GBP", -50.2, "-£50"},
		{"GBP", 0, "£0"},
		{"count", 12, "12"},
		{"count", 12345, "12,345"},
		{"days", 1, "1 day"},
		{"days", 45.4, "45 days"},
		{"percent", 45, "45%"},
		{"percent", 12.34, "12.3%"},
		{"flag", 1, "Yes"},
		{"flag", 0, "No"},
		{"ratio", 0.754, "0.75"},
		{"people", 1, "1 person"},
		{"people", 4, "4 people"},
		{"years", 34, "34 years"},
		{"years", 2.5, "2.5 years"},
		{"years", 1, "1 year"},
		{"", 3.14159, "3.14"},
		{"", -0.001, "0"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %g", tc.unit, tc.v), func(t *testing.T) {
			if got := FormatValue(tc.unit, tc.v); got != tc.want {
				t.Fatalf("FormatValue(%q, %g) = %q, want %q", tc.unit, tc.v, got, tc.want)
			}
		})
	}
}

func TestPhrase(t *testing.T) {
	arrears := FeatureInfo{Name: "rent_arrears_gbp_90d", Description: "rent arrears", Unit: "GBP", WindowDays: 90}
	repairs := FeatureInfo{Name: "repairs_90d", Description: "repair requests", Unit: "count", WindowDays: 90,
		Template: "{value} repair requests in the last 90 days", ZeroTemplate: "No repair requests in the last 90 days"}
	csc := FeatureInfo{Name: "csc_contacts_365d", Description: "contacts with children's services", Unit: "count",
		WindowDays: 365, ZeroTemplate: "No contact with children's services in the last year"}
	flag := FeatureInfo{Name: "open_safeguarding", Description: "open safeguarding case", Unit: "flag"}
	tests := []struct {
		name   string
		f      FeatureInfo
		v      float64
		raised bool
		want   string
	}{
		{"money with window", arrears, 1240, true, "Rent arrears of £1,240 in the last 90 days raised the risk"},
		{"template", repairs, 3, true, "3 repair requests in the last 90 days raised the risk"},
		{"zero template", repairs, 0, false, "No repair requests in the last 90 days lowered the risk"},
		{"zero template, year", csc, 0, false, "No contact with children's services in the last year lowered the risk"},
		{"count without template", csc, 2, true, "Contacts with children's services of 2 in the last year raised the risk"},
		{"missing", arrears, math.NaN(), true, "Rent arrears in the last 90 days: not recorded, which raised the risk"},
		{"flag", flag, 1, true, "Open safeguarding case raised the risk"},
		{"flag, 0, no zero template", flag, 0, false, "No record of open safeguarding case lowered the risk"},
		{"template carrying £", FeatureInfo{Name: "rent_max_balance_gbp_365d", Unit: "GBP", Template: "Peak rent arrears of £{value} in the last year"},
			1240.4, true, "Peak rent arrears of £1,240 in the last year raised the risk"},
		{"template carrying %", FeatureInfo{Name: "school_attendance_pct", Unit: "percent", Template: "School attendance of {value}% last term"},
			87.26, true, "School attendance of 87.3% last term raised the risk"},
		{"template carrying days", FeatureInfo{Name: "early_help_days_since", Unit: "days", Template: "Early help {value} days ago"},
			40, false, "Early help 6 weeks before the score date lowered the risk"},
		{"flag template", FeatureInfo{Name: "sen_household", Unit: "flag", Template: "Special educational needs in the household ({value})",
			ZeroTemplate: "No special educational needs recorded in the household"}, 1, true, "Special educational needs in the household raised the risk"},
		{"sentence description", FeatureInfo{Name: "x", Description: "Rent arrears at the end of the last month.", Unit: "GBP"},
			90, true, "Rent arrears at the end of the last month of £90 raised the risk"},
		{"missing, explained", FeatureInfo{Name: "eh_days", Description: "Days since the household's latest early help event.", Unit: "days",
			Template: "Early help {value} days ago", Missing: "empty when the household has never had early help"},
			math.NaN(), false, "The household has never had early help, which lowered the risk"},
		{"missing, generic reason", FeatureInfo{Name: "eh_days", Description: "Days since the latest escalation.", Unit: "days",
			Template: "Escalation {value} days ago", Missing: "empty when no such event is known on the as-of date"},
			math.NaN(), true, "Days since the latest escalation: not recorded, which raised the risk"},
		{"window already described", FeatureInfo{Name: "cts_award", Description: "The latest weekly award in the last year.", Unit: "GBP", WindowDays: 365},
			math.NaN(), true, "The latest weekly award in the last year: not recorded, which raised the risk"},
		{"no metadata", FeatureInfo{Name: "missed_payments_12m"}, 4, true, "Missed payments in the last 360 days of 4 raised the risk"},
		{"no metadata, camel case", FeatureInfo{Name: "householdSize", Unit: "people"}, 5, false, "Household size of 5 people lowered the risk"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Phrase(tc.f, tc.v, tc.raised); got != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestHumanise(t *testing.T) {
	tests := map[string]string{
		"rent_arrears_90d":   "rent arrears in the last 90 days",
		"repairsCount":       "repairs count",
		"asb_reports_2y":     "asb reports in the last 2 years",
		"HB-claims.365d":     "hb claims in the last year",
		"___":                "unnamed feature",
		"school_absence_pct": "school absence pct",
	}
	for in, want := range tests {
		if got := Humanise(in); got != want {
			t.Errorf("Humanise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReasons(t *testing.T) {
	infos := []FeatureInfo{
		{Name: "f_arrears", Description: "rent arrears", Unit: "GBP"},
		{Name: "f_repairs", Description: "repair requests", Unit: "count"},
		{Name: "f_household", Description: "household size", Unit: "people"},
		{Name: "f_absence", Description: "school absence", Unit: "percent"},
		{Name: "f_tenancy", Description: "tenancy length", Unit: "years"},
	}
	x := []float64{500, 2, 3, math.NaN(), 4}
	contribs := []float64{0.8, -0.1, 0, 0.3, -0.5, -1.2 /* bias */}
	tests := []struct {
		k             int
		raise, lower  []string
		raiseValueNaN bool
	}{
		{0, nil, nil, false},
		{1, []string{"f_arrears"}, []string{"f_tenancy"}, false},
		{2, []string{"f_arrears", "f_absence"}, []string{"f_tenancy", "f_repairs"}, true},
		{9, []string{"f_arrears", "f_absence"}, []string{"f_tenancy", "f_repairs"}, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint("k=", tc.k), func(t *testing.T) {
			up, down := Reasons(infos, x, contribs, tc.k)
			if got := names(up); got != strings.Join(tc.raise, ",") {
				t.Fatalf("raising %s, want %v", got, tc.raise)
			}
			if got := names(down); got != strings.Join(tc.lower, ",") {
				t.Fatalf("lowering %s, want %v", got, tc.lower)
			}
			for _, r := range append(up, down...) {
				if strings.Contains(r.Text, r.Feature) || r.Text == "" {
					t.Fatalf("reason text %q shows the internal name %q", r.Text, r.Feature)
				}
			}
			if tc.raiseValueNaN && !math.IsNaN(up[1].Value) {
				t.Fatalf("missing value reported as %g", up[1].Value)
			}
		})
	}
}

func names(rs []Reason) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Feature)
	}
	return strings.Join(s, ",")
}

func TestReasonJSON(t *testing.T) {
	tests := []struct {
		r    Reason
		want string
	}{
		{Reason{Feature: "a", Text: "T", Contribution: 0.5, Value: 3}, `{"feature":"a","text":"T","contribution":0.5,"value":3}`},
		{Reason{Feature: "a", Text: "T", Contribution: -1, Value: math.NaN()}, `{"feature":"a","text":"T","contribution":-1,"value":null}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(tc.r)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("got %s, want %s", b, tc.want)
		}
	}
}

// FuzzHumanise checks that any feature name gives a non-empty phrase
// without the name's separators.
func FuzzHumanise(f *testing.F) {
	for _, s := range []string{"rent_arrears_90d", "aB", "_9d_", "x.y-z", "ÉtéCount"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		h := Humanise(name)
		if h == "" || strings.ContainsAny(h, "_") {
			t.Fatalf("Humanise(%q) = %q", name, h)
		}
		_ = Phrase(FeatureInfo{Name: name}, 1, true)
	})
}

func ExampleReasons() {
	infos := []FeatureInfo{
		{Name: "rent_arrears_90d", Description: "rent arrears", Unit: "GBP", WindowDays: 90},
		{Name: "csc_contacts_365d", Unit: "count", WindowDays: 365,
			ZeroTemplate: "No contact with children's services in the last year"},
		{Name: "repairs_90d", Unit: "count", Template: "{value} repair requests in the last 90 days"},
	}
	x := []float64{1240, 0, 5}
	contribs := []float64{0.9, -0.4, 0.2, -2.1} // the last is the bias
	raising, lowering := Reasons(infos, x, contribs, 2)
	for _, r := range raising {
		fmt.Println(r.Text)
	}
	for _, r := range lowering {
		fmt.Println(r.Text)
	}
	// Output:
	// Rent arrears of £1,240 in the last 90 days raised the risk
	// 5 repair requests in the last 90 days raised the risk
	// No contact with children's services in the last year lowered the risk
}
