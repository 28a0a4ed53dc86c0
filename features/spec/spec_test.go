package spec

import (
	"errors"
	"strings"
	"testing"

	"caserisk/features/contract"
)

func TestDefaultSpec(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatalf("default spec: %v", err)
	}
	// The bars: at least 60 resident and 25 tenancy features.
	if n := len(s.Resident.Features) + len(s.Resident.Signals); n < 60 {
		t.Errorf("default spec has %d resident features, want >= 60", n)
	}
	if n := len(s.Tenancy.Features) + len(s.Tenancy.Signals); n < 25 {
		t.Errorf("default spec has %d tenancy features, want >= 25", n)
	}
	for _, f := range append(s.Resident.Features, s.Tenancy.Features...) {
		if f.Description == "" || f.Unit == "" || f.Template == "" {
			t.Errorf("%s (line %d): incomplete metadata %+v", f.Name, f.Line, f)
		}
		if all := f.Name + f.Description + f.Template + f.ZeroTemplate; strings.Contains(all, "{w}") || strings.Contains(all, "{window}") {
			t.Errorf("%s: unexpanded window placeholder", f.Name)
		}
	}
	if len(s.SHA256) != 64 {
		t.Errorf("SHA256 = %q", s.SHA256)
	}
}

func TestWindowExpansion(t *testing.T) {
	text := `version: 1
resident:
  features:
    - name: repairs_{w}
      service: repairs
      agg: count
      windows: [30, 365, all]
      description: Repairs in {window}.
      template: "{value} repairs in {window}"
`
	s, err := Parse([]byte(text), "t.yaml", contract.Default())
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, f := range s.Resident.Features {
		got = append(got, f.Name+"|"+f.Template+"|"+f.Unit)
	}
	want := []string{
		"repairs_30d|{value} repairs in the last 30 days|count",
		"repairs_365d|{value} repairs in the last year|count",
		"repairs_all|{value} repairs since records began|count",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSpecErrorsNameTheLine(t *testing.T) {
	base := func(extra string) string {
		return "version: 1\nresident:\n  features:\n    - name: f\n      description: d\n      template: \"{value} x\"\n" + extra
	}
	tests := []struct {
		name, text string
		line       int
		msg        string
	}{
		{"unknown service", base("      service: bins\n      agg: count\n"), 7, `unknown service "bins"`},
		{"unknown aggregation", base("      service: repairs\n      agg: median\n"), 8, `unknown aggregation "median"`},
		{"unknown column", base("      service: repairs\n      agg: sum\n      column: cost\n"), 9, `unknown column "cost"`},
		{"unknown code", base("      service: repairs\n      agg: count\n      where:\n        event_type: [reported, fixed]\n"), 10, `unknown code "fixed"`},
		{"unknown filter column", base("      service: repairs\n      agg: count\n      where: {colour: [red]}\n"), 9, `unknown column "colour"`},
		{"non-numeric sum", base("      service: repairs\n      agg: sum\n      column: trade\n"), 9, "needs a numeric column"},
		{"future leak", base("      service: fraud_investigations\n      agg: count\n      where: {outcome: [fraud_confirmed]}\n"), 9, "known only after the event date"},
		{"bad window", base("      service: repairs\n      agg: count\n      window: -3\n"), 9, "not a number of days"},
		{"unknown key", base("      service: repairs\n      agg: count\n      colour: red\n"), 9, `unknown key "colour"`},
		{"bad unit", base("      service: repairs\n      agg: count\n      unit: furlongs\n"), 9, `unit "furlongs"`},
		{"scope for entity", base("      service: repairs\n      agg: count\n      scope: tenancy\n"), 9, `scope "tenancy"`},
		{"protected column", base("      service: repairs\n      agg: count\n")[:0] + "version: 1\nprotected: [given_name]\n", 2, "not a protected characteristic"},
		{"version", "version: 2\n", 1, "not supported"},
		{"bad direction", base("      service: repairs\n      agg: count\n      direction: up\n"), 9, `direction "up"`},
		{"unknown placeholder", "version: 1\nresident:\n  features:\n    - name: f\n      description: d\n      template: \"{count} x\"\n      service: repairs\n      agg: count\n", 4, "unknown placeholder {count}"},
		{"unclosed placeholder", "version: 1\nresident:\n  features:\n    - name: f\n      description: d\n      template: \"{value x\"\n      service: repairs\n      agg: count\n", 4, "without its }"},
		{"template without the value", "version: 1\nresident:\n  features:\n    - name: f\n      description: d\n      template: \"repairs\"\n      service: repairs\n      agg: count\n", 4, "must say the value"},
		{"date of a count", "version: 1\nresident:\n  features:\n    - name: f\n      description: d\n      template: \"a repair {when}\"\n      service: repairs\n      agg: count\n", 4, "{when} turns a count of days"},
		{"share of a count", "version: 1\nresident:\n  features:\n    - name: f\n      description: d\n      template: \"{share} x\"\n      service: repairs\n      agg: count\n", 4, "{share} says a share"},
		{"flag without zero", "version: 1\nresident:\n  features:\n    - name: f\n      description: d\n      template: \"A repair\"\n      service: repairs\n      agg: any\n", 4, "give zero_template"},
		{"reference to nothing", "version: 1\nresident:\n  features:\n    - name: f\n      description: d\n      template: \"A repair {since:nope}\"\n      zero_template: none\n      service: repairs\n      agg: any\n", 4, `refers to "nope"`},
		{"signal direction", "version: 1\nresident:\n  signals:\n    - {name: age_years, direction: sideways}\n", 4, `direction "sideways"`},
		{"signal mapping key", "version: 1\nresident:\n  signals:\n    - {name: age_years, colour: red}\n", 4, `unknown key "colour"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.text), "t.yaml", contract.Default())
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *spec.Error", err)
			}
			if se.Line != tc.line || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("got %v, want line %d and %q", err, tc.line, tc.msg)
			}
		})
	}
}

func TestDirectionsAndTemplates(t *testing.T) {
	text := `version: 1
resident:
  signals:
    - age_years
    - {name: days_since_escalation_household, direction: decreasing}
  features:
    - name: repairs_{w}
      service: repairs
      agg: count
      windows: [90, all]
      direction: increasing
      description: Repairs in {window}.
      template: "{value} {repair|repairs} in {window}"
    - name: repaired
      service: repairs
      agg: any
      description: Whether a repair was done.
      template: "A repair, the latest {when:days_since_escalation_household}"
      zero_template: No repair
`
	s, err := Parse([]byte(text), "t.yaml", contract.Default())
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, sg := range s.Resident.Signals {
		got = append(got, sg.Name+"="+sg.Direction)
	}
	for _, f := range s.Resident.Features {
		got = append(got, f.Name+"="+f.Direction)
	}
	want := "age_years=,days_since_escalation_household=decreasing,repairs_90d=increasing,repairs_all=increasing,repaired="
	if strings.Join(got, ",") != want {
		t.Errorf("got %s\nwant %s", strings.Join(got, ","), want)
	}
}

// TestDefaultSpecDirections: the default spec declares the direction of
// every social-care, early-help and crisis feature.
func TestDefaultSpecDirections(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range s.Resident.Features {
		switch f.Service {
		case "childrens_social_care", "adult_social_care", "early_help", "homelessness", "youth_offending":
			if f.Direction == "" {
				t.Errorf("%s (line %d) declares no direction", f.Name, f.Line)
			}
		}
	}
	want := map[string]string{"prior_escalations_person": Increasing, "prior_escalations_household": Increasing,
		"days_since_escalation_household": Decreasing}
	for _, sg := range s.Resident.Signals {
		if d, ok := want[sg.Name]; ok && sg.Direction != d {
			t.Errorf("signal %s: direction %q, want %q", sg.Name, sg.Direction, d)
		}
		delete(want, sg.Name)
	}
	if len(want) > 0 {
		t.Errorf("signals missing from the default spec: %v", want)
	}
}

func TestDuplicateNames(t *testing.T) {
	text := `version: 1
resident:
  signals: [age_years]
  features:
    - name: age_years
      service: repairs
      agg: count
      description: d
      template: "{value} x"
`
	_, err := Parse([]byte(text), "t.yaml", contract.Default())
	if err == nil || !strings.Contains(err.Error(), "t.yaml:5:") || !strings.Contains(err.Error(), "already defined at line 3") {
		t.Errorf("got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML())
	f.Add([]byte("version: 1\nresident:\n  features:\n    - name: x\n"))
	c := contract.Default()
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b, "fuzz", c)
		if err == nil && s.Version != 1 {
			t.Errorf("accepted spec with version %d", s.Version)
		}
	})
}
