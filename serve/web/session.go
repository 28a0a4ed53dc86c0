package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/core"
)

// Cookie names.
const (
	sessionCookie = "caserisk_session"
	// preCookie carries the sign-in form's CSRF token before a session
	// exists (double submit: the form must echo the cookie).
	preCookie = "caserisk_signin"
	csrfField = "csrf_token"
	keySess   = "caserisk.web.session"
)

// Bounds of the session store. One user may hold maxPerUser sessions (a
// new sign-in ends their oldest); the store holds at most maxSessions, and
// when full it ends the session unused for longest, so no sign-in is ever
// refused because the store is full: one user cannot lock others out.
const (
	maxSessions = 10000
	maxPerUser  = 5
)

// session is a signed-in user's server-side state.
type session struct {
	id      string
	token   string // the bearer token, re-checked on every request
	csrf    string
	user    auth.Principal
	created time.Time
	seen    time.Time
	ext     *externalSession // a provider's sign-in (oidc.go); nil for a token's
}

// sessions is the in-memory session table.
type sessions struct {
	idle, max time.Duration
	now       func() time.Time
	mu        sync.Mutex
	m         map[string]*session
	byUser    map[int64][]string // each user's session ids, oldest first
}

func newSessions(idle, max time.Duration, now func() time.Time) *sessions {
	return &sessions{idle: idle, max: max, now: now, m: make(map[string]*session), byUser: make(map[int64][]string)}
}

// randomID returns 32 random bytes, URL-safe base64.
func randomID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for user, authenticated by token, ending the
// user's oldest sessions beyond maxPerUser and, when the store is full,
// the expired ones or else the one unused for longest.
func (ss *sessions) create(token string, user auth.Principal) *session {
	now := ss.now()
	s := &session{id: randomID(), token: token, csrf: randomID(), user: user, created: now, seen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for ids := ss.byUser[user.UserID]; len(ids) >= maxPerUser; ids = ss.byUser[user.UserID] {
		ss.remove(ids[0])
	}
	if len(ss.m) >= maxSessions {
		var lru *session
		for _, o := range ss.m {
			if ss.expired(o, now) {
				ss.remove(o.id)
			} else if lru == nil || o.seen.Before(lru.seen) {
				lru = o
			}
		}
		if len(ss.m) >= maxSessions && lru != nil {
			ss.remove(lru.id)
		}
	}
	ss.m[s.id] = s
	ss.byUser[user.UserID] = append(ss.byUser[user.UserID], s.id)
	return s
}

// remove drops a session; ss.mu is held.
func (ss *sessions) remove(id string) {
	s, ok := ss.m[id]
	if !ok {
		return
	}
	delete(ss.m, id)
	ids := ss.byUser[s.user.UserID]
	for i, o := range ids {
		if o == id {
			ids = append(ids[:i:i], ids[i+1:]...)
			break
		}
	}
	if len(ids) == 0 {
		delete(ss.byUser, s.user.UserID)
	} else {
		ss.byUser[s.user.UserID] = ids
	}
}

// count returns the number of sessions held, and the user's.
func (ss *sessions) count(userID int64) (all, user int) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.m), len(ss.byUser[userID])
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	return now.Sub(s.seen) > ss.idle || now.Sub(s.created) > ss.max
}

// get returns the live session with id and marks it used.
func (ss *sessions) get(id string) (*session, bool) {
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[id]
	if !ok {
		return nil, false
	}
	if ss.expired(s, now) {
		ss.remove(id)
		return nil, false
	}
	s.seen = now
	cp := *s
	return &cp, true
}

// end removes a session.
func (ss *sessions) end(id string) {
	ss.mu.Lock()
	ss.remove(id)
	ss.mu.Unlock()
}

// setCookie writes a cookie that scripts cannot read, that is not sent on
// cross-site requests, and that is Secure when the request came over TLS.
func setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// sessionOf returns the request's session, set by withUser.
func sessionOf(c *gin.Context) (*session, bool) {
	v, ok := c.Get(keySess)
	if !ok {
		return nil, false
	}
	s, ok := v.(*session)
	return s, ok
}

// principalOf returns the signed-in user.
func principalOf(c *gin.Context) auth.Principal {
	if s, ok := sessionOf(c); ok {
		return s.user
	}
	return auth.Principal{}
}

// withUser wraps a handler for signed-in users: it finds the session,
// re-checks its token against the store (a disabled user is signed out),
// and checks the CSRF token of a POST. Without a session it sends the
// browser to sign in.
func (p *pages) withUser(h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := c.Cookie(sessionCookie)
		var s *session
		ok := err == nil
		if ok {
			s, ok = p.sessions.get(id)
		}
		if ok {
			u, err := p.recheck(c.Request.Context(), s)
			switch {
			case errors.Is(err, auth.ErrUnauthenticated):
				p.sessions.end(s.id)
				ok = false
			case err != nil:
				p.failed(c, "check your sign-in", err)
				return
			default:
				s.user = u
			}
		}
		if !ok {
			setCookie(c, sessionCookie, "", -1)
			if c.Request.Method == http.MethodGet {
				c.Redirect(http.StatusSeeOther, "/sign-in")
				c.Abort()
				return
			}
			p.errorPage(c, http.StatusUnauthorized, "You are signed out", "Your session has ended. Sign in again and repeat the change.")
			return
		}
		c.Set(keySess, s)
		if c.Request.Method == http.MethodPost && !sameToken(c.PostForm(csrfField), s.csrf) {
			p.errorPage(c, http.StatusForbidden, "The form has expired",
				"The form did not carry this session's security token. Go back, reload the page and try again.")
			return
		}
		h(c)
	}
}

// sameToken compares two secrets in constant time; empty never matches.
func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// recordSignIn writes the sign-in's audit row through the core.
func (p *pages) recordSignIn(ctx context.Context, u auth.Principal, reqID string) error {
	return p.core.Record(ctx, core.ActorOf(u, reqID), audit.SignIn, "session")
}

// signInForm shows the sign-in page with a fresh double-submit token.
func (p *pages) signInForm(c *gin.Context) {
	tok := randomID()
	setCookie(c, preCookie, tok, 3600)
	p.render(c, http.StatusOK, "signin", view{Title: "Sign in", CSRF: tok, Data: p.signInData()})
}

// signIn checks the token, starts a session and sends the user to their
// start page.
func (p *pages) signIn(c *gin.Context) {
	pre, err := c.Cookie(preCookie)
	if err != nil || !sameToken(c.PostForm(csrfField), pre) {
		p.errorPage(c, http.StatusForbidden, "The form has expired", "Go back to the sign-in page, reload it and try again.")
		return
	}
	retry := func(msg string) {
		tok := randomID()
		setCookie(c, preCookie, tok, 3600)
		p.render(c, http.StatusUnauthorized, "signin", view{Title: "Sign in", CSRF: tok, Data: p.signInData(), Errors: []fieldErr{{Field: "token", Msg: msg}}})
	}
	client := c.RemoteIP()
	if wait, ok := p.limits.clientBlocked(client); !ok {
		p.tooMany(c, wait)
		return
	}
	raw := c.PostForm("token")
	if raw == "" {
		retry("Enter your access token")
		return
	}
	tok, err := auth.ParseBearer("Bearer " + raw)
	if err != nil {
		p.limits.clientFailed(client)
		retry("Enter an access token in the right form: it starts with crk_")
		return
	}
	if wait, ok := p.limits.userAttempt(auth.PrefixOf(tok)); !ok {
		p.tooMany(c, wait)
		return
	}
	u, err := auth.Authenticate(c.Request.Context(), p.tokens, tok)
	if errors.Is(err, auth.ErrUnauthenticated) {
		p.limits.clientFailed(client)
		retry("The access token is not recognised or has been withdrawn")
		return
	}
	if err != nil {
		p.failed(c, "check your access token", err)
		return
	}
	s := p.sessions.create(tok, u)
	if err := p.recordSignIn(c.Request.Context(), u, reqID(c)); err != nil {
		p.sessions.end(s.id)
		p.failed(c, "record your sign-in in the audit log", err)
		return
	}
	setCookie(c, preCookie, "", -1)
	setCookie(c, sessionCookie, s.id, 0)
	c.Redirect(http.StatusSeeOther, "/")
}

// tooMany answers a sign-in over its rate limit.
func (p *pages) tooMany(c *gin.Context, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	c.Header("Retry-After", strconv.Itoa(secs))
	p.errorPage(c, http.StatusTooManyRequests, "Too many sign-in attempts",
		fmt.Sprintf("Wait %d seconds, then sign in again.", secs))
}

// signOut ends the session.
func (p *pages) signOut(c *gin.Context) {
	s, _ := sessionOf(c)
	p.sessions.end(s.id)
	setCookie(c, sessionCookie, "", -1)
	if p.oidcSignedOut(c, s) {
		return
	}
	c.Redirect(http.StatusSeeOther, "/sign-in")
}
