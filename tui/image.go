package tui

import (
	"image"
	"time"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"

	"parascope/engine/world"
	"parascope/viz/termimg"
)

// defaultCell is the size of a cell in pixels when the terminal does not
// say (xterm's default font).
var defaultCell = image.Pt(6, 13)

// canvas is the size of a picture in pixels.
var canvas = image.Pt(world.Canvas, world.Canvas)

// maxPicture is the most pixels a raw picture spans either way: xterm
// drops a sixel image larger than its maxGraphicSize, 1000×1000 unless
// set otherwise.
const maxPicture = 1000

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

// readCellSize takes the cell size from the terminal's window size in
// pixels, read again on every resize since a new font changes it; a
// terminal that reports no pixels is asked (CSI 16 t), and its answer
// arrives as a uv.CellSizeEvent. Until one answers, defaultCell stands.
func (a *app) readCellSize() tea.Cmd {
	if cell, ok := a.cellSize(); ok && cell.X > 0 && cell.Y > 0 {
		a.cell = cell
		return nil
	}
	return tea.Raw(ansi.WindowOp(16))
}

// raw reports whether the pictures are a raw protocol's bytes.
func (a *app) raw() bool {
	_, ok := a.preview.(termimg.Raw)
	return ok
}

// fit returns the cells a picture takes in a room of cols×rows cells: for
// a raw protocol, those its largest whole scale covers; for half-blocks,
// the largest square, two columns a row. 0×0 when it does not fit.
func (a *app) fit(cols, rows int) (int, int) {
	if a.raw() {
		return termimg.Fit(canvas, min(cols, maxPicture/a.cell.X), min(rows, maxPicture/a.cell.Y), a.cell)
	}
	r := max(min(rows, cols/2), 0)
	return 2 * r, r
}

// pictureRows is img drawn in the cells at: a text protocol's lines, or
// blank rows for a raw protocol's bytes to be drawn into.
func (a *app) pictureRows(img image.Image, at termimg.Cells) []string {
	if t, ok := a.preview.(termimg.Text); ok {
		return t.Lines(img, at.Cols, at.Rows, a.blockProfile())
	}
	var rows []string
	for r := range at.Rows {
		rows = append(rows, placeholderRow(at.Top+r, at.Cols, a.termBg))
	}
	return rows
}

// screenPictures are the pictures on screen, in slot order, with their
// cells. None while the help overlay covers them (a kitty picture would
// hide it); closing it sends them again.
func (a *app) screenPictures() []termimg.Picture {
	if a.help.ShowAll {
		return nil
	}
	var pics []termimg.Picture
	add := func(img image.Image, at termimg.Cells) {
		if at.Cols > 0 && at.Rows > 0 {
			pics = append(pics, termimg.Picture{Img: img, At: at})
		}
	}
	if a.cmp != nil {
		_, left, right := a.compareLayout()
		add(a.picture(a.frames[min(a.shown, len(a.frames)-1)]), left)
		add(a.picture(a.cmp.frames[min(a.shown, len(a.cmp.frames)-1)]), right)
		return pics
	}
	l := a.layout()
	add(a.picture(a.frames[min(a.shown, len(a.frames)-1)]), l.picture())
	if l.input.Rows > 0 {
		add(a.inputPicture(), l.input)
	}
	return pics
}

// refreshImage schedules the pictures to be sent again for a raw protocol:
// a little after this frame, because raw bytes written in the same tick as
// the frame that blanks the rectangles would be painted over.
func (a *app) refreshImage() tea.Cmd {
	if !a.raw() {
		return nil
	}
	a.imageGen++
	gen := a.imageGen
	return tea.Tick(50*time.Millisecond, func(time.Time) tea.Msg { return resendMsg{gen} })
}

// encodeImage encodes the shown pictures off the UI goroutine, ready to be
// written into their rectangles in one go, and removes the pictures of
// slots shown before and not now.
func (a *app) encodeImage() tea.Cmd {
	raw, ok := a.preview.(termimg.Raw)
	if !ok {
		return nil
	}
	pics := a.screenPictures()
	var gone []int
	for s := len(pics); s < a.slots; s++ {
		gone = append(gone, s)
	}
	// Every slot ever used is cleared while unused: clearing twice is
	// harmless, and a dropped write loses nothing.
	a.slots = max(a.slots, len(pics))
	gen, cell := a.imageGen, a.cell
	return func() tea.Msg {
		return imageMsg{gen, termimg.Place(raw, cell, pics, gone)}
	}
}
