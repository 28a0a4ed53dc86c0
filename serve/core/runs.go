package core

import (
	"context"
	"fmt"

	"caserisk/features/contract"
	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// MaxCapacity bounds the cases one score run may open per target.
const MaxCapacity = 1_000_000

// ScoreRun scores every resident and tenancy as of asOf with the
// champions of targets (nil: every target) and opens cases for the top
// capacity (0: the runner's default), audited as score_run.
func (c *Core) ScoreRun(ctx context.Context, a Actor, asOf string, capacity int, targets []store.Target) ([]store.ScoreRun, error) {
	if err := c.require(a, auth.ScoreRuns); err != nil {
		return nil, err
	}
	if _, err := contract.ParseDay(asOf); err != nil {
		return nil, &store.FieldError{Field: "as_of", Msg: "required: a date YYYY-MM-DD"}
	}
	if capacity < 0 || capacity > MaxCapacity {
		return nil, &store.FieldError{Field: "capacity", Msg: fmt.Sprintf("must be a whole number from 0 to %d", MaxCapacity)}
	}
	if len(targets) == 0 {
		targets = store.Targets()
	}
	if c.runner == nil {
		return nil, fmt.Errorf("score runs need the service to be started with the council's extracts (--data DIR): %w", ErrUnavailable)
	}
	if err := c.record(ctx, a, audit.ScoreRun, "score_run/"+asOf); err != nil {
		return nil, err
	}
	runs, err := c.runner.ScoreRun(ctx, asOf, capacity, targets)
	if err != nil {
		return nil, fmt.Errorf("score run as of %s: %w", asOf, err)
	}
	return runs, nil
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
