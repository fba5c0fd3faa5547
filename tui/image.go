package tui

import (
	"image"
	"time"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"

	"parascope/viz/termimg"
)

// Cell size in pixels when the terminal does not say (xterm's default
// font).
const cellW, cellH = 6, 13

// previewProtocol is the protocol Options.Preview names, or nil for auto
// (and for a name no protocol has), which starts with half-blocks and
// asks the terminal.
func previewProtocol(name string) termimg.Protocol {
	p, _ := termimg.Lookup(name)
	return p
}

// terminalAnswer takes the terminal's answer to a start-up query and, when
// the protocol is chosen automatically, switches to the best one the
// answers so far support.
func (a *app) terminalAnswer(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case uv.PrimaryDeviceAttributesEvent:
		a.answers.DA1 = msg
	case uv.KittyGraphicsEvent:
		a.answers.Kitty = true
	}
	if previewProtocol(a.o.Preview) != nil {
		return nil
	}
	p := termimg.Detect(a.answers)
	if p.Name() == a.preview.Name() {
		return nil
	}
	a.preview = p
	return a.refreshImage()
}

// pictureRows is the picture as rows of the view: drawn by a text
// protocol, or blank cells for a raw one's bytes to be drawn into.
func (a *app) pictureRows(img image.Image, l layout) []string {
	if t, ok := a.preview.(termimg.Text); ok {
		return t.Lines(img, l.imgCols, l.imgRows, a.blockProfile())
	}
	var rows []string
	for r := range l.imgRows {
		rows = append(rows, placeholderRow(r, l.imgCols))
	}
	return rows
}

// refreshImage schedules the picture to be sent again for a raw protocol:
// a little after this frame, because raw bytes written in the same tick as
// the frame that blanks the rectangle would be painted over.
func (a *app) refreshImage() tea.Cmd {
	if _, raw := a.preview.(termimg.Raw); !raw || a.cmp != nil {
		return nil
	}
	a.imageGen++
	gen := a.imageGen
	return tea.Tick(50*time.Millisecond, func(time.Time) tea.Msg { return resendMsg{gen} })
}

// encodeImage encodes the shown picture off the UI goroutine, ready to be
// written into the rectangle.
func (a *app) encodeImage() tea.Cmd {
	raw, ok := a.preview.(termimg.Raw)
	if !ok {
		return nil
	}
	l := a.layout()
	img := a.picture(a.frames[min(a.shown, len(a.frames)-1)])
	gen := a.imageGen
	// The view's lines start with a space, so the rectangle starts one
	// column right of imgLeft.
	at := termimg.Cells{Left: l.imgLeft + 1, Top: l.imgTop, Cols: l.imgCols, Rows: l.imgRows}
	return func() tea.Msg {
		return imageMsg{gen, termimg.Place(raw, img, at, image.Pt(cellW, cellH))}
	}
}
