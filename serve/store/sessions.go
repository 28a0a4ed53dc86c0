package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"caserisk/serve/auth"
)

// The web pages' sessions, the sign-ins under way at an identity provider
// and the sign-in rate limits live in the database (migration 0010), so
// that every replica of the service on one database serves every signed-in
// user and counts every attempt. Session ids, flow states and limited keys
// are stored only as their SHA-256: a reader of the database cannot take
// over a session or a sign-in.

// WebSession is a signed-in browser's session.
type WebSession struct {
	UserID int64
	// TokenPrefix and TokenHash identify the access token a token session
	// signed in with (as the tokens table does), to check it again on
	// every request; empty for a provider's session.
	TokenPrefix string
	TokenHash   [32]byte
	// External marks a session signed in through an identity provider;
	// IDToken is the provider's ID token, for the provider's sign-out.
	External bool
	IDToken  string
	// CSRF is the session's cross-site request forgery token.
	CSRF    string
	Created time.Time
	Seen    time.Time // last use, moved on at most every SessionTouchEvery
}

// SessionBounds are the limits sessions are kept within.
type SessionBounds struct {
	Idle    time.Duration // a session unused this long has ended
	Max     time.Duration // a session this long after sign-in has ended
	PerUser int           // sessions a user holds: a new one ends their oldest
	Total   int           // sessions the store holds: a new one ends the least recently used
}

func (b SessionBounds) check() error {
	if b.Idle <= 0 || b.Max <= 0 || b.PerUser <= 0 || b.Total <= 0 {
		return invalidf("bounds", "idle, max, per-user and total bounds must be positive, got %+v", b)
	}
	return nil
}

// SessionTouchEvery is how often a session's last use is written while it
// is used: a session may so end up to this much before its idle limit, never
// after it, and a busy page costs a write a minute, not one a request.
const SessionTouchEvery = time.Minute

// SignInFlow is a sign-in under way at an identity provider: what its
// callback must find again.
type SignInFlow struct {
	Nonce, Verifier string
	Started         time.Time
}

// RateLimit is a table of limiters, one per key: each key has Burst
// attempts, and gets one back every Every.
type RateLimit struct {
	Scope string // names the table, e.g. "user" or "client"
	Every time.Duration
	Burst int
	// Max bounds the keys held: when full, the keys back at their full
	// burst are dropped, else the one unused longest.
	Max int
}

func (l RateLimit) check() error {
	if l.Scope == "" || !validText(l.Scope) || l.Every <= 0 || l.Burst <= 0 || l.Max <= 0 {
		return invalidf("limit", "a rate limit needs a scope and positive every, burst and max, got %+v", l)
	}
	return nil
}

// WebSessions holds the web pages' sessions, the sign-ins under way at an
// identity provider and the sign-in rate limits.
type WebSessions interface {
	// CreateSession stores a session under the SHA-256 of id. In the same
	// transaction it deletes the ended sessions, the user's oldest beyond
	// b.PerUser-1 and, when the store holds b.Total, the least recently
	// used: a sign-in is never refused because the store is full.
	CreateSession(ctx context.Context, id string, s WebSession, b SessionBounds) error
	// Session returns the session with id and marks it used at now;
	// ErrNotFound when there is none or it has ended (it is then deleted).
	Session(ctx context.Context, id string, now time.Time, b SessionBounds) (WebSession, error)
	// EndSession deletes the session with id (none is no error).
	EndSession(ctx context.Context, id string) error
	// SessionCounts returns the number of sessions held, and the user's.
	SessionCounts(ctx context.Context, userID int64) (all, user int, err error)
	// BeginSignInFlow stores a sign-in under way under the SHA-256 of its
	// state, first deleting the flows older than ttl; an error wrapping
	// ErrConflict when max flows are under way.
	BeginSignInFlow(ctx context.Context, state string, f SignInFlow, ttl time.Duration, max int) error
	// TakeSignInFlow removes and returns the flow with state: each is good
	// for one callback. ErrNotFound when there is none or it is older than
	// ttl at now.
	TakeSignInFlow(ctx context.Context, state string, now time.Time, ttl time.Duration) (SignInFlow, error)
	// TakeRate counts an attempt by key at now. When key has no attempt
	// left it counts nothing and returns false and how long until it has.
	TakeRate(ctx context.Context, l RateLimit, key string, now time.Time) (wait time.Duration, ok bool, err error)
	// RateWait returns how long until key has an attempt left at now (0
	// when it has one), counting nothing.
	RateWait(ctx context.Context, l RateLimit, key string, now time.Time) (time.Duration, error)
}

// secretKey is the stored form of a session id, a flow's state or a
// limited key: its SHA-256 in hex.
func secretKey(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func (d *db) CreateSession(ctx context.Context, id string, s WebSession, b SessionBounds) error {
	if err := b.check(); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if err := checkSession(id, s); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	var tokHash string
	if !s.External {
		tokHash = hex.EncodeToString(s.TokenHash[:])
	}
	now := s.Created
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lock(ctx, tx, "web_sessions"); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, d.q(`SELECT 1 FROM users WHERE id = ?`), s.UserID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d: %w", s.UserID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read user %d: %w", s.UserID, err)
		}
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM web_sessions WHERE seen < ? OR created < ?`),
			micros(now.Add(-b.Idle)), micros(now.Add(-b.Max))); err != nil {
			return fmt.Errorf("delete ended sessions: %w", err)
		}
		mine, err := d.sessionKeys(ctx, tx, `SELECT id_hash FROM web_sessions WHERE user_id = ? ORDER BY created, id_hash`, s.UserID)
		if err != nil {
			return fmt.Errorf("read the user's sessions: %w", err)
		}
		for len(mine) >= b.PerUser {
			if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM web_sessions WHERE id_hash = ?`), mine[0]); err != nil {
				return fmt.Errorf("end the user's oldest session: %w", err)
			}
			mine = mine[1:]
		}
		var all int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM web_sessions`).Scan(&all); err != nil {
			return fmt.Errorf("count sessions: %w", err)
		}
		if over := all - b.Total + 1; over > 0 {
			lru, err := d.sessionKeys(ctx, tx, `SELECT id_hash FROM web_sessions ORDER BY seen, id_hash LIMIT ?`, over)
			if err != nil {
				return fmt.Errorf("find the least recently used sessions: %w", err)
			}
			for _, k := range lru {
				if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM web_sessions WHERE id_hash = ?`), k); err != nil {
					return fmt.Errorf("end the least recently used session: %w", err)
				}
			}
		}
		_, err = tx.ExecContext(ctx, d.q(`INSERT INTO web_sessions
			(id_hash, user_id, token_prefix, token_hash, external, id_token, csrf, created, seen)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			secretKey(id), s.UserID, s.TokenPrefix, tokHash, boolInt(s.External), s.IDToken, s.CSRF, micros(now), micros(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// checkSession checks a new session's fields.
func checkSession(id string, s WebSession) error {
	var zero [32]byte
	switch {
	case id == "":
		return invalidf("id", "a session needs an id")
	case s.CSRF == "" || !validText(s.CSRF):
		return invalidf("csrf", "a session needs a CSRF token of valid text")
	case s.Created.IsZero():
		return invalidf("created", "a session needs its sign-in time")
	case s.External && (s.TokenPrefix != "" || s.TokenHash != zero):
		return invalidf("token", "a provider's session holds no access token")
	case !s.External && (!strings.HasPrefix(s.TokenPrefix, auth.TokenPrefix) || s.TokenHash == zero):
		return invalidf("token", "a token session needs the token's prefix and hash")
	case !validText(s.IDToken) || !validText(s.TokenPrefix):
		return invalidf("id_token", "not valid text")
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sessionKeys runs a query returning stored keys.
func (d *db) sessionKeys(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, d.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (d *db) Session(ctx context.Context, id string, now time.Time, b SessionBounds) (WebSession, error) {
	if err := b.check(); err != nil {
		return WebSession{}, fmt.Errorf("read session: %w", err)
	}
	key := secretKey(id)
	var s WebSession
	var tokHash string
	var external int
	var created, seen int64
	err := d.read().QueryRowContext(ctx, d.q(`SELECT user_id, token_prefix, token_hash, external, id_token, csrf, created, seen
		FROM web_sessions WHERE id_hash = ?`), key).
		Scan(&s.UserID, &s.TokenPrefix, &tokHash, &external, &s.IDToken, &s.CSRF, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return WebSession{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return WebSession{}, fmt.Errorf("read session: %w", err)
	}
	s.External, s.Created, s.Seen = external == 1, fromMicros(created), fromMicros(seen)
	if !s.External {
		h, err := hex.DecodeString(tokHash)
		if err != nil || len(h) != len(s.TokenHash) {
			return WebSession{}, fmt.Errorf("read session: stored token hash of user %d is not a SHA-256", s.UserID)
		}
		copy(s.TokenHash[:], h)
	}
	if now.Sub(s.Seen) > b.Idle || now.Sub(s.Created) > b.Max {
		if err := d.EndSession(ctx, id); err != nil {
			return WebSession{}, err
		}
		return WebSession{}, fmt.Errorf("session has ended: %w", ErrNotFound)
	}
	if now.Sub(s.Seen) >= SessionTouchEvery {
		if _, err := d.read().ExecContext(ctx, d.q(`UPDATE web_sessions SET seen = ? WHERE id_hash = ? AND seen < ?`),
			micros(now), key, micros(now)); err != nil {
			return WebSession{}, fmt.Errorf("mark session used: %w", err)
		}
		s.Seen = now
	}
	return s, nil
}

func (d *db) EndSession(ctx context.Context, id string) error {
	if _, err := d.read().ExecContext(ctx, d.q(`DELETE FROM web_sessions WHERE id_hash = ?`), secretKey(id)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

func (d *db) SessionCounts(ctx context.Context, userID int64) (all, user int, err error) {
	err = d.read().QueryRowContext(ctx, d.q(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN user_id = ? THEN 1 ELSE 0 END), 0)
		FROM web_sessions`), userID).Scan(&all, &user)
	if err != nil {
		return 0, 0, fmt.Errorf("count sessions: %w", err)
	}
	return all, user, nil
}

func (d *db) BeginSignInFlow(ctx context.Context, state string, f SignInFlow, ttl time.Duration, max int) error {
	switch {
	case state == "":
		return fmt.Errorf("begin sign-in: %w", invalidf("state", "a sign-in needs a state"))
	case f.Nonce == "" || f.Verifier == "" || !validText(f.Nonce) || !validText(f.Verifier):
		return fmt.Errorf("begin sign-in: %w", invalidf("nonce", "a sign-in needs a nonce and a verifier of valid text"))
	case ttl <= 0 || max <= 0:
		return fmt.Errorf("begin sign-in: %w", invalidf("ttl", "ttl and max must be positive"))
	}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lock(ctx, tx, "sign_in_flows"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM sign_in_flows WHERE started < ?`), micros(f.Started.Add(-ttl))); err != nil {
			return fmt.Errorf("delete expired sign-ins: %w", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sign_in_flows`).Scan(&n); err != nil {
			return fmt.Errorf("count sign-ins: %w", err)
		}
		if n >= max {
			return fmt.Errorf("%d sign-ins are under way, the most held: %w", n, ErrConflict)
		}
		_, err := tx.ExecContext(ctx, d.q(`INSERT INTO sign_in_flows (state_hash, nonce, verifier, started) VALUES (?, ?, ?, ?)`),
			secretKey(state), f.Nonce, f.Verifier, micros(f.Started))
		return err
	})
	if err != nil {
		return fmt.Errorf("begin sign-in: %w", err)
	}
	return nil
}

func (d *db) TakeSignInFlow(ctx context.Context, state string, now time.Time, ttl time.Duration) (SignInFlow, error) {
	key := secretKey(state)
	var f SignInFlow
	found := false
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var started int64
		err := tx.QueryRowContext(ctx, d.q(`SELECT nonce, verifier, started FROM sign_in_flows WHERE state_hash = ?`), key).
			Scan(&f.Nonce, &f.Verifier, &started)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		// Only the transaction that deletes the row takes the flow: two
		// callbacks with one state cannot both pass.
		res, err := tx.ExecContext(ctx, d.q(`DELETE FROM sign_in_flows WHERE state_hash = ?`), key)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		f.Started, found = fromMicros(started), n == 1
		return nil
	})
	if err != nil {
		return SignInFlow{}, fmt.Errorf("take sign-in: %w", err)
	}
	if !found {
		return SignInFlow{}, fmt.Errorf("sign-in: %w", ErrNotFound)
	}
	if now.Sub(f.Started) > ttl {
		return SignInFlow{}, fmt.Errorf("sign-in has expired: %w", ErrNotFound)
	}
	return f, nil
}

// The limiters are GCRA's: a key's row holds its theoretical arrival time
// tat; an attempt at now is allowed while tat - now <= (Burst-1)*Every,
// and moves tat on by Every from max(tat, now). A key at its full burst
// (tat <= now) needs no row.

func (d *db) TakeRate(ctx context.Context, l RateLimit, key string, now time.Time) (time.Duration, bool, error) {
	if err := l.check(); err != nil {
		return 0, false, fmt.Errorf("rate limit: %w", err)
	}
	k := secretKey(key)
	tau := time.Duration(l.Burst-1) * l.Every
	var wait time.Duration
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lock(ctx, tx, "sign_in_limits:"+l.Scope); err != nil {
			return err
		}
		tat, known, err := readTAT(ctx, d, tx, l.Scope, k)
		if err != nil {
			return err
		}
		if tat.Before(now) {
			tat = now
		}
		if over := tat.Sub(now) - tau; over > 0 {
			wait = over
			return nil
		}
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO sign_in_limits (scope, key_hash, tat) VALUES (?, ?, ?)
			ON CONFLICT (scope, key_hash) DO UPDATE SET tat = excluded.tat`), l.Scope, k, micros(tat.Add(l.Every))); err != nil {
			return err
		}
		if known {
			return nil
		}
		// A new key: keep the table within its bound.
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM sign_in_limits WHERE scope = ? AND tat <= ?`), l.Scope, micros(now)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM sign_in_limits WHERE scope = ?`), l.Scope).Scan(&n); err != nil {
			return err
		}
		if over := n - l.Max; over > 0 {
			_, err := tx.ExecContext(ctx, d.q(`DELETE FROM sign_in_limits WHERE scope = ? AND key_hash IN
				(SELECT key_hash FROM sign_in_limits WHERE scope = ? AND key_hash <> ? ORDER BY tat, key_hash LIMIT ?)`),
				l.Scope, l.Scope, k, over)
			return err
		}
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("rate limit %s: %w", l.Scope, err)
	}
	return wait, wait == 0, nil
}

func (d *db) RateWait(ctx context.Context, l RateLimit, key string, now time.Time) (time.Duration, error) {
	if err := l.check(); err != nil {
		return 0, fmt.Errorf("rate limit: %w", err)
	}
	tat, known, err := readTAT(ctx, d, d.read(), l.Scope, secretKey(key))
	if err != nil {
		return 0, fmt.Errorf("rate limit %s: %w", l.Scope, err)
	}
	if !known {
		return 0, nil
	}
	return max(0, tat.Sub(now)-time.Duration(l.Burst-1)*l.Every), nil
}

// readTAT reads a key's theoretical arrival time; known is false (and tat
// zero) when the key has no row.
func readTAT(ctx context.Context, d *db, qr interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, scope, key string) (tat time.Time, known bool, err error) {
	var us int64
	err = qr.QueryRowContext(ctx, d.q(`SELECT tat FROM sign_in_limits WHERE scope = ? AND key_hash = ?`), scope, key).Scan(&us)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return fromMicros(us), true, nil
}
