package core

import (
	"context"
	"errors"
	"fmt"
	"os"

	"caserisk/features/contract"
	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// MaxCapacity bounds the cases one score run may open per target.
const MaxCapacity = 1_000_000

// ScoreRunRequest asks for a score run.
type ScoreRunRequest struct {
	AsOf     string // YYYY-MM-DD, within the data's coverage
	Capacity int    // cases per target; 0: the runner's default
	Targets  []store.Target
	// Force takes over the claims of a score run that is running (or
	// whose holder died less than store.ClaimTTL ago); each takeover is
	// audited as claim.takeover.
	Force bool
}

// ScoreRun scores every resident and tenancy as of req.AsOf with the
// champions of req.Targets (nil: every target) and opens cases for the top
// capacity, audited as score_run. The as-of date must lie within what the
// extracts cover (from when their history starts to their extract date): a
// date outside is a *store.FieldError naming the range. A run that is
// being made by someone else is a *store.HeldError (ErrConflict) saying who
// and until when, unless req.Force.
func (c *Core) ScoreRun(ctx context.Context, a Actor, req ScoreRunRequest) ([]store.ScoreRun, error) {
	if err := c.require(a, auth.ScoreRuns); err != nil {
		return nil, err
	}
	day, err := contract.ParseDay(req.AsOf)
	if err != nil {
		return nil, &store.FieldError{Field: "as_of", Msg: "required: a date YYYY-MM-DD"}
	}
	if req.Capacity < 0 || req.Capacity > MaxCapacity {
		return nil, &store.FieldError{Field: "capacity", Msg: fmt.Sprintf("must be a whole number from 0 to %d", MaxCapacity)}
	}
	targets := req.Targets
	if len(targets) == 0 {
		targets = store.Targets()
	}
	if c.runner == nil {
		return nil, fmt.Errorf("score runs need the service to be started with the council's extracts (--data DIR): %w", ErrUnavailable)
	}
	from, to, err := c.runner.Coverage(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the extracts' dates: %w: %w", ErrUnavailable, err)
	}
	switch as := day.String(); {
	case as < from:
		return nil, &store.FieldError{Field: "as_of", Msg: fmt.Sprintf("%s is before the data's history starts (%s): the data covers %s to %s", as, from, from, to)}
	case as > to:
		return nil, &store.FieldError{Field: "as_of", Msg: fmt.Sprintf("%s is after the data's extract date (%s): the data covers %s to %s", as, to, from, to)}
	}
	if err := c.record(ctx, a, audit.ScoreRun, "score_run/"+day.String()); err != nil {
		return nil, err
	}
	claim := c.ClaimOptions(ctx, a, "score run", req.Force)
	runs, err := c.runner.Run(ctx, RunRequest{AsOf: day.String(), Capacity: req.Capacity, Targets: targets, Claim: claim})
	if be := (*contract.BrokenFilesError)(nil); errors.As(err, &be) {
		return nil, fmt.Errorf("score run as of %s: %w: %w", day, ErrUnavailable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("score run as of %s: %w", day, err)
	}
	return runs, nil
}

// ClaimOptions returns the options with which the actor claims a step
// (what, e.g. "score run"): the holder names the step, the actor, the
// request and the process, for whoever finds the claim held; with force a
// live holder is taken over, and each takeover is audited first as
// claim.takeover of claim/NAME (the takeover fails when it cannot be).
func (c *Core) ClaimOptions(ctx context.Context, a Actor, what string, force bool) store.ClaimOptions {
	o := store.ClaimOptions{Holder: holder(what, a), Force: force}
	if force {
		o.OnTakeover = func(prev store.ClaimInfo) error {
			c.log.Warn("claim taken over", "claim", prev.Name, "from", prev.Holder, "until", prev.Expires, "by", a.Name, "request_id", a.RequestID)
			return c.record(ctx, a, audit.ClaimTakeover, "claim/"+prev.Name)
		}
	}
	return o
}

// holder names who holds a claim, for whoever finds it held: what, the
// actor (never personal data: a user name and role), the request, and the
// process.
func holder(what string, a Actor) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown host"
	}
	by := fmt.Sprintf("%s by %s (%s)", what, a.Name, a.Role)
	if a.RequestID != "" {
		by += ", request " + a.RequestID
	}
	return fmt.Sprintf("%s, pid %d on %s", by, os.Getpid(), host)
}

// ScoreRuns lists the score runs of a target ("" for both), newest first.
func (c *Core) ScoreRuns(ctx context.Context, a Actor, t store.Target) ([]store.ScoreRun, error) {
	if err := c.require(a, auth.ScoreRuns); err != nil {
		return nil, err
	}
	runs, err := c.st.ScoreRuns(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("list score runs: %w", err)
	}
	return runs, nil
}

// Labels returns the closed cases of a target whose outcome is a label,
// audited as labels.export (the labels carry resident ids).
func (c *Core) Labels(ctx context.Context, a Actor, t store.Target) ([]store.Label, error) {
	if err := c.require(a, auth.LabelsExport); err != nil {
		return nil, err
	}
	if _, err := store.ParseTarget(string(t)); err != nil {
		return nil, err
	}
	if err := c.record(ctx, a, audit.LabelsExport, "labels/"+string(t)); err != nil {
		return nil, err
	}
	ls, err := c.st.Labels(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("export %s labels: %w", t, err)
	}
	return ls, nil
}

// ScoreRows checks that the actor may score anonymous feature rows for
// target t (POST /score): rows carry no identity, so the permission to see
// the target's scores or the model-checking permission (scores:rows)
// allows it. Nothing is read, so nothing is audited.
func (c *Core) ScoreRows(a Actor, t store.Target) error {
	perm, err := auth.ScorePermission(string(t))
	if err != nil {
		return &store.FieldError{Field: "target", Msg: err.Error()}
	}
	return c.require(a, perm, auth.ScoreRows)
}
