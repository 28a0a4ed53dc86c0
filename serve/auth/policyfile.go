package auth

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"caserisk/features/contract"
)

// Permissions returns every permission the service knows, sorted.
func Permissions() []Permission {
	return []Permission{
		AuditRead, CasesComplexCase, CasesTenancyFraud, LabelsExport, LinkageLoad, LinkageReview, ModelsPromote, ModelsRead,
		NamedResidents, ScoreRuns, ScoreComplexCase, ScoreRows, ScoreTenancyFraud, UsersManage,
	}
}

// Services returns the data contract's services whose rows appear as
// events on a resident's single view, sorted: every service file but the
// Residents Index, the residence history and the gazetteer (those are the
// resident's details, granted by Detail).
func Services() []string {
	var out []string
	for _, f := range contract.Default().Files {
		switch f.Service {
		case "residents", "residences", "properties":
			continue
		}
		out = append(out, f.Service)
	}
	slices.Sort(out)
	return out
}

// ParsePolicy reads purpose rules written as YAML, one key per role:
//
//	caseworker:
//	  purpose: complex-case review
//	  permissions: [scores:complex_case, cases:complex_case, residents:read]
//	  services: [council_tax, early_help, ...]   # events on the single view
//	  details: [name, date_of_birth, sex, address, date_of_death]
//	data_scientist: [models:read, score_runs]    # permissions only
//
// A role written as a list has those permissions, no services and no
// details; services and details left out of a mapping are none (data
// minimisation: what is not granted is not shown). A role left out has no
// permission. `caserisk users policy` prints the default in this form. An
// unknown role, permission, service, detail or key, a role given twice or
// an entry listed twice is an error naming its line and column.
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
		return nil, fmt.Errorf("policy: line %d, column %d: want a mapping of role to its rule", root.Line, root.Column)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		role, err := parsePolicyRole(k.Value)
		if err != nil || k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("policy: line %d, column %d: %v", k.Line, k.Column, err)
		}
		if _, dup := p[role]; dup {
			return nil, fmt.Errorf("policy: line %d, column %d: role %s given twice", k.Line, k.Column, role)
		}
		var rule Rule
		switch v.Kind {
		case yaml.SequenceNode:
			if rule.Permissions, err = parseList[Permission](v, role, "permission", permissionNames()); err != nil {
				return nil, err
			}
			rule.Purpose = DefaultPolicy().Purpose(role)
		case yaml.MappingNode:
			if rule, err = parseRule(v, role); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("policy: line %d, column %d: the rule of %s must be a list of permissions or a mapping", v.Line, v.Column, role)
		}
		p[role] = rule
	}
	return p, nil
}

func parsePolicyRole(s string) (Role, error) {
	if s == string(Operator) {
		return Operator, nil
	}
	return ParseRole(s)
}

func parseRule(v *yaml.Node, role Role) (Rule, error) {
	rule := Rule{Purpose: DefaultPolicy().Purpose(role)}
	seen := map[string]bool{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if seen[k.Value] {
			return rule, fmt.Errorf("policy: line %d, column %d: %s given twice for %s", k.Line, k.Column, k.Value, role)
		}
		seen[k.Value] = true
		var err error
		switch k.Value {
		case "purpose":
			if val.Kind != yaml.ScalarNode || strings.TrimSpace(val.Value) == "" {
				return rule, fmt.Errorf("policy: line %d, column %d: the purpose of %s must be a sentence", val.Line, val.Column, role)
			}
			rule.Purpose = val.Value
		case "permissions":
			rule.Permissions, err = parseList[Permission](val, role, "permission", permissionNames())
		case "services":
			rule.Services, err = parseList[string](val, role, "service", Services())
		case "details":
			rule.Details, err = parseList[Detail](val, role, "detail", detailNames())
		default:
			return rule, fmt.Errorf("policy: line %d, column %d: unknown key %q for %s (want purpose, permissions, services, details)",
				k.Line, k.Column, k.Value, role)
		}
		if err != nil {
			return rule, err
		}
	}
	return rule, nil
}

// parseList reads a YAML list of known names into T.
func parseList[T ~string](v *yaml.Node, role Role, what string, known []string) ([]T, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("policy: line %d, column %d: the %ss of %s must be a list", v.Line, v.Column, what, role)
	}
	out := []T{}
	seen := map[string]bool{}
	for _, item := range v.Content {
		switch {
		case item.Kind != yaml.ScalarNode || !slices.Contains(known, item.Value):
			return nil, fmt.Errorf("policy: line %d, column %d: unknown %s %q for %s (want one of %s)",
				item.Line, item.Column, what, item.Value, role, strings.Join(known, ", "))
		case seen[item.Value]:
			return nil, fmt.Errorf("policy: line %d, column %d: %s %s listed twice for %s", item.Line, item.Column, what, item.Value, role)
		}
		seen[item.Value] = true
		out = append(out, T(item.Value))
	}
	return out, nil
}

func permissionNames() []string {
	var out []string
	for _, p := range Permissions() {
		out = append(out, string(p))
	}
	return out
}

func detailNames() []string {
	var out []string
	for _, d := range Details() {
		out = append(out, string(d))
	}
	return out
}

// WriteYAML writes the policy in the form ParsePolicy reads, roles in the
// order of PolicyRoles, each list sorted.
func (p Policy) WriteYAML(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString("# caserisk purpose rules: for each role, why it has the data (purpose, written to the audit\n")
	b.WriteString("# log), what it may do (permissions), which services' events it sees on a resident's single\n")
	b.WriteString("# view (services) and which resident details (details). What is not listed is not shown.\n")
	b.WriteString("# Check a changed copy with `caserisk users policy --check FILE`; serve it with\n")
	b.WriteString("# `caserisk serve --policy FILE`.\n")
	for _, r := range PolicyRoles() {
		rule, ok := p[r]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "%s:\n  purpose: %q\n", r, rule.Purpose)
		fmt.Fprintf(&b, "  permissions: [%s]\n", joinSorted(rule.Permissions))
		fmt.Fprintf(&b, "  services: [%s]\n", joinSorted(rule.Services))
		fmt.Fprintf(&b, "  details: [%s]\n", joinOrdered(rule.Details, Details()))
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	return nil
}

// WriteMarkdown writes the policy as the README's table: one row per role
// with its purpose, permissions, the services it sees and those it does not,
// and its resident details.
func (p Policy) WriteMarkdown(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString("| role | purpose (audited) | may | single-view services | not shown | resident details |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, r := range PolicyRoles() {
		rule, ok := p[r]
		if !ok {
			continue
		}
		var hidden []string
		for _, s := range Services() {
			if !slices.Contains(rule.Services, s) {
				hidden = append(hidden, s)
			}
		}
		seen := "none"
		switch {
		case len(rule.Services) == len(Services()):
			seen = "all"
		case len(rule.Services) > 0:
			seen = joinSorted(rule.Services)
		}
		notShown := "—"
		if len(hidden) > 0 && len(rule.Services) > 0 {
			notShown = strings.Join(hidden, ", ")
		} else if len(rule.Services) == 0 {
			notShown = "every service"
		}
		details := "none"
		if len(rule.Details) > 0 {
			details = joinOrdered(rule.Details, Details())
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r, rule.Purpose, joinSorted(rule.Permissions), seen, notShown, details)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	return nil
}

func joinSorted[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	slices.Sort(s)
	return strings.Join(s, ", ")
}

func joinOrdered(xs []Detail, order []Detail) string {
	var s []string
	for _, d := range order {
		if slices.Contains(xs, d) {
			s = append(s, string(d))
		}
	}
	return strings.Join(s, ", ")
}
