package viz

import (
	"image"
	"image/color"
	"strconv"
)

// ColorProfile is how many colours a terminal can show, which decides the
// escape codes HalfBlocks writes.
type ColorProfile int

const (
	TrueColor ColorProfile = iota // 24-bit colour: 38;2;r;g;b
	ANSI256                       // the xterm 256-colour palette: 38;5;n
	ANSI                          // the 16 basic colours: 30–37, 90–97
	NoColor                       // no escape codes at all
)

// shades run from dark to light, for NoColor.
var shades = []rune(" ░▒▓█")

// HalfBlocks draws img in cols×rows terminal cells, one string per row.
// The picture is resampled (nearest neighbour) to cols×2·rows pixels; each
// cell is an upper half block with the upper pixel as foreground and the
// lower as background, so cells that are roughly square show square
// pixels. Colour codes are written only where they change along a row,
// and every row ends with an SGR reset, so no colour leaks past it.
//
// NoColor writes no escape codes (for NO_COLOR and dumb terminals): each
// cell is a shading character for the mean luminance of its two pixels,
// so shapes on the dark ShapeWorld canvas still show. Each row is exactly
// cols cells wide in every profile. An empty picture or size gives nil.
func HalfBlocks(img image.Image, cols, rows int, profile ColorProfile) []string {
	b := img.Bounds()
	if cols <= 0 || rows <= 0 || b.Empty() {
		return nil
	}
	at := func(cx, py int) color.RGBA {
		return rgbAt(img, b.Min.X+cx*b.Dx()/cols, b.Min.Y+py*b.Dy()/(2*rows))
	}
	lines := make([]string, rows)
	var buf []byte
	for r := range rows {
		buf = buf[:0]
		prevFg, prevBg := -1, -1
		for c := range cols {
			up, lo := at(c, 2*r), at(c, 2*r+1)
			if profile == NoColor {
				level := (luma(up) + luma(lo)) / 2 * len(shades) / 256
				buf = append(buf, string(shades[level])...)
				continue
			}
			fg, bg := colourKey(up, profile), colourKey(lo, profile)
			if fg != prevFg || bg != prevBg {
				buf = append(buf, "\x1b["...)
				if fg != prevFg {
					buf = appendSGR(buf, fg, profile, false)
				}
				if bg != prevBg {
					if fg != prevFg {
						buf = append(buf, ';')
					}
					buf = appendSGR(buf, bg, profile, true)
				}
				buf = append(buf, 'm')
				prevFg, prevBg = fg, bg
			}
			buf = append(buf, "▀"...)
		}
		if profile != NoColor {
			buf = append(buf, "\x1b[0m"...)
		}
		lines[r] = string(buf)
	}
	return lines
}

// luma is the Rec. 601 luminance of c, 0–255.
func luma(c color.RGBA) int {
	return (299*int(c.R) + 587*int(c.G) + 114*int(c.B)) / 1000
}

// colourKey is c as the profile will show it: 0xRRGGBB for TrueColor, a
// palette index otherwise. Equal keys need no new escape code.
func colourKey(c color.RGBA, profile ColorProfile) int {
	switch profile {
	case ANSI256:
		return xterm256(c)
	case ANSI:
		return int(ansiIndex(c))
	}
	return int(c.R)<<16 | int(c.G)<<8 | int(c.B)
}

// appendSGR writes the SGR parameters that set the foreground (or, with
// bg, the background) to a colour key from colourKey.
func appendSGR(buf []byte, key int, profile ColorProfile, bg bool) []byte {
	switch profile {
	case ANSI256, TrueColor:
		if bg {
			buf = append(buf, '4')
		} else {
			buf = append(buf, '3')
		}
		if profile == ANSI256 {
			buf = append(buf, "8;5;"...)
			return strconv.AppendInt(buf, int64(key), 10)
		}
		buf = append(buf, "8;2;"...)
		buf = strconv.AppendInt(buf, int64(key>>16), 10)
		buf = append(buf, ';')
		buf = strconv.AppendInt(buf, int64(key>>8&0xff), 10)
		buf = append(buf, ';')
		return strconv.AppendInt(buf, int64(key&0xff), 10)
	}
	// ANSI: 30–37 and 90–97 for the foreground, 40–47 and 100–107 behind.
	code := 30 + key
	if key >= 8 {
		code = 90 + key - 8
	}
	if bg {
		code += 10
	}
	return strconv.AppendInt(buf, int64(code), 10)
}

// cubeLevels are the channel values of xterm's 6×6×6 colour cube.
var cubeLevels = [6]uint8{0, 95, 135, 175, 215, 255}

// xterm256 returns the nearest colour of xterm's 256-colour palette among
// the colour cube (16–231) and the grey ramp (232–255). The 16 basic
// colours are left out: themes change them.
func xterm256(c color.RGBA) int {
	// The cube's nearest point is the nearest level in each channel.
	level := func(v uint8) int {
		switch {
		case v < 48:
			return 0
		case v < 115:
			return 1
		}
		return 2 + (int(v)-115)/40
	}
	r, g, b := level(c.R), level(c.G), level(c.B)
	cube := color.RGBA{cubeLevels[r], cubeLevels[g], cubeLevels[b], 255}

	// The nearest grey (8, 18, …, 238) is the one nearest the mean.
	sum := int(c.R) + int(c.G) + int(c.B)
	k := min(max((sum-24+15)/30, 0), 23)
	v := uint8(8 + 10*k)
	if distRGB(color.RGBA{v, v, v, 255}, c) < distRGB(cube, c) {
		return 232 + k
	}
	return 16 + 36*r + 6*g + b
}
