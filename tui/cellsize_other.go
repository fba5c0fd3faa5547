//go:build !unix

package tui

import "image"

// ttyCellSize has no window size in pixels to read here: the terminal is
// asked instead (CSI 16 t).
func ttyCellSize() (image.Point, bool) { return image.Point{}, false }
