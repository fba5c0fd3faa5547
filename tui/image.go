package tui

import (
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"parascope/viz"
)

// Cell size in pixels when the terminal does not say (xterm's default
// font).
const cellW, cellH = 6, 13

// refreshImage schedules the picture to be sent again for sixel and kitty:
// a little after this frame, because raw bytes written in the same tick as
// the frame that blanks the rectangle would be painted over.
func (a *app) refreshImage() tea.Cmd {
	if a.preview == "blocks" || a.cmp != nil {
		return nil
	}
	a.imageGen++
	gen := a.imageGen
	return tea.Tick(50*time.Millisecond, func(time.Time) tea.Msg { return resendMsg{gen} })
}

// encodeImage encodes the shown picture off the UI goroutine and wraps it
// for writing into the rectangle: synchronized output, cursor saved,
// moved to the rectangle's corner, restored.
func (a *app) encodeImage() tea.Cmd {
	l := a.layout()
	img := a.picture(a.frames[min(a.shown, len(a.frames)-1)])
	gen, preview := a.imageGen, a.preview
	return func() tea.Msg {
		scale := max(1, min(l.imgCols*cellW, l.imgRows*cellH)/img.Bounds().Dx())
		var payload []byte
		if preview == "kitty" {
			payload = append(viz.KittyDelete(1), viz.Kitty(img, scale, 1)...)
		} else {
			payload = viz.Sixel(img, scale)
		}
		out := fmt.Appendf(nil, "\x1b[?2026h\x1b7\x1b[%d;%dH", l.imgTop+1, l.imgLeft+2)
		out = append(out, payload...)
		out = append(out, "\x1b8\x1b[?2026l"...)
		return imageMsg{gen, out}
	}
}
