// Package auth provides the scoring service's roles, the purpose rules that
// say which role may see what, and bearer tokens: generation, hashing and
// constant-time verification against stored hashes.
//
// The purpose rules are data (a Policy), so the API middleware and the web
// pages apply one rule set. The package depends on no storage: a store
// supplies token candidates through the TokenLookup interface.
package auth

import (
	"fmt"
	"sort"
	"strings"
)

// Role is what a user does at the council; it decides what they may see.
type Role string

// The roles of the scoring service.
const (
	// Caseworker reviews complex-case flags: complex-case scores and
	// named residents, never a fraud score.
	Caseworker Role = "caseworker"
	// FraudOfficer investigates tenancy-fraud referrals: tenancy-fraud
	// scores and named residents, never a safeguarding (complex-case) score.
	FraudOfficer Role = "fraud_officer"
	// DataScientist sees models, metrics and score runs, never a named
	// resident.
	DataScientist Role = "data_scientist"
	// Admin manages users, models and reads the audit log.
	Admin Role = "admin"
	// DataSteward looks after the quality of the council's data: reviews
	// the record linkage's clerical review queue, which shows two person
	// records' details side by side. No score, case or single view.
	DataSteward Role = "data_steward"
	// Operator is whoever runs caserisk's commands on the server with the
	// database's credentials (the CLI, the retraining pipeline, the demo).
	// No user account has it; it names those actions in the audit log.
	Operator Role = "operator"
)

// Roles returns every role a user account may have, sorted.
func Roles() []Role {
	return []Role{Admin, Caseworker, DataScientist, DataSteward, FraudOfficer}
}

// PolicyRoles returns every role the purpose policy names: the users' roles
// and the operator.
func PolicyRoles() []Role { return append(Roles(), Operator) }

// ParseRole returns the role named s, or an error listing the valid roles
// of a user account.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if string(r) == s {
			return r, nil
		}
	}
	names := make([]string, 0, len(Roles()))
	for _, r := range Roles() {
		names = append(names, string(r))
	}
	return "", fmt.Errorf("unknown role %q (want one of %s)", s, strings.Join(names, ", "))
}

// Permission names one kind of access the purpose rules grant.
type Permission string

// The permissions of the scoring service.
const (
	// ScoreComplexCase allows reading and requesting complex-case scores.
	ScoreComplexCase Permission = "scores:complex_case"
	// ScoreTenancyFraud allows reading and requesting tenancy-fraud scores.
	ScoreTenancyFraud Permission = "scores:tenancy_fraud"
	// CasesComplexCase allows reading and working the complex-case queue.
	CasesComplexCase Permission = "cases:complex_case"
	// CasesTenancyFraud allows reading and working the tenancy-fraud queue.
	CasesTenancyFraud Permission = "cases:tenancy_fraud"
	// ScoreRows allows scoring anonymous feature rows (POST /score) for
	// either target: the rows carry no identity, so this serves model
	// checking, not casework.
	ScoreRows Permission = "scores:rows"
	// NamedResidents allows reading a named resident's single view.
	NamedResidents Permission = "residents:read"
	// ModelsRead allows listing models and their metrics.
	ModelsRead Permission = "models:read"
	// ModelsPromote allows registering and promoting models.
	ModelsPromote Permission = "models:promote"
	// ScoreRuns allows starting and listing batch score runs.
	ScoreRuns Permission = "score_runs"
	// LabelsExport allows exporting case outcomes as training labels.
	LabelsExport Permission = "labels:export"
	// AuditRead allows reading the audit log.
	AuditRead Permission = "audit:read"
	// UsersManage allows adding and disabling users.
	UsersManage Permission = "users:manage"
	// LinkageReview allows working the record linkage's clerical review
	// queue: seeing two raw person records' details side by side and
	// deciding whether they are one person. The details are personal data
	// shown for data quality only, so the permission grants nothing else.
	LinkageReview Permission = "linkage:review"
	// LinkageLoad allows loading a clerical review queue (with the raw
	// records' details) into the service and exporting the decisions made
	// on it: an operator's task, not a reviewer's.
	LinkageLoad Permission = "linkage:load"
)

// ScorePermission returns the permission needed to see scores of a target
// ("complex_case" or "tenancy_fraud").
func ScorePermission(target string) (Permission, error) {
	switch target {
	case "complex_case":
		return ScoreComplexCase, nil
	case "tenancy_fraud":
		return ScoreTenancyFraud, nil
	}
	return "", fmt.Errorf("unknown target %q (want complex_case or tenancy_fraud)", target)
}

// CasePermission returns the permission needed to see and work cases of a
// kind ("complex_case" or "tenancy_fraud").
func CasePermission(kind string) (Permission, error) {
	switch kind {
	case "complex_case":
		return CasesComplexCase, nil
	case "tenancy_fraud":
		return CasesTenancyFraud, nil
	}
	return "", fmt.Errorf("unknown case kind %q (want complex_case or tenancy_fraud)", kind)
}

// Detail is a kind of personal detail of a resident that a role's purpose
// may need on the single view, queues and cases.
type Detail string

// The resident details the policy grants. A detail not granted is left
// empty in what the application core returns.
const (
	// DetailName is the resident's given and family name.
	DetailName Detail = "name"
	// DetailDateOfBirth is the full date of birth (household members show
	// only a birth year, which needs this detail too).
	DetailDateOfBirth Detail = "date_of_birth"
	// DetailSex is the recorded sex.
	DetailSex Detail = "sex"
	// DetailAddress is where the resident lives and has lived: addresses,
	// postcodes and the household at the address.
	DetailAddress Detail = "address"
	// DetailDeath is the date of death.
	DetailDeath Detail = "date_of_death"
)

// Details returns every detail, in the order the policy table shows them.
func Details() []Detail {
	return []Detail{DetailName, DetailDateOfBirth, DetailSex, DetailAddress, DetailDeath}
}

// Rule is one role's purpose and what it grants: the permissions (which
// operations, which targets' scores and cases), the services whose events
// the role sees on a resident's single view (the data contract's service
// keys), and the resident details it sees.
type Rule struct {
	// Purpose is why the role has the data; it is written to the audit log
	// with every access the role makes.
	Purpose     string
	Permissions []Permission
	Services    []string
	Details     []Detail
}

// Policy is the purpose rules as data: each role's Rule. A role absent from
// the policy has no permission and sees nothing.
type Policy map[Role]Rule

// FraudServices are the services whose records bear on tenancy fraud: who
// holds the tenancy and pays for it, who is registered and billed at the
// address, repairs (signs of occupation), homelessness (a second home) and
// housing benefit and council tax support (declared households).
func FraudServices() []string {
	return []string{"council_tax", "council_tax_support", "electoral_register", "fraud_investigations",
		"homelessness", "housing_benefit", "rent_account", "repairs", "tenancies"}
}

// CaseworkServices are the services whose records bear on a household's
// need of early help: every service except fraud investigations.
func CaseworkServices() []string {
	var out []string
	for _, s := range Services() {
		if s != "fraud_investigations" {
			out = append(out, s)
		}
	}
	return out
}

// DefaultPolicy returns the council's purpose rules, minimal by default.
// Each call returns a fresh copy that the caller may change.
//
//   - caseworker: complex-case scores and cases, named residents, every
//     service's events except fraud investigations; never a fraud score,
//     case or investigation.
//   - fraud_officer: tenancy-fraud scores and cases, named residents, and
//     only the services that bear on tenancy fraud (FraudServices): never
//     children's or adult social care, early help, education or youth
//     justice.
//   - data_scientist: models, score runs, label export, scoring anonymous
//     feature rows; no resident, no individual's score.
//   - admin: models (including promotion), score runs, users, the audit log;
//     no individual's score and no resident, so that an administrator
//     cannot browse people without a casework purpose.
//   - data_steward: the record linkage's clerical review queue only. It
//     shows personal details of raw records, so it is a role of its own for
//     data-quality work rather than a power of the administrator (who sees
//     no named person) or of casework roles (whose purpose is their cases).
//   - operator: the commands run on the server with the database's
//     credentials (caserisk models, users, score-run, labels, link review
//     import/export, pipeline, demo): what an administrator may do, and
//     loading and exporting the linkage review queue; no resident.
func DefaultPolicy() Policy {
	person := []Detail{DetailName, DetailDateOfBirth, DetailSex, DetailAddress, DetailDeath}
	return Policy{
		Caseworker: {Purpose: "complex-case review",
			Permissions: []Permission{ScoreComplexCase, CasesComplexCase, NamedResidents},
			Services:    CaseworkServices(), Details: person},
		FraudOfficer: {Purpose: "tenancy-fraud investigation",
			Permissions: []Permission{ScoreTenancyFraud, CasesTenancyFraud, NamedResidents},
			Services:    FraudServices(), Details: person},
		DataScientist: {Purpose: "model development and monitoring",
			Permissions: []Permission{ModelsRead, ModelsPromote, ScoreRuns, LabelsExport, ScoreRows}},
		Admin: {Purpose: "service administration",
			Permissions: []Permission{ModelsRead, ModelsPromote, ScoreRuns, LabelsExport, AuditRead, UsersManage}},
		DataSteward: {Purpose: "data quality: record linkage review",
			Permissions: []Permission{LinkageReview}},
		Operator: {Purpose: "service operation",
			Permissions: []Permission{ModelsRead, ModelsPromote, ScoreRuns, LabelsExport, AuditRead, UsersManage, LinkageLoad}},
	}
}

// Allows reports whether role has permission p under the policy.
func (p Policy) Allows(role Role, perm Permission) bool {
	for _, q := range p[role].Permissions {
		if q == perm {
			return true
		}
	}
	return false
}

// Permissions returns the permissions of role, sorted.
func (p Policy) Permissions(role Role) []Permission {
	out := append([]Permission(nil), p[role].Permissions...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Purpose returns the purpose written to the audit log for the role's
// access ("unspecified" for a role the policy does not name).
func (p Policy) Purpose(role Role) string {
	if r, ok := p[role]; ok && r.Purpose != "" {
		return r.Purpose
	}
	return "unspecified"
}

// SeesService reports whether the role sees the events of a service on
// the single view.
func (p Policy) SeesService(role Role, service string) bool {
	for _, s := range p[role].Services {
		if s == service {
			return true
		}
	}
	return false
}

// SeesDetail reports whether the role sees a kind of resident detail.
func (p Policy) SeesDetail(role Role, d Detail) bool {
	for _, x := range p[role].Details {
		if x == d {
			return true
		}
	}
	return false
}

// Clone returns a deep copy of the policy.
func (p Policy) Clone() Policy {
	out := make(Policy, len(p))
	for r, rule := range p {
		out[r] = Rule{Purpose: rule.Purpose, Permissions: append([]Permission(nil), rule.Permissions...),
			Services: append([]string(nil), rule.Services...), Details: append([]Detail(nil), rule.Details...)}
	}
	return out
}
