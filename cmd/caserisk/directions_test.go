package main

import (
	"encoding/csv"
	"encoding/json"
	htmlpkg "html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"caserisk/features/spec"
	"caserisk/models/artifact"
)

// TestDirectionsFromSpecToReport follows a declared direction from the
// feature spec to the feature table's metadata, to a gbdt monotone
// constraint in `caserisk train`, to the model report's declared-directions
// section and to the reasons `caserisk score --explain` writes. The spec
// here declares the household's earlier crises as lowering the risk (the
// default says raising), so the constraint seen is the spec's. Whether an
// unconstrained model runs against a direction depends on the data; the
// report must say so exactly when its own figures do (the known-truth case
// is TestDirectionsToConstraintsToChecks in models/artifact).
func TestDirectionsFromSpecToReport(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a borough and trains six models")
	}
	dir := t.TempDir()
	borough := filepath.Join(dir, "borough")
	if code, out := runOut(t, "generate", "--residents", "3000", "--seed", "23", "--as-of", "2025-01-01", "--out", borough); code != 0 {
		t.Fatalf("generate: exit %d: %s", code, out)
	}
	text := string(spec.DefaultYAML())
	const from = "- {name: prior_escalations_household, direction: increasing}"
	if !strings.Contains(text, from) {
		t.Fatal("the default spec's prior_escalations_household no longer declares a direction")
	}
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(strings.Replace(text, from, strings.Replace(from, "increasing", "decreasing", 1), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	train, test := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	for _, f := range []struct{ out, asOf string }{{train, "2022-07-01,2023-01-01,2023-07-01"}, {test, "2024-01-01"}} {
		if code, out := runOut(t, "features", "--data", borough, "--as-of", f.asOf, "--spec", specFile, "--out", f.out); code != 0 {
			t.Fatalf("features: exit %d: %s", code, out)
		}
	}
	meta, err := os.ReadFile(train + ".meta.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(meta), `"name": "prior_escalations_household"`) || !strings.Contains(string(meta), `"direction": "decreasing"`) {
		t.Fatalf("meta.json does not carry the declared direction")
	}

	const feature = "prior_escalations_household"
	type run struct {
		name     string
		args     []string
		evidence string
	}
	runs := []run{
		{"gbdt", []string{"--algo", "gbdt"}, artifact.ByConstraint},
		{"gbdt-free", []string{"--algo", "gbdt", "--directions=false"}, artifact.ByCorrelation},
		{"logistic", []string{"--algo", "logistic"}, artifact.ByCoefficient},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			model := filepath.Join(dir, r.name+".json")
			args := append([]string{"train", "--data", train, "--label", "label_complex_case", "--valid-after", "2023-03-31",
				"--bootstrap", "-1", "--out", model}, r.args...)
			if r.name != "logistic" {
				args = append(args, "--rounds", "60", "--max-depth", "4", "--early-stopping-rounds", "15")
			}
			out, err := execute(args...)
			if err != nil {
				t.Fatalf("train: %v\n%s", err, out)
			}
			if got := strings.Contains(out, "monotone constraints on"); got != (r.name == "gbdt") {
				t.Errorf("train summary (constraints said: %v):\n%s", got, out)
			}
			m, err := artifact.Load(model)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := m.Monotone()[feature], map[string]int8{"gbdt": -1}[r.name]; got != want {
				t.Errorf("constraint on %s: %d, want %d", feature, got, want)
			}
			rep := filepath.Join(dir, r.name+"-report")
			if out, err := execute("report", "--model", model, "--data", test, "--bootstrap", "-1", "--out", rep); err != nil {
				t.Fatalf("report: %v\n%s", err, out)
			}
			var rj struct {
				Directions artifact.DirectionReport `json:"directions"`
			}
			b, err := os.ReadFile(filepath.Join(rep, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &rj); err != nil {
				t.Fatal(err)
			}
			var got *artifact.DirectionCheck
			for i, c := range rj.Directions.Checks {
				if c.Feature == feature {
					got = &rj.Directions.Checks[i]
				}
			}
			if got == nil || got.Evidence != r.evidence || got.Direction != "decreasing" {
				t.Fatalf("report's check of %s: %+v, want evidence %q", feature, got, r.evidence)
			}
			// Against exactly when the model's own figures run against the direction.
			for _, c := range rj.Directions.Checks {
				sign := map[string]float64{"increasing": 1, "decreasing": -1}[c.Direction]
				want := false
				switch c.Evidence {
				case artifact.ByConstraint:
					want = float64(m.Monotone()[c.Feature]) != sign
				case artifact.ByCoefficient:
					want = m.Logistic.Coef[indexOf(m, c.Feature)]*sign < 0
				default:
					want = c.Effect != nil && *c.Effect*sign < 0
				}
				if c.Against != want {
					t.Errorf("%s: against %v, but its %s says %v (%+v)", c.Feature, c.Against, c.Evidence, want, c)
				}
				if r.name == "gbdt" && c.Evidence != artifact.ByConstraint {
					t.Errorf("%s: declared but not constrained", c.Feature)
				}
			}
			// Every declared social-care, early-help and crisis feature is in the report.
			if n := len(rj.Directions.Checks); n < 20 {
				t.Errorf("report checks %d features, want every declared one", n)
			}
			html, err := os.ReadFile(filepath.Join(rep, "report.html"))
			if err != nil {
				t.Fatal(err)
			}
			listed := 0
			for _, c := range rj.Directions.Checks {
				if c.Against || c.Withheld > 0 {
					listed++
					if !strings.Contains(string(html), htmlpkg.EscapeString(c.Description)) {
						t.Errorf("report.html does not name %s", c.Feature)
					}
				}
			}
			if flagged := strings.Contains(string(html), `class="warning">Against the declared direction`); flagged != (listed > 0) {
				t.Errorf("report.html warning shown: %v, %d features flagged", flagged, listed)
			}
			preds := filepath.Join(dir, r.name+"-reasons.csv")
			if out, err := execute("score", "--model", model, "--data", test, "--out", preds, "--reasons", "5"); err != nil {
				t.Fatalf("score --reasons: %v\n%s", err, out)
			}
			checkReasonTexts(t, preds)
		})
	}
}

// checkReasonTexts reads score --reasons output and fails on a reason text
// a caseworker should never read.
func checkReasonTexts(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rec := range recs[1:] {
		for i, v := range rec {
			if !strings.HasPrefix(recs[0][i], "raising_") && !strings.HasPrefix(recs[0][i], "lowering_") || v == "" {
				continue
			}
			n++
			low := strings.ToLower(v)
			if strings.Contains(v, "(Yes)") || strings.Contains(low, " share of") && strings.ContainsAny(v, "0123456789.") && strings.Contains(v, "0.") ||
				strings.Contains(low, "days ago") || strings.Contains(v, "_") {
				t.Fatalf("reason %q", v)
			}
			if strings.HasPrefix(recs[0][i], "lowering_") && strings.Contains(low, "children's social care") && !strings.HasPrefix(low, "no ") {
				t.Fatalf("a children's social care reason lowered the risk: %q", v)
			}
		}
	}
	if n == 0 {
		t.Fatal("no reasons written")
	}
}

func indexOf(m *artifact.Model, name string) int {
	for j, f := range m.Features {
		if f.Name == name {
			return j
		}
	}
	return -1
}
