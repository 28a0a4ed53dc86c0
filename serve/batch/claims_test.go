package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"caserisk/features/contract"
	"caserisk/serve/api/champion"
	"caserisk/serve/audit"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// promoteChampions registers and promotes a model per target, made with
// seed 1 for the first target, 2 for the next and so on.
func promoteChampions(t *testing.T, st store.Store, dir string) {
	t.Helper()
	promoteChampionsFrom(t, st, dir, 1)
}

// promoteChampionsFrom registers and promotes a model per target, made with
// seed first for the first target, first+1 for the next and so on.
func promoteChampionsFrom(t *testing.T, st store.Store, dir string, first uint64) {
	t.Helper()
	ctx := context.Background()
	for i, target := range store.Targets() {
		m, err := st.RegisterModel(ctx, store.NewModel{Target: target, Path: "m.json", Artifact: artifactFor(t, dir, target, first+uint64(i)),
			Bands: store.Bands{High: 0.5, Medium: 0.2}, RegisteredBy: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.PromoteModel(ctx, target, m.Version, "test"); err != nil {
			t.Fatal(err)
		}
	}
}

// countCases returns the number of cases of each kind.
func countCases(t *testing.T, st store.Store) map[store.Target]int {
	t.Helper()
	out := map[store.Target]int{}
	for _, k := range store.Targets() {
		_, n, err := st.Queue(context.Background(), store.QueueQuery{Kind: k, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	return out
}

// TestScoreRunRules: the as-of date must lie within the data's coverage
// (a field error naming the range); a run held by a live holder is a
// HeldError naming it; Force takes it over and the takeover is audited;
// concurrent runs give one run and its cases once.
func TestScoreRunRules(t *testing.T) {
	dir := borough(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			st := openStore(t, backend)
			promoteChampions(t, st, dir)
			var files [][]contract.FileCount
			r, err := New(Config{Store: st, Load: champion.LoadArtifact, DataDir: dir, Capacity: 10,
				OnFiles: func(fc []contract.FileCount) { files = append(files, fc) }})
			if err != nil {
				t.Fatal(err)
			}
			c, err := core.New(core.Config{Store: st, Runner: r})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			op := core.Operator("tester")
			from, to, err := r.Coverage(ctx)
			if err != nil || from != "2021-01-01" || to != "2025-01-01" {
				t.Fatalf("coverage %s to %s (%v), want 2021-01-01 to 2025-01-01", from, to, err)
			}
			for _, asOf := range []string{"1900-01-01", "2020-12-31", "2025-01-02", "2099-01-01"} {
				_, err := c.ScoreRun(ctx, op, core.ScoreRunRequest{AsOf: asOf})
				var fe *store.FieldError
				if !errors.As(err, &fe) || fe.Field != "as_of" || !strings.Contains(fe.Msg, "2021-01-01 to 2025-01-01") {
					t.Errorf("as of %s: %v, want an as_of field error naming the range", asOf, err)
				}
			}

			// A live run holds the claim: refused, naming it.
			other, err := st.Claim(ctx, scoreRunsClaim, store.ClaimOptions{Holder: "another score run"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ScoreRun(ctx, op, core.ScoreRunRequest{AsOf: asOf})
			var held *store.HeldError
			if !errors.As(err, &held) || held.Holder != "another score run" || !errors.Is(err, store.ErrConflict) {
				t.Fatalf("a run while another holds the claim: %v", err)
			}
			// --force takes over, audited.
			runs, err := c.ScoreRun(ctx, op, core.ScoreRunRequest{AsOf: asOf, Targets: []store.Target{store.ComplexCase}, Force: true})
			if err != nil || len(runs) != 1 || runs[0].CasesOpened != 10 {
				t.Fatalf("forced run: %+v, %v", runs, err)
			}
			<-other.Context().Done()
			if !errors.Is(context.Cause(other.Context()), store.ErrClaimLost) {
				t.Errorf("the displaced holder's cause: %v", context.Cause(other.Context()))
			}
			other.Release()
			es, err := st.Audit(ctx, store.AuditFilter{Action: audit.ClaimTakeover, Limit: 10})
			if err != nil || len(es) != 1 || es[0].Resource != "claim/"+scoreRunsClaim || es[0].User != "tester" {
				t.Errorf("takeover audit rows %+v (%v), want one for claim/%s by tester", es, err, scoreRunsClaim)
			}
			if len(files) == 0 || len(files[0]) != len(contract.Default().Files) {
				t.Errorf("OnFiles got %d summaries", len(files))
			}

			// Concurrent runs of the same date: each either succeeds or is
			// refused as held; the run and its cases exist once.
			before := countCases(t, st)
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = c.ScoreRun(ctx, op, core.ScoreRunRequest{AsOf: "2024-06-30"})
				}()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.As(err, &held):
					t.Errorf("concurrent run: %v, want success or a HeldError", err)
				}
			}
			if ok == 0 {
				t.Error("no concurrent run succeeded")
			}
			if _, err := c.ScoreRun(ctx, op, core.ScoreRunRequest{AsOf: "2024-06-30"}); err != nil {
				t.Fatal(err)
			}
			all, _ := st.ScoreRuns(ctx, "")
			if len(all) != 3 {
				t.Errorf("%d runs stored, want 3 (complex_case %s, both targets on 2024-06-30)", len(all), asOf)
			}
			after := countCases(t, st)
			for _, k := range store.Targets() {
				if d := after[k] - before[k]; d > 10 || d <= 0 && k == store.TenancyFraud {
					t.Errorf("%s: %d cases opened by the concurrent runs, want at most 10", k, d)
				}
			}
		})
	}
}

// TestScoreRunBrokenFile: a service file with a duplicate header column
// stops the run before the single view is touched, naming the file;
// allowing broken files runs without it and counts its lines lost.
func TestScoreRunBrokenFile(t *testing.T) {
	src := borough(t)
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(src, e.Name()))
		if e.Name() == "anti_social_behaviour.csv" {
			first, rest, _ := strings.Cut(string(b), "\n")
			cols := strings.Split(first, ",")
			cols[len(cols)-1] = cols[0]
			b = []byte(strings.Join(cols, ",") + "\n" + rest)
			lines = strings.Count(rest, "\n")
		}
		os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
	}
	ctx := context.Background()
	st := openStore(t, "sqlite")
	promoteChampions(t, st, src)
	r, err := New(Config{Store: st, Load: champion.LoadArtifact, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.ScoreRun(ctx, asOf, 0, nil)
	var be *contract.BrokenFilesError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "anti_social_behaviour.csv:1") {
		t.Fatalf("run over a broken file: %v, want a BrokenFilesError naming it", err)
	}
	if _, n, _ := st.Queue(ctx, store.QueueQuery{Kind: store.ComplexCase}); n != 0 {
		t.Errorf("%d cases opened by a refused run", n)
	}
	var got []contract.FileCount
	r, _ = New(Config{Store: st, Load: champion.LoadArtifact, DataDir: dir, AllowBrokenFiles: true,
		OnFiles: func(fc []contract.FileCount) { got = fc }})
	if _, err := r.ScoreRun(ctx, asOf, 0, nil); err != nil {
		t.Fatalf("with broken files allowed: %v", err)
	}
	for _, fc := range got {
		if fc.File == "anti_social_behaviour.csv" && (fc.Lost != lines || fc.Fault == "") {
			t.Errorf("summary of the broken file %+v, want %d lines lost", fc, lines)
		}
	}
	n, err := Ingest(ctx, st, dir, IngestOptions{AllowBrokenFiles: true})
	if err != nil || n.Lost != lines {
		t.Errorf("ingest: %d lines lost (%v), want %d", n.Lost, err, lines)
	}
	if _, err := Ingest(ctx, st, dir, IngestOptions{}); !errors.As(err, &be) {
		t.Errorf("ingest of a broken file: %v, want a BrokenFilesError", err)
	}
}
