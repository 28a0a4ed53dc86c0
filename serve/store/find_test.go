package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
)

// loadPeople loads a small single view for the search and summary tests,
// twice, so the second load's tables (swapped with their staging twins)
// are the ones read.
func loadPeople(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	for range 2 {
		in, err := s.BeginIngest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(in.AddResidents(ctx, []Resident{
			{ID: "R1", GivenName: "Ada", FamilyName: "O'Neill", DateOfBirth: "1980-05-01"},
			{ID: "R2", GivenName: "Adam", FamilyName: "Smith", DateOfBirth: "2012-03-04"},
			{ID: "R3", GivenName: "Bea", FamilyName: "Adams", DateOfBirth: "1980-05-01"},
			{ID: "R4", GivenName: "100%", FamilyName: "Under_score"},
		}))
		must(in.AddProperties(ctx, []Property{{UPRN: 1, Address: "1 Old Road", Postcode: "NW1 1AA"}, {UPRN: 2, Address: "2 New Street", Postcode: "NW1 2BB"}}))
		must(in.AddResidences(ctx, []Residence{
			{ResidentID: "R1", UPRN: 1, Start: "2010-01-01", End: "2019-12-31"},
			{ResidentID: "R1", UPRN: 2, Start: "2020-01-01"},
			{ResidentID: "R2", UPRN: 2, Start: "2012-03-04"},
			{ResidentID: "R3", UPRN: 1, Start: "2001-01-01", End: "2005-01-01"},
			{ResidentID: "R3", UPRN: 9, Start: "2006-01-01", End: "2007-01-01"},
		}))
		must(in.AddEvents(ctx, []Event{
			{ResidentID: "R1", Service: "repairs", Date: "2021-01-01", Type: "reported"},
			{ResidentID: "R1", Service: "repairs", Date: "2023-05-01", Type: "completed"},
			{ResidentID: "R1", Service: "council_tax", Date: "2022-01-01", Type: "payment"},
			{ResidentID: "R1", Service: "fraud_investigations", Date: "2024-01-01"},
		}))
		must(in.Commit())
	}
}

func TestSearchAndSummaries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		loadPeople(t, s)
		ids := func(rs []ResidentSummary) string {
			out := ""
			for _, r := range rs {
				out += r.ID + " "
			}
			return out
		}
		for _, c := range []struct {
			q    ResidentSearch
			want string
		}{
			{ResidentSearch{Name: "ada"}, "R3 R1 R2 "}, // Adams (family), then O'Neill, Smith by family name
			{ResidentSearch{Name: "ADA o'ne"}, "R1 "},
			{ResidentSearch{DateOfBirth: "1980-05-01"}, "R3 R1 "},
			{ResidentSearch{Name: "bea", DateOfBirth: "1980-05-01"}, "R3 "},
			{ResidentSearch{Name: "ada", Limit: 1}, "R3 "},
			{ResidentSearch{Name: "%"}, ""}, // wildcards are literal
			{ResidentSearch{Name: "100%"}, "R4 "},
			{ResidentSearch{Name: "under_"}, "R4 "},
			{ResidentSearch{Name: "zed"}, ""},
		} {
			got, err := s.SearchResidents(ctx, c.q)
			if err != nil || ids(got) != c.want {
				t.Errorf("SearchResidents(%+v) = %q, %v; want %q", c.q, ids(got), err, c.want)
			}
		}
		for _, c := range []struct {
			q     ResidentSearch
			field string
		}{
			{ResidentSearch{}, "name"},
			{ResidentSearch{DateOfBirth: "1980-02-30"}, "dob"},
			{ResidentSearch{Name: "a b c d e f"}, "name"},
			{ResidentSearch{Name: string([]byte{0xff})}, "name"},
			{ResidentSearch{Name: "ada", Limit: -1}, "limit"},
		} {
			_, err := s.SearchResidents(ctx, c.q)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Errorf("SearchResidents(%+v): %v, want an error naming %s", c.q, err, c.field)
			}
		}
		// Summaries in the order asked, with the current address (the open
		// stay, else the latest), unknown ids left out.
		got, err := s.ResidentSummaries(ctx, []string{"R3", "R9", "R1", "R2", "R1", "R4"})
		if err != nil {
			t.Fatal(err)
		}
		want := "[{R3 9  } {R1 2 2 New Street NW1 2BB} {R2 2 2 New Street NW1 2BB} {R4 0  }]"
		var short []string
		for _, r := range got {
			short = append(short, fmt.Sprintf("{%s %d %s %s}", r.ID, r.UPRN, r.Address, r.Postcode))
		}
		if fmt.Sprint(short) != want {
			t.Errorf("ResidentSummaries = %v, want %s", short, want)
		}
		if got[1].GivenName != "Ada" || got[1].DateOfBirth != "1980-05-01" {
			t.Errorf("summary of R1: %+v", got[1])
		}
		// Timeline by service and paged.
		svc, err := s.TimelineServices(ctx, "R1", TimelineQuery{Services: []string{"repairs", "council_tax"}})
		if err != nil || fmt.Sprint(svc) != "[{repairs 2 2023-05-01} {council_tax 1 2022-01-01}]" {
			t.Errorf("TimelineServices = %v, %v", svc, err)
		}
		svc, _ = s.TimelineServices(ctx, "R1", TimelineQuery{From: "2022-06-01"})
		if fmt.Sprint(svc) != "[{fraud_investigations 1 2024-01-01} {repairs 1 2023-05-01}]" {
			t.Errorf("TimelineServices from a date = %v", svc)
		}
		page, err := s.Timeline(ctx, "R1", TimelineQuery{Services: []string{"repairs", "council_tax"}, Limit: 2, Offset: 1})
		if err != nil || len(page) != 2 || page[0].Date != "2022-01-01" || page[1].Date != "2021-01-01" {
			t.Errorf("timeline page: %+v, %v", page, err)
		}
		if _, err := s.Timeline(ctx, "R1", TimelineQuery{Offset: -1}); err == nil {
			t.Error("a negative offset was accepted")
		}
	})
}
