package artifact

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"caserisk/models/dataset"
	"caserisk/models/metrics"
)

// fraudLike returns a tenancy table and each row's true class: a tenth of
// the rows are positive, more likely with high evidence; a third of the
// positives are confirmed (label 1); investigated negatives (label 0) are
// mostly those with strong evidence, as data matches pick them; every
// other row has an empty label.
func fraudLike(t testing.TB, rows int, seed uint64) (*dataset.Table, []float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 21))
	var b strings.Builder
	b.WriteString("tenancy_id,as_of,evidence,other,noise,label_tenancy_fraud\n")
	truth := make([]float64, rows)
	for i := range rows {
		e, o := rng.NormFloat64(), rng.NormFloat64()
		if rng.Float64() < 1/(1+math.Exp(-(3*e+2*o-5.5))) {
			truth[i] = 1
		}
		label := ""
		switch {
		case truth[i] == 1 && rng.Float64() < 0.33:
			label = "1"
		case truth[i] == 0 && rng.Float64() < 0.005+0.3/(1+math.Exp(-4*(e-1.5))):
			label = "0"
		}
		fmt.Fprintf(&b, "T%05d,%s,%.4f,%.4f,%.4f,%s\n", i/2, []string{"2023-01-01", "2024-01-01"}[i%2], e, o, rng.NormFloat64(), label)
	}
	tab, err := dataset.ReadCSV(context.Background(), "fraud.csv", []byte(b.String()), dataset.Options{Label: "label_tenancy_fraud"})
	if err != nil {
		t.Fatal(err)
	}
	return tab, truth
}

func TestFitPU(t *testing.T) {
	ctx := context.Background()
	tab, truth := fraudLike(t, 16000, 3)
	// Train on two thirds of the tenancies (by id), judge on the rest
	// against the truth of every row.
	var trRows, teRows []int
	for i := range tab.Len() {
		if (i/2)%3 == 2 {
			teRows = append(teRows, i)
		} else {
			trRows = append(trRows, i)
		}
	}
	tr, te := tab.Subset(trRows), tab.Subset(teRows)
	teTruth := make([]float64, len(teRows))
	for k, i := range teRows {
		teTruth[k] = truth[i]
	}
	train, held, err := tr.SplitAfter("2023-01-01")
	if err != nil {
		t.Fatal(err)
	}
	for _, algo := range []string{GBDT, Logistic} {
		t.Run(algo, func(t *testing.T) {
			o := fitOptions(algo)
			inv, err := Fit(ctx, train, held, o)
			if err != nil {
				t.Fatal(err)
			}
			o.PU = &PUOptions{}
			m, err := Fit(ctx, train, held, o)
			if err != nil {
				t.Fatal(err)
			}
			p := m.Training.PU
			if p == nil || p.CrossFit != DefaultCrossFit || p.Method != PUMethod || p.Positives != train.Positives() || p.Positives+p.Unlabelled != train.Len() ||
				p.ConfirmedNegatives == 0 || p.WeightedRows <= train.Len() {
				t.Fatalf("PU record %+v (training rows %d, positives %d)", p, train.Len(), train.Positives())
			}
			// A third of the positives are labelled; c reads a little low
			// where the classes overlap (the estimator's known bias).
			if c := p.C.C.Value; c < 0.12 || c > 0.45 || p.C.Positives == 0 {
				t.Errorf("c = %+v, want about 0.33", p.C)
			}
			if m.Validation == nil || m.Validation.Stock == nil || m.Validation.Stock.N <= m.Validation.Report.N {
				t.Fatalf("validation %+v: want metrics on the labelled rows and over every evaluation row", m.Validation)
			}
			if inv.Validation.Stock == nil {
				t.Error("the investigated-only model's validation has no ranking over every evaluation row")
			}
			auc := func(mm *Model) float64 {
				probs, _, err := mm.Scores(ctx, te)
				if err != nil {
					t.Fatal(err)
				}
				a, err := metrics.ROCAUC(probs, teTruth, nil)
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			a0, a1 := auc(inv), auc(m)
			t.Logf("%s: AUC over every row against the truth: investigated-only %.4f, positive-unlabelled %.4f (c = %.3f)", algo, a0, a1, p.C.C.Value)
			if a1 < a0+0.02 {
				t.Errorf("positive-unlabelled %.4f should rank every row clearly better than investigated-only %.4f", a1, a0)
			}
			// Its probabilities estimate P(positive | x): their mean is near
			// the share of positives, which the investigated-only model's
			// (fitted where a third of rows are positive) is not.
			probs, _, _ := m.Scores(ctx, te)
			mean, prev := 0.0, 0.0
			for i := range probs {
				mean, prev = mean+probs[i], prev+teTruth[i]
			}
			mean, prev = mean/float64(len(probs)), prev/float64(len(probs))
			if mean < prev/2 || mean > 2*prev {
				t.Errorf("mean probability %.4f against a true share of %.4f", mean, prev)
			}
			// Deterministic.
			m2, err := Fit(ctx, train, held, o)
			if err != nil {
				t.Fatal(err)
			}
			m.Training.Seconds, m2.Training.Seconds = 0, 0
			if a, b := mustSum(t, m), mustSum(t, m2); a != b {
				t.Error("the same inputs gave two different PU models")
			}
		})
	}
	t.Run("one first model", func(t *testing.T) {
		o := fitOptions(GBDT)
		o.PU = &PUOptions{CrossFit: 1}
		m, err := Fit(ctx, train, held, o)
		if err != nil {
			t.Fatal(err)
		}
		if m.Training.PU.CrossFit != 1 {
			t.Errorf("cross-fit recorded as %d", m.Training.PU.CrossFit)
		}
	})
}

func mustSum(t *testing.T, m *Model) string {
	t.Helper()
	s, err := m.Sum()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFitPUErrors(t *testing.T) {
	tab, _ := fraudLike(t, 2000, 4)
	train, held, err := tab.SplitAfter("2023-01-01")
	if err != nil {
		t.Fatal(err)
	}
	none := train.Subset(nil)
	noPos := relabel(train, make([]float64, train.Len()))
	tests := []struct {
		name      string
		train, ho *dataset.Table
		want      string
	}{
		{"no held-out rows", train, nil, "needs held-out rows"},
		{"empty held-out", train, none, "needs held-out rows"},
		{"no positive", noPos, held, "0 rows with label_tenancy_fraud = 1"},
		{"no held-out positive", train, relabel(held, make([]float64, held.Len())), "tuning half of the held-out rows has 0 positives"},
	}
	for _, tc := range tests {
		o := fitOptions(GBDT)
		o.PU = &PUOptions{}
		_, err := Fit(context.Background(), tc.train, tc.ho, o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestJudgeStock(t *testing.T) {
	n := math.NaN()
	scores := []float64{0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2}
	labels := []float64{1, n, 0, n, 1, 0, n, n}
	truth := []float64{1, 1, 1, 0, 0, 0, 1, 0}
	st, err := JudgeStock(context.Background(), scores, labels, truth, metrics.Options{Ks: []int{2, 4, 100}, Bootstrap: -1})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 8 || st.Labelled != 4 || st.Confirmed != 2 || st.Truth != 4 {
		t.Errorf("counts %+v", st)
	}
	// Against the confirmed positives: rows 0 and 4 of 8.
	if r := st.Council.TopK[1]; r.K != 4 || r.Recall.Value != 0.5 || r.Precision.Value != 0.25 {
		t.Errorf("confirmed positives in the top 4: %+v", r)
	}
	// Against the truth: rows 0, 1, 2 and 6.
	if r := st.Oracle.TopK[0]; r.K != 2 || r.Precision.Value != 1 || r.Recall.Value != 0.5 {
		t.Errorf("truth in the top 2: %+v", r)
	}
	if len(st.Oracle.KsNotShown) != 1 || st.Oracle.KsNotShown[0] != 100 {
		t.Errorf("k = 100 over 8 rows should not be shown: %v", st.Oracle.KsNotShown)
	}
	b := st.Bias
	if b.TruthRateStock != 0.5 || b.TruthRateLabelled != 0.5 || b.FoundShare != 0.25 || b.LabelledNegativesTrue != 1 ||
		b.LabelledPositivesFalse != 1 || b.InvestigatedAUC == nil || b.StockAUC != st.Oracle.ROCAUC.Value {
		t.Errorf("selection bias %+v", b)
	}
	// On the labelled rows (0.9:1, 0.7:0, 0.5:1, 0.4:0) the AUC is 0.75.
	if *b.InvestigatedAUC != 0.75 {
		t.Errorf("investigated AUC %v, want 0.75", *b.InvestigatedAUC)
	}
	if _, err := JudgeStock(context.Background(), scores, []float64{0, n, 0, n, 0, 0, n, n}, nil, metrics.Options{}); err == nil ||
		!strings.Contains(err.Error(), "none of the 8 rows is a confirmed positive") {
		t.Errorf("no confirmed positive: error %v", err)
	}
	if _, err := JudgeStock(context.Background(), scores, labels, []float64{1, 0, 2, 0, 0, 0, 1, 0}, metrics.Options{Bootstrap: -1}); err == nil ||
		!strings.Contains(err.Error(), "truth of row 3 is 2") {
		t.Errorf("bad truth: error %v", err)
	}
}
