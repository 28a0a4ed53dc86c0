package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"caserisk/serve/api/problem"
)

// obj is a JSON object in the OpenAPI document.
type obj = map[string]any

// ref points at a component schema.
func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func str(desc string) obj   { return obj{"type": "string", "description": desc} }
func num(desc string) obj   { return obj{"type": "number", "description": desc} }
func integ(desc string) obj { return obj{"type": "integer", "description": desc} }
func arr(items obj) obj     { return obj{"type": "array", "items": items} }
func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// schemas are the document's component schemas.
func schemas() obj {
	reason := object([]string{"feature", "value", "contribution", "text"}, obj{
		"feature":      str("feature name"),
		"value":        obj{"type": []string{"number", "null"}, "description": "the row's value; null when not known"},
		"contribution": num("contribution to the margin (log-odds); positive raises the score"),
		"text":         str("the reason in plain English"),
	})
	caseSchema := object(nil, obj{
		"id": integ("case id"), "kind": str("complex_case or tenancy_fraud"), "entity_id": str("resident or tenancy id"),
		"resident_id": str("resident id"), "run_id": integ("score run that opened it"), "score": num("score that opened it"),
		"rank": integ("rank in that run"), "status": str("workflow status"), "outcome": str("outcome once closed"),
		"assigned_to": integ("user id"), "opened": str("RFC 3339 time"), "updated": str("RFC 3339 time"),
		"closed": str("RFC 3339 time"), "next_statuses": arr(str("a status the case may move to")),
	})
	model := object(nil, obj{
		"target": str("complex_case or tenancy_fraud"), "version": integ("registry version"), "stage": str("candidate, champion or retired"),
		"sha256": str("artifact digest"), "path": str("where it was registered from"), "metrics": obj{"type": "object", "description": "evaluation metrics"},
		"bands": ref("Bands"), "registered_by": str("account"), "registered_at": str("RFC 3339 time"),
		"promoted_by": str("account"), "promoted_at": str("RFC 3339 time"),
	})
	run := object(nil, obj{
		"id": integ("run id"), "target": str("target"), "as_of": str("YYYY-MM-DD"), "model_version": integ("champion version used"),
		"created": str("RFC 3339 time"), "rows": integ("scores stored"), "capacity": integ("cases opened for the top ranks"),
		"cases_opened": integ("cases this run opened"),
	})
	return obj{
		"Problem": obj{"type": "object", "description": "RFC 9457 problem details", "properties": obj{
			"type": str("problem type URI"), "title": str("short summary"), "status": integ("HTTP status"),
			"detail": str("what went wrong, naming the field"), "instance": str("route template"),
			"request_id": str("quote it when asking for help"),
			"errors":     arr(object([]string{"field", "detail"}, obj{"field": str("e.g. rows[2].age_years"), "detail": str("why")})),
		}},
		"Bands": object(nil, obj{"high": num("score ≥ high is band high"), "medium": num("score ≥ medium is band medium")}),
		"ScoreRequest": object([]string{"rows"}, obj{
			"rows": obj{"type": "array", "minItems": 1, "description": "feature rows: every feature of the champion, each a finite number or null (not known)",
				"items": obj{"type": "object", "additionalProperties": obj{"type": []string{"number", "null"}}}},
			"reasons": integ("reasons to return per row (0: none)"),
		}),
		"ScoreResponse": object(nil, obj{
			"target": str("target"), "model_version": integ("the champion's registry version"),
			"results": arr(object(nil, obj{"score": num("calibrated probability"), "band": str("high, medium or low"), "reasons": arr(reason)})),
		}),
		"Resident": object(nil, obj{
			"resident": object(nil, obj{"id": str("resident id"), "given_name": str(""), "family_name": str(""),
				"date_of_birth": str("YYYY-MM-DD"), "sex": str(""), "first_seen": str("YYYY-MM-DD"), "date_of_death": str("YYYY-MM-DD")}),
			"stays": arr(object(nil, obj{"uprn": integ("property"), "start": str("YYYY-MM-DD"), "end": str("YYYY-MM-DD"),
				"relationship": str(""), "address": str(""), "postcode": str(""), "ward": str(""), "property_type": str(""), "tenure": str("")})),
			"timeline": arr(object(nil, obj{"service": str("service key"), "date": str("YYYY-MM-DD"), "type": str("event type"),
				"uprn": integ("property"), "amount_gbp": num("amount"), "detail": str("short description")})),
		}),
		"Risk": object(nil, obj{"resident_id": str("resident id"), "scores": arr(object(nil, obj{
			"target": str("target"), "as_of": str("YYYY-MM-DD"), "model_version": integ("version"), "score": num("calibrated probability"),
			"band": str("high, medium or low"), "rank": integ("rank in the run"), "of": integ("entities in the run"),
			"entity_id": str("resident or tenancy id"), "reasons": arr(reason)}))}),
		"Case": caseSchema,
		"CaseDetail": obj{"allOf": []obj{ref("Case"), object(nil, obj{"history": arr(object(nil, obj{
			"at": str("RFC 3339 time"), "from": str("status before"), "to": str("status after"), "outcome": str("outcome when closed"),
			"note": str("caseworker's note"), "by": str("account")}))})}},
		"Queue":          object(nil, obj{"kind": str("case kind"), "total": integ("cases matching"), "offset": integ(""), "limit": integ(""), "cases": arr(ref("Case"))}),
		"StatusRequest":  object([]string{"status"}, obj{"status": str("the next status"), "note": str("caseworker's note (stored, never logged)")}),
		"OutcomeRequest": object([]string{"outcome"}, obj{"outcome": str("how the case closed"), "note": str("caseworker's note (stored, never logged)")}),
		"Model":          model,
		"Models":         object(nil, obj{"models": arr(ref("Model"))}),
		"ScoreRunRequest": object([]string{"as_of"}, obj{"as_of": str("YYYY-MM-DD"), "capacity": integ("cases to open per target (0: default)"),
			"targets": arr(str("complex_case or tenancy_fraud")),
			"force":   obj{"type": "boolean", "description": "take over a score run that is running (audited as claim.takeover)"}}),
		"ScoreRuns": object(nil, obj{"runs": arr(run)}),
		"Labels": object(nil, obj{"labels": arr(object(nil, obj{"target": str(""), "case_id": integ(""), "entity_id": str(""),
			"resident_id": str(""), "as_of": str(""), "model_version": integ(""), "score": num(""), "outcome": str(""),
			"label": integ("1 positive, 0 negative"), "closed_at": str("")}))}),
		"Audit": object(nil, obj{"entries": arr(object(nil, obj{"id": integ(""), "at": str(""), "user_id": integ(""), "user": str(""),
			"role": str(""), "action": str(""), "resource": str(""), "purpose": str(""), "request_id": str(""),
			"prev_hash": str("hash of the row before"), "hash": str("SHA-256 of this row and prev_hash")}))}),
		"Status": object(nil, obj{"status": str("ok")}),
		"Ready":  object(nil, obj{"status": str("ready"), "database": str("sqlite or postgres"), "champions": obj{"type": "object", "additionalProperties": obj{"type": "integer"}}}),
	}
}

// openAPI builds the OpenAPI 3.1 document from the route table.
func (s *Server) openAPI() []byte {
	paths := obj{}
	for _, r := range s.table() {
		p := openAPIPath(r.path)
		item, _ := paths[p].(obj)
		if item == nil {
			item = obj{}
			paths[p] = item
		}
		var params []obj
		for _, seg := range strings.Split(p, "/") {
			if strings.HasPrefix(seg, "{") {
				name := strings.Trim(seg, "{}")
				params = append(params, obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "string"}})
			}
		}
		for _, q := range r.query {
			params = append(params, obj{"name": q.name, "in": "query", "required": q.required, "description": q.desc, "schema": obj{"type": q.typ}})
		}
		okSchema := obj{"type": "object"}
		if r.ok != "" {
			okSchema = ref(r.ok)
		}
		okContent := obj{"application/json": obj{"schema": okSchema}}
		if r.path == "/metrics" {
			okContent = obj{"text/plain": obj{"schema": obj{"type": "string"}}}
		}
		responses := obj{"200": obj{"description": "OK", "content": okContent}}
		statuses := r.errors
		if !r.public {
			statuses = append([]int{401, 403}, statuses...)
		}
		for _, st := range statuses {
			responses[strconv.Itoa(st)] = obj{"description": http.StatusText(st),
				"content": obj{problem.ContentType: obj{"schema": ref("Problem")}}}
		}
		op := obj{"summary": r.summary, "tags": []string{r.tag},
			"operationId": strings.ToLower(r.method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_", ".", "_").Replace(p),
			"responses":   responses}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if r.body != "" {
			op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": ref(r.body)}}}
		}
		if r.public {
			op["security"] = []obj{}
		} else if len(r.perms) > 0 {
			perms := make([]string, len(r.perms))
			for i, pm := range r.perms {
				perms[i] = string(pm)
			}
			op["x-permissions"] = perms
		}
		item[strings.ToLower(r.method)] = op
	}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{"title": "caserisk scoring service", "version": "1.0.0",
			"description": "Predictive case-risk scores with their reasons. Scores support a person's decision; they never act alone. " +
				"Every read of a resident's data or score is written to a tamper-evident audit log."},
		"paths":    paths,
		"security": []obj{{"bearer": []string{}}},
		"components": obj{
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer", "description": "a token from `caserisk users add`"}},
			"schemas":         schemas(),
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		// The document holds only maps, slices, strings, numbers and booleans.
		panic("api: OpenAPI document: " + err.Error())
	}
	return b
}

func (s *Server) handleOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", s.doc)
}
