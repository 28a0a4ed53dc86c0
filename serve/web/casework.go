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
	"time"

	"github.com/gin-gonic/gin"

	"caserisk/serve/auth"
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

// personView is a resident as a page names them: the details the role may
// see (from the core), the resident id when no name may be shown.
type personView struct {
	ID, Name, Age, Born, Address string
	Years                        string // the age as a bare number, for lists
	Named                        bool   // Name is the person's name, not their id
}

func personOf(p core.Person) personView {
	v := personView{ID: p.ID, Name: p.Name, Named: p.Name != "", Age: ageText(p.Age, p.HasAge)}
	if p.HasAge {
		v.Years = strconv.Itoa(p.Age)
	}
	if !v.Named {
		v.Name = "Resident " + p.ID
	}
	if p.DateOfBirth != "" {
		v.Born = dateText(p.DateOfBirth)
	}
	v.Address = p.Address
	if p.Postcode != "" {
		v.Address += ", " + p.Postcode
	}
	return v
}

// memberView is a member of a case's household with their own score.
type memberView struct {
	personView
	Band, Chance string
	Lead         bool // the member whose score ranks the case
	Raising      []reason
}

func membersOf(ms []core.Member, lead string) ([]memberView, error) {
	out := make([]memberView, 0, len(ms))
	for _, m := range ms {
		rs, err := parseReasons(m.Score.Reasons)
		if err != nil {
			return nil, err
		}
		out = append(out, memberView{personView: personOf(m.Person), Band: m.Score.Band, Chance: percent(m.Score.Score),
			Lead: m.Score.EntityID == lead, Raising: topRaising(rs, 2)})
	}
	return out, nil
}

type queueRow struct {
	ID       int64
	Position int    // in the queue, 1 first
	Assigned bool   // to the signed-in user
	Tenancy  string // the tenancy of a fraud referral
	Lead     personView
	Others   []memberView // the rest of the household, best rank first
	Band     string
	Chance   string
	Reasons  []reason
	Status   store.Status
}

type queueData struct {
	Caption, Intro, EntityHeading, ReasonsHeading string
	Household                                     bool // complex cases: one case per household
	Total, From, To                               int
	Rows                                          []queueRow
	Prev, Next                                    string
	Bands                                         string
	// Mine shows only the cases assigned to the user; Path is the queue's.
	Mine bool
	Path string
}

// queue serves a ranked case queue: complex cases one per household with
// every member's name, age and own chance, fraud referrals per tenancy,
// each with its band, chance and top reasons.
func (p *pages) queue(kind store.Target) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		offset, err := strconv.Atoi(c.DefaultQuery("offset", "0"))
		if err != nil || offset < 0 || offset > 1_000_000 {
			p.errorPage(c, http.StatusBadRequest, "Page not found", "The page number in the address is not valid.")
			return
		}
		mine := c.Query("mine") == "1"
		items, total, err := p.core.Queue(ctx, p.actor(c), core.QueueQuery{Kind: kind, Mine: mine, Offset: offset, Limit: p.o.QueuePage,
			Scores: true, People: true})
		if err != nil {
			p.coreError(c, "read the queue", "the "+strings.ToLower(targetText(kind))+" queue", err)
			return
		}
		d := queueData{Total: total, From: offset + 1, To: offset + len(items), Rows: make([]queueRow, 0, len(items)), Mine: mine,
			Bands: bandsText()}
		if kind == store.ComplexCase {
			d.Caption, d.Household = "Complex-case reviews", true
			d.Intro = "One review per household, ranked by its highest-risk member. The score supports your judgement and never decides on its own."
			d.EntityHeading, d.ReasonsHeading = "Household", "Top reasons"
		} else {
			d.Caption = "Tenancy fraud"
			d.Intro = "Each referral shows the evidence behind its rank; an investigation decides, not the score."
			d.EntityHeading, d.ReasonsHeading = "Tenancy", "Evidence behind the rank"
		}
		for i, k := range items {
			row := queueRow{ID: k.ID, Position: offset + i + 1, Status: k.Status, Lead: personOf(k.Person), Chance: percent(k.Case.Score),
				Assigned: k.AssignedTo != 0 && k.AssignedTo == principalOf(c).UserID}
			if k.EntityID != k.ResidentID {
				row.Tenancy = k.EntityID
			}
			if k.Score != nil {
				row.Band = k.Score.Band
				rs, err := parseReasons(k.Score.Reasons)
				if err != nil {
					p.failed(c, "read the queue's reasons", err)
					return
				}
				row.Reasons = topRaising(rs, 3)
			}
			ms, err := membersOf(k.Members, k.EntityID)
			if err != nil {
				p.failed(c, "read the queue's reasons", err)
				return
			}
			for _, m := range ms {
				if !m.Lead {
					row.Others = append(row.Others, m)
				}
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

// scoreView is one score shown in words, with its reasons split by
// direction.
type scoreView struct {
	Target               store.Target
	AsOf                 string // in words
	ModelVersion         int
	EntityID, ResidentID string
	Percent, Chance      string
	Band                 string
	Rank, Of             int
	Raising, Lowering    []reason
}

// scoreViewOf describes a score of a target in a run as of asOf.
func scoreViewOf(t store.Target, asOf string, version, of int, sc store.Score) (scoreView, error) {
	rs, err := parseReasons(sc.Reasons)
	if err != nil {
		return scoreView{}, err
	}
	v := scoreView{Target: t, AsOf: dateText(asOf), ModelVersion: version, EntityID: sc.EntityID, ResidentID: sc.ResidentID,
		Percent: percent(sc.Score), Chance: chanceText(t, sc.Score), Band: sc.Band, Rank: sc.Rank, Of: of}
	for _, r := range rs {
		if r.Contribution >= 0 {
			v.Raising = append(v.Raising, r)
		} else {
			v.Lowering = append(v.Lowering, r)
		}
	}
	return v, nil
}

// historyRow is a past score in words.
type historyRow struct {
	AsOf, Target, Percent, Band string
	Tenancy                     string
	Rank, Of, ModelVersion      int
}

// timelinePage is the number of events on a page of the timeline.
const timelinePage = 10

// serviceRow is one service of the timeline grouped by service: how many
// events, the latest, and the address that shows only its events.
type serviceRow struct {
	Title, Latest, Href string
	Events              int
	Current             bool
}

type eventRow struct {
	Date, Service, What, Amount string
	AfterScore                  bool
}

// timelineView is a page of the timeline with its filter.
type timelineView struct {
	Rows               []eventRow
	Services           []serviceRow
	AllHref            string
	Service, From, To  string // the filter as given
	FromField, ToField dateField
	FilterOpen         bool // the filter form is shown open (a filter is set or at fault)
	ServiceTitle       string
	Total, First, Last int
	Prev, Next         string
	ScoreDate          string // in words; "" when the role sees no score
	Hidden             string // the services the role does not see, in words
	Options            []serviceOption
}

type serviceOption struct {
	Key, Title string
	Selected   bool
}

type residentData struct {
	View         *core.ResidentView
	Person       personView
	Relationship string
	Tenure       string
	Scores       []scoreView
	Bands        string
	ScoreHistory []historyRow
	Household    []householdRow
	Stays        []stayRow
	Timeline     timelineView
}

type householdRow struct {
	personView
	Relationship, Since string
}

type stayRow struct {
	Address, From, To, Relationship string
}

// timelineQuery reads the timeline filter of a resident page: service,
// from and to (GOV.UK date inputs, or YYYY-MM-DD from a link) and offset,
// with an error per field at fault and the date fields to show again.
func timelineQuery(c *gin.Context) (q core.TimelineQuery, from, to dateField, errs []fieldErr) {
	q = core.TimelineQuery{Service: strings.TrimSpace(c.Query("service")), Limit: timelinePage}
	var ok bool
	if q.From, from, ok = readDate(c, "from", "From"); !ok {
		errs = append(errs, fieldErr{Field: "from-day", Msg: "From must be a real date, like 31 3 2024"})
	}
	if q.To, to, ok = readDate(c, "to", "To"); !ok {
		errs = append(errs, fieldErr{Field: "to-day", Msg: "To must be a real date, like 31 3 2024"})
	}
	if q.From != "" && q.To != "" && q.From > q.To && len(errs) == 0 {
		errs = append(errs, fieldErr{Field: "to-day", Msg: "To must be the same as or after From"})
		to.Err = true
	}
	if raw := c.Query("offset"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || n > 1_000_000 {
			errs = append(errs, fieldErr{Msg: "The page of the timeline in the address is not valid"})
		}
		q.Offset = n
	}
	return q, from, to, errs
}

// readPerson reads what the resident page shows through the core: the
// single view (filtered by the role's purpose, audited) with a page of the
// timeline, and the scores the role may see (audited). A role that may see
// no score gets a page without scores.
func (p *pages) readPerson(c *gin.Context, id string, q core.TimelineQuery, d *residentData) error {
	ctx := c.Request.Context()
	a := p.actor(c)
	v, err := p.core.Resident(ctx, a, id, q)
	if err != nil {
		return err
	}
	d.View, d.Bands, d.Person = v, bandsText(), personOf(v.Person)
	if cur := v.Current; cur != nil {
		d.Relationship, d.Tenure = relationshipText(cur.Relationship), tenureText(cur.Property.Tenure)
	}
	for _, m := range v.Household {
		row := householdRow{personView: personOf(v.People[m.ResidentID]), Relationship: relationshipText(m.Relationship), Since: monthText(m.Start)}
		if row.Years == "" && m.BirthYear > 0 {
			row.Years = fmt.Sprintf("born %d", m.BirthYear)
		}
		d.Household = append(d.Household, row)
	}
	for _, s := range v.Stays {
		row := stayRow{Address: s.Property.Address, From: dateText(s.Start), To: dateText(s.End), Relationship: relationshipText(s.Relationship)}
		if row.Address == "" {
			row.Address = "Address not loaded"
		}
		if row.To == "" {
			row.To = "now"
		}
		d.Stays = append(d.Stays, row)
	}
	if len(p.core.ScoreTargets(a)) > 0 {
		risk, err := p.core.ResidentRisk(ctx, a, id, true)
		if err != nil {
			return err
		}
		for _, sc := range risk.Latest {
			sv, err := scoreViewOf(sc.Target, sc.AsOf, sc.ModelVersion, sc.RunRows, sc.Score)
			if err != nil {
				return err
			}
			d.Scores = append(d.Scores, sv)
		}
		for i := len(risk.History) - 1; i >= 0; i-- { // newest first
			h := risk.History[i]
			row := historyRow{AsOf: dateText(h.AsOf), Target: targetText(h.Target), Percent: percent(h.Score.Score), Band: h.Band,
				Rank: h.Rank, Of: h.RunRows, ModelVersion: h.ModelVersion}
			if h.EntityID != h.ResidentID {
				row.Tenancy = h.EntityID
			}
			d.ScoreHistory = append(d.ScoreHistory, row)
		}
	}
	d.Timeline = p.timelineOf(c, v, q, d.Scores)
	return nil
}

// timelineOf builds the timeline's page, its grouping by service and the
// links that filter and page it.
func (p *pages) timelineOf(c *gin.Context, v *core.ResidentView, q core.TimelineQuery, scores []scoreView) timelineView {
	tv := timelineView{Service: q.Service, From: q.From, To: q.To, Total: v.TimelineTotal, First: q.Offset + 1, Last: q.Offset + len(v.Timeline)}
	scoreDay := ""
	if len(scores) > 0 {
		tv.ScoreDate = scores[0].AsOf
		if d, err := time.Parse("2 January 2006", scores[0].AsOf); err == nil {
			scoreDay = d.Format("2006-01-02")
		}
	}
	link := func(service string, offset int) string {
		vals := url.Values{}
		if service != "" {
			vals.Set("service", service)
		}
		if q.From != "" {
			vals.Set("from", q.From)
		}
		if q.To != "" {
			vals.Set("to", q.To)
		}
		if offset > 0 {
			vals.Set("offset", strconv.Itoa(offset))
		}
		path := "/residents/" + url.PathEscape(v.Resident.ID)
		if len(vals) == 0 {
			return path + "#timeline"
		}
		return path + "?" + vals.Encode() + "#timeline"
	}
	tv.AllHref = link("", 0)
	for _, s := range v.Services {
		tv.Services = append(tv.Services, serviceRow{Title: serviceText(s.Service), Events: s.Events, Latest: dateText(s.Latest),
			Href: link(s.Service, 0), Current: s.Service == q.Service})
	}
	for _, key := range p.policy[principalOf(c).Role].Services {
		tv.Options = append(tv.Options, serviceOption{Key: key, Title: serviceText(key), Selected: key == q.Service})
	}
	sort.Slice(tv.Options, func(i, j int) bool { return tv.Options[i].Title < tv.Options[j].Title })
	if q.Service != "" {
		tv.ServiceTitle = serviceText(q.Service)
	}
	for _, e := range v.Timeline {
		row := eventRow{Date: dateText(e.Date), Service: serviceText(e.Service), What: eventText(e), AfterScore: scoreDay != "" && e.Date > scoreDay}
		if e.HasAmount {
			row.Amount = fmt.Sprintf("£%.2f", e.Amount)
		}
		tv.Rows = append(tv.Rows, row)
	}
	if q.Offset > 0 {
		tv.Prev = link(q.Service, max(0, q.Offset-timelinePage))
	}
	if q.Offset+len(v.Timeline) < v.TimelineTotal {
		tv.Next = link(q.Service, q.Offset+len(v.Timeline))
	}
	var hidden []string
	for _, s := range v.Hidden {
		hidden = append(hidden, strings.ToLower(serviceText(s)))
	}
	tv.Hidden = strings.Join(hidden, ", ")
	return tv
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

// residentPage is the single view of a resident with the scores the role
// may see, as the core returns them for the role (filtered and audited),
// and a page of the timeline filtered by service and dates.
func (p *pages) residentPage(c *gin.Context) {
	id := c.Param("id")
	if !validID(id) {
		p.notFound(c, "resident")
		return
	}
	q, from, to, errs := timelineQuery(c)
	code := http.StatusOK
	if len(errs) > 0 {
		// Show the page unfiltered, with the errors above it.
		code, q = http.StatusBadRequest, core.TimelineQuery{Limit: timelinePage}
	}
	var d residentData
	err := p.readPerson(c, id, q, &d)
	d.Timeline.FromField, d.Timeline.ToField = from, to
	d.Timeline.FilterOpen = len(errs) > 0 || q.From != "" || q.To != ""
	var fe *store.FieldError
	if errors.As(err, &fe) && fe.Field == "service" {
		code, errs = http.StatusBadRequest, append(errs, fieldErr{Field: "service", Msg: "Choose one of the listed services"})
		q.Service = ""
		err = p.readPerson(c, id, q, &d)
		d.Timeline.FromField, d.Timeline.ToField, d.Timeline.FilterOpen = from, to, true
	}
	if err != nil {
		p.coreError(c, "read the resident's record", "named residents", err)
		return
	}
	title := d.Person.Name
	p.render(c, code, "resident", view{Title: title, Errors: errs, Data: d})
}

type searchData struct {
	Name     string
	DOB      dateField
	Searched bool
	Found    []personView
	More     bool
}

// searchPage finds residents by name or date of birth through the core
// (audited, limited).
func (p *pages) searchPage(c *gin.Context) {
	if !p.policy.Allows(principalOf(c).Role, auth.NamedResidents) {
		p.forbidden(c, "named residents")
		return
	}
	d := searchData{Name: strings.TrimSpace(c.Query("name"))}
	dob, field, ok := readDate(c, "dob", "Date of birth")
	d.DOB = field
	show := func(code int, errs ...fieldErr) {
		p.render(c, code, "search", view{Title: "Find a resident", Data: d, Errors: errs})
	}
	switch {
	case !ok:
		show(http.StatusBadRequest, fieldErr{Field: "dob-day", Msg: "Date of birth must be a real date, like 31 5 1980"})
		return
	case d.Name == "" && dob == "" && c.Query("search") != "":
		show(http.StatusBadRequest, fieldErr{Field: "name", Msg: "Enter a name, a date of birth or both"})
		return
	case d.Name == "" && dob == "":
		show(http.StatusOK)
		return
	}
	found, more, err := p.core.FindResidents(c.Request.Context(), p.actor(c), core.ResidentQuery{Name: d.Name, DateOfBirth: dob})
	var fe *store.FieldError
	if errors.As(err, &fe) {
		show(http.StatusBadRequest, fieldErr{Field: "name", Msg: "Enter a name of at most 5 words and 100 characters"})
		return
	}
	if err != nil {
		p.coreError(c, "find residents", "named residents", err)
		return
	}
	d.Searched, d.More = true, more
	for _, f := range found {
		d.Found = append(d.Found, personOf(f))
	}
	show(http.StatusOK)
}

type caseData struct {
	Case     store.Case
	Kind     string // the kind in words
	Mine     bool   // assigned to the signed-in user
	Next     []store.Status
	Outcomes []store.Outcome
	History  []store.CaseEvent
	Lead     personView
	Tenancy  string
	Opened   string
	Members  []memberView
	Score    *scoreView // the lead's score in the run that opened the case
	Bands    string
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
			what = strings.ToLower(targetText(store.Target(strings.TrimPrefix(string(fb.Need), "cases:")))) + " cases"
		}
		p.coreError(c, "read the case", what, err)
		return core.CaseView{}, false
	}
	return k, true
}

// casePage shows a case: for a complex case the household, every member
// with their own chance and reasons; the score that ranks it in words; and
// the forms that move the case on. It is audited as a read of the case.
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
	d := caseData{Case: k.Case, Mine: k.AssignedTo != 0 && k.AssignedTo == principalOf(c).UserID, Next: k.Next, Outcomes: k.Outcomes,
		History: k.History, Lead: personOf(k.Person), Opened: k.Opened.Format("2 January 2006"), Bands: bandsText()}
	if k.EntityID != k.ResidentID {
		d.Tenancy = k.EntityID
	}
	var err error
	if d.Members, err = membersOf(k.Members, k.EntityID); err != nil {
		p.failed(c, "read the case's reasons", err)
		return
	}
	for _, m := range k.Members {
		if m.Score.EntityID == k.EntityID {
			sv, err := scoreViewOf(k.Kind, k.Run.AsOf, k.Run.ModelVersion, k.Run.Rows, m.Score)
			if err != nil {
				p.failed(c, "read the case's reasons", err)
				return
			}
			d.Score = &sv
		}
	}
	title := "Review of " + d.Lead.Name + "'s household"
	if len(k.Members) <= 1 {
		title = "Review of " + d.Lead.Name
	}
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
