package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"caserisk/models/target"
	"caserisk/serve/api/problem"
	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// The document is OpenAPI 3.0 (not 3.1): kin-openapi then validates with
// its own schema engine, so the tests' second validator (a JSON Schema
// draft 4 engine reading the same schemas) is an independent check, and
// 3.0 is what most integrators' tools read. The one 3.0-only keyword used
// is nullable (reason values and feature values may be null).
const openAPIVersion = "3.0.3"

// openAPITags are the document's tags, in the order a reader meets them.
var openAPITags = openapi3.Tags{
	{Name: "scoring", Description: "Score feature rows with the champion model of a target."},
	{Name: "residents", Description: "A resident's single view and latest scores, for the roles whose purpose needs them. Every read is audited."},
	{Name: "cases", Description: "The ranked review queues that score runs open, and the case workflow whose outcomes become training labels."},
	{Name: "models", Description: "The model registry, promotion, batch score runs and label export, for data scientists and administrators."},
	{Name: "admin", Description: "The hash-chained audit log."},
	{Name: "operations", Description: "Liveness, readiness, metrics and this document."},
}

// auditRoleCLI is the role the retraining pipeline and the demo write to
// the audit log for the changes they make themselves (the other commands
// write auth.Operator).
const auditRoleCLI = "cli"

// ref is a reference to a component schema.
func ref(name string) *openapi3.SchemaRef {
	return openapi3.NewSchemaRef("#/components/schemas/"+name, nil)
}

// val wraps an inline schema.
func val(s *openapi3.Schema) *openapi3.SchemaRef { return s.NewRef() }

// describe sets a schema's description.
func describe(s *openapi3.Schema, desc string) *openapi3.Schema {
	s.Description = desc
	return s
}

func str(desc string) *openapi3.SchemaRef { return val(describe(openapi3.NewStringSchema(), desc)) }
func integ(desc string) *openapi3.SchemaRef {
	return val(describe(openapi3.NewInt64Schema(), desc))
}
func num(desc string) *openapi3.SchemaRef { return val(describe(openapi3.NewFloat64Schema(), desc)) }
func prob(desc string) *openapi3.SchemaRef {
	return val(describe(openapi3.NewFloat64Schema().WithMin(0).WithMax(1), desc))
}
func date(desc string) *openapi3.SchemaRef { return val(describe(dateSchema(), desc)) }
func timestamp(desc string) *openapi3.SchemaRef {
	return val(describe(openapi3.NewDateTimeSchema(), desc))
}
func arr(items *openapi3.SchemaRef) *openapi3.SchemaRef { return arrOf("", items) }
func arrOf(desc string, items *openapi3.SchemaRef) *openapi3.SchemaRef {
	s := describe(openapi3.NewArraySchema(), desc)
	s.Items = items
	return val(s)
}

// object is a closed object schema: the named properties, those listed
// required, nothing else.
func object(desc string, required []string, props openapi3.Schemas) *openapi3.Schema {
	s := openapi3.NewObjectSchema().WithoutAdditionalProperties()
	s.Description = desc
	s.Properties = props
	if len(required) > 0 {
		s.Required = required
	}
	return s
}

// dateSchema is a calendar date, YYYY-MM-DD.
func dateSchema() *openapi3.Schema { return openapi3.NewStringSchema().WithFormat("date") }

// intRange is a whole number from lo to hi.
func intRange(lo, hi int) *openapi3.Schema {
	return openapi3.NewIntegerSchema().WithMin(float64(lo)).WithMax(float64(hi))
}

// enum is a string schema that allows exactly values.
func enum[T ~string](desc string, values []T) *openapi3.Schema {
	vs := make([]any, len(values))
	for i, v := range values {
		vs[i] = string(v)
	}
	return describe(openapi3.NewStringSchema().WithEnum(vs...), desc)
}

// targetSchema is a target's code, from the catalogue of targets.
func targetSchema() *openapi3.Schema {
	return enum("a target: what a model predicts, and the kind of case its scores open", target.Names())
}

// statusSchema is a case status among ss.
func statusSchema(ss []store.Status) *openapi3.Schema { return enum("a case status", ss) }

// caseStatuses returns every status a case of the kind can be in, in
// workflow order (closed last), following the store's workflow rules from
// the initial status.
func caseStatuses(kind store.Target) []store.Status {
	out := []store.Status{store.InitialStatus(kind)}
	for i := 0; i < len(out); i++ {
		for _, n := range store.NextStatuses(kind, out[i]) {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	if i := slices.Index(out, store.StatusClosed); i >= 0 {
		out = append(slices.Delete(out, i, i+1), store.StatusClosed)
	}
	return out
}

// allStatuses returns the statuses of every kind of case; closed last.
func allStatuses() []store.Status {
	var out []store.Status
	for _, k := range store.Targets() {
		for _, s := range caseStatuses(k) {
			if s != store.StatusClosed && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return append(out, store.StatusClosed)
}

// movableStatuses returns the statuses POST /cases/{id}/status can move a
// case to: every status some status leads to, except closed.
func movableStatuses() []store.Status {
	var out []store.Status
	for _, k := range store.Targets() {
		for _, from := range caseStatuses(k) {
			for _, to := range store.NextStatuses(k, from) {
				if to != store.StatusClosed && !slices.Contains(out, to) {
					out = append(out, to)
				}
			}
		}
	}
	return out
}

// allOutcomes returns the outcomes of every kind of case.
func allOutcomes() []store.Outcome {
	var out []store.Outcome
	for _, k := range store.Targets() {
		for _, o := range store.Outcomes(k) {
			if !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// bandNames are the bands a score falls in, highest first, as
// store.Bands.Band names them.
func bandNames() []string {
	b := store.Bands{High: 1, Medium: 0.5}
	return []string{b.Band(1), b.Band(0.5), b.Band(0)}
}

// idPattern is the alphabet and length of resident ids and request ids
// (validRequestID).
const idPattern = `^[A-Za-z0-9._-]{1,64}$`

// residentIDSchema is a resident id.
func residentIDSchema() *openapi3.Schema { return openapi3.NewStringSchema().WithPattern(idPattern) }

// versionSchema is a model version in a path: N or TARGET:N.
func versionSchema() *openapi3.Schema {
	names := make([]string, 0, 2)
	for _, n := range target.Names() {
		names = append(names, regexp.QuoteMeta(string(n)))
	}
	return openapi3.NewStringSchema().WithPattern(`^((` + strings.Join(names, "|") + `):)?[1-9][0-9]*$`)
}

// schemas are the document's component schemas.
func schemas() openapi3.Schemas {
	reason := object("a reason behind a score: one feature's contribution", []string{"feature", "value", "contribution", "text"}, openapi3.Schemas{
		"feature":      str("feature name"),
		"value":        val(describe(openapi3.NewFloat64Schema().WithNullable(), "the row's value; null when not known")),
		"contribution": num("contribution to the margin (log-odds); positive raises the score"),
		"text":         str("the reason in plain English"),
	})
	// caseProps are a case's properties; each call makes a new map.
	caseProps := func() openapi3.Schemas {
		next := describe(openapi3.NewArraySchema(), "the statuses the case may move to next (closed needs an outcome)")
		next.Items = ref("CaseStatus")
		return openapi3.Schemas{
			"id": integ("case id"), "kind": ref("Target"), "entity_id": str("resident or tenancy id"),
			"resident_id": str("resident id"), "run_id": integ("score run that opened it"), "score": prob("score that opened it"),
			"rank": integ("rank in that run"), "status": ref("CaseStatus"), "outcome": ref("CaseOutcome"),
			"assigned_to": integ("user id of the case's worker"), "opened": timestamp("when the case opened"),
			"updated": timestamp("when it last changed"), "closed": timestamp("when it closed"),
			"next_statuses": val(next),
			"household": str("the household the case stands for (complex cases: the key its members' scores share, the UPRN of " +
				"their home); absent for a case of one resident or tenancy"),
		}
	}
	caseRequired := []string{"id", "kind", "entity_id", "resident_id", "run_id", "score", "rank", "status", "opened", "updated", "next_statuses"}
	// CaseDetail is Case's properties and the history, in one closed
	// object: an allOf of two closed objects would refuse every value.
	caseDetailProps := caseProps()
	caseDetailProps["history"] = arr(ref("CaseEvent"))
	caseDetailProps["members"] = arrOf("the scored members of the case's household in the run that opened it, best rank first "+
		"(the case's own entity alone for a case of one)", ref("CaseMember"))
	auditRoles := []string{}
	for _, r := range auth.PolicyRoles() {
		auditRoles = append(auditRoles, string(r))
	}
	auditRoles = append(auditRoles, auditRoleCLI)
	hexHash := func(desc string) *openapi3.SchemaRef {
		return val(describe(openapi3.NewStringSchema().WithPattern(`^[0-9a-f]{64}$`), desc))
	}
	champions := openapi3.Schemas{}
	for _, n := range target.Names() {
		champions[string(n)] = integ("the registry version of the " + string(n) + " champion")
	}

	return openapi3.Schemas{
		"Target": val(targetSchema()),
		"CaseStatus": val(enum("where a case is in its workflow. Complex cases: new → reviewing → help_offered → closed "+
			"(a case may close from any of them). Tenancy fraud: referred → investigating → closed.", allStatuses())),
		"CaseOutcome": val(enum("how a case closed. Complex cases: help_accepted, help_declined (labels 1), no_need_found "+
			"(label 0), not_reachable, already_known (no label). Tenancy fraud: fraud_confirmed (1), no_fraud (0), "+
			"insufficient_evidence (no label).", allOutcomes())),
		"Band": val(enum(fmt.Sprintf("a score's band. Batch scores (queues, risk, cases) use fixed bands, the same in every run: "+
			"high from a calibrated probability of %g, medium from %g, low below; POST /score uses the model's registered thresholds",
			target.HighFrom, target.MediumFrom), bandNames())),
		"Stage": val(enum("where a model is in its life", []store.Stage{store.Candidate, store.Champion, store.Retired})),
		"Role": val(enum("the role that acted: a user's role, operator for caserisk's commands on the server, or cli "+
			"for the retraining pipeline's and the demo's own changes", auditRoles)),
		"Problem": val(object("RFC 9457 problem details", []string{"type", "title", "status"}, openapi3.Schemas{
			"type": str("problem type URI"), "title": str("short summary"),
			"status": val(describe(intRange(400, 599), "HTTP status")),
			"detail": str("what went wrong, naming the field"), "instance": str("route template"),
			"request_id": str("quote it when asking for help"),
			"errors":     arr(ref("FieldError")),
		})),
		"FieldError": val(object("a field of the request at fault", []string{"field", "detail"}, openapi3.Schemas{
			"field": str("where: e.g. rows[2].age_years, status, or a query parameter"), "detail": str("why"),
		})),
		"Bands": val(object("the band thresholds of a model's calibrated probabilities", []string{"high", "medium"}, openapi3.Schemas{
			"high": prob("a score at least this is band high"), "medium": prob("a score at least this (and below high) is band medium"),
		})),
		"Reason": val(reason),
		"ScoreRequest": val(object("feature rows to score", []string{"rows"}, openapi3.Schemas{
			"rows": val(describe(openapi3.NewArraySchema().WithMinItems(1).WithItems(
				openapi3.NewObjectSchema().WithAdditionalProperties(openapi3.NewFloat64Schema().WithNullable())),
				"feature rows: every feature of the champion, each a finite number or null (not known)")),
			"reasons": val(describe(openapi3.NewIntegerSchema().WithMin(0), "reasons to return per row (0: none; at most the service's limit)")),
		})),
		"ScoreResponse": val(object("the champion's scores of the rows, in order", []string{"target", "model_version", "results"}, openapi3.Schemas{
			"target": ref("Target"), "model_version": integ("the champion's registry version"),
			"results": arr(ref("ScoreResult")),
		})),
		"ScoreResult": val(object("one row's score", []string{"score", "band"}, openapi3.Schemas{
			"score": prob("calibrated probability"), "band": ref("Band"),
			"reasons": arr(ref("Reason")),
		})),
		"Resident": val(object("a resident's single view", []string{"resident", "stays", "timeline"}, openapi3.Schemas{
			"resident": ref("ResidentDetails"), "stays": arr(ref("Stay")), "timeline": arr(ref("TimelineEvent")),
		})),
		"ResidentDetails": val(object("who the resident is", []string{"id", "given_name", "family_name"}, openapi3.Schemas{
			"id": str("resident id"), "given_name": str("given name"), "family_name": str("family name"),
			"date_of_birth": date("date of birth"), "sex": str("sex as recorded"), "first_seen": date("first record in any service"),
			"date_of_death": date("date of death"),
		})),
		"Stay": val(object("a stay at an address", []string{"uprn", "start"}, openapi3.Schemas{
			"uprn": integ("the property's UPRN"), "start": date("moved in"), "end": date("moved out; absent while living there"),
			"relationship": str("relationship to the household's lead"), "address": str("address"), "postcode": str("postcode"),
			"ward": str("ward"), "property_type": str("property type"), "tenure": str("tenure"),
		})),
		"TimelineEvent": val(object("an event in one of the council's services", []string{"service", "date"}, openapi3.Schemas{
			"service": str("service key of the data contract"), "date": date("when"), "type": str("event type"),
			"uprn": integ("the property's UPRN"), "amount_gbp": num("amount in pounds"), "detail": str("short description"),
		})),
		"Risk": val(object("a resident's latest scores", []string{"resident_id", "scores"}, openapi3.Schemas{
			"resident_id": str("resident id"), "scores": arr(ref("RiskScore")),
		})),
		"RiskScore": val(object("the latest batch score of one target", []string{"target", "as_of", "model_version", "score", "band", "rank", "of", "entity_id", "reasons"}, openapi3.Schemas{
			"target": ref("Target"), "as_of": date("the run's as-of date"), "model_version": integ("the champion's registry version"),
			"score": prob("calibrated probability"), "band": ref("Band"), "rank": integ("rank in the run (1 is the highest score)"),
			"of": integ("entities scored in the run"), "entity_id": str("resident or tenancy id"), "reasons": arr(ref("Reason")),
		})),
		"Case":       val(object("a case opened by a score run", caseRequired, caseProps())),
		"CaseDetail": val(object("a case with its history and its household's members", append(slices.Clone(caseRequired), "history", "members"), caseDetailProps)),
		"CaseMember": val(object("a member of a case's household with their own score", []string{"resident_id", "entity_id", "score", "band", "rank"}, openapi3.Schemas{
			"resident_id": str("resident id"), "entity_id": str("the scored entity"), "score": prob("calibrated probability"),
			"band": ref("Band"), "rank": integ("rank in the run"),
		})),
		"ResidentsFound": val(object("residents found, by family name", []string{"residents", "more"}, openapi3.Schemas{
			"residents": arr(ref("FoundResident")), "more": val(describe(openapi3.NewBoolSchema(), "more residents match than the limit: narrow the search")),
		})),
		"FoundResident": val(object("a resident found, with the details the caller's role may see", []string{"id"}, openapi3.Schemas{
			"id": str("resident id"), "name": str("given and family name"), "date_of_birth": date("date of birth"),
			"age":     val(describe(openapi3.NewIntegerSchema().WithMin(0), "age in whole years today")),
			"address": str("current address"), "postcode": str("current postcode"),
		})),
		"CaseEvent": val(object("a change of a case's status", []string{"at", "to", "by"}, openapi3.Schemas{
			"at": timestamp("when"), "from": ref("CaseStatus"), "to": ref("CaseStatus"), "outcome": ref("CaseOutcome"),
			"note": str("the worker's note"), "by": str("account"),
		})),
		"Queue": val(object("a page of a ranked queue", []string{"kind", "total", "offset", "limit", "cases"}, openapi3.Schemas{
			"kind": ref("Target"), "total": integ("cases matching"), "offset": integ("cases skipped"), "limit": integ("page size"),
			"cases": arr(ref("Case")),
		})),
		"StatusRequest": val(object("the status to move a case to", []string{"status"}, openapi3.Schemas{
			"status": val(enum("the next status: one of the case's next_statuses other than closed", movableStatuses())),
			"note":   val(describe(openapi3.NewStringSchema().WithMaxLength(core.MaxNoteBytes), "worker's note, at most 4000 bytes (stored, never logged)")),
		})),
		"OutcomeRequest": val(object("how a case closed", []string{"outcome"}, openapi3.Schemas{
			"outcome": ref("CaseOutcome"),
			"note":    val(describe(openapi3.NewStringSchema().WithMaxLength(core.MaxNoteBytes), "worker's note, at most 4000 bytes (stored, never logged)")),
		})),
		"Model": val(object("a registered model version", []string{"target", "version", "stage", "sha256", "metrics", "bands", "registered_by", "registered_at"}, openapi3.Schemas{
			"target": ref("Target"), "version": integ("registry version, 1, 2, … per target"), "stage": ref("Stage"),
			"sha256": hexHash("the artifact's SHA-256"), "path": str("where it was registered from"),
			"metrics":       val(describe(openapi3.NewObjectSchema().WithAnyAdditionalProperties(), "evaluation metrics, as the training run wrote them")),
			"bands":         ref("Bands"),
			"registered_by": str("account"), "registered_at": timestamp("when it was registered"),
			"promoted_by": str("account that last promoted it"), "promoted_at": timestamp("when it was last promoted"),
		})),
		"Models": val(object("the registry", []string{"models"}, openapi3.Schemas{"models": arr(ref("Model"))})),
		"ScoreRunRequest": val(object("a batch score run to start", []string{"as_of"}, openapi3.Schemas{
			"as_of":    date("score as of this date"),
			"capacity": val(describe(intRange(0, 1_000_000), "cases to open per target (0: the runner's default)")),
			"targets":  arrOf("targets to score; every target when absent or empty", ref("Target")),
			"force":    val(describe(openapi3.NewBoolSchema(), "take over a score run that is running (audited as claim.takeover)")),
		})),
		"ScoreRun": val(object("a batch score run", []string{"id", "target", "as_of", "model_version", "created", "rows", "capacity", "cases_opened"}, openapi3.Schemas{
			"id": integ("run id"), "target": ref("Target"), "as_of": date("as-of date"), "model_version": integ("champion version used"),
			"created": timestamp("when it ran"), "rows": integ("scores stored"), "capacity": integ("cases to open for the top ranks"),
			"cases_opened": integ("cases this run opened"),
		})),
		"ScoreRuns": val(object("score runs", []string{"runs"}, openapi3.Schemas{"runs": arr(ref("ScoreRun"))})),
		"Label": val(object("a closed case's outcome as a training label", []string{"target", "case_id", "entity_id", "resident_id", "as_of", "model_version", "score", "outcome", "label", "closed_at"}, openapi3.Schemas{
			"target": ref("Target"), "case_id": integ("case id"), "entity_id": str("resident or tenancy id"),
			"resident_id": str("resident id"), "as_of": date("the as-of date of the run that opened the case"),
			"model_version": integ("the version that scored it"), "score": prob("the score that opened the case"),
			"outcome":   ref("CaseOutcome"),
			"label":     val(describe(openapi3.NewIntegerSchema().WithEnum(0, 1), "1 positive, 0 negative")),
			"closed_at": timestamp("when the case closed"),
		})),
		"Labels": val(object("labels", []string{"labels"}, openapi3.Schemas{"labels": arr(ref("Label"))})),
		"AuditEntry": val(object("an audit log entry", []string{"id", "at", "user_id", "user", "role", "action", "resource", "purpose", "request_id", "prev_hash", "hash"}, openapi3.Schemas{
			"id": integ("entry id"), "at": timestamp("when"), "user_id": integ("user id (0 for commands run on the server)"), "user": str("account"),
			"role": ref("Role"), "action": str("what was done: one of " + strings.Join(audit.Actions(), ", ")), "resource": str("what it was done to, e.g. case/12"),
			"purpose": str("why the role may do it"), "request_id": str("the request's id (empty for commands run on the server)"),
			"prev_hash": hexHash("hash of the entry before (64 zeros for the first)"), "hash": hexHash("SHA-256 of this entry and prev_hash"),
		})),
		"Audit": val(object("audit log entries, newest first", []string{"entries"}, openapi3.Schemas{"entries": arr(ref("AuditEntry"))})),
		"Status": val(object("liveness", []string{"status"}, openapi3.Schemas{
			"status": val(enum("always ok", []string{"ok"})),
		})),
		"Ready": val(object("readiness", []string{"status", "database", "champions"}, openapi3.Schemas{
			"status":    val(enum("ready", []string{"ready"})),
			"database":  val(enum("the store's database", []string{store.SQLite, store.Postgres})),
			"champions": val(object("the champion version of each target that has one", nil, champions)),
		})),
		"OpenAPIDocument": val(describe(openapi3.NewObjectSchema().WithAnyAdditionalProperties().WithRequired([]string{"openapi", "info", "paths"}).
			WithProperty("openapi", describe(openapi3.NewStringSchema().WithPattern(`^3\.0\.[0-9]+$`), "the OpenAPI version")).
			WithProperty("info", describe(openapi3.NewObjectSchema().WithAnyAdditionalProperties(), "title, version and description")).
			WithProperty("paths", describe(openapi3.NewObjectSchema().WithAnyAdditionalProperties(), "the operations by path")),
			"an OpenAPI 3.0 document")),
	}
}

// problemResponses are the components' error responses, by status.
func problemResponses() openapi3.ResponseBodies {
	out := openapi3.ResponseBodies{}
	for st, desc := range problemDescriptions {
		r := openapi3.NewResponse().WithDescription(desc)
		r.Content = openapi3.Content{problem.ContentType: openapi3.NewMediaType().WithSchemaRef(ref("Problem"))}
		r.Headers = openapi3.Headers{RequestIDHeader: {Ref: "#/components/headers/RequestID"}}
		if st == http.StatusUnauthorized {
			r.Headers["WWW-Authenticate"] = &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Description: `Bearer realm="caserisk"`, Required: true, Schema: val(openapi3.NewStringSchema())}}}
		}
		out[problemResponseName(st)] = &openapi3.ResponseRef{Value: r}
	}
	return out
}

// problemDescriptions say when each error status is answered.
var problemDescriptions = map[int]string{
	http.StatusBadRequest:            "The request is invalid: the problem names each field at fault.",
	http.StatusUnauthorized:          "No valid bearer token.",
	http.StatusForbidden:             "The caller's role may not do this.",
	http.StatusNotFound:              "No such resource.",
	http.StatusConflict:              "The request clashes with the stored state (a move the workflow does not allow, a score run without its inputs).",
	http.StatusRequestEntityTooLarge: "The body is larger than the service accepts.",
	http.StatusUnsupportedMediaType:  "The body is not JSON.",
	http.StatusUnprocessableEntity:   "The model's artifact does not load, so it cannot be champion.",
	http.StatusInternalServerError:   "An unexpected error; quote the request id.",
	http.StatusServiceUnavailable:    "The service cannot answer now: the audit log or database cannot be written or read, no champion, or shutting down.",
}

// problemResponseName names the component response of an error status, e.g. 404 → NotFound.
func problemResponseName(status int) string {
	return strings.NewReplacer(" ", "", "'", "").Replace(http.StatusText(status))
}

// parameter documents a path or query parameter.
func parameter(in string, p param) *openapi3.ParameterRef {
	pp := &openapi3.Parameter{Name: p.name, In: in, Description: p.desc, Required: p.required || in == openapi3.ParameterInPath,
		Schema: val(p.schema)}
	if p.commas {
		explode := false
		pp.Style, pp.Explode = openapi3.SerializationForm, &explode
	}
	return &openapi3.ParameterRef{Value: pp}
}

// openAPIDoc builds the OpenAPI document from the route table.
func (s *Server) openAPIDoc() *openapi3.T {
	doc := &openapi3.T{
		OpenAPI: openAPIVersion,
		Info: &openapi3.Info{Title: "caserisk scoring service", Version: "1.0.0",
			Description: "Predictive case-risk scores with their reasons, the review queues they open and the case workflow. " +
				"Scores support a person's decision; they never act alone. Every read of a resident's data or score is written " +
				"to a tamper-evident audit log. Errors are RFC 9457 problem documents naming the field at fault."},
		Servers:  openapi3.Servers{{URL: "/", Description: "the service that serves this document"}},
		Tags:     openAPITags,
		Security: openapi3.SecurityRequirements{{"bearer": []string{}}},
		Paths:    openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas:   schemas(),
			Responses: problemResponses(),
			Headers: openapi3.Headers{"RequestID": {Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Description: "the request's id: the caller's X-Request-ID when it is 1–64 of A–Z a–z 0–9 . _ -, else a new one",
				Required:    true, Schema: val(openapi3.NewStringSchema().WithPattern(idPattern))}}}},
			SecuritySchemes: openapi3.SecuritySchemes{"bearer": {Value: openapi3.NewSecurityScheme().WithType("http").WithScheme("bearer").
				WithDescription("a token from `caserisk users add`")}},
		},
	}
	for _, r := range s.table() {
		op := openapi3.NewOperation()
		op.OperationID, op.Summary, op.Description, op.Tags = r.id, r.summary, r.desc, []string{r.tag}
		for _, p := range r.pathIDs {
			op.Parameters = append(op.Parameters, parameter(openapi3.ParameterInPath, p))
		}
		for _, q := range r.query {
			op.Parameters = append(op.Parameters, parameter(openapi3.ParameterInQuery, q))
		}
		if r.body != "" {
			op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).
				WithDescription("A JSON object (a body sent without a Content-Type is read as JSON); unknown fields are refused.").
				WithContent(openapi3.NewContentWithJSONSchemaRef(ref(r.body)))}
		}
		op.Responses = openapi3.NewResponses()
		op.Responses.Set("200", &openapi3.ResponseRef{Value: okResponse(r)})
		statuses := append([]int{http.StatusInternalServerError}, r.errors...)
		if !r.public {
			statuses = append(statuses, http.StatusUnauthorized, http.StatusForbidden, http.StatusServiceUnavailable)
		}
		slices.Sort(statuses)
		for _, st := range slices.Compact(statuses) {
			op.Responses.Set(strconv.Itoa(st), &openapi3.ResponseRef{Ref: "#/components/responses/" + problemResponseName(st)})
		}
		if r.public {
			op.Security = &openapi3.SecurityRequirements{}
		} else if len(r.perms) > 0 {
			perms := make([]string, len(r.perms))
			for i, pm := range r.perms {
				perms[i] = string(pm)
			}
			op.Extensions = map[string]any{"x-permissions": perms}
		}
		doc.AddOperation(openAPIPath(r.path), r.method, op)
		if headToo(r) {
			head := *op
			head.OperationID, head.Summary = r.id+"Head", r.summary+" (HEAD: the GET answer's status and headers)"
			head.Responses = openapi3.NewResponses()
			ok := openapi3.NewResponse().WithDescription("OK: the headers of the GET answer, without its body.")
			ok.Headers = openapi3.Headers{RequestIDHeader: {Ref: "#/components/headers/RequestID"}}
			head.Responses.Set("200", &openapi3.ResponseRef{Value: ok})
			for code, resp := range op.Responses.Map() {
				if code != "200" {
					head.Responses.Set(code, resp)
				}
			}
			doc.AddOperation(openAPIPath(r.path), http.MethodHead, &head)
		}
	}
	return doc
}

// okResponse documents a route's 200 answer.
func okResponse(r route) *openapi3.Response {
	resp := openapi3.NewResponse()
	resp.Headers = openapi3.Headers{RequestIDHeader: {Ref: "#/components/headers/RequestID"}}
	switch {
	case r.path == "/metrics":
		resp.WithDescription("The metrics in Prometheus' text exposition format.")
		resp.Content = openapi3.Content{"text/plain": openapi3.NewMediaType().WithSchema(openapi3.NewStringSchema())}
	case r.path == Prefix+"/openapi.json":
		resp.WithDescription("This document.")
		resp.Content = openapi3.NewContentWithJSONSchemaRef(ref("OpenAPIDocument"))
	case r.ok != "":
		resp.WithDescription("OK: " + okDescriptions[r.ok] + ".")
		resp.Content = openapi3.NewContentWithJSONSchemaRef(ref(r.ok))
	default:
		panic(fmt.Sprintf("api: route %s %s documents no 200 answer", r.method, r.path))
	}
	return resp
}

// okDescriptions describe each 200 answer by its schema.
var okDescriptions = map[string]string{
	"ScoreResponse": "a score, band and reasons per row", "Resident": "the single view", "Risk": "the latest scores",
	"Queue": "a page of the queue", "CaseDetail": "the case and its history", "Case": "the case as it now is",
	"Models": "the registry", "Model": "the new champion", "ScoreRuns": "the runs", "Labels": "the labels",
	"Audit": "the entries", "Status": "alive", "Ready": "ready to serve",
}

// openAPI returns the OpenAPI document as JSON.
func (s *Server) openAPI() []byte {
	b, err := json.MarshalIndent(s.openAPIDoc(), "", "  ")
	if err != nil {
		// The document holds only kin-openapi's types, strings, numbers and booleans.
		panic("api: OpenAPI document: " + err.Error())
	}
	return b
}

func (s *Server) handleOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", s.doc)
}
