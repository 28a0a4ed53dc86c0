package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"unicode/utf8"

	"caserisk/serve/audit"
)

// The audit append's statements, prepared by Open (see warmStatements).
const (
	auditHeadQuery  = `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`
	auditInsertHead = `INSERT INTO audit_log (id, at, user_id, user_name, role, action, resource, purpose, request_id, prev_hash, hash)`
)

func (d *db) AppendAudit(ctx context.Context, recs ...audit.Record) ([]audit.Entry, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	for i := range recs {
		if recs[i].At.IsZero() {
			recs[i].At = d.now()
		}
		r := &recs[i]
		for _, f := range [...]struct{ name, v string }{
			{"user", r.User}, {"role", r.Role}, {"action", r.Action}, {"resource", r.Resource}, {"purpose", r.Purpose},
		} {
			if f.v == "" {
				return nil, fmt.Errorf("append audit: %w", invalidf(fmt.Sprintf("records[%d].%s", i, f.name), "empty: an audit row says who, in what role, did what, to what, and why"))
			}
		}
		for _, f := range [...]struct{ name, v string }{
			{"user", r.User}, {"role", r.Role}, {"action", r.Action}, {"resource", r.Resource}, {"purpose", r.Purpose},
			{"request_id", r.RequestID},
		} {
			if err := checkText(fmt.Sprintf("records[%d].%s", i, f.name), f.v); err != nil {
				return nil, fmt.Errorf("append audit: %w", err)
			}
		}
	}
	var entries []audit.Entry
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		// The lock is held from reading the head to the commit, so no
		// two appends chain from the same row.
		if err := d.lock(ctx, tx, "audit_log"); err != nil {
			return err
		}
		lastID, lastHash := int64(0), audit.GenesisHash
		head, err := d.txStmt(ctx, tx, auditHeadQuery)
		if err != nil {
			return fmt.Errorf("read the chain's head: %w", err)
		}
		err = head.QueryRowContext(ctx).Scan(&lastID, &lastHash)
		head.Close()
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read the chain's head: %w", err)
		}
		entries = audit.Chain(lastID, lastHash, recs...)
		return d.insertMany(ctx, tx, auditInsertHead, 11, len(entries), func(i int) []any {
			e := &entries[i]
			return []any{e.ID, micros(e.At), e.UserID, e.User, e.Role, e.Action, e.Resource, e.Purpose, e.RequestID, e.PrevHash, e.Hash}
		})
	})
	if err != nil {
		return nil, fmt.Errorf("append audit: %w", err)
	}
	return entries, nil
}

const auditCols = `id, at, user_id, user_name, role, action, resource, purpose, request_id, prev_hash, hash`

func (d *db) scanAudit(rows *sql.Rows) ([]audit.Entry, error) {
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.UserID, &e.User, &e.Role, &e.Action, &e.Resource, &e.Purpose,
			&e.RequestID, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (d *db) AuditPage(ctx context.Context, afterID int64, limit int) ([]audit.Entry, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := d.read().QueryContext(ctx, d.q(`SELECT `+auditCols+` FROM audit_log WHERE id > ? ORDER BY id LIMIT ?`), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit log after row %d: %w", afterID, err)
	}
	out, err := d.scanAudit(rows)
	if err != nil {
		return nil, fmt.Errorf("read audit log after row %d: %w", afterID, err)
	}
	return out, nil
}

func (d *db) Audit(ctx context.Context, f AuditFilter) ([]audit.Entry, error) {
	switch {
	case f.Limit < 0:
		return nil, fmt.Errorf("audit: %w", invalidf("limit", "must not be negative, got %d", f.Limit))
	case f.Limit == 0:
		f.Limit = 100
	case f.Limit > 1000:
		f.Limit = 1000
	}
	where, args := `1 = 1`, []any{}
	if f.UserID != 0 {
		where += ` AND user_id = ?`
		args = append(args, f.UserID)
	}
	if f.Action != "" {
		where += ` AND action = ?`
		args = append(args, f.Action)
	}
	if !validText(f.Action) || !validText(f.Resource) {
		return nil, nil // nothing stored can match
	}
	if f.Resource != "" {
		// A prefix match without LIKE, so that % and _ in the filter
		// are literal.
		where += ` AND substr(resource, 1, ?) = ?`
		args = append(args, utf8.RuneCountInString(f.Resource), f.Resource)
	}
	if f.BeforeID > 0 {
		where += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	rows, err := d.read().QueryContext(ctx, d.q(`SELECT `+auditCols+` FROM audit_log WHERE `+where+` ORDER BY id DESC LIMIT ?`),
		append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	out, err := d.scanAudit(rows)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return out, nil
}
