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
	"time"

	"github.com/gin-gonic/gin"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
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
	id   string
	csrf string
	user auth.Principal // the user id as stored; name and role as rechecked
	// tokenPrefix and tokenHash identify the access token a token session
	// signed in with, re-checked on every request; never the token.
	tokenPrefix string
	tokenHash   [32]byte
	ext         *externalSession // a provider's sign-in (oidc.go); nil for a token's
}

// sessions keeps the sessions in the database (store.WebSessions): any
// replica of the service serves any signed-in user, and a sign-out or an
// ended session is seen by all of them at once. The database holds the
// SHA-256 of each session id, never the id.
type sessions struct {
	st     store.WebSessions
	bounds store.SessionBounds
	now    func() time.Time
}

func newSessions(st store.WebSessions, idle, max time.Duration, now func() time.Time) *sessions {
	return &sessions{st: st, now: now,
		bounds: store.SessionBounds{Idle: idle, Max: max, PerUser: maxPerUser, Total: maxSessions}}
}

// randomID returns 32 random bytes, URL-safe base64.
func randomID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for user, authenticated by token (a token
// session) or by a provider (ext set, token ""); the store ends the
// user's oldest sessions beyond maxPerUser and, when full, the ended ones
// or else the one unused for longest.
func (ss *sessions) create(ctx context.Context, token string, user auth.Principal, ext *externalSession) (*session, error) {
	s := &session{id: randomID(), csrf: randomID(), user: user, ext: ext}
	ws := store.WebSession{UserID: user.UserID, CSRF: s.csrf, Created: ss.now()}
	if ext != nil {
		ws.External, ws.IDToken = true, ext.idToken
	} else {
		s.tokenPrefix, s.tokenHash = auth.PrefixOf(token), auth.HashToken(token)
		ws.TokenPrefix, ws.TokenHash = s.tokenPrefix, s.tokenHash
	}
	if err := ss.st.CreateSession(ctx, s.id, ws, ss.bounds); err != nil {
		return nil, err
	}
	return s, nil
}

// count returns the number of sessions held, and the user's.
func (ss *sessions) count(ctx context.Context, userID int64) (all, user int, err error) {
	return ss.st.SessionCounts(ctx, userID)
}

// get returns the live session with id and marks it used; ok is false
// when there is none (or it ended), err when the store fails.
func (ss *sessions) get(ctx context.Context, id string) (s *session, ok bool, err error) {
	ws, err := ss.st.Session(ctx, id, ss.now(), ss.bounds)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	s = &session{id: id, csrf: ws.CSRF, user: auth.Principal{UserID: ws.UserID}, tokenPrefix: ws.TokenPrefix, tokenHash: ws.TokenHash}
	if ws.External {
		s.ext = &externalSession{idToken: ws.IDToken}
	}
	return s, true, nil
}

// end removes a session.
func (ss *sessions) end(ctx context.Context, id string) error {
	return ss.st.EndSession(ctx, id)
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
		ctx := c.Request.Context()
		id, err := c.Cookie(sessionCookie)
		var s *session
		ok := err == nil && id != ""
		if ok {
			if s, ok, err = p.sessions.get(ctx, id); err != nil {
				p.failed(c, "check your sign-in", err)
				return
			}
		}
		if ok {
			u, err := p.recheck(ctx, s)
			switch {
			case errors.Is(err, auth.ErrUnauthenticated):
				if err := p.sessions.end(ctx, s.id); err != nil {
					p.failed(c, "end your session", err)
					return
				}
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
	ctx := c.Request.Context()
	client := c.RemoteIP()
	if wait, ok, err := p.limits.clientBlocked(ctx, client); err != nil {
		p.failed(c, "check your sign-in attempts", err)
		return
	} else if !ok {
		p.tooMany(c, wait)
		return
	}
	clientFailed := func() bool {
		if err := p.limits.clientFailed(ctx, client); err != nil {
			p.failed(c, "count your sign-in attempts", err)
			return false
		}
		return true
	}
	raw := c.PostForm("token")
	if raw == "" {
		retry("Enter your access token")
		return
	}
	tok, err := auth.ParseBearer("Bearer " + raw)
	if err != nil {
		if clientFailed() {
			retry("Enter an access token in the right form: it starts with crk_")
		}
		return
	}
	if wait, ok, err := p.limits.userAttempt(ctx, auth.PrefixOf(tok)); err != nil {
		p.failed(c, "check your sign-in attempts", err)
		return
	} else if !ok {
		p.tooMany(c, wait)
		return
	}
	u, err := auth.Authenticate(ctx, p.tokens, tok)
	if errors.Is(err, auth.ErrUnauthenticated) {
		if clientFailed() {
			retry("The access token is not recognised or has been withdrawn")
		}
		return
	}
	if err != nil {
		p.failed(c, "check your access token", err)
		return
	}
	s, err := p.sessions.create(ctx, tok, u, nil)
	if err != nil {
		p.failed(c, "start your session", err)
		return
	}
	if err := p.recordSignIn(ctx, u, reqID(c)); err != nil {
		if err := p.sessions.end(ctx, s.id); err != nil {
			p.o.Logger.Error("end a session whose sign-in was not audited", "request_id", reqID(c), "err", err)
		}
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
	if err := p.sessions.end(c.Request.Context(), s.id); err != nil {
		p.failed(c, "sign you out", err)
		return
	}
	setCookie(c, sessionCookie, "", -1)
	if p.oidcSignedOut(c, s) {
		return
	}
	c.Redirect(http.StatusSeeOther, "/sign-in")
}
