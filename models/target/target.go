// Package target is caserisk's catalogue of predictions: for each target,
// the entity it scores, the feature builder's label column, the id column
// of its rows and the words the pages and reports use for it. It is the one
// place where "complex_case" is tied to residents and label_complex_case,
// and "tenancy_fraud" to tenancies and label_tenancy_fraud; the retraining
// pipeline, batch score runs, the store, the service and the demo all read
// it from here.
//
// Who may see a target's scores and cases is not in the catalogue: that is
// the purpose policy's (serve/auth), which names targets by Name.
package target

import (
	"fmt"
	"strings"

	"caserisk/features/build"
	"caserisk/features/spec"
)

// Name is a target's code, as stored in the registry and written in
// requests: "complex_case" or "tenancy_fraud". It is also the kind of case
// the target's flags open.
type Name string

// The targets.
const (
	// ComplexCase: a resident's household escalating to a crisis service
	// (children's or adult social care, homelessness, youth justice) within
	// 12 months of the as-of date.
	ComplexCase Name = "complex_case"
	// TenancyFraud: a council tenancy found fraudulent on investigation.
	TenancyFraud Name = "tenancy_fraud"
)

// Target describes one prediction.
type Target struct {
	// Name is the target's code.
	Name Name
	// Entity is the feature builder's entity whose rows the target scores
	// (spec.Resident or spec.Tenancy).
	Entity string
	// Label is the label column the feature builder writes for it.
	Label string
	// IDColumn is the column that identifies a row: resident_id or tenancy_id.
	IDColumn string
	// Noun names the target for people ("complex case", "tenancy fraud").
	Noun string
	// Description says in a sentence what a positive label means.
	Description string
	// Population names the entities a score is about, plural, as a
	// natural frequency counts them ("residents", "investigated tenancies").
	Population string
	// Outcome is what happened to a positive, as the end of the sentence
	// "about 9 in 10 residents scored like this …".
	Outcome string
}

var catalogue = []Target{
	{
		Name: ComplexCase, Entity: spec.Resident, Label: build.LabelComplexCase, IDColumn: "resident_id",
		Noun:        "complex case",
		Description: "the resident's household reaches a crisis service (children's or adult social care, homelessness, youth justice) within 12 months",
		Population:  "residents",
		Outcome:     "had a crisis in their household within a year (child protection or care, adult safeguarding, homelessness or eviction)",
	},
	{
		Name: TenancyFraud, Entity: spec.Tenancy, Label: build.LabelTenancyFraud, IDColumn: "tenancy_id",
		Noun:        "tenancy fraud",
		Description: "the council tenancy is found fraudulent by an investigation that opens within 12 months",
		// The label is known only where an investigation closed, so the
		// calibrated probability is a rate among investigated tenancies.
		Population: "investigated tenancies",
		Outcome:    "were found to be fraudulent within a year",
	},
}

// All returns every target, complex_case first.
func All() []Target { return append([]Target(nil), catalogue...) }

// Names returns every target's name, in the order of All.
func Names() []Name {
	out := make([]Name, len(catalogue))
	for i, t := range catalogue {
		out[i] = t.Name
	}
	return out
}

// Parse returns the target named s, or an error listing the targets.
func Parse(s string) (Target, error) {
	for _, t := range catalogue {
		if string(t.Name) == s {
			return t, nil
		}
	}
	names := make([]string, len(catalogue))
	for i, t := range catalogue {
		names[i] = string(t.Name)
	}
	return Target{}, fmt.Errorf("unknown target %q (want %s)", s, strings.Join(names, " or "))
}

// Of returns the catalogue's entry for n. It panics on a name that is not
// in the catalogue: callers hold a Name only after Parse or from the
// constants.
func Of(n Name) Target {
	t, err := Parse(string(n))
	if err != nil {
		panic("target: " + err.Error())
	}
	return t
}

// ForLabel returns the target whose label column is col.
func ForLabel(col string) (Target, bool) {
	for _, t := range catalogue {
		if t.Label == col {
			return t, true
		}
	}
	return Target{}, false
}
