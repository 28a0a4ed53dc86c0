package review

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"caserisk/features/contract"
	"caserisk/features/link/assemble"
)

// Person is what a reviewer sees of a person record: the details the
// linkage compares, as the source holds them. It leaves out the protected
// characteristics (ethnic group, disability) the raw people files also
// hold: they are no evidence of identity and a reviewer does not need them.
type Person struct {
	GivenName   string
	FamilyName  string
	DateOfBirth string
	Sex         string
	Address     string
	Postcode    string
	UPRN        string
	NINumber    string
	DateOfDeath string
}

// DetailColumns returns the raw people files' columns a Person holds, in
// the order Values gives them.
func DetailColumns() []string {
	return []string{"given_name", "family_name", "date_of_birth", "sex", "address", "postcode", "uprn", "ni_number", "date_of_death"}
}

// Values returns the details in DetailColumns order.
func (p *Person) Values() []string {
	return []string{p.GivenName, p.FamilyName, p.DateOfBirth, p.Sex, p.Address, p.Postcode, p.UPRN, p.NINumber, p.DateOfDeath}
}

// set sets the detail of column col; other columns are ignored.
func (p *Person) set(col, v string) {
	switch col {
	case "given_name":
		p.GivenName = v
	case "family_name":
		p.FamilyName = v
	case "date_of_birth":
		p.DateOfBirth = v
	case "sex":
		p.Sex = v
	case "address":
		p.Address = v
	case "postcode":
		p.Postcode = v
	case "uprn":
		p.UPRN = v
	case "ni_number":
		p.NINumber = v
	case "date_of_death":
		p.DateOfDeath = v
	}
}

// Keys returns the records the pairs name, each once.
func Keys(pairs []Pair) map[assemble.Key]bool {
	keys := make(map[assemble.Key]bool, 2*len(pairs))
	for i := range pairs {
		keys[pairs[i].A], keys[pairs[i].B] = true, true
	}
	return keys
}

// People reads the person records named by keys from the raw extracts in
// rawDir (each source's <service>_people.csv, through the contract's
// loader) and returns their details. Only the sources the keys name are
// read. A key whose record is not found is absent from the result; a row
// the loader rejects (a bad date, say) is passed over, since the linkage
// run has reported it and the reviewer is shown what can be read. Errors
// name the file and line.
func People(ctx context.Context, rawDir string, keys map[assemble.Key]bool) (map[assemble.Key]Person, error) {
	sources := map[string]bool{}
	for k := range keys {
		sources[k.Source] = true
	}
	out := make(map[assemble.Key]Person, len(keys))
	for _, f := range contract.Default().RawSources() {
		if !sources[f.Service] {
			continue
		}
		if err := readPeople(ctx, rawDir, contract.RawPeople(f), f.Service, keys, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readPeople(ctx context.Context, rawDir string, pf *contract.File, service string, keys map[assemble.Key]bool, out map[assemble.Key]Person) error {
	r, err := contract.Open(rawDir, pf)
	if err != nil {
		return fmt.Errorf("review: people of %s: %w", service, err)
	}
	defer r.Close()
	id := slices.IndexFunc(pf.Columns, func(c contract.Column) bool { return c.Name == contract.RawRecordID })
	if id < 0 {
		return fmt.Errorf("review: %s has no %s column", pf.Name, contract.RawRecordID)
	}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("review: people of %s: %w", service, err)
			}
		}
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *contract.RowError
		if errors.As(err, &re) {
			continue
		}
		if err != nil {
			return fmt.Errorf("review: people of %s: %w", service, err)
		}
		k := assemble.Key{Source: service, RecordID: row.Str[id]}
		if !keys[k] {
			continue
		}
		var p Person
		for i, c := range pf.Columns {
			p.set(c.Name, row.Str[i])
		}
		out[k] = p
	}
	if err := r.Close(); err != nil {
		return fmt.Errorf("review: people of %s: %w", service, err)
	}
	return nil
}
