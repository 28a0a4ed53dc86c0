package problem_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"caserisk/serve/api/problem"
)

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		p        *problem.Problem
		status   int
		typeSlug string
	}{
		{problem.New(http.StatusNotFound, "no resident with id %s", "R1"), 404, "not-found"},
		{problem.New(http.StatusRequestEntityTooLarge, "too big"), 413, "request-entity-too-large"},
		{problem.Invalid(problem.FieldError{Field: "rows[0].age", Detail: "missing"}), 400, "invalid-request"},
		{problem.New(599, "odd"), 599, "status-599"},
	} {
		rec := httptest.NewRecorder()
		problem.Write(rec, tc.p)
		if rec.Code != tc.status || rec.Header().Get("Content-Type") != problem.ContentType {
			t.Fatalf("%v: status %d, Content-Type %q", tc.p, rec.Code, rec.Header().Get("Content-Type"))
		}
		var got problem.Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Status != tc.status || got.Type != "https://caserisk.invalid/problems/"+tc.typeSlug || got.Detail == "" {
			t.Fatalf("document %s", rec.Body.Bytes())
		}
	}
}

func TestInvalidDetailNamesFirstField(t *testing.T) {
	p := problem.Invalid(problem.FieldError{Field: "a", Detail: "bad"}, problem.FieldError{Field: "b", Detail: "worse"})
	if p.Detail != "a: bad (and 1 more)" || p.Status != 400 || len(p.Errors) != 2 {
		t.Fatalf("%+v", p)
	}
}

func ExampleInvalid() {
	p := problem.Invalid(problem.FieldError{Field: "rows[2].rent_arrears_gbp", Detail: "must be a number or null"})
	rec := httptest.NewRecorder()
	problem.Write(rec, p)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 400 {"type":"https://caserisk.invalid/problems/invalid-request","title":"Bad Request","status":400,"detail":"rows[2].rent_arrears_gbp: must be a number or null","errors":[{"field":"rows[2].rent_arrears_gbp","detail":"must be a number or null"}]}
}
