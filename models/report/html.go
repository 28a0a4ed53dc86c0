package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"caserisk/models/artifact"
	"caserisk/models/fairness"
	"caserisk/models/metrics"
)

//go:embed templates/report.html
var templates embed.FS

func parseTemplate() (*template.Template, error) {
	return template.New("report.html").Funcs(template.FuncMap{
		"metric": func(m metrics.Metric) string {
			if math.IsNaN(m.Value) {
				return "—"
			}
			if math.IsNaN(m.Lo) {
				return fmt.Sprintf("%.4f", m.Value)
			}
			return fmt.Sprintf("%.4f (%.4f–%.4f)", m.Value, m.Lo, m.Hi)
		},
		"rate": func(r fairness.Rate) string {
			if !r.Defined {
				return "—"
			}
			return fmt.Sprintf("%.3f (%.3f–%.3f)", r.Value, r.Lo, r.Hi)
		},
		"ratio": func(p *float64) string {
			if p == nil {
				return "—"
			}
			return fmt.Sprintf("%.2f", *p)
		},
		"join": strings.Join,
		"pct":  func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
		"f3":   func(p *float64) string { return fmt.Sprintf("%.3f", *p) },
		// uri marks a data: URI built here from our own SVG as safe.
		"uri": func(s string) template.URL { return template.URL(s) },
	}).ParseFS(templates, "templates/report.html")
}

// WriteHTML writes the report as one self-contained HTML page.
func (r *Report) WriteHTML(w io.Writer) error {
	t, err := parseTemplate()
	if err != nil {
		return fmt.Errorf("report: template: %w", err)
	}
	type namedStock struct {
		Name string
		*artifact.Stock
	}
	var stocks []namedStock
	if r.Stock != nil {
		stocks = append(stocks, namedStock{r.Model.Name, r.Stock})
		if r.BaselineStock != nil && r.Baseline != nil {
			stocks = append(stocks, namedStock{r.Baseline.Name, r.BaselineStock})
		}
	}
	data := struct {
		*Report
		Evals  []*Evaluation
		Stocks []namedStock
	}{r, evals(r), stocks}
	if err := t.Execute(w, data); err != nil {
		return fmt.Errorf("report: writing HTML: %w", err)
	}
	return nil
}

// WriteJSON writes the report's figures (not its charts) as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error { return writeIndented(w, r) }
