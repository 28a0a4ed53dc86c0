package artifact

import (
	"context"
	"fmt"
	"math"
	"slices"

	"caserisk/models/metrics"
	"caserisk/models/pu"
)

// StockKs are the capacities a ranking of every tenancy is judged at (a
// fraud team investigates some hundreds a year): precision and recall in
// the top 100, 500 and 1,000, where the rows reach that far.
var StockKs = []int{100, 500, 1000}

// WithStockKs returns o with StockKs added to its capacities.
func WithStockKs(o metrics.Options) metrics.Options {
	ks := slices.Clone(o.Ks)
	if ks == nil {
		ks = metrics.DefaultOptions().Ks
	}
	for _, k := range StockKs {
		if !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	o.Ks = ks
	return o
}

// Stock judges a model's ranking of every row of one snapshot — for tenancy
// fraud, the whole council stock, not only the tenancies someone chose to
// investigate — by what a council knows and, on synthetic data, by the
// oracle's truth.
type Stock struct {
	// Rows are the rows ranked; Labelled of them have a known label, and
	// Confirmed of those are positive.
	Rows      int `json:"rows"`
	Labelled  int `json:"labelled"`
	Confirmed int `json:"confirmed"`
	// Unmatched counts rows left out because the oracle does not have them.
	Unmatched int `json:"unmatched,omitempty"`
	// Council ranks every row against its confirmed positives (every other
	// row counting as not found): recall at k estimates the share of all
	// positives the top k find; precision at k is a lower bound.
	Council *metrics.Report `json:"council"`
	// Truth, with an oracle, is the number of rows truly positive, and
	// Oracle the model's ranking of every row against that truth: the
	// figures that matter to a team working down the list.
	Truth  int             `json:"truth,omitempty"`
	Oracle *metrics.Report `json:"oracle,omitempty"`
	// Bias, with an oracle, measures the selection of labelled rows.
	Bias *SelectionBias `json:"selection_bias,omitempty"`
}

// SelectionBias says in numbers how the labelled rows differ from the
// stock, on synthetic data where the oracle knows every row's truth.
type SelectionBias struct {
	// TruthRateStock is the share of all rows truly positive;
	// TruthRateLabelled the share among labelled rows (investigated
	// tenancies).
	TruthRateStock    float64 `json:"truth_rate_stock"`
	TruthRateLabelled float64 `json:"truth_rate_labelled"`
	// FoundShare is the share of truly positive rows labelled positive:
	// the true c of positive–unlabelled learning.
	FoundShare float64 `json:"found_share"`
	// LabelledNegativesTrue is the number of rows labelled 0 that are truly
	// positive (an investigation that did not confirm a real fraud), and
	// LabelledPositivesFalse the rows labelled 1 the oracle says are not
	// (yet) positive on the as-of date.
	LabelledNegativesTrue  int `json:"labelled_negatives_true"`
	LabelledPositivesFalse int `json:"labelled_positives_false"`
	// InvestigatedAUC is the model's ROC AUC on the labelled rows against
	// their labels (nil when they hold one class), and StockAUC over every
	// row against the truth: the same model measured where it was trained
	// and where it is used.
	InvestigatedAUC *float64 `json:"investigated_roc_auc,omitempty"`
	StockAUC        float64  `json:"stock_roc_auc"`
}

// JudgeStock judges scores (probabilities of every row of one snapshot)
// against labels (1, 0 or NaN for unknown) and, when truth is not nil,
// against the oracle's truth (0 or 1 for every row).
func JudgeStock(ctx context.Context, scores, labels, truth []float64, o metrics.Options) (*Stock, error) {
	if len(labels) != len(scores) || truth != nil && len(truth) != len(scores) {
		return nil, fmt.Errorf("judge stock: %d scores, %d labels, %d truths", len(scores), len(labels), len(truth))
	}
	st := &Stock{Rows: len(scores)}
	var ls, ly, lt []float64
	for i, y := range labels {
		if !math.IsNaN(y) {
			st.Labelled++
			ls, ly = append(ls, scores[i]), append(ly, y)
			if truth != nil {
				lt = append(lt, truth[i])
			}
		}
		if y == 1 {
			st.Confirmed++
		}
	}
	if st.Confirmed == 0 {
		return nil, fmt.Errorf("judge stock: none of the %d rows is a confirmed positive", st.Rows)
	}
	var err error
	if st.Council, err = metrics.Evaluate(ctx, scores, pu.Labels(labels), o); err != nil {
		return nil, fmt.Errorf("judge stock against the confirmed positives: %w", err)
	}
	if truth == nil {
		return st, nil
	}
	for i, v := range truth {
		if v != 0 && v != 1 {
			return nil, fmt.Errorf("judge stock: truth of row %d is %v, want 0 or 1", i+1, v)
		}
		if v == 1 {
			st.Truth++
		}
	}
	if st.Oracle, err = metrics.Evaluate(ctx, scores, truth, o); err != nil {
		return nil, fmt.Errorf("judge stock against the oracle: %w", err)
	}
	b := &SelectionBias{TruthRateStock: float64(st.Truth) / float64(st.Rows), StockAUC: st.Oracle.ROCAUC.Value}
	found := 0
	for i, y := range labels {
		switch {
		case y == 1 && truth[i] == 1:
			found++
		case y == 1:
			b.LabelledPositivesFalse++
		case y == 0 && truth[i] == 1:
			b.LabelledNegativesTrue++
		}
	}
	if st.Truth > 0 {
		b.FoundShare = float64(found) / float64(st.Truth)
	}
	n := 0.0 // st.Labelled ≥ st.Confirmed > 0
	for _, v := range lt {
		n += v
	}
	b.TruthRateLabelled = n / float64(st.Labelled)
	if a, err := metrics.ROCAUC(ls, ly, nil); err == nil {
		b.InvestigatedAUC = &a
	}
	st.Bias = b
	return st, nil
}

// LabelChecks says whether a model was trained, and validated, on enough
// labelled rows for its metrics to be trusted (metrics.CheckLabels): the
// flag a promotion asks for confirmation on. Validation is nil for a model
// without held-out rows; a model written before the checks existed is
// judged from its training counts.
type LabelChecks struct {
	TooFewLabels bool                `json:"too_few_labels"`
	Training     metrics.LabelCheck  `json:"training"`
	Validation   *metrics.LabelCheck `json:"validation,omitempty"`
}

// LabelChecks returns the model's label checks.
func (m *Model) LabelChecks() LabelChecks {
	c := LabelChecks{Training: m.Training.Labels}
	if c.Training.MinRows == 0 { // a model from before the checks
		c.Training = metrics.CheckLabels(m.Training.Rows, m.Training.Positives)
	}
	if v := m.Validation; v != nil && v.Report != nil {
		vc := v.Report.Labels
		if vc.MinRows == 0 {
			vc = metrics.CheckLabels(v.Report.N, v.Report.Positives)
		}
		c.Validation = &vc
	}
	c.TooFewLabels = c.Training.TooFewLabels || c.Validation != nil && c.Validation.TooFewLabels
	return c
}
