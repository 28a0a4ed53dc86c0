package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// household loads three residents at one address and one alone, and a
// complex-case run that opens one case for the household and one for the
// resident alone.
func household(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	in, err := st.BeginIngest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		in.AddResidents(ctx, []store.Resident{
			{ID: "R1", GivenName: "Ada", FamilyName: "Lovelace", DateOfBirth: "1980-06-15"},
			{ID: "R2", GivenName: "Byron", FamilyName: "Lovelace", DateOfBirth: "2012-01-01"},
			{ID: "R3", GivenName: "Cara", FamilyName: "Lovelace"},
			{ID: "R4", GivenName: "Dev", FamilyName: "Patel", DateOfBirth: "1990-02-02"}}),
		in.AddProperties(ctx, []store.Property{{UPRN: 7, Address: "7 Test Row", Postcode: "NW1 7AA"}}),
		in.AddResidences(ctx, []store.Residence{{ResidentID: "R1", UPRN: 7, Start: "2015-01-01"},
			{ResidentID: "R2", UPRN: 7, Start: "2015-01-01"}, {ResidentID: "R3", UPRN: 7, Start: "2015-01-01"}}),
		in.AddEvents(ctx, []store.Event{{ResidentID: "R1", Service: "repairs", Date: "2024-01-01", Type: "reported"},
			{ResidentID: "R1", Service: "repairs", Date: "2024-02-01", Type: "completed"},
			{ResidentID: "R1", Service: "early_help", Date: "2023-01-01", Type: "episode_start"},
			{ResidentID: "R1", Service: "fraud_investigations", Date: "2024-03-01"}}),
		in.Commit(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RegisterModel(ctx, store.NewModel{Target: store.ComplexCase, Path: "m.json", Artifact: stump(t, "complex_case", 1),
		Bands: store.Bands{High: 0.5, Medium: 0.2}, RegisteredBy: "t"}); err != nil {
		t.Fatal(err)
	}
	sc := func(id, hh string, p float64, rank int) store.Score {
		return store.Score{EntityID: id, ResidentID: id, Household: hh, Score: p, Band: "high", Rank: rank, Reasons: []byte(`[]`)}
	}
	if _, _, err := st.RecordScoreRun(ctx, store.NewRun{Target: store.ComplexCase, AsOf: "2025-01-01", ModelVersion: 1, Capacity: 5,
		Scores: []store.Score{sc("R2", "7", 0.9, 1), sc("R4", "", 0.8, 2), sc("R1", "7", 0.7, 3), sc("R3", "7", 0.6, 4)}}); err != nil {
		t.Fatal(err)
	}
}

func TestQueueAndCaseShowHouseholdsAndPeople(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+t.TempDir()+"/core.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 6, 14, 12, 0, 0, 0, time.UTC)
	// A policy in which a second casework role sees scores and cases but
	// no resident detail.
	pol := auth.DefaultPolicy()
	pol[auth.DataScientist] = auth.Rule{Purpose: "test", Permissions: []auth.Permission{auth.CasesComplexCase, auth.ScoreComplexCase}}
	c, err := core.New(core.Config{Store: st, Policy: pol, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	household(t, st)
	cw := core.Actor{UserID: 1, Name: "cw", Role: auth.Caseworker}
	items, total, err := c.Queue(ctx, cw, core.QueueQuery{Kind: store.ComplexCase, Scores: true, People: true})
	if err != nil || total != 2 {
		t.Fatalf("queue: %d cases, %v; want 2 (one household, one alone)", total, err)
	}
	hh := items[0]
	if hh.ResidentID != "R2" || len(hh.Members) != 3 || hh.Score == nil || hh.Score.EntityID != "R2" {
		t.Fatalf("household case: %+v", hh)
	}
	for i, want := range []string{"Byron Lovelace", "Ada Lovelace", "Cara Lovelace"} {
		if hh.Members[i].Name != want || hh.Members[i].Address != "7 Test Row" || hh.Members[i].Score.Rank == 0 {
			t.Errorf("member %d: %+v, want %s at 7 Test Row with a score", i, hh.Members[i], want)
		}
	}
	if m := hh.Members[1]; !m.HasAge || m.Age != 45 || m.DateOfBirth != "1980-06-15" {
		t.Errorf("Ada's age on %s: %+v, want 45", now.Format("2006-01-02"), m.Person)
	}
	if m := hh.Members[2]; m.HasAge {
		t.Errorf("Cara has no date of birth but an age: %+v", m.Person)
	}
	if hh.Person.Name != "Byron Lovelace" || items[1].Person.Name != "Dev Patel" || len(items[1].Members) != 1 {
		t.Errorf("queue persons: %+v / %+v", hh.Person, items[1])
	}
	v, err := c.Case(ctx, cw, hh.ID)
	if err != nil || len(v.Members) != 3 || v.Person.Name != "Byron Lovelace" || v.Run.AsOf != "2025-01-01" {
		t.Fatalf("case view: %+v, %v", v, err)
	}
	// A role without the details sees the household's shape and scores,
	// never a name, a date of birth or an address.
	ds := core.Actor{UserID: 2, Name: "ds", Role: auth.DataScientist}
	items, _, err = c.Queue(ctx, ds, core.QueueQuery{Kind: store.ComplexCase, Scores: true, People: true})
	if err != nil || len(items[0].Members) != 3 {
		t.Fatalf("queue without details: %+v, %v", items, err)
	}
	for _, m := range append(items[0].Members, core.Member{Person: items[0].Person}) {
		if m.Name != "" || m.DateOfBirth != "" || m.HasAge || m.Address != "" || m.ID == "" {
			t.Errorf("a role without details sees %+v", m.Person)
		}
	}
}

func TestFindResidents(t *testing.T) {
	ctx := context.Background()
	c, st := newCore(t)
	household(t, st)
	cw := core.Actor{UserID: 1, Name: "cw", Role: auth.Caseworker}
	found, more, err := c.FindResidents(ctx, cw, core.ResidentQuery{Name: "love"})
	if err != nil || len(found) != 3 || more || found[0].Name != "Ada Lovelace" || found[0].Address != "7 Test Row" {
		t.Fatalf("find by name: %+v more %v, %v", found, more, err)
	}
	found, more, err = c.FindResidents(ctx, cw, core.ResidentQuery{Name: "lovelace", Limit: 2})
	if err != nil || len(found) != 2 || !more {
		t.Fatalf("a limited search: %d found, more %v, %v", len(found), more, err)
	}
	found, _, err = c.FindResidents(ctx, cw, core.ResidentQuery{DateOfBirth: "1990-02-02"})
	if err != nil || len(found) != 1 || found[0].ID != "R4" {
		t.Fatalf("find by date of birth: %+v, %v", found, err)
	}
	rows := actions(t, st, audit.Read)
	n := 0
	for _, r := range rows {
		if r.Resource == "residents/search" && r.User == "cw" {
			n++
		}
		for _, word := range []string{"love", "1990-02-02"} {
			if strings.Contains(r.Resource, word) {
				t.Errorf("the audit log holds the words searched for: %+v", r)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d audited searches, want 3", n)
	}
	// Bad input names its field; roles without the purpose are refused.
	var fe *store.FieldError
	if _, _, err := c.FindResidents(ctx, cw, core.ResidentQuery{DateOfBirth: "2020-02-31"}); !errors.As(err, &fe) || fe.Field != "dob" {
		t.Errorf("a bad date: %v", err)
	}
	if _, _, err := c.FindResidents(ctx, cw, core.ResidentQuery{Name: "x", Limit: 500}); !errors.As(err, &fe) || fe.Field != "limit" {
		t.Errorf("a limit too large: %v", err)
	}
	for _, role := range []auth.Role{auth.DataScientist, auth.Admin, auth.DataSteward} {
		if _, _, err := c.FindResidents(ctx, core.Actor{Name: "x", Role: role}, core.ResidentQuery{Name: "love"}); !errors.Is(err, core.ErrForbidden) {
			t.Errorf("%s searched residents: %v", role, err)
		}
	}
}

func TestTimelineByServicePaged(t *testing.T) {
	ctx := context.Background()
	c, st := newCore(t)
	household(t, st)
	cw := core.Actor{UserID: 1, Name: "cw", Role: auth.Caseworker}
	v, err := c.Resident(ctx, cw, "R1", core.TimelineQuery{Limit: 1, Offset: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Fraud investigations are not the caseworker's: neither counted nor shown.
	if v.TimelineTotal != 3 || len(v.Timeline) != 1 || v.Timeline[0].Type != "reported" || len(v.Services) != 2 ||
		v.Services[0].Service != "repairs" || v.Services[0].Events != 2 {
		t.Fatalf("timeline page: total %d, %+v, by service %+v", v.TimelineTotal, v.Timeline, v.Services)
	}
	v, err = c.Resident(ctx, cw, "R1", core.TimelineQuery{Service: "early_help"})
	if err != nil || v.TimelineTotal != 1 || len(v.Timeline) != 1 || len(v.Services) != 2 {
		t.Fatalf("one service: %+v, %v", v, err)
	}
	v, err = c.Resident(ctx, cw, "R1", core.TimelineQuery{From: "2024-01-15"})
	if err != nil || v.TimelineTotal != 1 || v.Timeline[0].Type != "completed" {
		t.Fatalf("from a date: %+v, %v", v, err)
	}
	var fe *store.FieldError
	if _, err := c.Resident(ctx, cw, "R1", core.TimelineQuery{Service: "fraud_investigations"}); !errors.As(err, &fe) || fe.Field != "service" {
		t.Errorf("a caseworker filtering on fraud investigations: %v", err)
	}
}
