// Package web serves caserisk's pages for caseworkers, fraud officers, data
// scientists, data stewards and administrators from the scoring service's own Gin engine:
// server-rendered html/template pages in the look of the GOV.UK Design
// System, with every asset embedded in the binary (council networks are
// closed, so nothing is loaded from elsewhere).
//
// The pages apply the API's rules, not a copy of them: the purpose rules are
// the server's auth.Policy, resident and case views are written to the
// server's audit log before they are shown, and a promotion goes through the
// server's champion swap. Mount it with api.Config{Pages: web.Mount}.
//
// Staff sign in through the council's OpenID Connect provider when
// Options.OIDC is set (oidc.go: authorisation code flow with PKCE, state
// and nonce; the user and their role follow the provider's claims and
// groups through the application core). A bearer token in a form signs in
// too, for the demo and service accounts. Either creates a server-side
// session kept in the database, so that every replica of the service on
// that database serves every signed-in user and a restart signs nobody
// out: the cookie holds only a random session id (the database only its
// SHA-256) and is HttpOnly, SameSite=Strict and Secure when served over
// TLS. The token, or the provider's user, is
// checked against the store on every request, so a disabled user is signed
// out at once. Every POST carries the session's cross-site request forgery
// token. A user holds at most maxPerUser sessions (a new sign-in ends
// their oldest) and the store ends its least recently used session when
// full, so it never refuses a sign-in; token sign-in attempts are
// rate-limited per user and, for failed attempts, per client address,
// counted in the database across replicas (see signInLimits).
package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"caserisk/serve/api"
	"caserisk/serve/api/problem"
	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the pages.
type Options struct {
	// SessionIdle ends a session unused for this long; 0: 30 minutes.
	SessionIdle time.Duration
	// SessionMax ends a session this long after sign-in; 0: 10 hours.
	SessionMax time.Duration
	// QueuePage is the number of cases on a queue page; 0: 25.
	QueuePage int
	// TimelineRows is the most timeline events a resident page shows; 0: 200.
	TimelineRows int
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Logger receives page errors (what failed and the request id, never
	// personal data); nil: discard.
	Logger *slog.Logger
	// OIDC, when set, adds sign-in through an OpenID Connect provider
	// beside the token form (see oidc.go).
	OIDC *OIDC
}

func (o *Options) defaults() {
	if o.SessionIdle <= 0 {
		o.SessionIdle = 30 * time.Minute
	}
	if o.SessionMax <= 0 {
		o.SessionMax = 10 * time.Hour
	}
	if o.QueuePage <= 0 {
		o.QueuePage = 25
	}
	if o.TimelineRows <= 0 {
		o.TimelineRows = 200
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Mount adds the pages with default options to e, served with s's store,
// purpose rules and audit log. It has the signature of api.Config.Pages.
func Mount(s *api.Server, e *gin.Engine) { MountWith(Options{})(s, e) }

// MountWith returns a Config.Pages function that mounts the pages with o.
// It panics when o.OIDC does not pass OIDC.Check: check it first.
func MountWith(o Options) func(*api.Server, *gin.Engine) {
	o.defaults()
	var of *oidcFlow
	if o.OIDC != nil {
		var err error
		if of, err = newOIDCFlow(*o.OIDC, o.Now); err != nil {
			panic(err)
		}
	}
	return func(s *api.Server, e *gin.Engine) {
		p := &pages{srv: s, core: s.Core(), tokens: s.Store(), policy: s.Core().Policy(), o: o, tmpl: mustTemplates(),
			sessions: newSessions(s.Store(), o.SessionIdle, o.SessionMax, o.Now), limits: newSignInLimits(s.Store(), o.Now), oidc: of}
		p.routes(e)
	}
}

// pages holds what the handlers share.
type pages struct {
	srv      *api.Server
	core     *core.Core       // every read and change of data goes through it
	tokens   auth.TokenLookup // sign-in only
	policy   auth.Policy      // what to offer (nav links, buttons); the core guards the data
	o        Options
	tmpl     map[string]*template.Template
	sessions *sessions
	limits   *signInLimits
	oidc     *oidcFlow // nil without OpenID Connect sign-in
}

// pageFiles are the page templates; each is parsed with the layout and the
// shared parts into a set of its own.
var pageFiles = []string{"signin", "signedout", "continue", "error", "queue", "case", "resident", "search", "models", "promote", "users", "audit", "linkage_queue", "linkage_pair"}

func funcs() template.FuncMap {
	return template.FuncMap{
		"statusText":  statusText,
		"outcomeText": outcomeText,
		"targetText":  targetText,
		"roleText":    roleText,
		"serviceText": serviceText,
		"dateText":    dateText,
		"permText":    permText,
		"actionText":  actionText,
		"resource":    resourceText,
		"fairTable":   fairTable,
	}
}

// mustTemplates parses the embedded templates; they are part of the
// binary, so a parse error is a programming error caught by every test.
func mustTemplates() map[string]*template.Template {
	m := make(map[string]*template.Template, len(pageFiles))
	for _, name := range pageFiles {
		t := template.Must(template.New(name).Funcs(funcs()).ParseFS(templateFS,
			"templates/layout.html", "templates/parts.html", "templates/"+name+".html"))
		m[name] = t
	}
	return m
}

func (p *pages) routes(e *gin.Engine) {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(fmt.Sprintf("web: embedded static folder: %v", err)) // cannot happen: embedded at build time
	}
	e.StaticFS("/static", http.FS(static))
	e.GET("/", p.withUser(p.home))
	e.GET("/sign-in", p.signInForm)
	e.HEAD("/sign-in", p.signInForm)
	e.POST("/sign-in", p.signIn)
	e.POST("/sign-out", p.withUser(p.signOut))
	p.oidcRoutes(e)

	e.GET("/reviews", p.withUser(p.queue(store.ComplexCase)))
	e.GET("/fraud-referrals", p.withUser(p.queue(store.TenancyFraud)))
	e.GET("/cases/:id", p.withUser(p.casePage))
	e.POST("/cases/:id/status", p.withUser(p.caseStatus))
	e.POST("/cases/:id/outcome", p.withUser(p.caseOutcome))
	e.POST("/cases/:id/assign", p.withUser(p.caseAssign))
	e.GET("/residents", p.withUser(p.searchPage))
	e.GET("/residents/:id", p.withUser(p.residentPage))

	e.GET("/models", p.withUser(p.modelsPage))
	e.GET("/models/:target/:version/promote", p.withUser(p.promoteForm))
	e.POST("/models/:target/:version/promote", p.withUser(p.promote))

	e.GET(linkageReviewPath, p.withUser(p.linkageQueue))
	e.GET(linkageReviewPath+"/next", p.withUser(p.linkageNext))
	e.GET(linkageReviewPath+"/pairs/:id", p.withUser(p.linkagePair))
	e.POST(linkageReviewPath+"/pairs/:id", p.withUser(p.linkageDecide))

	e.GET("/admin/users", p.withUser(p.usersPage))
	e.POST("/admin/users/:id/disabled", p.withUser(p.userDisable))
	e.GET("/admin/audit", p.withUser(p.auditPage))
	e.POST("/admin/audit/verify", p.withUser(p.auditVerify))
	e.NoRoute(p.noRoute)
}

// noRoute answers an unknown address with a page for a browser and with
// the API's problem document for everything else.
func (p *pages) noRoute(c *gin.Context) {
	path := c.Request.URL.Path
	if path == api.Prefix || strings.HasPrefix(path, api.Prefix+"/") || !strings.Contains(c.GetHeader("Accept"), "text/html") {
		pr := problem.New(http.StatusNotFound, "no such endpoint; see %s/openapi.json", api.Prefix)
		pr.RequestID = reqID(c)
		c.Abort()
		problem.Write(c.Writer, pr)
		return
	}
	p.notFound(c, "page")
}

// navLink is an entry of the header's navigation.
type navLink struct {
	Href, Text string
	Current    bool
}

// fieldErr is one entry of an error summary; Field is the id of the input
// at fault ("" when the error is not about one field).
type fieldErr struct {
	Field, Msg string
}

// view is what the layout renders.
type view struct {
	Title   string
	Refresh string // a same-site address the page moves on to by itself
	User    *auth.Principal
	Nav     []navLink
	CSRF    string
	Flash   string
	Errors  []fieldErr
	Data    any
}

// RoleName is the signed-in user's role in words.
func (v view) RoleName() string {
	if v.User == nil {
		return ""
	}
	return roleText(v.User.Role)
}

// nav returns the links the role may follow, marking the current path.
func (p *pages) nav(role auth.Role, path string) []navLink {
	var links []navLink
	add := func(href, text string, perm auth.Permission) {
		if p.policy.Allows(role, perm) {
			links = append(links, navLink{Href: href, Text: text, Current: path == href || strings.HasPrefix(path, href+"/")})
		}
	}
	add("/reviews", "My reviews", auth.CasesComplexCase)
	add("/fraud-referrals", "Fraud referrals", auth.CasesTenancyFraud)
	add("/residents", "Find a resident", auth.NamedResidents)
	add("/models", "Models", auth.ModelsRead)
	add(linkageReviewPath, "Linkage review", auth.LinkageReview)
	add("/admin/users", "Users", auth.UsersManage)
	add("/admin/audit", "Audit log", auth.AuditRead)
	return links
}

// render writes a page with status code.
func (p *pages) render(c *gin.Context, code int, name string, v view) {
	if s, ok := sessionOf(c); ok {
		v.CSRF = s.csrf
		u := s.user
		v.User = &u
		v.Nav = p.nav(u.Role, c.Request.URL.Path)
	}
	t := p.tmpl[name]
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		// The page is not sent half-written: answer with the error page.
		p.o.Logger.Error("render page", "page", name, "request_id", c.Writer.Header().Get(api.RequestIDHeader), "err", err)
		p.errorPage(c, http.StatusInternalServerError, "Sorry, there is a problem with the service", "The page could not be shown. Try again later.")
		return
	}
	noStore(c)
	c.Data(code, "text/html; charset=utf-8", []byte(b.String()))
}

// noStore keeps pages with personal data out of caches.
func noStore(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
}

type errorData struct {
	Heading, Detail, RequestID string
}

// errorPage answers with an error page (never a stack trace).
func (p *pages) errorPage(c *gin.Context, code int, heading, detail string) {
	c.Abort()
	t := p.tmpl["error"]
	v := view{Title: heading, Data: errorData{Heading: heading, Detail: detail, RequestID: c.Writer.Header().Get(api.RequestIDHeader)}}
	if s, ok := sessionOf(c); ok {
		u := s.user
		v.User, v.CSRF, v.Nav = &u, s.csrf, p.nav(u.Role, c.Request.URL.Path)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		c.String(code, "%s: %s", heading, detail)
		return
	}
	noStore(c)
	c.Data(code, "text/html; charset=utf-8", []byte(b.String()))
}

func (p *pages) forbidden(c *gin.Context, what string) {
	p.errorPage(c, http.StatusForbidden, "You cannot see this page",
		fmt.Sprintf("Your role (%s) does not give you a purpose to see %s.", roleText(principalOf(c).Role), what))
}

func (p *pages) notFound(c *gin.Context, what string) {
	p.errorPage(c, http.StatusNotFound, "Page not found", fmt.Sprintf("There is no %s at this address.", what))
}

// coreError shows the page for an error of the application core: a role
// without the purpose is forbidden, a missing thing is not found, a
// refused audit row or anything else is a problem with the service.
func (p *pages) coreError(c *gin.Context, what, thing string, err error) {
	var fb *core.ForbiddenError
	switch {
	case errors.As(err, &fb):
		p.forbidden(c, thing)
	case errors.Is(err, store.ErrNotFound):
		p.notFound(c, strings.TrimPrefix(thing, "the "))
	case errors.Is(err, core.ErrAudit):
		p.failed(c, "record this view in the audit log, so it is not shown", err)
	default:
		p.failed(c, what, err)
	}
}

// actor is the core's actor of the signed-in user.
func (p *pages) actor(c *gin.Context) core.Actor {
	return core.ActorOf(principalOf(c), reqID(c))
}

func (p *pages) failed(c *gin.Context, what string, err error) {
	p.o.Logger.Error("page", "what", what, "route", c.FullPath(), "request_id", c.Writer.Header().Get(api.RequestIDHeader), "err", err)
	p.errorPage(c, http.StatusInternalServerError, "Sorry, there is a problem with the service",
		fmt.Sprintf("We could not %s. Try again later.", what))
}
