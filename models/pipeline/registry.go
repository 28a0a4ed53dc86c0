package pipeline

import (
	"context"
	"errors"
	"time"

	"caserisk/models/target"
)

// Registry is the model registry as the pipeline needs it: the champion to
// compare the candidates with, and registering a candidate. It has no way
// to promote: a person does that. serve/registry implements it on the
// service's store.
type Registry interface {
	// Champion returns the target's champion: its model file's bytes and
	// its version. It returns ErrNoChampion when the target has none.
	Champion(ctx context.Context, t target.Name) (artifact []byte, version int, err error)
	// Register registers a candidate. Bytes registered before give their
	// existing version and created false.
	Register(ctx context.Context, r RegisterRequest) (version int, created bool, err error)
}

// ErrNoChampion is Registry.Champion's error for a target without a
// champion.
var ErrNoChampion = errors.New("no champion")

// RegisterRequest is a candidate to register.
type RegisterRequest struct {
	Target target.Name
	// Path is the model file the pipeline wrote.
	Path string
	// Fairness is the fairness audit of the candidate's hold-out report
	// (its fairness.json), registered with it so the registry shows
	// performance by group; nil when the report could not be written.
	Fairness []byte
}

// OutcomeSource gives the outcomes recorded in the case store (closed
// cases whose outcome says something about the target). The
// implementation records each read in its audit log: the rows name
// residents.
type OutcomeSource interface {
	Outcomes(ctx context.Context, t target.Name) ([]Outcome, error)
}

// Outcome is a closed case's outcome as a training label.
type Outcome struct {
	Target     target.Name
	CaseID     int64
	EntityID   string // the resident or tenancy the case is about
	ResidentID string
	AsOf       string // the as-of date of the score run that flagged it
	Outcome    string // e.g. fraud_confirmed, no_fraud, help_accepted
	Label      int    // 1 positive, 0 negative
	ClosedAt   time.Time
}
