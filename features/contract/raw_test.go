package contract

import (
	"slices"
	"strings"
	"testing"
)

func TestRawLayout(t *testing.T) {
	c := Default()
	srcs := c.RawSources()
	if len(srcs) != 19 {
		t.Fatalf("RawSources: %d files, want 18 services and fraud investigations", len(srcs))
	}
	for _, f := range srcs {
		if f.Service == "residents" || f.Service == "residences" || f.Service == "properties" {
			t.Errorf("RawSources includes %s", f.Name)
		}
		r := RawFile(f)
		if _, ok := r.Column("resident_id"); ok {
			t.Errorf("%s: raw form keeps resident_id", f.Name)
		}
		if col, ok := r.Column(RawRecordID); !ok || !col.Required {
			t.Errorf("%s: raw form lacks a required record_id", f.Name)
		}
		if slices.Contains(r.Key, "resident_id") {
			t.Errorf("%s: raw key %v names resident_id", f.Name, r.Key)
		}
		if len(r.Columns) != len(f.Columns) || len(r.Key) != len(f.Key) {
			t.Errorf("%s: raw form changes the column or key count", f.Name)
		}
		// RawFile must not alias the contract's slices.
		if _, ok := f.Column("resident_id"); !ok {
			t.Fatalf("%s: RawFile changed the contract file", f.Name)
		}
		p := RawPeople(f)
		if p.Name != f.Service+"_people.csv" || len(p.Key) != 1 || p.Key[0] != RawRecordID {
			t.Errorf("%s: people file %s key %v", f.Name, p.Name, p.Key)
		}
	}
}

func TestRawPeopleLoads(t *testing.T) {
	f, _ := Default().File("council_tax")
	p := RawPeople(f)
	src := "record_id,given_name,family_name,date_of_birth,sex,postcode,ethnic_group\n" +
		"CT1,Ann,O'Brien,1980-02-30,F,NW1 0AA,white\n" +
		",Bob,Smith,1980-01-02,X,,\n"
	r, err := NewReader(strings.NewReader(src), p.Name, p)
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	for {
		_, err := r.Next()
		if err != nil {
			if re, ok := err.(*RowError); ok {
				errs = append(errs, re.Error())
				continue
			}
			break
		}
	}
	if len(errs) == 0 {
		t.Fatal("an impossible date, an empty record_id and an unknown sex code were accepted")
	}
	for _, e := range errs {
		if strings.Contains(e, "O'Brien") || strings.Contains(e, "Ann") || strings.Contains(e, "1980") {
			t.Errorf("row error shows personal data: %s", e)
		}
	}
}
