package web

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"caserisk/features/contract"
	"caserisk/models/target"
	"caserisk/serve/api"
	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// reqID returns the request id the API's middleware set on the response.
func reqID(c *gin.Context) string { return c.Writer.Header().Get(api.RequestIDHeader) }

// The pages say everything in words: dates as "1 January 2025", codes of
// the data contract in its words (contract.Words), targets in the target
// catalogue's, probabilities as percentages and natural frequencies. A
// browser test fails on any snake_case word a page shows.

var dataContract = contract.Default()

// dateText writes a YYYY-MM-DD date as "1 January 2025" (anything else as
// it is).
func dateText(s string) string {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return s
	}
	return d.Format("2 January 2006")
}

// monthText writes a YYYY-MM-DD date as "October 2014" (anything else as
// it is).
func monthText(s string) string {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return s
	}
	return d.Format("January 2006")
}

// percent writes a probability as a whole percentage ("under 1%" and
// "over 99%" at the ends).
func percent(p float64) string {
	switch {
	case math.IsNaN(p):
		return "not known"
	case p < 0.005:
		return "under 1%"
	case p > 0.995:
		return "over 99%"
	}
	return strconv.Itoa(int(math.Round(p*100))) + "%"
}

// chanceText says a calibrated probability of a target as a natural
// frequency in the catalogue's words.
func chanceText(t store.Target, p float64) string {
	tg, err := target.Parse(string(t))
	if err != nil {
		return percent(p)
	}
	return tg.InWords(p)
}

// bandsText says what the bands mean, for the pages to write beside them.
func bandsText() string {
	var parts []string
	for _, b := range target.Bands() {
		parts = append(parts, b.Name+", "+b.Meaning)
	}
	return "Bands, the same in every score run: " + strings.Join(parts, "; ") + "."
}

// serviceText names a service by the contract's title.
func serviceText(s string) string {
	if f, ok := dataContract.File(s); ok {
		return f.Title
	}
	return sentence(s)
}

// codeText is a code of a contract column in words ("" stays "").
func codeText(service, column, code string) string {
	if code == "" {
		return ""
	}
	if w, ok := contract.Words(service, column, code); ok {
		return w
	}
	return strings.ReplaceAll(code, "_", " ")
}

func relationshipText(code string) string { return codeText("residences", "relationship", code) }
func tenureText(code string) string       { return codeText("properties", "tenure", code) }

var periodDetail = regexp.MustCompile(`^(.*) until (\d{4}-\d{2}-\d{2})$`)

// eventText says what a timeline event was: the service's title and the
// type code's words, and for a period when it ended.
func eventText(e store.Event) string {
	t, ok := dataContract.EventTitle(e.Service, e.Type)
	if !ok {
		t = sentence(e.Service)
	}
	// The single view stores a period's detail as "TITLE until DATE" or
	// "TITLE, open".
	switch m := periodDetail.FindStringSubmatch(e.Detail); {
	case m != nil:
		t += ", until " + dateText(m[2])
	case strings.HasSuffix(e.Detail, ", open"):
		t += ", still open"
	case e.Detail != "":
		t += " – " + e.Detail
	}
	return t
}

// ageText says a person's age ("" when not shown).
func ageText(age int, has bool) string {
	if !has {
		return ""
	}
	if age == 1 {
		return "1 year old"
	}
	return fmt.Sprintf("%d years old", age)
}

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

// roleText names a role (an auth.Role, or the role of an audit row).
func roleText(r any) string {
	if fmt.Sprint(r) == "" {
		return "No role" // a provider's user whose groups map to none
	}
	return sentence(fmt.Sprint(r))
}

// permText says what a permission allows.
func permText(p auth.Permission) string {
	switch p {
	case auth.ScoreComplexCase:
		return "see complex-case scores"
	case auth.ScoreTenancyFraud:
		return "see tenancy-fraud scores"
	case auth.CasesComplexCase:
		return "work complex-case reviews"
	case auth.CasesTenancyFraud:
		return "work tenancy-fraud referrals"
	case auth.ScoreRows:
		return "score anonymous feature rows"
	case auth.NamedResidents:
		return "read named residents' records"
	case auth.ModelsRead:
		return "read the models"
	case auth.ModelsPromote:
		return "register and promote models"
	case auth.ScoreRuns:
		return "run batch scoring"
	case auth.LabelsExport:
		return "export training labels"
	case auth.AuditRead:
		return "read the audit log"
	case auth.UsersManage:
		return "manage users"
	case auth.LinkageReview:
		return "review record linkage"
	case auth.LinkageLoad:
		return "load the linkage review queue"
	}
	return strings.NewReplacer("_", " ", ":", ": ").Replace(string(p))
}

// actionText says an audit action in words.
func actionText(a string) string {
	switch a {
	case audit.Read:
		return "Read"
	case audit.CaseUpdate:
		return "Changed a case"
	case audit.ModelRegister:
		return "Registered a model"
	case audit.ModelPromote:
		return "Promoted a model"
	case audit.ScoreRun:
		return "Ran batch scoring"
	case audit.LabelsExport:
		return "Exported labels"
	case audit.SignIn:
		return "Signed in"
	case audit.UserAdd:
		return "Added a user"
	case audit.UserToken:
		return "Issued a token"
	case audit.UserDisable:
		return "Disabled a user"
	case audit.UserEnable:
		return "Enabled a user"
	case audit.AuditVerify:
		return "Verified the audit log"
	case audit.LinkageImport:
		return "Loaded the linkage review queue"
	case audit.LinkageExport:
		return "Exported linkage decisions"
	case audit.LinkAccept:
		return "Linked two records as one person"
	case audit.LinkReject:
		return "Kept two records apart"
	}
	return sentence(strings.NewReplacer("_", " ", ".", " ").Replace(a))
}

// resourceText says what an audit row's resource is, in words where it
// names a target ("queue/complex_case" is "queue of complex cases").
func resourceText(r string) string {
	parts := strings.Split(r, "/")
	switch {
	case len(parts) == 2 && parts[0] == "queue":
		return strings.ToLower(targetText(store.Target(parts[1]))) + " queue"
	case len(parts) == 3 && parts[0] == "model":
		return strings.ToLower(targetText(store.Target(parts[1]))) + " model, version " + parts[2]
	case r == "residents/search":
		return "resident search"
	}
	return strings.ReplaceAll(r, "_", " ")
}

// characteristicText names a characteristic of the fairness audit.
func characteristicText(c string) string {
	return sentence(strings.ReplaceAll(strings.TrimPrefix(c, "audit_"), "_", " "))
}

// groupText names a group of a characteristic in the fairness audit, in
// the contract's words where the codes are the contract's.
func groupText(characteristic, g string) string {
	switch strings.TrimPrefix(characteristic, "audit_") {
	case "sex", "ethnic_group", "disability":
		return sentence(codeText("residents", strings.TrimPrefix(characteristic, "audit_"), g))
	}
	return sentence(g)
}

// sentence turns snake_case into a sentence-case phrase.
func sentence(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// dateField is a GOV.UK date input: day, month and year in three boxes.
type dateField struct {
	ID, Label, Hint  string
	Day, Month, Year string
	Err              bool
}

// readDate reads the date input named id: the ID-day, ID-month and
// ID-year boxes, or (from a link) id itself as YYYY-MM-DD. It returns the
// date as YYYY-MM-DD ("" when every box is empty), the field to show again
// and, when the boxes do not make a real date, ok false.
func readDate(c *gin.Context, id, label string) (value string, f dateField, ok bool) {
	f = dateField{ID: id, Label: label, Day: strings.TrimSpace(c.Query(id + "-day")),
		Month: strings.TrimSpace(c.Query(id + "-month")), Year: strings.TrimSpace(c.Query(id + "-year"))}
	if iso := strings.TrimSpace(c.Query(id)); iso != "" && f.Day+f.Month+f.Year == "" {
		d, err := time.Parse("2006-01-02", iso)
		if err != nil {
			f.Err = true
			return "", f, false
		}
		f.Day, f.Month, f.Year = strconv.Itoa(d.Day()), strconv.Itoa(int(d.Month())), strconv.Itoa(d.Year())
		return iso, f, true
	}
	if f.Day+f.Month+f.Year == "" {
		return "", f, true
	}
	d, errD := strconv.Atoi(f.Day)
	m, errM := strconv.Atoi(f.Month)
	y, errY := strconv.Atoi(f.Year)
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if errD != nil || errM != nil || errY != nil || y < 1800 || y > 9999 || t.Day() != d || int(t.Month()) != m {
		f.Err = true
		return "", f, false
	}
	return t.Format("2006-01-02"), f, true
}
