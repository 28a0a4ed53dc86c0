package report

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// chartDirEnv names a folder the chart tests write their PNGs to, to look
// at them.
const chartDirEnv = "CASERISK_CHART_DIR"

// inside reports whether r lies within f.
func inside(r, f vg.Rectangle) bool {
	return r.Min.X >= f.Min.X && r.Min.Y >= f.Min.Y && r.Max.X <= f.Max.X && r.Max.Y <= f.Max.Y
}

// TestChartTextStaysInside: legends (with names as long as the demo's
// reports give them) and bar labels (feature descriptions) are drawn
// whole, inside the figure, and the legend below the axes, never over a
// line; the PNG is twice the size it is shown at.
func TestChartTextStaysInside(t *testing.T) {
	long := []Series{
		{Name: "complex_case-gbdt (AUC 0.841, 95% interval 0.823 to 0.859)", X: []float64{0, 0.2, 1}, Y: []float64{0, 0.7, 1}},
		{Name: "complex_case-logistic (AUC 0.819, 95% interval 0.795 to 0.843)", X: []float64{0, 0.3, 1}, Y: []float64{0, 0.6, 1}},
		{Name: "oracle (true probabilities) (AUC 0.889) — the best any model could do on this synthetic borough, shown for scale", X: []float64{0, 0.1, 1}, Y: []float64{0, 0.8, 1}, Dashed: true},
	}
	roc, err := LineChart("ROC curve", "false-positive rate", "true-positive rate", "alt", long, true, "chance", false)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := Histogram("Score distribution by outcome", "calibrated probability", "alt",
		[]Series{{Name: "outcome", X: []float64{0.1, 0.5, 0.9}}, {Name: "no outcome", X: []float64{0.01, 0.02, 0.3}, Dashed: true}}, 20)
	if err != nil {
		t.Fatal(err)
	}
	labels := []string{
		"The household's latest weekly council tax support award in the last year",
		"Council tax arrears at the address: the latest known account balance, 0 when in credit",
		"Whether a child in the household received free school meals in the latest recorded term of the last year",
		"Age",
	}
	var bars []Bar
	for i, l := range labels {
		bars = append(bars, Bar{Label: l, Value: float64(len(labels) - i)})
	}
	imp, err := BarChart("Global importance", "mean |SHAP| (log-odds)", "alt", bars)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Chart{roc, hist, imp} {
		lo := c.layout
		if c.Title != "Global importance" {
			if !inside(lo.Legend, lo.Figure) || len(lo.Texts) == 0 {
				t.Errorf("%s: legend %v outside the figure %v", c.Title, lo.Legend, lo.Figure)
			}
			if lo.Legend.Max.Y > lo.Figure.Max.Y-chartH+margin {
				t.Errorf("%s: the legend (top %v) reaches into the axes (which end at %v)", c.Title, lo.Legend.Max.Y, lo.Figure.Max.Y-chartH)
			}
		}
		for _, r := range lo.Texts {
			if !inside(r, lo.Figure) {
				t.Errorf("%s: a legend entry %v runs outside the figure %v", c.Title, r, lo.Figure)
			}
		}
		img, err := png.Decode(bytes.NewReader(c.PNG))
		if err != nil {
			t.Fatalf("%s: %v", c.Title, err)
		}
		if b := img.Bounds(); b.Dx()/2 != c.Width || b.Dy()/2 != c.Height {
			t.Errorf("%s: image %v, want twice %d × %d", c.Title, b, c.Width, c.Height)
		}
		if dir := os.Getenv(chartDirEnv); dir != "" {
			name := strings.ReplaceAll(strings.ToLower(c.Title), " ", "-") + ".png"
			if err := os.WriteFile(filepath.Join(dir, name), c.PNG, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Bar labels are whole: wrapped at spaces, never cut.
	p := newPlot("", "", "")
	p.Y.Tick.Label.Font.Size = vg.Points(8)
	for _, l := range labels {
		w := wrapText(p.Y.Tick.Label, l, barLabelWidth)
		if strings.ReplaceAll(w, "\n", " ") != l {
			t.Errorf("label %q wrapped to %q", l, w)
		}
		for _, line := range strings.Split(w, "\n") {
			if p.Y.Tick.Label.Width(line) > barLabelWidth && strings.Contains(line, " ") {
				t.Errorf("line %q of a label is wider than %v", line, barLabelWidth)
			}
		}
	}
}
