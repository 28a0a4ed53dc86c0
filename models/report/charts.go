package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Series is one named line of a chart.
type Series struct {
	Name   string
	X, Y   []float64
	Dashed bool
}

// Chart is a drawn chart: a PNG image and the text that describes it to
// someone who cannot see it.
//
// Charts are drawn as PNG, not SVG: gonum/plot lays text out with the
// metrics of its own embedded fonts, and an SVG names those fonts for the
// browser to find, so where they are not installed (most council desktops)
// the browser substitutes wider ones and legends and labels overflow the
// figure. A PNG is drawn with the fonts the layout measured.
type Chart struct {
	Title string
	Alt   string
	PNG   []byte
	// Width and Height are the figure's size in CSS pixels (the image has
	// twice as many, for sharp text on high-density screens).
	Width, Height int
	// layout records where the figure's parts were drawn, for the tests.
	layout layout
}

// layout is where a figure's parts were drawn, in points from its lower
// left corner.
type layout struct {
	Figure, Legend vg.Rectangle
	// Texts are the legend's and the axes' tick labels, each measured.
	Texts []vg.Rectangle
}

// DataURI returns the chart as a data: URI, for an <img> that needs no
// outside asset.
func (c Chart) DataURI() string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(c.PNG)
}

// dpi draws the PNG at twice the CSS pixel density (96 dpi).
const dpi = 192

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
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(12)
		a.Tick.Label.Font.Size = vg.Points(11)
	}
	p.Add(plotter.NewGrid())
	return p
}

// legend is a chart's legend entries, drawn below the axes by render.
type legend []legendEntry

type legendEntry struct {
	text   string
	thumbs []plot.Thumbnailer
}

func (l *legend) add(name string, th ...plot.Thumbnailer) {
	*l = append(*l, legendEntry{text: name, thumbs: th})
}

// margin is the space kept clear around a figure's edges; rightMargin
// leaves room for the last x tick label, which is centred on the axis end.
var (
	margin      = vg.Points(6)
	rightMargin = vg.Points(14)
)

// wrapText breaks s into lines that fit width in sty, at spaces (a word
// longer than a line stands alone on its line).
func wrapText(sty text.Style, s string, width vg.Length) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		try := w
		if line != "" {
			try = line + " " + w
		}
		if line != "" && sty.Width(try) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		line = try
	}
	return strings.Join(append(lines, line), "\n")
}

// widest returns the width of the widest line of a multi-line text.
func widest(sty text.Style, s string) vg.Length {
	var best vg.Length
	for _, l := range strings.Split(s, "\n") {
		best = max(best, sty.Width(l))
	}
	return best
}

// render draws p at w × h points with the legend below the axes (so it
// never covers a line), each entry wrapped to the figure's width and as
// tall as its own lines, as a PNG.
func render(p *plot.Plot, entries legend, w, h vg.Length, title, alt string) (Chart, error) {
	textWidth := w - 2*margin - vg.Points(20) - vg.Points(4)
	var items []plot.Legend
	var heights []vg.Length
	var legendH vg.Length
	for _, e := range entries {
		lg := plot.NewLegend()
		lg.TextStyle.Font = font.From(plot.DefaultFont, 11)
		lg.Left, lg.Top = true, true
		lg.Add(wrapText(lg.TextStyle, e.text, textWidth), e.thumbs...)
		eh := lg.Rectangle(draw.Canvas{}).Size().Y + vg.Points(4)
		items, heights, legendH = append(items, lg), append(heights, eh), legendH+eh
	}
	if len(entries) > 0 {
		legendH += 2 * margin
	}
	c := vgimg.NewWith(vgimg.UseWH(w, h+legendH), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(c)
	lo := layout{Figure: dc.Rectangle}
	p.Draw(draw.Crop(dc, margin, -rightMargin, legendH, -margin))
	top := dc.Max.Y - h - margin
	for k, lg := range items {
		lc := draw.Crop(dc, margin, -margin, 0, 0)
		lc.Max.Y, lc.Min.Y = top, top-heights[k]
		lg.Draw(lc)
		r := lg.Rectangle(lc)
		lo.Legend = union(lo.Legend, r, k == 0)
		x0 := r.Min.X + lg.ThumbnailWidth + lg.TextStyle.Width(" ")
		lo.Texts = append(lo.Texts, vg.Rectangle{Min: vg.Point{X: x0, Y: r.Min.Y},
			Max: vg.Point{X: x0 + widest(lg.TextStyle, wrapText(lg.TextStyle, entries[k].text, textWidth)), Y: r.Max.Y}})
		top -= heights[k]
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return Chart{}, fmt.Errorf("report: %s: %w", title, err)
	}
	b := c.Image().Bounds()
	return Chart{Title: title, Alt: alt, PNG: buf.Bytes(), Width: b.Dx() / 2, Height: b.Dy() / 2, layout: lo}, nil
}

// union is the smallest rectangle holding a and b (b alone when first).
func union(a, b vg.Rectangle, first bool) vg.Rectangle {
	if first {
		return b
	}
	return vg.Rectangle{Min: vg.Point{X: min(a.Min.X, b.Min.X), Y: min(a.Min.Y, b.Min.Y)},
		Max: vg.Point{X: max(a.Max.X, b.Max.X), Y: max(a.Max.Y, b.Max.Y)}}
}

// The size of a line chart's axes area, in points.
var chartW, chartH = 14 * vg.Centimeter, 10 * vg.Centimeter

func addLines(p *plot.Plot, lg *legend, series []Series) error {
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
		lg.add(s.Name, l)
	}
	return nil
}

func diagonal(p *plot.Plot, lg *legend, label string) {
	d, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	d.Color = color.Gray{Y: 150}
	d.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	p.Add(d)
	if label != "" {
		lg.add(label, d)
	}
}

func unitAxes(p *plot.Plot) {
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
}

// LineChart draws series of (x, y) points. With unit set, both axes run
// from 0 to 1; with diag, the line y = x is drawn and named diag. The
// legend is drawn below the axes, whole (legendTop is kept for callers
// and ignored: a legend inside the axes covers lines).
func LineChart(title, xLabel, yLabel, alt string, series []Series, unit bool, diag string, legendTop bool) (Chart, error) {
	_ = legendTop
	p := newPlot(title, xLabel, yLabel)
	var lg legend
	if unit {
		unitAxes(p)
	}
	if diag != "" {
		diagonal(p, &lg, diag)
	}
	if err := addLines(p, &lg, series); err != nil {
		return Chart{}, err
	}
	return render(p, lg, chartW, chartH, title, alt)
}

// Histogram draws the distribution of each series' X values (Y unused) as
// normalised step outlines over shared bins, so groups of very different
// sizes can be compared by shape.
func Histogram(title, xLabel, alt string, series []Series, bins int) (Chart, error) {
	p := newPlot(title, xLabel, "share of rows")
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
	var lg legend
	if err := addLines(p, &lg, lines); err != nil {
		return Chart{}, err
	}
	p.Y.Min = 0
	return render(p, lg, chartW, chartH, title, alt)
}

// Bar is one bar of a bar chart.
type Bar struct {
	Label string
	Value float64
}

// barLabelWidth is the widest line of a bar's label; longer labels wrap.
var barLabelWidth = 6.5 * vg.Centimeter

// BarChart draws horizontal bars, largest at the top, each labelled with
// its whole label (wrapped onto as many lines as it needs).
func BarChart(title, xLabel, alt string, bars []Bar) (Chart, error) {
	p := newPlot(title, xLabel, "")
	if len(bars) == 0 {
		return Chart{}, fmt.Errorf("report: %s: no bars", title)
	}
	p.Y.Tick.Label.Font.Size = vg.Points(8)
	vals := make(plotter.Values, len(bars))
	labels := make([]string, len(bars))
	lines := 1
	for i, b := range bars {
		// Drawn bottom-up: reverse so the first bar is at the top.
		l := wrapText(p.Y.Tick.Label, b.Label, barLabelWidth)
		vals[len(bars)-1-i], labels[len(bars)-1-i] = b.Value, l
		lines = max(lines, strings.Count(l, "\n")+1)
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
	p.X.Min = 0
	row := vg.Points(8*1.2)*vg.Length(lines) + vg.Points(6)
	return render(p, nil, 20*vg.Centimeter, row*vg.Length(len(bars))+3*vg.Centimeter, title, alt)
}
