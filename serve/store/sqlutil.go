package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// q rebinds a query written with ? placeholders for the dialect: PostgreSQL
// numbers them ($1, $2, …). The queries hold no ? inside string literals.
func (d *db) q(query string) string {
	if d.dialect != Postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// inTx runs f in a transaction, committing when f returns nil and rolling
// back otherwise. On SQLite the transaction takes the write lock at BEGIN.
func (d *db) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// lock serialises transactions that read then write the same thing (the
// audit chain's head, a target's model versions). PostgreSQL takes a
// transaction-scoped advisory lock on the name; SQLite's transactions
// already hold the database's write lock from BEGIN (_txlock=immediate).
func (d *db) lock(ctx context.Context, tx *sql.Tx, name string) error {
	if d.dialect != Postgres {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte("caserisk:" + name))
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	return nil
}

// micros returns t as microseconds since the epoch, the stored form of times.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros returns the UTC time of a stored microsecond count.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// fromNullMicros returns the time of a nullable stored time (zero for NULL).
func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// insertChunks are the row counts of the multi-row INSERT statements
// insertMany uses: n rows go as the largest chunks that fit, so each table
// has at most ten statement shapes to prepare and cache. 400 rows stay well
// under SQLite's 32,766 and PostgreSQL's 65,535 parameters for any table here.
func insertChunks() []int { return []int{400, 256, 128, 64, 32, 16, 8, 4, 2, 1} }

// txStmt returns query (already rebound) prepared on tx's connection: the
// cached statement when Open prepared it, else a fresh one. It never takes
// a second connection from the pool, which could deadlock with the
// transactions queued behind tx's lock. The caller closes it.
func (d *db) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	d.stmtMu.Lock()
	st, ok := d.stmts[query]
	d.stmtMu.Unlock()
	if !ok {
		return tx.PrepareContext(ctx, query)
	}
	return tx.StmtContext(ctx, st), nil
}

// insertQuery returns the multi-row INSERT of rows rows of ncols values.
func (d *db) insertQuery(head string, ncols, rows int) string {
	one := "(" + placeholders(ncols) + ")"
	return d.q(head + " VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", rows), ", "))
}

// warmStatements prepares the statements transactions use on hot paths
// (the audit append), so that txStmt finds them cached.
func (d *db) warmStatements(ctx context.Context) error {
	queries := []string{auditHeadQuery}
	for _, n := range insertChunks() {
		queries = append(queries, d.insertQuery(auditInsertHead, 11, n))
	}
	for _, q := range queries {
		if _, _, err := d.stmt(ctx, q); err != nil {
			return fmt.Errorf("prepare %.40s…: %w", q, err)
		}
	}
	return nil
}

// insertMany inserts n rows with multi-row INSERT statements in tx. head is
// "INSERT INTO t (a, b, c)"; row(i) returns the ncols values of row i.
func (d *db) insertMany(ctx context.Context, tx *sql.Tx, head string, ncols, n int, row func(i int) []any) error {
	args := make([]any, 0, insertChunks()[0]*ncols)
	for start := 0; start < n; {
		size := 1
		for _, c := range insertChunks() {
			if c <= n-start {
				size = c
				break
			}
		}
		end := start + size
		args = args[:0]
		for i := start; i < end; i++ {
			vals := row(i)
			if len(vals) != ncols {
				return fmt.Errorf("%s: row %d has %d values, want %d", head, i, len(vals), ncols)
			}
			args = append(args, vals...)
		}
		st, err := d.txStmt(ctx, tx, d.insertQuery(head, ncols, size))
		if err != nil {
			return fmt.Errorf("%s: prepare: %w", head, err)
		}
		_, err = st.ExecContext(ctx, args...)
		st.Close()
		if err != nil {
			return fmt.Errorf("%s: rows %d-%d: %w", head, start+1, end, err)
		}
		start = end
	}
	return nil
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// validDate reports whether s is a YYYY-MM-DD calendar date.
func validDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}
