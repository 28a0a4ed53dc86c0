package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"caserisk/serve/auth"
	"caserisk/serve/store/storetest"
)

// tokenSession returns a token session of user at t.
func tokenSession(t *testing.T, user int64, at time.Time) WebSession {
	t.Helper()
	tok, err := auth.NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	return WebSession{UserID: user, TokenPrefix: tok.Prefix, TokenHash: tok.Hash, CSRF: "csrf-" + tok.Prefix, Created: at}
}

// sessionUsers creates n users and returns their ids.
func sessionUsers(t *testing.T, s Store, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		u, err := s.CreateUser(context.Background(), fmt.Sprintf("session.user%d", i), auth.Caseworker)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

// TestWebSessions: a session is found by its id and by nothing else, and
// the id is not stored; it ends when idle or old, or when ended; a user
// holds at most PerUser sessions (the oldest end); a full store ends the
// least recently used; bad sessions are refused naming the field.
func TestWebSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		users := sessionUsers(t, s, 4)
		b := SessionBounds{Idle: 30 * time.Minute, Max: 2 * time.Hour, PerUser: 3, Total: 6}
		t0 := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)

		ws := tokenSession(t, users[0], t0)
		if err := s.CreateSession(ctx, "session-id-a", ws, b); err != nil {
			t.Fatal(err)
		}
		got, err := s.Session(ctx, "session-id-a", t0.Add(time.Second), b)
		if err != nil || got.UserID != users[0] || got.TokenHash != ws.TokenHash || got.TokenPrefix != ws.TokenPrefix ||
			got.CSRF != ws.CSRF || got.External || !got.Created.Equal(t0) {
			t.Fatalf("session: %+v, %v; want %+v", got, err, ws)
		}
		if _, err := s.Session(ctx, "session-id-b", t0, b); !errors.Is(err, ErrNotFound) {
			t.Errorf("an unknown id: %v, want ErrNotFound", err)
		}
		var stored string
		if err := raw.QueryRow(`SELECT id_hash FROM web_sessions`).Scan(&stored); err != nil || stored == "session-id-a" ||
			stored != secretKey("session-id-a") {
			t.Errorf("stored key %q (%v): want the id's SHA-256, never the id", stored, err)
		}

		// Idle and absolute limits; the last use is written at most once
		// a SessionTouchEvery.
		var seen int64
		if _, err := s.Session(ctx, "session-id-a", t0.Add(20*time.Minute), b); err != nil {
			t.Fatal(err)
		}
		raw.QueryRow(`SELECT seen FROM web_sessions`).Scan(&seen)
		if !fromMicros(seen).Equal(t0.Add(20 * time.Minute)) {
			t.Errorf("last use %s, want +20m", fromMicros(seen))
		}
		if _, err := s.Session(ctx, "session-id-a", t0.Add(20*time.Minute+SessionTouchEvery/2), b); err != nil {
			t.Fatal(err)
		}
		raw.QueryRow(`SELECT seen FROM web_sessions`).Scan(&seen)
		if !fromMicros(seen).Equal(t0.Add(20 * time.Minute)) {
			t.Errorf("last use written again within %s: %s", SessionTouchEvery, fromMicros(seen))
		}
		if _, err := s.Session(ctx, "session-id-a", t0.Add(51*time.Minute), b); !errors.Is(err, ErrNotFound) {
			t.Errorf("idle 31 minutes: %v, want ended", err)
		}
		var n int
		raw.QueryRow(`SELECT COUNT(*) FROM web_sessions`).Scan(&n)
		if n != 0 {
			t.Errorf("an ended session is still stored (%d rows)", n)
		}
		busy := tokenSession(t, users[0], t0)
		if err := s.CreateSession(ctx, "busy", busy, b); err != nil {
			t.Fatal(err)
		}
		for m := 20; m < 120; m += 20 {
			if _, err := s.Session(ctx, "busy", t0.Add(time.Duration(m)*time.Minute), b); err != nil {
				t.Fatalf("busy session at +%dm: %v", m, err)
			}
		}
		if _, err := s.Session(ctx, "busy", t0.Add(121*time.Minute), b); !errors.Is(err, ErrNotFound) {
			t.Errorf("a busy session past its maximum: %v, want ended", err)
		}

		// End.
		if err := s.CreateSession(ctx, "to-end", tokenSession(t, users[1], t0), b); err != nil {
			t.Fatal(err)
		}
		if err := s.EndSession(ctx, "to-end"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, "to-end", t0, b); !errors.Is(err, ErrNotFound) {
			t.Errorf("an ended session: %v", err)
		}
		if err := s.EndSession(ctx, "to-end"); err != nil {
			t.Errorf("ending an ended session: %v", err)
		}

		// Per user: the oldest end.
		at := t0.Add(3 * time.Hour)
		for i := range b.PerUser + 2 {
			at = at.Add(time.Second)
			if err := s.CreateSession(ctx, fmt.Sprintf("u1-%d", i), tokenSession(t, users[1], at), b); err != nil {
				t.Fatal(err)
			}
			all, mine, err := s.SessionCounts(ctx, users[1])
			if err != nil || mine != min(i+1, b.PerUser) || all != mine {
				t.Fatalf("after %d sign-ins: %d sessions, %d of the user's (%v)", i+1, all, mine, err)
			}
		}
		for i := range b.PerUser + 2 {
			_, err := s.Session(ctx, fmt.Sprintf("u1-%d", i), at, b)
			if alive := err == nil; alive != (i >= 2) {
				t.Errorf("session %d alive %v, want %v (the oldest end)", i, alive, i >= 2)
			}
		}
		// Full: the least recently used ends, never the new one.
		at = at.Add(2 * time.Minute)
		for i := range 3 {
			at = at.Add(2 * time.Minute)
			if err := s.CreateSession(ctx, fmt.Sprintf("u2-%d", i), tokenSession(t, users[2], at), b); err != nil {
				t.Fatal(err)
			}
		}
		at = at.Add(2 * time.Minute)
		for i := 2; i < b.PerUser+2; i++ { // user 1's sessions are used again
			if _, err := s.Session(ctx, fmt.Sprintf("u1-%d", i), at, b); err != nil {
				t.Fatal(err)
			}
		}
		at = at.Add(2 * time.Minute)
		if err := s.CreateSession(ctx, "u3-0", tokenSession(t, users[3], at), b); err != nil {
			t.Fatal(err)
		}
		if all, _, _ := s.SessionCounts(ctx, 0); all != b.Total {
			t.Errorf("%d sessions, want the bound %d", all, b.Total)
		}
		for id, alive := range map[string]bool{"u3-0": true, "u2-0": false, "u2-1": true, "u1-2": true} {
			if _, err := s.Session(ctx, id, at, b); (err == nil) != alive {
				t.Errorf("session %s: %v, want alive %v", id, err, alive)
			}
		}

		// A provider's session keeps its ID token and holds no token.
		ext := WebSession{UserID: users[3], External: true, IDToken: "eyJ.id.token", CSRF: "c", Created: at}
		if err := s.CreateSession(ctx, "ext", ext, b); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Session(ctx, "ext", at, b); err != nil || !got.External || got.IDToken != ext.IDToken {
			t.Errorf("provider's session: %+v, %v", got, err)
		}

		// Refused.
		good := tokenSession(t, users[0], at)
		for name, tc := range map[string]struct {
			id    string
			s     WebSession
			field string
		}{
			"no id":         {"", good, "id"},
			"no csrf":       {"x", func() WebSession { w := good; w.CSRF = ""; return w }(), "csrf"},
			"no token":      {"x", func() WebSession { w := good; w.TokenPrefix = ""; return w }(), "token"},
			"ext and token": {"x", func() WebSession { w := good; w.External = true; return w }(), "token"},
			"bad text":      {"x", func() WebSession { w := good; w.CSRF = "a\x00b"; return w }(), "csrf"},
		} {
			var fe *FieldError
			if err := s.CreateSession(ctx, tc.id, tc.s, b); !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("%s: %v, want a FieldError on %s", name, err, tc.field)
			}
		}
		if err := s.CreateSession(ctx, "x", tokenSession(t, 1<<40, at), b); !errors.Is(err, ErrNotFound) {
			t.Errorf("an unknown user's session: %v, want ErrNotFound", err)
		}
	})
}

// TestSignInFlows: a flow is taken once, within its time limit; the flows
// held are bounded.
func TestSignInFlows(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		t0 := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
		ttl := 10 * time.Minute
		f := SignInFlow{Nonce: "n1", Verifier: "v1", Started: t0}
		if err := s.BeginSignInFlow(ctx, "state-1", f, ttl, 3); err != nil {
			t.Fatal(err)
		}
		got, err := s.TakeSignInFlow(ctx, "state-1", t0.Add(time.Minute), ttl)
		if err != nil || got.Nonce != "n1" || got.Verifier != "v1" || !got.Started.Equal(t0) {
			t.Fatalf("take: %+v, %v", got, err)
		}
		if _, err := s.TakeSignInFlow(ctx, "state-1", t0.Add(time.Minute), ttl); !errors.Is(err, ErrNotFound) {
			t.Errorf("a flow taken twice: %v, want ErrNotFound", err)
		}
		if err := s.BeginSignInFlow(ctx, "state-2", f, ttl, 3); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TakeSignInFlow(ctx, "state-2", t0.Add(ttl+time.Second), ttl); !errors.Is(err, ErrNotFound) {
			t.Errorf("an expired flow: %v, want ErrNotFound", err)
		}
		for i := range 3 {
			if err := s.BeginSignInFlow(ctx, fmt.Sprintf("full-%d", i), f, ttl, 3); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.BeginSignInFlow(ctx, "full-3", f, ttl, 3); !errors.Is(err, ErrConflict) {
			t.Errorf("a flow past the bound: %v, want ErrConflict", err)
		}
		later := f
		later.Started = t0.Add(ttl + time.Minute)
		if err := s.BeginSignInFlow(ctx, "later", later, ttl, 3); err != nil {
			t.Errorf("a flow once the others expired: %v", err)
		}
		var n int
		raw.QueryRow(`SELECT COUNT(*) FROM sign_in_flows WHERE state_hash LIKE 'full%' OR state_hash = 'later'`).Scan(&n)
		if n != 0 {
			t.Error("a flow's state is stored in clear")
		}
	})
}

// TestRateLimits: a key has Burst attempts, then waits Every for each
// more; a refused attempt counts nothing; keys do not slow each other; the
// keys held are bounded.
func TestRateLimits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
		l := RateLimit{Scope: "user", Every: 2 * time.Second, Burst: 5, Max: 20}
		for i := range l.Burst {
			if w, err := s.RateWait(ctx, l, "crk_aaaa", now); err != nil || w != 0 {
				t.Fatalf("wait before attempt %d: %s, %v", i+1, w, err)
			}
			if _, ok, err := s.TakeRate(ctx, l, "crk_aaaa", now); !ok || err != nil {
				t.Fatalf("attempt %d refused within the burst (%v)", i+1, err)
			}
		}
		for range 3 {
			wait, ok, err := s.TakeRate(ctx, l, "crk_aaaa", now)
			if ok || err != nil || wait != l.Every {
				t.Fatalf("attempt past the burst: ok %v wait %s (%v), want a wait of %s", ok, wait, err, l.Every)
			}
		}
		if w, _ := s.RateWait(ctx, l, "crk_aaaa", now.Add(time.Second)); w != time.Second {
			t.Errorf("wait after a second: %s, want 1s", w)
		}
		if _, ok, _ := s.TakeRate(ctx, l, "crk_bbbb", now); !ok {
			t.Error("another key was refused")
		}
		if _, ok, _ := s.TakeRate(ctx, RateLimit{Scope: "client", Every: time.Second, Burst: 1, Max: 5}, "crk_aaaa", now); !ok {
			t.Error("the same key in another scope was refused")
		}
		now = now.Add(l.Every)
		if _, ok, _ := s.TakeRate(ctx, l, "crk_aaaa", now); !ok {
			t.Error("refused after waiting")
		}
		if _, ok, _ := s.TakeRate(ctx, l, "crk_aaaa", now); ok {
			t.Error("a second attempt after one period")
		}
		for i := range l.Max + 10 {
			if _, _, err := s.TakeRate(ctx, l, fmt.Sprintf("crk_%08d", i), now); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		raw.QueryRow(`SELECT COUNT(*) FROM sign_in_limits WHERE scope = 'user'`).Scan(&n)
		if n > l.Max {
			t.Errorf("%d keys held, want at most %d", n, l.Max)
		}
		raw.QueryRow(`SELECT COUNT(*) FROM sign_in_limits WHERE key_hash LIKE 'crk_%'`).Scan(&n)
		if n != 0 {
			t.Error("a limited key is stored in clear")
		}
		if _, _, err := s.TakeRate(ctx, RateLimit{Scope: "user"}, "k", now); !errors.Is(err, ErrInvalid) {
			t.Errorf("a limit without a rate: %v, want ErrInvalid", err)
		}
	})
}

// TestWebSessionsAcrossStores: two stores on one database (two replicas)
// see each other's sessions, sign-ins under way and rate limits.
func TestWebSessionsAcrossStores(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			u := "sqlite://" + filepath.Join(t.TempDir(), "replicas.db")
			if name == "postgres" {
				u = storetest.PostgresURL(t)
			}
			ctx := context.Background()
			a, b := openTwice(t, ctx, u)
			user := sessionUsers(t, a, 1)[0]
			bounds := SessionBounds{Idle: time.Hour, Max: time.Hour, PerUser: 5, Total: 100}
			now := time.Now()
			if err := a.CreateSession(ctx, "shared", tokenSession(t, user, now), bounds); err != nil {
				t.Fatal(err)
			}
			if got, err := b.Session(ctx, "shared", now, bounds); err != nil || got.UserID != user {
				t.Fatalf("the other replica: %+v, %v", got, err)
			}
			if err := b.EndSession(ctx, "shared"); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Session(ctx, "shared", now, bounds); !errors.Is(err, ErrNotFound) {
				t.Errorf("a session ended on the other replica: %v", err)
			}
			if err := a.BeginSignInFlow(ctx, "st", SignInFlow{Nonce: "n", Verifier: "v", Started: now}, time.Minute, 10); err != nil {
				t.Fatal(err)
			}
			if _, err := b.TakeSignInFlow(ctx, "st", now, time.Minute); err != nil {
				t.Errorf("a sign-in begun on the other replica: %v", err)
			}
			l := RateLimit{Scope: "client", Every: time.Minute, Burst: 2, Max: 10}
			a.TakeRate(ctx, l, "10.0.0.1", now)
			b.TakeRate(ctx, l, "10.0.0.1", now)
			if _, ok, _ := a.TakeRate(ctx, l, "10.0.0.1", now); ok {
				t.Error("the replicas' attempts are not counted together")
			}
		})
	}
}
