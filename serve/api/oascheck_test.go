package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"caserisk/serve/auth"
)

// oasCheck checks HTTP exchanges against the service's OpenAPI document
// with kin-openapi's openapi3filter: the request against its operation's
// parameters, security and body, the response against the operation's
// documented statuses, headers and bodies.
type oasCheck struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
}

// loadOASCheck loads and validates the document as a client would read it
// (from its JSON) and builds a router over it.
func loadOASCheck(t testing.TB, raw []byte) *oasCheck {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("OpenAPI document does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("OpenAPI document is not valid: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("OpenAPI router: %v", err)
	}
	return &oasCheck{doc: doc, router: router, opts: &openapi3filter.Options{
		IncludeResponseStatus: true, // a status the document does not list is a mismatch
		MultiError:            true,
		AuthenticationFunc:    bearerPresent,
	}}
}

// bearerPresent is the document's security check as a client sees it: the
// bearer scheme needs an Authorization header of the form "Bearer TOKEN".
// Whether the token is good is the server's to say (401).
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "bearer" {
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	if _, err := auth.ParseBearer(in.RequestValidationInput.Request.Header.Get("Authorization")); err != nil {
		return fmt.Errorf("no bearer token: %w", err)
	}
	return nil
}

// exchange is one request and the answer it got.
type exchange struct {
	req     *http.Request
	reqBody []byte
	status  int
	header  http.Header
	body    []byte
}

// check validates one exchange. A request the document rejects must be
// refused with a documented 4xx; every answer to a documented operation
// must be one of its documented responses; a request for no documented
// operation must get a 404 or 405 problem. The error names the operation.
func (c *oasCheck) check(x exchange) error {
	ctx := context.Background()
	req := x.req.Clone(ctx)
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		if (x.status == http.StatusNotFound && errors.Is(err, routers.ErrPathNotFound)) ||
			(x.status == http.StatusMethodNotAllowed && errors.Is(err, routers.ErrMethodNotAllowed)) {
			return c.checkProblem(x)
		}
		return fmt.Errorf("%s %s: not a documented operation (%v), yet the server answered %d", x.req.Method, x.req.URL.Path, err, x.status)
	}
	name := fmt.Sprintf("%s (%s %s)", route.Operation.OperationID, route.Method, route.Path)
	if len(x.reqBody) > 0 && req.Header.Get("Content-Type") == "" {
		// The server reads a body without a Content-Type as JSON, as the
		// request bodies' descriptions say.
		req.Header.Set("Content-Type", "application/json")
	}
	req.Body = io.NopCloser(bytes.NewReader(x.reqBody))
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: c.opts}
	var errs []string
	if reqErr := openapi3filter.ValidateRequest(ctx, in); reqErr != nil && x.status < 400 {
		errs = append(errs, fmt.Sprintf("the server answered %d to a request the document rejects: %v", x.status, reqErr))
	}
	in.Request.Body = io.NopCloser(bytes.NewReader(x.reqBody))
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: x.status, Header: x.header, Options: c.opts}
	out.SetBodyBytes(x.body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		errs = append(errs, fmt.Sprintf("response %d does not match the document: %v", x.status, err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("OpenAPI %s: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// checkProblem validates the body of an answer outside every documented
// operation (no such route, method not allowed) as a Problem.
func (c *oasCheck) checkProblem(x exchange) error {
	if ct := x.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		return fmt.Errorf("%s %s: %d with Content-Type %q, want a problem document", x.req.Method, x.req.URL.Path, x.status, ct)
	}
	v, err := decodeJSON(x.body)
	if err != nil {
		return fmt.Errorf("%s %s: %d: %v", x.req.Method, x.req.URL.Path, x.status, err)
	}
	if err := c.doc.Components.Schemas["Problem"].Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("%s %s: %d: not a Problem: %v", x.req.Method, x.req.URL.Path, x.status, err)
	}
	return nil
}

// wrap returns h with every exchange checked, reporting each mismatch.
func (c *oasCheck) wrap(h http.Handler, report func(error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			var err error
			if body, err = io.ReadAll(r.Body); err != nil {
				report(fmt.Errorf("%s %s: reading the request body: %v", r.Method, r.URL.Path, err))
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		sent := r.Clone(r.Context())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if err := c.check(exchange{req: sent, reqBody: body, status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}); err != nil {
			report(err)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// decodeJSON decodes a JSON document into the values kin-openapi's and
// the JSON Schema validator's checks take.
func decodeJSON(b []byte) (any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return v, nil
}

// TestOASCheckCatchesMismatches feeds the check exchanges that break the
// document, each of which must fail naming its operation, and one that
// keeps it.
func TestOASCheckCatchesMismatches(t *testing.T) {
	e := newEnv(t, "sqlite", envOptions{})
	c := e.oas
	okHeader := http.Header{}
	okHeader.Set("Content-Type", "application/json")
	okHeader.Set(RequestIDHeader, "abc-123")
	get := func(path string, bearer bool) *http.Request {
		r := httptest.NewRequest("GET", path, nil)
		if bearer {
			r.Header.Set("Authorization", "Bearer "+e.tokens[auth.DataScientist])
		}
		return r
	}
	if err := c.check(exchange{req: get("/healthz", false), status: 200, header: okHeader, body: []byte(`{"status":"ok"}`)}); err != nil {
		t.Fatalf("a good exchange: %v", err)
	}
	for _, tc := range []struct {
		what string
		x    exchange
		want string
	}{
		{"a value outside an enum", exchange{req: get("/healthz", false), status: 200, header: okHeader, body: []byte(`{"status":"fine"}`)}, "getHealth"},
		{"an undocumented status", exchange{req: get("/healthz", false), status: 418, header: okHeader, body: []byte(`{}`)}, "getHealth"},
		{"no X-Request-ID", exchange{req: get("/healthz", false), status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{"status":"ok"}`)}, "getHealth"},
		{"a missing required field", exchange{req: get("/api/v1/cases/1", true), status: 200, header: okHeader, body: []byte(`{"id":1}`)}, "getCase"},
		{"an unknown field", exchange{req: get("/api/v1/models", true), status: 200, header: okHeader, body: []byte(`{"models":[],"more":true}`)}, "listModels"},
		{"a 200 to a request with a bad enum", exchange{req: get("/api/v1/models?target=bogus", true), status: 200, header: okHeader, body: []byte(`{"models":[]}`)}, "listModels"},
		{"a 200 without a token", exchange{req: get("/api/v1/models", false), status: 200, header: okHeader, body: []byte(`{"models":[]}`)}, "listModels"},
		{"a problem with the wrong media type", exchange{req: get("/api/v1/models", false), status: 401, header: okHeader, body: []byte(`{"type":"x","title":"Unauthorized","status":401}`)}, "listModels"},
		{"an undocumented route answered", exchange{req: get("/api/v1/nope", false), status: 200, header: okHeader, body: []byte(`{}`)}, "/api/v1/nope"},
	} {
		err := c.check(tc.x)
		if err == nil {
			t.Errorf("%s: passed the check", tc.what)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: the error does not name %s: %v", tc.what, tc.want, err)
		}
	}
}
