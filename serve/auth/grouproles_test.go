package auth

import (
	"strings"
	"testing"
)

func TestParseGroupRoles(t *testing.T) {
	m, err := ParseGroupRoles(strings.NewReader(`
# first listed group wins
"0b3c7f0e-6c64-4d8f-9a61-2f9d0a2e4b11": admin
caserisk-caseworkers: caseworker
caserisk-fraud: fraud_officer
`), "roles.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 3 {
		t.Fatalf("%d entries, want 3", m.Len())
	}
	for _, tc := range []struct {
		groups []string
		role   Role
		group  string
		ok     bool
	}{
		{[]string{"caserisk-caseworkers"}, Caseworker, "caserisk-caseworkers", true},
		{[]string{"staff", "caserisk-fraud", "caserisk-caseworkers"}, Caseworker, "caserisk-caseworkers", true},
		{[]string{"caserisk-fraud", "0b3c7f0e-6c64-4d8f-9a61-2f9d0a2e4b11"}, Admin, "0b3c7f0e-6c64-4d8f-9a61-2f9d0a2e4b11", true},
		{[]string{"staff", "Caserisk-Caseworkers"}, "", "", false}, // group ids are compared exactly
		{nil, "", "", false},
	} {
		role, group, ok := m.Role(tc.groups)
		if role != tc.role || group != tc.group || ok != tc.ok {
			t.Errorf("Role(%q) = %q, %q, %v; want %q, %q, %v", tc.groups, role, group, ok, tc.role, tc.group, tc.ok)
		}
	}
}

func TestParseGroupRolesRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "roles.yaml: no groups"},
		{"empty mapping", "{}", "roles.yaml: line 1, column 1: no groups"},
		{"list", "- a\n- b\n", "roles.yaml: line 1, column 1: want a mapping"},
		{"unknown role", "a: caseworker\nb: mayor\n", `roles.yaml: line 2, column 4: group "b": unknown role "mayor"`},
		{"operator is no user's role", "a: operator\n", `line 1, column 4: group "a": unknown role "operator"`},
		{"twice", "a: caseworker\nb: admin\na: admin\n", `roles.yaml: line 3, column 1: group "a" given twice (first on line 1)`},
		{"list of roles", "a: [caseworker, admin]\n", `line 1, column 4: the role of group "a" must be one role name`},
		{"empty group", `"": admin` + "\n", "line 1, column 1: a group must be a non-empty string"},
		{"not yaml", "a: [\n", "roles.yaml: yaml:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseGroupRoles(strings.NewReader(tc.in), "roles.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := NewGroupRoles(GroupRole{"a", Admin}, GroupRole{"a", Caseworker}); err == nil {
		t.Error("NewGroupRoles accepted a group twice")
	}
	if _, err := NewGroupRoles(GroupRole{"a", "boss"}); err == nil {
		t.Error("NewGroupRoles accepted an unknown role")
	}
}
