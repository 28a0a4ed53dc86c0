package core

import (
	"context"
	"fmt"
	"strings"
	"time"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// Person is what a queue, a case or a search shows to recognise a
// resident: the details the actor's role may see (auth.Detail), the rest
// empty. The resident id is always there.
type Person struct {
	ID          string
	Name        string // given and family name; "" without the name detail
	DateOfBirth string // YYYY-MM-DD; "" without the date-of-birth detail (or not known)
	// Age is the age in whole years today, when HasAge (it needs the date
	// of birth and the detail).
	Age    int
	HasAge bool
	// Address and Postcode are of the current stay; "" without the
	// address detail (or none recorded).
	Address, Postcode string
	DateOfDeath       string // "" without the date-of-death detail (or alive)
}

// person filters a summary by the actor's details.
func (c *Core) person(a Actor, s store.ResidentSummary) Person {
	p := Person{ID: s.ID}
	sees := func(d auth.Detail) bool { return c.policy.SeesDetail(a.Role, d) }
	if sees(auth.DetailName) {
		p.Name = strings.TrimSpace(s.GivenName + " " + s.FamilyName)
	}
	if sees(auth.DetailDateOfBirth) && s.DateOfBirth != "" {
		p.DateOfBirth = s.DateOfBirth
		if dob, err := time.Parse("2006-01-02", s.DateOfBirth); err == nil {
			p.Age, p.HasAge = ageOn(dob, c.now()), true
		}
	}
	if sees(auth.DetailAddress) {
		p.Address, p.Postcode = s.Address, s.Postcode
	}
	if sees(auth.DetailDeath) {
		p.DateOfDeath = s.DateOfDeath
	}
	return p
}

// ageOn returns the age in whole years on day now of a person born on dob.
func ageOn(dob, now time.Time) int {
	y := now.Year() - dob.Year()
	if now.Month() < dob.Month() || now.Month() == dob.Month() && now.Day() < dob.Day() {
		y--
	}
	return max(y, 0)
}

// people returns the persons of ids that exist, by id, filtered by the
// actor's details. A role that sees no detail reads nothing.
func (c *Core) people(ctx context.Context, a Actor, ids []string) (map[string]Person, error) {
	out := make(map[string]Person, len(ids))
	if len(c.policy[a.Role].Details) == 0 {
		for _, id := range ids {
			out[id] = Person{ID: id}
		}
		return out, nil
	}
	sums, err := c.st.ResidentSummaries(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read residents: %w", err)
	}
	for _, s := range sums {
		out[s.ID] = c.person(a, s)
	}
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			out[id] = Person{ID: id}
		}
	}
	return out, nil
}

// Member is a resident of a case's household with their own score in the
// run that opened the case.
type Member struct {
	Person
	Score store.Score
}

// members returns the scored members of a case's household in the run that
// opened it, best rank first (for a case without a household, its own
// score alone), with the persons the actor may see.
func (c *Core) members(ctx context.Context, a Actor, k store.Case) ([]Member, error) {
	var scores []store.Score
	var err error
	if k.Household != "" {
		scores, err = c.st.HouseholdScores(ctx, k.RunID, k.Household)
	} else {
		scores, err = c.st.RunScores(ctx, k.RunID, k.Rank-1, 1)
		if len(scores) == 1 && scores[0].EntityID != k.EntityID {
			scores = nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read the scores of case %d: %w", k.ID, err)
	}
	ids := make([]string, len(scores))
	for i, s := range scores {
		ids[i] = s.ResidentID
	}
	ps, err := c.people(ctx, a, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Member, len(scores))
	for i, s := range scores {
		out[i] = Member{Person: ps[s.ResidentID], Score: s}
	}
	return out, nil
}

// ResidentQuery finds residents by name, date of birth or both.
type ResidentQuery struct {
	Name        string // every word begins the given or family name
	DateOfBirth string // YYYY-MM-DD
	Limit       int    // 0 for 20; at most MaxFound
}

// MaxFound is the most residents a search returns.
const MaxFound = 50

// FindResidents finds residents by name and date of birth for a role that
// may read named residents and see the details searched by (a name search
// needs the name detail, a date-of-birth search that detail), audited as a
// read of residents/search: the words searched for are personal data and
// are not written to the log. more is true when more residents match than
// the limit: the caller should narrow the search.
func (c *Core) FindResidents(ctx context.Context, a Actor, q ResidentQuery) (found []Person, more bool, err error) {
	if err := c.require(a, auth.NamedResidents); err != nil {
		return nil, false, err
	}
	if strings.TrimSpace(q.Name) != "" && !c.policy.SeesDetail(a.Role, auth.DetailName) {
		return nil, false, &ForbiddenError{Role: a.Role, What: "residents' names"}
	}
	if q.DateOfBirth != "" && !c.policy.SeesDetail(a.Role, auth.DetailDateOfBirth) {
		return nil, false, &ForbiddenError{Role: a.Role, What: "residents' dates of birth"}
	}
	switch {
	case q.Limit < 0 || q.Limit > MaxFound:
		return nil, false, &store.FieldError{Field: "limit", Msg: fmt.Sprintf("must be 1 to %d", MaxFound)}
	case q.Limit == 0:
		q.Limit = 20
	}
	wait := c.submit(ctx, a, audit.Read, "residents/search")
	sums, err := c.st.SearchResidents(ctx, store.ResidentSearch{Name: q.Name, DateOfBirth: q.DateOfBirth, Limit: q.Limit + 1})
	if werr := wait(); werr != nil {
		return nil, false, werr
	}
	if err != nil {
		return nil, false, fmt.Errorf("find residents: %w", err)
	}
	if len(sums) > q.Limit {
		sums, more = sums[:q.Limit], true
	}
	found = make([]Person, len(sums))
	for i, s := range sums {
		found[i] = c.person(a, s)
	}
	return found, more, nil
}
