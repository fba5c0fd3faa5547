package tui

import (
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"

	"parascope/viz/termimg"
)

// withCell makes a terminal that reports cells of cell pixels, and
// resizes to w×h so that the app reads it.
func withCell(a *app, cell image.Point, w, h int) tea.Cmd {
	a.cellSize = func() (image.Point, bool) { return cell, true }
	_, cmd := a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return cmd
}

// msgs runs cmd and the batches it gives, and returns their messages.
func msgs(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if batch, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range batch {
			out = append(out, msgs(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

// TestLayoutFillsTheRoom sizes the picture at three screen sizes and two
// fonts: a sixel picture takes the largest whole scale that fits beside
// 30 columns of text, its cells are the ones it covers (90% filled at
// least), and everything stays on screen, off the last rows. At 100×30
// the knob panel opens over the text, and the input picture keeps left
// of it.
func TestLayoutFillsTheRoom(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}, {120, 40}, {200, 60}} {
		for _, cell := range []image.Point{{6, 13}, {10, 20}} {
			w, h := size[0], size[1]
			name := fmt.Sprintf("%d×%d, %d×%d cells", w, h, cell.X, cell.Y)
			a := testApp(t, w, h)
			a.preview = termimg.Sixel
			withCell(a, cell, w, h)
			l := a.layout()
			if a.cell != cell {
				t.Fatalf("%s: cell %v", name, a.cell)
			}
			if l.textWidth < textMin || l.textLeft+l.textWidth+l.panelWidth > w {
				t.Errorf("%s: text %d columns from %d, panel %d", name, l.textWidth, l.textLeft, l.panelWidth)
			}
			if (w >= 110) != (l.panelWidth == panelWidth()) {
				t.Errorf("%s: panel %d wide", name, l.panelWidth)
			}
			pic := l.picture()
			if pic.Rows == 0 || pic.Left+pic.Cols > l.textLeft-3 || pic.Top+pic.Rows > a.bottom() || a.bottom() > h-2 {
				t.Errorf("%s: picture %+v, text from %d, bottom %d", name, pic, l.textLeft, a.bottom())
			}
			scale := termimg.Scale(canvas, pic, cell)
			px := scale * canvas.X
			fill := float64(px*px) / float64(pic.Cols*cell.X*pic.Rows*cell.Y)
			t.Logf("%s: picture %d×%d cells, scale %d (%d px), fills %.0f%%; text %d columns; input %+v", name, pic.Cols, pic.Rows, scale, px, 100*fill, l.textWidth, l.input)
			if fill < 0.9 {
				t.Errorf("%s: the picture fills %.0f%% of its cells", name, 100*fill)
			}
			// One scale more would not fit beside the text, or above the
			// plots, or in xterm's largest sixel.
			roomCols := w - l.imgLeft - 3 - textMin - 1 - l.panelWidth
			if next := px + canvas.X; next <= roomCols*cell.X && next <= (a.bottom()-l.imgTop)*cell.Y && next <= maxPicture {
				t.Errorf("%s: scale %d leaves room for %d", name, scale, scale+1)
			}
			if in := l.input; in.Rows > 0 {
				if in.Left != l.textLeft || in.Left+in.Cols > l.textLeft+l.textWidth || in.Rows > pic.Rows/2 || in.Left+in.Cols >= w-panelWidth() {
					t.Errorf("%s: input %+v beside a picture %+v, text %d wide", name, in, pic, l.textWidth)
				}
			}
			checkScreen(t, name, a)
		}
	}
}

// checkScreen checks the screen's size, and that each raw picture's
// rows are blank but for marks that differ from row to row.
func checkScreen(t *testing.T, name string, a *app) {
	t.Helper()
	lines := strings.Split(screen(a), "\n")
	if len(lines) != a.height {
		t.Fatalf("%s: %d lines", name, len(lines))
	}
	for i, line := range lines {
		if ansi.StringWidth(line) > a.width {
			t.Errorf("%s: line %d is %d wide", name, i, ansi.StringWidth(line))
		}
	}
	seen := map[string]int{}
	for _, p := range a.screenPictures() {
		for y := p.At.Top; y < p.At.Top+p.At.Rows; y++ {
			cells := ansi.Cut(lines[y], p.At.Left, p.At.Left+p.At.Cols)
			if marks := strings.Fields(cells); len(marks) != 2 || len(marks[0]) != 1 || len(marks[1]) != 1 || ansi.StringWidth(cells) != p.At.Cols {
				t.Fatalf("%s: row %d of %+v is %q", name, y, p.At, cells)
			}
			if r, ok := seen[lines[y]]; ok && r != y {
				t.Errorf("%s: rows %d and %d are the same text", name, r, y)
			}
			seen[lines[y]] = y
		}
	}
}

// Half-blocks take two columns a row, and grow with the screen too.
func TestLayoutBlocks(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
		a := testApp(t, size[0], size[1])
		l := a.layout()
		if l.imgCols != 2*l.imgRows || l.textWidth < textMin || l.imgTop+l.imgRows > a.bottom() {
			t.Errorf("%v: picture %d×%d, text %d", size, l.imgCols, l.imgRows, l.textWidth)
		}
		if l.imgRows < min(a.bottom()-l.imgTop, (size[0]-l.imgLeft-3-textMin-1-l.panelWidth)/2) {
			t.Errorf("%v: %d rows leave room", size, l.imgRows)
		}
	}
}

// The cell size comes from the terminal's window size in pixels, read
// again on every resize; failing that from its answer to CSI 16 t; and
// until then it is 6×13.
func TestCellSizeSources(t *testing.T) {
	a := testApp(t, 120, 40)
	a.preview = termimg.Sixel
	if a.cell != image.Pt(6, 13) {
		t.Fatalf("no answer: cell %v, want the 6×13 fallback", a.cell)
	}
	cmd := withCell(a, image.Pt(10, 20), 120, 40)
	if a.cell != image.Pt(10, 20) {
		t.Fatalf("window size 10×20 a cell: cell %v", a.cell)
	}
	for _, m := range msgs(cmd) {
		if _, ok := m.(tea.RawMsg); ok {
			t.Errorf("asked the terminal (%v) though the window size said", m)
		}
	}
	withCell(a, image.Pt(12, 24), 120, 40) // a bigger font, the same cells
	if a.cell != image.Pt(12, 24) {
		t.Fatalf("after a resize: cell %v, want 12×24", a.cell)
	}

	a.cellSize = noCellSize
	_, cmd = a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	asked := false
	for _, m := range msgs(cmd) {
		if raw, ok := m.(tea.RawMsg); ok && raw.Msg == "\x1b[16t" {
			asked = true
		}
	}
	if !asked {
		t.Fatal("no pixels in the window size, and CSI 16 t not sent")
	}
	_, cmd = a.Update(uv.CellSizeEvent{Width: 9, Height: 18})
	if a.cell != image.Pt(9, 18) {
		t.Fatalf("CellSizeEvent 9×18: cell %v", a.cell)
	}
	px := canvas.X * termimg.Scale(canvas, a.layout().picture(), a.cell)
	if data := sent(t, a, cmd); !strings.Contains(string(data), fmt.Sprintf("\"1;1;%d;%d", px, px)) {
		t.Errorf("the new cell size does not size the picture: %q…", data[:min(60, len(data))])
	}
}

// An edit's input picture and the picture share one write, kitty's in
// image ids 1 and 2; the comparison's two pictures take the same slots;
// and when the help covers them both are deleted.
func TestSeveralPicturesInOneWrite(t *testing.T) {
	a := testApp(t, 120, 40)
	a.preview = termimg.Kitty
	withCell(a, image.Pt(8, 16), 120, 40)
	l := a.layout()
	if l.input.Rows == 0 {
		t.Fatal("no input picture at 120×40")
	}
	data := string(sent(t, a, a.refreshImage()))
	if strings.Count(data, "\x1b[?2026h") != 1 || strings.Count(data, "a=T") != 2 {
		t.Fatalf("not one write of two pictures: %q…", data[:min(80, len(data))])
	}
	main := fmt.Sprintf("\x1b[%d;%dH\x1b_Ga=d,d=I,i=1,q=2\x1b\\\x1b_Ga=T", l.imgTop+1, l.imgLeft+1)
	input := fmt.Sprintf("\x1b[%d;%dH\x1b_Ga=d,d=I,i=2,q=2\x1b\\\x1b_Ga=T", l.input.Top+1, l.input.Left+1)
	if !strings.Contains(data, main) || !strings.Contains(data, input) || strings.Index(data, main) > strings.Index(data, input) {
		t.Errorf("want the picture as id 1 at its corner, then the input as id 2 at its own")
	}

	press(a, "c", "space")
	half, left, right := a.compareLayout()
	data = string(sent(t, a, a.refreshImage()))
	if !strings.Contains(data, fmt.Sprintf("\x1b[%d;%dH\x1b_Ga=d,d=I,i=1,", left.Top+1, left.Left+1)) ||
		!strings.Contains(data, fmt.Sprintf("\x1b[%d;%dH\x1b_Ga=d,d=I,i=2,", right.Top+1, half+4)) {
		t.Errorf("compare: want both runs' pictures, ids 1 and 2, in their columns: %q…", data[:min(80, len(data))])
	}
	checkScreen(t, "compare", a)
	if right.Top+right.Rows > a.bottom() || right.Left+right.Cols > a.width {
		t.Errorf("compare: picture %+v off the room", right)
	}

	_, cmd := a.Update(tea.KeyPressMsg{Code: '?', Text: "?"})
	if got, want := string(sent(t, a, cmd)), "\x1b[?2026h\x1b7\x1b_Ga=d,d=I,i=1,q=2\x1b\\\x1b_Ga=d,d=I,i=2,q=2\x1b\\\x1b8\x1b[?2026l"; got != want {
		t.Errorf("help open: %q, want both pictures deleted", got)
	}
}

// Closing the help schedules the pictures again, since the overlay wrote
// over them; opening it sends none over it.
func TestHelpCloseRedraws(t *testing.T) {
	a := testApp(t, 120, 40)
	a.preview = termimg.Sixel
	_, cmd := a.Update(tea.KeyPressMsg{Code: '?', Text: "?"})
	if !a.help.ShowAll {
		t.Fatal("? does not open the help")
	}
	if data := sent(t, a, cmd); data != nil {
		t.Errorf("help open: %q…, want no sixel over it", data[:min(40, len(data))])
	}
	_, cmd = a.Update(tea.KeyPressMsg{Code: '?', Text: "?"})
	if a.help.ShowAll {
		t.Fatal("? does not close the help")
	}
	data := string(sent(t, a, cmd))
	l := a.layout()
	for _, at := range []termimg.Cells{l.picture(), l.input} {
		if !strings.Contains(data, fmt.Sprintf("\x1b[%d;%dH\x1bP", at.Top+1, at.Left+1)) {
			t.Errorf("help closed: no sixel at %+v", at)
		}
	}
}

// A raw picture's placeholder letters are concealed, and once the
// terminal says its background, written in it for terminals that show
// concealed text.
func TestPlaceholderHidden(t *testing.T) {
	a := testApp(t, 120, 40)
	a.preview = termimg.Sixel
	y := a.layout().imgTop
	if got := strings.Split(a.render(), "\n")[y]; !strings.HasPrefix(got, " \x1b[8ma") {
		t.Errorf("row %d: %q…, want a concealed mark", y, got[:min(30, len(got))])
	}
	a.Update(tea.BackgroundColorMsg{Color: color.RGBA{250, 250, 240, 255}})
	if got := strings.Split(a.render(), "\n")[y]; !strings.HasPrefix(got, " \x1b[8m\x1b[38;2;250;250;240ma") {
		t.Errorf("row %d: %q…, want the mark concealed and in the background colour", y, got[:min(40, len(got))])
	}
}
