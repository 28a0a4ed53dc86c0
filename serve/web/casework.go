package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/gin-gonic/gin"

	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// home sends each role to its start page.
func (p *pages) home(c *gin.Context) {
	role := principalOf(c).Role
	for _, l := range p.nav(role, "") {
		c.Redirect(http.StatusSeeOther, l.Href)
		return
	}
	p.forbidden(c, "any page of this service")
}

// reason is a stored reason for a score.
type reason struct {
	Feature      string   `json:"feature"`
	Value        *float64 `json:"value"`
	Contribution float64  `json:"contribution"`
	Text         string   `json:"text"`
}

// parseReasons reads a score's stored reasons (an array or null).
func parseReasons(raw json.RawMessage) ([]reason, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var rs []reason
	if err := json.Unmarshal(raw, &rs); err != nil {
		return nil, fmt.Errorf("stored reasons: %w", err)
	}
	return rs, nil
}

type queueRow struct {
	ID         int64
	Assigned   bool // to the signed-in user
	Rank       int
	Entity     string
	ResidentID string
	Band       string
	Score      float64
	Reasons    []reason
	Status     store.Status
}

type queueData struct {
	Caption, Intro, EntityHeading, ReasonsHeading string
	Total, From, To                               int
	Rows                                          []queueRow
	Prev, Next                                    string
	// Mine shows only the cases assigned to the user; Path is the queue's.
	Mine bool
	Path string
}

// queue serves a ranked case queue with each case's band and top reasons.
func (p *pages) queue(kind store.Target) gin.HandlerFunc {
	return func(c *gin.Context) {
		perm, _ := auth.CasePermission(string(kind))
		if !p.policy.Allows(principalOf(c).Role, perm) {
			p.forbidden(c, "the "+targetText(kind)+" queue")
			return
		}
		offset, err := strconv.Atoi(c.DefaultQuery("offset", "0"))
		if err != nil || offset < 0 || offset > 1_000_000 {
			p.errorPage(c, http.StatusBadRequest, "Page not found", "The page number in the address is not valid.")
			return
		}
		ctx := c.Request.Context()
		if !p.audit(c, "read", "queue/"+string(kind)) {
			return
		}
		mine := c.Query("mine") == "1"
		q := store.QueueQuery{Kind: kind, Offset: offset, Limit: p.o.QueuePage}
		if mine {
			q.AssignedTo = principalOf(c).UserID
		}
		cases, total, err := p.st.Queue(ctx, q)
		if err != nil {
			p.failed(c, "read the queue", err)
			return
		}
		d := queueData{Total: total, From: offset + 1, To: offset + len(cases), Rows: make([]queueRow, 0, len(cases)), Mine: mine}
		if kind == store.ComplexCase {
			d.Caption = "Complex-case reviews"
			d.Intro = "Each flag asks for a review; the score supports your judgement and never decides on its own."
			d.EntityHeading, d.ReasonsHeading = "Resident", "Top reasons"
		} else {
			d.Caption = "Tenancy fraud"
			d.Intro = "Each referral shows the evidence behind its rank; an investigation decides, not the score."
			d.EntityHeading, d.ReasonsHeading = "Tenancy", "Evidence behind the rank"
		}
		for _, k := range cases {
			row := queueRow{ID: k.ID, Rank: k.Rank, Entity: k.EntityID, ResidentID: k.ResidentID, Score: k.Score, Status: k.Status,
				Assigned: k.AssignedTo != 0 && k.AssignedTo == principalOf(c).UserID}
			sc, err := p.st.RunScores(ctx, k.RunID, k.Rank-1, 1)
			if err != nil {
				p.failed(c, "read the queue's scores", err)
				return
			}
			if len(sc) == 1 && sc[0].EntityID == k.EntityID {
				row.Band = sc[0].Band
				rs, err := parseReasons(sc[0].Reasons)
				if err != nil {
					p.failed(c, "read the queue's reasons", err)
					return
				}
				row.Reasons = topRaising(rs, 3)
			}
			d.Rows = append(d.Rows, row)
		}
		path := c.Request.URL.Path
		d.Path = path
		page := func(off int) string {
			v := url.Values{"offset": {strconv.Itoa(off)}}
			if mine {
				v.Set("mine", "1")
			}
			return path + "?" + v.Encode()
		}
		if offset > 0 {
			d.Prev = page(max(0, offset-p.o.QueuePage))
		}
		if offset+len(cases) < total {
			d.Next = page(offset + len(cases))
		}
		title := "My reviews"
		if kind == store.TenancyFraud {
			title = "Fraud referrals"
		}
		p.render(c, http.StatusOK, "queue", view{Title: title, Data: d})
	}
}

// topRaising returns up to n reasons that raise the score, largest first.
func topRaising(rs []reason, n int) []reason {
	var up []reason
	for _, r := range rs {
		if r.Contribution > 0 {
			up = append(up, r)
		}
	}
	sort.SliceStable(up, func(i, j int) bool { return up[i].Contribution > up[j].Contribution })
	if len(up) > n {
		up = up[:n]
	}
	return up
}

// scoreView is one score shown with its reasons split by direction.
type scoreView struct {
	Target               store.Target
	AsOf                 string
	ModelVersion         int
	EntityID, ResidentID string
	Score                float64
	Band                 string
	Rank, Of             int
	Raising, Lowering    []reason
}

// scoreTargets returns the targets whose scores the signed-in role may see.
func (p *pages) scoreTargets(c *gin.Context) []store.Target {
	var targets []store.Target
	for _, t := range store.Targets() {
		if perm, _ := auth.ScorePermission(string(t)); p.policy.Allows(principalOf(c).Role, perm) {
			targets = append(targets, t)
		}
	}
	return targets
}

// scoreHistory reads the resident's scores in every run of the targets the
// role may see, oldest first.
func (p *pages) scoreHistory(c *gin.Context, id string) ([]store.ResidentScore, error) {
	targets := p.scoreTargets(c)
	if len(targets) == 0 {
		return nil, nil
	}
	h, err := p.st.ScoreHistory(c.Request.Context(), id, targets...)
	if err != nil {
		return nil, fmt.Errorf("read score history: %w", err)
	}
	return h, nil
}

// residentScores reads the resident's latest scores for the targets the
// role may see.
func (p *pages) residentScores(c *gin.Context, id string) ([]scoreView, error) {
	targets := p.scoreTargets(c)
	if len(targets) == 0 {
		return nil, nil
	}
	scores, err := p.st.ResidentScores(c.Request.Context(), id, targets...)
	if err != nil {
		return nil, fmt.Errorf("read scores: %w", err)
	}
	out := make([]scoreView, 0, len(scores))
	for _, sc := range scores {
		rs, err := parseReasons(sc.Reasons)
		if err != nil {
			return nil, err
		}
		v := scoreView{Target: sc.Target, AsOf: sc.AsOf, ModelVersion: sc.ModelVersion, EntityID: sc.EntityID,
			ResidentID: sc.ResidentID, Score: sc.Score.Score, Band: sc.Band, Rank: sc.Rank, Of: sc.RunRows}
		for _, r := range rs {
			if r.Contribution >= 0 {
				v.Raising = append(v.Raising, r)
			} else {
				v.Lowering = append(v.Lowering, r)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// residentView is the who-and-where part of a page.
type residentView struct {
	store.ResidentView
	Current *store.Stay
}

// readResident reads the single view and timeline of a resident.
func (p *pages) readResident(c *gin.Context, id string) (*residentView, []store.Event, error) {
	ctx := c.Request.Context()
	rv, err := p.st.Resident(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("read resident: %w", err)
	}
	v := &residentView{ResidentView: rv}
	for i := range rv.Stays {
		if rv.Stays[i].End == "" {
			v.Current = &rv.Stays[i]
			break
		}
	}
	ev, err := p.st.Timeline(ctx, id, store.TimelineQuery{Limit: p.o.TimelineRows})
	if err != nil {
		return nil, nil, fmt.Errorf("read timeline: %w", err)
	}
	return v, ev, nil
}

// validID accepts ids of 1–64 characters from [A-Za-z0-9._-], the API's
// rule for resident ids.
func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == '-') {
			return false
		}
	}
	return true
}

type residentData struct {
	View         *residentView
	Timeline     []store.Event
	Scores       []scoreView
	ScoreHistory []store.ResidentScore // every score the role may see, oldest first
	Household    []store.HouseholdMember
}

// residentPage is the single view of a resident with the scores the role
// may see. The view is audited before it is shown.
func (p *pages) residentPage(c *gin.Context) {
	if !p.policy.Allows(principalOf(c).Role, auth.NamedResidents) {
		p.forbidden(c, "named residents")
		return
	}
	id := c.Param("id")
	if !validID(id) {
		p.notFound(c, "resident")
		return
	}
	if !p.audit(c, "read", "resident/"+id) {
		return
	}
	v, ev, err := p.readResident(c, id)
	if errors.Is(err, store.ErrNotFound) {
		p.notFound(c, "resident")
		return
	}
	if err != nil {
		p.failed(c, "read the resident's record", err)
		return
	}
	scores, err := p.residentScores(c, id)
	if err != nil {
		p.failed(c, "read the resident's scores", err)
		return
	}
	hist, err := p.scoreHistory(c, id)
	if err != nil {
		p.failed(c, "read the resident's score history", err)
		return
	}
	hh, err := p.st.Household(c.Request.Context(), id)
	if err != nil {
		p.failed(c, "read the resident's household", err)
		return
	}
	if (len(scores) > 0 || len(hist) > 0) && !p.audit(c, "read", "resident/"+id+"/risk") {
		return
	}
	p.render(c, http.StatusOK, "resident", view{Title: "Resident " + id, Data: residentData{View: v, Timeline: ev, Scores: scores, ScoreHistory: hist, Household: hh}})
}

type caseData struct {
	Case     store.Case
	Mine     bool // assigned to the signed-in user
	Next     []store.Status
	Outcomes []store.Outcome
	History  []store.CaseEvent
	residentData
}

// caseFor reads the :id case and checks the role may work it.
func (p *pages) caseFor(c *gin.Context) (store.Case, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		p.notFound(c, "case")
		return store.Case{}, false
	}
	k, err := p.st.Case(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		p.notFound(c, "case")
		return store.Case{}, false
	}
	if err != nil {
		p.failed(c, "read the case", err)
		return store.Case{}, false
	}
	perm, _ := auth.CasePermission(string(k.Kind))
	if !p.policy.Allows(principalOf(c).Role, perm) {
		p.forbidden(c, targetText(k.Kind)+" cases")
		return store.Case{}, false
	}
	return k, true
}

// casePage shows a case with the resident's single view, their scores and
// the forms that move the case on. It is audited as a read of the case, the
// resident and their risk.
func (p *pages) casePage(c *gin.Context) {
	k, ok := p.caseFor(c)
	if !ok {
		return
	}
	flash := ""
	if c.Query("updated") != "" {
		flash = "The case has been updated."
	}
	p.showCase(c, k, http.StatusOK, flash, nil)
}

func (p *pages) showCase(c *gin.Context, k store.Case, code int, flash string, errs []fieldErr) {
	if !p.audit(c, "read", fmt.Sprintf("case/%d", k.ID)) || !p.audit(c, "read", "resident/"+k.ResidentID) {
		return
	}
	ctx := c.Request.Context()
	hist, err := p.st.CaseHistory(ctx, k.ID)
	if err != nil {
		p.failed(c, "read the case history", err)
		return
	}
	d := caseData{Case: k, Mine: k.AssignedTo != 0 && k.AssignedTo == principalOf(c).UserID, Next: store.NextStatuses(k.Kind, k.Status), Outcomes: store.Outcomes(k.Kind), History: hist}
	v, ev, err := p.readResident(c, k.ResidentID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		p.failed(c, "read the resident's record", err)
		return
	}
	d.View, d.Timeline = v, ev
	if v != nil {
		if d.Household, err = p.st.Household(ctx, k.ResidentID); err != nil {
			p.failed(c, "read the resident's household", err)
			return
		}
	}
	if d.Scores, err = p.residentScores(c, k.ResidentID); err != nil {
		p.failed(c, "read the resident's scores", err)
		return
	}
	if d.ScoreHistory, err = p.scoreHistory(c, k.ResidentID); err != nil {
		p.failed(c, "read the resident's score history", err)
		return
	}
	if (len(d.Scores) > 0 || len(d.ScoreHistory) > 0) && !p.audit(c, "read", "resident/"+k.ResidentID+"/risk") {
		return
	}
	title := "Review of resident " + k.ResidentID
	if k.Kind == store.TenancyFraud {
		title = "Referral of tenancy " + k.EntityID
	}
	p.render(c, code, "case", view{Title: title, Flash: flash, Errors: errs, Data: d})
}

// caseStatus moves a case along its workflow (not to closed).
func (p *pages) caseStatus(c *gin.Context) {
	k, ok := p.caseFor(c)
	if !ok {
		return
	}
	to := store.Status(c.PostForm("status"))
	if to == "" || to == store.StatusClosed {
		p.showCase(c, k, http.StatusBadRequest, "", []fieldErr{{Field: "status", Msg: "Choose the case's new status"}})
		return
	}
	p.transition(c, k, to, "", "status")
}

// caseOutcome closes a case with its outcome, which becomes a training
// label when it says something about the target.
func (p *pages) caseOutcome(c *gin.Context) {
	k, ok := p.caseFor(c)
	if !ok {
		return
	}
	o := store.Outcome(c.PostForm("outcome"))
	if o == "" {
		p.showCase(c, k, http.StatusBadRequest, "", []fieldErr{{Field: "outcome-" + string(firstOutcome(k.Kind)), Msg: "Choose the outcome of the case"}})
		return
	}
	p.transition(c, k, store.StatusClosed, o, "outcome")
}

func firstOutcome(kind store.Target) store.Outcome {
	if os := store.Outcomes(kind); len(os) > 0 {
		return os[0]
	}
	return ""
}

// maxNote bounds a case note, as the API does.
const maxNote = 4000

func (p *pages) transition(c *gin.Context, k store.Case, to store.Status, o store.Outcome, field string) {
	note := c.PostForm("note")
	noteField := field + "-note"
	if len(note) > maxNote {
		p.showCase(c, k, http.StatusBadRequest, "", []fieldErr{{Field: noteField, Msg: fmt.Sprintf("The note must be %d characters or fewer", maxNote)}})
		return
	}
	if !p.audit(c, "update", fmt.Sprintf("case/%d", k.ID)) {
		return
	}
	u := principalOf(c)
	_, err := p.st.TransitionCase(c.Request.Context(), store.Transition{CaseID: k.ID, To: to, Outcome: o, Note: note, By: u.Name, ByID: u.UserID})
	var fe *store.FieldError
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/cases/%d?updated=%s", k.ID, url.QueryEscape(string(to))))
	case errors.Is(err, store.ErrTransition):
		p.showCase(c, k, http.StatusConflict, "", []fieldErr{{Field: field, Msg: fmt.Sprintf("A case that is %s cannot move to %s", statusText(k.Status), statusText(to))}})
	case errors.As(err, &fe):
		f := field
		if fe.Field == "outcome" {
			f = "outcome-" + string(firstOutcome(k.Kind))
		}
		p.showCase(c, k, http.StatusBadRequest, "", []fieldErr{{Field: f, Msg: "Choose one of the listed options: " + fe.Msg}})
	default:
		p.failed(c, "update the case", err)
	}
}

// caseAssign assigns the case to the signed-in user, or releases it
// ("release" in the form) back to the team.
func (p *pages) caseAssign(c *gin.Context) {
	k, ok := p.caseFor(c)
	if !ok {
		return
	}
	if k.Status == store.StatusClosed {
		p.showCase(c, k, http.StatusConflict, "", []fieldErr{{Msg: "A closed case cannot be assigned"}})
		return
	}
	if !p.audit(c, "update", fmt.Sprintf("case/%d", k.ID)) {
		return
	}
	u := principalOf(c)
	to := u.UserID
	if c.PostForm("release") == "1" {
		to = 0
	}
	if _, err := p.st.AssignCase(c.Request.Context(), k.ID, to, u.Name); err != nil {
		p.failed(c, "assign the case", err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/cases/%d?updated=assigned", k.ID))
}
