package auth

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestPolicyYAMLRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := DefaultPolicy().WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	p, err := ParsePolicy(&buf)
	if err != nil {
		t.Fatalf("ParsePolicy of WriteYAML output: %v\n%s", err, buf.String())
	}
	def := DefaultPolicy()
	for _, r := range PolicyRoles() {
		if !reflect.DeepEqual(p.Permissions(r), def.Permissions(r)) {
			t.Errorf("%s: %v after the round trip, want %v", r, p.Permissions(r), def.Permissions(r))
		}
		for _, s := range Services() {
			if p.SeesService(r, s) != def.SeesService(r, s) {
				t.Errorf("%s sees %s: %v after the round trip", r, s, p.SeesService(r, s))
			}
		}
		for _, d := range Details() {
			if p.SeesDetail(r, d) != def.SeesDetail(r, d) {
				t.Errorf("%s sees %s: %v after the round trip", r, d, p.SeesDetail(r, d))
			}
		}
		if p.Purpose(r) != def.Purpose(r) {
			t.Errorf("%s: purpose %q after the round trip, want %q", r, p.Purpose(r), def.Purpose(r))
		}
	}
}

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		name, in string
		err      string // substring of the error; "" for success
		check    func(Policy) bool
	}{
		{"empty", "", "", func(p Policy) bool { return len(p) == 0 }},
		{"one role", "caseworker: [scores:complex_case]\n", "", func(p Policy) bool {
			return p.Allows(Caseworker, ScoreComplexCase) && !p.Allows(Caseworker, NamedResidents) && !p.Allows(Admin, AuditRead)
		}},
		{"block list", "admin:\n  - audit:read\n  - users:manage\n", "", func(p Policy) bool { return p.Allows(Admin, UsersManage) }},
		{"no permissions", "admin: []\n", "", func(p Policy) bool { return !p.Allows(Admin, AuditRead) }},
		{"unknown role", "mayor: [audit:read]\n", "line 1, column 1", nil},
		{"unknown permission", "admin:\n  - audit:read\n  - everything\n", "line 3, column 5: unknown permission", nil},
		{"duplicate role", "admin: []\nadmin: [audit:read]\n", "line 2, column 1: role admin given twice", nil},
		{"duplicate permission", "admin: [audit:read, audit:read]\n", "listed twice", nil},
		{"not a list", "admin: audit:read\n", "must be a list of permissions or a mapping", nil},
		{"rule", "fraud_officer:\n  purpose: fraud\n  permissions: [cases:tenancy_fraud]\n  services: [tenancies]\n  details: [name]\n", "",
			func(p Policy) bool {
				return p.Allows(FraudOfficer, CasesTenancyFraud) && p.SeesService(FraudOfficer, "tenancies") &&
					!p.SeesService(FraudOfficer, "repairs") && p.SeesDetail(FraudOfficer, DetailName) &&
					!p.SeesDetail(FraudOfficer, DetailAddress) && p.Purpose(FraudOfficer) == "fraud"
			}},
		{"list means no services", "caseworker: [residents:read]\n", "", func(p Policy) bool {
			return !p.SeesService(Caseworker, "early_help") && !p.SeesDetail(Caseworker, DetailName)
		}},
		{"unknown service", "caseworker:\n  services: [gossip]\n", "line 2, column 14: unknown service \"gossip\"", nil},
		{"unknown detail", "caseworker:\n  details: [shoe_size]\n", "unknown detail", nil},
		{"unknown key", "caseworker:\n  see: [all]\n", "unknown key \"see\"", nil},
		{"operator", "operator: [models:read]\n", "", func(p Policy) bool { return p.Allows(Operator, ModelsRead) }},
		{"not a mapping", "- admin\n", "want a mapping", nil},
		{"bad yaml", "admin: [\n", "policy:", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || !tt.check(p) {
				t.Fatalf("ParsePolicy = %v, %v", p, err)
			}
		})
	}
}

func FuzzParsePolicy(f *testing.F) {
	var buf bytes.Buffer
	DefaultPolicy().WriteYAML(&buf)
	f.Add(buf.String())
	f.Add("admin: [audit:read]\ncaseworker: []\n")
	f.Add("- x\n")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParsePolicy(strings.NewReader(in))
		if err != nil {
			return
		}
		// Whatever parses holds only known roles and permissions, and
		// survives a round trip.
		var out bytes.Buffer
		if err := p.WriteYAML(&out); err != nil {
			t.Fatal(err)
		}
		q, err := ParsePolicy(&out)
		if err != nil {
			t.Fatalf("round trip of %q failed: %v", in, err)
		}
		for _, r := range Roles() {
			if !reflect.DeepEqual(p.Permissions(r), q.Permissions(r)) {
				t.Fatalf("round trip changed %s: %v → %v", r, p.Permissions(r), q.Permissions(r))
			}
		}
	})
}
