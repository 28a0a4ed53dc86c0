package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
)

// TestCasesCountHouseholds: a run opens one case per household, for its
// best-ranked member, counting households against the capacity; scores
// without a household stand alone; the household's members come back with
// their own scores; a later run opens no second case for a household with
// an open case; a repeated run changes nothing.
func TestCasesCountHouseholds(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		if _, err := s.RegisterModel(ctx, testModel(ComplexCase)); err != nil {
			t.Fatal(err)
		}
		sc := testScores(10, "H")
		// Ranks 1, 2 and 4 live at one address; 3 and 6 at another; 5 has
		// no known household; the rest are one per household.
		for i, h := range []string{"100", "100", "200", "100", "", "200", "300", "400", "500", "600"} {
			sc[i].Household = h
		}
		run := NewRun{Target: ComplexCase, AsOf: "2025-03-31", ModelVersion: 1, Capacity: 4, Scores: sc}
		r1, created, err := s.RecordScoreRun(ctx, run)
		if err != nil || !created {
			t.Fatalf("run: created %v, %v", created, err)
		}
		// Units by leader rank: 100 (H0001), 200 (H0003), H0005 alone, 300 (H0007).
		if r1.CasesOpened != 4 {
			t.Errorf("opened %d cases, want 4", r1.CasesOpened)
		}
		q, total, err := s.Queue(ctx, QueueQuery{Kind: ComplexCase})
		if err != nil || total != 4 {
			t.Fatalf("queue: %d, %v", total, err)
		}
		want := []struct{ entity, household string }{{"H0001", "100"}, {"H0003", "200"}, {"H0005", ""}, {"H0007", "300"}}
		for i, w := range want {
			if q[i].EntityID != w.entity || q[i].Household != w.household {
				t.Errorf("queue[%d] = %s of household %q, want %s of %q", i, q[i].EntityID, q[i].Household, w.entity, w.household)
			}
		}
		members, err := s.HouseholdScores(ctx, r1.ID, "100")
		if err != nil || len(members) != 3 {
			t.Fatalf("household 100: %+v, %v", members, err)
		}
		for i, id := range []string{"H0001", "H0002", "H0004"} {
			if members[i].EntityID != id || members[i].Household != "100" || members[i].Rank == 0 || string(members[i].Reasons) == "null" {
				t.Errorf("member %d: %+v, want %s with its own score", i, members[i], id)
			}
		}
		if none, err := s.HouseholdScores(ctx, r1.ID, ""); err != nil || len(none) != 0 {
			t.Errorf("the empty household: %+v, %v", none, err)
		}
		if again, created, err := s.RecordScoreRun(ctx, run); err != nil || created || again.ID != r1.ID {
			t.Errorf("repeat: %+v %v %v", again, created, err)
		}
		// A later run: household 100 is now led by H0002 and keeps its one
		// open case; 400 and 500 get theirs.
		later := run
		later.AsOf = "2025-06-30"
		later.Capacity = 6
		later.Scores = append([]Score(nil), sc...)
		later.Scores[0].Rank, later.Scores[1].Rank = 2, 1
		r2, _, err := s.RecordScoreRun(ctx, later)
		if err != nil {
			t.Fatal(err)
		}
		if r2.CasesOpened != 2 {
			t.Errorf("later run opened %d cases, want 2 (households 400 and 500)", r2.CasesOpened)
		}
		var perHousehold int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM cases WHERE household = '100' AND status <> 'closed'`).Scan(&perHousehold); err != nil {
			t.Fatal(err)
		}
		if perHousehold != 1 {
			t.Errorf("household 100 has %d open cases, want 1", perHousehold)
		}
		// The database itself refuses a second open case of a household.
		_, err = raw.Exec(`INSERT INTO cases (kind, entity_id, resident_id, household, run_id, score, score_rank, status, opened, updated)
			VALUES ('complex_case', 'H0004', 'RH0004', '100', 1, 0.5, 4, 'new', 0, 0)`)
		if err == nil {
			t.Error("a second open case of household 100 was stored")
		}
	})
}

func TestHouseholdKeyValidated(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		s.RegisterModel(ctx, testModel(ComplexCase))
		sc := testScores(3, "V")
		sc[1].Household = string([]byte{0xff, 0xfe})
		_, _, err := s.RecordScoreRun(ctx, NewRun{Target: ComplexCase, AsOf: "2025-03-31", ModelVersion: 1, Capacity: 1, Scores: sc})
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "scores[1].household" {
			t.Errorf("a household key that is not text: %v", err)
		}
	})
}
