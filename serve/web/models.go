package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"caserisk/models/fairness"
	"caserisk/models/metrics"
	"caserisk/models/report"
	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// modelView is one model's stored evaluation: its metrics report, its
// fairness audit by characteristic, and the charts' series.
type modelView struct {
	Version   int
	Stage     store.Stage
	Algorithm string
	Err       string
	report    *metrics.Report
	// Capacity, Flagged and audit are from the model's fairness audit
	// when one was registered with it: the rows selected, the groups
	// flagged over every characteristic, and the audit by group.
	Capacity int
	Flagged  int
	audit    []fairness.Characteristic
}

// Name names the model without its stage: "v2 (gbdt)".
func (m *modelView) Name() string {
	if m.Algorithm == "" {
		return fmt.Sprintf("v%d", m.Version)
	}
	return fmt.Sprintf("v%d (%s)", m.Version, m.Algorithm)
}

// Label names the model for people: "v2, champion (gbdt)".
func (m *modelView) Label() string {
	l := fmt.Sprintf("v%d, %s", m.Version, m.Stage)
	if m.Algorithm != "" {
		l += " (" + m.Algorithm + ")"
	}
	return l
}

// compareRow is one metric of the champion beside the candidate.
type compareRow struct {
	Name                            string
	Champion, ChampionInterval      string
	Candidate, CandidateInterval    string
	Better                          string // "Candidate", "Champion" or "Neither clearly"
	CandidateBetter, ChampionBetter bool
}

type chartView struct {
	Title, Alt    string
	URI           template.URL
	Width, Height int
}

// fairCell is one rate of one group under one model: the rate, its ratio
// to the best-served group's, and whether the audit flagged it.
type fairCell struct {
	Rate, Ratio string
	Flagged     bool
}

// fairRow is one group under every model compared.
type fairRow struct {
	Group    string
	Rows     int
	TooSmall bool
	Cells    []fairCell // per model compared: selection rate, true-positive rate
	Flagged  bool       // under any model
}

// fairChar is one characteristic of the fairness audits of the models
// compared: shown open when a group is flagged under any of them, the
// flagged groups first and the rest behind their own details.
type fairChar struct {
	ID, Name        string
	Flagged, Others []fairRow
	Counts          []int // flagged groups per model compared
	Groups          int
}

type targetModels struct {
	Target              store.Target
	Versions            []store.Model
	Champion, Candidate *modelView
	Verdict             string
	Rows                []compareRow
	Charts              []chartView
	Fairness            []fairChar
	Err                 string
	Promote             string // the candidate's promotion page, for a role that may promote
}

type modelsData struct {
	Targets    []targetModels
	CanPromote bool
}

// storedMetrics is the registry's metrics JSON as store.ModelFromFile
// writes it: the artifact's held-out validation report and facts of its
// training.
type storedMetrics struct {
	Validation *struct {
		Rows   int             `json:"rows"`
		Report *metrics.Report `json:"report"`
	} `json:"validation"`
	Algorithm string           `json:"algorithm"`
	Fairness  *fairness.Report `json:"fairness"`
	// A bare metrics.Report (registered by other means) has these.
	ROCAUC *metrics.Metric `json:"roc_auc"`
}

// parseMetrics reads a model's stored metrics: the validation report
// nested as ModelFromFile stores it, or a bare metrics.Report.
func parseMetrics(raw json.RawMessage) (*metrics.Report, string, error) {
	if len(raw) == 0 || string(raw) == "{}" || string(raw) == "null" {
		return nil, "", errors.New("no metrics were stored with this version")
	}
	var sm storedMetrics
	if err := json.Unmarshal(raw, &sm); err != nil {
		return nil, "", fmt.Errorf("the stored metrics cannot be read: %w", err)
	}
	if sm.Validation != nil && sm.Validation.Report != nil {
		return sm.Validation.Report, sm.Algorithm, nil
	}
	if sm.ROCAUC != nil {
		var r metrics.Report
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, "", fmt.Errorf("the stored metrics cannot be read: %w", err)
		}
		return &r, sm.Algorithm, nil
	}
	return nil, "", errors.New("the stored metrics hold no validation report")
}

// describe reads a model's stored metrics and fairness audit.
func describe(m store.Model) *modelView {
	mv := &modelView{Version: m.Version, Stage: m.Stage}
	r, algo, err := parseMetrics(m.Metrics)
	if err != nil {
		mv.Err = err.Error()
		return mv
	}
	mv.Algorithm, mv.report = algo, r
	var sm storedMetrics
	if json.Unmarshal(m.Metrics, &sm) == nil && sm.Fairness != nil {
		mv.Capacity, mv.audit = sm.Fairness.Selected, sm.Fairness.Characteristics
		for _, ch := range sm.Fairness.Characteristics {
			for _, g := range ch.Groups {
				if len(g.Flags) > 0 {
					mv.Flagged++
				}
			}
		}
	}
	return mv
}

func fmtRate(r fairness.Rate) string {
	if !r.Defined {
		return "–"
	}
	return fmt.Sprintf("%.3f", r.Value)
}

// fmtMetric writes a metric and its interval.
func fmtMetric(m metrics.Metric, digits int) (string, string) {
	v := "–"
	if !math.IsNaN(m.Value) {
		v = strconv.FormatFloat(m.Value, 'f', digits, 64)
	}
	iv := "not computed"
	if !math.IsNaN(m.Lo) && !math.IsNaN(m.Hi) {
		iv = strconv.FormatFloat(m.Lo, 'f', digits, 64) + " to " + strconv.FormatFloat(m.Hi, 'f', digits, 64)
	}
	return v, iv
}

// clearlyBetter says which of two metrics is better beyond chance: the
// values differ in the better direction and the 95% intervals do not
// overlap. 1: a, -1: b, 0: neither clearly.
func clearlyBetter(a, b metrics.Metric, higher bool) int {
	if math.IsNaN(a.Value) || math.IsNaN(b.Value) {
		return 0
	}
	overlap := !math.IsNaN(a.Lo) && !math.IsNaN(b.Lo) && a.Lo <= b.Hi && b.Lo <= a.Hi
	if overlap || a.Value == b.Value {
		return 0
	}
	if (a.Value > b.Value) == higher {
		return 1
	}
	return -1
}

// compare puts the champion's metrics beside the candidate's and says in
// a sentence whether the candidate is better: by average precision (how
// well the top of the list, which limited capacity reviews, is found), and
// only when the 95% intervals do not overlap.
func compare(tm *targetModels) {
	ch, ca := tm.Champion, tm.Candidate
	switch {
	case ch == nil && ca == nil:
		return
	case ca == nil:
		tm.Verdict = fmt.Sprintf("There is no candidate to compare: %s scores.", ch.Label())
		return
	case ch == nil:
		tm.Verdict = fmt.Sprintf("There is no champion: %s is the newest candidate.", ca.Label())
		return
	case ch.report == nil || ca.report == nil:
		tm.Verdict = "The two models cannot be compared: one has no stored metrics."
		return
	}
	a, b := ca.report, ch.report
	type metric struct {
		name   string
		a, b   metrics.Metric
		digits int
		higher bool
	}
	ms := []metric{
		{"Average precision", a.AveragePrecision, b.AveragePrecision, 3, true},
		{"ROC AUC", a.ROCAUC, b.ROCAUC, 3, true},
	}
	for _, ka := range a.TopK {
		for _, kb := range b.TopK {
			if ka.K == kb.K {
				ms = append(ms, metric{fmt.Sprintf("Precision in the top %d", ka.K), ka.Precision, kb.Precision, 3, true},
					metric{fmt.Sprintf("Recall in the top %d", ka.K), ka.Recall, kb.Recall, 3, true})
			}
		}
	}
	ms = append(ms, metric{"Brier score (lower is better)", a.Brier, b.Brier, 4, false},
		metric{"Calibration error (lower is better)", a.ECE, b.ECE, 4, false})
	for _, m := range ms {
		row := compareRow{Name: m.name, Better: "Neither clearly"}
		row.Candidate, row.CandidateInterval = fmtMetric(m.a, m.digits)
		row.Champion, row.ChampionInterval = fmtMetric(m.b, m.digits)
		switch clearlyBetter(m.a, m.b, m.higher) {
		case 1:
			row.Better, row.CandidateBetter = "Candidate", true
		case -1:
			row.Better, row.ChampionBetter = "Champion", true
		}
		tm.Rows = append(tm.Rows, row)
	}
	tm.Rows = append(tm.Rows, compareRow{Name: "Validation rows (outcomes)", Candidate: fmt.Sprintf("%d (%d)", a.N, a.Positives),
		Champion: fmt.Sprintf("%d (%d)", b.N, b.Positives), Better: "–"})
	apA, _ := fmtMetric(a.AveragePrecision, 3)
	apB, _ := fmtMetric(b.AveragePrecision, 3)
	switch clearlyBetter(a.AveragePrecision, b.AveragePrecision, true) {
	case 1:
		tm.Verdict = fmt.Sprintf("Yes: candidate v%d finds more of the outcomes at the top of the list than champion v%d "+
			"(average precision %s against %s, and their 95%% intervals do not overlap).", ca.Version, ch.Version, apA, apB)
	case -1:
		tm.Verdict = fmt.Sprintf("No: candidate v%d finds fewer of the outcomes at the top of the list than champion v%d "+
			"(average precision %s against %s, and their 95%% intervals do not overlap).", ca.Version, ch.Version, apA, apB)
	default:
		tm.Verdict = fmt.Sprintf("Not clearly: candidate v%d's average precision is %s against champion v%d's %s, "+
			"but their 95%% intervals overlap, so the difference may be chance.", ca.Version, apA, ch.Version, apB)
	}
	if ch.audit != nil && ca.audit != nil {
		tm.Verdict += fmt.Sprintf(" Fairness: %s flagged for the candidate, %d for the champion.", plural(ca.Flagged, "group"), ch.Flagged)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// fairness puts the fairness audits of the models compared side by side,
// by characteristic and group.
func (tm *targetModels) fairness() {
	ms := tm.Compared()
	var order []string
	byName := map[string]*fairChar{}
	rowsOf := map[string]map[string]*fairRow{}
	var groupOrder = map[string][]string{}
	for k, m := range ms {
		for _, ch := range m.audit {
			fc, ok := byName[ch.Name]
			if !ok {
				fc = &fairChar{ID: fmt.Sprintf("fair-%s-%d", tm.Target, len(order)), Name: characteristicText(ch.Name), Counts: make([]int, len(ms))}
				byName[ch.Name], rowsOf[ch.Name] = fc, map[string]*fairRow{}
				order = append(order, ch.Name)
			}
			for _, g := range ch.Groups {
				r, ok := rowsOf[ch.Name][g.Name]
				if !ok {
					r = &fairRow{Group: groupText(ch.Name, g.Name), Rows: g.Rows, Cells: make([]fairCell, 2*len(ms))}
					rowsOf[ch.Name][g.Name] = r
					groupOrder[ch.Name] = append(groupOrder[ch.Name], g.Name)
				}
				r.TooSmall = r.TooSmall || g.TooSmall
				r.Cells[2*k] = cellOf(g.SelectionRate, g.SelectionRatio, g.TooSmall)
				r.Cells[2*k+1] = cellOf(g.TPR, g.TPRRatio, g.TooSmall)
				if len(g.Flags) > 0 {
					r.Flagged = true
					fc.Counts[k]++
				}
			}
		}
	}
	for _, name := range order {
		fc := byName[name]
		for _, g := range groupOrder[name] {
			r := rowsOf[name][g]
			fc.Groups++
			if r.Flagged {
				fc.Flagged = append(fc.Flagged, *r)
			} else {
				fc.Others = append(fc.Others, *r)
			}
		}
		tm.Fairness = append(tm.Fairness, *fc)
	}
}

// flagRatio is the ratio to the best-served group below which the audit
// flags a group (fairness.Report.RatioFlag; 0.8 by default).
const flagRatio = 0.8

func cellOf(r fairness.Rate, ratio *float64, small bool) fairCell {
	c := fairCell{Rate: fmtRate(r)}
	if ratio != nil && !small {
		c.Ratio = fmt.Sprintf("%.2f×", *ratio)
		c.Flagged = *ratio < flagRatio
	}
	return c
}

// Compared returns the champion and the candidate, those there are.
func (tm targetModels) Compared() []*modelView {
	var out []*modelView
	for _, m := range []*modelView{tm.Champion, tm.Candidate} {
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

// charts draws the champion's and the candidate's ROC, precision–recall
// and calibration curves on shared axes.
func (tm *targetModels) charts() {
	var ms []*modelView
	for _, m := range []*modelView{tm.Champion, tm.Candidate} {
		if m != nil && m.report != nil {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return
	}
	var roc, pr, cal []report.Series
	var names []string
	for _, m := range ms {
		r, name := m.report, m.Label()
		names = append(names, name)
		s := report.Series{Name: fmt.Sprintf("%s: area %.3f", name, r.ROCAUC.Value)}
		for _, pt := range r.ROC {
			s.X, s.Y = append(s.X, pt.FPR), append(s.Y, pt.TPR)
		}
		roc = append(roc, s)
		s = report.Series{Name: fmt.Sprintf("%s: average precision %.3f", name, r.AveragePrecision.Value)}
		for _, pt := range r.PR {
			s.X, s.Y = append(s.X, pt.Recall), append(s.Y, pt.Precision)
		}
		pr = append(pr, s)
		s = report.Series{Name: name}
		for _, b := range r.Reliability {
			if b.Count == 0 || math.IsNaN(b.MeanScore.Value) || math.IsNaN(b.FracPositive.Value) {
				continue
			}
			s.X, s.Y = append(s.X, b.MeanScore.Value), append(s.Y, b.FracPositive.Value)
		}
		cal = append(cal, s)
	}
	who := strings.Join(names, " and ")
	tm.addChart(report.LineChart("ROC curves", "False-positive rate", "True-positive rate",
		"ROC curves of "+who+"; the diagonal is a random ranking.", roc, true, "random ranking", false))
	tm.addChart(report.LineChart("Precision against recall", "Recall", "Precision",
		fmt.Sprintf("Precision against recall of %s; the base rate is %.3f.", who, ms[0].report.Prevalence), pr, true, "", true))
	tm.addChart(report.LineChart("Calibration", "Mean predicted probability", "Observed rate",
		"Observed rate against predicted probability of "+who+"; on the diagonal the probabilities are right.", cal, true, "perfect calibration", false))
}

func (tm *targetModels) addChart(ch report.Chart, err error) {
	if err != nil {
		tm.Err = "A chart could not be drawn: " + err.Error()
		return
	}
	tm.Charts = append(tm.Charts, chartView{Title: ch.Title, Alt: ch.Alt, URI: template.URL(ch.DataURI()), Width: ch.Width, Height: ch.Height})
}

// modelsPage answers "is the candidate better?" first: for each target the
// champion beside the newest candidate with a verdict, then the versions,
// the fairness audit by group (flagged characteristics open) and the
// charts.
func (p *pages) modelsPage(c *gin.Context) {
	a := p.actor(c)
	d := modelsData{CanPromote: p.core.Allows(a, auth.ModelsPromote)}
	for _, t := range store.Targets() {
		ms, err := p.core.Models(c.Request.Context(), a, t)
		if err != nil {
			p.coreError(c, "list the models", "the models", err)
			return
		}
		if len(ms) == 0 {
			continue
		}
		tm := targetModels{Target: t, Versions: ms}
		for i := range ms {
			switch ms[i].Stage {
			case store.Champion:
				tm.Champion = describe(ms[i])
			case store.Candidate:
				if tm.Candidate == nil || ms[i].Version > tm.Candidate.Version {
					tm.Candidate = describe(ms[i])
				}
			}
		}
		if tm.Candidate != nil && d.CanPromote {
			tm.Promote = fmt.Sprintf("/models/%s/%d/promote", t, tm.Candidate.Version)
		}
		compare(&tm)
		tm.fairness()
		tm.charts()
		d.Targets = append(d.Targets, tm)
	}
	flash := ""
	if c.Query("promoted") != "" {
		flash = "The model has been promoted; it scores every new request now."
	}
	p.render(c, http.StatusOK, "models", view{Title: "Models", Flash: flash, Data: d})
}

type promoteData struct {
	Target   store.Target
	Version  int
	Champion int
}

// promoteParams reads the target and version of a promotion; a role that
// may not promote is told so first (the core refuses it in any case).
func (p *pages) promoteParams(c *gin.Context) (store.Target, int, bool) {
	if !p.policy.Allows(principalOf(c).Role, auth.ModelsPromote) {
		p.forbidden(c, "model promotion")
		return "", 0, false
	}
	t, err := store.ParseTarget(c.Param("target"))
	v, verr := strconv.Atoi(c.Param("version"))
	if err != nil || verr != nil || v <= 0 {
		p.notFound(c, "model")
		return "", 0, false
	}
	return t, v, true
}

// promoteForm asks for confirmation before a promotion.
func (p *pages) promoteForm(c *gin.Context) {
	t, v, ok := p.promoteParams(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if _, err := p.core.Model(ctx, p.actor(c), t, v); err != nil {
		p.coreError(c, "read the model", "model promotion", err)
		return
	}
	d := promoteData{Target: t, Version: v}
	if vs, err := p.core.ChampionVersions(ctx, p.actor(c)); err != nil {
		p.coreError(c, "read the champions", "model promotion", err)
		return
	} else {
		d.Champion = vs[t]
	}
	p.render(c, http.StatusOK, "promote", view{Title: fmt.Sprintf("Promote version %d to champion?", v), Data: d})
}

// promote makes the version champion through the service's own champion
// swap (no restart; requests in flight finish with the old model).
func (p *pages) promote(c *gin.Context) {
	t, v, ok := p.promoteParams(c)
	if !ok {
		return
	}
	_, err := p.core.Promote(c.Request.Context(), p.actor(c), t, v)
	switch {
	case errors.Is(err, store.ErrNotFound):
		p.notFound(c, "model")
	case errors.Is(err, core.ErrArtifact):
		p.errorPage(c, http.StatusUnprocessableEntity, "The model cannot be promoted",
			fmt.Sprintf("Version %d of %s does not load, so it cannot become champion. The champion is unchanged.", v, targetText(t)))
	case err != nil:
		p.coreError(c, "promote the model", "model promotion", err)
	default:
		c.Redirect(http.StatusSeeOther, "/models?promoted=1")
	}
}

// fairTableData is a table of a characteristic's groups under the models
// compared.
type fairTableData struct {
	ID, Caption string
	Models      []*modelView
	Rows        []fairRow
}

func fairTable(id, caption string, ms []*modelView, rows []fairRow) fairTableData {
	return fairTableData{ID: id, Caption: caption, Models: ms, Rows: rows}
}
