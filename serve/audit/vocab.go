package audit

// The audit vocabulary: every action the log records, whichever front end
// (API, pages, CLI, pipeline, demo) acted. The application core
// (serve/core) writes them; a front end never names an action itself.
const (
	// Read: a view of people's data or of the log (resident, risk, queue,
	// case, audit log, linkage pair).
	Read = "read"
	// CaseUpdate: a case moved on, closed with an outcome, or assigned.
	CaseUpdate = "update"
	// ModelRegister: a model added to the registry.
	ModelRegister = "model.register"
	// ModelPromote: a model made its target's champion.
	ModelPromote = "model.promote"
	// ScoreRun: a batch score run started.
	ScoreRun = "score_run"
	// LabelsExport: closed cases' outcomes exported as training labels.
	LabelsExport = "labels.export"
	// SignIn: a user signed in to the pages.
	SignIn = "sign_in"
	// SignInRefused: the identity provider vouched for a person but
	// caserisk refused them (no mapped group, a disabled account, groups
	// left out of the token); the resource says why.
	SignInRefused = "sign_in.refused"
	// UserProvision: a user created at their first sign-in through the
	// identity provider.
	UserProvision = "user.provision"
	// UserRole: a provider user's role changed with their groups at sign-in
	// (the resource names the old and new role).
	UserRole = "user.role"
	// UserAdd, UserToken, UserDisable, UserEnable: user management.
	UserAdd     = "user.add"
	UserToken   = "user.token"
	UserDisable = "user.disable"
	UserEnable  = "user.enable"
	// AuditVerify: the log's hash chain checked.
	AuditVerify = "audit.verify"
	// LinkageImport and LinkageExport: a clerical review queue loaded into
	// the service; the decisions made on it exported.
	LinkageImport = "linkage.import"
	LinkageExport = "linkage.export"
	// LinkAccept, LinkReject: a data steward's decision on a pair.
	LinkAccept = "link_accept"
	LinkReject = "link_reject"
	// ClaimTakeover: a running step's claim (a score run, the single-view
	// load) taken over explicitly (--force) from a holder still alive.
	ClaimTakeover = "claim.takeover"
)

// Actions returns the vocabulary, in the order the README lists it.
func Actions() []string {
	return []string{Read, SignIn, SignInRefused, CaseUpdate, ModelRegister, ModelPromote, ScoreRun, LabelsExport,
		UserAdd, UserProvision, UserRole, UserToken, UserDisable, UserEnable, AuditVerify, LinkageImport, LinkageExport,
		LinkAccept, LinkReject, ClaimTakeover}
}
