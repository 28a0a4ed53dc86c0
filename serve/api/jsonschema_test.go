package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// The second, independent check of the responses: the document's schemas
// compiled by a JSON Schema validator (santhosh-tekuri/jsonschema), which
// shares no code with kin-openapi's schema engine. The document is OpenAPI
// 3.0, whose Schema Object is an extension of JSON Schema draft 4 (Wright
// draft 00), so the schemas are compiled as draft 4 after one rewrite:
// OpenAPI's `nullable: true` becomes "null" in `type` (and in `enum`).
// Formats (date, date-time) are asserted.

// docURL is where the compiled document is said to live.
const docURL = "https://caserisk.invalid/api/v1/openapi.json"

// schemaDoc is the served document as JSON Schema reads it.
type schemaDoc struct {
	raw      map[string]any // the document as served
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

func newSchemaDoc(t testing.TB, served []byte) *schemaDoc {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal(served, &raw); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(served))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.AssertFormat()
	if err := c.AddResource(docURL, fromOpenAPI30(inst)); err != nil {
		t.Fatal(err)
	}
	return &schemaDoc{raw: raw, compiler: c, compiled: map[string]*jsonschema.Schema{}}
}

// fromOpenAPI30 rewrites OpenAPI 3.0's nullable into JSON Schema.
func fromOpenAPI30(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			x[k] = fromOpenAPI30(y)
		}
		if x["nullable"] == true {
			delete(x, "nullable")
			switch ty := x["type"].(type) {
			case string:
				x["type"] = []any{ty, "null"}
			case []any:
				x["type"] = append(ty, "null")
			}
			if e, ok := x["enum"].([]any); ok {
				x["enum"] = append(e, nil)
			}
		}
	case []any:
		for i, y := range x {
			x[i] = fromOpenAPI30(y)
		}
	}
	return v
}

// schema compiles the schema at a JSON pointer of the document.
func (d *schemaDoc) schema(ptr string) (*jsonschema.Schema, error) {
	if s, ok := d.compiled[ptr]; ok {
		return s, nil
	}
	s, err := d.compiler.Compile(docURL + "#" + (&url.URL{Fragment: ptr}).EscapedFragment())
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", ptr, err)
	}
	d.compiled[ptr] = s
	return s, nil
}

// at returns the value at a JSON pointer of the served document.
func (d *schemaDoc) at(ptr string) (any, bool) {
	var v any = d.raw
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)]; !ok {
			return nil, false
		}
	}
	return v, true
}

func escapeTok(s string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(s) }

// operation finds an operation's path template and method by operationId.
func (d *schemaDoc) operation(id string) (path, method string, ok bool) {
	paths, _ := d.raw["paths"].(map[string]any)
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			if o, isOp := op.(map[string]any); isOp && o["operationId"] == id {
				return p, m, true
			}
		}
	}
	return "", "", false
}

// responseSchema returns the pointer of the schema the document gives an
// operation's answer of a status and media type.
func (d *schemaDoc) responseSchema(opID string, status int, mediaType string) (string, error) {
	p, m, ok := d.operation(opID)
	if !ok {
		return "", fmt.Errorf("no operation %s", opID)
	}
	resp := "/paths/" + escapeTok(p) + "/" + m + "/responses/" + strconv.Itoa(status)
	v, ok := d.at(resp)
	if !ok {
		return "", fmt.Errorf("%s documents no %d answer", opID, status)
	}
	if r, isRef := v.(map[string]any)["$ref"].(string); isRef {
		resp = strings.TrimPrefix(r, "#")
	}
	sch := resp + "/content/" + escapeTok(mediaType) + "/schema"
	if _, ok := d.at(sch); !ok {
		return "", fmt.Errorf("%s documents no %s body for %d", opID, mediaType, status)
	}
	return sch, nil
}

// validate checks a body against the schema at ptr.
func (d *schemaDoc) validate(ptr string, body []byte, mediaType string) error {
	s, err := d.schema(ptr)
	if err != nil {
		return err
	}
	var inst any
	if mediaType == "text/plain" {
		inst = string(body)
	} else if inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(body)); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(inst)
}

// recordingRunner is a score-run runner that records each run through the
// store, as the batch package does after scoring.
type recordingRunner struct{ st store.Store }

func (r recordingRunner) Run(ctx context.Context, req core.RunRequest) ([]store.ScoreRun, error) {
	var out []store.ScoreRun
	asOf, capacity := req.AsOf, req.Capacity
	for _, t := range req.Targets {
		if asOf == "1999-01-01" {
			return nil, fmt.Errorf("no extracts as of %s: %w", asOf, store.ErrNotFound)
		}
		run, _, err := r.st.RecordScoreRun(ctx, store.NewRun{Target: t, AsOf: asOf, ModelVersion: 1, Capacity: capacity,
			Scores: []store.Score{{EntityID: "R3", ResidentID: "R3", Score: 0.7, Margin: 0.8, Band: "high", Rank: 1}}})
		if err != nil {
			return nil, err
		}
		out = append(out, run)
	}
	return out, nil
}

// Coverage says the data covers 1990 to 2025.
func (r recordingRunner) Coverage(context.Context) (string, string, error) {
	return "1990-01-01", "2025-12-31", nil
}

// TestResponsesValidateAsJSONSchema sends real requests for every
// operation and every documented kind of error answer, and validates each
// body with the JSON Schema validator against the schema the document
// gives that operation, status and media type (the requests pass the
// openapi3filter check of newEnv too). GET /api/v1/cases/{id} is checked
// open, moved on and closed with its history.
func TestResponsesValidateAsJSONSchema(t *testing.T) {
	forBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend, envOptions{config: func(c *Config) { c.Runner = recordingRunner{st: c.Store} }})
		noRunner := newEnv(t, "sqlite", envOptions{})
		seed(t, e.st)
		ctx := context.Background()
		if _, err := e.st.AppendAudit(ctx, audit.Record{At: time.Now(), User: "cli-user", Role: auditRoleCLI, Action: "model.register",
			Resource: "model/complex_case/1", Purpose: "model development and monitoring"}); err != nil {
			t.Fatal(err)
		}
		bad, err := e.st.RegisterModel(ctx, store.NewModel{Target: store.TenancyFraud, Path: "bad.json",
			Artifact: testArtifact(t, store.ComplexCase, 9, e.nfeat, 5, 3), Bands: store.Bands{High: 0.5, Medium: 0.2}, RegisteredBy: "test"})
		if err != nil {
			t.Fatal(err)
		}
		cc, tf := caseOf(t, e.st, store.ComplexCase, "R1"), caseOf(t, e.st, store.TenancyFraud, "T1")
		d := newSchemaDoc(t, e.srv.doc)
		rows := make([]any, 51)
		for i := range rows {
			rows[i] = e.row(i)
		}
		caseURL := fmt.Sprintf("/api/v1/cases/%d", cc)
		type call struct {
			env          *env
			op           string
			role         auth.Role
			method, path string
			body         any
			contentType  string
			status       int
		}
		calls := []call{
			{op: "scoreRows", role: ds, method: "POST", path: "/api/v1/score?target=complex_case", body: map[string]any{"rows": []any{e.row(1), e.row(2)}, "reasons": 3}, status: 200},
			{op: "scoreRows", role: fo, method: "POST", path: "/api/v1/score?target=tenancy_fraud", body: map[string]any{"rows": []any{e.row(3)}}, status: 200},
			{op: "scoreRows", role: ds, method: "POST", path: "/api/v1/score?target=complex_case", body: map[string]any{"rows": []any{map[string]any{"nope": 1}}}, status: 400},
			{op: "scoreRows", role: ds, method: "POST", path: "/api/v1/score?target=complex_case", body: map[string]any{"rows": rows}, status: 413},
			{op: "scoreRows", role: ds, method: "POST", path: "/api/v1/score?target=complex_case", body: "rows=1", contentType: "text/plain", status: 415},
			{op: "scoreRows", role: ad, method: "POST", path: "/api/v1/score?target=complex_case", body: map[string]any{"rows": []any{e.row(1)}}, status: 403},
			{op: "getResident", role: cw, method: "GET", path: "/api/v1/residents/R1", status: 200},
			{op: "getResident", role: fo, method: "GET", path: "/api/v1/residents/R1?from=2024-01-01&to=2024-12-31&limit=10", status: 200},
			{op: "getResident", role: cw, method: "GET", path: "/api/v1/residents/R1?service=repairs&offset=0&limit=5", status: 200},
			{op: "getResident", role: cw, method: "GET", path: "/api/v1/residents/R1?service=fraud_investigations", status: 400},
			{op: "getResident", role: cw, method: "GET", path: "/api/v1/residents/NOPE", status: 404},
			{op: "findResidents", role: cw, method: "GET", path: "/api/v1/residents?name=ada+te", status: 200},
			{op: "findResidents", role: fo, method: "GET", path: "/api/v1/residents?dob=1980-01-02&limit=5", status: 200},
			{op: "findResidents", role: cw, method: "GET", path: "/api/v1/residents", status: 400},
			{op: "findResidents", role: cw, method: "GET", path: "/api/v1/residents?name=x&limit=51", status: 400},
			{op: "findResidents", role: ds, method: "GET", path: "/api/v1/residents?name=ada", status: 403},
			{op: "getResident", role: none, method: "GET", path: "/api/v1/residents/R1", status: 401},
			{op: "getResident", role: ds, method: "GET", path: "/api/v1/residents/R1", status: 403},
			{op: "getResidentRisk", role: cw, method: "GET", path: "/api/v1/residents/R1/risk", status: 200},
			{op: "getResidentRisk", role: fo, method: "GET", path: "/api/v1/residents/R2/risk", status: 200},
			{op: "listComplexCaseQueue", role: cw, method: "GET", path: "/api/v1/queues/complex-cases?status=new,reviewing&limit=10", status: 200},
			{op: "listComplexCaseQueue", role: cw, method: "GET", path: "/api/v1/queues/complex-cases?status=referred", status: 400},
			{op: "listTenancyFraudQueue", role: fo, method: "GET", path: "/api/v1/queues/tenancy-fraud", status: 200},
			{op: "getCase", role: cw, method: "GET", path: caseURL, status: 200},
			{op: "setCaseStatus", role: cw, method: "POST", path: caseURL + "/status", body: map[string]any{"status": "help_offered"}, status: 409},
			{op: "setCaseStatus", role: cw, method: "POST", path: caseURL + "/status", body: map[string]any{"status": "reviewing", "note": "called the family"}, status: 200},
			{op: "getCase", role: cw, method: "GET", path: caseURL, status: 200},
			{op: "closeCase", role: cw, method: "POST", path: caseURL + "/outcome", body: map[string]any{"outcome": "help_accepted", "note": "early help plan agreed"}, status: 200},
			{op: "getCase", role: cw, method: "GET", path: caseURL, status: 200},
			{op: "getCase", role: fo, method: "GET", path: fmt.Sprintf("/api/v1/cases/%d", tf), status: 200},
			// A case of a kind the role may not work is not found, as a
			// missing one is.
			{op: "getCase", role: fo, method: "GET", path: caseURL, status: 404},
			{op: "getCase", role: cw, method: "GET", path: "/api/v1/cases/999999", status: 404},
			{op: "listModels", role: ds, method: "GET", path: "/api/v1/models", status: 200},
			{op: "promoteModel", role: ad, method: "POST", path: "/api/v1/models/complex_case:1/promote", status: 200},
			{op: "promoteModel", role: ad, method: "POST", path: fmt.Sprintf("/api/v1/models/%d/promote?target=tenancy_fraud", bad.Version), status: 422},
			{op: "promoteModel", role: ad, method: "POST", path: "/api/v1/models/99/promote?target=complex_case", status: 404},
			{op: "startScoreRun", role: ds, method: "POST", path: "/api/v1/score-runs", body: map[string]any{"as_of": "2025-06-30", "capacity": 1, "targets": []string{"complex_case"}}, status: 200},
			{op: "startScoreRun", role: ds, method: "POST", path: "/api/v1/score-runs", body: map[string]any{"as_of": "1999-01-01"}, status: 409},
			{op: "startScoreRun", role: ds, method: "POST", path: "/api/v1/score-runs", body: map[string]any{"as_of": "2099-01-01"}, status: 400},
			{env: noRunner, op: "startScoreRun", role: ad, method: "POST", path: "/api/v1/score-runs", body: map[string]any{"as_of": "2025-06-30"}, status: 503},
			{op: "listScoreRuns", role: ds, method: "GET", path: "/api/v1/score-runs?target=complex_case", status: 200},
			{op: "exportLabels", role: ds, method: "GET", path: "/api/v1/labels?target=complex_case", status: 200},
			{op: "listAudit", role: ad, method: "GET", path: "/api/v1/audit?limit=1000", status: 200},
			{op: "listAudit", role: ad, method: "GET", path: "/api/v1/audit?limit=0", status: 400},
			{op: "getHealth", method: "GET", path: "/healthz", status: 200},
			{op: "getReadiness", method: "GET", path: "/readyz", status: 200},
			{op: "getMetrics", method: "GET", path: "/metrics", status: 200},
			{op: "getOpenAPI", method: "GET", path: "/api/v1/openapi.json", status: 200},
			{op: "getHealthHead", method: "HEAD", path: "/healthz", status: 200},
			{op: "getReadinessHead", method: "HEAD", path: "/readyz", status: 200},
			{op: "getMetricsHead", method: "HEAD", path: "/metrics", status: 200},
			{op: "getOpenAPIHead", method: "HEAD", path: "/api/v1/openapi.json", status: 200},
			// Outside every operation: a problem all the same.
			{op: "", method: "GET", path: "/api/v1/nope", status: 404},
			{op: "", method: "DELETE", path: "/healthz", status: 405},
		}
		ok200 := map[string]bool{}
		problems := map[int]bool{}
		var caseBodies [][]byte
		for _, c := range calls {
			env := c.env
			if env == nil {
				env = e
			}
			status, header, body := env.send(c.role, c.method, c.path, c.body, c.contentType)
			name := fmt.Sprintf("%s %s as %q", c.method, c.path, c.role)
			if status != c.status {
				t.Errorf("%s: status %d, want %d: %s", name, status, c.status, body)
				continue
			}
			if c.method == "HEAD" {
				// The GET answer's status and headers, no body.
				if len(body) != 0 || header.Get(RequestIDHeader) == "" {
					t.Errorf("%s: %d body bytes, request id %q", name, len(body), header.Get(RequestIDHeader))
				}
				ok200[c.op] = true
				continue
			}
			mediaType := strings.TrimSpace(strings.Split(header.Get("Content-Type"), ";")[0])
			ptr := "/components/schemas/Problem"
			if c.op != "" {
				var err error
				if ptr, err = d.responseSchema(c.op, status, mediaType); err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
			} else if mediaType != "application/problem+json" {
				t.Errorf("%s: Content-Type %q, want a problem", name, mediaType)
			}
			if err := d.validate(ptr, body, mediaType); err != nil {
				t.Errorf("%s: the %d answer does not validate against %s:\n%v\nbody: %s", name, status, ptr, err, body)
				continue
			}
			if status == 200 {
				ok200[c.op] = true
			} else {
				problems[status] = true
			}
			if c.op == "getCase" && status == 200 {
				caseBodies = append(caseBodies, body)
			}
		}
		// Every operation's answer and every kind of problem was seen.
		paths, _ := d.raw["paths"].(map[string]any)
		for _, item := range paths {
			for _, op := range item.(map[string]any) {
				if id, _ := op.(map[string]any)["operationId"].(string); id != "" && !ok200[id] {
					t.Errorf("no 200 answer of %s was validated", id)
				}
			}
		}
		responses, _ := d.at("/components/responses")
		var kinds []string
		for name := range responses.(map[string]any) {
			kinds = append(kinds, name)
		}
		sort.Strings(kinds)
		for _, st := range []int{400, 401, 403, 404, 405, 409, 413, 415, 422, 503} {
			if !problems[st] {
				t.Errorf("no %d problem was validated", st)
			}
		}
		// 500 shares the Problem schema; no request here can cause one.
		t.Logf("%d answers validated; component responses %v", len(calls), kinds)

		// The case detail: closed, with its history (opened, reviewing,
		// closed), and the schema refuses
		// what the server must never send.
		if len(caseBodies) < 3 {
			t.Fatalf("%d case details validated, want 3", len(caseBodies))
		}
		var closed map[string]any
		if err := json.Unmarshal(caseBodies[2], &closed); err != nil {
			t.Fatal(err)
		}
		if closed["status"] != "closed" || closed["outcome"] != "help_accepted" || len(closed["history"].([]any)) != 3 {
			t.Fatalf("closed case detail: %s", caseBodies[2])
		}
		ptr, err := d.responseSchema("getCase", 200, "application/json")
		if err != nil {
			t.Fatal(err)
		}
		for what, mutate := range map[string]func(m map[string]any){
			"an unknown field":  func(m map[string]any) { m["extra"] = 1 },
			"an unknown status": func(m map[string]any) { m["status"] = "archived" },
			"no history":        func(m map[string]any) { delete(m, "history") },
			"a bad time":        func(m map[string]any) { m["opened"] = "yesterday" },
			"a bad outcome":     func(m map[string]any) { m["outcome"] = "solved" },
		} {
			var m map[string]any
			_ = json.Unmarshal(caseBodies[2], &m)
			mutate(m)
			b, _ := json.Marshal(m)
			if err := d.validate(ptr, b, "application/json"); err == nil {
				t.Errorf("a case detail with %s validates", what)
			}
		}
	})
}
