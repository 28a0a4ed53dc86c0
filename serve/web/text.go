package web

import (
	"strings"

	"github.com/gin-gonic/gin"

	"caserisk/serve/api"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// reqID returns the request id the API's middleware set on the response.
func reqID(c *gin.Context) string { return c.Writer.Header().Get(api.RequestIDHeader) }

// statusText is a case status in words.
func statusText(s store.Status) string {
	switch s {
	case store.StatusNew:
		return "New"
	case store.StatusReviewing:
		return "Reviewing"
	case store.StatusHelpOffered:
		return "Help offered"
	case store.StatusReferred:
		return "Referred"
	case store.StatusInvestigating:
		return "Investigating"
	case store.StatusClosed:
		return "Closed"
	}
	return sentence(string(s))
}

// outcomeText is a case outcome in words.
func outcomeText(o store.Outcome) string {
	switch o {
	case store.OutcomeHelpAccepted:
		return "Needs confirmed, help accepted"
	case store.OutcomeHelpDeclined:
		return "Needs confirmed, help declined"
	case store.OutcomeNoNeed:
		return "No complex need found"
	case store.OutcomeNotReachable:
		return "Could not be reached"
	case store.OutcomeAlreadyKnown:
		return "Already supported by a service"
	case store.OutcomeFraudConfirmed:
		return "Fraud confirmed"
	case store.OutcomeNoFraud:
		return "No fraud"
	case store.OutcomeInsufficientEvidence:
		return "Not enough evidence"
	}
	return sentence(string(o))
}

// targetText names a target.
func targetText(t store.Target) string {
	switch t {
	case store.ComplexCase:
		return "Complex case"
	case store.TenancyFraud:
		return "Tenancy fraud"
	}
	return sentence(string(t))
}

// roleText names a role.
func roleText(r auth.Role) string {
	if r == "" {
		return "No role" // a provider's user whose groups map to none
	}
	return sentence(string(r))
}

// serviceText names a service from its contract key.
func serviceText(s string) string { return sentence(s) }

// sentence turns snake_case into a sentence-case phrase.
func sentence(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
