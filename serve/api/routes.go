package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"caserisk/serve/api/problem"
	"caserisk/serve/auth"
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
	summary string
	tag     string
	public  bool              // no bearer token needed
	perms   []auth.Permission // any one suffices; checked by middleware when set
	query   []param
	body    string // request body schema (components/schemas)
	ok      string // 200 response schema; "" for a plain object
	errors  []int  // problem statuses besides 401/403 (added for non-public routes)
	handler gin.HandlerFunc
}

// param is a documented query parameter.
type param struct {
	name, typ, desc string
	required        bool
}

// table returns the service's endpoints.
func (s *Server) table() []route {
	pTarget := param{"target", "string", "complex_case or tenancy_fraud", true}
	pPromoteTarget := param{"target", "string", "complex_case or tenancy_fraud; needed when both targets have the version (or write the version as TARGET:N)", false}
	pTargetOpt := param{"target", "string", "complex_case or tenancy_fraud; both when absent", false}
	pOffset := param{"offset", "integer", "rows to skip (default 0)", false}
	pLimit := param{"limit", "integer", "page size", false}
	pQueueStatus := param{"status", "string", "comma-separated statuses; every open status when absent", false}
	pTimelineFrom := param{"from", "string", "first event date YYYY-MM-DD", false}
	pTimelineTo := param{"to", "string", "last event date YYYY-MM-DD", false}

	return []route{
		{method: "POST", path: Prefix + "/score", summary: "Score feature rows with the target's champion",
			tag: "scoring", query: []param{pTarget}, body: "ScoreRequest", ok: "ScoreResponse",
			errors: []int{400, 413, 415, 503}, handler: s.handleScore},
		{method: "GET", path: Prefix + "/residents/:id", summary: "A resident's single view: who, where, and the timeline across services",
			tag: "residents", perms: []auth.Permission{auth.NamedResidents}, query: []param{pTimelineFrom, pTimelineTo, pLimit},
			ok: "Resident", errors: []int{400, 404, 503}, handler: s.handleResident},
		{method: "GET", path: Prefix + "/residents/:id/risk", summary: "A resident's latest scores, with reasons, for the targets the role may see",
			tag: "residents", perms: []auth.Permission{auth.NamedResidents}, ok: "Risk", errors: []int{400, 404, 503},
			handler: s.handleResidentRisk},
		{method: "GET", path: Prefix + "/queues/complex-cases", summary: "The complex-case review queue, ranked by score",
			tag: "cases", query: []param{pQueueStatus, pOffset, pLimit}, ok: "Queue", errors: []int{400, 503},
			handler: s.handleQueue(store.ComplexCase)},
		{method: "GET", path: Prefix + "/queues/tenancy-fraud", summary: "The tenancy-fraud referral queue, ranked by score",
			tag: "cases", query: []param{pQueueStatus, pOffset, pLimit}, ok: "Queue", errors: []int{400, 503},
			handler: s.handleQueue(store.TenancyFraud)},
		{method: "GET", path: Prefix + "/cases/:id", summary: "A case with its history",
			tag: "cases", ok: "CaseDetail", errors: []int{400, 404, 503}, handler: s.handleCase},
		{method: "POST", path: Prefix + "/cases/:id/status", summary: "Move a case along its workflow",
			tag: "cases", body: "StatusRequest", ok: "Case", errors: []int{400, 404, 409, 413, 415, 503}, handler: s.handleCaseStatus},
		{method: "POST", path: Prefix + "/cases/:id/outcome", summary: "Close a case with its outcome",
			tag: "cases", body: "OutcomeRequest", ok: "Case", errors: []int{400, 404, 409, 413, 415, 503}, handler: s.handleCaseOutcome},
		{method: "GET", path: Prefix + "/models", summary: "The model registry with metrics and stages",
			tag: "models", perms: []auth.Permission{auth.ModelsRead}, query: []param{pTargetOpt}, ok: "Models",
			errors: []int{400}, handler: s.handleModels},
		{method: "POST", path: Prefix + "/models/:version/promote", summary: "Make a registered version the target's champion, without a restart",
			tag: "models", perms: []auth.Permission{auth.ModelsPromote}, query: []param{pPromoteTarget}, ok: "Model",
			errors: []int{400, 404, 422, 503}, handler: s.handlePromote},
		{method: "POST", path: Prefix + "/score-runs", summary: "Score every resident or tenancy as of a date and open cases for the top of each list",
			tag: "models", perms: []auth.Permission{auth.ScoreRuns}, body: "ScoreRunRequest", ok: "ScoreRuns",
			errors: []int{400, 409, 413, 415, 503}, handler: s.handleStartScoreRun},
		{method: "GET", path: Prefix + "/score-runs", summary: "Batch score runs, newest first",
			tag: "models", perms: []auth.Permission{auth.ScoreRuns}, query: []param{pTargetOpt}, ok: "ScoreRuns",
			errors: []int{400}, handler: s.handleListScoreRuns},
		{method: "GET", path: Prefix + "/labels", summary: "Closed cases' outcomes as training labels",
			tag: "models", perms: []auth.Permission{auth.LabelsExport}, query: []param{pTarget}, ok: "Labels",
			errors: []int{400, 503}, handler: s.handleLabels},
		{method: "GET", path: Prefix + "/audit", summary: "The audit log, newest first",
			tag: "admin", perms: []auth.Permission{auth.AuditRead},
			query: []param{{"user_id", "integer", "only this user", false}, {"action", "string", "only this action", false},
				{"resource", "string", "resource prefix", false}, {"before_id", "integer", "rows before this id", false}, pLimit},
			ok: "Audit", errors: []int{400}, handler: s.handleAudit},
		{method: "GET", path: "/healthz", summary: "Liveness", tag: "operations", public: true, ok: "Status", handler: s.handleHealthz},
		{method: "GET", path: "/readyz", summary: "Readiness: the database answers and the service is not shutting down",
			tag: "operations", public: true, ok: "Ready", errors: []int{503}, handler: s.handleReadyz},
		{method: "GET", path: "/metrics", summary: "Prometheus metrics", tag: "operations", public: true,
			handler: gin.WrapH(promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))},
		{method: "GET", path: Prefix + "/openapi.json", summary: "This document", tag: "operations", public: true,
			handler: s.handleOpenAPI},
	}
}

// routes builds the router from the table.
func (s *Server) routes() *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(requestID(), s.observe(), s.recoverProblem())
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
