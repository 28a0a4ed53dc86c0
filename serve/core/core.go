// Package core is caserisk's application core: every operation on people's
// data and on the model registry, with the purpose policy, the audit log and
// the target catalogue applied once. The API (serve/api), the web pages
// (serve/web), the command line (cmd/caserisk) and the demo (serve/demo)
// are adapters: they parse a request, call the core with the Actor who asks,
// and render what it returns. A front end cannot forget a rule, because the
// rules are not in the front ends:
//
//   - who may do what: each method checks the actor's role against the
//     policy (auth.Policy) and returns an error wrapping ErrForbidden;
//   - what a role sees: resident details, single-view services and score
//     targets are filtered here by the same policy, so a caseworker's page
//     and API answer hold the same data;
//   - what is audited: each method that reads people's data or changes
//     anything writes its audit row (the vocabulary of serve/audit) with
//     the role's purpose, and returns ErrAudit without the data when the row
//     cannot be stored: an unaudited read is never served;
//   - who the users are: a person an OpenID Connect provider vouched for
//     is found by issuer and subject, created at their first sign-in and
//     given the role of their groups there (SignInExternal), and refused
//     when disabled here or in no mapped group;
//   - registry rules: a registered model must load and predict its target,
//     the same bytes registered twice give the existing version, and a
//     promotion loads the model first or is refused.
//
// The core takes the store's parts it works with (store.Registry,
// store.Cases, …) through Config.Store, a store.Store.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"caserisk/serve/api/champion"
	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// Errors the core returns, wrapped with context; test with errors.Is. The
// store's ErrNotFound, ErrInvalid (a *store.FieldError names the field),
// ErrTransition and ErrConflict pass through.
var (
	// ErrForbidden: the actor's role may not do this (see *ForbiddenError).
	ErrForbidden = errors.New("forbidden")
	// ErrAudit: the audit row could not be written, so nothing was done or
	// shown; the caller may try again.
	ErrAudit = errors.New("the audit log cannot be written")
	// ErrArtifact: a model's artifact does not load or does not predict
	// its target.
	ErrArtifact = errors.New("artifact does not load")
	// ErrUnavailable: the operation needs something this service was not
	// started with (for example score runs without extracts).
	ErrUnavailable = errors.New("not available")
)

// ForbiddenError says which role lacked which permission for what.
type ForbiddenError struct {
	Role auth.Role
	Need auth.Permission // "" when no single permission would do
	What string          // what was asked, for people ("the tenancy fraud queue")
}

func (e *ForbiddenError) Error() string {
	if e.Need == "" {
		return fmt.Sprintf("the %s role may not see %s", e.Role, e.What)
	}
	return fmt.Sprintf("the %s role may not do this (needs %s)", e.Role, e.Need)
}

// Unwrap makes errors.Is(err, ErrForbidden) true.
func (e *ForbiddenError) Unwrap() error { return ErrForbidden }

// Actor is who asks: a signed-in user, or the operator running a command.
type Actor struct {
	UserID    int64 // 0 for the operator
	Name      string
	Role      auth.Role
	RequestID string // joins the audit row to the service log; "" for commands
}

// ActorOf returns the actor of an authenticated principal.
func ActorOf(p auth.Principal, requestID string) Actor {
	return Actor{UserID: p.UserID, Name: p.Name, Role: p.Role, RequestID: requestID}
}

// Operator returns the actor of a command run on the server by name (the
// CLI's --by, the pipeline, the demo).
func Operator(name string) Actor {
	if name == "" {
		name = "operator"
	}
	return Actor{Name: name, Role: auth.Operator}
}

// Runner runs batch score runs; serve/batch provides one.
type Runner interface {
	// Run scores every entity of each target as of req.AsOf with the
	// target's champion and opens cases for the top req.Capacity (0: the
	// runner's default). It is idempotent per target, as-of date and
	// model version, and runs under the claims req.Claim takes.
	Run(ctx context.Context, req RunRequest) ([]store.ScoreRun, error)
	// Coverage returns the dates the runner's data covers: when its
	// history starts and its extract date (YYYY-MM-DD).
	Coverage(ctx context.Context) (from, to string, err error)
}

// RunRequest is one score run for a Runner.
type RunRequest struct {
	AsOf     string // YYYY-MM-DD, within the runner's Coverage
	Capacity int
	Targets  []store.Target // nil: every target
	// Claim says who runs it, whether to take over a live run (Force),
	// and audits a takeover (OnTakeover); the runner passes it to every
	// claim it takes.
	Claim store.ClaimOptions
}

// Config configures a Core. Store is required.
type Config struct {
	Store  store.Store
	Policy auth.Policy     // nil: auth.DefaultPolicy()
	Load   champion.Loader // nil: champion.LoadArtifact
	Runner Runner          // nil: score runs answer ErrUnavailable
	Logger *slog.Logger    // nil: discard
	// Now is the clock of audit rows; nil: time.Now.
	Now func() time.Time
	// OnPromote, when set, is called with each champion the core promotes,
	// after the registry is updated (the API swaps it in at once).
	OnPromote func(*champion.Champion)
	// OnUserChange, when set, is called after a user is disabled or
	// enabled or gets a token (the API drops its cached tokens).
	OnUserChange func(userID int64)
	// OnAuditBatch, when set, observes each audit write: rows and error.
	OnAuditBatch func(rows int, err error)
}

// Core is the application core. Its methods are safe for concurrent use.
// Close it to flush the audit writer.
type Core struct {
	st     store.Store
	policy auth.Policy
	load   champion.Loader
	runner Runner
	log    *slog.Logger
	now    func() time.Time
	cfg    Config
	audit  *auditWriter
}

// New returns a core over cfg.Store.
func New(cfg Config) (*Core, error) {
	if cfg.Store == nil {
		return nil, errors.New("core: Config.Store is required")
	}
	if cfg.Policy == nil {
		cfg.Policy = auth.DefaultPolicy()
	}
	if cfg.Load == nil {
		cfg.Load = champion.LoadArtifact
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Core{st: cfg.Store, policy: cfg.Policy, load: cfg.Load, runner: cfg.Runner, log: cfg.Logger, now: cfg.Now, cfg: cfg}
	c.audit = newAuditWriter(cfg.Store, cfg.OnAuditBatch, cfg.Logger)
	return c, nil
}

// Close writes the audit rows still queued and stops the writer.
func (c *Core) Close() error {
	c.audit.close()
	return nil
}

// Policy returns the purpose rules in force.
func (c *Core) Policy() auth.Policy { return c.policy }

// Allows reports whether the actor's role has the permission: front ends
// use it to decide what to offer (a link, a button), never to guard data.
func (c *Core) Allows(a Actor, p auth.Permission) bool { return c.policy.Allows(a.Role, p) }

// Purpose returns the purpose written to the audit log for the actor.
func (c *Core) Purpose(a Actor) string { return c.policy.Purpose(a.Role) }

// require returns a *ForbiddenError unless the actor has one of perms.
func (c *Core) require(a Actor, perms ...auth.Permission) error {
	for _, p := range perms {
		if c.policy.Allows(a.Role, p) {
			return nil
		}
	}
	return &ForbiddenError{Role: a.Role, Need: perms[0]}
}

// record appends an audit row for the actor and waits for it.
func (c *Core) record(ctx context.Context, a Actor, action, resource string) error {
	return c.submit(ctx, a, action, resource)()
}

// submit queues an audit row and returns a wait that reports ErrAudit when
// it could not be stored: reads run while the row is written, and the data
// is returned only after the wait succeeds.
func (c *Core) submit(ctx context.Context, a Actor, action, resource string) func() error {
	wait := c.audit.submit(ctx, audit.Record{At: c.now(), UserID: a.UserID, User: a.Name, Role: string(a.Role),
		Action: action, Resource: resource, Purpose: c.policy.Purpose(a.Role), RequestID: a.RequestID})
	return func() error {
		if err := wait(); err != nil {
			c.log.Error("audit", "request_id", a.RequestID, "action", action, "err", err)
			return fmt.Errorf("%w: %w", ErrAudit, err)
		}
		return nil
	}
}

// Record writes an audit row for an action the core does not perform
// itself but that a front end must log in the same vocabulary (signing in
// and out of the pages). action must be one of audit.Actions.
func (c *Core) Record(ctx context.Context, a Actor, action, resource string) error {
	return c.record(ctx, a, action, resource)
}
