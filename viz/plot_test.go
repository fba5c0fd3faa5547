package viz

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestPlotNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi   float64
		want     []float64
		decimals int
	}{
		{0, 37, []float64{0, 10, 20, 30}, 0},
		{0, 1, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}, 1},
		{0, 100, []float64{0, 20, 40, 60, 80, 100}, 0},
		{-1, 1, []float64{-1, -0.5, 0, 0.5, 1}, 1},
		{-45, 5, []float64{-40, -30, -20, -10, 0}, 0},
		{-2.5, -0.3, []float64{-2.5, -2, -1.5, -1, -0.5}, 1},
		{0.81, 0.83, []float64{0.81, 0.815, 0.82, 0.825, 0.83}, 3},
		{-0.01, 0.21, []float64{0, 0.05, 0.1, 0.15, 0.2}, 2},
		{1e-7, 5e-7, []float64{1e-7, 2e-7, 3e-7, 4e-7, 5e-7}, 7},
		{1000, 5600, []float64{1000, 2000, 3000, 4000, 5000}, 0},
	} {
		got, dec := niceTicks(tc.lo, tc.hi)
		if len(got) != len(tc.want) || dec != tc.decimals {
			t.Errorf("niceTicks(%v, %v) = %v with %d decimals, want %v with %d", tc.lo, tc.hi, got, dec, tc.want, tc.decimals)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-12*max(1, math.Abs(tc.want[i])) {
				t.Errorf("niceTicks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
				break
			}
		}
	}
	for _, r := range [][2]float64{{1, 1}, {2, 1}, {0, math.Inf(1)}} {
		if got, _ := niceTicks(r[0], r[1]); got != nil {
			t.Errorf("niceTicks(%v, %v) = %v, want none", r[0], r[1], got)
		}
	}
}

// Any range gets 3–7 evenly spaced ticks inside it, each printed
// differently, on a step of 1, 2 or 5 × 10^k.
func TestPlotNiceTicksAnyRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		scale := math.Pow(10, float64(rng.IntN(12)-6))
		lo := (rng.Float64()*2 - 1) * 10 * scale
		hi := lo + rng.Float64()*10*scale + 1e-3*scale
		ticks, dec := niceTicks(lo, hi)
		if len(ticks) < 3 || len(ticks) > 7 {
			t.Fatalf("niceTicks(%v, %v) = %v: %d ticks", lo, hi, ticks, len(ticks))
		}
		step := ticks[1] - ticks[0]
		mant := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9))
		if !near(mant, 1) && !near(mant, 2) && !near(mant, 5) {
			t.Fatalf("niceTicks(%v, %v) = %v: step %v is not 1, 2 or 5 × 10^k", lo, hi, ticks, step)
		}
		seen := map[string]bool{}
		a := axis{decimals: dec}
		for i, v := range ticks {
			if v < lo-step*1e-6 || v > hi+step*1e-6 {
				t.Fatalf("niceTicks(%v, %v) = %v: %v is outside", lo, hi, ticks, v)
			}
			if i > 0 && !near(v-ticks[i-1], step) {
				t.Fatalf("niceTicks(%v, %v) = %v: uneven", lo, hi, ticks)
			}
			if s := a.label(v); seen[s] {
				t.Fatalf("niceTicks(%v, %v) = %v: label %q repeats", lo, hi, ticks, s)
			} else {
				seen[s] = true
			}
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Abs(b) }

// twoRuns has a rising and a flat series that meet only at x = 100, and an
// empty upper-left region (x 0–20, y 0.15–0.2) between grid lines.
func twoRuns() Chart {
	return Chart{
		Title: "reward", XLabel: "batch", YLabel: "mean reward",
		Series: []Series{
			{Name: "run a", X: []float64{0, 50, 100}, Y: []float64{0, 0.1, 0.2}},
			{Name: "run b", X: []float64{0, 50, 100}, Y: []float64{0.2, 0.2, 0.2}},
		},
	}
}

func plotOK(t *testing.T, c Chart, w, h int) (*image.RGBA, layout) {
	t.Helper()
	img, err := Plot(c, w, h)
	if err != nil {
		t.Fatal(err)
	}
	l, err := newLayout(c, w, h)
	if err != nil {
		t.Fatal(err)
	}
	return img, l
}

// pixelAt is the colour of the pixel holding data point (x, y).
func pixelAt(img *image.RGBA, l layout, x, y float64) color.RGBA {
	px, py := l.point(x, y)
	return img.RGBAAt(int(math.Floor(px)), int(math.Floor(py)))
}

func TestPlotSeriesColours(t *testing.T) {
	img, l := plotOK(t, twoRuns(), 480, 320)
	a, b := seriesColour(0), seriesColour(1)
	if a == b {
		t.Fatalf("both series are %v", a)
	}
	for _, tc := range []struct {
		x, y float64
		want color.RGBA
	}{
		{0, 0, a}, {50, 0.1, a}, {25, 0.05, a}, // points and a line
		{0, 0.2, b}, {50, 0.2, b}, {75, 0.2, b},
		{10, 0.175, chartPaper}, // empty, between grid lines
	} {
		if got := pixelAt(img, l, tc.x, tc.y); got != tc.want {
			t.Errorf("at (%v, %v): %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
	if got := img.RGBAAt(479, 160); got != chartPaper {
		t.Errorf("right margin: %v, want white", got)
	}
	if got := img.RGBAAt(l.plot.Min.X-1, (l.plot.Min.Y+l.plot.Max.Y)/2); got != chartInk {
		t.Errorf("frame: %v, want %v", got, chartInk)
	}
	// Grid lines at the middle y ticks, where x = 10 is clear of both lines.
	x := int(math.Floor(l.x.pixel(10)))
	for _, v := range l.y.ticks[1 : len(l.y.ticks)-1] {
		if got := img.RGBAAt(x, l.y.at(v)); got != chartGrid {
			t.Errorf("grid line at y = %v: %v, want %v", v, got, chartGrid)
		}
	}
}

func TestPlotPalette(t *testing.T) {
	if len(chartPalette) < 8 {
		t.Fatalf("%d colours, want at least 8", len(chartPalette))
	}
	seen := map[color.RGBA]bool{chartPaper: true, chartInk: true, chartGrid: true}
	for i, c := range chartPalette {
		if seen[c] {
			t.Errorf("colour %d (%v) repeats or matches the paper, ink or grid", i, c)
		}
		seen[c] = true
	}
	if seriesColour(len(chartPalette)) != seriesColour(0) {
		t.Error("colours do not cycle past the palette's end")
	}
}

// A flat series at y = 1: with 12 points each gets a dot above the line,
// with 13 none does.
func TestPlotDotsOnlyForShortSeries(t *testing.T) {
	for _, n := range []int{12, 13} {
		s := Series{Name: "flat"}
		for i := range n {
			s.X, s.Y = append(s.X, float64(i)), append(s.Y, 1)
		}
		img, l := plotOK(t, Chart{Series: []Series{s}}, 400, 300)
		px, py := l.point(7, 1)
		x, y := int(math.Floor(px)), int(math.Floor(py))
		if got := img.RGBAAt(x, y); got != seriesColour(0) {
			t.Errorf("%d points: line pixel %v, want %v", n, got, seriesColour(0))
		}
		want := chartPaper
		if n <= maxDotted {
			want = seriesColour(0)
		}
		if got := img.RGBAAt(x, y-2); got != want {
			t.Errorf("%d points: pixel above the point %v, want %v", n, got, want)
		}
	}
}

// countColour counts the pixels of colour c in r.
func countColour(img *image.RGBA, r image.Rectangle, c color.RGBA) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) == c {
				n++
			}
		}
	}
	return n
}

func TestPlotEmpty(t *testing.T) {
	img, l := plotOK(t, Chart{Title: "nothing yet"}, 300, 200)
	if l.x.lo != 0 || l.x.hi != 1 || l.y.lo != 0 || l.y.hi != 1 {
		t.Errorf("ranges x %v–%v, y %v–%v, want 0–1", l.x.lo, l.x.hi, l.y.lo, l.y.hi)
	}
	if len(l.x.ticks) < 4 || len(l.y.ticks) < 4 {
		t.Errorf("ticks %v and %v, want 4–6 each", l.x.ticks, l.y.ticks)
	}
	if got := img.RGBAAt(l.plot.Min.X-1, l.plot.Max.Y); got != chartInk {
		t.Errorf("frame corner: %v, want %v", got, chartInk)
	}

	// A series without points has a legend swatch and nothing in the plot.
	c := Chart{Series: []Series{{Name: "pending"}, {Name: "done", X: []float64{0, 1}, Y: []float64{0, 1}}}}
	img, l = plotOK(t, c, 300, 200)
	if n := countColour(img, img.Bounds(), seriesColour(0)); n == 0 {
		t.Error("the empty series has no legend swatch")
	}
	if n := countColour(img, l.plot, seriesColour(0)); n != 0 {
		t.Errorf("the empty series has %d pixels in the plot", n)
	}
	if n := countColour(img, l.plot, seriesColour(1)); n == 0 {
		t.Error("the second series is not drawn")
	}
}

// inkBox is the smallest rectangle holding the ink pixels in r.
func inkBox(img *image.RGBA, r image.Rectangle) image.Rectangle {
	var box image.Rectangle
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) == chartInk {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box
}

func TestPlotText(t *testing.T) {
	bare := twoRuns()
	bare.Title, bare.XLabel, bare.YLabel = "", "", ""
	_, lBare := plotOK(t, bare, 400, 300)
	img, l := plotOK(t, twoRuns(), 400, 300)

	if lBare.legendY != chartPad {
		t.Errorf("legend without a title at y = %d, want %d", lBare.legendY, chartPad)
	}
	if title := inkBox(img, image.Rect(0, 0, 400, l.legendY)); title.Empty() || title.Dy() > glyphH {
		t.Errorf("title ink in %v, want one line above the legend at y = %d", title, l.legendY)
	}
	// The y label reads upwards: its ink is as tall as the text is long
	// and no wider than a line, left of the numbers.
	yLabel := inkBox(img, image.Rect(0, l.plot.Min.Y, chartPad+glyphH, l.plot.Max.Y))
	if yLabel.Dy() < textWidth("mean reward")-glyphW || yLabel.Dx() > glyphH {
		t.Errorf("y label ink in %v, want a column about %d tall", yLabel, textWidth("mean reward"))
	}
	if lBare.plot.Min.X >= l.plot.Min.X {
		t.Errorf("plot starts at x = %d with a y label, %d without", l.plot.Min.X, lBare.plot.Min.X)
	}
	xLabel := inkBox(img, image.Rect(0, 300-chartPad-glyphH, 400, 300-chartPad))
	if xLabel.Dx() < textWidth("batch")-glyphW {
		t.Errorf("x label ink in %v, want a row about %d wide", xLabel, textWidth("batch"))
	}
}

func TestPlotErrors(t *testing.T) {
	ok := Series{Name: "train", X: []float64{0, 1}, Y: []float64{1, 2}}
	many := make([]Series, 40)
	for i := range many {
		many[i].Name = strings.Repeat("x", 20)
	}
	for _, tc := range []struct {
		name  string
		c     Chart
		w, h  int
		wants []string
	}{
		{"lengths", Chart{Series: []Series{ok, {Name: "eval", X: []float64{0, 1, 2}, Y: []float64{1, 2}}}}, 400, 300, []string{`"eval"`, "3 X", "2 Y"}},
		{"NaN", Chart{Series: []Series{{Name: "eval", X: []float64{0, 1, 2}, Y: []float64{1, 2, math.NaN()}}}}, 400, 300, []string{`"eval"`, "point 2", "NaN"}},
		{"Inf", Chart{Series: []Series{ok, {Name: "eval", X: []float64{math.Inf(1)}, Y: []float64{1}}}}, 400, 300, []string{"series 1", `"eval"`, "point 0", "+Inf"}},
		{"narrow", Chart{Series: []Series{ok}}, 199, 300, []string{"199x300"}},
		{"short", Chart{Series: []Series{ok}}, 400, 149, []string{"400x149"}},
		{"legend", Chart{Series: many}, 200, 150, []string{"40 series"}},
	} {
		img, err := Plot(tc.c, tc.w, tc.h)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if img != nil {
			t.Errorf("%s: an image with the error", tc.name)
		}
		for _, want := range tc.wants {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q lacks %q", tc.name, err, want)
			}
		}
	}
	if _, err := Plot(Chart{Series: []Series{ok}}, 200, 150); err != nil {
		t.Errorf("smallest canvas: %v", err)
	}
}

func TestPlotDeterministic(t *testing.T) {
	c := twoRuns()
	c.Series = append(c.Series, Series{Name: "long", X: make([]float64, 500), Y: make([]float64, 500)})
	for i := range 500 {
		c.Series[2].X[i], c.Series[2].Y[i] = float64(i)/5, 0.1+0.1*math.Sin(float64(i)/20)
	}
	a, err := Plot(c, 640, 400)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Plot(c, 640, 400)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Error("two plots of one chart differ")
	}
}

func TestPlotPNGRoundTrip(t *testing.T) {
	img, err := Plot(twoRuns(), 480, 320)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back.Bounds() != img.Bounds() {
		t.Fatalf("decoded bounds %v, want %v", back.Bounds(), img.Bounds())
	}
	for y := range 320 {
		for x := range 480 {
			if got := color.RGBAModel.Convert(back.At(x, y)); got != img.RGBAAt(x, y) {
				t.Fatalf("pixel (%d, %d): decoded %v, want %v", x, y, got, img.RGBAAt(x, y))
			}
		}
	}
}
