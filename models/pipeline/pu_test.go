package pipeline

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"caserisk/features/contract"
	"caserisk/features/synth"
	"caserisk/models/artifact"
	"caserisk/models/dataset"
)

// TestFraudCandidatesJudgedOnTheWholeStock: with tenancy fraud, each
// algorithm is also fitted positive–unlabelled; the candidates are chosen
// by the confirmed frauds' average precision among every tenancy of the
// validation half (what a council has); the oracle's whole-stock figures
// are reported beside, the same as caserisk evaluate --oracle gives.
func TestFraudCandidatesJudgedOnTheWholeStock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "borough")
	if _, err := synth.Generate(ctx, synth.Config{Residents: 12000, Seed: 5, AsOf: contract.MustParseDay("2025-01-01").Time(), YearsBefore: 4, Version: "test"}, data); err != nil {
		t.Fatal(err)
	}
	res := t.TempDir()
	oracle := filepath.Join(data, "oracle", "tenancies.csv")
	cfg := testConfig(data, res, "", "tenancy_fraud") + "reports:\n  oracle:\n    tenancy_fraud: " + oracle + "\n"
	m := run(t, cfg)
	byName := map[string]Candidate{}
	var best Candidate
	for _, c := range m.Candidates {
		byName[c.Algorithm] = c
		if c.Best {
			best = c
		}
	}
	for _, name := range []string{"gbdt", "logistic", "gbdt-pu", "logistic-pu"} {
		c, ok := byName[name]
		if !ok {
			t.Fatalf("no %s candidate; candidates %v, notes %q", name, m.Candidates, m.Notes)
		}
		if want := strings.HasSuffix(name, "-pu"); (c.Learning == LearnPU) != want || math.IsNaN(float64(c.ValidationStockAP)) {
			t.Errorf("%s: learning %q, validation stock AP %v", name, c.Learning, c.ValidationStockAP)
		}
		h := c.Holdout
		if h == nil || h.Stock == nil || h.Oracle == nil || h.Oracle.Positives == 0 || h.Stock.Rows != h.Oracle.Rows || len(h.Oracle.TopK) == 0 {
			t.Fatalf("%s: hold-out %+v", name, h)
		}
		if c.Learning == LearnPU {
			want := map[string]int{"gbdt-pu": 2, "logistic-pu": 1}[name] // the grid's settings
			if len(c.PUSettings) != want || math.IsNaN(float64(c.LabelLogLoss)) {
				t.Errorf("%s: settings %+v, label log-loss %v", name, c.PUSettings, c.LabelLogLoss)
			}
			for _, ps := range c.PUSettings {
				if float64(ps.LabelLogLoss) < float64(c.LabelLogLoss) {
					t.Errorf("%s kept %s (label log-loss %v) over %s (%v)", name, c.Setting, c.LabelLogLoss, ps.Setting, ps.LabelLogLoss)
				}
			}
		}
		b, err := os.ReadFile(filepath.Join(res, c.Report))
		if err != nil || !strings.Contains(string(b), "Judged on every row: the whole stock") || !strings.Contains(string(b), "Against the oracle's truth") {
			t.Errorf("%s report lacks the whole-stock section (%v)", name, err)
		}
	}
	if i := bestCandidates(m.Candidates)["tenancy_fraud"]; m.Candidates[i].Algorithm != best.Algorithm {
		t.Errorf("best %s, bestCandidates %s", best.Algorithm, m.Candidates[i].Algorithm)
	}
	if !slices.Contains(m.Notes, fraudChoice) {
		t.Errorf("notes %q lack how the fraud candidates are chosen", m.Notes)
	}
	// The manifest's oracle figures are caserisk evaluate --oracle's.
	pu := byName["gbdt-pu"]
	mod, err := artifact.Load(filepath.Join(res, pu.Model))
	if err != nil {
		t.Fatal(err)
	}
	if mod.Training.PU == nil || mod.Training.PU.Positives != pu.TrainingPositives {
		t.Errorf("model's PU record %+v, candidate's %d positives", mod.Training.PU, pu.TrainingPositives)
	}
	hold, err := dataset.Read(ctx, filepath.Join(res, pu.Data), dataset.Options{Label: mod.Target})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := artifact.Evaluate(ctx, mod, hold, m.Config.EvalOptions())
	if err != nil {
		t.Fatal(err)
	}
	ot, err := dataset.Read(ctx, oracle, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.CompareOracle(ctx, ot, "", m.Config.EvalOptions()); err != nil {
		t.Fatal(err)
	}
	if got, want := float64(pu.Holdout.Oracle.AP), ev.Oracle.Stock.Oracle.AveragePrecision.Value; got != want {
		t.Errorf("manifest's whole-stock AP %v, evaluate --oracle %v", got, want)
	}
	var sum strings.Builder
	if err := m.WriteSummary(&sum); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum.String(), "against the oracle's truth (synthetic data)") || !strings.Contains(sum.String(), "VALID. STOCK AP") {
		t.Errorf("summary:\n%s", sum.String())
	}

	// Without positive-unlabelled fits: the two labelled-row candidates.
	off := run(t, testConfig(data, t.TempDir(), "", "tenancy_fraud")+"tenancy_fraud:\n  positive_unlabelled: false\n")
	if len(off.Candidates) != 2 {
		t.Errorf("positive_unlabelled: false gave %d candidates", len(off.Candidates))
	}
}

func TestFraudConfigNeedsTheTarget(t *testing.T) {
	cfg := testConfig("d", "r", "", "complex_case") + "tenancy_fraud:\n  positive_unlabelled: false\n"
	if _, err := ParseConfig("test.yaml", []byte(cfg)); err == nil || !strings.Contains(err.Error(), "tenancy_fraud: set, but tenancy_fraud is not among the targets") {
		t.Errorf("error %v", err)
	}
}

func TestBestCandidates(t *testing.T) {
	nan := Num(math.NaN())
	cands := []Candidate{
		{Target: "complex_case", Algorithm: "gbdt", CVScore: 0.3},
		{Target: "complex_case", Algorithm: "logistic", CVScore: 0.35},
		{Target: "tenancy_fraud", Algorithm: "gbdt", Learning: LearnLabelled, CVScore: 0.7, ValidationStockAP: 0.25, LabelLogLoss: nan},
		{Target: "tenancy_fraud", Algorithm: "logistic", Learning: LearnLabelled, CVScore: 0.6, ValidationStockAP: 0.20, LabelLogLoss: nan},
		{Target: "tenancy_fraud", Algorithm: "gbdt-pu", Learning: LearnPU, CVScore: nan, ValidationStockAP: 0.34, LabelLogLoss: 0.021},
		{Target: "tenancy_fraud", Algorithm: "logistic-pu", Learning: LearnPU, CVScore: nan, ValidationStockAP: 0.36, LabelLogLoss: 0.023},
	}
	got := bestCandidates(cands)
	if cands[got["complex_case"]].Algorithm != "logistic" {
		t.Errorf("complex_case: %s, want logistic (the higher cross-validation score)", cands[got["complex_case"]].Algorithm)
	}
	// The PU candidates by label log-loss, though logistic-pu ranks the
	// confirmed frauds a little higher.
	if cands[got["tenancy_fraud"]].Algorithm != "gbdt-pu" {
		t.Errorf("tenancy_fraud: %s, want gbdt-pu (the lowest label log-loss)", cands[got["tenancy_fraud"]].Algorithm)
	}
	// A labelled-rows candidate that ranks the confirmed frauds higher than
	// the best PU candidate wins.
	cands[2].ValidationStockAP = 0.40
	if got := bestCandidates(cands); cands[got["tenancy_fraud"]].Algorithm != "gbdt" {
		t.Errorf("tenancy_fraud: %s, want gbdt", cands[got["tenancy_fraud"]].Algorithm)
	}
	// Without PU candidates: the best ranking.
	if got := bestCandidates(cands[:4]); cands[got["tenancy_fraud"]].Algorithm != "gbdt" {
		t.Errorf("tenancy_fraud without PU: %s", cands[got["tenancy_fraud"]].Algorithm)
	}
}
