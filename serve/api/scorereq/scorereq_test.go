package scorereq

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

type schema []string

func (s schema) Index(name string) (int, bool) {
	for i, n := range s {
		if n == name {
			return i, true
		}
	}
	return 0, false
}
func (s schema) NumFeatures() int   { return len(s) }
func (s schema) Features() []string { return s }

var testSchema = schema{"age", "arrears_gbp"}

var testLimits = Limits{MaxRows: 3, MaxReasons: 5}

func TestDecodeValid(t *testing.T) {
	req, err := Bytes([]byte(`{"rows":[{"age":41,"arrears_gbp":null},{"arrears_gbp":1.5e2,"age":0}],"reasons":2}`), testSchema, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Rows) != 2 || req.Reasons != 2 {
		t.Fatalf("got %d rows, %d reasons", len(req.Rows), req.Reasons)
	}
	if req.Rows[0][0] != 41 || !math.IsNaN(req.Rows[0][1]) || req.Rows[1][0] != 0 || req.Rows[1][1] != 150 {
		t.Fatalf("rows = %v", req.Rows)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name, body, field, detail string
	}{
		{"empty body", ``, "body", "malformed JSON"},
		{"not an object", `[1]`, "body", "must be a JSON object"},
		{"unknown top field", `{"rows":[{"age":1,"arrears_gbp":2}],"extra":1}`, "extra", "unknown field"},
		{"rows missing", `{"reasons":1}`, "rows", "required"},
		{"rows empty", `{"rows":[]}`, "rows", "at least one row"},
		{"rows not array", `{"rows":{}}`, "rows", "array"},
		{"row not object", `{"rows":[3]}`, "rows[0]", "object"},
		{"bare NaN", `{"rows":[{"age":NaN,"arrears_gbp":2}]}`, "rows[0].age", "malformed JSON"},
		{"string NaN", `{"rows":[{"age":"NaN","arrears_gbp":2}]}`, "rows[0].age", "must be a number or null"},
		{"overflow", `{"rows":[{"age":1e999,"arrears_gbp":2}]}`, "rows[0].age", "out of range"},
		{"bool", `{"rows":[{"age":true,"arrears_gbp":2}]}`, "rows[0].age", "boolean"},
		{"nested", `{"rows":[{"age":[1],"arrears_gbp":2}]}`, "rows[0].age", "number or null"},
		{"missing feature", `{"rows":[{"age":1,"arrears_gbp":2},{"age":1}]}`, "rows[1].arrears_gbp", "missing feature"},
		{"unknown feature", `{"rows":[{"age":1,"arrears_gbp":2,"name":3}]}`, "rows[0].name", "unknown feature"},
		{"duplicate feature", `{"rows":[{"age":1,"age":2,"arrears_gbp":2}]}`, "rows[0].age", "twice"},
		{"duplicate field", `{"rows":[{"age":1,"arrears_gbp":2}],"rows":[]}`, "rows", "twice"},
		{"reasons negative", `{"rows":[{"age":1,"arrears_gbp":2}],"reasons":-1}`, "reasons", "whole number"},
		{"reasons too many", `{"rows":[{"age":1,"arrears_gbp":2}],"reasons":6}`, "reasons", "0 to 5"},
		{"reasons fraction", `{"rows":[{"age":1,"arrears_gbp":2}],"reasons":1.5}`, "reasons", "whole number"},
		{"reasons string", `{"rows":[{"age":1,"arrears_gbp":2}],"reasons":"2"}`, "reasons", "whole number"},
		{"truncated", `{"rows":[{"age":1,`, "rows[0].age", "body ends early"},
		{"trailing data", `{"rows":[{"age":1,"arrears_gbp":2}]} {}`, "body", "after the JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Bytes([]byte(tc.body), testSchema, testLimits)
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("err = %v, want field errors", err)
			}
			if fe[0].Field != tc.field || !strings.Contains(fe[0].Detail, tc.detail) {
				t.Fatalf("first error = %q: %q, want %q containing %q", fe[0].Field, fe[0].Detail, tc.field, tc.detail)
			}
		})
	}
}

func TestDecodeTooManyRows(t *testing.T) {
	row := `{"age":1,"arrears_gbp":2}`
	_, err := Bytes([]byte(`{"rows":[`+strings.Repeat(row+",", 3)+row+`]}`), testSchema, testLimits)
	var tm *TooManyRowsError
	if !errors.As(err, &tm) || tm.Max != 3 {
		t.Fatalf("err = %v, want TooManyRowsError{3}", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"rows":[{"age":41,"arrears_gbp":null}],"reasons":2}`))
	f.Add([]byte(`{"rows":[{"age":NaN}]}`))
	f.Add([]byte(`{"rows":[{"age":1e400,"arrears_gbp":"x"}],"reasons":[]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"rows":[{"a\u0067e":-0.5e+2,"arrears_gbp":0}],"reasons":0}`))
	f.Add([]byte(`{"rows":[{"age":01,"arrears_gbp":2}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Bytes(body, testSchema, testLimits)
		if err != nil {
			if req != nil {
				t.Fatal("request returned with an error")
			}
			var fe FieldErrors
			var tm *TooManyRowsError
			if !errors.As(err, &fe) && !errors.As(err, &tm) {
				t.Fatalf("unexpected error kind %T: %v", err, err)
			}
			if fe != nil && (len(fe) == 0 || fe[0].Field == "") {
				t.Fatalf("field error without a field: %v", fe)
			}
			return
		}
		// The hand-written reader never accepts what encoding/json rejects.
		if !json.Valid(body) {
			t.Fatalf("accepted malformed JSON %q", body)
		}
		if len(req.Rows) == 0 || len(req.Rows) > testLimits.MaxRows || req.Reasons < 0 || req.Reasons > testLimits.MaxReasons {
			t.Fatalf("accepted an out-of-limits request: %d rows, %d reasons", len(req.Rows), req.Reasons)
		}
		for i, row := range req.Rows {
			if len(row) != len(testSchema) {
				t.Fatalf("row %d has %d values", i, len(row))
			}
			for _, v := range row {
				if math.IsInf(v, 0) {
					t.Fatalf("row %d holds an infinite value", i)
				}
			}
		}
	})
}
