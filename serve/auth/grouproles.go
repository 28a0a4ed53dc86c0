package auth

import (
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// GroupRoles maps an identity provider's groups (or app roles) to
// caserisk's roles, in the order the map was written: a person in several
// mapped groups gets the role of the first of them in the map, so the map
// says which role wins (list the more powerful role's group first, or the
// least powerful first for least privilege).
type GroupRoles struct {
	entries []GroupRole
}

// GroupRole is one entry of a GroupRoles: members of Group get Role.
type GroupRole struct {
	Group string
	Role  Role
}

// NewGroupRoles returns a map of the entries in order. A group given twice
// or an unknown role is an error.
func NewGroupRoles(entries ...GroupRole) (GroupRoles, error) {
	seen := map[string]bool{}
	for i, e := range entries {
		if strings.TrimSpace(e.Group) == "" {
			return GroupRoles{}, fmt.Errorf("group roles: entry %d: empty group", i+1)
		}
		if seen[e.Group] {
			return GroupRoles{}, fmt.Errorf("group roles: group %q given twice", e.Group)
		}
		seen[e.Group] = true
		if _, err := ParseRole(string(e.Role)); err != nil {
			return GroupRoles{}, fmt.Errorf("group roles: group %q: %w", e.Group, err)
		}
	}
	return GroupRoles{entries: append([]GroupRole(nil), entries...)}, nil
}

// ParseGroupRoles reads a group → role map written as YAML, one key per
// group, in order of precedence:
//
//	# Entra ID: the groups' object ids; other providers: the groups' names
//	"0b3c7f0e-6c64-4d8f-9a61-2f9d0a2e4b11": admin
//	caserisk-caseworkers: caseworker
//	caserisk-fraud: fraud_officer
//
// name is the file's name for error messages. An empty map, a group given
// twice, a value that is not a role, or anything but a mapping of strings
// is an error naming the line and column.
func ParseGroupRoles(r io.Reader, name string) (GroupRoles, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return GroupRoles{}, fmt.Errorf("%s: read: %w", name, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return GroupRoles{}, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return GroupRoles{}, fmt.Errorf("%s: no groups: write one line per group, GROUP: ROLE", name)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return GroupRoles{}, fmt.Errorf("%s: line %d, column %d: want a mapping of group to role (GROUP: ROLE)", name, root.Line, root.Column)
	}
	if len(root.Content) == 0 {
		return GroupRoles{}, fmt.Errorf("%s: line %d, column %d: no groups: write one line per group, GROUP: ROLE", name, root.Line, root.Column)
	}
	var entries []GroupRole
	lines := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
			return GroupRoles{}, fmt.Errorf("%s: line %d, column %d: a group must be a non-empty string", name, k.Line, k.Column)
		}
		if prev, dup := lines[k.Value]; dup {
			return GroupRoles{}, fmt.Errorf("%s: line %d, column %d: group %q given twice (first on line %d)", name, k.Line, k.Column, k.Value, prev)
		}
		lines[k.Value] = k.Line
		if v.Kind != yaml.ScalarNode {
			return GroupRoles{}, fmt.Errorf("%s: line %d, column %d: the role of group %q must be one role name", name, v.Line, v.Column, k.Value)
		}
		role, err := ParseRole(v.Value)
		if err != nil {
			return GroupRoles{}, fmt.Errorf("%s: line %d, column %d: group %q: %w", name, v.Line, v.Column, k.Value, err)
		}
		entries = append(entries, GroupRole{Group: k.Value, Role: role})
	}
	return GroupRoles{entries: entries}, nil
}

// Role returns the role of the first entry whose group is among groups,
// and that group; ok is false when no group is mapped.
func (m GroupRoles) Role(groups []string) (role Role, group string, ok bool) {
	in := make(map[string]bool, len(groups))
	for _, g := range groups {
		in[g] = true
	}
	for _, e := range m.entries {
		if in[e.Group] {
			return e.Role, e.Group, true
		}
	}
	return "", "", false
}

// Entries returns the map's entries in order.
func (m GroupRoles) Entries() []GroupRole { return append([]GroupRole(nil), m.entries...) }

// Len is the number of groups mapped.
func (m GroupRoles) Len() int { return len(m.entries) }
