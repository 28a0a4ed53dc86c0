package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"caserisk/features/contract"
	"caserisk/features/synth"
	"caserisk/models/artifact"
	"caserisk/models/dataset"
	"caserisk/serve/store"
)

// borough writes a small synthetic borough (2,500 residents, data to
// 2026-01-01) and returns its directory.
func borough(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "borough")
	cfg := synth.Config{Residents: 2500, Seed: 3, AsOf: contract.MustParseDay("2025-01-01").Time(), YearsBefore: 4, Version: "test"}
	if _, err := synth.Generate(context.Background(), cfg, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// testConfig is a tiny grid on the small borough.
func testConfig(data, results, registry string, targets string) string {
	reg := ""
	if registry != "" {
		reg = "registry: " + registry + "\noutcomes:\n  db: " + registry + "\n"
	}
	return fmt.Sprintf(`data: %s
results: %s
train_as_of: [2022-07-01, 2023-01-01, 2023-07-01, 2024-01-01]
holdout_as_of: 2025-01-01
targets: [%s]
seed: 7
capacity: 50
algorithms:
  gbdt:
    rounds: [20]
    max_depth: [3, 4]
    learning_rate: [0.2]
    early_stopping_rounds: 10
  logistic:
    l2: [1]
%s`, data, results, targets, reg)
}

func run(t *testing.T, cfg string) *Manifest {
	t.Helper()
	c, err := ParseConfig("test.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	m, err := Run(context.Background(), Options{Config: c, ConfigBytes: []byte(cfg), Version: "test", By: "test", Out: &out})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return m
}

func modelBytes(t *testing.T, results string, m *Manifest) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, c := range m.Candidates {
		b, err := os.ReadFile(filepath.Join(results, c.Model))
		if err != nil {
			t.Fatal(err)
		}
		out[c.Target+"-"+c.Algorithm] = b
	}
	return out
}

func TestRunIsDeterministicAndResumes(t *testing.T) {
	t.Parallel()
	data := borough(t)
	resA, resB := t.TempDir(), t.TempDir()
	cfgA := testConfig(data, resA, "", "complex_case")
	a := run(t, cfgA)
	b := run(t, testConfig(data, resB, "", "complex_case"))
	if a.Fits == 0 || len(a.Candidates) != 2 {
		t.Fatalf("first run: %d fits, %d candidates", a.Fits, len(a.Candidates))
	}
	ma, mb := modelBytes(t, resA, a), modelBytes(t, resB, b)
	for k, ba := range ma {
		if !bytes.Equal(ba, mb[k]) {
			t.Errorf("%s: two runs of the same config on the same data wrote different model files", k)
		}
		if bytes.Contains(ba, []byte(`"seconds":0,`)) == false {
			t.Errorf("%s: the model file records a fitting time", k)
		}
		if !bytes.Contains(ba, []byte(`"created":"2025-01-01T00:00:00Z"`)) {
			t.Errorf("%s: the model's creation time is not the hold-out date", k)
		}
	}

	// The same inputs again: every step is reused and nothing is fitted.
	again := run(t, cfgA)
	if again.ID != a.ID || again.Fits != 0 {
		t.Fatalf("rerun: id %s (first %s), %d fits; want the same run and no fit", again.ID, a.ID, again.Fits)
	}
	for _, s := range again.Steps[:5] {
		if !s.Reused {
			t.Errorf("rerun: step %q was redone", s.Name)
		}
	}

	// An interrupted run: the logistic fit never finished. Resuming fits
	// exactly that model, to the same bytes.
	model := filepath.Join(resA, "runs", a.ID, "models", "complex_case-logistic.json")
	if err := os.Remove(model + ".done"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(model); err != nil {
		t.Fatal(err)
	}
	resumed := run(t, cfgA)
	if resumed.Fits != 1 {
		t.Errorf("resume: %d fits, want 1 (the missing model only)", resumed.Fits)
	}
	if got, _ := os.ReadFile(model); !bytes.Equal(got, ma["complex_case-logistic"]) {
		t.Errorf("resume: the refitted model differs from the first run's")
	}

	// A cancelled run stops at a step boundary and says how to resume.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, _ := ParseConfig("test.yaml", []byte(cfgA))
	if _, err := Run(ctx, Options{Config: c, ConfigBytes: []byte(cfgA), Version: "test"}); err == nil || !strings.Contains(err.Error(), "resume") {
		t.Errorf("cancelled run: %v", err)
	}

	// show prints the run.
	read, err := ReadManifest(resA, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := read.WriteSummary(&sb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"run " + a.ID, "residents.csv", "max_depth=", "l2=1 l1=0", "nothing registered"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("show lacks %q:\n%s", want, sb.String())
		}
	}
	if len(read.Outputs) == 0 || read.Data["residents.csv"] == "" {
		t.Errorf("manifest: %d outputs, residents.csv %q", len(read.Outputs), read.Data["residents.csv"])
	}
}

// The hold-out metrics in the manifest are what caserisk evaluate
// (artifact.Evaluate) reports for the registered artifact on the same
// rows; the champion is compared on those rows; nothing is promoted.
func TestHoldoutMatchesEvaluateAndChampionIsCompared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data, res := borough(t), t.TempDir()
	db := "sqlite://" + filepath.Join(t.TempDir(), "reg.db")
	cfg := testConfig(data, res, db, "complex_case")
	m := run(t, cfg)
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if len(m.Registered) != 1 || m.Registered[0].Version != 1 || !m.Registered[0].New {
		t.Fatalf("registered %+v", m.Registered)
	}
	if _, err := st.Champion(ctx, store.ComplexCase); err == nil {
		t.Fatal("the pipeline promoted a model")
	}
	reg, err := st.Model(ctx, store.ComplexCase, 1)
	if err != nil {
		t.Fatal(err)
	}
	var best *Candidate
	for i := range m.Candidates {
		if m.Candidates[i].Best {
			best = &m.Candidates[i]
		}
	}
	if best == nil || best.Algorithm != m.Registered[0].Algorithm {
		t.Fatalf("best candidate %+v, registered %+v", best, m.Registered[0])
	}
	art, err := artifact.Parse(reg.Artifact)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := dataset.Read(ctx, filepath.Join(res, best.Data), dataset.Options{Label: art.Target})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := artifact.Evaluate(ctx, art, tab, m.Config.EvalOptions())
	if err != nil {
		t.Fatal(err)
	}
	h := best.Holdout
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"rows", float64(h.Rows), float64(ev.Report.N)},
		{"AUC", float64(h.AUC), ev.Report.ROCAUC.Value},
		{"average precision", float64(h.AP), ev.Report.AveragePrecision.Value},
		{"log-loss", float64(h.LogLoss), ev.Report.LogLoss.Value},
		{"precision at k", float64(h.PrecisionAtK), ev.Report.TopK[0].Precision.Value},
	} {
		if c.got != c.want || math.IsNaN(c.got) {
			t.Errorf("hold-out %s: manifest %v, evaluate %v", c.name, c.got, c.want)
		}
	}

	// A person promotes v1; a run with another grid registers v2 and
	// compares it with v1 on the same rows.
	if _, err := st.PromoteModel(ctx, store.ComplexCase, 1, "test"); err != nil {
		t.Fatal(err)
	}
	m2 := run(t, strings.Replace(cfg, "rounds: [20]", "rounds: [15]", 1))
	r := m2.Registered[0]
	if r.Version != 2 || r.Champion == nil || r.Champion.Version != 1 || r.Champion.Holdout == nil {
		t.Fatalf("second run registered %+v", r)
	}
	if r.Champion.Holdout.Rows != h.Rows || r.Champion.Holdout.AUC != h.AUC {
		t.Errorf("champion on the hold-out: %+v, want the first run's best %+v", r.Champion.Holdout, h)
	}
	if ch, _ := st.Champion(ctx, store.ComplexCase); ch.Version != 1 {
		t.Errorf("champion is v%d after the second run, want v1 (never promoted by the pipeline)", ch.Version)
	}

	// A review outcome on a row the run built is compared with the
	// extracts' label there.
	ids, _ := tab.Key("resident_id") // the hold-out rows, as of 2025-01-01
	if _, _, err := st.RecordScoreRun(ctx, store.NewRun{Target: store.ComplexCase, AsOf: "2025-01-01", ModelVersion: 1, Capacity: 1,
		Scores: []store.Score{{EntityID: ids[0], ResidentID: ids[0], Score: 0.8, Margin: 1.4, Band: "high", Rank: 1}}}); err != nil {
		t.Fatal(err)
	}
	cases, _, err := st.Queue(ctx, store.QueueQuery{Kind: store.ComplexCase})
	if err != nil || len(cases) != 1 {
		t.Fatalf("queue: %v, %d cases", err, len(cases))
	}
	for _, step := range []store.Transition{
		{CaseID: cases[0].ID, To: store.StatusReviewing, By: "caseworker"},
		{CaseID: cases[0].ID, To: store.StatusHelpOffered, By: "caseworker"},
		{CaseID: cases[0].ID, To: store.StatusClosed, Outcome: store.OutcomeHelpAccepted, By: "caseworker"},
	} {
		if _, err := st.TransitionCase(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
	m3 := run(t, strings.Replace(cfg, "rounds: [20]", "rounds: [15]", 1))
	a := m3.Outcomes.ComplexCase
	if a == nil || a.Outcomes != 1 || a.Matched != 1 {
		t.Fatalf("complex-case agreement %+v, want the one outcome matched", a)
	}
	if agree := tab.Label[0] == 1; (a.Agree == 1) != agree || len(a.Conflicts) != 1-a.Agree {
		t.Errorf("complex-case agreement %+v with the extracts' label %v", a, tab.Label[0])
	}
	if m3.Fits != 0 {
		t.Errorf("a review outcome made the run refit %d models; complex-case outcomes do not change the training rows", m3.Fits)
	}
}

// A fraud outcome recorded in the case store is exported in the
// contract's shape and changes the next run's training rows.
func TestFraudOutcomesFeedTheNextRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data, res := borough(t), t.TempDir()
	db := "sqlite://" + filepath.Join(t.TempDir(), "cases.db")
	cfg := testConfig(data, res, db, "tenancy_fraud")
	before := run(t, cfg)
	cand := func(m *Manifest) Candidate {
		for _, c := range m.Candidates {
			if c.Target == "tenancy_fraud" && c.Algorithm == artifact.Logistic {
				return c
			}
		}
		t.Fatal("no tenancy_fraud logistic candidate")
		return Candidate{}
	}
	b := cand(before)

	// A tenancy with no closed investigation in the year after 2022-07-01.
	tab, err := dataset.Read(ctx, filepath.Join(res, "features", filepath.Base(filepath.Dir(filepath.Join(res, b.Data))), "tenancy-train.csv"),
		dataset.Options{Label: "label_tenancy_fraud"})
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := tab.Key("tenancy_id")
	res_, _ := tab.Key("resident_id")
	asOf, _ := tab.Key("as_of")
	pick := -1
	for i := range ids {
		if asOf[i] == "2022-07-01" && math.IsNaN(tab.Label[i]) {
			pick = i
			break
		}
	}
	if pick < 0 {
		t.Fatal("no unlabelled tenancy row as of 2022-07-01")
	}

	// The score run of 2022-07-01 flagged it; the investigation closed two
	// months later with fraud confirmed.
	closed := contract.MustParseDay("2022-09-01").Time().Add(10 * time.Hour)
	st, err := store.Open(ctx, db, store.WithClock(func() time.Time { return closed }))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, _, err = st.RecordScoreRun(ctx, store.NewRun{Target: store.TenancyFraud, AsOf: "2022-07-01", ModelVersion: before.Registered[0].Version, Capacity: 1,
		Scores: []store.Score{{EntityID: ids[pick], ResidentID: res_[pick], Score: 0.9, Margin: 2.2, Band: "high", Rank: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	cases, _, err := st.Queue(ctx, store.QueueQuery{Kind: store.TenancyFraud})
	if err != nil || len(cases) != 1 {
		t.Fatalf("queue: %v, %d cases", err, len(cases))
	}
	for _, step := range []store.Transition{
		{CaseID: cases[0].ID, To: store.StatusInvestigating, By: "officer"},
		{CaseID: cases[0].ID, To: store.StatusClosed, Outcome: store.OutcomeFraudConfirmed, By: "officer"},
	} {
		if _, err := st.TransitionCase(ctx, step); err != nil {
			t.Fatal(err)
		}
	}

	var exp bytes.Buffer
	n, unplaced, err := ExportLabels(ctx, st, store.TenancyFraud, data, &exp)
	if err != nil || n != 1 || len(unplaced) != 0 {
		t.Fatalf("export: %d rows, unplaced %v, %v", n, unplaced, err)
	}
	want := fmt.Sprintf("CASE-%d,%s,%s,", cases[0].ID, ids[pick], res_[pick])
	if !strings.Contains(exp.String(), want) || !strings.Contains(exp.String(), ",2022-07-01,data_match,2022-09-01,fraud_confirmed,") {
		t.Fatalf("export:\n%s\nwant a row %s...", exp.String(), want)
	}

	after := run(t, cfg)
	if after.ID == before.ID {
		t.Fatal("the run id did not change with the outcomes")
	}
	if rec := after.Outcomes.Reconciliation; rec.Exported != 1 || rec.Added != 1 {
		t.Errorf("reconciliation %+v", rec)
	}
	a := cand(after)
	if a.TrainingRows != b.TrainingRows+1 || a.TrainingPositives != b.TrainingPositives+1 {
		t.Errorf("training rows %d (%d positive) after the outcome, %d (%d) before; want one more positive row",
			a.TrainingRows, a.TrainingPositives, b.TrainingRows, b.TrainingPositives)
	}

	// The exported file, given as outcomes.labels, feeds a run the same way.
	labels := filepath.Join(t.TempDir(), "fraud-outcomes.csv")
	if err := os.WriteFile(labels, exp.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	fromFile := run(t, strings.Replace(testConfig(data, t.TempDir(), "", "tenancy_fraud"), "capacity: 50", "capacity: 50\noutcomes:\n  labels: "+labels, 1))
	if f := cand(fromFile); f.TrainingRows != a.TrainingRows || f.SHA256 != a.SHA256 {
		t.Errorf("from the labels file: %d training rows, model %.12s; from the store: %d, %.12s", f.TrainingRows, f.SHA256, a.TrainingRows, a.SHA256)
	}
}
