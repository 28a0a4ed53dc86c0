package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"caserisk/features/link"
	"caserisk/features/link/assemble"
	"caserisk/features/link/review"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// fakeFamily is the family name of every person in the test queue, so a
// test can tell whether a personal value leaked into the audit log.
const fakeFamily = "Testperson"

var (
	linkageOnce sync.Once
	linkageErr  error
)

// withLinkage returns the shared borough with a data steward (token under
// "data_steward") and a review queue of six pairs loaded.
func withLinkage(t *testing.T) *borough {
	t.Helper()
	b := setup(t)
	linkageOnce.Do(func() { linkageErr = loadLinkage(b) })
	if linkageErr != nil {
		t.Fatalf("load the linkage review queue: %v", linkageErr)
	}
	return b
}

func loadLinkage(b *borough) error {
	ctx := context.Background()
	// The demo makes a data steward; a borough made otherwise gets one here.
	if b.tokens[string(auth.DataSteward)] == "" {
		tok, err := auth.NewToken(nil)
		if err != nil {
			return err
		}
		if _, err := b.st.CreateUserWithToken(ctx, "demo-data-steward", auth.DataSteward, tok); err != nil {
			return err
		}
		b.tokens[string(auth.DataSteward)] = tok.Secret
	}
	fields := func(dob, addr string, w float64) []store.LinkField {
		return []store.LinkField{
			{Field: "given_name", Level: "nickname_or_variant", Weight: 2.4},
			{Field: "family_name", Level: "exact", Weight: 4.1},
			{Field: "date_of_birth", Level: dob, Weight: w},
			{Field: "address", Level: addr, Weight: -1.5},
			{Field: "ni_number", Level: "null", Weight: 0},
			{Field: "sex", Level: "agree", Weight: 0.9},
		}
	}
	imp := store.LinkReviewImport{}
	for i := 0; i < 6; i++ {
		a := store.LinkKey{Source: "council_tax", RecordID: fmt.Sprintf("CT-%04d", 1001+i)}
		bk := store.LinkKey{Source: "housing_benefit", RecordID: fmt.Sprintf("HB-%04d", 2001+i)}
		f := fields("day_month_swap", "postcode", 1.8)
		if i%2 == 1 {
			f = fields("same_year", "sector", -2.2)
		}
		imp.Pairs = append(imp.Pairs, store.LinkPair{A: a, B: bk, Weight: 6.2 - 0.3*float64(i), Prob: 0.99 - 0.05*float64(i), Linked: i%2 == 0, Fields: f})
		imp.People = append(imp.People,
			store.LinkPerson{Key: a, GivenName: "Alexandra", FamilyName: fakeFamily, DateOfBirth: fmt.Sprintf("1984-03-%02d", 10+i),
				Sex: "F", Address: fmt.Sprintf("Flat %d, 12 Example Road, Testtown", i+1), Postcode: "ZZ1 1ZZ", UPRN: fmt.Sprint(9000001 + i)},
			store.LinkPerson{Key: bk, GivenName: "Alex", FamilyName: fakeFamily, DateOfBirth: fmt.Sprintf("1984-%02d-03", 10+i),
				Sex: "F", Address: fmt.Sprintf("%d Sample Street, Testtown", 40+i), Postcode: "ZZ1 2ZZ", NINumber: "QQ123456C"})
	}
	imp.Summary = &store.LinkReviewSummary{Size: 6, NearThreshold: 5210, Decisions: 1200, ByModel: 1194, ByModelLinked: 310, ByModelApart: 884, ByModelPairs: 5100}
	_, err := b.st.ImportLinkReview(ctx, imp)
	return err
}

// firstUndecided returns the first pair without a decision.
func firstUndecided(t *testing.T, b *borough) store.LinkPair {
	t.Helper()
	ps, _, err := b.st.LinkQueue(context.Background(), store.LinkQueueQuery{Undecided: true, Limit: 1})
	if err != nil || len(ps) == 0 {
		t.Fatalf("no undecided pair left: %v", err)
	}
	return ps[0]
}

// TestLinkagePurposeLimit: only a data steward reaches the review queue, a
// pair's details or the decision form; the data steward reaches nothing else.
func TestLinkagePurposeLimit(t *testing.T) {
	b := withLinkage(t)
	pair := firstUndecided(t, b)
	pairPath := fmt.Sprintf("/linkage/review/pairs/%d", pair.ID)
	for _, role := range []string{"caseworker", "fraud_officer", "data_scientist", "admin"} {
		t.Run(role, func(t *testing.T) {
			c := client(t)
			csrf := signIn(t, b, c, role)
			for _, path := range []string{"/linkage/review", pairPath, "/linkage/review/next"} {
				code, body := get(t, c, b.ts.URL+path)
				if code != http.StatusForbidden || !strings.Contains(body, "You cannot see this page") {
					t.Errorf("%s GET %s: %d, want 403", role, path, code)
				}
				if strings.Contains(body, fakeFamily) {
					t.Errorf("%s GET %s shows a record's details", role, path)
				}
			}
			code, _, _ := post(t, c, b.ts.URL+pairPath, url.Values{"csrf_token": {csrf}, "decision": {"accept"}, "position": {"1"}})
			if code != http.StatusForbidden {
				t.Errorf("%s POST a decision: %d, want 403", role, code)
			}
			_, start := get(t, c, b.ts.URL+"/")
			if strings.Contains(start, `href="/linkage/review"`) {
				t.Errorf("%s has the linkage review in the navigation", role)
			}
		})
	}
	if v, err := b.st.LinkPair(context.Background(), pair.ID); err != nil || v.Pair.Decision != "" {
		t.Fatalf("a forbidden POST decided the pair: %q, %v", v.Pair.Decision, err)
	}
	c := client(t)
	signIn(t, b, c, "data_steward")
	code, body := get(t, c, b.ts.URL+"/linkage/review")
	if code != http.StatusOK || !strings.Contains(body, `href="/linkage/review" aria-current="page"`) {
		t.Fatalf("data steward's queue: %d, navigation link present: %v", code, strings.Contains(body, `href="/linkage/review"`))
	}
	cc := firstCase(t, b, store.ComplexCase)
	for _, path := range []string{"/reviews", "/fraud-referrals", "/residents/" + cc.ResidentID, "/models", "/admin/audit", "/admin/users"} {
		if code, _ := get(t, c, b.ts.URL+path); code != http.StatusForbidden {
			t.Errorf("data steward GET %s: %d, want 403", path, code)
		}
	}
	// A case is not found, as a missing one is.
	if code, _ := get(t, c, b.ts.URL+fmt.Sprintf("/cases/%d", cc.ID)); code != http.StatusNotFound {
		t.Errorf("data steward GET a case: %d, want 404", code)
	}
}

// TestLinkageDecision: a data steward opens a pair, sees both records side
// by side with each field's comparison in words, and accepts it; the
// decision is stored, audited with ids only, exported in the form 'caserisk
// link --decisions' reads, and the next pair follows.
func TestLinkageDecision(t *testing.T) {
	b := withLinkage(t)
	ctx := context.Background()
	c := client(t)
	csrf := signIn(t, b, c, "data_steward")
	_, before, err := b.st.LinkQueue(ctx, store.LinkQueueQuery{})
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, c, b.ts.URL+"/linkage/review")
	if !strings.Contains(body, fmt.Sprintf(`<dd id="count-left">%d</dd>`, before.Left())) || strings.Contains(body, fakeFamily) {
		t.Fatalf("the queue page does not show %d left, or shows a record's details", before.Left())
	}
	if want := `<dd id="count-by-model">1194 decisions (310 kept as one resident, 884 kept as two): the queue holds a week's review, 6 decisions at most, of 1200 that 5210 pairs near the threshold come down to</dd>`; !strings.Contains(body, want) {
		t.Errorf("the queue page does not say what is left to the model:\n%s", body)
	}

	pair := firstUndecided(t, b)
	pairPath := fmt.Sprintf("/linkage/review/pairs/%d", pair.ID)
	code, page := get(t, c, b.ts.URL+pairPath)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d", pairPath, code)
	}
	for _, want := range []string{"Alexandra", "Alex", pair.A.RecordID, pair.B.RecordID, "Family names: the same",
		"Given names: a nickname or variant of the same name", "National Insurance numbers: missing on one side"} {
		if !strings.Contains(page, want) {
			t.Errorf("the pair page lacks %q", want)
		}
	}
	if !strings.Contains(page, "Dates of birth: day and month swapped") && !strings.Contains(page, "Dates of birth: the same year only") {
		t.Error("the pair page does not explain the dates of birth")
	}
	if !auditHas(t, b, "demo-data-steward", "read", fmt.Sprintf("linkage/pair/%d", pair.ID)) {
		t.Error("the view of the pair is not audited")
	}

	// Without the session's CSRF token nothing is decided.
	for _, tok := range []string{"", "forged"} {
		code, _, _ := post(t, c, b.ts.URL+pairPath, url.Values{"csrf_token": {tok}, "decision": {"accept"}})
		if code != http.StatusForbidden {
			t.Fatalf("POST with CSRF %q: %d, want 403", tok, code)
		}
	}
	if code, _, _ := post(t, c, b.ts.URL+pairPath, url.Values{"csrf_token": {csrf}, "decision": {"maybe"}}); code != http.StatusBadRequest {
		t.Fatalf("POST an unknown decision: %d, want 400", code)
	}
	// Skip moves on without a decision.
	code, loc, _ := post(t, c, b.ts.URL+pairPath, url.Values{"csrf_token": {csrf}, "decision": {"skip"}, "position": {fmt.Sprint(pair.Position)}})
	if code != http.StatusSeeOther || loc != fmt.Sprintf("/linkage/review/next?after=%d", pair.Position) {
		t.Fatalf("skip: %d to %q", code, loc)
	}
	if v, _ := b.st.LinkPair(ctx, pair.ID); v.Pair.Decision != "" {
		t.Fatal("skip recorded a decision")
	}

	code, loc, _ = post(t, c, b.ts.URL+pairPath, url.Values{"csrf_token": {csrf}, "decision": {"accept"}, "position": {fmt.Sprint(pair.Position)}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/linkage/review/next?") {
		t.Fatalf("accept: %d to %q", code, loc)
	}
	resp, err := c.Get(b.ts.URL + loc)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	next := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(next, "/linkage/review/pairs/") || next == pairPath {
		t.Fatalf("after accepting: %d to %q, want the next pair", resp.StatusCode, next)
	}
	if _, page := get(t, c, b.ts.URL+next); !strings.Contains(page, "Decision recorded") {
		t.Error("the next pair does not confirm the decision")
	}
	v, err := b.st.LinkPair(ctx, pair.ID)
	if err != nil || v.Pair.Decision != store.LinkAccept || v.Pair.DecidedBy != "demo-data-steward" {
		t.Fatalf("stored decision %q by %q, %v", v.Pair.Decision, v.Pair.DecidedBy, err)
	}
	if !auditHas(t, b, "demo-data-steward", "link_accept", fmt.Sprintf("linkage/pair/%d", pair.ID)) {
		t.Error("the decision is not audited")
	}
	_, after, _ := b.st.LinkQueue(ctx, store.LinkQueueQuery{})
	if after.Decided != before.Decided+1 {
		t.Errorf("decided %d after accepting, want %d", after.Decided, before.Decided+1)
	}

	// No personal value in the audit log.
	es, err := b.st.Audit(ctx, store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		for _, v := range []string{e.Action, e.Resource, e.Purpose} {
			if strings.Contains(v, fakeFamily) || strings.Contains(v, "Alex") || strings.Contains(v, "ZZ1") {
				t.Fatalf("audit row %d holds a personal value", e.ID)
			}
		}
	}

	// The export: the decision in the form 'caserisk link --decisions' reads.
	ds, err := b.st.LinkDecisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rows []review.Decision
	for _, d := range ds {
		rows = append(rows, review.Decision{A: assemble.Key{Source: d.A.Source, RecordID: d.A.RecordID},
			B: assemble.Key{Source: d.B.Source, RecordID: d.B.RecordID}, Accept: d.Verdict == store.LinkAccept, At: d.At})
	}
	var csv bytes.Buffer
	if err := review.WriteDecisions(&csv, rows); err != nil {
		t.Fatal(err)
	}
	back, err := link.ReadDecisions(&csv, "decisions.csv")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range back {
		found = found || (d.Accept && review.KeyOf(d.A, d.B) == review.KeyOf(assemble.Key(pair.A), assemble.Key(pair.B)))
	}
	if !found {
		t.Fatalf("the accepted pair is not among the exported decisions %+v", back)
	}
}
