//go:build unix

package tui

import (
	"image"
	"os"

	"golang.org/x/sys/unix"
)

// ttyCellSize reads the size of a cell in pixels from the terminal's
// window size (TIOCGWINSZ) on the program's output, or else its input.
// ok is false when neither is a terminal or it reports no pixels.
func ttyCellSize() (cell image.Point, ok bool) {
	for _, f := range []*os.File{os.Stdout, os.Stdin} {
		ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
		if err == nil && ws.Col > 0 && ws.Row > 0 && ws.Xpixel > 0 && ws.Ypixel > 0 {
			return image.Pt(int(ws.Xpixel/ws.Col), int(ws.Ypixel/ws.Row)), true
		}
	}
	return image.Point{}, false
}
