package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/logistic"
)

func TestExplainGlue(t *testing.T) {
	dir := t.TempDir()
	x, err := artifact.ReadXGBoostJSON([]byte(xgbOneTree), "m.json")
	if err != nil {
		t.Fatal(err)
	}
	meta := &dataset.Meta{Features: []dataset.FeatureMeta{{Name: "b", Description: "repair requests", Unit: "count", WindowDays: 90,
		Missing: "empty when no repair was ever recorded at the home"}}}
	gbdt, err := x.Model(artifact.ImportOptions{Target: "label_y", Source: "m.json", Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "t.csv")
	body := "resident_id,as_of,a,b\nR1,2026-01-01,1,0\nR2,2026-01-01,2,3\nR3,2026-01-01,3,\n"
	if err := os.WriteFile(data, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tab, err := dataset.Read(context.Background(), data, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := writeExplained(context.Background(), &out, gbdt, tab, nil, true, 2); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "resident_id,as_of,margin,shap_a,shap_b,shap_bias,raising_1,raising_2,lowering_1,lowering_2" {
		t.Fatalf("header %s", got)
	}
	if len(recs) != 4 || recs[1][0] != "R1" {
		t.Fatalf("lines %v", recs)
	}
	if recs[2][6] != "Repair requests of 3 in the last 90 days raised the risk" {
		t.Fatalf("R2's first raising reason is %q", recs[2][6])
	}
	if recs[3][8] != "No repair was ever recorded at the home, which lowered the risk" {
		t.Fatalf("R3's first lowering reason is %q", recs[3][8])
	}

	imp, err := gbdt.GlobalImportance(context.Background(), tab, 0)
	if err != nil {
		t.Fatal(err)
	}
	if imp[0].Feature != "b" || imp[0].Gain != 3 || imp[1].MeanAbsSHAP != 0 {
		t.Fatalf("importance %+v", imp)
	}

	wrong := filepath.Join(dir, "w.csv")
	if err := os.WriteFile(wrong, []byte("resident_id,a\nR1,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wt, err := dataset.Read(context.Background(), wrong, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := writeExplained(context.Background(), &bytes.Buffer{}, gbdt, wt, nil, true, 1); err == nil {
		t.Fatal("a table without the model's features was explained")
	}
}

func TestLogisticExplanationsAddUp(t *testing.T) {
	m := &artifact.Model{
		Algorithm: artifact.Logistic, Target: "label_y",
		Features: []artifact.Feature{{FeatureMeta: dataset.FeatureMeta{Name: "a"}}, {FeatureMeta: dataset.FeatureMeta{Name: "b"}}},
		Logistic: &logistic.Model{Mean: []float64{1, 2, 0.1}, Scale: []float64{2, 0.5, 0.3},
			Coef: []float64{0.4, -0.7, 1.1}, Intercept: -0.2},
		Imputation: &artifact.Imputation{Values: []float64{1.5, 2.5}, Indicators: []int{1}},
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := m.Explainer()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 3)
	for _, x := range [][]float64{{0, 0}, {3, math.NaN()}, {math.NaN(), 7}} {
		c.Contributions(x, out)
		if s := out[0] + out[1] + out[2]; math.Abs(s-m.Margin(x)) > 1e-12 {
			t.Fatalf("row %v: contributions sum to %g, the model's margin is %g", x, s, m.Margin(x))
		}
	}
}

func TestTableImportance(t *testing.T) {
	x, err := artifact.ReadXGBoostJSON([]byte(xgbOneTree), "m.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := x.Model(artifact.ImportOptions{Target: "label_y", Source: "m.json"})
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "t.csv")
	var b strings.Builder
	b.WriteString("resident_id,a,b\n")
	for i := range 100 {
		fmt.Fprintf(&b, "R%d,%d,%d\n", i, i%7, i%3)
	}
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	tab, err := dataset.Read(context.Background(), data, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := m.GlobalImportance(context.Background(), tab, 0)
	if err != nil {
		t.Fatal(err)
	}
	some, err := m.GlobalImportance(context.Background(), tab, 10)
	if err != nil {
		t.Fatal(err)
	}
	if all[0].Feature != "b" || some[0].Feature != "b" || all[0].Gain != 3 {
		t.Fatalf("importance %+v and %+v", all, some)
	}
	var out strings.Builder
	printImportance(&out, all, 5, true)
	if lines := strings.Count(out.String(), "\n"); lines != 3 || !strings.Contains(out.String(), "total gain") {
		t.Fatalf("printed:\n%s", out.String())
	}
}

func TestScoreExplainFlags(t *testing.T) {
	dir := t.TempDir()
	x, err := artifact.ReadXGBoostJSON([]byte(xgbOneTree), "m.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := x.Model(artifact.ImportOptions{Target: "label_y", Source: "m.json"})
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "model.json")
	if err := m.Save(model); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(data, []byte("resident_id,a,b\nR1,1,0\nR2,2,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	scores := filepath.Join(dir, "s.csv")
	base := []string{"score", "--model", model, "--data", data, "--out", scores}
	tests := []struct {
		name  string
		extra []string
		code  int
	}{
		{"explain into a missing directory", []string{"--explain", "--out", filepath.Join(dir, "no", "r.csv")}, 1},
		{"negative reasons", []string{"--explain", "--reasons", "-1"}, 2},
		{"explain", []string{"--explain", "--reasons", "1"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, _ := runOut(t, append(slices.Clone(base), tc.extra...)...); code != tc.code {
				t.Fatalf("exit code %d, want %d", code, tc.code)
			}
		})
	}
	b, err := os.ReadFile(scores)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 3 || lines[0] != "resident_id,score,margin,shap_a,shap_b,shap_bias,raising_1,lowering_1" {
		t.Fatalf("explanations:\n%s", b)
	}
}

func TestEvaluateImportance(t *testing.T) {
	dir := t.TempDir()
	x, err := artifact.ReadXGBoostJSON([]byte(xgbOneTree), "m.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := x.Model(artifact.ImportOptions{Target: "label_y", Source: "m.json"})
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "model.json")
	if err := m.Save(model); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("resident_id,a,b,label_y\n")
	for i := range 60 {
		fmt.Fprintf(&b, "R%d,%d,%d,%d\n", i, i%7, i%3, i%3/2)
	}
	data := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"evaluate", "--model", model, "--data", data, "--bootstrap", "-1", "--k", "5"}
	tests := []struct {
		name  string
		extra []string
		code  int
		want  string
		not   string
	}{
		{"text", nil, 0, "mean |SHAP|", ""},
		{"json", []string{"--json", "--importance", "1"}, 0, `"mean_abs_shap"`, `"feature": "a"`},
		{"off", []string{"--importance", "0"}, 0, "ROC AUC", "mean |SHAP|"},
		{"sampled", []string{"--importance-rows", "7"}, 0, "total gain", ""},
		{"negative", []string{"--importance", "-1"}, 2, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runOut(t, append(slices.Clone(base), tc.extra...)...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d", code, tc.code)
			}
			if !strings.Contains(out, tc.want) || (tc.not != "" && strings.Contains(out, tc.not)) {
				t.Fatalf("output lacks %q or has %q:\n%s", tc.want, tc.not, out)
			}
		})
	}
}
