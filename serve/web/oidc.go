package web

// Sign-in through an OpenID Connect provider (Microsoft Entra ID, Google
// Workspace, Okta, Keycloak, …): the authorisation code flow with PKCE,
// state and nonce. The ID token is verified by go-oidc against the keys the
// provider publishes (signature, issuer, audience, expiry) and its nonce
// against the one this browser was sent with; the application core then
// finds or creates the user by issuer and subject and applies the group →
// role map. The session that follows is the pages' usual server-side
// session, checked against the store on every request.

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// OIDC configures sign-in through an OpenID Connect provider.
type OIDC struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer/.well-known/openid-configuration (Entra ID:
	// https://login.microsoftonline.com/TENANT-ID/v2.0).
	Issuer string
	// ClientID and ClientSecret are caserisk's registration at the
	// provider.
	ClientID, ClientSecret string
	// RedirectURL is this service's callback as registered at the
	// provider, e.g. https://caserisk.council.example/sign-in/callback; its
	// path must be under /sign-in/.
	RedirectURL string
	// GroupsClaim names the ID token claim holding the person's groups or
	// roles; a dotted path reaches into an object (Keycloak's
	// realm_access.roles). "": "groups".
	GroupsClaim string
	// Roles maps the groups to caserisk's roles.
	Roles auth.GroupRoles
	// ProviderName is shown as "Sign in with PROVIDERNAME"; "": "your
	// organisation's account".
	ProviderName string
	// AccessContact is whom a refused person is told to ask; "": "your
	// caserisk administrator".
	AccessContact string
	// HTTPClient reaches the provider; nil: a client with a 10 s timeout.
	HTTPClient *http.Client
}

// Check reports the first mistake in the configuration, naming the field.
func (o *OIDC) Check() error {
	if err := checkURL("issuer", o.Issuer); err != nil {
		return err
	}
	if o.ClientID == "" {
		return errors.New("client id: empty (the application or client id the provider gave caserisk)")
	}
	if o.ClientSecret == "" {
		return errors.New("client secret: empty (the secret the provider gave caserisk)")
	}
	if err := checkURL("redirect URL", o.RedirectURL); err != nil {
		return err
	}
	u, _ := url.Parse(o.RedirectURL)
	if !strings.HasPrefix(u.Path, "/sign-in/") || u.Path == oidcStartPath || strings.ContainsAny(u.Path, ":*") {
		return fmt.Errorf("redirect URL %q: the path must be under /sign-in/ (for example /sign-in/callback) and not %s", o.RedirectURL, oidcStartPath)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("redirect URL %q: no query or fragment", o.RedirectURL)
	}
	if o.Roles.Len() == 0 {
		return errors.New("role map: no groups mapped, so nobody could sign in")
	}
	for _, part := range strings.Split(o.groupsClaim(), ".") {
		if part == "" {
			return fmt.Errorf("groups claim %q: an empty name in the path", o.GroupsClaim)
		}
	}
	return nil
}

// checkURL accepts an absolute https URL, or http on a loopback address
// (for a provider started beside caserisk in tests or a demo).
func checkURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%s %q: want an absolute https:// URL", what, raw)
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("%s %q: http:// is allowed only on a loopback address; use https://", what, raw)
		}
	}
	return nil
}

func (o *OIDC) groupsClaim() string {
	if o.GroupsClaim == "" {
		return "groups"
	}
	return o.GroupsClaim
}

func (o *OIDC) providerName() string {
	if o.ProviderName == "" {
		return "your organisation's account"
	}
	return o.ProviderName
}

func (o *OIDC) accessContact() string {
	if o.AccessContact == "" {
		return "your caserisk administrator"
	}
	return o.AccessContact
}

// Paths and cookies of the flow.
const (
	oidcStartPath = "/sign-in/oidc"
	// flowCookie binds a sign-in under way to this browser: it holds the
	// state sent to the provider. SameSite=Lax, so that the provider's
	// redirect back (a cross-site top-level GET) carries it.
	flowCookie = "caserisk_oidc"
	// flowTTL bounds the time between leaving for the provider and
	// coming back.
	flowTTL = 10 * time.Minute
	// maxFlows bounds the sign-ins under way.
	maxFlows = 10000
)

// flow is a sign-in under way: what the callback must find again.
type flow struct {
	nonce, verifier string
	started         time.Time
}

// externalSession is what a provider's sign-in adds to a session.
type externalSession struct {
	idToken string // for the provider's sign-out (id_token_hint)
}

// oidcFlow is the pages' OpenID Connect sign-in. The sign-ins under way
// are kept in the database (store.WebSessions), as the provider may send
// the browser back to another replica than the one it left from.
type oidcFlow struct {
	cfg      OIDC
	callback string // the redirect URL's path
	now      func() time.Time
	client   *http.Client

	mu       sync.Mutex
	ready    *oidcReady // nil until discovery succeeds
	lastFail time.Time
}

// oidcReady is the provider as discovered.
type oidcReady struct {
	oauth      oauth2.Config
	verifier   *oidc.IDTokenVerifier
	endSession string // "" when the provider publishes no end_session_endpoint
}

func newOIDCFlow(cfg OIDC, now func() time.Time) (*oidcFlow, error) {
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("web: OpenID Connect: %w", err)
	}
	u, _ := url.Parse(cfg.RedirectURL)
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &oidcFlow{cfg: cfg, callback: u.Path, now: now, client: client}, nil
}

// discoveryRetry is the least time between two failed discoveries.
const discoveryRetry = 5 * time.Second

// provider returns the discovered provider, discovering it on first use (a
// provider that is down when caserisk starts does not stop the service).
func (f *oidcFlow) provider(ctx context.Context) (*oidcReady, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ready != nil {
		return f.ready, nil
	}
	if !f.lastFail.IsZero() && f.now().Sub(f.lastFail) < discoveryRetry {
		return nil, errors.New("the provider's discovery document could not be read a moment ago")
	}
	// The provider keeps the client for later fetches of its keys.
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, f.client), 15*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(dctx, f.cfg.Issuer)
	if err != nil {
		f.lastFail = f.now()
		return nil, fmt.Errorf("discover %s: %w", f.cfg.Issuer, err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		f.lastFail = f.now()
		return nil, fmt.Errorf("read %s's discovery document: %w", f.cfg.Issuer, err)
	}
	if meta.EndSession != "" && checkURL("end session endpoint", meta.EndSession) != nil {
		meta.EndSession = ""
	}
	f.ready = &oidcReady{
		oauth: oauth2.Config{ClientID: f.cfg.ClientID, ClientSecret: f.cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: f.cfg.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}},
		verifier:   p.Verifier(&oidc.Config{ClientID: f.cfg.ClientID, Now: f.now}),
		endSession: meta.EndSession,
	}
	return f.ready, nil
}

// beginFlow records a sign-in under way and returns its state; ok is
// false when maxFlows sign-ins are under way.
func (p *pages) beginFlow(ctx context.Context, fl flow) (state string, ok bool, err error) {
	state = randomID()
	err = p.sessions.st.BeginSignInFlow(ctx, state, store.SignInFlow{Nonce: fl.nonce, Verifier: fl.verifier, Started: fl.started},
		flowTTL, maxFlows)
	if errors.Is(err, store.ErrConflict) {
		return "", false, nil
	}
	return state, err == nil, err
}

// takeFlow removes and returns the sign-in under way with state: each
// state is good for one callback, within flowTTL.
func (p *pages) takeFlow(ctx context.Context, state string) (flow, bool, error) {
	f, err := p.sessions.st.TakeSignInFlow(ctx, state, p.oidc.now(), flowTTL)
	if errors.Is(err, store.ErrNotFound) {
		return flow{}, false, nil
	}
	if err != nil {
		return flow{}, false, err
	}
	return flow{nonce: f.Nonce, verifier: f.Verifier, started: f.Started}, true, nil
}

// setFlowCookie writes the flow cookie (SameSite=Lax: see flowCookie).
func setFlowCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: flowCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// oidcRoutes adds the flow's routes.
func (p *pages) oidcRoutes(e *gin.Engine) {
	if p.oidc == nil {
		return
	}
	e.GET(oidcStartPath, p.oidcStart)
	e.GET(p.oidc.callback, p.oidcCallback)
}

// signInData is what the sign-in page shows besides the token form.
type signInData struct {
	Provider string // "" without OpenID Connect
}

func (p *pages) signInData() signInData {
	if p.oidc == nil {
		return signInData{}
	}
	return signInData{Provider: p.oidc.cfg.providerName()}
}

// oidcStart sends the browser to the provider with a fresh state, nonce
// and PKCE challenge.
func (p *pages) oidcStart(c *gin.Context) {
	f := p.oidc
	pr, err := f.provider(c.Request.Context())
	if err != nil {
		p.providerDown(c, "discover", err)
		return
	}
	fl := flow{nonce: randomID(), verifier: oauth2.GenerateVerifier(), started: f.now()}
	state, ok, err := p.beginFlow(c.Request.Context(), fl)
	if err != nil {
		p.failed(c, "start your sign-in", err)
		return
	}
	if !ok {
		p.errorPage(c, http.StatusServiceUnavailable, "Sorry, the service is busy", "Too many people are signing in at once. Try again in a few minutes.")
		return
	}
	setFlowCookie(c, state, int(flowTTL/time.Second))
	noStore(c)
	c.Redirect(http.StatusSeeOther, pr.oauth.AuthCodeURL(state, oidc.Nonce(fl.nonce), oauth2.S256ChallengeOption(fl.verifier)))
}

// providerDown answers when the provider cannot be reached or answers
// nonsense: the service's fault or the provider's, not the person's.
func (p *pages) providerDown(c *gin.Context, what string, err error) {
	p.o.Logger.Error("OpenID Connect provider", "what", what, "request_id", reqID(c), "err", err)
	p.errorPage(c, http.StatusBadGateway, "Sorry, sign-in is not working",
		fmt.Sprintf("We could not reach %s to sign you in. Try again in a few minutes, or sign in with an access token if you have one.", p.oidc.cfg.providerName()))
}

// refuseSignIn answers a sign-in that did not verify: a 4xx page and no
// session. The reason goes to the log, not to the page.
func (p *pages) refuseSignIn(c *gin.Context, code int, heading, detail, reason string, err error) {
	p.o.Logger.Warn("sign-in refused", "reason", reason, "request_id", reqID(c), "err", err)
	p.errorPage(c, code, heading, detail)
}

const startAgain = "Go back to the sign-in page and start again."

// oidcCallback finishes the flow: state, code exchange with the PKCE
// verifier, ID token verification, nonce, then the core's sign-in.
func (p *pages) oidcCallback(c *gin.Context) {
	f := p.oidc
	state := c.Query("state")
	cookie, _ := c.Cookie(flowCookie)
	setFlowCookie(c, "", -1)
	if state == "" || cookie == "" || subtle.ConstantTimeCompare([]byte(state), []byte(cookie)) != 1 {
		p.refuseSignIn(c, http.StatusBadRequest, "This sign-in link cannot be used",
			"It was not started in this browser, or it was already used. "+startAgain, "state does not match this browser's", nil)
		return
	}
	fl, ok, err := p.takeFlow(c.Request.Context(), state)
	if err != nil {
		p.failed(c, "find your sign-in", err)
		return
	}
	if !ok {
		p.refuseSignIn(c, http.StatusBadRequest, "This sign-in link cannot be used",
			"It has expired or was already used. "+startAgain, "state unknown, used or expired", nil)
		return
	}
	if e := c.Query("error"); e != "" {
		p.refuseSignIn(c, http.StatusUnauthorized, "You were not signed in",
			fmt.Sprintf("%s did not sign you in (%s). %s", f.cfg.providerName(), e, startAgain), "provider error", errors.New(e))
		return
	}
	code := c.Query("code")
	if code == "" {
		p.refuseSignIn(c, http.StatusBadRequest, "This sign-in link cannot be used", "It carries no sign-in code. "+startAgain, "no code", nil)
		return
	}
	pr, err := f.provider(c.Request.Context())
	if err != nil {
		p.providerDown(c, "discover", err)
		return
	}
	ctx := oidc.ClientContext(c.Request.Context(), f.client)
	tok, err := pr.oauth.Exchange(ctx, code, oauth2.VerifierOption(fl.verifier))
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
		p.refuseSignIn(c, http.StatusBadRequest, "You were not signed in",
			fmt.Sprintf("%s did not accept the sign-in code: it may have expired or been used. %s", f.cfg.providerName(), startAgain), "code exchange refused", err)
		return
	}
	if err != nil {
		p.providerDown(c, "exchange the code", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		p.providerDown(c, "read the ID token", errors.New("the token response has no id_token"))
		return
	}
	notVerified := func(reason string, err error) {
		p.refuseSignIn(c, http.StatusUnauthorized, "Your sign-in could not be verified",
			fmt.Sprintf("The answer from %s did not check out, so you are not signed in. %s", f.cfg.providerName(), startAgain), reason, err)
	}
	idt, err := pr.verifier.Verify(ctx, raw)
	if err != nil {
		var exp *oidc.TokenExpiredError
		reason := "ID token does not verify"
		if errors.As(err, &exp) {
			reason = "ID token expired"
		}
		notVerified(reason, err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(fl.nonce)) != 1 {
		notVerified("nonce does not match", nil)
		return
	}
	claims, err := readClaims(idt, f.cfg.groupsClaim())
	if err != nil {
		notVerified("claims", err)
		return
	}
	if len(idt.Audience) > 1 && claims.azp != f.cfg.ClientID {
		notVerified("several audiences and azp is not this client", fmt.Errorf("azp %q", claims.azp))
		return
	}
	u, err := p.core.SignInExternal(c.Request.Context(), claims.ExternalClaims, f.cfg.Roles, reqID(c))
	var refused *core.RefusedError
	var fe *store.FieldError
	switch {
	case errors.As(err, &refused):
		p.refused(c, refused)
		return
	case errors.As(err, &fe):
		notVerified("claims", err)
		return
	case errors.Is(err, core.ErrAudit):
		p.failed(c, "record your sign-in in the audit log", err)
		return
	case err != nil:
		p.failed(c, "sign you in", err)
		return
	}
	s, err := p.sessions.create(c.Request.Context(), "", u, &externalSession{idToken: raw})
	if err != nil {
		p.failed(c, "start your session", err)
		return
	}
	setCookie(c, preCookie, "", -1)
	setCookie(c, sessionCookie, s.id, 0)
	// The provider sent the browser here from another site, so the
	// SameSite=Strict session cookie would not go with a redirect from
	// this answer: the page moves on by itself, from this site.
	p.render(c, http.StatusOK, "continue", view{Title: "Signed in", Refresh: "/"})
}

// refused answers a person the provider vouched for but caserisk does not
// let in, saying whom to ask.
func (p *pages) refused(c *gin.Context, e *core.RefusedError) {
	f := p.oidc
	ask := f.cfg.accessContact()
	switch e.Reason {
	case core.RefusedDisabled:
		p.errorPage(c, http.StatusForbidden, "Your caserisk account is disabled",
			fmt.Sprintf("%s signed you in, but your account in caserisk has been disabled. Ask %s if you need it again.", sentence(f.cfg.providerName()), ask))
	case core.RefusedGroupsOverage:
		p.errorPage(c, http.StatusForbidden, "You do not have access to caserisk",
			fmt.Sprintf("%s did not say which groups you are in, because you are in too many. Ask %s: caserisk's registration must send only the groups assigned to it, or app roles.", sentence(f.cfg.providerName()), ask))
	default:
		p.errorPage(c, http.StatusForbidden, "You do not have access to caserisk",
			fmt.Sprintf("%s signed you in, but you are not in a group that gives you a role in caserisk. Ask %s to add you to the group for your work, then sign in again.", sentence(f.cfg.providerName()), ask))
	}
}

// idClaims are the claims read from a verified ID token.
type idClaims struct {
	core.ExternalClaims
	azp string
}

// readClaims reads the person and their groups from a verified ID token.
func readClaims(idt *oidc.IDToken, groupsClaim string) (idClaims, error) {
	var all map[string]any
	if err := idt.Claims(&all); err != nil {
		return idClaims{}, fmt.Errorf("read the ID token's claims: %w", err)
	}
	str := func(k string) string { s, _ := all[k].(string); return strings.TrimSpace(s) }
	out := idClaims{ExternalClaims: core.ExternalClaims{Issuer: idt.Issuer, Subject: idt.Subject}, azp: str("azp")}
	for _, k := range []string{"preferred_username", "upn", "email", "name"} {
		if v := str(k); v != "" {
			out.Username = v
			break
		}
	}
	out.DisplayName = str("name")
	if out.DisplayName == "" {
		out.DisplayName = strings.TrimSpace(str("given_name") + " " + str("family_name"))
	}
	if len(out.DisplayName) > 200 {
		out.DisplayName = cutText(out.DisplayName, 200)
	}
	groups, found, err := claimStrings(all, groupsClaim)
	if err != nil {
		return idClaims{}, err
	}
	out.Groups = groups
	if !found {
		// Entra ID leaves the groups out above 200 and names a source for
		// them instead (_claim_names).
		if names, ok := all["_claim_names"].(map[string]any); ok {
			top, _, _ := strings.Cut(groupsClaim, ".")
			_, out.GroupsOverage = names[top]
		}
	}
	return out, nil
}

// claimStrings reads a claim at a dotted path as a list of strings (a
// single string is a list of one). found is false when it is absent.
func claimStrings(all map[string]any, path string) (vals []string, found bool, err error) {
	var cur any = all
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		if cur, ok = m[part]; !ok {
			return nil, false, nil
		}
	}
	switch v := cur.(type) {
	case nil:
		return nil, false, nil
	case string:
		return []string{v}, true, nil
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, true, fmt.Errorf("claim %s: element %d is %T, want a string", path, i, e)
			}
			out = append(out, s)
		}
		return out, true, nil
	}
	return nil, true, fmt.Errorf("claim %s is %T, want a list of strings", path, cur)
}

// cutText cuts s to at most n bytes on a rune boundary.
func cutText(s string, n int) string {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// recheck returns the session's user as the store has them now: a token
// session's token is authenticated again; a provider session's user is read
// through the core. auth.ErrUnauthenticated ends the session.
func (p *pages) recheck(ctx context.Context, s *session) (auth.Principal, error) {
	if s.ext != nil {
		return p.core.SessionUser(ctx, s.user.UserID)
	}
	return auth.AuthenticateHash(ctx, p.tokens, s.tokenPrefix, s.tokenHash)
}

// signedOutData is the signed-out page's.
type signedOutData struct {
	Provider   string
	EndSession string // the provider's sign-out link, "" when it has none
}

// oidcSignedOut shows, after a provider session ended, a page offering the
// provider's sign-out. It reports false for a token session (the caller
// sends the browser to the sign-in page).
func (p *pages) oidcSignedOut(c *gin.Context, s *session) bool {
	if p.oidc == nil || s == nil || s.ext == nil {
		return false
	}
	d := signedOutData{Provider: p.oidc.cfg.providerName()}
	if pr, err := p.oidc.provider(c.Request.Context()); err == nil && pr.endSession != "" {
		back, _ := url.Parse(p.oidc.cfg.RedirectURL)
		back.Path, back.RawQuery = "/sign-in", ""
		q := url.Values{"client_id": {p.oidc.cfg.ClientID}, "id_token_hint": {s.ext.idToken}, "post_logout_redirect_uri": {back.String()}}
		u, _ := url.Parse(pr.endSession)
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += q.Encode()
		d.EndSession = u.String()
	}
	c.Set(keySess, nil) // the page is shown signed out
	p.render(c, http.StatusOK, "signedout", view{Title: "You are signed out", Data: d})
	return true
}
