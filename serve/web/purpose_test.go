package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"caserisk/serve/api"
	"caserisk/serve/api/champion"
	"caserisk/serve/auth"
	"caserisk/serve/store"
	"caserisk/serve/web"
)

// Markers the purpose test's resident carries, each to be found in what a
// front end renders only when the role's purpose covers it.
const (
	markGiven  = "Zelphine"
	markFamily = "Quarterfold"
	markDOB    = "1979-11-23"
	// markDOBWords is the date of birth as the pages write dates.
	markDOBWords = "23 November 1979"
	markAddress  = "9 Marker Mews"
	markCCWhy    = "CC-REASON-MARK"
	markTFWhy    = "TF-REASON-MARK"
	markTenancy  = "TENMARK1"
)

// eventMark is the detail of the resident's event from a service.
func eventMark(service string) string {
	return "evt-" + strings.ReplaceAll(service, "_", "-") + "-mark"
}

// purposeBorough is a service whose one resident has an event from every
// service, a complex-case score and case, and a tenancy with a fraud score
// and case; one user per role.
func purposeBorough(t *testing.T) (*borough, map[string]int64) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "purpose.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in, err := st.BeginIngest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var evs []store.Event
	for i, s := range auth.Services() {
		evs = append(evs, store.Event{ResidentID: "R1", Service: s, Date: fmt.Sprintf("2024-%02d-01", 1+i%12), Type: "x", Detail: eventMark(s)})
	}
	for _, err := range []error{
		in.AddResidents(ctx, []store.Resident{{ID: "R1", GivenName: markGiven, FamilyName: markFamily, DateOfBirth: markDOB, FirstSeen: "2010-01-01"}}),
		in.AddProperties(ctx, []store.Property{{UPRN: 100, Address: markAddress, Postcode: "ZZ9 9ZZ", Ward: "Central"}}),
		in.AddResidences(ctx, []store.Residence{{ResidentID: "R1", UPRN: 100, Start: "2010-01-01"}}),
		in.AddEvents(ctx, evs),
		in.Commit(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range store.Targets() {
		// A registered version for the runs to name; never loaded (no champion).
		if _, err := st.RegisterModel(ctx, store.NewModel{Target: k, Path: "stub.json", Artifact: []byte(`{}`),
			Bands: store.Bands{High: 0.3, Medium: 0.1}, RegisteredBy: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	why := func(m string) json.RawMessage {
		return json.RawMessage(`[{"feature":"f","value":1,"contribution":0.5,"text":"` + m + `"}]`)
	}
	for _, run := range []store.NewRun{
		{Target: store.ComplexCase, AsOf: "2025-01-01", ModelVersion: 1, Capacity: 1,
			Scores: []store.Score{{EntityID: "R1", ResidentID: "R1", Score: 0.8, Band: "high", Rank: 1, Reasons: why(markCCWhy)}}},
		{Target: store.TenancyFraud, AsOf: "2025-01-01", ModelVersion: 1, Capacity: 1,
			Scores: []store.Score{{EntityID: markTenancy, ResidentID: "R1", Score: 0.7, Band: "high", Rank: 1, Reasons: why(markTFWhy)}}},
	} {
		if _, _, err := st.RecordScoreRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	cases := map[string]int64{}
	for _, k := range store.Targets() {
		cs, _, err := st.Queue(ctx, store.QueueQuery{Kind: k})
		if err != nil || len(cs) != 1 {
			t.Fatalf("%s cases: %v %v", k, cs, err)
		}
		cases[string(k)] = cs[0].ID
	}
	b := &borough{st: st, tokens: map[string]string{}}
	for _, r := range auth.Roles() {
		tok, err := auth.NewToken(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateUserWithToken(ctx, "purpose-"+string(r), r, tok); err != nil {
			t.Fatal(err)
		}
		b.tokens[string(r)] = tok.Secret
	}
	if b.srv, err = api.New(ctx, api.Config{Store: st, Load: champion.LoadArtifact, Pages: web.Mount, AuthCacheTTL: -1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.srv.Close() })
	b.ts = httptest.NewServer(b.srv.Handler())
	t.Cleanup(b.ts.Close)
	return b, cases
}

// TestPurposeEveryFrontEnd is the one table of role × kind of data × front
// end: for every role, everything the API answers and every page renders
// about one resident (single view, risk, both cases, both queues) is read,
// and each kind of data must appear exactly when the purpose policy grants
// it: each service's events, the resident's name, date of birth and
// address, and each target's scores and cases. A new front end or a
// forgotten filter fails here.
func TestPurposeEveryFrontEnd(t *testing.T) {
	b, cases := purposeBorough(t)
	pol := auth.DefaultPolicy()
	fronts := map[string]func(role string) string{
		"api": func(role string) string {
			var all strings.Builder
			for _, path := range []string{"/api/v1/residents/R1", "/api/v1/residents/R1/risk",
				fmt.Sprintf("/api/v1/cases/%d", cases["complex_case"]), fmt.Sprintf("/api/v1/cases/%d", cases["tenancy_fraud"]),
				"/api/v1/queues/complex-cases", "/api/v1/queues/tenancy-fraud"} {
				code, body := apiGet(t, b, role, path)
				if code >= 500 {
					t.Errorf("%s: GET %s: %d", role, path, code)
				}
				all.WriteString(body)
			}
			return all.String()
		},
		"pages": func(role string) string {
			c := client(t)
			signIn(t, b, c, role)
			var all strings.Builder
			// The timeline shows 10 events a page: every page is read.
			for _, path := range []string{"/residents/R1", "/residents/R1?offset=10", "/residents/R1?offset=20", fmt.Sprintf("/cases/%d", cases["complex_case"]),
				fmt.Sprintf("/cases/%d", cases["tenancy_fraud"]), "/reviews", "/fraud-referrals", "/models", "/admin/users",
				"/linkage/review"} {
				code, body := get(t, c, b.ts.URL+path)
				if code >= 500 {
					t.Errorf("%s: page %s: %d", role, path, code)
				}
				all.WriteString(body)
			}
			return all.String()
		},
	}
	for _, role := range auth.Roles() {
		named := pol.Allows(role, auth.NamedResidents)
		want := map[string]bool{
			markGiven:   named && pol.SeesDetail(role, auth.DetailName),
			markFamily:  named && pol.SeesDetail(role, auth.DetailName),
			markDOB:     named && pol.SeesDetail(role, auth.DetailDateOfBirth),
			markAddress: named && pol.SeesDetail(role, auth.DetailAddress),
			markCCWhy:   pol.Allows(role, auth.ScoreComplexCase),
			markTFWhy:   pol.Allows(role, auth.ScoreTenancyFraud),
			markTenancy: pol.Allows(role, auth.CasesTenancyFraud) || pol.Allows(role, auth.ScoreTenancyFraud),
		}
		for _, s := range auth.Services() {
			want[eventMark(s)] = named && pol.SeesService(role, s)
		}
		for front, read := range fronts {
			body := read(string(role))
			for mark, shown := range want {
				if mark == markDOB && front == "pages" {
					mark = markDOBWords
				}
				if got := strings.Contains(body, mark); got != shown {
					t.Errorf("%s on the %s: %q shown %v, want %v (the purpose policy decides)", role, front, mark, got, shown)
				}
			}
		}
	}
	// The policy itself: caseworkers see no fraud, fraud officers no care.
	if pol.SeesService(auth.Caseworker, "fraud_investigations") || pol.SeesService(auth.FraudOfficer, "childrens_social_care") {
		t.Fatal("the default policy lets a role see what its purpose does not need")
	}
	_ = http.StatusOK
}
