package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"caserisk/serve/core"
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
		ctx := c.Request.Context()
		offset, err := strconv.Atoi(c.DefaultQuery("offset", "0"))
		if err != nil || offset < 0 || offset > 1_000_000 {
			p.errorPage(c, http.StatusBadRequest, "Page not found", "The page number in the address is not valid.")
			return
		}
		mine := c.Query("mine") == "1"
		items, total, err := p.core.Queue(ctx, p.actor(c), core.QueueQuery{Kind: kind, Mine: mine, Offset: offset, Limit: p.o.QueuePage, Scores: true})
		if err != nil {
			p.coreError(c, "read the queue", "the "+targetText(kind)+" queue", err)
			return
		}
		d := queueData{Total: total, From: offset + 1, To: offset + len(items), Rows: make([]queueRow, 0, len(items)), Mine: mine}
		if kind == store.ComplexCase {
			d.Caption = "Complex-case reviews"
			d.Intro = "Each flag asks for a review; the score supports your judgement and never decides on its own."
			d.EntityHeading, d.ReasonsHeading = "Resident", "Top reasons"
		} else {
			d.Caption = "Tenancy fraud"
			d.Intro = "Each referral shows the evidence behind its rank; an investigation decides, not the score."
			d.EntityHeading, d.ReasonsHeading = "Tenancy", "Evidence behind the rank"
		}
		for _, k := range items {
			row := queueRow{ID: k.ID, Rank: k.Rank, Entity: k.EntityID, ResidentID: k.ResidentID, Score: k.Case.Score, Status: k.Status,
				Assigned: k.AssignedTo != 0 && k.AssignedTo == principalOf(c).UserID}
			if k.Score != nil {
				row.Band = k.Score.Band
				rs, err := parseReasons(k.Score.Reasons)
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
		if offset+len(items) < total {
			d.Next = page(offset + len(items))
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

// scoreViews splits each score's reasons into those raising and lowering it.
func scoreViews(scores []store.ResidentScore) ([]scoreView, error) {
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

// readPerson reads what the page shows of a resident through the core:
// the single view (filtered by the role's purpose, audited) and the scores
// the role may see (audited). A role that may see no score gets a page
// without scores.
func (p *pages) readPerson(c *gin.Context, id string, d *residentData) error {
	ctx := c.Request.Context()
	a := p.actor(c)
	v, err := p.core.Resident(ctx, a, id, core.TimelineQuery{Limit: p.o.TimelineRows})
	if err != nil {
		return err
	}
	d.View, d.Timeline, d.Household = v, v.Timeline, v.Household
	if len(p.core.ScoreTargets(a)) == 0 {
		return nil
	}
	risk, err := p.core.ResidentRisk(ctx, a, id, true)
	if err != nil {
		return err
	}
	if d.Scores, err = scoreViews(risk.Latest); err != nil {
		return err
	}
	d.ScoreHistory = risk.History
	return nil
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
	View         *core.ResidentView
	Timeline     []store.Event
	Scores       []scoreView
	ScoreHistory []store.ResidentScore // every score the role may see, oldest first
	Household    []store.HouseholdMember
}

// residentPage is the single view of a resident with the scores the role
// may see, as the core returns them for the role (filtered and audited).
func (p *pages) residentPage(c *gin.Context) {
	id := c.Param("id")
	if !validID(id) {
		p.notFound(c, "resident")
		return
	}
	var d residentData
	if err := p.readPerson(c, id, &d); err != nil {
		p.coreError(c, "read the resident's record", "named residents", err)
		return
	}
	p.render(c, http.StatusOK, "resident", view{Title: "Resident " + id, Data: d})
}

type caseData struct {
	Case     store.Case
	Mine     bool // assigned to the signed-in user
	Next     []store.Status
	Outcomes []store.Outcome
	History  []store.CaseEvent
	residentData
}

// caseFor reads the :id case through the core, which checks the role may
// work it and audits the read.
func (p *pages) caseFor(c *gin.Context) (core.CaseView, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		p.notFound(c, "case")
		return core.CaseView{}, false
	}
	k, err := p.core.Case(c.Request.Context(), p.actor(c), id)
	if errors.Is(err, store.ErrNotFound) {
		// Missing, or of a kind the role may not work: the same page.
		p.notFound(c, "case")
		return core.CaseView{}, false
	}
	if err != nil {
		var fb *core.ForbiddenError
		what := "cases of this kind"
		if errors.As(err, &fb) && fb.Need != "" {
			what = targetText(store.Target(strings.TrimPrefix(string(fb.Need), "cases:"))) + " cases"
		}
		p.coreError(c, "read the case", what, err)
		return core.CaseView{}, false
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

func (p *pages) showCase(c *gin.Context, k core.CaseView, code int, flash string, errs []fieldErr) {
	d := caseData{Case: k.Case, Mine: k.AssignedTo != 0 && k.AssignedTo == principalOf(c).UserID, Next: k.Next, Outcomes: k.Outcomes, History: k.History}
	if err := p.readPerson(c, k.ResidentID, &d.residentData); err != nil && !errors.Is(err, store.ErrNotFound) {
		p.coreError(c, "read the resident's record", "named residents", err)
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

func (p *pages) transition(c *gin.Context, k core.CaseView, to store.Status, o store.Outcome, field string) {
	note := c.PostForm("note")
	_, err := p.core.Transition(c.Request.Context(), p.actor(c), k.ID, to, o, note)
	var fe *store.FieldError
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/cases/%d?updated=%s", k.ID, url.QueryEscape(string(to))))
	case errors.Is(err, store.ErrTransition):
		p.showCase(c, k, http.StatusConflict, "", []fieldErr{{Field: field, Msg: fmt.Sprintf("A case that is %s cannot move to %s", statusText(k.Status), statusText(to))}})
	case errors.As(err, &fe) && fe.Field == "note":
		p.showCase(c, k, http.StatusBadRequest, "", []fieldErr{{Field: field + "-note", Msg: fmt.Sprintf("The note must be %d characters or fewer", core.MaxNoteBytes)}})
	case errors.As(err, &fe):
		f := field
		if fe.Field == "outcome" {
			f = "outcome-" + string(firstOutcome(k.Kind))
		}
		p.showCase(c, k, http.StatusBadRequest, "", []fieldErr{{Field: f, Msg: "Choose one of the listed options: " + fe.Msg}})
	default:
		p.coreError(c, "update the case", "this case", err)
	}
}

// caseAssign assigns the case to the signed-in user, or releases it
// ("release" in the form) back to the team.
func (p *pages) caseAssign(c *gin.Context) {
	k, ok := p.caseFor(c)
	if !ok {
		return
	}
	_, err := p.core.Assign(c.Request.Context(), p.actor(c), k.ID, c.PostForm("release") != "1")
	if errors.Is(err, store.ErrConflict) {
		p.showCase(c, k, http.StatusConflict, "", []fieldErr{{Msg: "A closed case cannot be assigned"}})
		return
	}
	if err != nil {
		p.coreError(c, "assign the case", "this case", err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/cases/%d?updated=assigned", k.ID))
}
