package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Changes tell the serving processes on one database what another process
// changed that they hold in memory: a user disabled or given another role
// (their cached tokens are stale) and a champion promoted (the model to
// load). On PostgreSQL the change is sent with NOTIFY in the transaction
// that makes it, so it arrives when it commits, at every process that
// LISTENs, within milliseconds; the caserisk CLI's changes (caserisk users
// disable, caserisk models promote) are sent too. SQLite has no such
// channel: its callers poll.

// ChangeKind says what changed.
type ChangeKind string

const (
	// ChangeUser: a user was disabled, enabled, or given another role.
	ChangeUser ChangeKind = "user"
	// ChangeChampion: a target's champion changed.
	ChangeChampion ChangeKind = "champion"
	// ChangeMissed: the watch (re)connected; changes made while it was
	// not connected were missed, so everything held must be read again.
	ChangeMissed ChangeKind = "missed"
	// ChangeLost: the watch lost its connection; until the next
	// ChangeMissed, changes are not seen.
	ChangeLost ChangeKind = "lost"
)

// Change is one change another process (or this one) committed.
type Change struct {
	Kind    ChangeKind
	UserID  int64  // ChangeUser
	Target  Target // ChangeChampion
	Version int    // ChangeChampion
}

// ErrNoChanges is WatchChanges' answer on a database that sends no
// changes (SQLite): the caller polls instead.
var ErrNoChanges = errors.New("this database does not send changes: poll it")

// Changes is what a serving process watches.
type Changes interface {
	// WatchChanges calls fn with each change committed to the database,
	// in order, until ctx ends (it then returns ctx's error). It calls fn
	// with ChangeMissed when it connects and reconnects (after a lost
	// connection, with ChangeLost first, retrying every second or so).
	// It returns ErrNoChanges at once on SQLite.
	WatchChanges(ctx context.Context, fn func(Change)) error
}

// changeChannel names the NOTIFY channel of the store's schema: stores in
// other schemas of the database (another caserisk, the tests) do not hear
// each other.
func (d *db) changeChannel(ctx context.Context) (string, error) {
	var schema string
	if err := d.sql.QueryRowContext(ctx, `SELECT COALESCE(current_schema(), 'public')`).Scan(&schema); err != nil {
		return "", fmt.Errorf("read the current schema: %w", err)
	}
	return "caserisk_changes:" + schema, nil
}

// notify sends a change in tx (PostgreSQL; nothing on SQLite), delivered
// when tx commits.
func (d *db) notify(ctx context.Context, qr querier, c Change) error {
	if d.dialect != Postgres {
		return nil
	}
	payload := string(c.Kind)
	switch c.Kind {
	case ChangeUser:
		payload += " " + strconv.FormatInt(c.UserID, 10)
	case ChangeChampion:
		payload += " " + string(c.Target) + " " + strconv.Itoa(c.Version)
	}
	if _, err := qr.ExecContext(ctx, `SELECT pg_notify($1, $2)`, d.channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", c.Kind, err)
	}
	return nil
}

// parseChange reads a notification's payload.
func parseChange(payload string) (Change, error) {
	f := strings.Fields(payload)
	bad := fmt.Errorf("change %q: want \"user ID\" or \"champion TARGET VERSION\"", payload)
	switch {
	case len(f) == 2 && f[0] == string(ChangeUser):
		id, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return Change{}, bad
		}
		return Change{Kind: ChangeUser, UserID: id}, nil
	case len(f) == 3 && f[0] == string(ChangeChampion):
		t, err := ParseTarget(f[1])
		v, verr := strconv.Atoi(f[2])
		if err != nil || verr != nil {
			return Change{}, bad
		}
		return Change{Kind: ChangeChampion, Target: t, Version: v}, nil
	}
	return Change{}, bad
}

// watchPing is how long the watch waits for a notification before it
// checks its connection still works (a silently lost server is noticed
// within watchPing plus the ping's timeout). A variable for the tests.
var watchPing = 5 * time.Second

func (d *db) WatchChanges(ctx context.Context, fn func(Change)) error {
	if d.dialect != Postgres {
		return ErrNoChanges
	}
	backoff := 100 * time.Millisecond
	connected := false
	for {
		err := d.listen(ctx, func(c Change) {
			connected = true
			backoff = 100 * time.Millisecond
			fn(c)
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if connected {
			connected = false
			fn(Change{Kind: ChangeLost})
		}
		_ = err // the next connection's ChangeMissed says it recovered
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// listen holds one LISTEN connection until it fails or ctx ends.
func (d *db) listen(ctx context.Context, fn func(Change)) error {
	cfg, err := pgx.ParseConfig(d.dsn)
	if err != nil {
		return fmt.Errorf("parse the database URL: %w", err)
	}
	// Operators find the watch in pg_stat_activity by its name.
	cfg.RuntimeParams["application_name"] = d.channel
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{d.channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fn(Change{Kind: ChangeMissed})
	for {
		wctx, cancel := context.WithTimeout(ctx, watchPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) || (err != nil && wctx.Err() != nil && !conn.IsClosed()):
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			continue
		case err != nil:
			return fmt.Errorf("wait for changes: %w", err)
		}
		c, err := parseChange(n.Payload)
		if err != nil {
			// Not ours to act on (another version's change): everything
			// is read again rather than something missed.
			fn(Change{Kind: ChangeMissed})
			continue
		}
		fn(c)
	}
}
