package explain

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

var asOf = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestSingular(t *testing.T) {
	tests := map[string]string{
		" rent payments in the last year":                                   " rent payment in the last year",
		" contacts with children's social care in the last 90 days":         " contact with children's social care in the last 90 days",
		" children's social care referrals or assessments in the household": " children's social care referral or assessment in the household",
		" homelessness approaches in the household":                         " homelessness approach in the household",
		" council tax summonses or liability orders in the last year":       " council tax summons or liability order in the last year",
		" rent arrears actions in the last year":                            " rent arrears action in the last year",
		" school sessions missed in the last year":                          " school session missed in the last year",
		" missed council tax payments in the last year":                     " missed council tax payment in the last year",
		" people in the household":                                          " person in the household",
		" children in the household":                                        " child in the household",
		" different categories of need recorded":                            " different category of need recorded",
		" earlier crisis events for the person":                             " earlier crisis event for the person",
		" other adults registered at the home":                              " other adult registered at the home",
		" violence or harassment incidents involving the household":         " violence or harassment incident involving the household",
		" council services in the last year":                                " council service in the last year",
		" people per bedroom":                                               " person per bedroom",
		" months in advance":                                                " month in advance",
		" boxes, matches and wishes":                                        " box, match and wish",
		" anti-social behaviour incidents as perpetrator":                   " anti-social behaviour incident as perpetrator",
		" earlier fraud referrals about the tenancy":                        " earlier fraud referral about the tenancy",
		" Cases":    " Case",
		" analysis": " analysis",
	}
	for in, want := range tests {
		if got := Singular(in); got != want {
			t.Errorf("Singular(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

func TestShareWords(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "none"}, {1, "all"}, {0.5, "half"}, {0.502, "half"}, {1.0 / 3, "a third"}, {2.0 / 3, "two thirds"},
		{0.25, "a quarter"}, {0.75, "three quarters"}, {0.2, "a fifth"}, {0.6, "three fifths"}, {0.3, "3 in 10"},
		{0.37, "about 4 in 10"}, {0.12, "about 1 in 10"}, {0.02, "fewer than 1 in 20"}, {0.97, "nearly all"},
		{math.NaN(), "an unknown share"},
	}
	for _, tc := range tests {
		if got := ShareWords(tc.v); got != tc.want {
			t.Errorf("ShareWords(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestDatesAndDurations(t *testing.T) {
	tests := []struct {
		days               float64
		when, since, durat string
	}{
		{907, "in July 2022", "since July 2022", "2 years and 6 months"},
		{0, "in January 2025", "since January 2025", "0 days"},
		{1, "in December 2024", "since December 2024", "1 day"},
		{40, "in November 2024", "since November 2024", "6 weeks"},
		{200, "in June 2024", "since June 2024", "7 months"},
		{730, "in January 2023", "since January 2023", "2 years"},
		{365, "in January 2024", "since January 2024", "12 months"},
	}
	for _, tc := range tests {
		if got := When(tc.days, asOf); got != tc.when {
			t.Errorf("When(%v) = %q, want %q", tc.days, got, tc.when)
		}
		if got := Since(tc.days, asOf); got != tc.since {
			t.Errorf("Since(%v) = %q, want %q", tc.days, got, tc.since)
		}
		if got := Duration(tc.days); got != tc.durat {
			t.Errorf("Duration(%v) = %q, want %q", tc.days, got, tc.durat)
		}
	}
	if got := When(907, time.Time{}); got != "2 years and 6 months before the score date" {
		t.Errorf("When without an as-of date = %q", got)
	}
	if got := Since(907, time.Time{}); got != "for 2 years and 6 months" {
		t.Errorf("Since without an as-of date = %q", got)
	}
}

// TestPhraseTable is the phrasing of reasons as a caseworker reads them:
// dates instead of day counts, plurals, shares as words, flags as facts.
func TestPhraseTable(t *testing.T) {
	crisis := FeatureInfo{Name: "days_since_escalation_household", Unit: "days", Aggregation: "signal",
		Template: "A crisis in the household {when}", Missing: "empty when the household has no earlier escalation"}
	oldCrisis := FeatureInfo{Name: "days_since_escalation_household", Unit: "days", Aggregation: "signal",
		Template: "A crisis event in the household {value} days ago"}
	atAddress := FeatureInfo{Name: "days_at_address", Unit: "days", Template: "Living at the address for {value} days"}
	rent := FeatureInfo{Name: "rent_payments_365d", Unit: "count", Template: "{value} rent payments in the last year",
		ZeroTemplate: "No rent payment in the last year"}
	rentChoice := FeatureInfo{Name: "rent_payments_365d", Unit: "count", Template: "{value} rent {payment|payments} in the last year"}
	ctShare := FeatureInfo{Name: "ct_missed_share_365d", Unit: "ratio", Aggregation: "share",
		Template: "Missing {share} of the council tax instalments in the last year"}
	oldShare := FeatureInfo{Name: "ct_missed_share_365d", Unit: "ratio", Aggregation: "share",
		Template: "A {value} share of council tax instalments missed in the last year"}
	cts := FeatureInfo{Name: "cts_claimant_365d", Unit: "flag", Aggregation: "any",
		Template: "Claiming council tax support in the last year", ZeroTemplate: "No council tax support claim in the last year"}
	oldCts := FeatureInfo{Name: "cts_claimant_365d", Unit: "flag", Aggregation: "any",
		Template: "Council tax support claimed in the last year ({value})"}
	whether := FeatureInfo{Name: "cts", Unit: "flag", Description: "Whether the household claimed council tax support in the last year."}
	cin := FeatureInfo{Name: "csc_household_child_in_need_all", Unit: "flag", Aggregation: "any",
		Template:     "A child in need or child protection enquiry in the household since records began ({value})",
		ZeroTemplate: "No child in need or child protection enquiry in the household since records began"}
	people := FeatureInfo{Name: "household_size", Unit: "people", Template: "{value} people in the household"}
	ratio := FeatureInfo{Name: "people_per_bedroom", Unit: "ratio", Template: "{value} people per bedroom"}
	evidence := FeatureInfo{Name: "tenant_registered_elsewhere", Unit: "flag",
		Template: "A tenant registered to vote at another address {since:registered_elsewhere_days}"}
	regDays := FeatureInfo{Name: "registered_elsewhere_days", Unit: "days"}

	tests := []struct {
		name string
		f    FeatureInfo
		v    float64
		up   bool
		asOf time.Time
		want string
	}{
		{"date, not a day count", crisis, 907, true, asOf, "A crisis in the household in July 2022 raised the risk"},
		{"older day-count template reads as a date", oldCrisis, 907, true, asOf, "A crisis event in the household in July 2022 raised the risk"},
		{"no as-of date: a duration before the score date", crisis, 907, true, time.Time{}, "A crisis in the household 2 years and 6 months before the score date raised the risk"},
		{"since", atAddress, 1200, false, asOf, "Living at the address since September 2021 lowered the risk"},
		{"missing with its reason", crisis, math.NaN(), false, asOf, "The household has no earlier escalation, which lowered the risk"},
		{"one payment", rent, 1, true, asOf, "1 rent payment in the last year raised the risk"},
		{"two payments", rent, 2, true, asOf, "2 rent payments in the last year raised the risk"},
		{"no payment", rent, 0, true, asOf, "No rent payment in the last year raised the risk"},
		{"explicit singular", rentChoice, 1, true, asOf, "1 rent payment in the last year raised the risk"},
		{"explicit plural", rentChoice, 12, false, asOf, "12 rent payments in the last year lowered the risk"},
		{"share in words", ctShare, 0.5, true, asOf, "Missing half of the council tax instalments in the last year raised the risk"},
		{"share about", ctShare, 0.42, true, asOf, "Missing about 4 in 10 of the council tax instalments in the last year raised the risk"},
		{"older share template", oldShare, 0.5, true, asOf, "Half of council tax instalments missed in the last year raised the risk"},
		{"flag as a fact", cts, 1, true, asOf, "Claiming council tax support in the last year raised the risk"},
		{"flag's zero", cts, 0, false, asOf, "No council tax support claim in the last year lowered the risk"},
		{"older flag template drops (Yes)", oldCts, 1, true, asOf, "Council tax support claimed in the last year raised the risk"},
		{"older flag template without a zero", oldCts, 0, false, asOf, "No record of council tax support claimed in the last year lowered the risk"},
		{"flag from its description", whether, 1, true, asOf, "The household claimed council tax support in the last year raised the risk"},
		{"flag from its description, 0", whether, 0, false, asOf, "No record of the household claimed council tax support in the last year lowered the risk"},
		{"child in need", cin, 1, true, asOf, "A child in need or child protection enquiry in the household since records began raised the risk"},
		{"one person", people, 1, false, asOf, "1 person in the household lowered the risk"},
		{"people", people, 4, true, asOf, "4 people in the household raised the risk"},
		{"ratio of one", ratio, 1, false, asOf, "1 person per bedroom lowered the risk"},
		{"ratio", ratio, 1.5, true, asOf, "1.5 people per bedroom raised the risk"},
		{"money is not counted", FeatureInfo{Name: "cts", Unit: "GBP", Template: "£{value} in benefits overpaid"}, 1, true, asOf, "£1 in benefits overpaid raised the risk"},
		{"percent is not counted", FeatureInfo{Name: "att", Unit: "percent", Template: "{value}% sessions attended"}, 1, true, asOf, "1% sessions attended raised the risk"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := PhraseIn(Context{AsOf: tc.asOf}, tc.f, tc.v, tc.up); got != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}

	t.Run("evidence from another feature", func(t *testing.T) {
		p := NewPhrasing([]FeatureInfo{evidence, regDays})
		if got := p.Describe(0, []float64{1, 700}, asOf); got != "A tenant registered to vote at another address since February 2023" {
			t.Fatalf("got %q", got)
		}
		if got := p.Describe(0, []float64{1, math.NaN()}, asOf); got != "A tenant registered to vote at another address" {
			t.Fatalf("evidence not recorded: got %q", got)
		}
	})
	t.Run("a describer plugged in", func(t *testing.T) {
		p := NewPhrasing([]FeatureInfo{evidence, regDays})
		p.Describers = map[string]Describer{"tenant_registered_elsewhere": func(f FeatureInfo, v float64, c Context) (string, bool) {
			d, _ := c.Value("registered_elsewhere_days")
			return fmt.Sprintf("Registered elsewhere %s", When(d, c.AsOf)), true
		}}
		if got := p.Describe(0, []float64{1, 700}, asOf); got != "Registered elsewhere in February 2023" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestAtLowEndAndWrongWay(t *testing.T) {
	inc := FeatureInfo{Name: "csc", Direction: Increasing, Range: []float64{0, 12}}
	dec := FeatureInfo{Name: "days_since", Direction: Decreasing, Range: []float64{0, 3650}}
	incNoRange := FeatureInfo{Name: "csc", Direction: Increasing}
	decNoRange := FeatureInfo{Name: "days_since", Direction: Decreasing}
	none := FeatureInfo{Name: "age"}
	crisis := FeatureInfo{Name: "days_since_crisis", Unit: "days", Direction: Decreasing, Range: []float64{0, 909},
		Template: "A crisis in the household {when}"}
	tenure := FeatureInfo{Name: "days_at_address", Unit: "days", Direction: Decreasing, Range: []float64{0, 9000},
		Template: "Living at the address {since}"}
	tests := []struct {
		name      string
		f         FeatureInfo
		v, c      float64
		wrong     bool
		lowEndNow bool
	}{
		{"contacts lowered the risk", inc, 2, -0.3, true, false},
		{"contacts raised the risk", inc, 2, 0.3, false, false},
		{"no contact lowered the risk", inc, 0, -0.1, false, true},
		{"no contact raised the risk", inc, 0, 0.1, true, true},
		{"missing is never wrong", inc, math.NaN(), -1, false, false},
		{"zero contribution", inc, 3, 0, false, false},
		{"a crisis long ago lowered the risk", dec, 907, -0.2, true, false},
		{"a crisis long ago raised the risk", dec, 907, 0.2, false, false},
		{"the oldest value raised the risk", dec, 3650, 0.2, true, true},
		{"no range, increasing: 0 is the low end", incNoRange, 0, 0.2, true, true},
		{"no range, increasing: above 0 lowered", incNoRange, 1, -0.2, true, false},
		{"no range, decreasing: not judged", decNoRange, 5, -0.2, false, false},
		{"no direction", none, 40, -2, false, false},
		{"a dated event beyond the training range lowered the risk", crisis, 1295, -0.2, true, false},
		{"a dated event raised the risk", crisis, 1295, 0.2, false, false},
		{"a dated event without a range lowered the risk", FeatureInfo{Name: "d", Direction: Decreasing, Template: "Early help {value} days ago"}, 30, -0.1, true, false},
		{"a long stay at the end of the range lowered the risk", tenure, 9000, -0.2, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := WrongWay(tc.f, tc.v, tc.c); got != tc.wrong {
				t.Errorf("WrongWay = %v, want %v", got, tc.wrong)
			}
			if got := AtLowEnd(tc.f, tc.v); got != tc.lowEndNow {
				t.Errorf("AtLowEnd = %v, want %v", got, tc.lowEndNow)
			}
		})
	}
	if _, err := DirectionSign("upwards"); err == nil {
		t.Error("DirectionSign accepted an unknown word")
	}
}

// TestExplainWithholds checks that a wrong-way reason is withheld, counted,
// and replaced by the next strongest on its side.
func TestExplainWithholds(t *testing.T) {
	infos := []FeatureInfo{
		{Name: "cin", Unit: "flag", Direction: Increasing, Range: []float64{0, 1},
			Template: "A child protection enquiry in the household", ZeroTemplate: "No child protection enquiry in the household"},
		{Name: "age", Unit: "years", Template: "Aged {value}"},
		{Name: "arrears", Unit: "GBP", Direction: Increasing, Range: []float64{0, 5000}, Template: "Rent arrears of £{value}"},
		{Name: "eh", Unit: "count", Direction: Increasing, Range: []float64{0, 9}, Template: "{value} early help episodes",
			ZeroTemplate: "No early help"},
	}
	p := NewPhrasing(infos)
	x := []float64{1, 40, 300, 0}
	contribs := []float64{-0.9, -0.5, 0.4, -0.2, -1}
	e := p.Explain(x, contribs, 2, asOf)
	if got := names(e.Withheld); got != "cin" {
		t.Fatalf("withheld %s, want cin", got)
	}
	if got := names(e.Lowering); got != "age,eh" {
		t.Fatalf("lowering %s, want age,eh", got)
	}
	if got := names(e.Raising); got != "arrears" {
		t.Fatalf("raising %s, want arrears", got)
	}
	for _, r := range append(e.Raising, e.Lowering...) {
		if strings.Contains(r.Text, "enquiry") {
			t.Fatalf("a wrong-way reason is shown: %q", r.Text)
		}
	}
	// k = 1: the withheld reason was stronger than the one shown, so it counts.
	e = p.Explain(x, contribs, 1, asOf)
	if names(e.Withheld) != "cin" || names(e.Lowering) != "age" {
		t.Fatalf("k=1: withheld %s, lowering %s", names(e.Withheld), names(e.Lowering))
	}
	if e := p.Explain(x, contribs, 0, asOf); len(e.Raising)+len(e.Lowering)+len(e.Withheld) != 0 {
		t.Fatalf("k=0 gave reasons: %+v", e)
	}
}

func TestSignCorrelation(t *testing.T) {
	v := []float64{0, 1, 2, 3, math.NaN()}
	if r := SignCorrelation(v, []float64{-1, 0, 1, 2, 9}); math.Abs(r-1) > 1e-12 {
		t.Errorf("rising: %v", r)
	}
	if r := SignCorrelation(v, []float64{2, 1, 0, -1, 9}); math.Abs(r+1) > 1e-12 {
		t.Errorf("falling: %v", r)
	}
	if r := SignCorrelation(v, []float64{1, 1, 1, 1, 1}); !math.IsNaN(r) {
		t.Errorf("flat contributions: %v", r)
	}
}

// FuzzPhrase checks that no template or value gives an unfilled
// placeholder for a known placeholder, a "(Yes)" or a raw share.
func FuzzPhrase(f *testing.F) {
	f.Add("{value} rent payments in {window}", "count", 1.0)
	f.Add("A {value} share of X", "ratio", 0.5)
	f.Add("Council tax support ({value})", "flag", 1.0)
	f.Add("Crisis {value} days ago", "days", 907.0)
	f.Add("{value} {one|many}", "people", 2.0)
	f.Fuzz(func(t *testing.T, tmpl, unit string, v float64) {
		agg := ""
		if unit == "ratio" {
			agg = "share"
		}
		s := PhraseIn(Context{AsOf: asOf}, FeatureInfo{Name: "x", Unit: unit, Aggregation: agg, Template: tmpl}, v, true)
		if !wellFormed(tmpl) {
			return // a malformed placeholder is kept as written
		}
		for _, bad := range []string{"{value}", "{share}", "{when}", "{since}", "(Yes)"} {
			if strings.Contains(s, bad) && !strings.Contains(tmpl, bad[:len(bad)-1]) && !strings.Contains(tmpl, bad[1:]) {
				t.Fatalf("template %q, value %v: %q", tmpl, v, s)
			}
		}
		if strings.Contains(tmpl, "{") {
			return
		}
		if strings.Contains(s, "{") != strings.Contains(tmpl, "{") {
			t.Fatalf("template %q gave %q", tmpl, s)
		}
	})
}

// wellFormed reports whether every brace of a template opens and closes a
// placeholder without nesting.
func wellFormed(t string) bool {
	open := false
	for _, r := range t {
		switch r {
		case '{':
			if open {
				return false
			}
			open = true
		case '}':
			if !open {
				return false
			}
			open = false
		}
	}
	return !open
}

// TestAuditDirections: a linear model that learned the wrong sign for a
// feature declared increasing shows a negative correlation, and every row
// whose strongest lowering reason came from it counts as withheld.
func TestAuditDirections(t *testing.T) {
	lin := &Linear{Mean: []float64{1, 1}, Scale: []float64{1, 1}, Coef: []float64{-2, 0.01}, Intercept: -1}
	infos := []FeatureInfo{
		{Name: "cin", Unit: "count", Direction: Increasing, Range: []float64{0, 3}},
		{Name: "age", Unit: "years"},
	}
	cols := [][]float64{{0, 1, 2, 3, math.NaN()}, {30, 40, 50, 60, 70}}
	got, err := AuditDirections(t.Context(), lin, infos, cols, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Feature != "cin" || !(got[0].Correlation < -0.99) {
		t.Fatalf("audit %+v", got)
	}
	// Rows with cin 2 and 3 lower the margin (−2 and −4) from a value above
	// the low end: wrong-way. cin 0 raises it (+2) from the low end: wrong-way
	// too. cin 1 contributes 0; a missing value is never wrong-way.
	if got[0].Withheld != 3 {
		t.Fatalf("withheld %d, want 3", got[0].Withheld)
	}
	if _, err := AuditDirections(t.Context(), lin, infos[:1], cols, 1); err == nil {
		t.Fatal("accepted one description for two features")
	}
}
