package store

import (
	"fmt"
	"time"
)

// Status is where a case is in its workflow.
//
// Complex-case review: new → reviewing → help_offered → closed; a case may
// also close from new (for example a duplicate) or reviewing (no help
// needed). Tenancy fraud: referred → investigating → closed; a referral may
// close without investigation. Closing needs an outcome.
type Status string

// The statuses of both workflows.
const (
	StatusNew           Status = "new"           // complex case: flagged, not yet looked at
	StatusReviewing     Status = "reviewing"     // complex case: a caseworker is reviewing
	StatusHelpOffered   Status = "help_offered"  // complex case: help has been offered
	StatusReferred      Status = "referred"      // fraud: referred for investigation
	StatusInvestigating Status = "investigating" // fraud: an officer is investigating
	StatusClosed        Status = "closed"        // both: closed with an outcome
)

// Outcome is how a case closed.
type Outcome string

// The outcomes of both workflows. The fraud outcomes are the contract's
// fraud_investigations.outcome codes.
const (
	// Complex-case review outcomes.
	OutcomeHelpAccepted Outcome = "help_accepted" // needs confirmed, help accepted
	OutcomeHelpDeclined Outcome = "help_declined" // needs confirmed, help declined
	OutcomeNoNeed       Outcome = "no_need_found" // the review found no complex need
	OutcomeNotReachable Outcome = "not_reachable" // could not engage; no label
	OutcomeAlreadyKnown Outcome = "already_known" // already supported by a service; no label
	// Tenancy-fraud outcomes.
	OutcomeFraudConfirmed       Outcome = "fraud_confirmed"
	OutcomeNoFraud              Outcome = "no_fraud"
	OutcomeInsufficientEvidence Outcome = "insufficient_evidence" // no label
)

// workflow is the one place the case rules live.
type workflow struct {
	initial  Status
	next     map[Status][]Status
	outcomes map[Outcome]int // outcome → label (1, 0) or -1 for no label
}

// workflowOf returns the rules of a case kind; ok is false for an unknown kind.
func workflowOf(kind Target) (workflow, bool) {
	switch kind {
	case ComplexCase:
		return complexCaseWorkflow(), true
	case TenancyFraud:
		return tenancyFraudWorkflow(), true
	}
	return workflow{}, false
}

func complexCaseWorkflow() workflow {
	return workflow{
		initial: StatusNew,
		next: map[Status][]Status{
			StatusNew:         {StatusReviewing, StatusClosed},
			StatusReviewing:   {StatusHelpOffered, StatusClosed},
			StatusHelpOffered: {StatusClosed},
		},
		outcomes: map[Outcome]int{
			OutcomeHelpAccepted: 1, OutcomeHelpDeclined: 1, OutcomeNoNeed: 0,
			OutcomeNotReachable: -1, OutcomeAlreadyKnown: -1,
		},
	}
}

func tenancyFraudWorkflow() workflow {
	return workflow{
		initial: StatusReferred,
		next: map[Status][]Status{
			StatusReferred:      {StatusInvestigating, StatusClosed},
			StatusInvestigating: {StatusClosed},
		},
		outcomes: map[Outcome]int{
			OutcomeFraudConfirmed: 1, OutcomeNoFraud: 0, OutcomeInsufficientEvidence: -1,
		},
	}
}

// InitialStatus returns the status a new case of the kind opens with.
func InitialStatus(kind Target) Status {
	wf, _ := workflowOf(kind)
	return wf.initial
}

// NextStatuses returns the statuses a case of the kind may move to from s.
func NextStatuses(kind Target, s Status) []Status {
	wf, _ := workflowOf(kind)
	return append([]Status(nil), wf.next[s]...)
}

// Outcomes returns the outcomes a case of the kind may close with.
func Outcomes(kind Target) []Outcome {
	wf, _ := workflowOf(kind)
	var out []Outcome
	for _, o := range outcomeOrder() {
		if _, ok := wf.outcomes[o]; ok {
			out = append(out, o)
		}
	}
	return out
}

func outcomeOrder() []Outcome {
	return []Outcome{
		OutcomeHelpAccepted, OutcomeHelpDeclined, OutcomeNoNeed, OutcomeNotReachable, OutcomeAlreadyKnown,
		OutcomeFraudConfirmed, OutcomeNoFraud, OutcomeInsufficientEvidence,
	}
}

// LabelOf returns the training label of an outcome of a case kind: 1, 0, or
// ok false when the outcome says nothing about the target.
func LabelOf(kind Target, o Outcome) (label int, ok bool) {
	wf, _ := workflowOf(kind)
	l, found := wf.outcomes[o]
	if !found || l < 0 {
		return 0, false
	}
	return l, true
}

// CheckTransition reports whether a case of the kind may move from status
// from to status to with the given outcome: the target status must follow
// from the current one, and an outcome is required exactly when closing and
// must be one of the kind's outcomes. The error is a *FieldError naming
// "status" or "outcome", wrapping ErrTransition or ErrInvalid.
func CheckTransition(kind Target, from, to Status, o Outcome) error {
	wf, ok := workflowOf(kind)
	if !ok {
		return invalidf("kind", "unknown case kind %q", kind)
	}
	if !wf.has(to) {
		return invalidf("status", "unknown status %q for a %s case", to, kind)
	}
	allowed := false
	for _, s := range wf.next[from] {
		if s == to {
			allowed = true
		}
	}
	if !allowed {
		return &transitionError{from: from, to: to}
	}
	if to == StatusClosed {
		if o == "" {
			return invalidf("outcome", "closing a %s case needs an outcome (one of %v)", kind, Outcomes(kind))
		}
		if _, ok := wf.outcomes[o]; !ok {
			return invalidf("outcome", "unknown outcome %q for a %s case (want one of %v)", o, kind, Outcomes(kind))
		}
	} else if o != "" {
		return invalidf("outcome", "an outcome is given only when closing a case")
	}
	return nil
}

// has reports whether s is a status of the workflow.
func (wf workflow) has(s Status) bool {
	if s == wf.initial || s == StatusClosed {
		return true
	}
	for _, next := range wf.next {
		for _, n := range next {
			if n == s {
				return true
			}
		}
	}
	return false
}

// transitionError is an ErrTransition naming the status field.
type transitionError struct{ from, to Status }

func (e *transitionError) Error() string {
	return fmt.Sprintf("status: a case cannot move from %s to %s", e.from, e.to)
}

// Unwrap makes errors.Is(err, ErrTransition) true.
func (e *transitionError) Unwrap() error { return ErrTransition }

// Case is a review case (complex_case) or a tenancy-fraud case.
type Case struct {
	ID         int64
	Kind       Target
	EntityID   string // resident id (complex_case) or tenancy id (tenancy_fraud)
	ResidentID string
	// Household is the household key of the run's scores the case stands
	// for ("" for a case of one entity): the case is the household's,
	// led by the member ResidentID (see Runs.HouseholdScores).
	Household  string
	RunID      int64   // the run that opened it
	Score      float64 // the score that opened it
	Rank       int     // its rank in that run
	Status     Status
	Outcome    Outcome // "" until closed
	Notes      string  // the latest transition's note
	AssignedTo int64   // user id; 0 when unassigned
	Opened     time.Time
	Updated    time.Time
	Closed     time.Time // zero while open
}

// Transition is a request to move a case.
type Transition struct {
	CaseID  int64
	To      Status
	Outcome Outcome // required when To is closed, else empty
	Note    string  // the caseworker's note; stored, never logged
	By      string  // the user's account name
	ByID    int64   // the user's id; 0 for the system
}

// CaseEvent is one entry of a case's history.
type CaseEvent struct {
	CaseID  int64
	At      time.Time
	From    Status // "" for the opening
	To      Status
	Outcome Outcome
	Note    string
	By      string
}
