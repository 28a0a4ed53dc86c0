package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"caserisk/serve/auth"
	"caserisk/serve/store/storetest"
)

// changeLog collects the changes a watch reports.
type changeLog struct{ c chan Change }

func newChangeLog() *changeLog { return &changeLog{c: make(chan Change, 100)} }

func (l *changeLog) add(c Change) { l.c <- c }

// next returns the next change of kind within d, skipping others.
func (l *changeLog) next(t *testing.T, kind ChangeKind, d time.Duration) (Change, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := time.After(d)
	for {
		select {
		case c := <-l.c:
			if c.Kind == kind {
				return c, time.Since(start)
			}
		case <-deadline:
			t.Fatalf("no %s change within %s", kind, d)
			return Change{}, 0
		}
	}
}

// TestWatchChanges (PostgreSQL): a process watching the store hears, well
// within a second, a promotion and a user disabled or given another role
// by another process on the same database (another replica or the CLI); a
// store in another schema hears nothing of it; a lost connection is
// reported and, once back, reported as possibly missed changes; idle
// waits that end in a check of the connection lose nothing. SQLite
// answers ErrNoChanges.
func TestWatchChanges(t *testing.T) {
	// Idle waits end often, so the connection check between them runs.
	defer func(d time.Duration) { watchPing = d }(watchPing)
	watchPing = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lite, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if err := lite.WatchChanges(ctx, func(Change) {}); !errors.Is(err, ErrNoChanges) {
		t.Errorf("SQLite: %v, want ErrNoChanges", err)
	}

	u := storetest.PostgresURL(t)
	watcher, other := openTwice(t, ctx, u)
	elsewhere, err := Open(ctx, storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { elsewhere.Close() })

	heard, heardElsewhere := newChangeLog(), newChangeLog()
	done := make(chan error, 2)
	go func() { done <- watcher.WatchChanges(ctx, heard.add) }()
	go func() { done <- elsewhere.WatchChanges(ctx, heardElsewhere.add) }()
	heard.next(t, ChangeMissed, 5*time.Second)
	heardElsewhere.next(t, ChangeMissed, 5*time.Second)

	m, err := other.RegisterModel(ctx, testModel(ComplexCase))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.PromoteModel(ctx, ComplexCase, m.Version, "replica b"); err != nil {
		t.Fatal(err)
	}
	c, took := heard.next(t, ChangeChampion, time.Second)
	if c.Target != ComplexCase || c.Version != m.Version {
		t.Errorf("heard %+v, want complex_case v%d", c, m.Version)
	}
	t.Logf("promotion heard after %s", took)
	// Promoting the champion again changes nothing and says nothing.
	if _, err := other.PromoteModel(ctx, ComplexCase, m.Version, "replica b"); err != nil {
		t.Fatal(err)
	}

	usr, err := other.CreateUser(ctx, "watched.user", auth.Caseworker)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.SetUserDisabled(ctx, usr.ID, true); err != nil {
		t.Fatal(err)
	}
	c, took = heard.next(t, ChangeUser, time.Second)
	if c.UserID != usr.ID {
		t.Errorf("heard %+v, want user %d", c, usr.ID)
	}
	t.Logf("user disabled heard after %s", took)
	ext, err := other.CreateExternalUser(ctx, NewExternalUser{Issuer: testIssuer, Subject: "s-1", Name: "ext.user", Role: auth.Caseworker})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.UpdateExternalUser(ctx, ext.ID, "Ext User", auth.Caseworker); err != nil {
		t.Fatal(err)
	}
	if _, err := other.UpdateExternalUser(ctx, ext.ID, "Ext User", auth.Admin); err != nil {
		t.Fatal(err)
	}
	if c, _ := heard.next(t, ChangeUser, time.Second); c.UserID != ext.ID {
		t.Errorf("heard %+v, want user %d given another role", c, ext.ID)
	}
	select {
	case c := <-heard.c:
		t.Errorf("heard %+v: nothing else changed (a promotion again, a name kept with its role)", c)
	case c := <-heardElsewhere.c:
		t.Errorf("a store in another schema heard %+v", c)
	case <-time.After(300 * time.Millisecond):
	}

	// The watch's connection is cut: it says so, comes back by itself and
	// says changes may have been missed.
	raw, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var cut int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'caserisk_changes:' || current_schema()`).Scan(&cut); err != nil || cut != 1 {
		t.Fatalf("cut %d watch connections (%v), want 1", cut, err)
	}
	heard.next(t, ChangeLost, 10*time.Second)
	heard.next(t, ChangeMissed, 5*time.Second)
	if err := other.SetUserDisabled(ctx, usr.ID, false); err != nil {
		t.Fatal(err)
	}
	heard.next(t, ChangeUser, time.Second)

	cancel()
	for range 2 {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("watch ended with %v, want context.Canceled", err)
		}
	}
}

func TestParseChange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Change
		ok   bool
	}{
		{"user 12", Change{Kind: ChangeUser, UserID: 12}, true},
		{"champion tenancy_fraud 3", Change{Kind: ChangeChampion, Target: TenancyFraud, Version: 3}, true},
		{"champion nobody 3", Change{}, false},
		{"user x", Change{}, false},
		{"user", Change{}, false},
		{"", Change{}, false},
		{"missed", Change{}, false},
	} {
		got, err := parseChange(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseChange(%q) = %+v, %v", tc.in, got, err)
		}
	}
}
