package web

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sign-in rate limits. Every attempt with a well-formed token counts
// against the token's user (its prefix): a burst of userBurst, then one
// per userEvery. Failed attempts (a malformed or unknown token) count
// against the client's address: a burst of clientBurst, then one per
// clientEvery; a client over it is refused until it has waited. A user
// signing in again and again, or a client guessing tokens, is slowed down
// without slowing anyone else, colleagues behind the same address
// included (their attempts succeed and do not count against it).
const (
	userBurst   = 30
	userEvery   = 2 * time.Second
	clientBurst = 30
	clientEvery = 2 * time.Second
	// maxLimited bounds each table of limiters; when full, the limiters
	// back at their full burst are dropped, else the one unused longest.
	maxLimited = 10000
)

// signInLimits holds the per-user and per-client sign-in limiters.
type signInLimits struct {
	now    func() time.Time
	mu     sync.Mutex
	users  map[string]*limited
	client map[string]*limited
}

// limited is one key's limiter and when it was last used.
type limited struct {
	lim  *rate.Limiter
	used time.Time
}

func newSignInLimits(now func() time.Time) *signInLimits {
	return &signInLimits{now: now, users: map[string]*limited{}, client: map[string]*limited{}}
}

// get returns key's limiter in m, making it (every, burst) when new.
func (l *signInLimits) get(m map[string]*limited, key string, every time.Duration, burst int, now time.Time) *rate.Limiter {
	e, ok := m[key]
	if !ok {
		if len(m) >= maxLimited {
			var oldest string
			for k, o := range m {
				if o.lim.TokensAt(now) >= float64(o.lim.Burst()) {
					delete(m, k)
				} else if oldest == "" || o.used.Before(m[oldest].used) {
					oldest = k
				}
			}
			if len(m) >= maxLimited {
				delete(m, oldest)
			}
		}
		e = &limited{lim: rate.NewLimiter(rate.Every(every), burst)}
		m[key] = e
	}
	e.used = now
	return e.lim
}

// userAttempt counts an attempt with the user's token prefix; it returns
// false and how long to wait when the user is over the limit.
func (l *signInLimits) userAttempt(prefix string) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.get(l.users, prefix, userEvery, userBurst, now)
	if lim.AllowN(now, 1) {
		return 0, true
	}
	return waitFor(lim, now), false
}

// clientBlocked reports (false, how long to wait) when the client has
// used up its failed attempts.
func (l *signInLimits) clientBlocked(client string) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.client[client]
	if !ok || e.lim.TokensAt(now) >= 1 {
		return 0, true
	}
	return waitFor(e.lim, now), false
}

// clientFailed counts a failed attempt against the client.
func (l *signInLimits) clientFailed(client string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.get(l.client, client, clientEvery, clientBurst, now).AllowN(now, 1)
}

// waitFor is how long until lim has a token again.
func waitFor(lim *rate.Limiter, now time.Time) time.Duration {
	missing := 1 - lim.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(lim.Limit()) * float64(time.Second))
}
