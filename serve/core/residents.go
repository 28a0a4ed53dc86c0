package core

import (
	"context"
	"errors"
	"fmt"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// ResidentView is a resident's single view as the actor's role may see it:
// details the policy does not grant are empty, and the timeline holds only
// the services the role sees.
type ResidentView struct {
	Resident store.Resident
	// Person is the resident as a page names them: what the role may see,
	// with the age today and the current address.
	Person Person
	Stays  []store.Stay // newest first; none without the address detail
	// Current is the open stay (else nil).
	Current   *store.Stay
	Household []store.HouseholdMember // none without the address detail
	// People holds the household members' details the role may see, by
	// resident id (their names, ages and, being at the same address, the
	// address itself).
	People   map[string]Person
	Timeline []store.Event // newest first, the role's services only
	// Services counts the events under the query's dates per service the
	// role sees (the service filter aside), the latest first: the
	// timeline grouped by service.
	Services []store.ServiceEvents
	// TimelineTotal is the number of events the query selects (Timeline
	// holds a page of them).
	TimelineTotal int
	// Hidden lists, for the page to say so, the services whose events the
	// role does not see.
	Hidden []string
}

// TimelineQuery bounds the timeline of a ResidentView.
type TimelineQuery struct {
	From, To string // inclusive YYYY-MM-DD bounds; "" for open
	Limit    int    // most events, newest first; 0 for 500
	Offset   int    // events to skip, for paging
	// Service keeps one service's events ("" for every service the role
	// sees); a service the role does not see is an error naming the field.
	Service string
}

// Resident returns the single view of a resident, filtered by the actor's
// purpose and audited as a read of resident/ID.
func (c *Core) Resident(ctx context.Context, a Actor, id string, q TimelineQuery) (*ResidentView, error) {
	if err := c.require(a, auth.NamedResidents); err != nil {
		return nil, err
	}
	if q.Service != "" && !c.policy.SeesService(a.Role, q.Service) {
		return nil, &store.FieldError{Field: "service", Msg: fmt.Sprintf("%q is not a service whose events your role sees", q.Service)}
	}
	wait := c.submit(ctx, a, audit.Read, "resident/"+id)
	v, err := c.readResident(ctx, a, id, q)
	if werr := wait(); werr != nil {
		return nil, werr
	}
	return v, err
}

func (c *Core) readResident(ctx context.Context, a Actor, id string, q TimelineQuery) (*ResidentView, error) {
	rv, err := c.st.Resident(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read resident: %w", err)
	}
	services := append([]string{}, c.policy[a.Role].Services...)
	counts, err := c.st.TimelineServices(ctx, id, store.TimelineQuery{From: q.From, To: q.To, Services: services})
	if err != nil {
		return nil, fmt.Errorf("read timeline: %w", err)
	}
	v := &ResidentView{Resident: rv.Resident, Services: counts}
	if q.Service != "" {
		services = []string{q.Service}
	}
	for _, s := range counts {
		if q.Service == "" || s.Service == q.Service {
			v.TimelineTotal += s.Events
		}
	}
	if v.Timeline, err = c.st.Timeline(ctx, id, store.TimelineQuery{From: q.From, To: q.To, Limit: q.Limit, Offset: q.Offset, Services: services}); err != nil {
		return nil, fmt.Errorf("read timeline: %w", err)
	}
	for _, s := range auth.Services() {
		if !c.policy.SeesService(a.Role, s) {
			v.Hidden = append(v.Hidden, s)
		}
	}
	sum := store.ResidentSummary{Resident: rv.Resident}
	for _, st := range rv.Stays {
		if st.End == "" {
			sum.UPRN, sum.Address, sum.Postcode = st.UPRN, st.Property.Address, st.Property.Postcode
			break
		}
	}
	v.Person = c.person(a, sum)
	sees := func(d auth.Detail) bool { return c.policy.SeesDetail(a.Role, d) }
	if !sees(auth.DetailName) {
		v.Resident.GivenName, v.Resident.FamilyName = "", ""
	}
	if !sees(auth.DetailDateOfBirth) {
		v.Resident.DateOfBirth = ""
	}
	if !sees(auth.DetailSex) {
		v.Resident.Sex = ""
	}
	if !sees(auth.DetailDeath) {
		v.Resident.DateOfDeath = ""
	}
	if sees(auth.DetailAddress) {
		v.Stays = rv.Stays
		for i := range v.Stays {
			if v.Stays[i].End == "" {
				v.Current = &v.Stays[i]
				break
			}
		}
		if v.Household, err = c.st.Household(ctx, id); err != nil {
			return nil, fmt.Errorf("read household: %w", err)
		}
		if !sees(auth.DetailDateOfBirth) {
			for i := range v.Household {
				v.Household[i].BirthYear = 0
			}
		}
		ids := make([]string, len(v.Household))
		for i, m := range v.Household {
			ids[i] = m.ResidentID
		}
		if v.People, err = c.people(ctx, a, ids); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Risk is a resident's scores for the targets the actor's role may see.
type Risk struct {
	Latest  []store.ResidentScore // the latest run of each target
	History []store.ResidentScore // every run, oldest first (when asked)
}

// ScoreTargets returns the targets whose scores the actor's role may see.
func (c *Core) ScoreTargets(a Actor) []store.Target {
	var out []store.Target
	for _, t := range store.Targets() {
		if perm, _ := auth.ScorePermission(string(t)); c.policy.Allows(a.Role, perm) {
			out = append(out, t)
		}
	}
	return out
}

// ResidentRisk returns the resident's latest scores (and, with history,
// every past score) for the targets the actor's role may see, audited as a
// read of resident/ID/risk. A role that may see no target's scores gets
// ErrForbidden; an unknown resident without scores ErrNotFound.
func (c *Core) ResidentRisk(ctx context.Context, a Actor, id string, history bool) (Risk, error) {
	targets := c.ScoreTargets(a)
	if len(targets) == 0 {
		return Risk{}, &ForbiddenError{Role: a.Role, What: "any individual's score"}
	}
	wait := c.submit(ctx, a, audit.Read, "resident/"+id+"/risk")
	r, err := c.readRisk(ctx, id, targets, history)
	if werr := wait(); werr != nil {
		return Risk{}, werr
	}
	return r, err
}

func (c *Core) readRisk(ctx context.Context, id string, targets []store.Target, history bool) (Risk, error) {
	var r Risk
	var err error
	if r.Latest, err = c.st.ResidentScores(ctx, id, targets...); err != nil {
		return Risk{}, fmt.Errorf("read resident scores: %w", err)
	}
	if history {
		if r.History, err = c.st.ScoreHistory(ctx, id, targets...); err != nil {
			return Risk{}, fmt.Errorf("read score history: %w", err)
		}
	}
	if len(r.Latest) == 0 && len(r.History) == 0 {
		if _, err := c.st.Resident(ctx, id); errors.Is(err, store.ErrNotFound) {
			return Risk{}, fmt.Errorf("resident %s: %w", id, store.ErrNotFound)
		} else if err != nil {
			return Risk{}, fmt.Errorf("read resident: %w", err)
		}
	}
	return r, nil
}
