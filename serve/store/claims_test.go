package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// TestClaims: a claim held by a live holder is refused with who and until
// when; a dead holder's claim is taken when it lapses; Force takes a live
// one over, after OnTakeover, and the displaced holder learns it at its
// next renewal and fails its next write.
func TestClaims(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		d := s.(*db)
		a, err := s.Claim(ctx, "step", ClaimOptions{Holder: "holder A"})
		if err != nil {
			t.Fatal(err)
		}
		var held *HeldError
		if _, err := s.Claim(ctx, "step", ClaimOptions{Holder: "holder B", NoWait: true}); !errors.As(err, &held) ||
			!errors.Is(err, ErrConflict) || held.Holder != "holder A" || !held.Expires.After(time.Now()) {
			t.Fatalf("claiming a held claim: %v, want a HeldError naming holder A", err)
		}
		// Waiting: holder A renews, so it is alive: refused within about
		// one renewal period, not after the lease.
		start := time.Now()
		if _, err := s.Claim(ctx, "step", ClaimOptions{Holder: "holder B"}); !errors.As(err, &held) {
			t.Fatalf("waiting on a live holder: %v, want a HeldError", err)
		}
		if el := time.Since(start); el > ClaimRenew+2*time.Second {
			t.Errorf("waited %s on a live holder, want about %s", el, ClaimRenew)
		}
		if _, err := s.Claim(ctx, "other step", ClaimOptions{NoWait: true}); err != nil {
			t.Errorf("another step's claim: %v", err)
		}

		// Force: OnTakeover sees holder A before it is displaced.
		var seen ClaimInfo
		b, err := s.Claim(ctx, "step", ClaimOptions{Holder: "holder B", Force: true, OnTakeover: func(ci ClaimInfo) error {
			seen = ci
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		if took, ok := b.TookOver(); !ok || took.Holder != "holder A" || seen.Holder != "holder A" {
			t.Errorf("took over %+v (%v), OnTakeover saw %+v; want holder A", took, ok, seen)
		}
		select {
		case <-a.Context().Done():
			if !errors.Is(context.Cause(a.Context()), ErrClaimLost) {
				t.Errorf("displaced holder's cause: %v", context.Cause(a.Context()))
			}
		case <-time.After(ClaimRenew + 2*time.Second):
			t.Fatal("the displaced holder did not learn it lost its claim")
		}
		if err := d.inTx(ctx, func(tx *sql.Tx) error { return a.check(ctx, tx) }); !errors.Is(err, ErrClaimLost) {
			t.Errorf("a displaced holder's write passed the fence: %v", err)
		}
		a.Release() // must not release B's claim
		if _, err := s.Claim(ctx, "step", ClaimOptions{NoWait: true}); !errors.As(err, &held) || held.Holder != "holder B" {
			t.Fatalf("after the displaced holder released: %v, want held by holder B", err)
		}
		// An OnTakeover error stops the takeover.
		refuse := errors.New("not audited")
		if _, err := s.Claim(ctx, "step", ClaimOptions{Force: true, OnTakeover: func(ClaimInfo) error { return refuse }}); !errors.Is(err, refuse) {
			t.Errorf("takeover with a failing OnTakeover: %v", err)
		}

		// Holder B dies (stops renewing): the claim is taken once it lapses.
		b.halt()
		d.now = func() time.Time { return time.Now().Add(ClaimTTL) }
		c, err := s.Claim(ctx, "step", ClaimOptions{Holder: "holder C"})
		if err != nil {
			t.Fatalf("claiming a lapsed claim: %v", err)
		}
		if l, ok := c.Lapsed(); !ok || l.Holder != "holder B" {
			t.Errorf("lapsed holder %+v %v, want holder B", l, ok)
		}
		if err := c.Release(); err != nil {
			t.Fatal(err)
		}
		d.now = time.Now
		e, err := s.Claim(ctx, "step", ClaimOptions{NoWait: true})
		if err != nil {
			t.Fatalf("claiming a released claim: %v", err)
		}
		e.Release()
	})
}

// TestClaimWaitsForADeadHolder: with the real clock, a claim whose holder
// stopped renewing (as after kill -9) is taken within ClaimTTL.
func TestClaimWaitsForADeadHolder(t *testing.T) {
	s, _ := openSQLite(t)
	ctx := context.Background()
	a, err := s.Claim(ctx, "step", ClaimOptions{Holder: "dies"})
	if err != nil {
		t.Fatal(err)
	}
	a.halt()
	start := time.Now()
	b, err := s.Claim(ctx, "step", ClaimOptions{})
	if err != nil {
		t.Fatalf("claim after the holder died: %v", err)
	}
	defer b.Release()
	if el := time.Since(start); el > ClaimTTL+time.Second {
		t.Errorf("took %s, want at most %s", el, ClaimTTL)
	}
}
