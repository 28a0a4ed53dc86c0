package report

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"caserisk/models/metrics"
)

// sample makes n rows whose true probability is p, a model that sees p
// through noise, a weaker baseline, and two audited characteristics.
func sample(n int) Input {
	r := rand.New(rand.NewPCG(11, 12))
	in := Input{Title: "test report", Capacity: 100, Groups: map[string][]string{}, GroupOrder: []string{"sex", "ward"}}
	in.Model.Name, in.Baseline = "gbdt", &Model{Name: "logistic"}
	sex, ward := make([]string, n), make([]string, n)
	for i := 0; i < n; i++ {
		z := r.NormFloat64()*1.2 - 3
		p := 1 / (1 + math.Exp(-z))
		y := 0.0
		if r.Float64() < p {
			y = 1
		}
		in.Oracle = append(in.Oracle, p)
		in.Labels = append(in.Labels, y)
		in.Model.Scores = append(in.Model.Scores, 1/(1+math.Exp(-(z+r.NormFloat64()*0.6))))
		in.Baseline.Scores = append(in.Baseline.Scores, 1/(1+math.Exp(-(z+r.NormFloat64()*1.5))))
		sex[i] = []string{"F", "M"}[i%2]
		ward[i] = []string{"Kilburn", "Highgate", "Holborn & Covent Garden", "Frognal"}[i%4]
		if i%97 == 0 {
			ward[i] = "Belsize" // a tiny group
		}
	}
	in.Groups["sex"], in.Groups["ward"] = sex, ward
	in.Model.Importance = []Bar{{"Rent arrears in the last 90 days", 0.4}, {"Children's social care contacts in the last year", 0.2}}
	in.Model.ImportanceMeasure = "mean |SHAP| (log-odds)"
	in.Metrics = metrics.Options{Bootstrap: 50, Seed: 1}
	return in
}

func TestReportHTMLIsSelfContainedWithChartsAndFairness(t *testing.T) {
	in := sample(4000)
	r, err := Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	s := html.String()
	if n := strings.Count(s, `<img src="data:image/png`); n < 6 {
		t.Errorf("%d embedded charts, want ≥ 6 (ROC, PR, calibration, distribution, gain, importance)", n)
	}
	if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).FindString(s); m != "" {
		t.Errorf("report loads an outside asset: %s", m)
	}
	for _, img := range regexp.MustCompile(`<img [^>]*>`).FindAllString(s, -1) {
		if !strings.Contains(img, `alt="`) || strings.Contains(img, `alt=""`) {
			t.Errorf("image without alt text: %.80s", img)
		}
	}
	for _, want := range []string{"<h3>sex</h3>", "<h3>ward</h3>", "Belsize <span class=\"small\">(too small to judge)", "oracle (true probabilities)", "logistic"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestReportJSONAgreesWithMetrics(t *testing.T) {
	in := sample(3000)
	in.Baseline, in.Oracle = nil, nil
	r, err := Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Model struct {
			Metrics metrics.Report `json:"metrics"`
		} `json:"model"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	direct, err := metrics.Evaluate(context.Background(), in.Model.Scores, in.Labels, metrics.Options{Bootstrap: 50, Seed: 1, Ks: []int{100}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Model.Metrics.ROCAUC != direct.ROCAUC || got.Model.Metrics.TopK[0].Precision != direct.TopK[0].Precision {
		t.Errorf("JSON %v / %v, evaluate %v / %v", got.Model.Metrics.ROCAUC, got.Model.Metrics.TopK[0].Precision, direct.ROCAUC, direct.TopK[0].Precision)
	}
}

func TestGainAtCapacity(t *testing.T) {
	scores := []float64{0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05}
	labels := []float64{1, 0, 1, 0, 0, 0, 0, 1, 0, 0}
	pts, cp := gain(scores, labels, 3)
	if cp.K != 3 || cp.Positives != 2 || math.Abs(cp.Precision-2.0/3) > 1e-12 || math.Abs(cp.Recall-2.0/3) > 1e-12 || math.Abs(cp.Lift-(2.0/3)/0.3) > 1e-12 {
		t.Errorf("capacity point %+v", cp)
	}
	if last := pts[len(pts)-1]; last.Share != 1 || last.Found != 1 {
		t.Errorf("gain curve ends at %+v", last)
	}
}

func TestBuildRejectsMisalignedInput(t *testing.T) {
	in := sample(100)
	in.Oracle = in.Oracle[:10]
	if _, err := Build(context.Background(), in); err == nil || !strings.Contains(err.Error(), "oracle has 10 values for 100 rows") {
		t.Errorf("got %v", err)
	}
	in = sample(100)
	in.Capacity = 0
	if _, err := Build(context.Background(), in); err == nil {
		t.Error("capacity 0 accepted")
	}
}
