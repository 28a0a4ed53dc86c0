package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"caserisk/features/contract"
	"caserisk/serve/api/champion"
	"caserisk/serve/api/problem"
	"caserisk/serve/api/scorereq"
	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// purposeOf is the purpose written to the audit log for a role's access:
// the reason the purpose rules give that role the data.
func purposeOf(r auth.Role) string {
	switch r {
	case auth.Caseworker:
		return "complex-case review"
	case auth.FraudOfficer:
		return "tenancy-fraud investigation"
	case auth.DataScientist:
		return "model development and monitoring"
	case auth.Admin:
		return "service administration"
	case auth.DataSteward:
		return "data quality: record linkage review"
	}
	return "unspecified"
}

// record appends an audit row for the request's user and returns false
// (having answered 503) when it cannot be stored: an unaudited read is
// never served.
func (s *Server) record(c *gin.Context, action, resource string) bool {
	p := principal(c)
	err := s.audit.append(c.Request.Context(), audit.Record{
		At: time.Now(), UserID: p.UserID, User: p.Name, Role: string(p.Role),
		Action: action, Resource: resource, Purpose: purposeOf(p.Role), RequestID: reqID(c),
	})
	if err != nil {
		s.log.Error("audit", "request_id", reqID(c), "err", err)
		s.fail(c, problem.New(http.StatusServiceUnavailable, "the audit log cannot be written, so the request is refused; try again"))
		return false
	}
	return true
}

// recordAsync queues an audit row for the request and returns a function
// that waits for it and reports false (having answered 503) when it could
// not be stored. Handlers read their data while the row is written and
// answer only after the wait succeeds: an unaudited read is never served.
func (s *Server) recordAsync(c *gin.Context, action, resource string) func() bool {
	p := principal(c)
	wait := s.audit.submit(c.Request.Context(), audit.Record{
		At: time.Now(), UserID: p.UserID, User: p.Name, Role: string(p.Role),
		Action: action, Resource: resource, Purpose: purposeOf(p.Role), RequestID: reqID(c),
	})
	return func() bool {
		if err := wait(); err != nil {
			s.log.Error("audit", "request_id", reqID(c), "err", err)
			s.fail(c, problem.New(http.StatusServiceUnavailable, "the audit log cannot be written, so the request is refused; try again"))
			return false
		}
		return true
	}
}

// checkJSON answers 415 unless the request's body is declared JSON (a
// missing Content-Type is taken as JSON).
func (s *Server) checkJSON(c *gin.Context) bool {
	ct := c.GetHeader("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return true
	}
	s.fail(c, problem.New(http.StatusUnsupportedMediaType, "Content-Type must be application/json").
		WithFields(problem.FieldError{Field: "Content-Type", Detail: "must be application/json"}))
	return false
}

// decodeBody strictly decodes a small JSON body into v: unknown fields,
// wrong types, trailing data and oversize bodies are answered with a
// problem naming the field.
func (s *Server) decodeBody(c *gin.Context, v any) bool {
	if !s.checkJSON(c) {
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			s.fail(c, problem.Invalid(problem.FieldError{Field: "body", Detail: "unexpected data after the JSON object"}))
			return false
		}
		return true
	}
	s.bodyError(c, err)
	return false
}

// bodyError answers a body decoding error.
func (s *Server) bodyError(c *gin.Context, err error) {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		s.fail(c, problem.New(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", mbe.Limit).
			WithFields(problem.FieldError{Field: "body", Detail: fmt.Sprintf("larger than %d bytes", mbe.Limit)}))
	case errors.Is(err, io.EOF):
		s.fail(c, problem.Invalid(problem.FieldError{Field: "body", Detail: "empty; a JSON object is required"}))
	case errors.As(err, &se):
		s.fail(c, problem.Invalid(problem.FieldError{Field: "body", Detail: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)}))
	case errors.As(err, &ute):
		field := ute.Field
		if field == "" {
			field = "body"
		}
		s.fail(c, problem.Invalid(problem.FieldError{Field: field, Detail: fmt.Sprintf("must be a %s, got %s", jsonType(ute.Type.Kind().String()), ute.Value)}))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		s.fail(c, problem.Invalid(problem.FieldError{Field: name, Detail: "unknown field"}))
	default:
		s.fail(c, problem.Invalid(problem.FieldError{Field: "body", Detail: "cannot be read: " + err.Error()}))
	}
}

func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "whole number"
	case strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "slice":
		return "array"
	case kind == "struct", kind == "map":
		return "object"
	}
	return kind
}

// targetParam reads the required target query parameter.
func (s *Server) targetParam(c *gin.Context) (store.Target, bool) {
	t, err := store.ParseTarget(c.Query("target"))
	if err != nil {
		s.fail(c, problem.Invalid(problem.FieldError{Field: "target", Detail: "must be complex_case or tenancy_fraud"}))
		return "", false
	}
	return t, true
}

// ---- POST /score ----

type scoreResult struct {
	Score   float64           `json:"score"`
	Band    string            `json:"band"`
	Reasons []champion.Reason `json:"reasons,omitempty"`
}

type scoreResponse struct {
	Target       store.Target  `json:"target"`
	ModelVersion int           `json:"model_version"`
	Results      []scoreResult `json:"results"`
}

func (s *Server) handleScore(c *gin.Context) {
	t, ok := s.targetParam(c)
	if !ok {
		return
	}
	perm, _ := auth.ScorePermission(string(t))
	if !s.allowed(c, perm, auth.ScoreRows) || !s.checkJSON(c) {
		return
	}
	ch := s.champions.Get(t)
	if ch == nil {
		s.fail(c, problem.New(http.StatusServiceUnavailable, "no %s model is champion yet; promote one", t))
		return
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes)
	req, err := scorereq.Decode(body, ch, scorereq.Limits{MaxRows: s.cfg.MaxRows, MaxReasons: s.cfg.MaxReasons})
	if err != nil {
		var (
			fe scorereq.FieldErrors
			tm *scorereq.TooManyRowsError
		)
		switch {
		case errors.As(err, &fe):
			s.fail(c, problem.Invalid(fe...))
		case errors.As(err, &tm):
			s.fail(c, problem.New(http.StatusRequestEntityTooLarge, "at most %d rows per request", tm.Max).
				WithFields(problem.FieldError{Field: "rows", Detail: fmt.Sprintf("more than %d rows", tm.Max)}))
		default:
			s.bodyError(c, err)
		}
		return
	}
	out := scoreResponse{Target: t, ModelVersion: ch.Version, Results: make([]scoreResult, len(req.Rows))}
	for i, row := range req.Rows {
		p, _ := ch.Model.Score(row)
		if math.IsNaN(p) {
			s.internal(c, "score", fmt.Errorf("model %s v%d gave NaN for row %d", t, ch.Version, i))
			return
		}
		out.Results[i] = scoreResult{Score: p, Band: ch.Bands.Band(p)}
		if req.Reasons > 0 {
			out.Results[i].Reasons = ch.Model.Reasons(row, req.Reasons)
		}
	}
	s.metrics.scored.WithLabelValues(string(t)).Add(float64(len(req.Rows)))
	c.JSON(http.StatusOK, out)
}

// ---- residents ----

// residentIDParam reads and checks the :id path parameter of a resident.
func (s *Server) residentIDParam(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if !validRequestID(id) { // same alphabet and length as a request id
		s.fail(c, problem.Invalid(problem.FieldError{Field: "id", Detail: "a resident id is 1-64 letters, digits, '.', '_' or '-'"}))
		return "", false
	}
	return id, true
}

type residentJSON struct {
	ID          string `json:"id"`
	GivenName   string `json:"given_name"`
	FamilyName  string `json:"family_name"`
	DateOfBirth string `json:"date_of_birth,omitempty"`
	Sex         string `json:"sex,omitempty"`
	FirstSeen   string `json:"first_seen,omitempty"`
	DateOfDeath string `json:"date_of_death,omitempty"`
}

type stayJSON struct {
	UPRN         int64  `json:"uprn"`
	Start        string `json:"start"`
	End          string `json:"end,omitempty"`
	Relationship string `json:"relationship,omitempty"`
	Address      string `json:"address,omitempty"`
	Postcode     string `json:"postcode,omitempty"`
	Ward         string `json:"ward,omitempty"`
	PropertyType string `json:"property_type,omitempty"`
	Tenure       string `json:"tenure,omitempty"`
}

type eventJSON struct {
	Service string   `json:"service"`
	Date    string   `json:"date"`
	Type    string   `json:"type,omitempty"`
	UPRN    int64    `json:"uprn,omitempty"`
	Amount  *float64 `json:"amount_gbp,omitempty"`
	Detail  string   `json:"detail,omitempty"`
}

// fraudService is the contract's service key of tenancy-fraud investigations.
const fraudService = "fraud_investigations"

type residentResponse struct {
	Resident residentJSON `json:"resident"`
	Stays    []stayJSON   `json:"stays"`
	Timeline []eventJSON  `json:"timeline"`
}

// dateParam reads an optional YYYY-MM-DD query parameter.
func (s *Server) dateParam(c *gin.Context, name string) (string, bool) {
	v := c.Query(name)
	if v == "" {
		return "", true
	}
	if _, err := contract.ParseDay(v); err != nil {
		s.fail(c, problem.Invalid(problem.FieldError{Field: name, Detail: "must be a date YYYY-MM-DD"}))
		return "", false
	}
	return v, true
}

func (s *Server) handleResident(c *gin.Context) {
	id, ok := s.residentIDParam(c)
	if !ok {
		return
	}
	from, ok := s.dateParam(c, "from")
	if !ok {
		return
	}
	to, ok := s.dateParam(c, "to")
	if !ok {
		return
	}
	limit, ok := s.queryInt(c, "limit", 500, 1, 5000)
	if !ok {
		return
	}
	audited := s.recordAsync(c, "read", "resident/"+id)
	ctx := c.Request.Context()
	v, err := s.cfg.Store.Resident(ctx, id)
	if !audited() {
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		s.fail(c, problem.New(http.StatusNotFound, "no resident with id %s", id).WithFields(problem.FieldError{Field: "id", Detail: "unknown resident"}))
		return
	}
	if err != nil {
		s.internal(c, "read resident", err)
		return
	}
	evs, err := s.cfg.Store.Timeline(ctx, id, store.TimelineQuery{From: from, To: to, Limit: limit})
	if err != nil {
		s.internal(c, "read timeline", err)
		return
	}
	r := v.Resident
	out := residentResponse{
		Resident: residentJSON{ID: r.ID, GivenName: r.GivenName, FamilyName: r.FamilyName, DateOfBirth: r.DateOfBirth,
			Sex: r.Sex, FirstSeen: r.FirstSeen, DateOfDeath: r.DateOfDeath},
		Stays:    make([]stayJSON, len(v.Stays)),
		Timeline: make([]eventJSON, len(evs)),
	}
	for i, st := range v.Stays {
		out.Stays[i] = stayJSON{UPRN: st.UPRN, Start: st.Start, End: st.End, Relationship: st.Relationship,
			Address: st.Property.Address, Postcode: st.Property.Postcode, Ward: st.Property.Ward,
			PropertyType: st.Property.PropertyType, Tenure: st.Property.Tenure}
	}
	// Purpose limitation: fraud investigations are shown only to roles
	// that work tenancy fraud.
	role := principal(c).Role
	showFraud := s.cfg.Policy.Allows(role, auth.CasesTenancyFraud) || s.cfg.Policy.Allows(role, auth.ScoreTenancyFraud)
	out.Timeline = out.Timeline[:0]
	for _, e := range evs {
		if e.Service == fraudService && !showFraud {
			continue
		}
		ev := eventJSON{Service: e.Service, Date: e.Date, Type: e.Type, UPRN: e.UPRN, Detail: e.Detail}
		if e.HasAmount {
			a := e.Amount
			ev.Amount = &a
		}
		out.Timeline = append(out.Timeline, ev)
	}
	c.JSON(http.StatusOK, out)
}

type riskJSON struct {
	Target       store.Target    `json:"target"`
	AsOf         string          `json:"as_of"`
	ModelVersion int             `json:"model_version"`
	Score        float64         `json:"score"`
	Band         string          `json:"band"`
	Rank         int             `json:"rank"`
	Of           int             `json:"of"`
	EntityID     string          `json:"entity_id"`
	Reasons      json.RawMessage `json:"reasons"`
}

type riskResponse struct {
	ResidentID string     `json:"resident_id"`
	Scores     []riskJSON `json:"scores"`
}

func (s *Server) handleResidentRisk(c *gin.Context) {
	id, ok := s.residentIDParam(c)
	if !ok {
		return
	}
	role := principal(c).Role
	var targets []store.Target
	for _, t := range store.Targets() {
		if perm, _ := auth.ScorePermission(string(t)); s.cfg.Policy.Allows(role, perm) {
			targets = append(targets, t)
		}
	}
	if len(targets) == 0 {
		s.fail(c, problem.New(http.StatusForbidden, "the %s role may not see any individual's score", role))
		return
	}
	audited := s.recordAsync(c, "read", "resident/"+id+"/risk")
	ctx := c.Request.Context()
	scores, err := s.cfg.Store.ResidentScores(ctx, id, targets...)
	if !audited() {
		return
	}
	if err != nil {
		s.internal(c, "read resident scores", err)
		return
	}
	if len(scores) == 0 {
		if _, err := s.cfg.Store.Resident(ctx, id); errors.Is(err, store.ErrNotFound) {
			s.fail(c, problem.New(http.StatusNotFound, "no resident with id %s", id).WithFields(problem.FieldError{Field: "id", Detail: "unknown resident"}))
			return
		} else if err != nil {
			s.internal(c, "read resident", err)
			return
		}
	}
	out := riskResponse{ResidentID: id, Scores: make([]riskJSON, len(scores))}
	for i, sc := range scores {
		reasons := sc.Reasons
		if len(reasons) == 0 || string(reasons) == "null" { // a score stored without reasons
			reasons = json.RawMessage("[]")
		}
		out.Scores[i] = riskJSON{Target: sc.Target, AsOf: sc.AsOf, ModelVersion: sc.ModelVersion, Score: sc.Score.Score,
			Band: sc.Band, Rank: sc.Rank, Of: sc.RunRows, EntityID: sc.EntityID, Reasons: reasons}
	}
	c.JSON(http.StatusOK, out)
}

// ---- queues and cases ----

type caseJSON struct {
	ID         int64          `json:"id"`
	Kind       store.Target   `json:"kind"`
	EntityID   string         `json:"entity_id"`
	ResidentID string         `json:"resident_id"`
	RunID      int64          `json:"run_id"`
	Score      float64        `json:"score"`
	Rank       int            `json:"rank"`
	Status     store.Status   `json:"status"`
	Outcome    store.Outcome  `json:"outcome,omitempty"`
	AssignedTo int64          `json:"assigned_to,omitempty"`
	Opened     time.Time      `json:"opened"`
	Updated    time.Time      `json:"updated"`
	Closed     *time.Time     `json:"closed,omitempty"`
	Next       []store.Status `json:"next_statuses"`
}

func toCaseJSON(k store.Case) caseJSON {
	j := caseJSON{ID: k.ID, Kind: k.Kind, EntityID: k.EntityID, ResidentID: k.ResidentID, RunID: k.RunID,
		Score: k.Score, Rank: k.Rank, Status: k.Status, Outcome: k.Outcome, AssignedTo: k.AssignedTo,
		Opened: k.Opened, Updated: k.Updated, Next: store.NextStatuses(k.Kind, k.Status)}
	if !k.Closed.IsZero() {
		t := k.Closed
		j.Closed = &t
	}
	if j.Next == nil {
		j.Next = []store.Status{}
	}
	return j
}

type queueResponse struct {
	Kind   store.Target `json:"kind"`
	Total  int          `json:"total"`
	Offset int          `json:"offset"`
	Limit  int          `json:"limit"`
	Cases  []caseJSON   `json:"cases"`
}

// handleQueue serves the ranked queue of a case kind.
func (s *Server) handleQueue(kind store.Target) gin.HandlerFunc {
	return func(c *gin.Context) {
		perm, _ := auth.CasePermission(string(kind))
		if !s.allowed(c, perm) {
			return
		}
		var statuses []store.Status
		if raw := c.Query("status"); raw != "" {
			for _, st := range strings.Split(raw, ",") {
				ok := st == string(store.InitialStatus(kind)) || st == string(store.StatusClosed)
				for _, from := range []store.Status{store.InitialStatus(kind), store.StatusReviewing, store.StatusInvestigating} {
					for _, n := range store.NextStatuses(kind, from) {
						ok = ok || st == string(n)
					}
				}
				if !ok {
					s.fail(c, problem.Invalid(problem.FieldError{Field: "status", Detail: fmt.Sprintf("unknown status %q for a %s case", st, kind)}))
					return
				}
				statuses = append(statuses, store.Status(st))
			}
		}
		offset, ok := s.queryInt(c, "offset", 0, 0, 1_000_000)
		if !ok {
			return
		}
		limit, ok := s.queryInt(c, "limit", 50, 1, 500)
		if !ok || !s.record(c, "read", "queue/"+string(kind)) {
			return
		}
		cases, total, err := s.cfg.Store.Queue(c.Request.Context(), store.QueueQuery{Kind: kind, Statuses: statuses, Offset: offset, Limit: limit})
		if err != nil {
			s.internal(c, "read queue", err)
			return
		}
		out := queueResponse{Kind: kind, Total: total, Offset: offset, Limit: limit, Cases: make([]caseJSON, len(cases))}
		for i, k := range cases {
			out.Cases[i] = toCaseJSON(k)
		}
		c.JSON(http.StatusOK, out)
	}
}

type caseEventJSON struct {
	At      time.Time     `json:"at"`
	From    store.Status  `json:"from,omitempty"`
	To      store.Status  `json:"to"`
	Outcome store.Outcome `json:"outcome,omitempty"`
	Note    string        `json:"note,omitempty"`
	By      string        `json:"by"`
}

type caseDetail struct {
	caseJSON
	History []caseEventJSON `json:"history"`
}

// handleCase serves one case with its history to a user who may work it.
func (s *Server) handleCase(c *gin.Context) {
	k, ok := s.caseForUpdate(c)
	if !ok {
		return
	}
	audited := s.recordAsync(c, "read", fmt.Sprintf("case/%d", k.ID))
	hist, err := s.cfg.Store.CaseHistory(c.Request.Context(), k.ID)
	if !audited() {
		return
	}
	if err != nil {
		s.internal(c, "read case history", err)
		return
	}
	out := caseDetail{caseJSON: toCaseJSON(k), History: make([]caseEventJSON, len(hist))}
	for i, h := range hist {
		out.History[i] = caseEventJSON{At: h.At, From: h.From, To: h.To, Outcome: h.Outcome, Note: h.Note, By: h.By}
	}
	c.JSON(http.StatusOK, out)
}

type statusRequest struct {
	Status string `json:"status"`
	Note   string `json:"note"`
}

type outcomeRequest struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

// maxNoteBytes bounds a caseworker's note.
const maxNoteBytes = 4000

// caseForUpdate reads the :id case and checks the user may work it.
func (s *Server) caseForUpdate(c *gin.Context) (store.Case, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(c, problem.Invalid(problem.FieldError{Field: "id", Detail: "a case id is a positive whole number"}))
		return store.Case{}, false
	}
	k, err := s.cfg.Store.Case(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(c, problem.New(http.StatusNotFound, "no case with id %d", id).WithFields(problem.FieldError{Field: "id", Detail: "unknown case"}))
		return store.Case{}, false
	}
	if err != nil {
		s.internal(c, "read case", err)
		return store.Case{}, false
	}
	perm, _ := auth.CasePermission(string(k.Kind))
	if !s.allowed(c, perm) {
		return store.Case{}, false
	}
	return k, true
}

func (s *Server) transition(c *gin.Context, k store.Case, to store.Status, outcome store.Outcome, note string) {
	if len(note) > maxNoteBytes {
		s.fail(c, problem.Invalid(problem.FieldError{Field: "note", Detail: fmt.Sprintf("longer than %d bytes", maxNoteBytes)}))
		return
	}
	if !s.record(c, "update", fmt.Sprintf("case/%d", k.ID)) {
		return
	}
	p := principal(c)
	updated, err := s.cfg.Store.TransitionCase(c.Request.Context(), store.Transition{
		CaseID: k.ID, To: to, Outcome: outcome, Note: note, By: p.Name, ByID: p.UserID})
	var fe *store.FieldError
	switch {
	case err == nil:
		c.JSON(http.StatusOK, toCaseJSON(updated))
	case errors.Is(err, store.ErrTransition):
		s.fail(c, problem.New(http.StatusConflict, "%v", err).WithFields(problem.FieldError{Field: "status",
			Detail: fmt.Sprintf("a %s case in status %s may move to %v", k.Kind, k.Status, store.NextStatuses(k.Kind, k.Status))}))
	case errors.As(err, &fe):
		s.fail(c, problem.Invalid(problem.FieldError{Field: fe.Field, Detail: fe.Msg}))
	case errors.Is(err, store.ErrNotFound):
		s.fail(c, problem.New(http.StatusNotFound, "no case with id %d", k.ID))
	default:
		s.internal(c, "update case", err)
	}
}

func (s *Server) handleCaseStatus(c *gin.Context) {
	k, ok := s.caseForUpdate(c)
	if !ok {
		return
	}
	var req statusRequest
	if !s.decodeBody(c, &req) {
		return
	}
	if req.Status == "" {
		s.fail(c, problem.Invalid(problem.FieldError{Field: "status", Detail: "required"}))
		return
	}
	if store.Status(req.Status) == store.StatusClosed {
		s.fail(c, problem.Invalid(problem.FieldError{Field: "status", Detail: "close a case with POST /cases/{id}/outcome"}))
		return
	}
	s.transition(c, k, store.Status(req.Status), "", req.Note)
}

func (s *Server) handleCaseOutcome(c *gin.Context) {
	k, ok := s.caseForUpdate(c)
	if !ok {
		return
	}
	var req outcomeRequest
	if !s.decodeBody(c, &req) {
		return
	}
	if req.Outcome == "" {
		s.fail(c, problem.Invalid(problem.FieldError{Field: "outcome", Detail: fmt.Sprintf("required: one of %v", store.Outcomes(k.Kind))}))
		return
	}
	s.transition(c, k, store.StatusClosed, store.Outcome(req.Outcome), req.Note)
}

// ---- models ----

type modelJSON struct {
	Target       store.Target    `json:"target"`
	Version      int             `json:"version"`
	Stage        store.Stage     `json:"stage"`
	SHA256       string          `json:"sha256"`
	Path         string          `json:"path,omitempty"`
	Metrics      json.RawMessage `json:"metrics"`
	Bands        store.Bands     `json:"bands"`
	RegisteredBy string          `json:"registered_by"`
	RegisteredAt time.Time       `json:"registered_at"`
	PromotedBy   string          `json:"promoted_by,omitempty"`
	PromotedAt   *time.Time      `json:"promoted_at,omitempty"`
}

func toModelJSON(m store.Model) modelJSON {
	j := modelJSON{Target: m.Target, Version: m.Version, Stage: m.Stage, SHA256: m.SHA256, Path: m.Path,
		Metrics: m.Metrics, Bands: m.Bands, RegisteredBy: m.RegisteredBy, RegisteredAt: m.RegisteredAt, PromotedBy: m.PromotedBy}
	if len(j.Metrics) == 0 || !json.Valid(j.Metrics) {
		j.Metrics = json.RawMessage("{}")
	}
	if !m.PromotedAt.IsZero() {
		t := m.PromotedAt
		j.PromotedAt = &t
	}
	return j
}

func (s *Server) handleModels(c *gin.Context) {
	var t store.Target
	if raw := c.Query("target"); raw != "" {
		var ok bool
		if t, ok = s.targetParam(c); !ok {
			return
		}
	}
	ms, err := s.cfg.Store.Models(c.Request.Context(), t)
	if err != nil {
		s.internal(c, "list models", err)
		return
	}
	out := struct {
		Models []modelJSON `json:"models"`
	}{Models: make([]modelJSON, len(ms))}
	for i, m := range ms {
		out.Models[i] = toModelJSON(m)
	}
	c.JSON(http.StatusOK, out)
}

// handlePromote makes a registered version its target's champion: the
// artifact is loaded and checked first, then the registry is updated, then
// the in-memory champion is swapped; requests in flight finish with the
// model they started with.
func (s *Server) handlePromote(c *gin.Context) {
	raw := c.Param("version")
	// The version may name its target ("complex_case:3"); otherwise the
	// target comes from ?target=, or from the registry when only one
	// target has that version.
	var t store.Target
	if name, num, found := strings.Cut(raw, ":"); found {
		var err error
		if t, err = store.ParseTarget(name); err != nil {
			s.fail(c, problem.Invalid(problem.FieldError{Field: "version", Detail: "a model version is N or TARGET:N, e.g. complex_case:3"}))
			return
		}
		raw = num
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v <= 0 {
		s.fail(c, problem.Invalid(problem.FieldError{Field: "version", Detail: "a model version is a positive whole number (or TARGET:N)"}))
		return
	}
	if q := c.Query("target"); q != "" || t == "" {
		qt, ok := s.promoteTarget(c, v)
		if !ok {
			return
		}
		if t != "" && qt != t {
			s.fail(c, problem.Invalid(problem.FieldError{Field: "target", Detail: "does not match the version's target"}))
			return
		}
		t = qt
	}
	if !s.record(c, "promote", fmt.Sprintf("model/%s/%d", t, v)) {
		return
	}
	promoted, err := s.Promote(c.Request.Context(), t, v, principal(c).Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(c, problem.New(http.StatusNotFound, "no %s model version %d", t, v).WithFields(problem.FieldError{Field: "version", Detail: "not registered"}))
	case errors.Is(err, ErrArtifact):
		s.fail(c, problem.New(http.StatusUnprocessableEntity, "the artifact of %s v%d does not load, so it cannot be champion: %v", t, v, err).
			WithFields(problem.FieldError{Field: "version", Detail: "artifact does not load"}))
	case err != nil:
		s.internal(c, "promote model", err)
	default:
		c.JSON(http.StatusOK, toModelJSON(promoted))
	}
}

// promoteTarget returns the target of a promotion: ?target= when given,
// else the one target that has version v registered.
func (s *Server) promoteTarget(c *gin.Context, v int) (store.Target, bool) {
	if c.Query("target") != "" {
		return s.targetParam(c)
	}
	ms, err := s.cfg.Store.Models(c.Request.Context(), "")
	if err != nil {
		s.internal(c, "list models", err)
		return "", false
	}
	var found []store.Target
	for _, m := range ms {
		if m.Version == v {
			found = append(found, m.Target)
		}
	}
	switch len(found) {
	case 1:
		return found[0], true
	case 0:
		s.fail(c, problem.New(http.StatusNotFound, "no model version %d", v).WithFields(problem.FieldError{Field: "version", Detail: "not registered"}))
	default:
		s.fail(c, problem.Invalid(problem.FieldError{Field: "target",
			Detail: fmt.Sprintf("version %d is registered for %d targets: give ?target=complex_case|tenancy_fraud", v, len(found))}))
	}
	return "", false
}

// ---- score runs, labels, audit ----

type scoreRunRequest struct {
	AsOf     string   `json:"as_of"`
	Capacity int      `json:"capacity"`
	Targets  []string `json:"targets"`
}

type scoreRunJSON struct {
	ID           int64        `json:"id"`
	Target       store.Target `json:"target"`
	AsOf         string       `json:"as_of"`
	ModelVersion int          `json:"model_version"`
	Created      time.Time    `json:"created"`
	Rows         int          `json:"rows"`
	Capacity     int          `json:"capacity"`
	CasesOpened  int          `json:"cases_opened"`
}

func toRunJSON(r store.ScoreRun) scoreRunJSON {
	return scoreRunJSON{ID: r.ID, Target: r.Target, AsOf: r.AsOf, ModelVersion: r.ModelVersion, Created: r.Created,
		Rows: r.Rows, Capacity: r.Capacity, CasesOpened: r.CasesOpened}
}

type runsResponse struct {
	Runs []scoreRunJSON `json:"runs"`
}

func (s *Server) handleStartScoreRun(c *gin.Context) {
	var req scoreRunRequest
	if !s.decodeBody(c, &req) {
		return
	}
	if _, err := contract.ParseDay(req.AsOf); err != nil {
		s.fail(c, problem.Invalid(problem.FieldError{Field: "as_of", Detail: "required: a date YYYY-MM-DD"}))
		return
	}
	if req.Capacity < 0 || req.Capacity > 1_000_000 {
		s.fail(c, problem.Invalid(problem.FieldError{Field: "capacity", Detail: "must be a whole number from 0 to 1000000"}))
		return
	}
	targets := store.Targets()
	if len(req.Targets) > 0 {
		targets = targets[:0:0]
		for i, name := range req.Targets {
			t, err := store.ParseTarget(name)
			if err != nil {
				s.fail(c, problem.Invalid(problem.FieldError{Field: fmt.Sprintf("targets[%d]", i), Detail: "must be complex_case or tenancy_fraud"}))
				return
			}
			targets = append(targets, t)
		}
	}
	if s.cfg.Runner == nil {
		s.fail(c, problem.New(http.StatusServiceUnavailable, "score runs need the service to be started with --data DIR"))
		return
	}
	if !s.record(c, "score_run", "score_run/"+req.AsOf) {
		return
	}
	runs, err := s.cfg.Runner.ScoreRun(c.Request.Context(), req.AsOf, req.Capacity, targets)
	if err != nil {
		var fe *store.FieldError
		if errors.As(err, &fe) {
			s.fail(c, problem.Invalid(problem.FieldError{Field: fe.Field, Detail: fe.Msg}))
			return
		}
		if errors.Is(err, store.ErrNotFound) {
			s.fail(c, problem.New(http.StatusConflict, "score run: %v", err))
			return
		}
		s.internal(c, "score run", err)
		return
	}
	out := runsResponse{Runs: make([]scoreRunJSON, len(runs))}
	for i, r := range runs {
		out.Runs[i] = toRunJSON(r)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) handleListScoreRuns(c *gin.Context) {
	var t store.Target
	if c.Query("target") != "" {
		var ok bool
		if t, ok = s.targetParam(c); !ok {
			return
		}
	}
	runs, err := s.cfg.Store.ScoreRuns(c.Request.Context(), t)
	if err != nil {
		s.internal(c, "list score runs", err)
		return
	}
	out := runsResponse{Runs: make([]scoreRunJSON, len(runs))}
	for i, r := range runs {
		out.Runs[i] = toRunJSON(r)
	}
	c.JSON(http.StatusOK, out)
}

type labelJSON struct {
	Kind         store.Target  `json:"target"`
	CaseID       int64         `json:"case_id"`
	EntityID     string        `json:"entity_id"`
	ResidentID   string        `json:"resident_id"`
	AsOf         string        `json:"as_of"`
	ModelVersion int           `json:"model_version"`
	Score        float64       `json:"score"`
	Outcome      store.Outcome `json:"outcome"`
	Label        int           `json:"label"`
	ClosedAt     time.Time     `json:"closed_at"`
}

func (s *Server) handleLabels(c *gin.Context) {
	t, ok := s.targetParam(c)
	if !ok || !s.record(c, "export", "labels/"+string(t)) {
		return
	}
	ls, err := s.cfg.Store.Labels(c.Request.Context(), t)
	if err != nil {
		s.internal(c, "export labels", err)
		return
	}
	out := struct {
		Labels []labelJSON `json:"labels"`
	}{Labels: make([]labelJSON, len(ls))}
	for i, l := range ls {
		out.Labels[i] = labelJSON{Kind: l.Kind, CaseID: l.CaseID, EntityID: l.EntityID, ResidentID: l.ResidentID, AsOf: l.AsOf,
			ModelVersion: l.ModelVersion, Score: l.Score, Outcome: l.Outcome, Label: l.Label, ClosedAt: l.ClosedAt}
	}
	c.JSON(http.StatusOK, out)
}

type auditJSON struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	UserID    int64     `json:"user_id"`
	User      string    `json:"user"`
	Role      string    `json:"role"`
	Action    string    `json:"action"`
	Resource  string    `json:"resource"`
	Purpose   string    `json:"purpose"`
	RequestID string    `json:"request_id"`
	PrevHash  string    `json:"prev_hash"`
	Hash      string    `json:"hash"`
}

func (s *Server) handleAudit(c *gin.Context) {
	userID, ok := s.queryInt(c, "user_id", 0, 0, math.MaxInt32)
	if !ok {
		return
	}
	before, ok := s.queryInt(c, "before_id", 0, 0, math.MaxInt)
	if !ok {
		return
	}
	limit, ok := s.queryInt(c, "limit", 100, 1, 1000)
	if !ok {
		return
	}
	es, err := s.cfg.Store.Audit(c.Request.Context(), store.AuditFilter{UserID: int64(userID), Action: c.Query("action"),
		Resource: c.Query("resource"), BeforeID: int64(before), Limit: limit})
	if err != nil {
		s.internal(c, "read audit log", err)
		return
	}
	out := struct {
		Entries []auditJSON `json:"entries"`
	}{Entries: make([]auditJSON, len(es))}
	for i, e := range es {
		out.Entries[i] = auditJSON{ID: e.ID, At: e.At, UserID: e.UserID, User: e.User, Role: e.Role, Action: e.Action,
			Resource: e.Resource, Purpose: e.Purpose, RequestID: e.RequestID, PrevHash: e.PrevHash, Hash: e.Hash}
	}
	c.JSON(http.StatusOK, out)
}

// ---- health ----

func (s *Server) handleHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) handleReadyz(c *gin.Context) {
	select {
	case <-s.draining:
		s.fail(c, problem.New(http.StatusServiceUnavailable, "shutting down"))
		return
	default:
	}
	if err := s.cfg.Store.Ping(c.Request.Context()); err != nil {
		s.log.Warn("readiness: database", "err", err)
		s.fail(c, problem.New(http.StatusServiceUnavailable, "the database does not answer"))
		return
	}
	champs := map[string]int{}
	for _, t := range store.Targets() {
		if ch := s.champions.Get(t); ch != nil {
			champs[string(t)] = ch.Version
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "database": s.cfg.Store.Dialect(), "champions": champs})
}
