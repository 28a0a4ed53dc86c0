package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
)

func testModel(target Target) NewModel {
	return NewModel{Target: target, Path: "models/" + string(target) + ".json",
		Artifact: []byte(`{"format":"caserisk-model","trees":[]}`), Metrics: json.RawMessage(`{"auc":0.8}`),
		Bands: Bands{High: 0.5, Medium: 0.2}, RegisteredBy: "tester"}
}

func TestOpenRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "mysql://x", "sqlite://", "file:x.db", "postgres://%zz", "sqlite://:memory:"} {
		if _, err := Open(context.Background(), u); err == nil {
			t.Errorf("Open(%q) succeeded, want an error", u)
		}
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in, dialect, dsnPrefix string
	}{
		{"sqlite://./caserisk.db", SQLite, "file:./caserisk.db?"},
		{"sqlite:///var/lib/caserisk.db", SQLite, "file:/var/lib/caserisk.db?"},
		{"postgres://u:p@h:5432/db?sslmode=disable", Postgres, "postgres://u:p@h:5432/db"},
		{"postgresql://h/db", Postgres, "postgresql://h/db"},
	}
	for _, tt := range tests {
		d, dsn, err := ParseURL(tt.in)
		if err != nil || d != tt.dialect || !strings.HasPrefix(dsn, tt.dsnPrefix) {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q…", tt.in, d, dsn, err, tt.dialect, tt.dsnPrefix)
		}
	}
	if _, _, err := ParseURL("mysql://u:secret@h/db"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("error for a bad scheme must not show the password: %v", err)
	}
}

func TestMigrationsAreIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		d := s.(*db)
		if err := d.migrate(context.Background()); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		var n int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		ms, _ := migrations(d.dialect)
		if n != len(ms) {
			t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
		}
	})
}

func TestModelRegistry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		if _, err := s.Champion(ctx, ComplexCase); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Champion on empty registry: %v, want ErrNotFound", err)
		}
		m1, err := s.RegisterModel(ctx, testModel(ComplexCase))
		if err != nil {
			t.Fatal(err)
		}
		m2, _ := s.RegisterModel(ctx, testModel(ComplexCase))
		f1, _ := s.RegisterModel(ctx, testModel(TenancyFraud))
		if m1.Version != 1 || m2.Version != 2 || f1.Version != 1 {
			t.Fatalf("versions %d, %d, %d; want 1, 2 and 1 (per target)", m1.Version, m2.Version, f1.Version)
		}
		if m1.Stage != Candidate || len(m1.SHA256) != 64 {
			t.Errorf("new model: stage %s, sha256 %q", m1.Stage, m1.SHA256)
		}
		if _, err := s.PromoteModel(ctx, ComplexCase, 1, "admin"); err != nil {
			t.Fatal(err)
		}
		p, err := s.PromoteModel(ctx, ComplexCase, 2, "admin")
		if err != nil {
			t.Fatal(err)
		}
		if p.Stage != Champion || p.PromotedBy != "admin" || p.PromotedAt.IsZero() {
			t.Errorf("promoted model: %+v", p)
		}
		ms, err := s.Models(ctx, ComplexCase)
		if err != nil {
			t.Fatal(err)
		}
		stages := []Stage{ms[0].Stage, ms[1].Stage}
		if stages[0] != Retired || stages[1] != Champion {
			t.Errorf("stages after promoting v2: %v, want [retired champion]", stages)
		}
		if len(ms[0].Artifact) != 0 {
			t.Error("Models must not carry artifacts")
		}
		c, err := s.Champion(ctx, ComplexCase)
		if err != nil || c.Version != 2 || string(c.Artifact) != string(testModel(ComplexCase).Artifact) {
			t.Errorf("Champion = v%d %q, %v", c.Version, c.Artifact, err)
		}
		if string(c.Metrics) != `{"auc":0.8}` || c.Bands != (Bands{High: 0.5, Medium: 0.2}) {
			t.Errorf("champion metrics %s bands %+v", c.Metrics, c.Bands)
		}
		if cv, err := s.ChampionVersions(ctx); err != nil || len(cv) != 1 || cv[ComplexCase] != 2 {
			t.Errorf("ChampionVersions = %v, %v; want complex_case 2 only", cv, err)
		}
		if _, err := s.PromoteModel(ctx, ComplexCase, 9, "admin"); !errors.Is(err, ErrNotFound) {
			t.Errorf("promote unknown version: %v, want ErrNotFound", err)
		}
		all, _ := s.Models(ctx, "")
		if len(all) != 3 {
			t.Errorf("Models(\"\") = %d models, want 3", len(all))
		}
	})
}

func TestRegisterModelRejects(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*NewModel)
		field string
	}{
		{"unknown target", func(m *NewModel) { m.Target = "burglary" }, "target"},
		{"empty artifact", func(m *NewModel) { m.Artifact = nil }, "artifact"},
		{"artifact not JSON", func(m *NewModel) { m.Artifact = []byte("{") }, "artifact"},
		{"metrics not an object", func(m *NewModel) { m.Metrics = json.RawMessage(`[1]`) }, "metrics"},
		{"bands reversed", func(m *NewModel) { m.Bands = Bands{High: 0.1, Medium: 0.4} }, "bands"},
		{"bands NaN", func(m *NewModel) { m.Bands = Bands{High: math.NaN(), Medium: 0.1} }, "bands"},
		{"no registrant", func(m *NewModel) { m.RegisteredBy = " " }, "registered_by"},
	}
	s, _ := openSQLite(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(ComplexCase)
			tt.edit(&m)
			_, err := s.RegisterModel(context.Background(), m)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v, want a FieldError naming %q", err, tt.field)
			}
		})
	}
}

// TestPromoteAtomicity promotes different versions from many goroutines at
// once: whatever the interleaving, exactly one champion remains and every
// other promoted version is retired.
func TestPromoteAtomicity(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		const n = 6
		for i := 0; i < n; i++ {
			if _, err := s.RegisterModel(ctx, testModel(TenancyFraud)); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, n*3)
		for round := 0; round < 3; round++ {
			for v := 1; v <= n; v++ {
				wg.Add(1)
				go func(v int) {
					defer wg.Done()
					if _, err := s.PromoteModel(ctx, TenancyFraud, v, fmt.Sprintf("user%d", v)); err != nil {
						errs <- err
					}
				}(v)
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent promote: %v", err)
		}
		ms, _ := s.Models(ctx, TenancyFraud)
		champions := 0
		for _, m := range ms {
			switch m.Stage {
			case Champion:
				champions++
			case Candidate:
				t.Errorf("v%d still a candidate after being promoted", m.Version)
			}
		}
		if champions != 1 {
			t.Errorf("%d champions, want exactly 1", champions)
		}
	})
}

// testScores makes n scores ranked by descending score.
func testScores(n int, prefix string) []Score {
	out := make([]Score, n)
	for i := range out {
		id := fmt.Sprintf("%s%04d", prefix, i+1)
		out[i] = Score{EntityID: id, ResidentID: "R" + id, Score: 0.9 - 0.9*float64(i)/float64(n), Margin: 2 - float64(i)*0.1,
			Band: "medium", Rank: i + 1, Reasons: json.RawMessage(`[{"feature":"arrears","text":"rent arrears rising"}]`)}
	}
	return out
}

func TestScoreRunsAreIdempotentAndOpenCases(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		s.RegisterModel(ctx, testModel(ComplexCase))
		run := NewRun{Target: ComplexCase, AsOf: "2025-03-31", ModelVersion: 1, Capacity: 3, Scores: testScores(10, "P")}
		r1, created, err := s.RecordScoreRun(ctx, run)
		if err != nil || !created {
			t.Fatalf("first run: created %v, %v", created, err)
		}
		if r1.Rows != 10 || r1.CasesOpened != 3 {
			t.Errorf("run: rows %d cases %d, want 10 and 3", r1.Rows, r1.CasesOpened)
		}
		r2, created, err := s.RecordScoreRun(ctx, run)
		if err != nil || created || r2.ID != r1.ID {
			t.Fatalf("repeat run: id %d created %v err %v; want the first run (id %d) back", r2.ID, created, err, r1.ID)
		}
		var nScores int
		raw.QueryRow(`SELECT COUNT(*) FROM scores`).Scan(&nScores)
		if nScores != 10 {
			t.Errorf("%d scores stored after a repeated run, want 10", nScores)
		}
		q, total, err := s.Queue(ctx, QueueQuery{Kind: ComplexCase})
		if err != nil || total != 3 || len(q) != 3 {
			t.Fatalf("queue: %d of %d, %v", len(q), total, err)
		}
		if q[0].EntityID != "P0001" || q[0].Rank != 1 || q[0].Status != StatusNew || q[2].EntityID != "P0003" {
			t.Errorf("queue order: %+v", q)
		}
		// A later run opens no second case for an entity with an open case.
		later := run
		later.AsOf = "2025-06-30"
		later.Capacity = 5
		r3, _, err := s.RecordScoreRun(ctx, later)
		if err != nil {
			t.Fatal(err)
		}
		if r3.CasesOpened != 2 {
			t.Errorf("later run opened %d cases, want 2 (P0004, P0005)", r3.CasesOpened)
		}
		latest, err := s.LatestRun(ctx, ComplexCase)
		if err != nil || latest.ID != r3.ID {
			t.Errorf("LatestRun = %d, %v; want %d", latest.ID, err, r3.ID)
		}
		rs, err := s.ResidentScores(ctx, "RP0002", ComplexCase, TenancyFraud)
		if err != nil || len(rs) != 1 {
			t.Fatalf("ResidentScores: %+v, %v", rs, err)
		}
		if rs[0].AsOf != "2025-06-30" || rs[0].Rank != 2 || rs[0].RunRows != 10 || string(rs[0].Reasons) == "null" {
			t.Errorf("resident score: %+v", rs[0])
		}
		hist, err := s.ScoreHistory(ctx, "RP0002", ComplexCase, TenancyFraud)
		if err != nil || len(hist) != 2 {
			t.Fatalf("ScoreHistory: %+v, %v", hist, err)
		}
		if hist[0].AsOf != "2025-03-31" || hist[1].AsOf != "2025-06-30" || hist[0].RunID != r1.ID || hist[1].RunID != r3.ID ||
			hist[1].Rank != 2 || hist[1].RunRows != 10 || hist[0].Target != ComplexCase {
			t.Errorf("score history: %+v", hist)
		}
		if none, err := s.ScoreHistory(ctx, "RP0002", TenancyFraud); err != nil || len(none) != 0 {
			t.Errorf("ScoreHistory of an unscored target: %+v, %v", none, err)
		}
		if _, err := s.ScoreHistory(ctx, "RP0002", Target("nope")); err == nil {
			t.Error("ScoreHistory accepted an unknown target")
		}
		page, err := s.RunScores(ctx, r1.ID, 8, 5)
		if err != nil || len(page) != 2 || page[0].Rank != 9 {
			t.Errorf("RunScores page: %+v, %v", page, err)
		}
	})
}

func TestRecordScoreRunRejectsWithoutPartialWrite(t *testing.T) {
	bad := func(edit func(*NewRun)) NewRun {
		r := NewRun{Target: ComplexCase, AsOf: "2025-03-31", ModelVersion: 1, Capacity: 2, Scores: testScores(4, "E")}
		edit(&r)
		return r
	}
	tests := []struct {
		name  string
		run   NewRun
		field string
	}{
		{"bad date", bad(func(r *NewRun) { r.AsOf = "2025-02-30" }), "as_of"},
		{"NaN score", bad(func(r *NewRun) { r.Scores[2].Score = math.NaN() }), "scores[2].score"},
		{"duplicate rank", bad(func(r *NewRun) { r.Scores[3].Rank = 1 }), "scores[3].rank"},
		{"duplicate entity", bad(func(r *NewRun) { r.Scores[1].EntityID = "E0001" }), "scores[1].entity_id"},
		{"bad band", bad(func(r *NewRun) { r.Scores[0].Band = "red" }), "scores[0].band"},
		{"bad reasons", bad(func(r *NewRun) { r.Scores[0].Reasons = json.RawMessage("[") }), "scores[0].reasons"},
		{"unknown model", bad(func(r *NewRun) { r.ModelVersion = 7 }), "model_version"},
		{"negative capacity", bad(func(r *NewRun) { r.Capacity = -1 }), "capacity"},
	}
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		s.RegisterModel(ctx, testModel(ComplexCase))
		for _, tt := range tests {
			_, _, err := s.RecordScoreRun(ctx, tt.run)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("%s: error %v, want one naming %q", tt.name, err, tt.field)
			}
		}
		for _, table := range []string{"score_runs", "scores", "cases", "case_events"} {
			var n int
			raw.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n)
			if n != 0 {
				t.Errorf("%s has %d rows after rejected runs, want 0", table, n)
			}
		}
	})
}

func TestCaseTransitions(t *testing.T) {
	tests := []struct {
		kind    Target
		path    []Transition
		wantErr []error // per step; nil for success
	}{
		{ComplexCase, []Transition{{To: StatusReviewing}, {To: StatusHelpOffered}, {To: StatusClosed, Outcome: OutcomeHelpAccepted}}, []error{nil, nil, nil}},
		{ComplexCase, []Transition{{To: StatusHelpOffered}}, []error{ErrTransition}},
		{ComplexCase, []Transition{{To: StatusClosed}}, []error{ErrInvalid}},
		{ComplexCase, []Transition{{To: StatusClosed, Outcome: OutcomeFraudConfirmed}}, []error{ErrInvalid}},
		{ComplexCase, []Transition{{To: StatusReviewing, Outcome: OutcomeNoNeed}}, []error{ErrInvalid}},
		{ComplexCase, []Transition{{To: StatusInvestigating}}, []error{ErrInvalid}},
		{ComplexCase, []Transition{{To: StatusClosed, Outcome: OutcomeNoNeed}, {To: StatusReviewing}}, []error{nil, ErrTransition}},
		{TenancyFraud, []Transition{{To: StatusInvestigating}, {To: StatusClosed, Outcome: OutcomeFraudConfirmed}}, []error{nil, nil}},
		{TenancyFraud, []Transition{{To: StatusReviewing}}, []error{ErrInvalid}},
		{TenancyFraud, []Transition{{To: StatusClosed, Outcome: OutcomeInsufficientEvidence}}, []error{nil}},
	}
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		for _, target := range Targets() {
			s.RegisterModel(ctx, testModel(target))
		}
		for i, tt := range tests {
			_, _, err := s.RecordScoreRun(ctx, NewRun{Target: tt.kind, AsOf: fmt.Sprintf("2025-01-%02d", i+1), ModelVersion: 1,
				Capacity: 1, Scores: []Score{{EntityID: fmt.Sprintf("T%d", i), ResidentID: "R", Score: 0.5, Band: "high", Rank: 1}}})
			if err != nil {
				t.Fatal(err)
			}
			q, _, _ := s.Queue(ctx, QueueQuery{Kind: tt.kind, Limit: 500})
			var id int64
			for _, c := range q {
				if c.EntityID == fmt.Sprintf("T%d", i) {
					id = c.ID
				}
			}
			if id == 0 {
				t.Fatalf("case %d: not opened", i)
			}
			for j, step := range tt.path {
				step.CaseID, step.By, step.Note = id, "worker", "checked"
				c, err := s.TransitionCase(ctx, step)
				if want := tt.wantErr[j]; want == nil && err != nil || want != nil && !errors.Is(err, want) {
					t.Errorf("case %d step %d (%s → %s): error %v, want %v", i, j, c.Status, step.To, err, want)
				}
				if err == nil && (c.Status != step.To || (step.To == StatusClosed) == c.Closed.IsZero()) {
					t.Errorf("case %d step %d: case is %+v", i, j, c)
				}
			}
		}
		// History of the fully worked first case: opening plus three moves.
		q, _, _ := s.Queue(ctx, QueueQuery{Kind: ComplexCase, Statuses: []Status{StatusClosed}, Limit: 500})
		var first Case
		for _, c := range q {
			if c.EntityID == "T0" {
				first = c
			}
		}
		h, err := s.CaseHistory(ctx, first.ID)
		if err != nil || len(h) != 4 || h[0].To != StatusNew || h[3].Outcome != OutcomeHelpAccepted || h[3].By != "worker" {
			t.Errorf("history: %+v, %v", h, err)
		}
		// Assignment, and the queue of a user's cases.
		u, _ := s.CreateUser(ctx, "cw", auth.Caseworker)
		open, _, _ := s.Queue(ctx, QueueQuery{Kind: ComplexCase, Limit: 500})
		if len(open) == 0 {
			t.Fatal("no open complex case left to assign")
		}
		if _, err := s.AssignCase(ctx, open[0].ID, u.ID, "lead"); err != nil {
			t.Fatal(err)
		}
		mine, n, err := s.Queue(ctx, QueueQuery{Kind: ComplexCase, AssignedTo: u.ID})
		if err != nil || n != 1 || mine[0].ID != open[0].ID || mine[0].AssignedTo != u.ID {
			t.Errorf("assigned queue: %+v (%d), %v", mine, n, err)
		}
		if _, err := s.AssignCase(ctx, open[0].ID, 4242, "lead"); !errors.Is(err, ErrInvalid) {
			t.Errorf("assign to an unknown user: %v", err)
		}
		long := Transition{CaseID: open[0].ID, To: StatusReviewing, Note: strings.Repeat("x", maxNoteLen+1)}
		if _, err := s.TransitionCase(ctx, long); !errors.Is(err, ErrInvalid) {
			t.Errorf("overlong note: %v", err)
		}
		if _, err := s.TransitionCase(ctx, Transition{CaseID: open[0].ID, To: StatusReviewing}); !errors.Is(err, ErrInvalid) {
			t.Errorf("transition without who: %v, want ErrInvalid", err)
		}
		if _, err := s.TransitionCase(ctx, Transition{CaseID: 99999, To: StatusReviewing, By: "x"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown case: %v, want ErrNotFound", err)
		}
		labels, err := s.Labels(ctx, ComplexCase)
		if err != nil || len(labels) != 2 {
			t.Fatalf("complex-case labels: %+v, %v (want help_accepted → 1 and no_need_found → 0)", labels, err)
		}
		fl, _ := s.Labels(ctx, TenancyFraud)
		if len(fl) != 1 || fl[0].Label != 1 || fl[0].Outcome != OutcomeFraudConfirmed {
			t.Errorf("fraud labels: %+v (insufficient_evidence is no label)", fl)
		}
	})
}

func TestSingleView(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		load := func(events int) {
			in, err := s.BeginIngest(ctx)
			if err != nil {
				t.Fatal(err)
			}
			must := func(err error) {
				if err != nil {
					t.Fatal(err)
				}
			}
			must(in.AddResidents(ctx, []Resident{{ID: "R1", GivenName: "Ada", FamilyName: "Example", DateOfBirth: "1980-05-01", FirstSeen: "2001-01-01"},
				{ID: "R2", DateOfBirth: "2012-03-04"}, {ID: "R3"}}))
			must(in.AddProperties(ctx, []Property{{UPRN: 100023336956, Address: "1 Test Street", Postcode: "NW1 0AA", Ward: "Camden Town", Bedrooms: 2}}))
			must(in.AddResidences(ctx, []Residence{
				{ResidentID: "R1", UPRN: 100023336956, Start: "2010-01-01", End: "2019-12-31"},
				{ResidentID: "R1", UPRN: 100023336957, Start: "2020-01-01"},
				{ResidentID: "R2", UPRN: 100023336957, Start: "2012-03-04", End: "2013-01-01", Relationship: "child"},
				{ResidentID: "R2", UPRN: 100023336957, Start: "2020-01-01", Relationship: "child"},
				{ResidentID: "R3", UPRN: 100023336957, Start: "2015-01-01", End: "2018-01-01", Relationship: "head"},
				{ResidentID: "R4", UPRN: 100023336957, Start: "2017-01-01", Relationship: "lodger"},
				{ResidentID: "R4", UPRN: 100023336956, Start: "2010-01-01", End: "2011-01-01"},
			}))
			es := make([]Event, events)
			for i := range es {
				es[i] = Event{ResidentID: "R1", Service: "rent_account", Date: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format("2006-01-02"),
					Type: "payment", Amount: float64(i), HasAmount: i%2 == 0}
			}
			must(in.AddEvents(ctx, es[:events/2]))
			must(in.AddEvents(ctx, es[events/2:]))
			must(in.Commit())
		}
		load(1000)
		for range 3 { // warm the connections' statement caches
			if tl, err := s.Timeline(ctx, "R1", TimelineQuery{}); err != nil || tl[0].Date != "2022-09-26" {
				t.Fatalf("timeline after the first load: %v", err)
			}
		}
		load(900) // a reload replaces, it does not add
		v, err := s.Resident(ctx, "R1")
		if err != nil {
			t.Fatal(err)
		}
		if v.Resident.FamilyName != "Example" || len(v.Stays) != 2 || v.Stays[0].Start != "2020-01-01" ||
			v.Stays[1].Property.Ward != "Camden Town" || v.Stays[0].Property.UPRN != 0 {
			t.Errorf("single view: %+v", v)
		}
		for _, c := range []struct {
			id   string
			want []HouseholdMember
		}{
			// R1 lives there now: the others living there now, latest stay each.
			{"R1", []HouseholdMember{{ResidentID: "R2", Relationship: "child", BirthYear: 2012, Start: "2020-01-01"},
				{ResidentID: "R4", Relationship: "lodger", Start: "2017-01-01"}}},
			// R3 left in 2018: those whose stay overlapped theirs.
			{"R3", []HouseholdMember{{ResidentID: "R4", Relationship: "lodger", Start: "2017-01-01"}}},
		} {
			got, err := s.Household(ctx, c.id)
			if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("Household(%s) = %+v, %v; want %+v", c.id, got, err, c.want)
			}
		}
		if _, err := s.Household(ctx, "R9"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Household of an unknown resident: %v, want ErrNotFound", err)
		}
		tl, err := s.Timeline(ctx, "R1", TimelineQuery{})
		if err != nil || len(tl) != 500 || tl[0].Date != "2022-06-18" {
			t.Fatalf("timeline: %d events (first %+v), %v; want the newest 500 of 900", len(tl), tl[0], err)
		}
		tl, _ = s.Timeline(ctx, "R1", TimelineQuery{From: "2020-01-01", To: "2020-01-10", Limit: 3})
		if len(tl) != 3 || tl[0].Date != "2020-01-10" || tl[0].HasAmount || !tl[1].HasAmount || tl[1].Amount != 8 {
			t.Errorf("bounded timeline: %+v", tl)
		}
		if _, err := s.Resident(ctx, "R404"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown resident: %v", err)
		}
		if _, err := s.Timeline(ctx, "R1", TimelineQuery{From: "2020-13-01"}); err == nil {
			t.Error("bad from date accepted")
		}
		// One load at a time.
		in, err := s.BeginIngest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.BeginIngest(ctx); !errors.Is(err, ErrConflict) {
			t.Errorf("second concurrent load: %v, want ErrConflict", err)
		}
		in.AddResidents(ctx, []Resident{{ID: "R9"}})
		if err := in.Rollback(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Resident(ctx, "R9"); !errors.Is(err, ErrNotFound) {
			t.Errorf("a rolled-back load is visible: %v", err)
		}
		// A failed load changes nothing.
		in, _ = s.BeginIngest(ctx)
		in.AddResidents(ctx, []Resident{{ID: "R2"}})
		err = in.AddEvents(ctx, []Event{{ResidentID: "R2", Service: "x", Date: "bad"}})
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "events[0].event_date" {
			t.Errorf("bad event: %v", err)
		}
		if _, err := s.Resident(ctx, "R1"); err != nil {
			t.Errorf("after a failed load the old single view must stay: %v", err)
		}
	})
}

func TestUsersAndTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		u, err := s.CreateUser(ctx, "cw.one", auth.Caseworker)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, "cw.one", auth.Admin); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate name: %v, want ErrConflict", err)
		}
		if _, err := s.CreateUser(ctx, "x", "mayor"); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad role: %v, want ErrInvalid", err)
		}
		tok, err := auth.NewToken(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddToken(ctx, u.ID, tok); err != nil {
			t.Fatal(err)
		}
		p, err := auth.Authenticate(ctx, s, tok.Secret)
		if err != nil || p.UserID != u.ID || p.Role != auth.Caseworker {
			t.Fatalf("Authenticate: %+v, %v", p, err)
		}
		// No plaintext token anywhere in the tokens table.
		rows, err := raw.Query(`SELECT prefix, hash FROM tokens`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var prefix, hash string
			rows.Scan(&prefix, &hash)
			if strings.Contains(prefix+hash, tok.Secret[len(prefix):]) || len(hash) != 64 {
				t.Errorf("token stored in clear: prefix %q hash %q", prefix, hash)
			}
		}
		rows.Close()
		other, _ := auth.NewToken(nil)
		if _, err := auth.Authenticate(ctx, s, other.Secret); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("unknown token: %v", err)
		}
		if err := s.SetUserDisabled(ctx, u.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := auth.Authenticate(ctx, s, tok.Secret); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("disabled user's token: %v", err)
		}
		us, _ := s.Users(ctx)
		if len(us) != 1 || !us[0].Disabled {
			t.Errorf("users: %+v", us)
		}
		if _, err := s.UserByName(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown user: %v", err)
		}
	})
}

func auditRec(i int) audit.Record {
	return audit.Record{UserID: 1, User: "cw.one", Role: "caseworker", Action: "read",
		Resource: fmt.Sprintf("resident/R%d/risk", i), Purpose: "complex-case review", RequestID: fmt.Sprintf("req-%d", i)}
}

func TestAuditChainAndTamperDetection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		for i := 0; i < 5; i++ {
			if _, err := s.AppendAudit(ctx, auditRec(i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AppendAudit(ctx, auditRec(5), auditRec(6)); err != nil {
			t.Fatal(err)
		}
		sum, err := audit.Verify(ctx, s)
		if err != nil || sum.Rows != 7 {
			t.Fatalf("Verify of an intact log: %+v, %v", sum, err)
		}
		noPurpose := auditRec(9)
		noPurpose.Purpose = ""
		if _, err := s.AppendAudit(ctx, auditRec(8), noPurpose); !errors.Is(err, ErrInvalid) {
			t.Errorf("audit row without a purpose: %v, want ErrInvalid", err)
		}
		got, _ := s.Audit(ctx, AuditFilter{Resource: "resident/R3", Limit: 10})
		if len(got) != 1 || got[0].ID != 4 {
			t.Errorf("audit filter: %+v", got)
		}
		// The table refuses updates…
		if _, err := raw.Exec(`UPDATE audit_log SET purpose = 'curiosity' WHERE id = 4`); err == nil {
			t.Fatal("UPDATE of audit_log succeeded; the append-only trigger is missing")
		}
		// …so a tamperer with full rights drops the guard first.
		if s.Dialect() == SQLite {
			mustExec(t, raw, `DROP TRIGGER audit_log_no_update`)
		} else {
			mustExec(t, raw, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`)
		}
		mustExec(t, raw, `UPDATE audit_log SET purpose = 'curiosity' WHERE id = 4`)
		_, err = audit.Verify(ctx, s)
		var be *audit.BrokenError
		if !errors.As(err, &be) || be.ID != 4 {
			t.Fatalf("Verify after altering row 4: %v, want a BrokenError at row 4", err)
		}
		// Deleting a row is found at the row after the gap.
		if s.Dialect() == SQLite {
			mustExec(t, raw, `DROP TRIGGER audit_log_no_delete`)
		}
		mustExec(t, raw, `UPDATE audit_log SET purpose = 'complex-case review' WHERE id = 4`)
		if _, err := audit.Verify(ctx, s); err != nil {
			t.Fatalf("restoring row 4 should restore the chain: %v", err)
		}
		mustExec(t, raw, `DELETE FROM audit_log WHERE id = 2`)
		if _, err = audit.Verify(ctx, s); !errors.As(err, &be) || be.ID != 3 {
			t.Errorf("Verify after deleting row 2: %v, want a BrokenError at row 3", err)
		}
	})
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// openTwice opens two stores on the database at u, as two replicas of the
// service would; both are closed when the test ends.
func openTwice(t *testing.T, ctx context.Context, u string) (Store, Store) {
	t.Helper()
	var replicas [2]Store
	for i := range replicas {
		s, err := Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		replicas[i] = s
	}
	return replicas[0], replicas[1]
}

// sqliteAtMigration makes a SQLite database named file in a temporary folder
// with only the first n migrations applied (and recorded in
// schema_migrations), for upgrade tests. It returns the database's URL for
// Open and a raw handle to it, closed when the test ends.
func sqliteAtMigration(t *testing.T, file string, n int) (string, *sql.DB) {
	t.Helper()
	u := "sqlite://" + filepath.Join(t.TempDir(), file)
	_, dsn, _ := ParseURL(u)
	raw, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	ms, err := migrations(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, raw, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
	for _, m := range ms[:n] {
		mustExec(t, raw, m.sql)
		if _, err := raw.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	return u, raw
}

// checkForeignKeysHold fails the test if an upgraded SQLite database accepts
// a token for no user or reports a foreign key violation.
func checkForeignKeysHold(t *testing.T, raw *sql.DB) {
	t.Helper()
	if _, err := raw.Exec(`INSERT INTO tokens (user_id, prefix, hash, created) VALUES (99, 'p', 'h2', 1)`); err == nil {
		t.Fatal("a token for no user was accepted: foreign keys lost in the upgrade")
	}
	var n int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM pragma_foreign_key_check`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("foreign key check after the upgrade: %d violations, %v", n, err)
	}
}

// TestConcurrentAuditAppendsKeepOneChain appends from more goroutines than
// the connection pool holds (so a transaction that needed a second
// connection would deadlock); the chain must verify with no gap and no fork.
func TestConcurrentAuditAppendsKeepOneChain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		const workers, each = 24, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < each; i++ {
					if _, err := s.AppendAudit(ctx, auditRec(w*1000+i)); err != nil {
						errs <- err
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent append: %v", err)
		}
		sum, err := audit.Verify(ctx, s)
		if err != nil || sum.Rows != workers*each {
			t.Fatalf("Verify: %+v, %v; want %d rows", sum, err, workers*each)
		}
	})
}

// TestConcurrentOpenMigratesOnce opens a fresh SQLite file from several
// goroutines at once: every Open succeeds and each migration is recorded once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	u := "sqlite://" + filepath.Join(t.TempDir(), "race.db")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), u)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Open: %v", err)
	}
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.(*db).sql.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if ms, _ := migrations(SQLite); n != len(ms) {
		t.Errorf("%d migrations recorded, want %d", n, len(ms))
	}
}

// TestScoreRunFailureLeavesNothing cancels a run after its first chunk of
// scores is committed: the run, its scores and cases must all be gone, and
// readers must never have seen the pending run.
func TestScoreRunFailureLeavesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s.RegisterModel(ctx, testModel(ComplexCase))
		d := s.(*db)
		sawPending := false
		d.afterScoreChunk = func() {
			var n int
			raw.QueryRow(`SELECT COUNT(*) FROM scores`).Scan(&n)
			rs, _ := s.ResidentScores(context.Background(), "RP0001", ComplexCase)
			runs, _ := s.ScoreRuns(context.Background(), ComplexCase)
			sawPending = n > 0 && len(rs) == 0 && len(runs) == 0
			cancel()
		}
		_, _, err := s.RecordScoreRun(ctx, NewRun{Target: ComplexCase, AsOf: "2025-03-31", ModelVersion: 1, Capacity: 5,
			Scores: testScores(scoreChunk*2+5, "P")})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("RecordScoreRun with a cancelled context: %v", err)
		}
		if !sawPending {
			t.Error("the first chunk was not written pending-and-invisible")
		}
		for _, table := range []string{"score_runs", "scores", "cases", "case_events"} {
			var n int
			raw.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n)
			if n != 0 {
				t.Errorf("%s has %d rows after a failed run, want 0", table, n)
			}
		}
		// The same run can then be recorded.
		d.afterScoreChunk = nil
		r, created, err := s.RecordScoreRun(context.Background(), NewRun{Target: ComplexCase, AsOf: "2025-03-31", ModelVersion: 1,
			Capacity: 5, Scores: testScores(50, "P")})
		if err != nil || !created || r.CasesOpened != 5 {
			t.Errorf("retry: %+v created %v, %v", r, created, err)
		}
	})
}

// TestPendingRunOfADeadRecorder: a pending run whose recorder holds its
// claim blocks the same run (the error names the holder); one whose
// recorder died is taken over as soon as its claim lapses, and recorded
// once.
func TestPendingRunOfADeadRecorder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		s.RegisterModel(ctx, testModel(TenancyFraud))
		d := s.(*db)
		// A pending run left with no claim at all (as by a version before
		// claims) is recorded again at once.
		mustExec(t, raw, fmt.Sprintf(`INSERT INTO score_runs (target, as_of, model_version, created, row_count, capacity, state)
			VALUES ('tenancy_fraud', '2025-03-30', 1, %d, 3, 1, 'pending')`, time.Now().UnixMicro()))
		if r, created, err := s.RecordScoreRun(ctx, NewRun{Target: TenancyFraud, AsOf: "2025-03-30", ModelVersion: 1, Capacity: 1,
			Scores: testScores(3, "T")}); err != nil || !created || r.Rows != 3 {
			t.Fatalf("a pending run without a claim: %+v, %v, %v", r, created, err)
		}
		// A live recorder's claim: conflict naming it.
		run := NewRun{Target: TenancyFraud, AsOf: "2025-03-31", ModelVersion: 1, Capacity: 1, Scores: testScores(3, "T")}
		other, err := s.Claim(ctx, runClaim(run), ClaimOptions{Holder: "the other recorder"})
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, raw, fmt.Sprintf(`INSERT INTO score_runs (target, as_of, model_version, created, row_count, capacity, state)
			VALUES ('tenancy_fraud', '2025-03-31', 1, %d, 3, 1, 'pending')`, time.Now().UnixMicro()))
		start := time.Now()
		_, _, err = s.RecordScoreRun(ctx, run)
		var held *HeldError
		if !errors.As(err, &held) || !errors.Is(err, ErrConflict) || held.Holder != "the other recorder" {
			t.Fatalf("recording a run whose recorder lives: %v, want a HeldError naming it", err)
		}
		if el := time.Since(start); el > ClaimRenew+2*time.Second {
			t.Errorf("took %s to see the holder renew, want about %s", el, ClaimRenew)
		}
		// The recorder dies (stops renewing); once its claim lapses the
		// run is recorded, once.
		other.halt()
		d.now = func() time.Time { return time.Now().Add(ClaimTTL) }
		r, created, err := s.RecordScoreRun(ctx, run)
		if err != nil || !created || r.Rows != 3 {
			t.Fatalf("taking over a dead recorder's run: %+v, %v, %v", r, created, err)
		}
		var n int
		raw.QueryRow(`SELECT COUNT(*) FROM score_runs WHERE as_of = '2025-03-31'`).Scan(&n)
		if n != 1 {
			t.Errorf("%d runs after the takeover, want 1", n)
		}
		raw.QueryRow(`SELECT COUNT(*) FROM claims`).Scan(&n)
		if n != 0 {
			t.Errorf("%d claims left after the recordings, want 0", n)
		}
	})
}
