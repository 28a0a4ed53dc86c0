package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"caserisk/models/metrics"
)

// fraudSample makes a stock of n tenancies, about 3% truly fraudulent; a
// model that sees the truth through noise; investigations of a tenth of the
// frauds (confirmed) and of some honest tenancies with strong evidence
// (cleared); every other tenancy unlabelled.
func fraudSample(n int) (Input, []float64) {
	r := rand.New(rand.NewPCG(5, 6))
	in := Input{Title: "fraud report", Capacity: 100, Metrics: metrics.Options{Bootstrap: 30, Seed: 1}}
	in.Model.Name = "tenancy_fraud-gbdt"
	st := &StockInput{Source: "tenancies.csv"}
	for i := 0; i < n; i++ {
		truth := 0.0
		if r.Float64() < 0.03 {
			truth = 1
		}
		score := 1 / (1 + math.Exp(-(4*truth - 4 + r.NormFloat64())))
		label := math.NaN()
		switch {
		case truth == 1 && r.Float64() < 0.25:
			label = 1
		case truth == 0 && score > 0.1 && r.Float64() < 0.15:
			label = 0
		}
		st.Scores, st.Labels, st.Truth = append(st.Scores, score), append(st.Labels, label), append(st.Truth, truth)
		if !math.IsNaN(label) {
			in.Model.Scores, in.Labels = append(in.Model.Scores, score), append(in.Labels, label)
		}
	}
	in.Stock = st
	return in, st.Truth
}

func TestFraudReportJudgesTheWholeStock(t *testing.T) {
	in, truth := fraudSample(20000)
	r, err := Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	st := r.Stock
	if st == nil || st.Oracle == nil || st.Bias == nil || st.Rows != 20000 || st.Labelled != len(in.Labels) {
		t.Fatalf("stock %+v", st)
	}
	// The whole-stock figures are the model's against the truth of every row.
	direct, err := metrics.Evaluate(context.Background(), in.Stock.Scores, truth, metrics.Options{Ks: []int{100, 500, 1000}, Bootstrap: -1})
	if err != nil {
		t.Fatal(err)
	}
	if st.Oracle.AveragePrecision.Value != direct.AveragePrecision.Value || st.Oracle.ROCAUC.Value != direct.ROCAUC.Value {
		t.Errorf("stock AP %v AUC %v, direct %v %v", st.Oracle.AveragePrecision.Value, st.Oracle.ROCAUC.Value, direct.AveragePrecision.Value, direct.ROCAUC.Value)
	}
	for _, k := range []int{100, 500, 1000} {
		found := false
		for i, a := range st.Oracle.TopK {
			if a.K == k {
				found = true
				var want metrics.AtK
				for _, d := range direct.TopK {
					if d.K == k {
						want = d
					}
				}
				if a.Precision.Value != want.Precision.Value || a.Recall.Value != want.Recall.Value {
					t.Errorf("top %d: %+v, direct %+v (%d)", k, a, want, i)
				}
			}
		}
		if !found {
			t.Errorf("no precision in the top %d over the stock", k)
		}
	}
	var html, js, card bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := WriteModelCard(&card, Facts{Name: "fraud", Target: "tenancy_fraud"}, r, &Governance{}); err != nil {
		t.Fatal(err)
	}
	s := html.String()
	for _, want := range []string{"Judged on every row: the whole stock", "Against the confirmed positives", "Against the oracle's truth",
		fmt.Sprintf("%d of the 20000 rows are truly positive", st.Truth), "Selection bias, in numbers",
		fmt.Sprintf("%.4f (", st.Oracle.AveragePrecision.Value), fmt.Sprintf("precision against recall of the %d truly positive rows", st.Truth)} {
		if !strings.Contains(s, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	var back struct {
		Stock struct {
			Oracle struct {
				AveragePrecision struct{ Value float64 } `json:"average_precision"`
			} `json:"oracle"`
			Bias struct {
				FoundShare float64 `json:"found_share"`
			} `json:"selection_bias"`
		} `json:"stock"`
		TooFewLabels bool `json:"too_few_labels"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Stock.Oracle.AveragePrecision.Value != st.Oracle.AveragePrecision.Value || back.Stock.Bias.FoundShare != st.Bias.FoundShare || back.TooFewLabels {
		t.Errorf("report.json stock %+v, too few labels %v", back.Stock, back.TooFewLabels)
	}
	if !strings.Contains(card.String(), "Over every row (the whole stock)") || !strings.Contains(card.String(), fmt.Sprintf("average precision %.3f", st.Oracle.AveragePrecision.Value)) {
		t.Errorf("model card lacks the whole-stock figures:\n%s", card.String())
	}
}

// TestTooFewLabels: a fraud model evaluated on 40 labelled rows (trained on
// 47) is reported with a warning and its intervals, and no precision in the
// top 100 (or at the capacity of 100) is shown.
func TestTooFewLabels(t *testing.T) {
	in, _ := fraudSample(400)
	in.Stock.Truth = nil
	in.TrainingLabels = &metrics.LabelCheck{}
	*in.TrainingLabels = metrics.CheckLabels(47, 12)
	r, err := Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Labels) >= 100 {
		t.Fatalf("the sample has %d labelled rows; the test needs fewer than 100", len(in.Labels))
	}
	if !r.TooFewLabels || !r.Labels.TooFewLabels || len(r.Warnings) != 2 {
		t.Fatalf("too few labels %v, labels %+v, warnings %q", r.TooFewLabels, r.Labels, r.Warnings)
	}
	if r.Model.AtCapacity.K != 0 {
		t.Errorf("a capacity of 100 over %d rows gives %+v", r.Rows, r.Model.AtCapacity)
	}
	for _, k := range r.Model.Metrics.TopK {
		if k.K > r.Rows {
			t.Errorf("precision in the top %d shown for %d rows", k.K, r.Rows)
		}
	}
	var html, js, card bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := WriteModelCard(&card, Facts{Name: "fraud", Target: "tenancy_fraud"}, r, &Governance{}); err != nil {
		t.Fatal(err)
	}
	s := html.String()
	for _, want := range []string{`class="warning" role="alert">Too few labels to trust these metrics`, "Trained on too few labels",
		"Not shown: the top 100", "(at least 200 needed)", fmt.Sprintf("%.4f (", r.Model.Metrics.ROCAUC.Value)} {
		if !strings.Contains(s, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// The at-capacity table has no row at k = 100; the stock (400 rows)
	// does show its top 100.
	atCap := s[strings.Index(s, "<h3>At capacity</h3>"):strings.Index(s, `<h2 id="stock">`)]
	if strings.Contains(atCap, `<td class="n">100</td>`) {
		t.Errorf("the at-capacity table shows k = 100 for %d rows", r.Rows)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back["too_few_labels"] != true {
		t.Errorf("report.json too_few_labels = %v", back["too_few_labels"])
	}
	if lc, _ := back["labels"].(map[string]any); lc["min_rows"] != float64(metrics.MinLabelledRows) || lc["min_positives"] != float64(metrics.MinPositives) {
		t.Errorf("report.json labels = %v", back["labels"])
	}
	if c := card.String(); !strings.Contains(c, "**Warning.** Too few labels") || !strings.Contains(c, "no figure at capacity") {
		t.Errorf("model card lacks the warning or says a figure at capacity:\n%s", c)
	}
}
