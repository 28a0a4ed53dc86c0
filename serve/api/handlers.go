package api

import (
	"context"
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
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// actor is the core's actor of the request.
func actor(c *gin.Context) core.Actor { return core.ActorOf(principal(c), reqID(c)) }

// coreError answers an error of the application core: its kind decides the
// status (ErrForbidden 403, not found 404, a field error 400, a
// transition or conflict 409, a model that does not load 422, the audit
// log or a missing part 503); anything else is a 500 whose reason stays in
// the log.
func (s *Server) coreError(c *gin.Context, what string, err error) {
	var (
		fe *store.FieldError
		fb *core.ForbiddenError
	)
	switch {
	case errors.As(err, &fb):
		s.fail(c, problem.New(http.StatusForbidden, "%s", fb.Error()))
	case errors.As(err, &fe):
		s.fail(c, problem.Invalid(problem.FieldError{Field: fe.Field, Detail: fe.Msg}))
	case errors.Is(err, store.ErrNotFound):
		s.fail(c, problem.New(http.StatusNotFound, "%s: not found", what))
	case errors.Is(err, store.ErrTransition), errors.Is(err, store.ErrConflict):
		s.fail(c, problem.New(http.StatusConflict, "%s: %v", what, err))
	case errors.Is(err, core.ErrArtifact):
		s.fail(c, problem.New(http.StatusUnprocessableEntity, "%s: %v", what, err))
	case errors.Is(err, core.ErrAudit):
		s.fail(c, problem.New(http.StatusServiceUnavailable, "the audit log cannot be written, so the request is refused; try again"))
	case errors.Is(err, core.ErrUnavailable):
		s.fail(c, problem.New(http.StatusServiceUnavailable, "%v", err))
	default:
		s.internal(c, what, err)
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
	asOfText, ok := s.dateParam(c, "as_of")
	if !ok {
		return
	}
	// Reasons name dates counted back from the date the rows describe: the
	// as_of given, else today (rows scored now describe today).
	asOf := time.Now().UTC().Truncate(24 * time.Hour)
	if asOfText != "" {
		d, _ := contract.ParseDay(asOfText)
		asOf = d.Time()
	}
	if err := s.core.ScoreRows(actor(c), t); err != nil {
		s.coreError(c, "score", err)
		return
	}
	if !s.checkJSON(c) {
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
			out.Results[i].Reasons = ch.Model.Reasons(row, req.Reasons, asOf)
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
	offset, ok := s.queryInt(c, "offset", 0, 0, 1_000_000)
	if !ok {
		return
	}
	v, err := s.core.Resident(c.Request.Context(), actor(c), id, core.TimelineQuery{From: from, To: to, Limit: limit, Offset: offset,
		Service: c.Query("service")})
	if errors.Is(err, store.ErrNotFound) {
		s.fail(c, problem.New(http.StatusNotFound, "no resident with id %s", id).WithFields(problem.FieldError{Field: "id", Detail: "unknown resident"}))
		return
	}
	if err != nil {
		s.coreError(c, "read resident", err)
		return
	}
	r := v.Resident
	out := residentResponse{
		Resident: residentJSON{ID: r.ID, GivenName: r.GivenName, FamilyName: r.FamilyName, DateOfBirth: r.DateOfBirth,
			Sex: r.Sex, FirstSeen: r.FirstSeen, DateOfDeath: r.DateOfDeath},
		Stays:    make([]stayJSON, len(v.Stays)),
		Timeline: make([]eventJSON, len(v.Timeline)),
	}
	for i, st := range v.Stays {
		out.Stays[i] = stayJSON{UPRN: st.UPRN, Start: st.Start, End: st.End, Relationship: st.Relationship,
			Address: st.Property.Address, Postcode: st.Property.Postcode, Ward: st.Property.Ward,
			PropertyType: st.Property.PropertyType, Tenure: st.Property.Tenure}
	}
	for i, e := range v.Timeline {
		ev := eventJSON{Service: e.Service, Date: e.Date, Type: e.Type, UPRN: e.UPRN, Detail: e.Detail}
		if e.HasAmount {
			a := e.Amount
			ev.Amount = &a
		}
		out.Timeline[i] = ev
	}
	c.JSON(http.StatusOK, out)
}

type foundJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	DateOfBirth string `json:"date_of_birth,omitempty"`
	Age         *int   `json:"age,omitempty"`
	Address     string `json:"address,omitempty"`
	Postcode    string `json:"postcode,omitempty"`
}

type foundResponse struct {
	Residents []foundJSON `json:"residents"`
	More      bool        `json:"more"`
}

// handleFindResidents finds residents by name and date of birth.
func (s *Server) handleFindResidents(c *gin.Context) {
	dob, ok := s.dateParam(c, "dob")
	if !ok {
		return
	}
	limit, ok := s.queryInt(c, "limit", 20, 1, core.MaxFound)
	if !ok {
		return
	}
	name := c.Query("name")
	if strings.TrimSpace(name) == "" && dob == "" {
		s.fail(c, problem.Invalid(problem.FieldError{Field: "name", Detail: "give a name, a date of birth (dob) or both"}))
		return
	}
	found, more, err := s.core.FindResidents(c.Request.Context(), actor(c), core.ResidentQuery{Name: name, DateOfBirth: dob, Limit: limit})
	if err != nil {
		s.coreError(c, "find residents", err)
		return
	}
	out := foundResponse{Residents: make([]foundJSON, len(found)), More: more}
	for i, p := range found {
		out.Residents[i] = foundJSON{ID: p.ID, Name: p.Name, DateOfBirth: p.DateOfBirth, Address: p.Address, Postcode: p.Postcode}
		if p.HasAge {
			age := p.Age
			out.Residents[i].Age = &age
		}
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
	risk, err := s.core.ResidentRisk(c.Request.Context(), actor(c), id, false)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(c, problem.New(http.StatusNotFound, "no resident with id %s", id).WithFields(problem.FieldError{Field: "id", Detail: "unknown resident"}))
		return
	}
	if err != nil {
		s.coreError(c, "read resident scores", err)
		return
	}
	out := riskResponse{ResidentID: id, Scores: make([]riskJSON, len(risk.Latest))}
	for i, sc := range risk.Latest {
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
	Household  string         `json:"household,omitempty"`
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
	j := caseJSON{ID: k.ID, Kind: k.Kind, EntityID: k.EntityID, ResidentID: k.ResidentID, Household: k.Household, RunID: k.RunID,
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
		var statuses []store.Status
		if raw := c.Query("status"); raw != "" {
			for _, st := range strings.Split(raw, ",") {
				statuses = append(statuses, store.Status(st))
			}
		}
		offset, ok := s.queryInt(c, "offset", 0, 0, 1_000_000)
		if !ok {
			return
		}
		limit, ok := s.queryInt(c, "limit", 50, 1, 500)
		if !ok {
			return
		}
		items, total, err := s.core.Queue(c.Request.Context(), actor(c), core.QueueQuery{Kind: kind, Statuses: statuses, Offset: offset, Limit: limit})
		if err != nil {
			s.coreError(c, "read queue", err)
			return
		}
		out := queueResponse{Kind: kind, Total: total, Offset: offset, Limit: limit, Cases: make([]caseJSON, len(items))}
		for i, k := range items {
			out.Cases[i] = toCaseJSON(k.Case)
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
	Members []memberJSON    `json:"members"`
}

// memberJSON is a scored member of a case's household.
type memberJSON struct {
	ResidentID string  `json:"resident_id"`
	EntityID   string  `json:"entity_id"`
	Score      float64 `json:"score"`
	Band       string  `json:"band"`
	Rank       int     `json:"rank"`
}

// handleCase serves one case with its history to a user who may work it.
func (s *Server) handleCase(c *gin.Context) {
	id, ok := s.caseID(c)
	if !ok {
		return
	}
	v, err := s.core.Case(c.Request.Context(), actor(c), id)
	if err != nil {
		s.caseError(c, id, err)
		return
	}
	out := caseDetail{caseJSON: toCaseJSON(v.Case), History: make([]caseEventJSON, len(v.History)), Members: make([]memberJSON, len(v.Members))}
	for i, m := range v.Members {
		out.Members[i] = memberJSON{ResidentID: m.Score.ResidentID, EntityID: m.Score.EntityID, Score: m.Score.Score, Band: m.Score.Band, Rank: m.Score.Rank}
	}
	for i, h := range v.History {
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

// caseID reads the :id path parameter of a case.
func (s *Server) caseID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(c, problem.Invalid(problem.FieldError{Field: "id", Detail: "a case id is a positive whole number"}))
		return 0, false
	}
	return id, true
}

// caseError answers an error of a case operation.
func (s *Server) caseError(c *gin.Context, id int64, err error) {
	if errors.Is(err, store.ErrNotFound) {
		s.fail(c, problem.New(http.StatusNotFound, "no case with id %d", id).WithFields(problem.FieldError{Field: "id", Detail: "unknown case"}))
		return
	}
	s.coreError(c, fmt.Sprintf("case %d", id), err)
}

// transition moves a case on through the core.
func (s *Server) transition(c *gin.Context, id int64, to store.Status, outcome store.Outcome, note string) {
	updated, err := s.core.Transition(c.Request.Context(), actor(c), id, to, outcome, note)
	if errors.Is(err, store.ErrTransition) {
		k, kerr := s.cfg.Store.Case(c.Request.Context(), id)
		detail := "the case cannot move to that status"
		if kerr == nil {
			detail = fmt.Sprintf("a %s case in status %s may move to %v", k.Kind, k.Status, store.NextStatuses(k.Kind, k.Status))
		}
		s.fail(c, problem.New(http.StatusConflict, "%v", err).WithFields(problem.FieldError{Field: "status", Detail: detail}))
		return
	}
	if err != nil {
		s.caseError(c, id, err)
		return
	}
	c.JSON(http.StatusOK, toCaseJSON(updated))
}

func (s *Server) handleCaseStatus(c *gin.Context) {
	id, ok := s.caseID(c)
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
	s.transition(c, id, store.Status(req.Status), "", req.Note)
}

func (s *Server) handleCaseOutcome(c *gin.Context) {
	id, ok := s.caseID(c)
	if !ok {
		return
	}
	var req outcomeRequest
	if !s.decodeBody(c, &req) {
		return
	}
	if req.Outcome == "" {
		detail := "required"
		if k, err := s.cfg.Store.Case(c.Request.Context(), id); err == nil {
			detail = fmt.Sprintf("required: one of %v", store.Outcomes(k.Kind))
		}
		s.fail(c, problem.Invalid(problem.FieldError{Field: "outcome", Detail: detail}))
		return
	}
	s.transition(c, id, store.StatusClosed, store.Outcome(req.Outcome), req.Note)
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
	ms, err := s.core.Models(c.Request.Context(), actor(c), t)
	if err != nil {
		s.coreError(c, "list models", err)
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
	promoted, err := s.core.Promote(c.Request.Context(), actor(c), t, v)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(c, problem.New(http.StatusNotFound, "no %s model version %d", t, v).WithFields(problem.FieldError{Field: "version", Detail: "not registered"}))
	case errors.Is(err, core.ErrArtifact):
		s.fail(c, problem.New(http.StatusUnprocessableEntity, "the artifact of %s v%d does not load, so it cannot be champion: %v", t, v, err).
			WithFields(problem.FieldError{Field: "version", Detail: "artifact does not load"}))
	case err != nil:
		s.coreError(c, "promote model", err)
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
	t, err := s.core.VersionTarget(c.Request.Context(), actor(c), v)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(c, problem.New(http.StatusNotFound, "no model version %d", v).WithFields(problem.FieldError{Field: "version", Detail: "not registered"}))
		return "", false
	}
	if err != nil {
		s.coreError(c, "find the version's target", err)
		return "", false
	}
	return t, true
}

// ---- score runs, labels, audit ----

type scoreRunRequest struct {
	AsOf     string   `json:"as_of"`
	Capacity int      `json:"capacity"`
	Targets  []string `json:"targets"`
	// Force takes over a score run that is running (audited).
	Force bool `json:"force"`
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
	var targets []store.Target
	for i, name := range req.Targets {
		t, err := store.ParseTarget(name)
		if err != nil {
			s.fail(c, problem.Invalid(problem.FieldError{Field: fmt.Sprintf("targets[%d]", i), Detail: "must be complex_case or tenancy_fraud"}))
			return
		}
		targets = append(targets, t)
	}
	runs, err := s.core.ScoreRun(c.Request.Context(), actor(c), core.ScoreRunRequest{AsOf: req.AsOf, Capacity: req.Capacity,
		Targets: targets, Force: req.Force})
	var held *store.HeldError
	switch {
	case errors.As(err, &held):
		s.fail(c, problem.New(http.StatusConflict, "a score run is running: %s", held.Error()).
			WithFields(problem.FieldError{Field: "force", Detail: fmt.Sprintf("held by %s until %s; true takes it over",
				held.Holder, held.Expires.Format(time.RFC3339))}))
		return
	case errors.Is(err, store.ErrNotFound):
		s.fail(c, problem.New(http.StatusConflict, "score run: %v", err))
		return
	case err != nil:
		s.coreError(c, "score run", err)
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
	runs, err := s.core.ScoreRuns(c.Request.Context(), actor(c), t)
	if err != nil {
		s.coreError(c, "list score runs", err)
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
	if !ok {
		return
	}
	ls, err := s.core.Labels(c.Request.Context(), actor(c), t)
	if err != nil {
		s.coreError(c, "export labels", err)
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
	es, err := s.core.Audit(c.Request.Context(), actor(c), store.AuditFilter{UserID: int64(userID), Action: c.Query("action"),
		Resource: c.Query("resource"), BeforeID: int64(before), Limit: limit})
	if err != nil {
		s.coreError(c, "read audit log", err)
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
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.ReadyTimeout)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
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
