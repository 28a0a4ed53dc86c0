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

type metricRow struct {
	Name, Value, Interval string
}

type chartView struct {
	Title, Alt string
	URI        template.URL
}

// modelView is one model's metrics and charts.
type modelView struct {
	Version   int
	Stage     store.Stage
	Algorithm string
	Err       string
	Metrics   []metricRow
	Charts    []chartView
	// Groups is performance by group at capacity, from the model's fairness
	// audit when one was registered with it.
	Groups   []groupRow
	Capacity int
}

// groupRow is one group of one characteristic in the fairness audit.
type groupRow struct {
	Characteristic, Group     string
	Rows, Positives, Selected int
	SelectionRate, TPR, Ratio string
	TPRRatio, Note            string
	Flagged, TooSmall         bool
}

type targetModels struct {
	Target  store.Target
	Models  []store.Model
	Compare []modelView
}

type modelsData struct {
	Targets    []targetModels
	CanPromote bool
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

// describe turns a model's stored metrics (a metrics.Report) into rows and
// charts: ROC, precision–recall and reliability.
func describe(m store.Model) modelView {
	mv := modelView{Version: m.Version, Stage: m.Stage}
	r, algo, err := parseMetrics(m.Metrics)
	if err != nil {
		mv.Err = err.Error()
		return mv
	}
	mv.Algorithm = algo
	var sm storedMetrics
	if json.Unmarshal(m.Metrics, &sm) == nil && sm.Fairness != nil {
		mv.Capacity = sm.Fairness.Selected
		for _, ch := range sm.Fairness.Characteristics {
			for _, g := range ch.Groups {
				row := groupRow{Characteristic: ch.Name, Group: g.Name, Rows: g.Rows, Positives: g.Positives, Selected: g.Selected,
					SelectionRate: fmtRate(g.SelectionRate), TPR: fmtRate(g.TPR), Flagged: len(g.Flags) > 0, TooSmall: g.TooSmall}
				switch {
				case g.TooSmall:
					row.Note = "too small to judge"
				case len(g.Flags) > 0:
					row.Note = strings.Join(g.Flags, "; ")
				}
				mv.Groups = append(mv.Groups, row)
			}
		}
	}
	add := func(name string, met metrics.Metric, digits int) {
		v, iv := fmtMetric(met, digits)
		mv.Metrics = append(mv.Metrics, metricRow{Name: name, Value: v, Interval: iv})
	}
	mv.Metrics = append(mv.Metrics, metricRow{Name: "Rows (positives)", Value: fmt.Sprintf("%d (%d)", r.N, r.Positives), Interval: ""})
	add("ROC AUC", r.ROCAUC, 3)
	add("Average precision", r.AveragePrecision, 3)
	add("Brier score", r.Brier, 4)
	add("Log loss", r.LogLoss, 4)
	add("Expected calibration error", r.ECE, 4)
	for _, k := range r.TopK {
		add(fmt.Sprintf("Precision at capacity %d", k.K), k.Precision, 3)
		add(fmt.Sprintf("Recall at capacity %d", k.K), k.Recall, 3)
	}
	name := fmt.Sprintf("v%d", m.Version)
	if len(r.ROC) > 0 {
		s := report.Series{Name: name}
		for _, pt := range r.ROC {
			s.X, s.Y = append(s.X, pt.FPR), append(s.Y, pt.TPR)
		}
		mv.addChart(report.LineChart("ROC curve of "+name, "False-positive rate", "True-positive rate",
			fmt.Sprintf("ROC curve of %s: area under the curve %.3f; the diagonal is a random ranking.", name, r.ROCAUC.Value),
			[]report.Series{s}, true, "random", false))
	}
	if len(r.PR) > 0 {
		s := report.Series{Name: name}
		for _, pt := range r.PR {
			s.X, s.Y = append(s.X, pt.Recall), append(s.Y, pt.Precision)
		}
		mv.addChart(report.LineChart("Precision–recall of "+name, "Recall", "Precision",
			fmt.Sprintf("Precision against recall of %s: average precision %.3f against a base rate of %.3f.", name, r.AveragePrecision.Value, r.Prevalence),
			[]report.Series{s}, true, "", true))
	}
	if len(r.Reliability) > 0 {
		s := report.Series{Name: name}
		for _, b := range r.Reliability {
			if b.Count == 0 || math.IsNaN(b.MeanScore.Value) || math.IsNaN(b.FracPositive.Value) {
				continue
			}
			s.X, s.Y = append(s.X, b.MeanScore.Value), append(s.Y, b.FracPositive.Value)
		}
		if len(s.X) > 0 {
			mv.addChart(report.LineChart("Calibration of "+name, "Mean predicted probability", "Observed rate",
				fmt.Sprintf("Reliability of %s: observed rate against predicted probability in %d bins; on the diagonal the probabilities are right.", name, len(s.X)),
				[]report.Series{s}, true, "perfect", false))
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

func (mv *modelView) addChart(ch report.Chart, err error) {
	if err != nil {
		mv.Err = "A chart could not be drawn: " + err.Error()
		return
	}
	mv.Charts = append(mv.Charts, chartView{Title: ch.Title, Alt: ch.Alt, URI: template.URL(ch.DataURI())})
}

// modelsPage shows each target's registered models with the champion and
// the newest candidate side by side.
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
		tm := targetModels{Target: t, Models: ms}
		var champ, cand *store.Model
		for i := range ms {
			switch ms[i].Stage {
			case store.Champion:
				champ = &ms[i]
			case store.Candidate:
				if cand == nil || ms[i].Version > cand.Version {
					cand = &ms[i]
				}
			}
		}
		for _, m := range []*store.Model{champ, cand} {
			if m != nil {
				tm.Compare = append(tm.Compare, describe(*m))
			}
		}
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
