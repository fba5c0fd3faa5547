package viz

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"
)

// Series is one line of a chart: points (X[i], Y[i]), drawn in order.
type Series struct {
	Name string
	X, Y []float64
}

// Chart is a line chart with a title and axis labels.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
}

// chartPalette is the Okabe–Ito palette, which stays distinguishable under
// the common forms of colour blindness. Blue and orange come first as the
// most distinct pair; series beyond the eighth reuse the colours in order.
var chartPalette = []color.RGBA{
	{0, 114, 178, 255},   // blue
	{230, 159, 0, 255},   // orange
	{0, 158, 115, 255},   // bluish green
	{213, 94, 0, 255},    // vermillion
	{204, 121, 167, 255}, // reddish purple
	{86, 180, 233, 255},  // sky blue
	{240, 228, 66, 255},  // yellow
	{0, 0, 0, 255},       // black
}

// Chart colours. The ink is dark grey rather than black so that the axes
// never match the palette's black series.
var (
	chartPaper = color.RGBA{255, 255, 255, 255}
	chartInk   = color.RGBA{51, 51, 51, 255}
	chartGrid  = color.RGBA{230, 230, 230, 255}
)

// Chart geometry, in pixels.
const (
	minChartW, minChartH = 200, 150
	minPlotSide          = 40 // the smallest plot area worth drawing
	chartPad             = 8  // between the canvas edge and any text
	tickLen              = 4
	tickGap              = 3 // between a tick and its number
	dataInset            = 4 // keeps dots and lines at the data's extremes clear of the frame
	dotRadius            = 3
	maxDotted            = 12 // beyond this many points, dots would crowd the line
	swatchW              = 14
	legendGap            = 12 // between legend entries in a row
	legendRowH           = 16
)

// Plot draws c on a w×h white canvas: the title, a legend below it
// (wrapping onto more rows as needed), axes over the data's range with
// ticks on a 1, 2 or 5 × 10^k step, one line a series in the colours of
// a colour-blind-safe palette, and dots on the points of series short
// enough to tell them apart. A series without points is only listed; a
// chart without any has axes from 0 to 1. It refuses a canvas under
// 200×150 or too small for its labels, and a series whose X and Y differ
// in length or hold a value that is not finite, naming the series.
func Plot(c Chart, w, h int) (*image.RGBA, error) {
	if w < minChartW || h < minChartH {
		return nil, fmt.Errorf("viz: plot: canvas %dx%d is smaller than %dx%d", w, h, minChartW, minChartH)
	}
	if err := checkChart(c); err != nil {
		return nil, err
	}
	l, err := newLayout(c, w, h)
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(chartPaper), image.Point{}, draw.Src)
	l.drawAxes(img)
	l.drawLabels(img, c)
	for i, s := range c.Series {
		l.drawSeries(img, s, seriesColour(i))
	}
	return img, nil
}

// seriesColour is the colour of the i-th series.
func seriesColour(i int) color.RGBA { return chartPalette[i%len(chartPalette)] }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// checkChart rejects what cannot be drawn, naming the series and point at
// fault so that a bad run is easy to find among many.
func checkChart(c Chart) error {
	for i, s := range c.Series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("viz: plot: series %d (%q) has %d X values and %d Y values", i, s.Name, len(s.X), len(s.Y))
		}
		for j := range s.X {
			if !finite(s.X[j]) || !finite(s.Y[j]) {
				return fmt.Errorf("viz: plot: series %d (%q) point %d is (%v, %v), not finite", i, s.Name, j, s.X[j], s.Y[j])
			}
		}
	}
	return nil
}

// dataRanges are the ranges the axes show: the data's, with y padded by 5%
// so that its extremes stay off the frame, or 0–1 for a chart without
// points.
func dataRanges(c Chart) (xlo, xhi, ylo, yhi float64) {
	xlo, xhi = math.Inf(1), math.Inf(-1)
	ylo, yhi = math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for j := range s.X {
			xlo, xhi = min(xlo, s.X[j]), max(xhi, s.X[j])
			ylo, yhi = min(ylo, s.Y[j]), max(yhi, s.Y[j])
		}
	}
	if xlo > xhi {
		xlo, xhi, ylo, yhi = 0, 1, 0, 1
	} else {
		xlo, xhi = widen(xlo, xhi)
		ylo, yhi = widen(ylo, yhi)
		pad := (yhi - ylo) * 0.05
		ylo, yhi = ylo-pad, yhi+pad
	}
	return xlo, xhi, ylo, yhi
}

// widen gives a range of one value some width, so that it can be mapped
// to pixels: 5% of the value either side, or 0.5 around zero.
func widen(lo, hi float64) (float64, float64) {
	if hi > lo {
		return lo, hi
	}
	pad := math.Abs(lo) * 0.05
	if pad == 0 {
		pad = 0.5
	}
	return lo - pad, hi + pad
}

// niceTicks returns the multiples of a 1, 2 or 5 × 10^k step that lie in
// [lo, hi], choosing the step whose count is nearest 5 (the larger step on
// a tie, as fewer numbers crowd less), and the decimals that print them
// exactly. It returns no ticks for an empty or infinite range.
func niceTicks(lo, hi float64) (ticks []float64, decimals int) {
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return nil, 0
	}
	// A step near span/5 is one of these six; larger or smaller ones give
	// at most 2 or at least 10 ticks.
	top := int(math.Floor(math.Log10(span)))
	bestDist, bestFirst, bestLast, bestM, bestK := math.MaxInt, 0, 0, 0, 0
	for k := top; k >= top-1; k-- {
		for _, m := range []int{5, 2, 1} {
			step := tickValue(1, m, k)
			// The slack keeps lo and hi themselves when they are multiples
			// that division rounds to just past a whole number.
			a, b := math.Ceil(lo/step-1e-9), math.Floor(hi/step+1e-9)
			if math.Abs(a) > 1e12 || math.Abs(b) > 1e12 {
				continue // too far from zero for the step to show
			}
			first, last := int(a), int(b)
			if d := abs(last - first + 1 - 5); d < bestDist {
				bestDist, bestFirst, bestLast, bestM, bestK = d, first, last, m, k
			}
		}
	}
	for i := bestFirst; i <= bestLast && bestM > 0; i++ {
		ticks = append(ticks, tickValue(i, bestM, bestK))
	}
	return ticks, max(0, -bestK)
}

// tickValue is i × m × 10^k, dividing for negative k so that decimal ticks
// such as 0.815 come out as the nearest float rather than 163 × 0.005.
func tickValue(i, m, k int) float64 {
	if k < 0 {
		return float64(i*m) / math.Pow10(-k)
	}
	return float64(i*m) * math.Pow10(k)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// axis maps data values linearly to pixel coordinates, lo to p0 and hi to
// p1 (for y, p0 is at the bottom), and holds its ticks.
type axis struct {
	lo, hi, p0, p1 float64
	ticks          []float64
	decimals       int
}

func newAxis(lo, hi float64) axis {
	a := axis{lo: lo, hi: hi}
	a.ticks, a.decimals = niceTicks(lo, hi)
	return a
}

func (a axis) pixel(v float64) float64 { return a.p0 + (v-a.lo)/(a.hi-a.lo)*(a.p1-a.p0) }

// at is the pixel holding v, for values inside the range.
func (a axis) at(v float64) int { return int(math.Floor(a.pixel(v))) }

func (a axis) label(v float64) string { return strconv.FormatFloat(v, 'f', a.decimals, 64) }

func (a axis) labelWidth() int {
	w := 0
	for _, v := range a.ticks {
		w = max(w, textWidth(a.label(v)))
	}
	return w
}

// layout places a chart's parts on the canvas.
type layout struct {
	plot    image.Rectangle // inside the frame; series are clipped to it
	x, y    axis
	legendY int     // top of the first legend row
	legend  [][]int // series indices, row by row
}

// newLayout fits, from the edges inwards, the title and legend above the
// plot, the y label and numbers to its left and the x numbers and label
// below it.
func newLayout(c Chart, w, h int) (layout, error) {
	xlo, xhi, ylo, yhi := dataRanges(c)
	l := layout{x: newAxis(xlo, xhi), y: newAxis(ylo, yhi)}

	left := chartPad + l.y.labelWidth() + tickGap + tickLen + 1
	if c.YLabel != "" {
		left += glyphH + chartPad/2
	}
	right := chartPad // room for half the last x number
	if n := len(l.x.ticks); n > 0 {
		right = max(right, textWidth(l.x.label(l.x.ticks[n-1]))/2+2)
	}
	right = w - right - 1

	top := chartPad
	if c.Title != "" {
		top += glyphH + chartPad/2
	}
	l.legendY = top
	l.legend = legendRows(c.Series, w-chartPad-left)
	top += len(l.legend)*legendRowH + chartPad/2 + 1

	bottom := h - chartPad - glyphH - tickGap - tickLen - 1
	if c.XLabel != "" {
		bottom -= glyphH + chartPad/2
	}

	// Checked before image.Rect, which would swap crossed edges.
	if right-left < minPlotSide || bottom-top < minPlotSide {
		return layout{}, fmt.Errorf("viz: plot: a %dx%d canvas leaves no room for the plot beside the labels and the legend of %d series", w, h, len(c.Series))
	}
	l.plot = image.Rect(left, top, right, bottom)
	p := l.plot
	l.x.p0, l.x.p1 = float64(p.Min.X+dataInset)+0.5, float64(p.Max.X-1-dataInset)+0.5
	l.y.p0, l.y.p1 = float64(p.Max.Y-1-dataInset)+0.5, float64(p.Min.Y+dataInset)+0.5
	return l, nil
}

// point is the pixel position of the data point (x, y).
func (l layout) point(x, y float64) (float64, float64) { return l.x.pixel(x), l.y.pixel(y) }

// legendName is the series' name, or its number when it has none, so that
// its swatch still has a label.
func legendName(s Series, i int) string {
	if s.Name == "" {
		return fmt.Sprintf("series %d", i+1)
	}
	return s.Name
}

func legendEntryW(name string) int { return swatchW + 4 + textWidth(name) }

// legendRows fills rows of at most width pixels with legend entries, in
// order; an entry wider than a row gets a row to itself.
func legendRows(ss []Series, width int) [][]int {
	var rows [][]int
	x := 0
	for i, s := range ss {
		ew := legendEntryW(legendName(s, i))
		if len(rows) == 0 || x+legendGap+ew > width {
			rows = append(rows, []int{i})
			x = ew
			continue
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], i)
		x += legendGap + ew
	}
	return rows
}

// drawAxes draws the grid lines under everything else, then the frame, the
// ticks outside it and their numbers.
func (l layout) drawAxes(img *image.RGBA) {
	p := l.plot
	for _, v := range l.x.ticks {
		x := l.x.at(v)
		fillRect(img, image.Rect(x, p.Min.Y, x+1, p.Max.Y), chartGrid)
		fillRect(img, image.Rect(x, p.Max.Y+1, x+1, p.Max.Y+1+tickLen), chartInk)
		s := l.x.label(v)
		drawText(img, x-textWidth(s)/2, p.Max.Y+1+tickLen+tickGap, s, chartInk)
	}
	for _, v := range l.y.ticks {
		y := l.y.at(v)
		fillRect(img, image.Rect(p.Min.X, y, p.Max.X, y+1), chartGrid)
		fillRect(img, image.Rect(p.Min.X-1-tickLen, y, p.Min.X-1, y+1), chartInk)
		s := l.y.label(v)
		drawText(img, p.Min.X-1-tickLen-tickGap-textWidth(s), y-glyphH/2, s, chartInk)
	}
	f := p.Inset(-1)
	fillRect(img, image.Rect(f.Min.X, f.Min.Y, f.Max.X, p.Min.Y), chartInk)
	fillRect(img, image.Rect(f.Min.X, p.Max.Y, f.Max.X, f.Max.Y), chartInk)
	fillRect(img, image.Rect(f.Min.X, f.Min.Y, p.Min.X, f.Max.Y), chartInk)
	fillRect(img, image.Rect(p.Max.X, f.Min.Y, f.Max.X, f.Max.Y), chartInk)
}

// drawLabels draws the title and x label centred on the plot, the y label
// reading upwards beside it, and the legend.
func (l layout) drawLabels(img *image.RGBA, c Chart) {
	p := l.plot
	midX, midY := (p.Min.X+p.Max.X)/2, (p.Min.Y+p.Max.Y)/2
	drawText(img, max(chartPad, midX-textWidth(c.Title)/2), chartPad, c.Title, chartInk)
	drawText(img, max(chartPad, midX-textWidth(c.XLabel)/2), p.Max.Y+1+tickLen+tickGap+glyphH+chartPad/2, c.XLabel, chartInk)
	drawTextUp(img, chartPad, max(chartPad, midY-textWidth(c.YLabel)/2), c.YLabel, chartInk)
	for r, row := range l.legend {
		x, y := p.Min.X, l.legendY+r*legendRowH
		for _, i := range row {
			name := legendName(c.Series[i], i)
			fillRect(img, image.Rect(x, y+glyphH/2-2, x+swatchW, y+glyphH/2+2), seriesColour(i))
			drawText(img, x+swatchW+4, y, name, chartInk)
			x += legendEntryW(name) + legendGap
		}
	}
}

// drawTextUp draws s rotated a quarter turn anticlockwise, reading bottom
// to top, in the glyphH-wide box whose top-left corner is (x, y). The font
// has no rotated form, so the text is drawn flat and its pixels turned.
func drawTextUp(dst *image.RGBA, x, y int, s string, c color.RGBA) {
	tw := textWidth(s)
	flat := image.NewRGBA(image.Rect(0, 0, tw, glyphH))
	drawText(flat, 0, 0, s, c)
	for ty := range glyphH {
		for tx := range tw {
			if flat.RGBAAt(tx, ty).A > 0 {
				dst.SetRGBA(x+ty, y+tw-1-tx, c)
			}
		}
	}
}

// drawSeries draws s's line, and its points as dots when there are few
// enough of them to tell apart.
func (l layout) drawSeries(img *image.RGBA, s Series, c color.RGBA) {
	for j := 1; j < len(s.X); j++ {
		x0, y0 := l.point(s.X[j-1], s.Y[j-1])
		x1, y1 := l.point(s.X[j], s.Y[j])
		drawSegment(img, l.plot, x0, y0, x1, y1, c)
	}
	if len(s.X) > maxDotted {
		return
	}
	for j := range s.X {
		x, y := l.point(s.X[j], s.Y[j])
		drawDot(img, l.plot, x, y, c)
	}
}

// drawSegment draws a 2-pixel-wide line from (x0, y0) to (x1, y1) inside
// clip, stepping at most one pixel at a time along its longer extent. Each
// step fills the 2×2 block nearest its position, which always covers the
// pixel holding any point of the line.
func drawSegment(img *image.RGBA, clip image.Rectangle, x0, y0, x1, y1 float64, c color.RGBA) {
	n := int(math.Ceil(max(math.Abs(x1-x0), math.Abs(y1-y0))))
	for i := 0; i <= n; i++ {
		t := 0.0
		if n > 0 {
			t = float64(i) / float64(n)
		}
		px, py := int(math.Floor(x0+t*(x1-x0)-0.5)), int(math.Floor(y0+t*(y1-y0)-0.5))
		fillRect(img, image.Rect(px, py, px+2, py+2).Intersect(clip), c)
	}
}

// drawDot draws a filled disc around (x, y) inside clip.
func drawDot(img *image.RGBA, clip image.Rectangle, x, y float64, c color.RGBA) {
	cx, cy := int(math.Floor(x)), int(math.Floor(y))
	for dy := -dotRadius; dy <= dotRadius; dy++ {
		for dx := -dotRadius; dx <= dotRadius; dx++ {
			if dx*dx+dy*dy <= dotRadius*dotRadius+1 && image.Pt(cx+dx, cy+dy).In(clip) {
				img.SetRGBA(cx+dx, cy+dy, c)
			}
		}
	}
}

// fillRect paints r, clipped to the image, with c.
func fillRect(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}
