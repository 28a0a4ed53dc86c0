package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const caseCols = `c.id, c.kind, c.entity_id, c.resident_id, c.household, c.run_id, c.score, c.score_rank, c.status, c.outcome, c.notes,
	c.assigned_to, c.opened, c.updated, c.closed`

func scanCase(sc interface{ Scan(...any) error }, extra ...any) (Case, error) {
	var c Case
	var assigned, closed sql.NullInt64
	var opened, updated int64
	dest := append([]any{&c.ID, &c.Kind, &c.EntityID, &c.ResidentID, &c.Household, &c.RunID, &c.Score, &c.Rank, &c.Status, &c.Outcome,
		&c.Notes, &assigned, &opened, &updated, &closed}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return Case{}, err
	}
	c.AssignedTo = assigned.Int64
	c.Opened, c.Updated, c.Closed = fromMicros(opened), fromMicros(updated), fromNullMicros(closed)
	return c, nil
}

func (d *db) getCase(ctx context.Context, qr querier, id int64) (Case, error) {
	c, err := scanCase(qr.QueryRowContext(ctx, d.q(`SELECT `+caseCols+` FROM cases c WHERE c.id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Case{}, fmt.Errorf("case %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Case{}, fmt.Errorf("read case %d: %w", id, err)
	}
	return c, nil
}

func (d *db) Case(ctx context.Context, id int64) (Case, error) { return d.getCase(ctx, d.read(), id) }

func (d *db) Queue(ctx context.Context, q QueueQuery) ([]Case, int, error) {
	if _, err := ParseTarget(string(q.Kind)); err != nil {
		return nil, 0, fmt.Errorf("queue: %w", invalidf("kind", "%v", err))
	}
	if q.Offset < 0 {
		return nil, 0, fmt.Errorf("queue: %w", invalidf("offset", "must not be negative, got %d", q.Offset))
	}
	switch {
	case q.Limit < 0:
		return nil, 0, fmt.Errorf("queue: %w", invalidf("limit", "must not be negative, got %d", q.Limit))
	case q.Limit == 0:
		q.Limit = 50
	case q.Limit > 500:
		q.Limit = 500
	}
	where := `c.kind = ? AND c.status <> 'closed'`
	args := []any{q.Kind}
	if len(q.Statuses) > 0 {
		wf, _ := workflowOf(q.Kind)
		for _, s := range q.Statuses {
			if !wf.has(s) {
				return nil, 0, fmt.Errorf("queue: %w", invalidf("status", "unknown status %q for a %s case", s, q.Kind))
			}
			args = append(args, s)
		}
		where = `c.kind = ? AND c.status IN (` + placeholders(len(q.Statuses)) + `)`
	}
	if q.AssignedTo != 0 {
		where += ` AND c.assigned_to = ?`
		args = append(args, q.AssignedTo)
	}
	var total int
	if err := d.read().QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM cases c WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("%s queue: count: %w", q.Kind, err)
	}
	rows, err := d.read().QueryContext(ctx, d.q(`SELECT `+caseCols+` FROM cases c WHERE `+where+`
		ORDER BY c.score DESC, c.id LIMIT ? OFFSET ?`), append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("%s queue: %w", q.Kind, err)
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("%s queue: %w", q.Kind, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("%s queue: %w", q.Kind, err)
	}
	return out, total, nil
}

// maxNoteLen bounds a case note, in bytes.
const maxNoteLen = 4000

func (d *db) TransitionCase(ctx context.Context, t Transition) (Case, error) {
	if len(t.Note) > maxNoteLen {
		return Case{}, fmt.Errorf("move case %d: %w", t.CaseID, invalidf("note", "longer than %d bytes", maxNoteLen))
	}
	if err := checkText("note", t.Note); err != nil {
		return Case{}, fmt.Errorf("move case %d: %w", t.CaseID, err)
	}
	if t.By == "" {
		return Case{}, fmt.Errorf("move case %d: %w", t.CaseID, invalidf("by", "who moves the case is required"))
	}
	if err := checkText("by", t.By); err != nil {
		return Case{}, fmt.Errorf("move case %d: %w", t.CaseID, err)
	}
	var c Case
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := d.getCase(ctx, tx, t.CaseID)
		if err != nil {
			return err
		}
		if err := CheckTransition(cur.Kind, cur.Status, t.To, t.Outcome); err != nil {
			return err
		}
		now := micros(d.now())
		var closed any
		if t.To == StatusClosed {
			closed = now
		}
		// The status condition makes a concurrent transition of the same
		// case fail instead of both applying.
		res, err := tx.ExecContext(ctx, d.q(`UPDATE cases SET status = ?, outcome = ?, notes = ?, updated = ?, closed = ?
			WHERE id = ? AND status = ?`), t.To, t.Outcome, t.Note, now, closed, t.CaseID, cur.Status)
		if err != nil {
			return fmt.Errorf("update: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("case %d changed while being updated; retry: %w", t.CaseID, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO case_events (case_id, at, from_status, to_status, outcome, note, by_name)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), t.CaseID, now, cur.Status, t.To, t.Outcome, t.Note, t.By); err != nil {
			return fmt.Errorf("record transition: %w", err)
		}
		c, err = d.getCase(ctx, tx, t.CaseID)
		return err
	})
	if err != nil {
		return Case{}, fmt.Errorf("move case %d to %s: %w", t.CaseID, t.To, err)
	}
	return c, nil
}

func (d *db) AssignCase(ctx context.Context, caseID, userID int64, by string) (Case, error) {
	var c Case
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := d.getCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if cur.Status == StatusClosed {
			return invalidf("case", "case %d is closed", caseID)
		}
		var assignee any
		if userID != 0 {
			var disabled int
			err := tx.QueryRowContext(ctx, d.q(`SELECT disabled FROM users WHERE id = ?`), userID).Scan(&disabled)
			if errors.Is(err, sql.ErrNoRows) || disabled != 0 {
				return invalidf("user_id", "no active user %d", userID)
			}
			if err != nil {
				return fmt.Errorf("read user %d: %w", userID, err)
			}
			assignee = userID
		}
		now := micros(d.now())
		if _, err := tx.ExecContext(ctx, d.q(`UPDATE cases SET assigned_to = ?, updated = ? WHERE id = ?`), assignee, now, caseID); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		note := fmt.Sprintf("assigned to user %d", userID)
		if userID == 0 {
			note = "unassigned"
		}
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO case_events (case_id, at, from_status, to_status, note, by_name)
			VALUES (?, ?, ?, ?, ?, ?)`), caseID, now, cur.Status, cur.Status, note, by); err != nil {
			return fmt.Errorf("record assignment: %w", err)
		}
		c, err = d.getCase(ctx, tx, caseID)
		return err
	})
	if err != nil {
		return Case{}, fmt.Errorf("assign case %d: %w", caseID, err)
	}
	return c, nil
}

func (d *db) CaseHistory(ctx context.Context, caseID int64) ([]CaseEvent, error) {
	if _, err := d.Case(ctx, caseID); err != nil {
		return nil, err
	}
	rows, err := d.read().QueryContext(ctx, d.q(`SELECT case_id, at, from_status, to_status, outcome, note, by_name
		FROM case_events WHERE case_id = ? ORDER BY id`), caseID)
	if err != nil {
		return nil, fmt.Errorf("case %d history: %w", caseID, err)
	}
	defer rows.Close()
	var out []CaseEvent
	for rows.Next() {
		var e CaseEvent
		var at int64
		if err := rows.Scan(&e.CaseID, &at, &e.From, &e.To, &e.Outcome, &e.Note, &e.By); err != nil {
			return nil, fmt.Errorf("case %d history: %w", caseID, err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("case %d history: %w", caseID, err)
	}
	return out, nil
}

func (d *db) Labels(ctx context.Context, kind Target) ([]Label, error) {
	if _, err := ParseTarget(string(kind)); err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	rows, err := d.read().QueryContext(ctx, d.q(`SELECT `+caseCols+`, r.as_of, r.model_version
		FROM cases c JOIN score_runs r ON r.id = c.run_id
		WHERE c.kind = ? AND c.status = 'closed' ORDER BY c.closed, c.id`), kind)
	if err != nil {
		return nil, fmt.Errorf("%s labels: %w", kind, err)
	}
	defer rows.Close()
	var out []Label
	for rows.Next() {
		var asOf string
		var version int
		c, err := scanCase(rows, &asOf, &version)
		if err != nil {
			return nil, fmt.Errorf("%s labels: %w", kind, err)
		}
		l, ok := LabelOf(kind, c.Outcome)
		if !ok {
			continue
		}
		out = append(out, Label{Kind: kind, CaseID: c.ID, EntityID: c.EntityID, ResidentID: c.ResidentID, AsOf: asOf,
			ModelVersion: version, Score: c.Score, Outcome: c.Outcome, Label: l, ClosedAt: c.Closed})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s labels: %w", kind, err)
	}
	return out, nil
}
