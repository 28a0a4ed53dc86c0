package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Claims are leases on the steps that must run one at a time (the
// single-view load, a score run, the recording of one run). A holder
// renews its lease every ClaimRenew while it lives; a lease that was not
// renewed by its expiry (ClaimTTL after the last renewal) belongs to a
// holder that died, and the next claimant takes it. So a crash (kill -9,
// a lost machine) blocks the step for at most ClaimTTL, and a live holder
// is never displaced except by an explicit Force, which the caller audits.
//
// The lease is a row in the claims table, on both databases, rather than a
// PostgreSQL advisory lock: it says who holds it and until when, and it
// works the same on SQLite.
const (
	// ClaimTTL is how long a claim lasts after its last renewal.
	ClaimTTL = 10 * time.Second
	// ClaimRenew is how often a live holder renews its claim.
	ClaimRenew = 2 * time.Second
)

// ErrClaimLost is the error of a step whose claim was taken over (with
// Force) or could not be renewed before it expired: the step stops and
// writes nothing more. It wraps ErrConflict.
var ErrClaimLost = fmt.Errorf("the claim was taken over or could not be renewed in time: %w", ErrConflict)

// ClaimInfo says who holds a claim and until when.
type ClaimInfo struct {
	Name     string    // the step, e.g. "single_view" or "score_runs"
	Holder   string    // who: command, user, process and host
	Acquired time.Time // when the holder took it
	Expires  time.Time // when it lapses unless renewed
}

// HeldError reports a claim held by a live holder. It wraps ErrConflict.
type HeldError struct {
	ClaimInfo
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is held by %s since %s, until %s unless renewed (a live holder renews it every %s; "+
		"if it died, the claim lapses by then; to take it over, run again with --force)",
		e.Name, e.Holder, e.Acquired.Format(time.RFC3339), e.Expires.Format(time.RFC3339), ClaimRenew)
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *HeldError) Unwrap() error { return ErrConflict }

// ClaimOptions say how to claim.
type ClaimOptions struct {
	// Holder says who claims, for whoever finds the claim held (never
	// personal data); "" means "pid N on HOST".
	Holder string
	// Force takes over a claim whose holder is alive. The displaced holder
	// loses its claim at its next renewal or write and stops.
	Force bool
	// NoWait reports a held claim at once. Otherwise Claim watches a held
	// claim for up to ClaimTTL+ClaimRenew: a holder that renews it is
	// alive (HeldError within about ClaimRenew); one that does not died,
	// and the claim is taken when it lapses.
	NoWait bool
	// OnTakeover, when set, is called with the holder a forced takeover is
	// about to displace, before it is displaced; an error stops the
	// takeover and is returned (the caller audits takeovers here).
	OnTakeover func(ClaimInfo) error
}

// Claim is a held lease. Its Context is cancelled (with cause
// ErrClaimLost) when the lease is lost; Release gives it up.
type Claim struct {
	d    *db
	info ClaimInfo
	id   string // the fencing token

	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once

	took   *ClaimInfo // the live holder a forced takeover displaced
	lapsed *ClaimInfo // the dead holder whose lapsed claim this replaced
}

// Info says who holds the claim (this process) and since when.
func (c *Claim) Info() ClaimInfo { return c.info }

// TookOver returns the live holder this claim displaced with Force.
func (c *Claim) TookOver() (ClaimInfo, bool) {
	if c.took == nil {
		return ClaimInfo{}, false
	}
	return *c.took, true
}

// Lapsed returns the holder whose claim had lapsed (it died) when this
// claim replaced it.
func (c *Claim) Lapsed() (ClaimInfo, bool) {
	if c.lapsed == nil {
		return ClaimInfo{}, false
	}
	return *c.lapsed, true
}

// Context returns a context derived from the one Claim was called with,
// cancelled with cause ErrClaimLost when the claim is lost.
func (c *Claim) Context() context.Context { return c.ctx }

// Err returns the claim's loss (wrapping ErrClaimLost) when it was lost,
// else err: a step that failed because its context ended reports why.
func (c *Claim) Err(err error) error {
	if cause := context.Cause(c.ctx); cause != nil && errors.Is(cause, ErrClaimLost) && err != nil {
		return cause
	}
	return err
}

// Release stops renewing and gives the claim up. It is idempotent.
func (c *Claim) Release() error {
	c.halt()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.d.sql.ExecContext(ctx, c.d.q(`DELETE FROM claims WHERE name = ? AND id = ?`), c.info.Name, c.id); err != nil {
		return fmt.Errorf("release %s: %w", c.info.Name, err)
	}
	return nil
}

// halt stops the renewals without giving the claim up (as a crash would).
func (c *Claim) halt() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	c.cancel(nil)
}

// check verifies inside tx that the claim is still this holder's: the
// fence every write under a claim passes. On PostgreSQL it also holds the
// claim's lock to the end of tx, so no takeover lands between the check
// and the commit.
func (c *Claim) check(ctx context.Context, tx *sql.Tx) error {
	if err := c.d.lock(ctx, tx, "claim:"+c.info.Name); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, c.d.q(`SELECT COUNT(*) FROM claims WHERE name = ? AND id = ?`), c.info.Name, c.id).Scan(&n); err != nil {
		return fmt.Errorf("check the %s claim: %w", c.info.Name, err)
	}
	if n != 1 {
		return fmt.Errorf("%s: %w", c.info.Name, ErrClaimLost)
	}
	return nil
}

// heartbeat renews the claim every ClaimRenew until halted; it cancels the
// claim's context when the claim is gone or its expiry passes unrenewed.
func (c *Claim) heartbeat() {
	defer close(c.done)
	t := time.NewTicker(ClaimRenew)
	defer t.Stop()
	expires := c.info.Expires
	for {
		select {
		case <-c.stop:
			return
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		ok, next, err := c.renew()
		switch {
		case err == nil && !ok:
			c.cancel(fmt.Errorf("%s was taken over: %w", c.info.Name, ErrClaimLost))
			return
		case err == nil:
			expires = next
		case !c.d.now().Before(expires):
			c.cancel(fmt.Errorf("%s could not be renewed before it expired (%v): %w", c.info.Name, err, ErrClaimLost))
			return
		}
	}
}

// renew extends the claim; ok is false when it is no longer this holder's.
func (c *Claim) renew() (ok bool, expires time.Time, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), ClaimRenew)
	defer cancel()
	now := c.d.now()
	expires = now.Add(ClaimTTL)
	res, err := c.d.sql.ExecContext(ctx, c.d.q(`UPDATE claims SET expires = ? WHERE name = ? AND id = ?`),
		micros(expires), c.info.Name, c.id)
	if err != nil {
		return false, time.Time{}, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, time.Time{}, err
	}
	return n == 1, expires, nil
}

// defaultHolder names this process.
func defaultHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown host"
	}
	return fmt.Sprintf("pid %d on %s", os.Getpid(), host)
}

// heldClaim is a claim's row.
type heldClaim struct {
	ClaimInfo
	id string
}

func (d *db) Claim(ctx context.Context, name string, o ClaimOptions) (*Claim, error) {
	if name == "" || !validText(name) {
		return nil, invalidf("claim", "a claim needs a name of valid text")
	}
	holder := o.Holder
	if holder == "" {
		holder = defaultHolder()
	}
	if !validText(holder) {
		return nil, invalidf("holder", "not valid text")
	}
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	id := hex.EncodeToString(b[:])
	var seen *heldClaim
	deadline := time.Now().Add(ClaimTTL + ClaimRenew)
	for {
		cur, lapsed, err := d.tryClaim(ctx, name, id, holder, "")
		if err != nil {
			return nil, fmt.Errorf("claim %s: %w", name, err)
		}
		if cur == nil {
			return d.startLease(ctx, name, id, holder, nil, lapsed), nil
		}
		if o.Force {
			if o.OnTakeover != nil {
				if err := o.OnTakeover(cur.ClaimInfo); err != nil {
					return nil, err
				}
			}
			again, _, err := d.tryClaim(ctx, name, id, holder, cur.id)
			if err != nil {
				return nil, fmt.Errorf("take over %s: %w", name, err)
			}
			if again == nil {
				took := cur.ClaimInfo
				return d.startLease(ctx, name, id, holder, &took, nil), nil
			}
			continue // it changed hands meanwhile: look again
		}
		// A renewal (or a new holder) since the last look: the holder lives.
		if o.NoWait || (seen != nil && (cur.id != seen.id || !cur.Expires.Equal(seen.Expires))) || time.Now().After(deadline) {
			return nil, &HeldError{cur.ClaimInfo}
		}
		seen = cur
		wait := min(250*time.Millisecond, max(cur.Expires.Sub(d.now()), 10*time.Millisecond))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("claim %s: %w", name, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// tryClaim takes the claim when it is free, lapsed, or held under
// replaceID; otherwise it returns the live holder. lapsed reports the dead
// holder whose lapsed claim it replaced.
func (d *db) tryClaim(ctx context.Context, name, id, holder, replaceID string) (cur *heldClaim, lapsed *ClaimInfo, err error) {
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lock(ctx, tx, "claim:"+name); err != nil {
			return err
		}
		var h heldClaim
		var acq, exp int64
		err := tx.QueryRowContext(ctx, d.q(`SELECT id, holder, acquired, expires FROM claims WHERE name = ?`), name).
			Scan(&h.id, &h.Holder, &acq, &exp)
		now := d.now()
		row := []any{id, holder, micros(now), micros(now.Add(ClaimTTL)), name}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, d.q(`INSERT INTO claims (id, holder, acquired, expires, name) VALUES (?, ?, ?, ?, ?)`), row...)
			return err
		case err != nil:
			return err
		}
		h.Name, h.Acquired, h.Expires = name, fromMicros(acq), fromMicros(exp)
		dead := !now.Before(h.Expires)
		if !dead && (replaceID == "" || h.id != replaceID) {
			cur = &h
			return nil
		}
		if dead {
			info := h.ClaimInfo
			lapsed = &info
		}
		_, err = tx.ExecContext(ctx, d.q(`UPDATE claims SET id = ?, holder = ?, acquired = ?, expires = ? WHERE name = ?`), row...)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return cur, lapsed, nil
}

func (d *db) startLease(ctx context.Context, name, id, holder string, took, lapsed *ClaimInfo) *Claim {
	now := d.now()
	cctx, cancel := context.WithCancelCause(ctx)
	c := &Claim{d: d, id: id, info: ClaimInfo{Name: name, Holder: holder, Acquired: now, Expires: now.Add(ClaimTTL)},
		ctx: cctx, cancel: cancel, stop: make(chan struct{}), done: make(chan struct{})}
	c.took, c.lapsed = took, lapsed
	go c.heartbeat()
	return c
}
