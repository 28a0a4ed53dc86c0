package store

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"testing"

	"caserisk/serve/auth"
)

func linkImport() LinkReviewImport {
	k := func(s, id string) LinkKey { return LinkKey{Source: s, RecordID: id} }
	fields := []LinkField{{Field: "given_name", Level: "exact", Weight: 3.5}, {Field: "date_of_birth", Level: "day_month_swap", Weight: 1.25}}
	return LinkReviewImport{
		Pairs: []LinkPair{
			// B before A in key order: stored the other way round.
			{A: k("housing_benefit", "HB9"), B: k("council_tax", "CT1"), Weight: 6.6, Prob: 0.99, Linked: true, Fields: fields},
			{A: k("council_tax", "CT2"), B: k("council_tax", "CT3"), Weight: 5.1, Prob: 0.97, Fields: fields},
			{A: k("council_tax", "CT4"), B: k("schools", "S1"), Weight: 8.0, Prob: 0.996, Linked: true},
		},
		People: []LinkPerson{
			{Key: k("council_tax", "CT1"), GivenName: "Ann", FamilyName: "Lee", DateOfBirth: "1980-03-04", Address: "1 High St", Postcode: "AB1 2CD", UPRN: "100"},
			{Key: k("housing_benefit", "HB9"), GivenName: "Anne", FamilyName: "Lee", DateOfBirth: "1980-04-03", NINumber: "QQ123456C"},
			{Key: k("council_tax", "CT2"), GivenName: "Bo", FamilyName: "Ng"},
			{Key: k("council_tax", "CT3"), GivenName: "Bo", FamilyName: "Ngo"},
		},
	}
}

func TestLinkReviewRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		if _, err := s.NextLinkPair(ctx, 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("NextLinkPair on an empty queue: %v, want ErrNotFound", err)
		}
		c, err := s.ImportLinkReview(ctx, linkImport())
		if err != nil {
			t.Fatal(err)
		}
		if c != (LinkQueueCounts{Pairs: 3}) {
			t.Fatalf("counts after import %+v", c)
		}
		ps, c, err := s.LinkQueue(ctx, LinkQueueQuery{})
		if err != nil || len(ps) != 3 || c.Left() != 3 {
			t.Fatalf("LinkQueue = %d pairs, %+v, %v", len(ps), c, err)
		}
		first := ps[0]
		if first.Position != 1 || first.A.Source != "council_tax" || first.B.Source != "housing_benefit" || !first.Linked ||
			first.Weight != 6.6 || first.Prob != 0.99 || len(first.Fields) != 2 || first.Fields[1] != (LinkField{"date_of_birth", "day_month_swap", 1.25}) {
			t.Fatalf("first pair %+v", first)
		}
		if ps[2].Fields == nil || len(ps[2].Fields) != 0 {
			t.Errorf("a pair without fields reads back as %#v", ps[2].Fields)
		}
		v, err := s.LinkPair(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.A == nil || v.B == nil || v.A.GivenName != "Ann" || v.B.NINumber != "QQ123456C" || v.A.UPRN != "100" {
			t.Fatalf("pair view %+v %+v", v.A, v.B)
		}
		if v3, err := s.LinkPair(ctx, ps[2].ID); err != nil || v3.A != nil || v3.B != nil {
			t.Fatalf("a pair whose records were not found: %+v, %v", v3, err)
		}
		if _, err := s.LinkPair(ctx, 999999); !errors.Is(err, ErrNotFound) {
			t.Fatalf("LinkPair(unknown) = %v", err)
		}

		u, err := s.CreateUser(ctx, "steward", auth.DataSteward)
		if err != nil {
			t.Fatalf("create a data steward: %v", err)
		}
		d, err := s.DecideLinkPair(ctx, first.ID, LinkReject, u.ID, u.Name)
		if err != nil {
			t.Fatal(err)
		}
		if d.A != first.A || d.B != first.B || d.Verdict != LinkReject || d.At.IsZero() {
			t.Fatalf("decision %+v", d)
		}
		if _, err := s.DecideLinkPair(ctx, first.ID, "maybe", u.ID, u.Name); !errors.Is(err, ErrInvalid) {
			t.Fatalf("an unknown verdict: %v", err)
		}
		if _, err := s.DecideLinkPair(ctx, 999999, LinkAccept, u.ID, u.Name); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deciding an unknown pair: %v", err)
		}
		// Next after the first: the second; after the last: back to the second.
		if n, err := s.NextLinkPair(ctx, 1); err != nil || n.Position != 2 {
			t.Fatalf("NextLinkPair(1) = %d, %v", n.Position, err)
		}
		if n, err := s.NextLinkPair(ctx, 3); err != nil || n.Position != 2 {
			t.Fatalf("NextLinkPair(3) wraps to %d, %v", n.Position, err)
		}
		// A changed mind replaces the decision.
		if _, err := s.DecideLinkPair(ctx, first.ID, LinkAccept, u.ID, u.Name); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DecideLinkPair(ctx, ps[1].ID, LinkReject, u.ID, u.Name); err != nil {
			t.Fatal(err)
		}
		und, c, err := s.LinkQueue(ctx, LinkQueueQuery{Undecided: true})
		if err != nil || len(und) != 1 || und[0].ID != ps[2].ID || c != (LinkQueueCounts{Pairs: 3, Decided: 2}) {
			t.Fatalf("undecided %d, %+v, %v", len(und), c, err)
		}
		all, _, _ := s.LinkQueue(ctx, LinkQueueQuery{})
		if all[0].Decision != LinkAccept || all[0].DecidedBy != "steward" || all[0].DecidedAt.IsZero() {
			t.Fatalf("decided pair %+v", all[0])
		}

		// A new import replaces the queue and its people; the decisions stay,
		// and a pair imported again keeps its decision.
		imp := linkImport()
		imp.Pairs = imp.Pairs[:1]
		imp.Pairs[0].A, imp.Pairs[0].B = imp.Pairs[0].B, imp.Pairs[0].A
		imp.People = imp.People[:2]
		c, err = s.ImportLinkReview(ctx, imp)
		if err != nil || c != (LinkQueueCounts{Pairs: 1, Decided: 1}) {
			t.Fatalf("re-import: %+v, %v", c, err)
		}
		var people int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM link_review_people`).Scan(&people); err != nil || people != 2 {
			t.Fatalf("people after re-import: %d, %v", people, err)
		}
		if _, err := s.NextLinkPair(ctx, 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("NextLinkPair with every pair decided: %v", err)
		}
		ds, err := s.LinkDecisions(ctx)
		if err != nil || len(ds) != 2 {
			t.Fatalf("LinkDecisions = %d, %v", len(ds), err)
		}
		got := map[LinkKey]LinkVerdict{ds[0].A: ds[0].Verdict, ds[1].A: ds[1].Verdict}
		if got[LinkKey{"council_tax", "CT1"}] != LinkAccept || got[LinkKey{"council_tax", "CT2"}] != LinkReject {
			t.Fatalf("decisions %+v", ds)
		}
	})
}

// TestLinkReviewSummary: an import's summary (what the queue leaves to the
// model) is kept with the queue and replaced, or dropped, by the next import.
func TestLinkReviewSummary(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		imp := linkImport()
		want := LinkReviewSummary{Size: 3, NearThreshold: 130134, Decisions: 40210, AlreadyReviewed: 7, ByModel: 40200,
			ByModelLinked: 10000, ByModelApart: 30200, ByModelPairs: 129000}
		imp.Summary = &want
		c, err := s.ImportLinkReview(ctx, imp)
		if err != nil || c.Summary == nil || *c.Summary != want || c.Pairs != 3 {
			t.Fatalf("import with a summary: %+v, %v", c, err)
		}
		if _, c, err := s.LinkQueue(ctx, LinkQueueQuery{}); err != nil || c.Summary == nil || *c.Summary != want {
			t.Fatalf("queue counts: %+v, %v", c, err)
		}
		if c, err := s.ImportLinkReview(ctx, linkImport()); err != nil || c.Summary != nil {
			t.Fatalf("an import without a summary keeps the old one: %+v, %v", c, err)
		}
	})
}

func TestLinkReviewImportRejects(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		if _, err := s.ImportLinkReview(ctx, linkImport()); err != nil {
			t.Fatal(err)
		}
		k := LinkKey{"a", "1"}
		tests := []struct {
			name string
			edit func(*LinkReviewImport)
		}{
			{"empty record id", func(m *LinkReviewImport) { m.Pairs[0].A.RecordID = "" }},
			{"self pair", func(m *LinkReviewImport) { m.Pairs[0].A, m.Pairs[0].B = k, k }},
			{"duplicate pair", func(m *LinkReviewImport) { m.Pairs[1].A, m.Pairs[1].B = m.Pairs[0].B, m.Pairs[0].A }},
			{"probability above 1", func(m *LinkReviewImport) { m.Pairs[0].Prob = 1.5 }},
			{"infinite field weight", func(m *LinkReviewImport) {
				m.Pairs[0].Fields = []LinkField{{Field: "sex", Level: "agree", Weight: math.Inf(1)}}
			}},
			{"person twice", func(m *LinkReviewImport) { m.People[1].Key = m.People[0].Key }},
			{"bad text", func(m *LinkReviewImport) { m.People[0].GivenName = "a\x00b" }},
			{"negative count", func(m *LinkReviewImport) { m.Summary = &LinkReviewSummary{Decisions: 4, ByModel: -1} }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				imp := linkImport()
				tt.edit(&imp)
				if _, err := s.ImportLinkReview(ctx, imp); !errors.Is(err, ErrInvalid) {
					t.Fatalf("import: %v, want ErrInvalid", err)
				}
			})
		}
		// Nothing was replaced by a rejected import.
		if _, c, err := s.LinkQueue(ctx, LinkQueueQuery{}); err != nil || c.Pairs != 3 {
			t.Fatalf("after rejected imports: %+v, %v", c, err)
		}
		if _, _, err := s.LinkQueue(ctx, LinkQueueQuery{Offset: -1}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("negative offset: %v", err)
		}
	})
}

// TestDataStewardMigrationKeepsUsers upgrades a SQLite database made by the
// fourth migration, with users, tokens and a case assigned, to the current
// schema: the users keep their ids and the AUTOINCREMENT counter, foreign
// keys still hold, and the new role can be stored.
func TestDataStewardMigrationKeepsUsers(t *testing.T) {
	u, raw := sqliteAtMigration(t, "v4.db", 4)
	mustExec(t, raw, `INSERT INTO users (name, role, created) VALUES ('a', 'admin', 1), ('b', 'caseworker', 1), ('c', 'caseworker', 1)`)
	mustExec(t, raw, `INSERT INTO tokens (user_id, prefix, hash, created) VALUES (2, 'p', 'h', 1)`)
	if _, err := raw.Exec(`INSERT INTO users (name, role, created) VALUES ('x', 'data_steward', 1)`); err == nil {
		t.Fatal("the fourth schema accepted the data_steward role")
	}

	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer s.Close()
	us, err := s.Users(context.Background())
	if err != nil || len(us) != 3 || us[1].Name != "b" || us[1].ID != 2 {
		t.Fatalf("users after the upgrade: %+v, %v", us, err)
	}
	st, err := s.CreateUser(context.Background(), "steward", auth.DataSteward)
	if err != nil || st.ID != 4 {
		t.Fatalf("a data steward after the upgrade: %+v, %v", st, err)
	}
	checkForeignKeysHold(t, raw)
}
