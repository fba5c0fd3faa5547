package tui

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"parascope/engine/sample"
	"parascope/engine/world"
)

// The inspector follows one output position — a word of the reasoning or
// a patch of the picture — through the run: when it was revealed, the
// model's probability of it then, and its most likely tokens at every
// step up to the shown one.

// inspectOrder is the positions the inspector steps through: the words
// up to the text's end, then the patches.
func (a *app) inspectOrder(f sample.Frame) []int {
	v := a.o.Vocab
	var out []int
	for i, id := range f.TextTokens(v) {
		if int(id) != v.MaskID() && v.IsEnd(int(id)) {
			break
		}
		out = append(out, v.ImageLen()+i)
	}
	for p := range v.ImageLen() {
		out = append(out, p)
	}
	return out
}

// inspectStep moves the inspector by dir positions, around the order.
func (a *app) inspectStep(dir int) tea.Cmd {
	order := a.inspectOrder(a.shownFrame())
	if i := slices.Index(order, a.inspected); i < 0 {
		a.inspected = order[0] // the text ended before it
	} else {
		a.inspected = order[(i+dir+len(order))%len(order)]
	}
	return a.refreshImage()
}

// inspectAt is the position drawn at screen cell (x, y): a patch of the
// picture or a word of the reasoning.
func (a *app) inspectAt(x, y int) (int, bool) {
	l := a.layout()
	f := a.shownFrame()
	perRow := a.gridSide()
	if px, py := x-l.imgLeft, y-l.imgTop; px >= 0 && px < l.imgCols && py >= 0 && py < l.imgRows {
		return py*perRow/l.imgRows*perRow + px*perRow/l.imgCols, true
	}
	row := y - l.imgTop - len(a.textHead(f, l))
	_, spans := a.reasoning(f, l.textWidth)
	for _, s := range spans {
		if s.line == row && x-l.textLeft >= s.col && x-l.textLeft < s.col+s.width {
			return s.pos, true
		}
	}
	return 0, false
}

// click picks what was clicked for the inspector.
func (a *app) click(m tea.Mouse) tea.Cmd {
	if o, ok := a.inspectAt(m.X, m.Y); ok && m.Button == tea.MouseLeft {
		a.inspected = o
		return a.refreshImage()
	}
	return nil
}

func (a *app) shownFrame() sample.Frame { return a.frames[min(a.shown, len(a.frames)-1)] }

// inspectLines describe the inspected position at the shown step.
func (a *app) inspectLines(f sample.Frame, width int) []string {
	v := a.o.Vocab
	o := a.inspected
	perRow := world.Canvas / world.PatchPx
	what := fmt.Sprintf("patch (%d, %d)", o%perRow, o/perRow)
	if o >= v.ImageLen() {
		what = fmt.Sprintf("word %d", o-v.ImageLen()+1)
	}
	out := []string{labelStyle.Render("inspect " + what + "  ([ ] or a click picks, i closes)")}
	if at := f.RevealedAt[o]; at == -1 {
		out = append(out, fmt.Sprintf("masked at step %d", f.Step))
	} else {
		out = append(out, fmt.Sprintf("%s, revealed at step %d with p %.2f", a.tokenName(f.Tokens[o]), at, committedProbability(f, o)))
	}
	var steps []string
	for _, g := range a.frames[1:min(a.shown+1, len(a.frames))] {
		if g.Top == nil || g.Top[o] == nil {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "step %-3d", g.Step)
		for _, c := range g.Top[o] {
			fmt.Fprintf(&b, " %s %.2f", a.tokenName(c.ID), c.P)
		}
		steps = append(steps, b.String())
	}
	switch {
	case len(steps) > 0:
		out = append(out, labelStyle.Render("most likely, step by step:"))
		out = append(out, steps[max(0, len(steps)-6):]...)
	case a.replaying():
		out = append(out, labelStyle.Render("(traces keep no candidates: run it live to see them)"))
	}
	for i := range out {
		out[i] = truncate(out[i], width)
	}
	return out
}

// tokenName is a token as the inspector writes it: the word, or the image
// code's number.
func (a *app) tokenName(id int32) string {
	v := a.o.Vocab
	if code := int(id) - v.ImageOffset(); code >= 0 && code < v.Codes() {
		return fmt.Sprintf("code %d", code)
	}
	return v.Name(int(id))
}

// outline draws a one-pixel frame around the inspected patch, so it can
// be found in any protocol's picture.
func (a *app) outline(img *image.RGBA) {
	if !a.inspecting || a.inspected >= a.o.Vocab.ImageLen() {
		return
	}
	perRow := a.gridSide()
	px := img.Bounds().Dx() / perRow // a patch's pixels: ShapeWorld's world.PatchPx
	x0, y0 := a.inspected%perRow*px, a.inspected/perRow*px
	mark := color.RGBA{255, 255, 255, 255}
	for d := range px {
		img.SetRGBA(x0+d, y0, mark)
		img.SetRGBA(x0+d, y0+px-1, mark)
		img.SetRGBA(x0, y0+d, mark)
		img.SetRGBA(x0+px-1, y0+d, mark)
	}
}

// gridSide is the picture's patches a row: its grid is square.
func (a *app) gridSide() int {
	n := a.o.Vocab.ImageLen()
	side := int(math.Sqrt(float64(n)))
	for side*side < n {
		side++
	}
	return max(side, 1)
}
