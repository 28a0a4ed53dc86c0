// Package api is the scoring service's HTTP API under /api/v1: scoring
// feature rows with the champion model, the residents' single view and
// risk, the case queues and their workflow, the model registry, batch score
// runs, label export and the audit log, with health, readiness and
// Prometheus metrics beside them.
//
// Every response is JSON; every error is an RFC 9457 problem document
// (package problem) naming the field at fault. Callers authenticate with a
// bearer token; the purpose rules (auth.Policy) decide what each role may
// see, and every read of a resident's data or score is written to the
// tamper-evident audit log before the data leaves the service.
//
// The request log (log/slog) holds the route template, status, latency,
// request id and user id: never a body, a path with an identifier in it, or
// any personal data.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"caserisk/serve/api/champion"
	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// Runner runs batch score runs for POST /api/v1/score-runs; the batch
// package provides one.
type Runner = core.Runner

// Config configures a Server. Store and Load are required.
type Config struct {
	Store  store.Store
	Load   champion.Loader // turns a registered artifact into a model
	Runner Runner          // nil: POST /score-runs answers 503
	Logger *slog.Logger    // nil: discard
	Policy auth.Policy     // nil: auth.DefaultPolicy()

	MaxBodyBytes int64         // largest request body; 0: DefaultMaxBodyBytes
	MaxRows      int           // most rows in one POST /score; 0: DefaultMaxRows
	MaxReasons   int           // largest "reasons"; 0: 10
	AuthCacheTTL time.Duration // how long a verified token is trusted without the store; 0: 10s, <0: never cached
	// RefreshEvery is how often Run re-reads the registry for champions
	// promoted outside this process (caserisk models promote); 0: 5s. On
	// PostgreSQL the service also LISTENs for changes (store.Changes), so
	// promotions and disabled users elsewhere are seen within a second;
	// the poll stays as a safety net.
	RefreshEvery time.Duration
	// DrainDelay is how long the service keeps serving after shutdown
	// starts and readiness turns 503, so that a load balancer checking
	// /readyz stops sending it requests before it stops listening; 0: none.
	DrainDelay time.Duration
	// ShutdownGrace bounds the wait for requests in flight on shutdown; 0: 15s.
	ShutdownGrace time.Duration
	// ReadyTimeout bounds the database check of /readyz; 0: 2s.
	ReadyTimeout time.Duration
	// Pages, when set, mounts more routes (the web pages of package web) on
	// the engine after the API's, with the Server for its store, purpose
	// rules, audit log and champions.
	Pages func(s *Server, e *gin.Engine)
}

// The defaults of POST /score's limits. DefaultMaxRows rows must fit in
// DefaultMaxBodyBytes: the widest model of the default feature spec (the
// resident targets: 53 features, 1,205 bytes of names) costs at most 2,691
// bytes a row written as {"name": value, ...} with every value at full
// float64 precision (24 characters, e.g. -2.2250738585072014e-308), so
// 1,000 rows take at most 2.7 MB of the 4 MiB (TestDefaultMaxRowsFit
// checks this against the spec built in).
const (
	DefaultMaxRows      = 1000
	DefaultMaxBodyBytes = 4 << 20
)

func (c *Config) defaults() error {
	if c.Store == nil {
		return errors.New("api: Config.Store is required")
	}
	if c.Load == nil {
		return errors.New("api: Config.Load is required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Policy == nil {
		c.Policy = auth.DefaultPolicy()
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxRows <= 0 {
		c.MaxRows = DefaultMaxRows
	}
	if c.MaxReasons <= 0 {
		c.MaxReasons = 10
	}
	if c.AuthCacheTTL == 0 {
		c.AuthCacheTTL = 10 * time.Second
	}
	if c.RefreshEvery <= 0 {
		c.RefreshEvery = 5 * time.Second
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 15 * time.Second
	}
	if c.DrainDelay < 0 {
		c.DrainDelay = 0
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 2 * time.Second
	}
	return nil
}

// Server is the HTTP API. Create it with New, serve it with Run (or mount
// Handler), and Close it when done.
type Server struct {
	cfg       Config
	log       *slog.Logger
	engine    *gin.Engine
	champions *champion.Holder
	metrics   *metrics
	tokens    *tokenCache
	core      *core.Core
	draining  chan struct{} // closed when shutdown starts
	drainOnce func()
	promoteMu sync.Mutex // serialises champion changes
	doc       []byte     // the OpenAPI document
}

// New returns a server; it loads the current champions from the registry
// (a target without one answers 503 until a model is promoted).
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		champions: &champion.Holder{},
		metrics:   newMetrics(),
		tokens:    newTokenCache(cfg.AuthCacheTTL),
		draining:  make(chan struct{}),
	}
	s.drainOnce = sync.OnceFunc(func() { close(s.draining) })
	if p, ok := cfg.Store.(dbStats); ok {
		s.metrics.registerPool(p)
	}
	var err error
	s.core, err = core.New(core.Config{Store: cfg.Store, Policy: cfg.Policy, Load: cfg.Load, Runner: cfg.Runner, Logger: cfg.Logger,
		OnPromote:    s.install,
		OnUserChange: func(int64) { s.tokens.flush() },
		// (Other processes' changes arrive through watchChanges.)
		OnAuditBatch: func(rows int, err error) {
			s.metrics.auditBatch.Observe(float64(rows))
			if err != nil {
				s.metrics.auditErrors.Inc()
			}
		}})
	if err != nil {
		return nil, err
	}
	if err := s.Refresh(ctx); err != nil {
		s.core.Close()
		return nil, err
	}
	s.engine = s.routes()
	return s, nil
}

// Handler returns the HTTP handler of the whole service.
func (s *Server) Handler() http.Handler { return s.engine }

// Registry returns the Prometheus registry the server reports to.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// Close stops the audit writer after writing what it holds.
func (s *Server) Close() error {
	return s.core.Close()
}

// Refresh loads each target's champion from the registry if it differs
// from the one held. A target with no champion keeps none; a champion that
// fails to load is reported and the previous one keeps scoring.
func (s *Server) Refresh(ctx context.Context) error {
	s.promoteMu.Lock()
	defer s.promoteMu.Unlock()
	// A cheap read of the champion versions first: artifacts are loaded
	// only for a target whose champion changed.
	versions, err := s.cfg.Store.ChampionVersions(ctx)
	if err != nil {
		return fmt.Errorf("read champion versions: %w", err)
	}
	var errs []error
	for _, t := range store.Targets() {
		v, ok := versions[t]
		if cur := s.champions.Get(t); !ok || (cur != nil && cur.Version == v) {
			continue
		}
		m, err := s.cfg.Store.Champion(ctx, t)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s champion: %w", t, err))
			continue
		}
		if cur := s.champions.Get(t); cur != nil && cur.Version == m.Version {
			continue
		}
		c, err := champion.Load(s.cfg.Load, m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.install(c)
	}
	return errors.Join(errs...)
}

// install makes c its target's champion.
func (s *Server) install(c *champion.Champion) {
	old, err := s.champions.Set(c)
	if err != nil {
		s.log.Error("install champion", "target", string(c.Target), "err", err)
		return
	}
	s.metrics.championVersion.WithLabelValues(string(c.Target)).Set(float64(c.Version))
	oldV := 0
	if old != nil {
		oldV = old.Version
	}
	s.log.Info("champion installed", "target", string(c.Target), "version", c.Version, "previous", oldV)
}

// Run serves on addr until ctx is cancelled; see Serve.
func (s *Server) Run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled (SIGTERM), then drains:
// readiness turns 503 at once and the service keeps serving for
// DrainDelay (answering with Connection: close, so clients and the load
// balancer open their next connections elsewhere), then stops taking new
// connections and waits up to ShutdownGrace for the requests in flight to
// finish; a request in flight is never cut off by the signal itself.
// While serving it watches the database for changes made by other
// processes (PostgreSQL: LISTEN, see store.Changes) and polls the registry
// every RefreshEvery for champions promoted elsewhere. The caller closes
// the Server afterwards.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      30 * time.Minute, // a score run from the API can take minutes
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String())

	wctx, stopWatch := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		s.watchChanges(wctx)
	}()
	defer func() {
		stopWatch()
		<-watched
	}()

	tick := time.NewTicker(s.cfg.RefreshEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		case <-tick.C:
			rctx, cancel := context.WithTimeout(ctx, s.cfg.RefreshEvery)
			if err := s.Refresh(rctx); err != nil {
				s.log.Warn("refresh champions", "err", err)
			}
			cancel()
			continue
		case <-ctx.Done():
		}
		break
	}
	s.drainOnce()
	s.metrics.draining.Set(1)
	if s.cfg.DrainDelay > 0 {
		s.log.Info("draining: readiness answers 503; serving on so the load balancer stops sending requests",
			"drain_delay", s.cfg.DrainDelay.String())
		select {
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		case <-time.After(s.cfg.DrainDelay):
		}
	}
	s.log.Info("shutting down", "grace", s.cfg.ShutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	s.log.Info("stopped")
	return nil
}

// watchChanges acts on the changes other processes commit until ctx ends:
// a user changed drops the cached tokens, a champion changed is loaded,
// and after a (re)connection both are done, as changes may have been
// missed. On SQLite, which sends no changes, it returns at once: the poll
// of Serve and the token cache's time limit stand in.
func (s *Server) watchChanges(ctx context.Context) {
	w, ok := s.cfg.Store.(store.Changes)
	if !ok {
		return
	}
	refresh := func(why string) {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := s.Refresh(rctx); err != nil && ctx.Err() == nil {
			s.log.Warn("refresh champions", "after", why, "err", err)
		}
	}
	err := w.WatchChanges(ctx, func(c store.Change) {
		s.metrics.changes.WithLabelValues(string(c.Kind)).Inc()
		switch c.Kind {
		case store.ChangeUser:
			s.tokens.flush()
		case store.ChangeChampion:
			refresh("a promotion")
		case store.ChangeMissed:
			s.metrics.watching.Set(1)
			s.log.Info("watching the database for changes")
			s.tokens.flush()
			refresh("reconnecting")
		case store.ChangeLost:
			s.metrics.watching.Set(0)
			s.log.Warn("lost the database's change notifications; reconnecting (polling meanwhile)")
		}
	})
	if err != nil && !errors.Is(err, store.ErrNoChanges) && ctx.Err() == nil {
		s.log.Warn("watch the database for changes", "err", err)
	}
}
