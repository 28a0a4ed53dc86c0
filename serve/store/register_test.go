package store

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/logistic"
)

// writeTinyModel saves a one-feature logistic model for target.
func writeTinyModel(t *testing.T, target string) string {
	t.Helper()
	m := &artifact.Model{
		Algorithm: artifact.Logistic, Target: target,
		Features:   []artifact.Feature{{FeatureMeta: dataset.FeatureMeta{Name: "arrears_gbp"}}},
		Logistic:   &logistic.Model{Mean: []float64{0}, Scale: []float64{1}, Coef: []float64{0.5}},
		Imputation: &artifact.Imputation{Values: []float64{0}},
	}
	p := filepath.Join(t.TempDir(), target+".json")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestArtifactTarget(t *testing.T) {
	tests := []struct {
		in   string
		want Target
		ok   bool
	}{
		{"label_complex_case", ComplexCase, true},
		{"tenancy_fraud", TenancyFraud, true},
		{"label_burglary", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := ArtifactTarget(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ArtifactTarget(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestDefaultBands(t *testing.T) {
	tests := []struct {
		rate float64
		want Bands
		ok   bool
	}{
		{0.035, Bands{High: 0.14, Medium: 0.07}, true},
		{0.25, Bands{High: 0.9, Medium: 0.5}, true},
		{0.5, Bands{High: 0.9, Medium: 0.6}, true},
		{0, Bands{}, false},
		{1, Bands{}, false},
	}
	for _, tt := range tests {
		got, ok := DefaultBands(tt.rate)
		if ok != tt.ok || math.Abs(got.High-tt.want.High) > 1e-12 || math.Abs(got.Medium-tt.want.Medium) > 1e-12 {
			t.Errorf("DefaultBands(%g) = %+v, %v; want %+v, %v", tt.rate, got, ok, tt.want, tt.ok)
		}
	}
}

func TestModelFromFile(t *testing.T) {
	if _, err := ModelFromFile(writeTinyModel(t, "label_complex_case"), ComplexCase, Bands{High: 0.5, Medium: 0.2}, "ds"); err != nil {
		t.Errorf("a model whose target is the label column: %v", err)
	}
	p := writeTinyModel(t, "tenancy_fraud")
	bands := Bands{High: 0.4, Medium: 0.1}
	nm, err := ModelFromFile(p, TenancyFraud, bands, "ds.one")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(p)
	if string(nm.Artifact) != string(raw) || nm.Bands != bands || nm.Path != p || nm.RegisteredBy != "ds.one" {
		t.Errorf("registration %+v", nm)
	}
	// The tiny model records no label rate: bands must then be given.
	if _, err := ModelFromFile(p, TenancyFraud, Bands{}, "ds.one"); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero bands without a label rate: %v", err)
	}
	_, err = ModelFromFile(p, ComplexCase, bands, "ds.one")
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "target" {
		t.Errorf("wrong target: %v, want a FieldError on target", err)
	}
	corrupt := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(corrupt, append(raw[:len(raw)-3:len(raw)-3], []byte("}\n")...), 0o644)
	if _, err := ModelFromFile(corrupt, TenancyFraud, bands, "x"); err == nil {
		t.Error("a damaged model file was accepted")
	}
	if _, err := ModelFromFile(filepath.Join(t.TempDir(), "none.json"), TenancyFraud, bands, "x"); err == nil {
		t.Error("a missing file was accepted")
	}
}

func TestAttachFairness(t *testing.T) {
	nm := NewModel{Metrics: []byte(`{"algorithm":"gbdt"}`)}
	got, err := AttachFairness(nm, []byte(`{"rows":10,"characteristics":[{"name":"sex","groups":[]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(got.Metrics, &m); err != nil || string(m["algorithm"]) != `"gbdt"` || m["fairness"] == nil {
		t.Fatalf("metrics %s: %v", got.Metrics, err)
	}
	for _, bad := range []string{`[]`, `{"rows":1}`, `not json`} {
		if _, err := AttachFairness(nm, []byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("AttachFairness(%s): %v, want ErrInvalid", bad, err)
		}
	}
}

// TestModelFromFileLabelsAndPU: a model trained on too few labels is
// registered with too_few_labels and the counts; a positive–unlabelled
// model's default bands follow its estimated share of positives.
func TestModelFromFileLabelsAndPU(t *testing.T) {
	m := &artifact.Model{
		Algorithm: artifact.Logistic, Target: "tenancy_fraud",
		Features:   []artifact.Feature{{FeatureMeta: dataset.FeatureMeta{Name: "arrears_gbp"}}},
		Logistic:   &logistic.Model{Mean: []float64{0}, Scale: []float64{1}, Coef: []float64{0.5}},
		Imputation: &artifact.Imputation{Values: []float64{0}},
		Training:   artifact.Training{Rows: 2000, Positives: 12, LabelRate: 0.006, PU: &artifact.PUFit{Positives: 12, Unlabelled: 1988, Prior: 0.025}},
	}
	p := filepath.Join(t.TempDir(), "pu.json")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	nm, err := ModelFromFile(p, TenancyFraud, Bands{}, "ds")
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(nm.Bands.High-0.1) > 1e-12 || math.Abs(nm.Bands.Medium-0.05) > 1e-12 {
		t.Errorf("bands %+v, want 4 and 2 times the estimated share of positives 0.025", nm.Bands)
	}
	var got struct {
		TooFewLabels bool `json:"too_few_labels"`
		Labels       struct {
			Training struct {
				Positives    int `json:"positives"`
				MinPositives int `json:"min_positives"`
			} `json:"training"`
		} `json:"labels"`
		PU *artifact.PUFit `json:"positive_unlabelled"`
	}
	if err := json.Unmarshal(nm.Metrics, &got); err != nil {
		t.Fatal(err)
	}
	if !got.TooFewLabels || got.Labels.Training.Positives != 12 || got.Labels.Training.MinPositives != 50 || got.PU == nil {
		t.Errorf("metrics %s", nm.Metrics)
	}
}
