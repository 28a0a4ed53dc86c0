package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestPolicyPurposeRules(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		role Role
		perm Permission
		want bool
	}{
		{Caseworker, ScoreComplexCase, true},
		{Caseworker, ScoreTenancyFraud, false},
		{Caseworker, CasesTenancyFraud, false},
		{Caseworker, NamedResidents, true},
		{Caseworker, AuditRead, false},
		{FraudOfficer, ScoreTenancyFraud, true},
		{FraudOfficer, ScoreComplexCase, false},
		{FraudOfficer, CasesComplexCase, false},
		{FraudOfficer, NamedResidents, true},
		{DataScientist, ModelsRead, true},
		{DataScientist, NamedResidents, false},
		{DataScientist, ScoreComplexCase, false},
		{DataScientist, ScoreRows, true},
		{DataScientist, ModelsPromote, true},
		{Admin, AuditRead, true},
		{Admin, ModelsPromote, true},
		{Admin, NamedResidents, false},
		{Admin, LinkageReview, false},
		{Caseworker, LinkageReview, false},
		{FraudOfficer, LinkageReview, false},
		{DataScientist, LinkageReview, false},
		{DataSteward, LinkageReview, true},
		{DataSteward, NamedResidents, false},
		{DataSteward, CasesComplexCase, false},
		{DataSteward, AuditRead, false},
		{"mayor", ModelsRead, false},
		{Operator, ModelsPromote, true},
		{Operator, LinkageLoad, true},
		{Operator, NamedResidents, false},
		{Admin, LinkageLoad, false},
	}
	for _, tt := range tests {
		if got := p.Allows(tt.role, tt.perm); got != tt.want {
			t.Errorf("Allows(%s, %s) = %v, want %v", tt.role, tt.perm, got, tt.want)
		}
	}
}

// TestPolicyMinimisation pins the default purpose rules for the kinds of
// data beyond permissions: caseworkers see no fraud investigation, fraud
// officers no social care, early help, education or youth justice, and
// roles without a casework purpose no resident detail.
func TestPolicyMinimisation(t *testing.T) {
	p := DefaultPolicy()
	for _, s := range Services() {
		if got, want := p.SeesService(Caseworker, s), s != "fraud_investigations"; got != want {
			t.Errorf("caseworker sees %s: %v, want %v", s, got, want)
		}
	}
	for _, s := range []string{"childrens_social_care", "adult_social_care", "early_help", "education", "youth_offending"} {
		if p.SeesService(FraudOfficer, s) {
			t.Errorf("a fraud officer sees %s", s)
		}
	}
	for _, s := range []string{"tenancies", "rent_account", "council_tax", "council_tax_support", "housing_benefit",
		"electoral_register", "repairs", "homelessness", "fraud_investigations"} {
		if !p.SeesService(FraudOfficer, s) {
			t.Errorf("a fraud officer does not see %s", s)
		}
	}
	for _, r := range []Role{DataScientist, Admin, DataSteward, Operator} {
		if len(p[r].Services) > 0 || len(p[r].Details) > 0 {
			t.Errorf("%s sees services %v and details %v", r, p[r].Services, p[r].Details)
		}
	}
	for _, r := range PolicyRoles() {
		if p.Purpose(r) == "unspecified" {
			t.Errorf("%s has no purpose", r)
		}
	}
	if p.Purpose("mayor") != "unspecified" {
		t.Error("an unknown role has a purpose")
	}
}

func TestDefaultPolicyIsACopy(t *testing.T) {
	p := DefaultPolicy()
	r := p[Caseworker]
	r.Permissions = append(r.Permissions, AuditRead)
	r.Services = append(r.Services, "fraud_investigations")
	p[Caseworker] = r
	if DefaultPolicy().Allows(Caseworker, AuditRead) || DefaultPolicy().SeesService(Caseworker, "fraud_investigations") {
		t.Error("changing a returned policy changed the default")
	}
}

func TestParseRoleAndTargets(t *testing.T) {
	for _, r := range Roles() {
		if got, err := ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	if _, err := ParseRole("Caseworker"); err == nil || !strings.Contains(err.Error(), "caseworker") {
		t.Errorf("ParseRole is case-sensitive and lists the roles: %v", err)
	}
	if p, err := ScorePermission("tenancy_fraud"); err != nil || p != ScoreTenancyFraud {
		t.Errorf("ScorePermission: %s, %v", p, err)
	}
	if _, err := ScorePermission("x"); err == nil {
		t.Error("ScorePermission accepted an unknown target")
	}
	if p, err := CasePermission("complex_case"); err != nil || p != CasesComplexCase {
		t.Errorf("CasePermission: %s, %v", p, err)
	}
}

func TestNewTokenIsDeterministicForAReader(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 32)
	a, err := NewToken(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewToken(bytes.NewReader(seed))
	if a != b || !strings.HasPrefix(a.Secret, TokenPrefix) || len(a.Secret) != tokenLen || a.Prefix != a.Secret[:prefixLen] {
		t.Errorf("tokens %+v and %+v", a, b)
	}
	if a.Hash != HashToken(a.Secret) {
		t.Error("token hash is not the SHA-256 of the secret")
	}
	if _, err := NewToken(bytes.NewReader(seed[:5])); err == nil {
		t.Error("NewToken accepted a short random source")
	}
}

func TestParseBearer(t *testing.T) {
	tok, _ := NewToken(nil)
	tests := []struct {
		header string
		ok     bool
	}{
		{"Bearer " + tok.Secret, true},
		{"bearer " + tok.Secret, true},
		{"", false},
		{"Basic " + tok.Secret, false},
		{"Bearer", false},
		{"Bearer " + tok.Secret[:20], false},
		{"Bearer xyz_" + tok.Secret[4:], false},
		{"Bearer " + tok.Secret[:len(tok.Secret)-1] + "!", false},
	}
	for _, tt := range tests {
		got, err := ParseBearer(tt.header)
		if tt.ok && (err != nil || got != tok.Secret) {
			t.Errorf("ParseBearer(%q) = %q, %v", tt.header, got, err)
		}
		if !tt.ok && !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("ParseBearer(%q) error %v, want ErrUnauthenticated", tt.header, err)
		}
	}
}

// mapLookup is a TokenLookup over a slice.
type mapLookup struct {
	cands []Candidate
	err   error
}

func (m mapLookup) TokenCandidates(_ context.Context, prefix string) ([]Candidate, error) {
	return m.cands, m.err
}

func TestAuthenticate(t *testing.T) {
	good, _ := NewToken(nil)
	other, _ := NewToken(nil)
	ctx := context.Background()
	cand := Candidate{UserID: 7, Name: "fo", Role: FraudOfficer, Hash: good.Hash[:]}
	tests := []struct {
		name    string
		lookup  mapLookup
		token   string
		wantErr error
	}{
		{"match among several", mapLookup{cands: []Candidate{{UserID: 1, Hash: other.Hash[:]}, cand}}, good.Secret, nil},
		{"unknown", mapLookup{cands: []Candidate{{UserID: 1, Hash: other.Hash[:]}}}, good.Secret, ErrUnauthenticated},
		{"disabled", mapLookup{cands: []Candidate{{UserID: 7, Disabled: true, Hash: good.Hash[:]}}}, good.Secret, ErrUnauthenticated},
		{"malformed", mapLookup{cands: []Candidate{cand}}, "crk_short", ErrUnauthenticated},
		{"store down", mapLookup{err: fmt.Errorf("connection refused")}, good.Secret, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Authenticate(ctx, tt.lookup, tt.token)
			switch {
			case tt.lookup.err != nil:
				if err == nil || errors.Is(err, ErrUnauthenticated) {
					t.Errorf("a store failure must not look like a bad token: %v", err)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("error %v, want %v", err, tt.wantErr)
				}
			default:
				if err != nil || p != (Principal{UserID: 7, Name: "fo", Role: FraudOfficer}) {
					t.Errorf("Authenticate = %+v, %v", p, err)
				}
			}
		})
	}
}

func FuzzParseBearer(f *testing.F) {
	tok, _ := NewToken(bytes.NewReader(bytes.Repeat([]byte{1}, 32)))
	for _, s := range []string{"", "Bearer " + tok.Secret, "Bearer  crk_", "bearer\t" + tok.Secret, "Bearer crk_" + strings.Repeat("=", 43)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got, err := ParseBearer(header)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("ParseBearer(%q): error %v does not wrap ErrUnauthenticated", header, err)
			}
			return
		}
		if len(got) != tokenLen || !strings.HasPrefix(got, TokenPrefix) || !strings.Contains(header, got) {
			t.Fatalf("ParseBearer(%q) accepted %q", header, got)
		}
	})
}

func ExamplePolicy_Allows() {
	p := DefaultPolicy()
	fmt.Println(p.Allows(Caseworker, ScoreComplexCase))
	fmt.Println(p.Allows(Caseworker, ScoreTenancyFraud))
	fmt.Println(p.Allows(DataScientist, NamedResidents))
	// Output:
	// true
	// false
	// false
}
