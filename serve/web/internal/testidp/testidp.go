// Package testidp runs a real OpenID Connect provider on loopback for the
// pages' sign-in tests: zitadel/oidc's op package (an OpenID-certified
// provider library) serves discovery, the authorisation and token
// endpoints, the signing keys, userinfo and end-session; this package
// adds the in-memory storage op needs (clients, users, authorisation
// requests, codes, access tokens, an RSA signing key made at start) and a
// login page of its own, where a person types a user name and password.
//
// The provider requires PKCE (S256) of every authorisation request and
// puts the user's groups in the ID token, as Entra ID and Keycloak can.
// For the refusal tests a user can be given an ID token signed for another
// audience or sign-in (Resign), no groups but an Entra-style pointer to
// them (GroupsOverage), or a token rewritten after signing on its way to
// the client (Tamper); Provider.SetIDTokenLifetime issues already expired
// tokens. It is for tests only: passwords are kept in clear and nothing
// is persisted.
package testidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a person who can sign in at the provider.
type User struct {
	Subject            string // the stable subject id
	Username, Password string
	Name, Email        string
	Groups             []string
	// GroupsOverage leaves the groups out and points to another source
	// (_claim_names), as Entra ID does for a person in more than 200.
	GroupsOverage bool
	// Resign, when set, changes the ID token's claims and signs it again
	// with the provider's key on its way out of the token endpoint: a
	// token the provider did sign, but for another application (aud) or
	// another sign-in (nonce), swapped in.
	Resign func(claims map[string]any)
	// Tamper, when set, changes the ID token's claims after it is signed,
	// on its way out of the token endpoint, as a man in the middle would.
	Tamper func(claims map[string]any)
}

// Client is an application registered at the provider.
type Client struct {
	ID, Secret             string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
}

// Provider is a running provider. Close it when done.
type Provider struct {
	// Issuer is http://localhost:PORT: another site than 127.0.0.1, where
	// the tests serve caserisk, as a real provider is.
	Issuer string
	srv    *httptest.Server
	st     *storage
	logins atomic.Int64
}

// Start runs a provider for clients and users on a loopback port.
func Start(clients []Client, users []User) (*Provider, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("testidp: listen on loopback: %w", err)
	}
	issuer := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("testidp: signing key: %w", err)
	}
	var kid [8]byte
	_, _ = rand.Read(kid[:])
	st := &storage{
		clients: map[string]*client{}, users: map[string]*User{},
		requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]*accessToken{},
		key: signingKey{id: hex.EncodeToString(kid[:]), key: key},
	}
	st.idTokenLifetime.Store(int64(time.Hour))
	for _, c := range clients {
		st.clients[c.ID] = &client{Client: c, lifetime: &st.idTokenLifetime}
	}
	for i := range users {
		u := users[i]
		st.users[u.Subject] = &u
	}
	var cryptoKey [32]byte
	_, _ = rand.Read(cryptoKey[:])
	prov, err := op.NewProvider(&op.Config{CryptoKey: cryptoKey, CodeMethodS256: true, DefaultLogoutRedirectURI: "/logged-out"},
		st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("testidp: %w", err)
	}
	p := &Provider{Issuer: issuer, st: st}
	callback := op.AuthCallbackURL(prov)
	mux := http.NewServeMux()
	mux.Handle("/login", op.NewIssuerInterceptor(prov.IssuerFromRequest).HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.login(w, r, callback)
	}))
	mux.HandleFunc("/logged-out", func(w http.ResponseWriter, r *http.Request) {
		page(w, http.StatusOK, "Signed out", `<h1>You are signed out of the council's account</h1>`)
	})
	mux.Handle("/", tamper(prov, st))
	p.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	p.srv.Start()
	return p, nil
}

// Close stops the provider.
func (p *Provider) Close() { p.srv.Close() }

// SetIDTokenLifetime sets the lifetime of the ID tokens issued from now
// on; a negative one issues tokens that have already expired.
func (p *Provider) SetIDTokenLifetime(d time.Duration) { p.st.idTokenLifetime.Store(int64(d)) }

// SetGroups changes the groups of the user with subject, as an
// administrator of the provider would (effective from the next token).
func (p *Provider) SetGroups(subject string, groups []string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	if u, ok := p.st.users[subject]; ok {
		u.Groups = append([]string(nil), groups...)
	}
}

// Logins is the number of successful logins on the login page.
func (p *Provider) Logins() int64 { return p.logins.Load() }

var loginTmpl = template.Must(template.New("login").Parse(`<form method="post" action="/login">
<h1>Sign in to your council account</h1>
{{if .Error}}<p id="login-error" role="alert">{{.Error}}</p>{{end}}
<input type="hidden" name="authRequestID" value="{{.ID}}">
<p><label for="username">Username</label> <input id="username" name="username" autocomplete="username"></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button type="submit" id="login-submit">Sign in</button></p>
</form>`))

func page(w http.ResponseWriter, code int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>%s – test provider</title></head><body>%s</body></html>",
		template.HTMLEscapeString(title), body)
}

// login is the provider's login page: GET shows the form for an
// authorisation request, POST checks the password and sends the browser
// back to op's callback, which redirects to the client with a code.
func (p *Provider) login(w http.ResponseWriter, r *http.Request, callback func(context.Context, string) string) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := r.Form.Get("authRequestID")
	show := func(code int, msg string) {
		var b strings.Builder
		_ = loginTmpl.Execute(&b, struct{ ID, Error string }{id, msg})
		page(w, code, "Sign in", b.String())
	}
	if r.Method == http.MethodGet {
		show(http.StatusOK, "")
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := p.st.checkPassword(id, r.Form.Get("username"), r.Form.Get("password")); err != nil {
		show(http.StatusUnauthorized, err.Error())
		return
	}
	p.logins.Add(1)
	http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
}

// tamper applies the users' Resign and Tamper quirks to the ID tokens of
// the token endpoint's answers; every other answer passes unchanged.
func tamper(next http.Handler, st *storage) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/oauth/token") {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			body = st.tamperTokenResponse(body)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

func (s *storage) tamperTokenResponse(body []byte) []byte {
	var resp map[string]any
	if json.Unmarshal(body, &resp) != nil {
		return body
	}
	raw, _ := resp["id_token"].(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return body
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return body
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return body
	}
	sub, _ := claims["sub"].(string)
	s.mu.Lock()
	u := s.users[sub]
	s.mu.Unlock()
	if u == nil || (u.Tamper == nil && u.Resign == nil) {
		return body
	}
	if u.Resign != nil {
		u.Resign(claims)
		payload, _ = json.Marshal(claims)
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.key.key},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.key.id))
		if err != nil {
			return body
		}
		sig, err := signer.Sign(payload)
		if err != nil {
			return body
		}
		tok, err := sig.CompactSerialize()
		if err != nil {
			return body
		}
		parts = strings.Split(tok, ".")
	}
	if u.Tamper != nil {
		u.Tamper(claims)
		payload, _ = json.Marshal(claims)
		parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	}
	resp["id_token"] = strings.Join(parts, ".")
	out, _ := json.Marshal(resp)
	return out
}

// storage is op.Storage in memory.
type storage struct {
	mu              sync.Mutex
	clients         map[string]*client
	users           map[string]*User // by subject
	requests        map[string]*authRequest
	codes           map[string]string // code → request id
	tokens          map[string]*accessToken
	key             signingKey
	idTokenLifetime atomic.Int64
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *storage) checkPassword(id, username, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[id]
	if !ok {
		return errors.New("This sign-in request has expired. Go back to the application and start again.")
	}
	for _, u := range s.users {
		if u.Username == username && u.Password == password {
			req.subject, req.done, req.authTime = u.Subject, true, time.Now()
			return nil
		}
	}
	return errors.New("The username or password is wrong.")
}

func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	if r.CodeChallenge == "" || r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with S256 is required")
	}
	if slices.Contains(r.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired()
	}
	req := &authRequest{id: newID(), clientID: r.ClientID, redirectURI: r.RedirectURI, state: r.State, nonce: r.Nonce,
		scopes: r.Scopes, responseType: r.ResponseType, responseMode: r.ResponseMode, subject: userID,
		challenge: &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}}
	s.mu.Lock()
	s.requests[req.id] = req
	s.mu.Unlock()
	return req, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[id]
	if !ok {
		return nil, errors.New("request not found")
	}
	return req, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("code invalid or used")
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest is called once the code was exchanged: the code is
// good once.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	t := &accessToken{id: newID(), subject: r.GetSubject(), audience: r.GetAudience(), scopes: r.GetScopes(),
		expiration: time.Now().Add(5 * time.Minute)}
	if ar, ok := r.(*authRequest); ok {
		t.clientID = ar.clientID
	}
	s.mu.Lock()
	s.tokens[t.id] = t
	s.mu.Unlock()
	return t.id, t.expiration, nil
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errors.New("refresh tokens are not issued")
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.tokens, id)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, _ string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, tokenOrID)
	return nil
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return &s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{&publicKey{s.key}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, errors.New("client not found")
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok || c.Secret != secret {
		return errors.New("invalid client id or secret")
	}
	return nil
}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims: profile and email
// by scope, the groups always.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	return s.setUserinfo(info, r.GetSubject(), scopes)
}

func (s *storage) setUserinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	s.mu.Lock()
	u, ok := s.users[subject]
	s.mu.Unlock()
	if !ok {
		return errors.New("user not found")
	}
	info.Subject = u.Subject
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			info.Name, info.PreferredUsername = u.Name, u.Username
		case oidc.ScopeEmail:
			info.Email, info.EmailVerified = u.Email, oidc.Bool(u.Email != "")
		}
	}
	if u.GroupsOverage {
		info.AppendClaims("_claim_names", map[string]any{"groups": "src1"})
		info.AppendClaims("_claim_sources", map[string]any{"src1": map[string]any{"endpoint": "http://localhost/graph/groups"}})
	} else if u.Groups != nil {
		info.AppendClaims("groups", u.Groups)
	}
	return nil
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, _, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expiration) {
		return errors.New("token invalid or expired")
	}
	return s.setUserinfo(info, t.subject, t.scopes)
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection is not offered")
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT profile is not offered")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile is not offered")
}

func (s *storage) Health(context.Context) error { return nil }

// authRequest is op.AuthRequest.
type authRequest struct {
	id, clientID, redirectURI, state, nonce string
	scopes                                  []string
	responseType                            oidc.ResponseType
	responseMode                            oidc.ResponseMode
	challenge                               *oidc.CodeChallenge
	subject                                 string
	done                                    bool
	authTime                                time.Time
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

type accessToken struct {
	id, subject, clientID string
	audience, scopes      []string
	expiration            time.Time
}

// client is op.Client: a confidential web application (client secret by
// HTTP Basic authentication) on http loopback addresses (dev mode).
type client struct {
	Client
	lifetime *atomic.Int64
}

func (c *client) GetID() string                       { return c.ID }
func (c *client) RedirectURIs() []string              { return c.Client.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string    { return c.Client.PostLogoutRedirectURIs }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType        { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string           { return "/login?authRequestID=" + id }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return time.Duration(c.lifetime.Load()) }
func (c *client) DevMode() bool                       { return true }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(string) bool           { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k signingKey }

func (k *publicKey) ID() string                         { return k.k.id }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return &k.k.key.PublicKey }
