package web

import (
	"context"
	"time"

	"caserisk/serve/store"
)

// Sign-in rate limits. Every attempt with a well-formed token counts
// against the token's user (its prefix): a burst of userBurst, then one
// per userEvery. Failed attempts (a malformed or unknown token) count
// against the client's address: a burst of clientBurst, then one per
// clientEvery; a client over it is refused until it has waited. A user
// signing in again and again, or a client guessing tokens, is slowed down
// without slowing anyone else, colleagues behind the same address
// included (their attempts succeed and do not count against it).
//
// The limiters live in the database (store.WebSessions), so the replicas
// of the service count every attempt together: a client gains nothing by
// landing on another replica.
const (
	userBurst   = 30
	userEvery   = 2 * time.Second
	clientBurst = 30
	clientEvery = 2 * time.Second
	// maxLimited bounds each table of limiters; when full, the limiters
	// back at their full burst are dropped, else the one unused longest.
	maxLimited = 10000
)

// signInLimits are the per-user and per-client sign-in limiters.
type signInLimits struct {
	st            store.WebSessions
	now           func() time.Time
	users, client store.RateLimit
}

func newSignInLimits(st store.WebSessions, now func() time.Time) *signInLimits {
	return &signInLimits{st: st, now: now,
		users:  store.RateLimit{Scope: "user", Every: userEvery, Burst: userBurst, Max: maxLimited},
		client: store.RateLimit{Scope: "client", Every: clientEvery, Burst: clientBurst, Max: maxLimited}}
}

// userAttempt counts an attempt with the user's token prefix; it returns
// false and how long to wait when the user is over the limit.
func (l *signInLimits) userAttempt(ctx context.Context, prefix string) (time.Duration, bool, error) {
	return l.st.TakeRate(ctx, l.users, prefix, l.now())
}

// clientBlocked reports (false, how long to wait) when the client has
// used up its failed attempts.
func (l *signInLimits) clientBlocked(ctx context.Context, client string) (time.Duration, bool, error) {
	wait, err := l.st.RateWait(ctx, l.client, client, l.now())
	return wait, wait == 0, err
}

// clientFailed counts a failed attempt against the client.
func (l *signInLimits) clientFailed(ctx context.Context, client string) error {
	_, _, err := l.st.TakeRate(ctx, l.client, client, l.now())
	return err
}
