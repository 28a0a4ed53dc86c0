package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"caserisk/serve/api/problem"
	"caserisk/serve/auth"
)

// Context keys of values the middleware hands to handlers.
const (
	keyRequestID = "caserisk.request_id"
	keyPrincipal = "caserisk.principal"
	keyUserID    = "caserisk.user_id"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-ID"

// validRequestID accepts a caller's request id of 1–64 characters from
// [A-Za-z0-9._-]; anything else is replaced, so ids are safe to log.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b[:])
}

// requestID gives every request an id, taken from X-Request-ID when the
// caller sent a well-formed one, and returns it in the response header.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		c.Set(keyRequestID, id)
		c.Header(RequestIDHeader, id)
		c.Next()
	}
}

// reqID returns the request's id.
func reqID(c *gin.Context) string { return c.GetString(keyRequestID) }

// observe logs each request (route template, status, latency, request id,
// user id: never a body, the raw path or a query) and records its metrics.
func (s *Server) observe() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		elapsed := time.Since(start)
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		s.metrics.observe(c.Request.Method, route, status, elapsed)
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		if !s.log.Enabled(c.Request.Context(), level) {
			return
		}
		s.log.LogAttrs(c.Request.Context(), level, "request",
			slog.String("request_id", reqID(c)),
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("latency_ms", float64(elapsed.Microseconds())/1000),
			slog.Int64("user_id", c.GetInt64(keyUserID)),
			slog.Int("bytes_out", c.Writer.Size()),
		)
	}
}

// closeWhileDraining answers with Connection: close once shutdown has
// started, so that clients and the load balancer take their next request
// to another replica rather than to a connection about to close.
func (s *Server) closeWhileDraining() gin.HandlerFunc {
	return func(c *gin.Context) {
		select {
		case <-s.draining:
			c.Header("Connection", "close")
		default:
		}
		c.Next()
	}
}

// recoverProblem turns a panic in a handler into a 500 problem and logs it
// without the request's data.
func (s *Server) recoverProblem() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("handler panic", "request_id", reqID(c), "route", c.FullPath(), "panic", fmt.Sprint(r))
				s.fail(c, problem.New(http.StatusInternalServerError, "internal error; quote request id %s", reqID(c)))
			}
		}()
		c.Next()
	}
}

// fail writes p (with the request id and the path template as instance)
// and stops the handler chain.
func (s *Server) fail(c *gin.Context, p *problem.Problem) {
	p.RequestID = reqID(c)
	if p.Instance == "" {
		p.Instance = c.FullPath()
	}
	c.Abort()
	problem.Write(c.Writer, p)
}

// internal reports an unexpected error as 500 (or 503 when the database is
// unreachable or the request was cancelled) without its text, and logs it.
func (s *Server) internal(c *gin.Context, what string, err error) {
	s.log.Error(what, "request_id", reqID(c), "route", c.FullPath(), "err", err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		s.fail(c, problem.New(http.StatusServiceUnavailable, "%s: the request was cancelled or timed out", what))
		return
	}
	s.fail(c, problem.New(http.StatusInternalServerError, "%s failed; quote request id %s", what, reqID(c)))
}

// authenticate resolves the bearer token to a user or answers 401. Every
// answer to an authenticated route may hold personal data or scores, so
// none may be stored by a browser or a proxy: Cache-Control: no-store.
func (s *Server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		tok, err := auth.ParseBearer(c.GetHeader("Authorization"))
		if err != nil {
			s.unauthorized(c, err)
			return
		}
		p, err := s.tokens.authenticate(c.Request.Context(), s.cfg.Store, tok)
		if err != nil {
			if errors.Is(err, auth.ErrUnauthenticated) {
				s.unauthorized(c, err)
				return
			}
			s.internal(c, "authenticate", err)
			return
		}
		c.Set(keyPrincipal, p)
		c.Set(keyUserID, p.UserID)
		c.Next()
	}
}

// unauthorized answers 401. The reason (missing, malformed, unknown token,
// disabled user) is logged at debug level but not told to the caller.
func (s *Server) unauthorized(c *gin.Context, err error) {
	s.log.Debug("unauthenticated", "request_id", reqID(c), "reason", err.Error())
	c.Header("WWW-Authenticate", `Bearer realm="caserisk"`)
	s.fail(c, problem.New(http.StatusUnauthorized, "a valid bearer token is required (Authorization: Bearer crk_…)"))
}

// principal returns the authenticated user.
func principal(c *gin.Context) auth.Principal {
	v, _ := c.Get(keyPrincipal)
	p, _ := v.(auth.Principal)
	return p
}

// tokenCache remembers verified tokens for a short time so that a busy
// scoring client does not cost a database read per request. It is keyed by
// the token's SHA-256, never the token. A disabled user's token stops
// working within the TTL.
type tokenCache struct {
	ttl time.Duration
	mu  sync.RWMutex
	m   map[[32]byte]cachedPrincipal
}

type cachedPrincipal struct {
	p       auth.Principal
	expires time.Time
}

// maxCachedTokens bounds the cache; when full it is emptied.
const maxCachedTokens = 10000

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, m: make(map[[32]byte]cachedPrincipal)}
}

func (tc *tokenCache) authenticate(ctx context.Context, lookup auth.TokenLookup, tok string) (auth.Principal, error) {
	if tc.ttl < 0 {
		return auth.Authenticate(ctx, lookup, tok)
	}
	key := sha256.Sum256([]byte(tok))
	now := time.Now()
	tc.mu.RLock()
	e, ok := tc.m[key]
	tc.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.p, nil
	}
	p, err := auth.Authenticate(ctx, lookup, tok)
	if err != nil {
		return p, err
	}
	tc.mu.Lock()
	if len(tc.m) >= maxCachedTokens {
		clear(tc.m)
	}
	tc.m[key] = cachedPrincipal{p: p, expires: now.Add(tc.ttl)}
	tc.mu.Unlock()
	return p, nil
}

// queryInt reads an optional whole-number query parameter within [lo, hi],
// answering 400 naming it when it is malformed.
func (s *Server) queryInt(c *gin.Context, name string, def, lo, hi int) (int, bool) {
	raw, ok := c.GetQuery(name)
	if !ok || raw == "" {
		return def, true
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < lo || v > hi {
		s.fail(c, problem.Invalid(problem.FieldError{Field: name, Detail: fmt.Sprintf("must be a whole number from %d to %d", lo, hi)}))
		return 0, false
	}
	return v, true
}

// flush forgets every cached token, so a user disabled (or given a new
// token) through the core is checked against the store on their next
// request.
func (tc *tokenCache) flush() {
	tc.mu.Lock()
	clear(tc.m)
	tc.mu.Unlock()
}
