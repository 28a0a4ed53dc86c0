package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// The dialects the store speaks.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// db is the Store over database/sql, for both dialects.
type db struct {
	sql     *sql.DB
	dialect string
	dsn     string // the driver's data source name (the LISTEN connection's)
	channel string // PostgreSQL: the NOTIFY channel of changes (changes.go)
	now     func() time.Time

	// afterScoreChunk, when set (by tests), runs after each committed
	// chunk of a score run's scores.
	afterScoreChunk func()

	// stmts caches prepared statements by query (see cached).
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
}

// Option changes how Open sets the store up.
type Option func(*db)

// WithClock makes the store take the time from now instead of time.Now
// (for tests).
func WithClock(now func() time.Time) Option { return func(d *db) { d.now = now } }

// ParseURL returns the dialect and the driver's data source name of a
// database URL: sqlite://PATH (sqlite://./caserisk.db is relative,
// sqlite:///var/lib/caserisk.db absolute; a query string is passed on as
// SQLite URI parameters) or postgres://… / postgresql://… (passed to pgx
// unchanged).
func ParseURL(raw string) (dialect, dsn string, err error) {
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		rest := strings.TrimPrefix(raw, "sqlite://")
		p, query, _ := strings.Cut(rest, "?")
		if p == "" {
			return "", "", fmt.Errorf("database URL %q: sqlite:// needs a file path (e.g. sqlite://./caserisk.db)", raw)
		}
		if strings.Contains(p, ":memory:") || strings.Contains(query, "mode=memory") {
			return "", "", fmt.Errorf("database URL %q: in-memory SQLite is not supported (each pooled connection would see a database of its own); use a file", raw)
		}
		if _, err := url.ParseQuery(query); err != nil {
			return "", "", fmt.Errorf("database URL %q: query: %w", raw, err)
		}
		// busy_timeout lets writers queue for the write lock; WAL lets
		// readers run beside the writer; _txlock=immediate takes the write
		// lock at BEGIN so read-then-write transactions (the audit chain,
		// model versions) are serialised without deadlock.
		params := "_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
			"&_pragma=synchronous(NORMAL)&_txlock=immediate"
		if query != "" {
			params += "&" + query
		}
		return SQLite, "file:" + p + "?" + params, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return "", "", fmt.Errorf("database URL: %w", err)
		}
		return Postgres, raw, nil
	}
	return "", "", fmt.Errorf("database URL %q: want sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB", redact(raw))
}

// redact hides a password in a URL for error messages.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	return raw
}

// Open connects to the database at a URL (see ParseURL), applies any
// migrations it lacks, and returns the store.
func Open(ctx context.Context, rawURL string, opts ...Option) (Store, error) {
	dialect, dsn, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	driver := "sqlite"
	if dialect == Postgres {
		driver = "pgx"
	}
	sdb, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	d := &db{sql: sdb, dialect: dialect, dsn: dsn, now: time.Now, stmts: map[string]*sql.Stmt{}}
	for _, o := range opts {
		o(d)
	}
	if dialect == SQLite {
		sdb.SetMaxOpenConns(8)
		sdb.SetMaxIdleConns(8)
	} else {
		sdb.SetMaxOpenConns(16)
		sdb.SetMaxIdleConns(16)
	}
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("connect to %s database %s: %w", dialect, redact(rawURL), err)
	}
	if err := d.migrate(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	if dialect == Postgres {
		if d.channel, err = d.changeChannel(ctx); err != nil {
			d.Close()
			return nil, fmt.Errorf("open %s database: %w", dialect, err)
		}
	}
	if err := d.warmStatements(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	return d, nil
}

func (d *db) Dialect() string { return d.dialect }

// DBStats reports the connection pool (the service's /metrics).
func (d *db) DBStats() sql.DBStats { return d.sql.Stats() }

func (d *db) Ping(ctx context.Context) error {
	if err := d.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database: %w", d.dialect, err)
	}
	return nil
}

func (d *db) Close() error {
	d.stmtMu.Lock()
	for q, st := range d.stmts {
		st.Close()
		delete(d.stmts, q)
	}
	d.stmtMu.Unlock()
	return d.sql.Close()
}

// maxCachedStmts bounds the statement cache; queries beyond it run
// unprepared (queries are built from fixed templates, so this is a guard).
const maxCachedStmts = 256

// stmt returns the prepared statement of a query (already rebound for the
// dialect), preparing it on first use. database/sql re-prepares it on each
// pooled connection as needed. ok is false when the cache is full.
//
// The cache's lock is not held while preparing (which may wait for a pooled
// connection), so txStmt never waits behind a prepare.
func (d *db) stmt(ctx context.Context, query string) (st *sql.Stmt, ok bool, err error) {
	d.stmtMu.Lock()
	st, ok = d.stmts[query]
	full := len(d.stmts) >= maxCachedStmts
	d.stmtMu.Unlock()
	if ok {
		return st, true, nil
	}
	if full {
		return nil, false, nil
	}
	st, err = d.sql.PrepareContext(ctx, query)
	if err != nil {
		return nil, false, fmt.Errorf("prepare: %w", err)
	}
	d.stmtMu.Lock()
	defer d.stmtMu.Unlock()
	if prev, ok := d.stmts[query]; ok { // prepared meanwhile by another caller
		st.Close()
		return prev, true, nil
	}
	d.stmts[query] = st
	return st, true, nil
}

// read returns the querier of reads outside transactions.
func (d *db) read() cached { return cached{d} }

// cached runs reads through prepared statements: preparing a statement
// costs more than running it, above all on SQLite.
type cached struct{ d *db }

// QueryContext runs a query through its cached prepared statement.
func (c cached) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, ok, err := c.d.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if !ok {
		return c.d.read().QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs a one-row query through its cached prepared
// statement. A failure to prepare is reported by the row's Scan.
func (c cached) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, ok, err := c.d.stmt(ctx, query)
	if err != nil || !ok {
		return c.d.read().QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// ExecContext runs a statement through its cached prepared statement.
func (c cached) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, ok, err := c.d.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if !ok {
		return c.d.sql.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in order: for each number the
// file NNNN_name.<dialect>.sql if there is one, else NNNN_name.sql.
func migrations(dialect string) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	byVersion := map[int]migration{}
	for _, e := range entries {
		name := e.Name()
		base := strings.TrimSuffix(name, ".sql")
		specific := false
		switch {
		case strings.HasSuffix(base, ".sqlite"), strings.HasSuffix(base, ".postgres"):
			if path.Ext(base) != "."+dialect {
				continue
			}
			base = strings.TrimSuffix(base, path.Ext(base))
			specific = true
		}
		num, label, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", name)
		}
		if prev, dup := byVersion[v]; dup && !specific {
			_ = prev
			continue
		}
		body, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		byVersion[v] = migration{version: v, name: label, sql: expand(string(body), dialect)}
	}
	out := make([]migration, 0, len(byVersion))
	for _, m := range byVersion {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations: expected version %d, found %d (%s)", i+1, m.version, m.name)
		}
	}
	return out, nil
}

// expand replaces the dialect tokens of a migration.
func expand(s, dialect string) string {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if dialect == Postgres {
		id = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	}
	return strings.ReplaceAll(s, "{{ID}}", id)
}

// migrate applies the migrations the database lacks, in order, in one
// transaction under the store's migration lock: two processes starting at
// once do not both migrate, and a failed migration leaves the schema as it
// was.
func (d *db) migrate(ctx context.Context) error {
	ms, err := migrations(d.dialect)
	if err != nil {
		return err
	}
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lock(ctx, tx, "migrations"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		applied := map[int]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return fmt.Errorf("read schema_migrations: %w", err)
			}
			applied[v] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		if len(applied) > len(ms) {
			return fmt.Errorf("the database has %d migrations applied, this caserisk knows %d: upgrade caserisk", len(applied), len(ms))
		}
		for _, m := range ms {
			if applied[m.version] {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %04d_%s: %w", m.version, m.name, err)
			}
			if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.version, m.name, micros(d.now())); err != nil {
				return fmt.Errorf("record migration %04d_%s: %w", m.version, m.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate %s database: %w", d.dialect, err)
	}
	return nil
}
