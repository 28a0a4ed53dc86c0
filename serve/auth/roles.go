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
)

// Roles returns every role, sorted.
func Roles() []Role {
	return []Role{Admin, Caseworker, DataScientist, DataSteward, FraudOfficer}
}

// ParseRole returns the role named s, or an error listing the valid roles.
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

// Policy is the purpose rules as data: the permissions of each role. A role
// absent from the policy has no permission.
type Policy map[Role][]Permission

// DefaultPolicy returns the council's purpose rules. Each call returns a
// fresh copy that the caller may change.
//
//   - caseworker: complex-case scores and cases, named residents.
//   - fraud_officer: tenancy-fraud scores and cases, named residents.
//   - data_scientist: models, score runs, label export, scoring anonymous
//     feature rows; no named resident and no individual's score.
//   - admin: models (including promotion), score runs, users, the audit log;
//     no individual's score and no named resident, so that an administrator
//     cannot browse people without a casework purpose.
//   - data_steward: the record linkage's clerical review queue only. It
//     shows personal details of raw records, so it is a role of its own for
//     data-quality work rather than a power of the administrator (who sees
//     no named person) or of casework roles (whose purpose is their cases).
func DefaultPolicy() Policy {
	return Policy{
		Caseworker:    {ScoreComplexCase, CasesComplexCase, NamedResidents},
		FraudOfficer:  {ScoreTenancyFraud, CasesTenancyFraud, NamedResidents},
		DataScientist: {ModelsRead, ModelsPromote, ScoreRuns, LabelsExport, ScoreRows},
		Admin:         {ModelsRead, ModelsPromote, ScoreRuns, LabelsExport, AuditRead, UsersManage},
		DataSteward:   {LinkageReview},
	}
}

// Allows reports whether role has permission p under the policy.
func (p Policy) Allows(role Role, perm Permission) bool {
	for _, q := range p[role] {
		if q == perm {
			return true
		}
	}
	return false
}

// Permissions returns the permissions of role, sorted.
func (p Policy) Permissions(role Role) []Permission {
	out := append([]Permission(nil), p[role]...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
