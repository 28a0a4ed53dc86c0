// Package store provides the scoring service's database: the model
// registry, batch score runs and their scores, review and fraud cases with
// their status history, the residents' single view, users and API tokens,
// the record linkage's clerical review queue, and the tamper-evident audit
// log.
//
// One implementation serves both SQLite (modernc.org/sqlite, pure Go, the
// embedded default) and PostgreSQL (pgx/v5 through database/sql). The SQL
// is written once with ? placeholders and rebound for PostgreSQL; one set of
// numbered migrations (migrations/*.sql) is applied by Open. Every
// multi-row write runs in one transaction: a write either happens whole or
// not at all.
//
// # Database URLs
//
// sqlite://./caserisk.db (the default, DefaultURL) or sqlite:///abs/path.db
// open a SQLite file in WAL mode; postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=disable
// opens PostgreSQL. Open applies the migrations the database lacks.
//
// # Testing against PostgreSQL
//
// The tests run every case against SQLite and, when CASERISK_TEST_POSTGRES
// is set and reachable, PostgreSQL; each test works in a schema of its own,
// dropped afterwards. On Debian (PostgreSQL 15), as root:
//
//	pg_ctlcluster 15 main start
//	su postgres -c "psql -c \"CREATE ROLE caserisk LOGIN PASSWORD 'caserisk'\""
//	su postgres -c "psql -c 'CREATE DATABASE caserisk_test OWNER caserisk'"
//	export CASERISK_TEST_POSTGRES='postgres://caserisk:caserisk@127.0.0.1:5432/caserisk_test?sslmode=disable'
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"caserisk/models/target"
	"caserisk/serve/audit"
	"caserisk/serve/auth"
)

// DefaultURL is the database used when none is given: a SQLite file in the
// working directory.
const DefaultURL = "sqlite://./caserisk.db"

// Errors the store returns, wrapped with context; test with errors.Is.
var (
	// ErrNotFound: the model, run, case, user or resident does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: an argument is out of its domain (unknown target, status,
	// outcome, role, empty name, …). The wrapped message names the field.
	ErrInvalid = errors.New("invalid")
	// ErrTransition: the case cannot move from its status to the requested one.
	ErrTransition = errors.New("transition not allowed")
	// ErrConflict: the write clashes with stored state (for example a user
	// name already taken).
	ErrConflict = errors.New("conflict")
)

// Target is what a model predicts; it is also the kind of case its flags
// open. The targets are models/target's catalogue.
type Target = target.Name

// The two targets.
const (
	ComplexCase  = target.ComplexCase  // a household escalating to a crisis service within 12 months
	TenancyFraud = target.TenancyFraud // a council tenancy found fraudulent on investigation
)

// Targets returns every target of the catalogue.
func Targets() []Target { return target.Names() }

// ParseTarget returns the target named s or an ErrInvalid error.
func ParseTarget(s string) (Target, error) {
	t, err := target.Parse(s)
	if err != nil {
		return "", invalidf("target", "%v", err)
	}
	return t.Name, nil
}

// Stage is where a model is in its life.
type Stage string

// The stages of a model. A target has at most one champion.
const (
	Candidate Stage = "candidate" // registered, not scoring
	Champion  Stage = "champion"  // the model that scores
	Retired   Stage = "retired"   // a former champion
)

// Bands are the calibrated-probability thresholds that map a live score to
// a band: score ≥ High is "high", score ≥ Medium is "medium", else "low".
// They are stored with the model's registration (DefaultBands derives them
// from the training label rate when none are given). Batch score runs band
// by rank within capacity instead (see the batch package).
type Bands struct {
	High   float64 `json:"high"`
	Medium float64 `json:"medium"`
}

// Band returns the band of a calibrated probability.
func (b Bands) Band(p float64) string {
	switch {
	case p >= b.High:
		return "high"
	case p >= b.Medium:
		return "medium"
	}
	return "low"
}

// Model is a registered model version.
type Model struct {
	Target       Target
	Version      int    // 1, 2, … per target
	Path         string // where the artifact was registered from
	SHA256       string // hex SHA-256 of Artifact
	Artifact     []byte // the model JSON itself; empty in listings
	Stage        Stage
	Metrics      json.RawMessage // evaluation metrics as JSON ({} when none)
	Bands        Bands
	RegisteredBy string
	RegisteredAt time.Time
	PromotedBy   string    // "" until promoted
	PromotedAt   time.Time // zero until promoted
}

// NewModel is what RegisterModel needs. The store computes SHA256 and the
// version.
type NewModel struct {
	Target       Target
	Path         string
	Artifact     []byte          // the model JSON; must be valid JSON
	Metrics      json.RawMessage // nil for none
	Bands        Bands           // 0 < Medium ≤ High ≤ 1
	RegisteredBy string
}

// ScoreRun is a batch score of every resident or tenancy as of a date.
type ScoreRun struct {
	ID           int64
	Target       Target
	AsOf         string // YYYY-MM-DD
	ModelVersion int
	Created      time.Time
	Rows         int // scores stored
	Capacity     int // cases opened for the top Capacity ranks (at most)
	CasesOpened  int // cases this run opened
}

// Score is one entity's score in a run. For complex_case the entity is a
// resident (EntityID = ResidentID); for tenancy_fraud it is a tenancy and
// ResidentID is its lead tenant.
type Score struct {
	RunID      int64
	EntityID   string
	ResidentID string
	Score      float64         // calibrated probability
	Margin     float64         // raw model margin
	Band       string          // high, medium or low
	Rank       int             // 1 = highest score in the run
	Reasons    json.RawMessage // the reasons as JSON (an array); null when none
	// Household is the key of the household the entity belonged to on
	// the run's as-of date (the scorer's: the UPRN of the home), or ""
	// when it has none or is not reviewed by household. Scores stay per
	// entity; cases group them (see Runs.RecordScoreRun).
	Household string
}

// ResidentScore is a resident's score in the latest run of a target.
type ResidentScore struct {
	Score
	Target       Target
	AsOf         string
	ModelVersion int
	RunRows      int // entities scored in the run, for "rank N of M"
}

// User is a person who uses the service.
type User struct {
	ID       int64
	Name     string
	Role     auth.Role // "" for a provider's user whose groups map to no role
	Created  time.Time
	Disabled bool
	// Issuer and Subject identify a user who signs in through an OpenID
	// Connect provider (the provider's issuer URL and its stable subject
	// id); both are "" for a user made with `caserisk users add`.
	Issuer, Subject string
	// DisplayName is the provider's name for the user ("" when none).
	DisplayName string
}

// External reports whether the user signs in through an identity provider.
func (u User) External() bool { return u.Issuer != "" }

// NewExternalUser is a user as an identity provider describes them at
// their first sign-in.
type NewExternalUser struct {
	Issuer, Subject string
	// Name is the account name wanted (the provider's user name or email);
	// when another user has it, a short suffix from the subject is added.
	Name        string
	DisplayName string
	Role        auth.Role
}

// Resident is a person in the Residents Index. Dates are YYYY-MM-DD or "".
type Resident struct {
	ID          string
	GivenName   string
	FamilyName  string
	DateOfBirth string
	Sex         string
	FirstSeen   string
	DateOfDeath string
}

// Property is an addressable place (LLPG).
type Property struct {
	UPRN           int64
	Address        string
	Postcode       string
	Ward           string
	PropertyType   string
	Tenure         string
	Bedrooms       int // 0 when unknown
	CouncilTaxBand string
}

// Residence is a resident's stay at an address. End is "" while living there.
type Residence struct {
	ResidentID   string
	UPRN         int64
	Start        string
	End          string
	Relationship string
}

// Event is one row of a service's history about a resident, for the
// timeline of the single view.
type Event struct {
	ResidentID string
	Service    string // the contract's service key, e.g. "homelessness"
	Date       string // YYYY-MM-DD
	Type       string // the row's type code, e.g. "main_duty"; "" when the service has none
	UPRN       int64  // 0 when not address-based
	Amount     float64
	HasAmount  bool
	Detail     string // a short description, no free text from case notes
}

// Stay is a residence joined with its property.
type Stay struct {
	Residence
	Property Property // zero when the property is not loaded
}

// ResidentView is the single view of a resident: who and where.
type ResidentView struct {
	Resident Resident
	Stays    []Stay // newest first
}

// HouseholdMember is another person living at a resident's address. To
// keep personal data to what a caseworker needs to see the household's
// shape, it carries no name, full date of birth or address: the page links
// to the member's own single view, which is gated and audited as any other.
type HouseholdMember struct {
	ResidentID   string
	Relationship string // to the household's reference person, as recorded
	BirthYear    int    // 0 when the date of birth is not known
	Start        string // when their stay at the address began
	End          string // "" while living there
}

// TimelineQuery selects a resident's events.
type TimelineQuery struct {
	From, To string // inclusive YYYY-MM-DD bounds; "" for open
	Limit    int    // at most this many (newest first); 0 for 500
	Offset   int    // skip this many first (for paging)
	// Services, when not nil, keeps only these services' events (the
	// purpose policy's for the reader); an empty, non-nil list keeps none.
	Services []string
}

// Ingest loads the single view, replacing it. Rows are written to staging
// tables in one short transaction per Add call (pass chunks of, say, 10,000
// rows), so a large load does not hold up the service's own writes; Commit
// replaces each table the load added rows to in one transaction, so readers
// see the old single view or the new one, never a mix. Tables the load did
// not touch are left as they were. A failed Add or Rollback abandons the
// load and changes nothing. One load runs at a time: it holds the
// "single_view" claim (see Claim), so BeginIngest returns a *HeldError
// (ErrConflict) while a live load holds it, and takes over at once the
// claim of a load that died (within ClaimTTL of its death).
type Ingest interface {
	// AddResidents stages a chunk of residents (ids unique across the load).
	AddResidents(ctx context.Context, rs []Resident) error
	// AddProperties stages a chunk of properties (UPRNs unique across the load).
	AddProperties(ctx context.Context, ps []Property) error
	// AddResidences stages a chunk of stays.
	AddResidences(ctx context.Context, rs []Residence) error
	// AddEvents stages a chunk of timeline events.
	AddEvents(ctx context.Context, es []Event) error
	// Commit replaces the live tables the load touched, atomically.
	Commit() error
	// Rollback abandons the load; it is a no-op after Commit.
	Rollback() error
}

// NewRun is what RecordScoreRun needs.
type NewRun struct {
	Target       Target
	AsOf         string // YYYY-MM-DD
	ModelVersion int
	Capacity     int     // open cases for ranks 1..Capacity
	Scores       []Score // RunID is set by the store; ranks must be 1..len
	// Claim says who records the run and whether to take over a live
	// recording of the same run.
	Claim ClaimOptions
}

// QueueQuery selects a page of a case queue.
type QueueQuery struct {
	Kind     Target
	Statuses []Status // nil for every open status (not closed)
	// AssignedTo selects the cases assigned to a user; 0 for all cases.
	AssignedTo int64
	Offset     int
	Limit      int // 0 for 50; at most 500
}

// AuditFilter selects audit rows, newest first.
type AuditFilter struct {
	UserID   int64  // 0 for all users
	Action   string // "" for all
	Resource string // prefix; "" for all
	BeforeID int64  // rows with id < BeforeID; 0 for the newest
	Limit    int    // 0 for 100; at most 1000
}

// Label is a closed case's outcome as a training label.
type Label struct {
	Kind         Target
	CaseID       int64
	EntityID     string
	ResidentID   string
	AsOf         string // the as-of date of the run that flagged it
	ModelVersion int
	Score        float64
	Outcome      Outcome
	Label        int // 1 positive, 0 negative
	ClosedAt     time.Time
}

// The store's interfaces are sized to their callers' needs, as
// database/sql's driver interfaces are: the application core (serve/core)
// takes each part it works with, batch score runs take a Registry and
// Runs, the retraining pipeline's adapter a Registry, readiness a Pinger.
// Store is all of them, the one implementation's method set.

// Pinger is what readiness and shutdown need.
type Pinger interface {
	// Dialect is "sqlite" or "postgres".
	Dialect() string
	// Ping checks the database answers (readiness).
	Ping(ctx context.Context) error
	// Close closes the database.
	Close() error
}

// Registry is the model registry.
type Registry interface {
	// RegisterModel adds a candidate with the next version of its target.
	RegisterModel(ctx context.Context, m NewModel) (Model, error)
	// PromoteModel makes a version its target's champion and retires the
	// previous champion, atomically. Promoting the champion again is a no-op.
	PromoteModel(ctx context.Context, target Target, version int, by string) (Model, error)
	// Models lists models without their artifacts, by target then version;
	// target "" lists both.
	Models(ctx context.Context, target Target) ([]Model, error)
	// Model returns one model with its artifact.
	Model(ctx context.Context, target Target, version int) (Model, error)
	// Champion returns the target's champion with its artifact, or ErrNotFound.
	Champion(ctx context.Context, target Target) (Model, error)
	// ChampionVersions returns each target's champion version (targets
	// without one are absent): a cheap poll for a promotion, reading no
	// artifact.
	ChampionVersions(ctx context.Context) (map[Target]int, error)
}

// Runs holds batch score runs and their scores.
type Runs interface {
	// RecordScoreRun stores a run, its scores and the cases it opens. The
	// run is written pending (scores in transactions of 10,000, so a large
	// run does not hold the write lock for its whole length) and published
	// in one transaction that opens its cases: readers see it whole or not
	// at all, and a failure removes what was written.
	//
	// Cases count households: the scores of one household (the same
	// non-empty Household) are one unit, led by its highest-ranked member,
	// and a score without a household is a unit of its own. The units are
	// ranked by their leader's rank, and a case is opened for the leader of
	// each of the first Capacity units unless the household or the
	// leader's entity has an open case of that kind. If a complete run with the same target, as-of date and model
	// version exists it is returned unchanged with created false
	// (idempotent). The recording holds the claim
	// "score_run/TARGET/AS_OF/vVERSION" (run.Claim says who and whether to
	// force): a live recording of the same run gives a *HeldError
	// (ErrConflict); the pending run of one that died is removed and
	// recorded again once its claim lapses (within ClaimTTL of the death).
	RecordScoreRun(ctx context.Context, run NewRun) (r ScoreRun, created bool, err error)
	// ScoreRuns lists the runs of a target, newest first; "" for both.
	ScoreRuns(ctx context.Context, target Target) ([]ScoreRun, error)
	// LatestRun returns the target's most recent run (by as-of date, then id).
	LatestRun(ctx context.Context, target Target) (ScoreRun, error)
	// RunScores returns a page of a run's scores by rank.
	RunScores(ctx context.Context, runID int64, offset, limit int) ([]Score, error)
	// ResidentScores returns the resident's scores in the latest run of each
	// given target (none for a target whose latest run did not score them).
	ResidentScores(ctx context.Context, residentID string, targets ...Target) ([]ResidentScore, error)
	// HouseholdScores returns the scores of a run whose household key is
	// household, by rank (none for the empty key).
	HouseholdScores(ctx context.Context, runID int64, household string) ([]Score, error)
	// ScoreHistory returns the resident's scores in every complete run of
	// the given targets, oldest as-of date first (a run's scores of the
	// resident's tenancies by rank).
	ScoreHistory(ctx context.Context, residentID string, targets ...Target) ([]ResidentScore, error)
}

// Cases holds the review and fraud cases and their workflow.
type Cases interface {
	// Case returns a case.
	Case(ctx context.Context, id int64) (Case, error)
	// Queue returns a page of a queue ranked by score (highest first) and
	// the number of cases the query matches.
	Queue(ctx context.Context, q QueueQuery) (cases []Case, total int, err error)
	// TransitionCase moves a case to a new status (see Transition for the
	// rules) and records the transition in its history, atomically.
	TransitionCase(ctx context.Context, t Transition) (Case, error)
	// AssignCase sets the user a case is assigned to (0 to unassign).
	AssignCase(ctx context.Context, caseID, userID int64, by string) (Case, error)
	// CaseHistory returns the transitions of a case, oldest first.
	CaseHistory(ctx context.Context, caseID int64) ([]CaseEvent, error)
	// Labels returns the closed cases of a kind whose outcome is a label,
	// oldest closure first.
	Labels(ctx context.Context, kind Target) ([]Label, error)
}

// Residents holds the single view.
type Residents interface {
	// BeginIngest starts loading the single view: BeginIngestAs with the
	// default claim options.
	BeginIngest(ctx context.Context) (Ingest, error)
	// BeginIngestAs starts loading the single view under the
	// "single_view" claim taken with o.
	BeginIngestAs(ctx context.Context, o ClaimOptions) (Ingest, error)
	// Resident returns the single view of a resident.
	Resident(ctx context.Context, id string) (ResidentView, error)
	// Household returns the other people whose stay at the address of the
	// resident's current residence (the open one, else the latest) is open
	// (or, when the resident's stay has ended, overlapped it), by resident
	// id. It returns none for a resident with no residence and ErrNotFound
	// for an unknown resident.
	Household(ctx context.Context, residentID string) ([]HouseholdMember, error)
	// Timeline returns a resident's events, newest first.
	Timeline(ctx context.Context, residentID string, q TimelineQuery) ([]Event, error)
	// TimelineServices counts a resident's events under q (its Limit and
	// Offset aside) per service, the service with the latest event first.
	TimelineServices(ctx context.Context, residentID string, q TimelineQuery) ([]ServiceEvents, error)
	// ResidentSummaries returns the residents of ids that exist, in the
	// order given, each with their current address.
	ResidentSummaries(ctx context.Context, ids []string) ([]ResidentSummary, error)
	// SearchResidents finds residents by name and date of birth, by family
	// then given name, each with their current address.
	SearchResidents(ctx context.Context, q ResidentSearch) ([]ResidentSummary, error)
}

// Users holds users and their API tokens.
type Users interface {
	// CreateUser adds a user.
	CreateUser(ctx context.Context, name string, role auth.Role) (User, error)
	// CreateUserWithToken adds a user and their first token in one
	// transaction (what `caserisk users add` does).
	CreateUserWithToken(ctx context.Context, name string, role auth.Role, tok auth.Token) (User, error)
	// Users lists users by name.
	Users(ctx context.Context) ([]User, error)
	// UserByName returns a user.
	UserByName(ctx context.Context, name string) (User, error)
	// SetUserDisabled disables or re-enables a user; a disabled user's
	// tokens stop working.
	SetUserDisabled(ctx context.Context, userID int64, disabled bool) error
	// UserByID returns a user.
	UserByID(ctx context.Context, id int64) (User, error)
	// UserByExternalID returns the user an identity provider's issuer and
	// subject id identify; ErrNotFound when there is none.
	UserByExternalID(ctx context.Context, issuer, subject string) (User, error)
	// CreateExternalUser adds a user who signs in through an identity
	// provider; ErrConflict when the issuer and subject already have one.
	CreateExternalUser(ctx context.Context, nu NewExternalUser) (User, error)
	// UpdateExternalUser sets a provider's user's display name and role
	// (the empty role when their groups map to none) and returns the user.
	UpdateExternalUser(ctx context.Context, id int64, displayName string, role auth.Role) (User, error)
	// AddToken stores a token's prefix and hash for a user.
	AddToken(ctx context.Context, userID int64, tok auth.Token) error
	// TokenCandidates implements auth.TokenLookup.
	TokenCandidates(ctx context.Context, prefix string) ([]auth.Candidate, error)
}

// LinkReview holds the record linkage's clerical review queue.
type LinkReview interface {
	// ImportLinkReview loads a record linkage's clerical review queue with
	// the details of the person records it names, replacing the queue and
	// the details held before, in one transaction. Decisions are kept: they
	// are keyed by the pair, so a pair imported again keeps its decision.
	ImportLinkReview(ctx context.Context, imp LinkReviewImport) (LinkQueueCounts, error)
	// LinkQueue returns a page of the review queue by position (the
	// most uncertain first), without the records' details, and
	// the queue's counts.
	LinkQueue(ctx context.Context, q LinkQueueQuery) ([]LinkPair, LinkQueueCounts, error)
	// LinkPair returns a pair of the review queue with its records' details
	// (personal data: the caller audits the view).
	LinkPair(ctx context.Context, id int64) (LinkPairView, error)
	// NextLinkPair returns the first undecided pair after position after,
	// else the first undecided pair; ErrNotFound when every pair is decided.
	NextLinkPair(ctx context.Context, after int) (LinkPair, error)
	// DecideLinkPair records (or changes) the decision on a pair.
	DecideLinkPair(ctx context.Context, id int64, v LinkVerdict, userID int64, by string) (LinkDecision, error)
	// LinkDecisions returns every decision made, including those on pairs
	// no longer in the queue, oldest first.
	LinkDecisions(ctx context.Context) ([]LinkDecision, error)
}

// AuditLog is the tamper-evident audit log.
type AuditLog interface {
	// AppendAudit appends records to the audit log as one chained,
	// serialised write and returns the entries.
	AppendAudit(ctx context.Context, recs ...audit.Record) ([]audit.Entry, error)
	// AuditPage implements audit.Source.
	AuditPage(ctx context.Context, afterID int64, limit int) ([]audit.Entry, error)
	// Audit returns audit rows matching f, newest first.
	Audit(ctx context.Context, f AuditFilter) ([]audit.Entry, error)
}

// Claims holds the leases of the steps that run one at a time.
type Claims interface {
	// Claim takes the named claim (see ClaimOptions for waiting and
	// forcing): a *HeldError while a live holder has it. The caller
	// Releases it when the step ends and runs the step under its Context.
	Claim(ctx context.Context, name string, o ClaimOptions) (*Claim, error)
}

// Store is the scoring service's database: every part above. All methods
// are safe for concurrent use.
type Store interface {
	Pinger
	Claims
	Registry
	Runs
	Cases
	Residents
	Users
	LinkReview
	AuditLog
	WebSessions
	Changes
}

// Compile-time checks that a Store serves the auth and audit interfaces.
var (
	_ auth.TokenLookup = Store(nil)
	_ audit.Source     = Store(nil)
)
