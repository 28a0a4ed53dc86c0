package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"caserisk/features/build"
	"caserisk/features/contract"
	"caserisk/features/synth"
	"caserisk/models/artifact"
	"caserisk/models/calibrate"
	"caserisk/models/dataset"
	tgt "caserisk/models/target"
	"caserisk/models/tree"
	"caserisk/serve/api/champion"
	"caserisk/serve/store"
	"caserisk/serve/store/storetest"
)

const asOf = "2024-01-01"

// borough generates a small synthetic borough for the test.
func borough(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Config{Residents: 2000, Seed: 3,
		AsOf: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), YearsBefore: 3}, dir); err != nil {
		t.Fatalf("generate borough: %v", err)
	}
	return dir
}

// artifactFor returns a gbdt artifact over the features the builder makes
// for target's entity, with random trees fixed by seed.
func artifactFor(t *testing.T, dir string, target store.Target, seed uint64) []byte {
	t.Helper()
	tab, err := build.Build(context.Background(), build.Options{Dir: dir, AsOf: []contract.Day{contract.MustParseDay(asOf)}, Entity: tgt.Of(target).Entity})
	if err != nil {
		t.Fatal(err)
	}
	nf := len(tab.Features)
	r := rand.New(rand.NewPCG(seed, 1))
	e := &tree.Ensemble{Base: -1, NumFeatures: nf}
	for range 10 {
		const depth = 3
		n := 1<<(depth+1) - 1
		tr := tree.Tree{Left: make([]int32, n), Right: make([]int32, n), Feature: make([]int32, n), Threshold: make([]float64, n),
			DefaultLeft: make([]bool, n), Value: make([]float64, n), Cover: make([]float64, n), Gain: make([]float64, n)}
		var fill func(i, d int, cover float64)
		fill = func(i, d int, cover float64) {
			tr.Cover[i] = cover
			if d == depth {
				tr.Left[i], tr.Right[i], tr.Feature[i] = -1, -1, -1
				tr.Value[i] = r.Float64() - 0.5
				return
			}
			tr.Left[i], tr.Right[i] = int32(2*i+1), int32(2*i+2)
			f := r.IntN(nf)
			tr.Feature[i] = int32(f)
			// Split at a value the feature takes, so splits matter.
			tr.Threshold[i] = tab.Value(r.IntN(tab.Rows()), f)
			if tr.Threshold[i] != tr.Threshold[i] {
				tr.Threshold[i] = 0.5
			}
			fill(2*i+1, d+1, cover/2)
			fill(2*i+2, d+1, cover/2)
		}
		fill(0, 0, 100)
		e.Trees = append(e.Trees, tr)
	}
	m := &artifact.Model{Algorithm: artifact.GBDT, Target: string(target), Ensemble: e,
		Calibration: &calibrate.Calibrator{Method: calibrate.None}, Created: "2026-01-01T00:00:00Z", CaseriskVersion: "test"}
	for _, f := range tab.Features {
		m.Features = append(m.Features, artifact.Feature{FeatureMeta: dataset.FeatureMeta{Name: f.Name, Description: f.Description,
			Unit: f.Unit, WindowDays: f.WindowDays, Template: f.Template, ZeroTemplate: f.ZeroTemplate}})
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openStore opens a fresh store: SQLite, or PostgreSQL in a schema of its
// own when backend is "postgres" and CASERISK_TEST_POSTGRES is set
// (skipping otherwise).
func openStore(t *testing.T, backend string) store.Store {
	t.Helper()
	ctx := context.Background()
	u := "sqlite://" + filepath.Join(t.TempDir(), "batch.db")
	if backend == "postgres" {
		u = storetest.PostgresURL(t)
	}
	st, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestScoreRun(t *testing.T) {
	dir := borough(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { testScoreRun(t, dir, openStore(t, backend)) })
	}
}

func testScoreRun(t *testing.T, dir string, st store.Store) {
	ctx := context.Background()
	promoteChampions(t, st, dir)
	r, err := New(Config{Store: st, Load: champion.LoadArtifact, DataDir: dir, Capacity: 20})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := r.ScoreRun(ctx, asOf, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2", len(runs))
	}
	for _, run := range runs {
		if run.Rows == 0 || run.CasesOpened == 0 || run.CasesOpened > 20 || run.Capacity != 20 {
			t.Fatalf("run %+v", run)
		}
		scores, err := st.RunScores(ctx, run.ID, 0, run.Rows)
		if err != nil {
			t.Fatal(err)
		}
		households := map[string]bool{}
		for k, s := range scores {
			if want := tgt.BandOf(s.Score); s.Band != want {
				t.Fatalf("%s rank %d: band %q for score %.3f, want the fixed band %q", run.Target, s.Rank, s.Band, s.Score, want)
			}
			if s.Household != "" {
				households[s.Household] = true
			}
			if run.Target == store.TenancyFraud && s.Household != "" {
				t.Fatalf("a tenancy score carries household %q: fraud is per tenancy", s.Household)
			}
			if s.Rank != k+1 || (k > 0 && s.Score > scores[k-1].Score) {
				t.Fatalf("%s: rank %d score %v after %v", run.Target, s.Rank, s.Score, scores[max(k-1, 0)].Score)
			}
			var reasons []champion.Reason
			if err := json.Unmarshal(s.Reasons, &reasons); err != nil || len(reasons) > 5 {
				t.Fatalf("reasons %s: %v", s.Reasons, err)
			}
			if run.Target == store.TenancyFraud && !strings.HasPrefix(s.EntityID, "T") && s.EntityID == s.ResidentID {
				t.Fatalf("tenancy score keyed by resident: %+v", s)
			}
		}
		if run.Target != store.ComplexCase {
			continue
		}
		// RunScores returns the top 100 here: most live in a household of
		// their own or of two.
		if len(households) < len(scores)/3 {
			t.Fatalf("%d households among the top %d residents: the household key is not carried", len(households), len(scores))
		}
		// One open review per household: the capacity counts households.
		cases, total, err := st.Queue(ctx, store.QueueQuery{Kind: store.ComplexCase, Limit: 500})
		if err != nil || total != run.CasesOpened {
			t.Fatalf("queue: %d cases, %v; the run opened %d", total, err, run.CasesOpened)
		}
		seen := map[string]int64{}
		for _, k := range cases {
			if k.Household == "" {
				continue
			}
			if other, dup := seen[k.Household]; dup {
				t.Fatalf("cases %d and %d are both open for household %s", other, k.ID, k.Household)
			}
			seen[k.Household] = k.ID
			members, err := st.HouseholdScores(ctx, run.ID, k.Household)
			if err != nil || len(members) == 0 || members[0].EntityID != k.EntityID {
				t.Fatalf("case %d: household %s members %+v (%v); want the case's resident first", k.ID, k.Household, members, err)
			}
		}
	}
	// The single view was loaded: the top resident has a view and a score.
	top, err := st.RunScores(ctx, runs[0].ID, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.Resident(ctx, top[0].ResidentID)
	if err != nil || v.Resident.ID != top[0].ResidentID {
		t.Fatalf("single view of %s: %+v %v", top[0].ResidentID, v, err)
	}
	evs, err := st.Timeline(ctx, top[0].ResidentID, store.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("resident %s: %d stays, %d events", top[0].ResidentID, len(v.Stays), len(evs))

	// Idempotent: the same date and champion give the same runs.
	again, err := r.ScoreRun(ctx, asOf, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range runs {
		if again[i].ID != runs[i].ID {
			t.Fatalf("second run made run %d, want %d", again[i].ID, runs[i].ID)
		}
	}
	all, err := st.ScoreRuns(ctx, "")
	if err != nil || len(all) != 2 {
		t.Fatalf("%d runs stored after a repeat, want 2 (%v)", len(all), err)
	}
}

func TestScoreRunRejects(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "batch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := New(Config{Store: st, Load: champion.LoadArtifact, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		asOf     string
		capacity int
		want     string
	}{
		{"2024-02-30", 0, "as_of"},
		{"yesterday", 0, "as_of"},
		{"2024-01-01", -1, "capacity"},
		{"2024-01-01", 0, "champion"},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.asOf, tc.capacity), func(t *testing.T) {
			_, err := r.ScoreRun(ctx, tc.asOf, tc.capacity, []store.Target{store.ComplexCase})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
	if _, err := New(Config{Store: st, Load: champion.LoadArtifact}); err == nil {
		t.Fatal("a runner without a data directory was made")
	}
}
