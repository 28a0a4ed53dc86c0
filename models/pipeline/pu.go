package pipeline

import (
	"context"
	"fmt"
	"math"

	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/models/metrics"
	"caserisk/models/target"
)

// How a candidate learnt (Candidate.Learning).
const (
	// LearnLabelled: trained on the labelled rows only (for tenancy fraud,
	// the investigated tenancies).
	LearnLabelled = "labelled rows"
	// LearnPU: trained positive–unlabelled on every row, the confirmed
	// positives against all others (models/pu).
	LearnPU = "positive-unlabelled"
)

// fitVariant is one model fitted per target and algorithm: name is its
// file and candidate name (gbdt, logistic, gbdt-pu, logistic-pu).
type fitVariant struct {
	name, algo string
	pu         bool
}

// variants lists the models fitted for a target: each algorithm with a
// grid, and for tenancy fraud (unless tenancy_fraud.positive_unlabelled is
// false) each again positive–unlabelled with the setting the
// cross-validation chose for it.
func (r *runner) variants(t target.Target) []fitVariant {
	var out []fitVariant
	for _, a := range []string{artifact.GBDT, artifact.Logistic} {
		out = append(out, fitVariant{name: a, algo: a})
	}
	if t.Name == target.TenancyFraud && r.c.fraudPU() {
		for _, a := range []string{artifact.GBDT, artifact.Logistic} {
			out = append(out, fitVariant{name: a + "-pu", algo: a, pu: true})
		}
	}
	return out
}

// baselineOf names the model a candidate's report sets beside it: for a
// positive–unlabelled candidate the same algorithm trained on the labelled
// rows; otherwise the other algorithm.
func baselineOf(v fitVariant) string {
	if v.pu {
		return v.algo
	}
	if v.algo == artifact.GBDT {
		return artifact.Logistic
	}
	return artifact.GBDT
}

// fraudChoice is how the tenancy-fraud candidates are compared, in words
// for the manifest.
const fraudChoice = "tenancy_fraud: candidates compared by the average precision of the confirmed frauds among every tenancy " +
	"(investigated or not) of the last training date's evaluation half, which no candidate was fitted, stopped or calibrated on; " +
	"the investigated tenancies alone favour a model trained on them, which ranks the whole stock worse"

// choiceScore is the score a candidate is chosen by: for tenancy fraud the
// validation ranking of every tenancy against the confirmed frauds (what a
// council can measure of its whole stock), else the cross-validation score.
// -Inf when it is not a number.
func choiceScore(c *Candidate) float64 {
	s := float64(c.CVScore)
	if c.Target == string(target.TenancyFraud) {
		s = float64(c.ValidationStockAP)
	}
	if math.IsNaN(s) {
		return math.Inf(-1)
	}
	return s
}

// stockFigures summarises a ranking of every row.
func stockFigures(rep *metrics.Report) *StockFigures {
	if rep == nil {
		return nil
	}
	f := &StockFigures{Rows: rep.N, Positives: rep.Positives, AP: Num(rep.AveragePrecision.Value), AUC: Num(rep.ROCAUC.Value)}
	for _, k := range rep.TopK {
		f.TopK = append(f.TopK, StockAtK{K: k.K, Precision: Num(k.Precision.Value), Recall: Num(k.Recall.Value)})
	}
	return f
}

// fraudOracle reads the tenancy-fraud oracle (reports: oracle:
// tenancy_fraud) once; nil when none is set.
func (r *runner) fraudOracle(ctx context.Context) (*dataset.Table, error) {
	p, ok := r.c.Reports.Oracle[string(target.TenancyFraud)]
	if !ok {
		return nil, nil
	}
	if r.oracleTab == nil {
		t, err := dataset.Read(ctx, p, dataset.Options{})
		if err != nil {
			return nil, fmt.Errorf("reports: oracle of tenancy_fraud: %w", err)
		}
		r.oracleTab = t
	}
	return r.oracleTab, nil
}

// compareOracle judges a tenancy-fraud evaluation over every hold-out
// tenancy against the oracle, when reports: oracle: tenancy_fraud is set.
func (r *runner) compareOracle(ctx context.Context, t target.Target, ev *artifact.Evaluation, mo metrics.Options) error {
	if t.Name != target.TenancyFraud {
		return nil
	}
	ot, err := r.fraudOracle(ctx)
	if err != nil || ot == nil {
		return err
	}
	if _, err := ev.CompareOracle(ctx, ot, "", mo); err != nil {
		return fmt.Errorf("reports: oracle of tenancy_fraud: %w", err)
	}
	return nil
}

// skipped reports whether the fit record beside a model path says the
// model could not be fitted.
func skipped(path string) bool {
	var rec fitRecord
	return readJSON(path+".fit.json", &rec) == nil && rec.Skipped != ""
}
