package explain_test

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"caserisk/features/build"
	"caserisk/features/spec"
	"caserisk/models/explain"
)

// defaultInfos returns every feature of the default spec and every signal,
// of both entities, as the models see them.
func defaultInfos(t *testing.T) []explain.FeatureInfo {
	t.Helper()
	sp, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	var out []explain.FeatureInfo
	for _, sec := range []*spec.Section{&sp.Resident, &sp.Tenancy} {
		for _, f := range sec.Features {
			out = append(out, explain.FeatureInfo{Name: f.Name, Description: f.Description, Unit: f.Unit, WindowDays: f.Window,
				Service: f.Service, Aggregation: f.Agg, Template: f.Template, ZeroTemplate: f.ZeroTemplate, Missing: f.Missing,
				Direction: f.Direction})
		}
	}
	for _, kind := range []string{spec.Resident, spec.Tenancy} {
		for _, m := range build.Signals(kind) {
			out = append(out, explain.FeatureInfo{Name: m.Name, Description: m.Description, Unit: m.Unit, WindowDays: m.WindowDays,
				Service: m.Service, Aggregation: m.Aggregation, Template: m.Template, ZeroTemplate: m.ZeroTemplate, Missing: m.Missing})
		}
	}
	return out
}

// TestDefaultSpecReadsWell phrases every feature the default spec and the
// signals can produce, at the values a row can hold, and checks the
// sentences a caseworker would object to never appear: "(Yes)", a share as
// a decimal, a day count from an unstated date, "1 payments", an unfilled
// placeholder or an internal name.
func TestDefaultSpecReadsWell(t *testing.T) {
	asOf := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	shareDecimal := regexp.MustCompile(`\d\.\d+ share|share of \d`)
	dayCount := regexp.MustCompile(`\d+ days (ago|before)|for \d+ days`)
	for _, f := range defaultInfos(t) {
		values := []float64{0, 1, 2, 5, 0.5, 907, 1240.5, math.NaN()}
		if f.Unit == "ratio" {
			values = []float64{0, 0.25, 0.5, 0.42, 1, math.NaN()}
		}
		for _, v := range values {
			if f.Unit == "flag" && v != 0 && v != 1 && !math.IsNaN(v) {
				continue
			}
			for _, up := range []bool{true, false} {
				s := explain.PhraseIn(explain.Context{AsOf: asOf}, f, v, up)
				switch {
				case strings.Contains(s, "(Yes)") || strings.Contains(s, "(No)") || strings.Contains(s, ": Yes") || strings.Contains(s, ": No,"):
					t.Errorf("%s = %v: a yes/no in brackets: %q", f.Name, v, s)
				case shareDecimal.MatchString(s):
					t.Errorf("%s = %v: a share as a decimal: %q", f.Name, v, s)
				case dayCount.MatchString(s):
					t.Errorf("%s = %v: a day count: %q", f.Name, v, s)
				case strings.ContainsAny(s, "{}"):
					t.Errorf("%s = %v: an unfilled placeholder: %q", f.Name, v, s)
				case strings.Contains(s, f.Name) || strings.Contains(s, "_"):
					t.Errorf("%s = %v: an internal name: %q", f.Name, v, s)
				}
			}
		}
		// A count of 1 reads in the singular: the sentence for 1 is not the
		// sentence for 2 with the number changed.
		if (f.Unit == "count" || f.Unit == "people") && f.Template != "" {
			one := explain.DescribeIn(explain.Context{AsOf: asOf}, f, 1)
			two := explain.DescribeIn(explain.Context{AsOf: asOf}, f, 2)
			if strings.Replace(two, "2", "1", 1) == one {
				t.Errorf("%s: %q for 1 reads like %q for 2", f.Name, one, two)
			}
		}
	}
}
