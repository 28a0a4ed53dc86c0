package retraining

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
	"caserisk/models/pipeline"
	"caserisk/serve/audit"
	"caserisk/serve/core"
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

// config is a tiny grid on the small borough, with the case store's
// outcomes (outcomes.db: the caller gives the source).
func config(data, results, targets string) string {
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
    max_depth: [3]
    learning_rate: [0.2]
    early_stopping_rounds: 10
  logistic:
    l2: [1]
outcomes:
  db: the test's store
`, data, results, targets)
}

// run runs the pipeline with the adapter on st as the operator "retrain".
func run(t *testing.T, st store.Store, cfg string) *pipeline.Manifest {
	t.Helper()
	c, err := pipeline.ParseConfig("test.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	co, err := core.New(core.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	ad := New(co, core.Operator("retrain"))
	var out bytes.Buffer
	m, err := pipeline.Run(context.Background(), pipeline.Options{Config: c, ConfigBytes: []byte(cfg), Version: "test", Out: &out, Registry: ad, Outcomes: ad})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return m
}

func openStore(t *testing.T, opts ...store.Option) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "c.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// The pipeline registers through the core (audited as model.register,
// with the report's fairness audit), reads the outcomes through it
// (audited as labels.export), never promotes, and compares the champion a
// person promoted on the same rows.
func TestPipelineActsThroughTheCore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data, res := borough(t), t.TempDir()
	st := openStore(t)
	cfg := config(data, res, "complex_case")
	m := run(t, st, cfg)
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
	if reg.RegisteredBy != "retrain" || !bytes.Contains(reg.Metrics, []byte(`"fairness"`)) || reg.Bands.High <= reg.Bands.Medium {
		t.Errorf("registration: by %q, bands %+v, metrics %.200s", reg.RegisteredBy, reg.Bands, reg.Metrics)
	}
	rows, err := st.Audit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Action+" "+r.Resource+" "+r.User)
	}
	for _, want := range []string{audit.ModelRegister + " model/complex_case/1 retrain", audit.LabelsExport + " labels/tenancy_fraud retrain",
		audit.LabelsExport + " labels/complex_case retrain"} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("audit log lacks %q:\n%s", want, strings.Join(got, "\n"))
		}
	}

	// A person promotes v1; a run with another grid registers v2 and
	// compares it with v1 on the same rows.
	var best *pipeline.Candidate
	for i := range m.Candidates {
		if m.Candidates[i].Best {
			best = &m.Candidates[i]
		}
	}
	if _, err := st.PromoteModel(ctx, store.ComplexCase, 1, "test"); err != nil {
		t.Fatal(err)
	}
	m2 := run(t, st, strings.Replace(cfg, "rounds: [20]", "rounds: [15]", 1))
	r := m2.Registered[0]
	if r.Version != 2 || r.Champion == nil || r.Champion.Version != 1 || r.Champion.Holdout == nil {
		t.Fatalf("second run registered %+v", r)
	}
	if h := best.Holdout; r.Champion.Holdout.Rows != h.Rows || r.Champion.Holdout.AUC != h.AUC {
		t.Errorf("champion on the hold-out: %+v, want the first run's best %+v", r.Champion.Holdout, h)
	}
	if ch, _ := st.Champion(ctx, store.ComplexCase); ch.Version != 1 {
		t.Errorf("champion is v%d after the second run, want v1 (never promoted by the pipeline)", ch.Version)
	}

	// A review outcome on a row the run built is compared with the
	// extracts' label there.
	tab, err := dataset.Read(ctx, filepath.Join(res, best.Data), dataset.Options{Label: "label_complex_case"})
	if err != nil {
		t.Fatal(err)
	}
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
	m3 := run(t, st, strings.Replace(cfg, "rounds: [20]", "rounds: [15]", 1))
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
	// The score run of 2022-07-01 flags a tenancy; its investigation closes
	// two months later with fraud confirmed.
	closed := contract.MustParseDay("2022-09-01").Time().Add(10 * time.Hour)
	st := openStore(t, store.WithClock(func() time.Time { return closed }))
	cfg := config(data, res, "tenancy_fraud")
	before := run(t, st, cfg)
	cand := func(m *pipeline.Manifest) pipeline.Candidate {
		for _, c := range m.Candidates {
			if c.Target == "tenancy_fraud" && c.Algorithm == artifact.Logistic {
				return c
			}
		}
		t.Fatal("no tenancy_fraud logistic candidate")
		return pipeline.Candidate{}
	}
	b := cand(before)

	// A tenancy with no closed investigation in the year after 2022-07-01.
	tab, err := dataset.Read(ctx, filepath.Join(res, filepath.Dir(b.Data), "tenancy-train.csv"), dataset.Options{Label: "label_tenancy_fraud"})
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

	co, err := core.New(core.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	var exp bytes.Buffer
	if _, _, err := ExportLabels(ctx, co, core.Operator("x"), store.TenancyFraud, "", &exp); err == nil {
		t.Error("a fraud export without the extracts' directory was accepted")
	}
	n, unplaced, err := ExportLabels(ctx, co, core.Operator("x"), store.TenancyFraud, data, &exp)
	if err != nil || n != 1 || len(unplaced) != 0 {
		t.Fatalf("export: %d rows, unplaced %v, %v", n, unplaced, err)
	}
	want := fmt.Sprintf("CASE-%d,%s,%s,", cases[0].ID, ids[pick], res_[pick])
	if !strings.Contains(exp.String(), want) || !strings.Contains(exp.String(), ",2022-07-01,data_match,2022-09-01,fraud_confirmed,") {
		t.Fatalf("export:\n%s\nwant a row %s...", exp.String(), want)
	}

	after := run(t, st, cfg)
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
	fromFile := run(t, openStore(t), strings.Replace(config(data, t.TempDir(), "tenancy_fraud"), "  db: the test's store", "  labels: "+labels, 1))
	if f := cand(fromFile); f.TrainingRows != a.TrainingRows || f.SHA256 != a.SHA256 {
		t.Errorf("from the labels file: %d training rows, model %.12s; from the store: %d, %.12s", f.TrainingRows, f.SHA256, a.TrainingRows, a.SHA256)
	}
}
