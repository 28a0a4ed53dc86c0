package auth

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// Permissions returns every permission the service knows, sorted.
func Permissions() []Permission {
	return []Permission{
		AuditRead, CasesComplexCase, CasesTenancyFraud, LabelsExport, LinkageReview, ModelsPromote, ModelsRead,
		NamedResidents, ScoreRuns, ScoreComplexCase, ScoreRows, ScoreTenancyFraud, UsersManage,
	}
}

// ParsePolicy reads purpose rules written as YAML, one key per role with
// the list of its permissions:
//
//	caseworker: [scores:complex_case, cases:complex_case, residents:read]
//	fraud_officer: [scores:tenancy_fraud, cases:tenancy_fraud, residents:read]
//
// A role left out has no permission. An unknown role or permission, a role
// given twice or a permission listed twice is an error naming its line and
// column.
func ParsePolicy(r io.Reader) (Policy, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p := Policy{}
	if len(doc.Content) == 0 {
		return p, nil // an empty file grants nothing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("policy: line %d, column %d: want a mapping of role to permissions", root.Line, root.Column)
	}
	known := map[Permission]bool{}
	for _, perm := range Permissions() {
		known[perm] = true
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		role, err := ParseRole(k.Value)
		if err != nil || k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("policy: line %d, column %d: %v", k.Line, k.Column, err)
		}
		if _, dup := p[role]; dup {
			return nil, fmt.Errorf("policy: line %d, column %d: role %s given twice", k.Line, k.Column, role)
		}
		if v.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("policy: line %d, column %d: the permissions of %s must be a list", v.Line, v.Column, role)
		}
		perms := []Permission{}
		seen := map[Permission]bool{}
		for _, item := range v.Content {
			perm := Permission(item.Value)
			switch {
			case item.Kind != yaml.ScalarNode || !known[perm]:
				return nil, fmt.Errorf("policy: line %d, column %d: unknown permission %q for %s (want one of %s)",
					item.Line, item.Column, item.Value, role, permissionList())
			case seen[perm]:
				return nil, fmt.Errorf("policy: line %d, column %d: permission %s listed twice for %s", item.Line, item.Column, perm, role)
			}
			seen[perm] = true
			perms = append(perms, perm)
		}
		p[role] = perms
	}
	return p, nil
}

func permissionList() string {
	names := make([]string, 0, len(Permissions()))
	for _, p := range Permissions() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}

// WriteYAML writes the policy in the form ParsePolicy reads, roles sorted,
// each role's permissions sorted.
func (p Policy) WriteYAML(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString("# caserisk purpose rules: role -> permissions (see auth.Permissions)\n")
	for _, r := range Roles() {
		perms, ok := p[r]
		if !ok {
			continue
		}
		names := make([]string, 0, len(perms))
		for _, perm := range p.Permissions(r) {
			names = append(names, string(perm))
		}
		fmt.Fprintf(&b, "%s: [%s]\n", r, strings.Join(names, ", "))
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	return nil
}
