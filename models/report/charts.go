package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one named line of a chart.
type Series struct {
	Name   string
	X, Y   []float64
	Dashed bool
}

// Chart is a drawn chart: an SVG document and the text that describes it
// to someone who cannot see it.
type Chart struct {
	Title string
	Alt   string
	SVG   []byte
}

// DataURI returns the chart as a data: URI, for an <img> that needs no
// outside asset.
func (c Chart) DataURI() string {
	return "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(c.SVG)
}

// palette is colour-blind safe (Okabe–Ito).
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{0, 158, 115, 255},   // green
	color.RGBA{204, 121, 167, 255}, // purple
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{86, 180, 233, 255},  // sky
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	return p
}

func render(p *plot.Plot, title, alt string) (Chart, error) {
	var buf bytes.Buffer
	w, err := p.WriterTo(16*vg.Centimeter, 11*vg.Centimeter, "svg")
	if err != nil {
		return Chart{}, fmt.Errorf("report: %s: %w", title, err)
	}
	if _, err := w.WriteTo(&buf); err != nil {
		return Chart{}, fmt.Errorf("report: %s: %w", title, err)
	}
	return Chart{Title: title, Alt: alt, SVG: buf.Bytes()}, nil
}

func addLines(p *plot.Plot, series []Series) error {
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("report: series %s has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		pts := make(plotter.XYs, 0, len(s.X))
		for j := range s.X {
			if math.IsNaN(s.X[j]) || math.IsNaN(s.Y[j]) {
				continue
			}
			pts = append(pts, plotter.XY{X: s.X[j], Y: s.Y[j]})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("report: series %s: %w", s.Name, err)
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.6)
		if s.Dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	return nil
}

func diagonal(p *plot.Plot, label string) {
	d, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	d.Color = color.Gray{Y: 150}
	d.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	p.Add(d)
	if label != "" {
		p.Legend.Add(label, d)
	}
}

func unitAxes(p *plot.Plot) {
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
}

// LineChart draws series of (x, y) points. With unit set, both axes run
// from 0 to 1; with diag, the line y = x is drawn and named diag. The
// legend sits at the top right with legendTop, else at the bottom right.
func LineChart(title, xLabel, yLabel, alt string, series []Series, unit bool, diag string, legendTop bool) (Chart, error) {
	p := newPlot(title, xLabel, yLabel)
	p.Legend.Top = legendTop
	if unit {
		unitAxes(p)
	}
	if diag != "" {
		diagonal(p, diag)
	}
	if err := addLines(p, series); err != nil {
		return Chart{}, err
	}
	return render(p, title, alt)
}

// Histogram draws the distribution of each series' X values (Y unused) as
// normalised step outlines over shared bins, so groups of very different
// sizes can be compared by shape.
func Histogram(title, xLabel, alt string, series []Series, bins int) (Chart, error) {
	p := newPlot(title, xLabel, "share of rows")
	p.Legend.Top = true
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, v := range s.X {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if math.IsInf(lo, 0) || hi <= lo {
		lo, hi = 0, 1
	}
	width := (hi - lo) / float64(bins)
	var lines []Series
	for _, s := range series {
		counts := make([]float64, bins)
		for _, v := range s.X {
			k := int((v - lo) / width)
			counts[min(max(k, 0), bins-1)]++
		}
		var xs, ys []float64
		for k, c := range counts {
			share := 0.0
			if len(s.X) > 0 {
				share = c / float64(len(s.X))
			}
			xs = append(xs, lo+float64(k)*width, lo+float64(k+1)*width)
			ys = append(ys, share, share)
		}
		lines = append(lines, Series{Name: fmt.Sprintf("%s (n=%d)", s.Name, len(s.X)), X: xs, Y: ys, Dashed: s.Dashed})
	}
	if err := addLines(p, lines); err != nil {
		return Chart{}, err
	}
	p.Y.Min = 0
	return render(p, title, alt)
}

// Bar is one bar of a bar chart.
type Bar struct {
	Label string
	Value float64
}

// BarChart draws horizontal bars, largest at the top.
func BarChart(title, xLabel, alt string, bars []Bar) (Chart, error) {
	p := newPlot(title, xLabel, "")
	if len(bars) == 0 {
		return Chart{}, fmt.Errorf("report: %s: no bars", title)
	}
	vals := make(plotter.Values, len(bars))
	labels := make([]string, len(bars))
	for i, b := range bars {
		// Drawn bottom-up: reverse so the first bar is at the top.
		vals[len(bars)-1-i] = b.Value
		labels[len(bars)-1-i] = shorten(b.Label, 48)
	}
	bc, err := plotter.NewBarChart(vals, vg.Points(9))
	if err != nil {
		return Chart{}, fmt.Errorf("report: %s: %w", title, err)
	}
	bc.Horizontal = true
	bc.Color = palette[0]
	bc.LineStyle.Width = 0
	p.Add(bc)
	p.NominalY(labels...)
	p.Y.Tick.Label.Font.Size = vg.Points(8)
	p.X.Min = 0
	var buf bytes.Buffer
	h := vg.Length(max(float64(len(bars))*0.6+3, 7)) * vg.Centimeter
	w, err := p.WriterTo(18*vg.Centimeter, h, "svg")
	if err != nil {
		return Chart{}, fmt.Errorf("report: %s: %w", title, err)
	}
	if _, err := w.WriteTo(&buf); err != nil {
		return Chart{}, fmt.Errorf("report: %s: %w", title, err)
	}
	return Chart{Title: title, Alt: alt, SVG: buf.Bytes()}, nil
}

func shorten(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "…"
}
