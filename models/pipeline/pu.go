package pipeline

import (
	"context"
	"fmt"
	"math"
	"strings"

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
const fraudChoice = "tenancy_fraud: each algorithm fitted positive-unlabelled with every setting of its grid, the lowest label log-loss kept " +
	"(how well the model and its labelling process explain which tenancies of the last training date's evaluation half were confirmed, " +
	"measured on every tenancy); the positive-unlabelled candidates compared by that log-loss, and the best of them against the candidates " +
	"trained on investigated tenancies by the confirmed frauds' average precision among every tenancy of that half — " +
	"not by the investigated tenancies alone, which favour a model trained on them"

// bestCandidates returns, per target, the index of the candidate chosen,
// with only what a council has. Complex cases: the highest
// cross-validation score. Tenancy fraud: the positive–unlabelled candidate
// with the lowest label log-loss, unless a candidate trained on the
// labelled rows ranks the confirmed frauds higher among every tenancy of
// the validation half (ValidationStockAP; a labelled-rows model has no c,
// so log-loss cannot compare it); without positive–unlabelled candidates,
// the highest ValidationStockAP.
func bestCandidates(cands []Candidate) map[string]int {
	out := map[string]int{}
	score := func(i int) float64 { return nan2inf(float64(cands[i].CVScore)) }
	bestBy := func(tg string, keep func(*Candidate) bool, higher func(a, b int) bool) int {
		b := -1
		for i := range cands {
			if cands[i].Target == tg && keep(&cands[i]) && (b < 0 || higher(i, b)) {
				b = i
			}
		}
		return b
	}
	for i := range cands {
		tg := cands[i].Target
		if _, done := out[tg]; done {
			continue
		}
		if tg != string(target.TenancyFraud) {
			out[tg] = bestBy(tg, func(*Candidate) bool { return true }, func(a, b int) bool { return score(a) > score(b) })
			continue
		}
		stockAP := func(j int) float64 { return nan2inf(float64(cands[j].ValidationStockAP)) }
		pu := bestBy(tg, func(c *Candidate) bool { return c.Learning == LearnPU && !math.IsNaN(float64(c.LabelLogLoss)) },
			func(a, b int) bool { return float64(cands[a].LabelLogLoss) < float64(cands[b].LabelLogLoss) })
		lab := bestBy(tg, func(c *Candidate) bool { return c.Learning != LearnPU },
			func(a, b int) bool { return stockAP(a) > stockAP(b) })
		switch {
		case pu >= 0 && (lab < 0 || stockAP(pu) >= stockAP(lab)):
			out[tg] = pu
		case lab >= 0:
			out[tg] = lab
		default:
			out[tg] = bestBy(tg, func(*Candidate) bool { return true }, func(a, b int) bool { return stockAP(a) > stockAP(b) })
		}
	}
	return out
}

func nan2inf(v float64) float64 {
	if math.IsNaN(v) {
		return math.Inf(-1)
	}
	return v
}

// fitPU fits a positive–unlabelled model of v's algorithm with every
// setting of the grid for it, records each one's label log-loss and
// validation ranking in rec, and returns the one with the lowest label
// log-loss (rec.Setting). The cross-validation's choice, made on labelled
// rows only, does not carry over: a learning rate that suits a thousand
// investigated tenancies can overfit a hundred thousand weighted rows.
func (r *runner) fitPU(ctx context.Context, tr, held *dataset.Table, v fitVariant, rec *fitRecord, validAfter string) (*artifact.Model, error) {
	n := len(r.c.TrainAsOf)
	es := 0
	if g := r.c.Algorithms.GBDT; g != nil {
		es = g.EarlyStoppingRounds
	}
	var best *artifact.Model
	var errs []string
	for _, s := range r.c.settings() {
		if s.Algorithm != v.algo {
			continue
		}
		fo := s.fitOptions(r.c.Seed, es)
		fo.Created = r.c.HoldoutAsOf.Time()
		fo.Version = r.o.Version
		fo.Metrics = metrics.Options{Ks: []int{r.c.Capacity}, Seed: r.c.Seed}
		fo.HeldOut = fmt.Sprintf("pipeline: positive-unlabelled (every row; label 1 positive, any other unlabelled); rows dated after %s (as of %s) held out; halved by id: tuning half for early stopping, calibration and c, evaluation half for the metrics",
			validAfter, r.c.TrainAsOf[n-1].Day)
		fo.PU = &artifact.PUOptions{}
		m, err := artifact.Fit(ctx, tr, held, fo)
		if err != nil {
			errs = append(errs, s.Name+": "+err.Error())
			continue
		}
		r.fits++
		ps := PUSetting{Setting: s.Name, LabelLogLoss: Num(m.Training.PU.LabelLogLoss), ValidationStockAP: Num(math.NaN())}
		if st := m.Validation.Stock; st != nil {
			ps.ValidationStockAP = Num(st.AveragePrecision.Value)
		}
		rec.Settings = append(rec.Settings, ps)
		r.say("      %-13s %-11s %-60s label log-loss %s, confirmed frauds' AP among every tenancy %s", "", v.name, s.Name, ps.LabelLogLoss, ps.ValidationStockAP)
		if best == nil || m.Training.PU.LabelLogLoss < best.Training.PU.LabelLogLoss {
			best, rec.Setting = m, s
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return best, nil
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
