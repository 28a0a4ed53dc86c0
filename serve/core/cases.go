package core

import (
	"context"
	"fmt"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// MaxNoteBytes bounds a note on a case transition.
const MaxNoteBytes = 4000

// QueueQuery selects a page of a case queue.
type QueueQuery struct {
	Kind     store.Target
	Statuses []store.Status // nil for every open status
	Mine     bool           // only the cases assigned to the actor
	Offset   int
	Limit    int // 0 for 50; at most 500
	// Scores also returns each case's stored score (band and reasons).
	Scores bool
	// People also returns each case's resident and, with Scores, every
	// scored member of its household, with the details the actor's role
	// may see (a complex case is a household's; see store.Case).
	People bool
}

// QueueItem is a case on a queue with, when asked, its score in the run
// that flagged it, its resident and its household's members.
type QueueItem struct {
	store.Case
	Score   *store.Score
	Person  Person   // with People: the case's resident
	Members []Member // with People and Scores: best rank first, the resident among them
}

// Queue returns a page of a ranked case queue, audited as a read of
// queue/KIND. Statuses must belong to the kind's workflow.
func (c *Core) Queue(ctx context.Context, a Actor, q QueueQuery) (items []QueueItem, total int, err error) {
	perm, err := auth.CasePermission(string(q.Kind))
	if err != nil {
		return nil, 0, &store.FieldError{Field: "kind", Msg: err.Error()}
	}
	if err := c.require(a, perm); err != nil {
		return nil, 0, err
	}
	for _, st := range q.Statuses {
		if !statusOf(q.Kind, st) {
			return nil, 0, &store.FieldError{Field: "status", Msg: fmt.Sprintf("unknown status %q for a %s case", st, q.Kind)}
		}
	}
	if err := c.record(ctx, a, audit.Read, "queue/"+string(q.Kind)); err != nil {
		return nil, 0, err
	}
	sq := store.QueueQuery{Kind: q.Kind, Statuses: q.Statuses, Offset: q.Offset, Limit: q.Limit}
	if q.Mine {
		sq.AssignedTo = a.UserID
	}
	cases, total, err := c.st.Queue(ctx, sq)
	if err != nil {
		return nil, 0, fmt.Errorf("read queue: %w", err)
	}
	items = make([]QueueItem, len(cases))
	var ids []string
	for i, k := range cases {
		items[i].Case = k
		ids = append(ids, k.ResidentID)
		switch {
		case q.Scores && q.People:
			ms, err := c.members(ctx, a, k)
			if err != nil {
				return nil, 0, err
			}
			items[i].Members = ms
			for j := range ms {
				if ms[j].Score.EntityID == k.EntityID {
					items[i].Score = &ms[j].Score
				}
			}
		case q.Scores:
			sc, err := c.st.RunScores(ctx, k.RunID, k.Rank-1, 1)
			if err != nil {
				return nil, 0, fmt.Errorf("read the queue's scores: %w", err)
			}
			if len(sc) == 1 && sc[0].EntityID == k.EntityID {
				items[i].Score = &sc[0]
			}
		}
	}
	if q.People {
		ps, err := c.people(ctx, a, ids)
		if err != nil {
			return nil, 0, err
		}
		for i := range items {
			items[i].Person = ps[items[i].ResidentID]
		}
	}
	return items, total, nil
}

// statusOf reports whether st is a status of the kind's workflow.
func statusOf(kind store.Target, st store.Status) bool {
	if st == store.InitialStatus(kind) || st == store.StatusClosed {
		return true
	}
	for _, from := range []store.Status{store.InitialStatus(kind), store.StatusReviewing, store.StatusInvestigating} {
		for _, n := range store.NextStatuses(kind, from) {
			if n == st {
				return true
			}
		}
	}
	return false
}

// CaseView is a case with its history, its resident and its household's
// members, each with their own score in the run that opened the case.
type CaseView struct {
	store.Case
	History []store.CaseEvent
	Person  Person
	Members []Member       // best rank first; the case's resident among them
	Run     store.ScoreRun // the run that opened the case (zero when not found)
	// Next and Outcomes are what the case may move to and close with.
	Next     []store.Status
	Outcomes []store.Outcome
}

// caseFor reads a case the actor may work. A case of a kind the actor may
// not work is reported as not found, exactly as a missing one, so ids
// cannot be probed for the existence of (say) a fraud investigation.
func (c *Core) caseFor(ctx context.Context, a Actor, id int64) (store.Case, error) {
	k, err := c.st.Case(ctx, id)
	if err != nil {
		return store.Case{}, fmt.Errorf("case %d: %w", id, err)
	}
	perm, _ := auth.CasePermission(string(k.Kind))
	if !c.policy.Allows(a.Role, perm) {
		return store.Case{}, fmt.Errorf("case %d: %w", id, store.ErrNotFound)
	}
	return k, nil
}

// Case returns a case the actor may work, with its history, audited as a
// read of case/ID.
func (c *Core) Case(ctx context.Context, a Actor, id int64) (CaseView, error) {
	k, err := c.caseFor(ctx, a, id)
	if err != nil {
		return CaseView{}, err
	}
	wait := c.submit(ctx, a, audit.Read, fmt.Sprintf("case/%d", k.ID))
	v, err := c.readCase(ctx, a, k)
	if werr := wait(); werr != nil {
		return CaseView{}, werr
	}
	return v, err
}

func (c *Core) readCase(ctx context.Context, a Actor, k store.Case) (CaseView, error) {
	hist, err := c.st.CaseHistory(ctx, k.ID)
	if err != nil {
		return CaseView{}, fmt.Errorf("read case history: %w", err)
	}
	v := CaseView{Case: k, History: hist, Next: store.NextStatuses(k.Kind, k.Status), Outcomes: store.Outcomes(k.Kind)}
	if v.Members, err = c.members(ctx, a, k); err != nil {
		return CaseView{}, err
	}
	ps, err := c.people(ctx, a, []string{k.ResidentID})
	if err != nil {
		return CaseView{}, err
	}
	v.Person = ps[k.ResidentID]
	runs, err := c.st.ScoreRuns(ctx, k.Kind)
	if err != nil {
		return CaseView{}, fmt.Errorf("read the case's run: %w", err)
	}
	for _, r := range runs {
		if r.ID == k.RunID {
			v.Run = r
		}
	}
	return v, nil
}

// Transition moves a case the actor may work to status to (closing it with
// outcome when to is closed), with an optional note, audited as an update
// of case/ID. A status the case cannot move to is store.ErrTransition.
func (c *Core) Transition(ctx context.Context, a Actor, id int64, to store.Status, outcome store.Outcome, note string) (store.Case, error) {
	if len(note) > MaxNoteBytes {
		return store.Case{}, &store.FieldError{Field: "note", Msg: fmt.Sprintf("longer than %d bytes", MaxNoteBytes)}
	}
	k, err := c.caseFor(ctx, a, id)
	if err != nil {
		return store.Case{}, err
	}
	if err := c.record(ctx, a, audit.CaseUpdate, fmt.Sprintf("case/%d", k.ID)); err != nil {
		return store.Case{}, err
	}
	updated, err := c.st.TransitionCase(ctx, store.Transition{CaseID: k.ID, To: to, Outcome: outcome, Note: note, By: a.Name, ByID: a.UserID})
	if err != nil {
		return store.Case{}, fmt.Errorf("update case %d: %w", k.ID, err)
	}
	return updated, nil
}

// Assign assigns a case the actor may work to the actor (to false:
// unassigns it), audited as an update of case/ID.
func (c *Core) Assign(ctx context.Context, a Actor, id int64, toSelf bool) (store.Case, error) {
	k, err := c.caseFor(ctx, a, id)
	if err != nil {
		return store.Case{}, err
	}
	if k.Status == store.StatusClosed {
		return store.Case{}, fmt.Errorf("case %d is closed and cannot be assigned: %w", k.ID, store.ErrConflict)
	}
	if err := c.record(ctx, a, audit.CaseUpdate, fmt.Sprintf("case/%d", k.ID)); err != nil {
		return store.Case{}, err
	}
	var to int64
	if toSelf {
		to = a.UserID
	}
	updated, err := c.st.AssignCase(ctx, k.ID, to, a.Name)
	if err != nil {
		return store.Case{}, fmt.Errorf("assign case %d: %w", k.ID, err)
	}
	return updated, nil
}
