package api

import (
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"caserisk/serve/api/problem"
	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// Prefix is the base path of the versioned API.
const Prefix = "/api/v1"

// route is one endpoint: how it is served and how it is documented. The
// OpenAPI document is built from the same table the router is, and a test
// checks the router holds exactly the documented routes.
type route struct {
	method  string
	path    string // gin syntax, e.g. /api/v1/residents/:id
	id      string // the operation's operationId
	summary string
	desc    string            // the operation's description: who may call it and what it does
	tag     string            // one of openAPITags
	pathIDs []param           // the path parameters' documentation, in path order
	public  bool              // no bearer token needed
	perms   []auth.Permission // any one suffices; checked by middleware when set
	query   []param
	body    string // request body schema (components/schemas)
	ok      string // 200 response schema; "" for a plain object
	errors  []int  // problem statuses besides 401/403 (added for non-public routes)
	handler gin.HandlerFunc
}

// param is a documented path or query parameter.
type param struct {
	name, desc string
	required   bool
	schema     *openapi3.Schema
	commas     bool // a comma-separated list (style form, explode false)
}

// table returns the service's endpoints.
func (s *Server) table() []route {
	pTarget := param{name: "target", desc: "the target whose champion scores the rows", required: true, schema: targetSchema()}
	pScoreAsOf := param{name: "as_of", desc: "the date the rows' features describe; reasons name dates counted back from it (default: today)", schema: dateSchema()}
	pPromoteTarget := param{name: "target", desc: "the version's target; needed when both targets have the version (or write the version as TARGET:N)", schema: targetSchema()}
	pTargetOpt := param{name: "target", desc: "only this target; both when absent", schema: targetSchema()}
	pLabelsTarget := param{name: "target", desc: "the target whose cases' outcomes to export", required: true, schema: targetSchema()}
	pOffset := param{name: "offset", desc: "rows to skip (default 0)", schema: intRange(0, 1_000_000)}
	pQueueLimit := param{name: "limit", desc: "page size (default 50)", schema: intRange(1, 500)}
	pTimelineLimit := param{name: "limit", desc: "most timeline events (default 500)", schema: intRange(1, 5000)}
	pAuditLimit := param{name: "limit", desc: "most entries (default 100)", schema: intRange(1, 1000)}
	pSearchLimit := param{name: "limit", desc: "most residents (default 20)", schema: intRange(1, core.MaxFound)}
	pTimelineOffset := param{name: "offset", desc: "timeline events to skip, for paging (default 0)", schema: intRange(0, 1_000_000)}
	pTimelineService := param{name: "service", desc: "only this service's events (a data contract service key the role sees)", schema: openapi3.NewStringSchema().WithMaxLength(64)}
	pQueueStatus := func(kind store.Target) param {
		return param{name: "status", desc: "comma-separated statuses; every open status when absent",
			schema: openapi3.NewArraySchema().WithItems(statusSchema(caseStatuses(kind))).WithMinItems(1), commas: true}
	}
	pTimelineFrom := param{name: "from", desc: "first event date", schema: dateSchema()}
	pTimelineTo := param{name: "to", desc: "last event date", schema: dateSchema()}
	pResidentID := param{name: "id", desc: "the resident's id", required: true, schema: residentIDSchema()}
	pCaseID := param{name: "id", desc: "the case's id", required: true, schema: openapi3.NewInt64Schema().WithMin(1)}
	pVersion := param{name: "version", desc: "a registry version N, or TARGET:N (e.g. complex_case:3)", required: true, schema: versionSchema()}

	return []route{
		{method: "POST", path: Prefix + "/score", summary: "Score feature rows with the target's champion",
			id: "scoreRows", desc: "Scores anonymous feature rows with the target's champion model and returns each row's calibrated " +
				"probability, band and, when asked, the reasons behind it. Every feature of the champion must be present in every row, " +
				"as a number or null (not known). Allowed to roles that may see the target's scores, and to those that check models " +
				"(`" + string(auth.ScoreRows) + "`). The rows carry no identity, so nothing is audited.",
			tag: "scoring", query: []param{pTarget, pScoreAsOf}, body: "ScoreRequest", ok: "ScoreResponse",
			errors: []int{400, 413, 415, 503}, handler: s.handleScore},
		{method: "GET", path: Prefix + "/residents", summary: "Find residents by name or date of birth",
			id: "findResidents", desc: "Residents whose given or family name begins with every word of `name` and whose date of " +
				"birth is `dob` (either or both), by family name, with the details the caller's role may see (name, date of birth, age, " +
				"current address). A name search needs the name detail and a date-of-birth search that detail. At most `limit` " +
				"residents; `more` says when more match, so narrow the search. Audited as a read of residents/search (the words " +
				"searched for are not written to the log).",
			tag: "residents", perms: []auth.Permission{auth.NamedResidents},
			query: []param{{name: "name", desc: "words that begin the given or family name (at most 5 words, 100 bytes)", schema: openapi3.NewStringSchema().WithMaxLength(100)},
				{name: "dob", desc: "date of birth", schema: dateSchema()}, pSearchLimit},
			ok: "ResidentsFound", errors: []int{400, 503}, handler: s.handleFindResidents},
		{method: "GET", path: Prefix + "/residents/:id", summary: "A resident's single view: who, where, and the timeline across services",
			id: "getResident", desc: "The resident's details, their stays at addresses (latest first) and their events across the council's " +
				"services, newest first. Tenancy-fraud investigations are shown only to roles that work tenancy fraud. Every read is written to " +
				"the audit log before the answer leaves the service.",
			pathIDs: []param{pResidentID},
			tag:     "residents", perms: []auth.Permission{auth.NamedResidents}, query: []param{pTimelineFrom, pTimelineTo, pTimelineLimit, pTimelineOffset, pTimelineService},
			ok: "Resident", errors: []int{400, 404, 503}, handler: s.handleResident},
		{method: "GET", path: Prefix + "/residents/:id/risk", summary: "A resident's latest scores, with reasons, for the targets the role may see",
			id: "getResidentRisk", desc: "The latest batch score of each target the caller's role may see, with its band, rank, " +
				"and the reasons raising and lowering it. A score supports a person's decision; it never acts alone. Audited.",
			pathIDs: []param{pResidentID},
			tag:     "residents", perms: []auth.Permission{auth.NamedResidents}, ok: "Risk", errors: []int{400, 404, 503},
			handler: s.handleResidentRisk},
		{method: "GET", path: Prefix + "/queues/complex-cases", summary: "The complex-case review queue, ranked by score",
			id: "listComplexCaseQueue", desc: "Complex cases opened by score runs, highest rank first, a page at a time. " +
				"For caseworkers (`" + string(auth.CasesComplexCase) + "`). Audited.",
			tag: "cases", query: []param{pQueueStatus(store.ComplexCase), pOffset, pQueueLimit}, ok: "Queue", errors: []int{400, 503},
			handler: s.handleQueue(store.ComplexCase)},
		{method: "GET", path: Prefix + "/queues/tenancy-fraud", summary: "The tenancy-fraud referral queue, ranked by score",
			id: "listTenancyFraudQueue", desc: "Tenancy-fraud referrals opened by score runs, highest rank first, a page at a time. " +
				"For fraud officers (`" + string(auth.CasesTenancyFraud) + "`). Audited.",
			tag: "cases", query: []param{pQueueStatus(store.TenancyFraud), pOffset, pQueueLimit}, ok: "Queue", errors: []int{400, 503},
			handler: s.handleQueue(store.TenancyFraud)},
		{method: "GET", path: Prefix + "/cases/:id", summary: "A case with its history",
			id: "getCase", desc: "One case, the statuses it may move to next, and every change of status with its note and author. " +
				"For the role that works the case's queue. Audited.",
			pathIDs: []param{pCaseID},
			tag:     "cases", ok: "CaseDetail", errors: []int{400, 404, 503}, handler: s.handleCase},
		{method: "POST", path: Prefix + "/cases/:id/status", summary: "Move a case along its workflow",
			id: "setCaseStatus", desc: "Moves an open case to one of its `next_statuses` (complex cases: new → reviewing → " +
				"help_offered; tenancy fraud: referred → investigating). A move the workflow does not allow answers 409. " +
				"Close a case with its outcome instead.",
			pathIDs: []param{pCaseID},
			tag:     "cases", body: "StatusRequest", ok: "Case", errors: []int{400, 404, 409, 413, 415, 503}, handler: s.handleCaseStatus},
		{method: "POST", path: Prefix + "/cases/:id/outcome", summary: "Close a case with its outcome",
			id: "closeCase", desc: "Closes an open case with one of its kind's outcomes. Outcomes that say something about the " +
				"target become training labels (GET /labels).",
			pathIDs: []param{pCaseID},
			tag:     "cases", body: "OutcomeRequest", ok: "Case", errors: []int{400, 404, 409, 413, 415, 503}, handler: s.handleCaseOutcome},
		{method: "GET", path: Prefix + "/models", summary: "The model registry with metrics and stages",
			id: "listModels", desc: "Every registered model version with its stage, evaluation metrics and band thresholds. " +
				"For data scientists and administrators.",
			tag: "models", perms: []auth.Permission{auth.ModelsRead}, query: []param{pTargetOpt}, ok: "Models",
			errors: []int{400}, handler: s.handleModels},
		{method: "POST", path: Prefix + "/models/:version/promote", summary: "Make a registered version the target's champion, without a restart",
			id: "promoteModel", desc: "Loads and checks the version's artifact, makes it its target's champion in the registry and " +
				"swaps it in: requests in flight finish with the model they started with. An artifact that does not load answers 422 " +
				"and the champion stays. Audited.",
			pathIDs: []param{pVersion},
			tag:     "models", perms: []auth.Permission{auth.ModelsPromote}, query: []param{pPromoteTarget}, ok: "Model",
			errors: []int{400, 404, 422, 503}, handler: s.handlePromote},
		{method: "POST", path: Prefix + "/score-runs", summary: "Score every resident or tenancy as of a date and open cases for the top of each list",
			id: "startScoreRun", desc: "Builds the features as of the date, scores every entity of each target with its champion, " +
				"stores the scores with their reasons and opens cases for the top `capacity` of each list. Idempotent per target, " +
				"date and model version. Needs the service started with `--data DIR` (503 otherwise). Audited.",
			tag: "models", perms: []auth.Permission{auth.ScoreRuns}, body: "ScoreRunRequest", ok: "ScoreRuns",
			errors: []int{400, 409, 413, 415, 503}, handler: s.handleStartScoreRun},
		{method: "GET", path: Prefix + "/score-runs", summary: "Batch score runs, newest first",
			id: "listScoreRuns", desc: "The batch score runs, newest first, with the champion each used and the cases each opened.",
			tag: "models", perms: []auth.Permission{auth.ScoreRuns}, query: []param{pTargetOpt}, ok: "ScoreRuns",
			errors: []int{400}, handler: s.handleListScoreRuns},
		{method: "GET", path: Prefix + "/labels", summary: "Closed cases' outcomes as training labels",
			id: "exportLabels", desc: "The outcomes of closed cases that say something about the target, each with its label " +
				"(1 positive, 0 negative) and the score that opened the case, for retraining. Audited.",
			tag: "models", perms: []auth.Permission{auth.LabelsExport}, query: []param{pLabelsTarget}, ok: "Labels",
			errors: []int{400, 503}, handler: s.handleLabels},
		{method: "GET", path: Prefix + "/audit", summary: "The audit log, newest first",
			id: "listAudit", desc: "Entries of the hash-chained audit log, newest first, filtered; page back with `before_id`. " +
				"For administrators.",
			tag: "admin", perms: []auth.Permission{auth.AuditRead},
			query: []param{{name: "user_id", desc: "only this user", schema: intRange(0, 2147483647)},
				{name: "action", desc: "only this action", schema: openapi3.NewStringSchema()},
				{name: "resource", desc: "resource prefix, e.g. resident/", schema: openapi3.NewStringSchema()},
				{name: "before_id", desc: "only entries before this id", schema: openapi3.NewInt64Schema().WithMin(0)}, pAuditLimit},
			ok: "Audit", errors: []int{400}, handler: s.handleAudit},
		{method: "GET", path: "/healthz", summary: "Liveness", tag: "operations", public: true, ok: "Status",
			id: "getHealth", desc: "Answers while the process serves HTTP; it checks nothing else.", handler: s.handleHealthz},
		{method: "GET", path: "/readyz", summary: "Readiness: the database answers and the service is not shutting down",
			id: "getReadiness", desc: "Ready when the database answers and the service is not draining for shutdown; names the " +
				"database and the champion version of each target.",
			tag: "operations", public: true, ok: "Ready", errors: []int{503}, handler: s.handleReadyz},
		{method: "GET", path: "/metrics", summary: "Prometheus metrics", tag: "operations", public: true,
			id: "getMetrics", desc: "Request latencies by method, route template and status, rows scored by target, champion " +
				"versions, audit batch sizes and failures, whether the service is draining and hears other replicas' changes, " +
				"the database connection pool, and the Go runtime's and process's metrics, in Prometheus' text format.",
			handler: gin.WrapH(promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))},
		{method: "GET", path: Prefix + "/openapi.json", summary: "This document", tag: "operations", public: true,
			id: "getOpenAPI", desc: "This OpenAPI document, built from the same route table as the router.",
			handler: s.handleOpenAPI},
	}
}

// routes builds the router from the table.
func (s *Server) routes() *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(requestID(), s.observe(), s.recoverProblem(), s.closeWhileDraining())
	e.NoRoute(func(c *gin.Context) {
		s.fail(c, problem.New(http.StatusNotFound, "no such endpoint; see %s/openapi.json", Prefix))
	})
	e.NoMethod(func(c *gin.Context) {
		s.fail(c, problem.New(http.StatusMethodNotAllowed, "method %s is not allowed here", c.Request.Method))
	})
	s.doc = s.openAPI()
	for _, r := range s.table() {
		var chain []gin.HandlerFunc
		if !r.public {
			// Who may do what is the core's to decide (r.perms documents it).
			chain = append(chain, s.authenticate())
		}
		chain = append(chain, r.handler)
		e.Handle(r.method, r.path, chain...)
		if headToo(r) {
			// Monitors and load balancers probe with HEAD: the same
			// answer, whose body net/http leaves out.
			e.Handle(http.MethodHead, r.path, chain...)
		}
	}
	if s.cfg.Pages != nil {
		s.cfg.Pages(s, e)
	}
	return e
}

// openAPIPath turns gin's :param segments into OpenAPI's {param}.
func openAPIPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// headToo reports whether a route also answers HEAD: the public GET routes
// (health, readiness, metrics, this document).
func headToo(r route) bool { return r.public && r.method == http.MethodGet }
