package viz

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"parascope/engine/sample"
	"parascope/engine/world"
)

// Colours of the exported pictures around the images. The paper is lighter
// than world.Background so each picture's edge stays visible.
var (
	paper     = color.RGBA{44, 46, 58, 255}
	inkLight  = color.RGBA{225, 228, 235, 255} // revealed words, labels
	inkNew    = color.RGBA{255, 196, 64, 255}  // words revealed at this step
	inkHeader = color.RGBA{150, 154, 170, 255}
)

// The bitmap font is monospaced, so text lays out on a grid of glyph cells.
var (
	face   = basicfont.Face7x13
	glyphW = face.Advance
	glyphH = face.Height
)

// drawText draws s with its first glyph cell's top-left corner at (x, y).
func drawText(dst draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y+face.Ascent)}
	d.DrawString(s)
}

// textWidth is the width of s in pixels.
func textWidth(s string) int { return utf8.RuneCountInString(s) * glyphW }

// upscale copies src into dst at (x0, y0), each pixel as a scale×scale
// block.
func upscale(dst *image.RGBA, x0, y0 int, src *image.RGBA, scale int) {
	b := src.Bounds()
	for y := range b.Dy() * scale {
		for x := range b.Dx() * scale {
			dst.SetRGBA(x0+x, y0+y, src.RGBAAt(b.Min.X+x/scale, b.Min.Y+y/scale))
		}
	}
}

// frameAt returns the frame of the given step.
func frameAt(frames []sample.Frame, step int) (sample.Frame, bool) {
	for _, f := range frames {
		if f.Step == step {
			return f, true
		}
	}
	return sample.Frame{}, false
}

// Strip draws the picture at each of the chosen steps, in the order given,
// side by side, each scaled up by scale and labelled "step N" underneath,
// then the caption's lines, wrapped to the strip's width. Masked patches
// are grey; guesses are not shown.
func Strip(frames []sample.Frame, steps []int, t sample.Template, cb sample.ImageTokenizer, scale int, caption ...string) (*image.RGBA, error) {
	if len(steps) == 0 {
		return nil, errors.New("viz: strip: no steps chosen")
	}
	scale = max(scale, 1)
	const gap = 8
	pics := make([]*image.RGBA, len(steps))
	labels := make([]string, len(steps))
	side := world.Canvas * scale
	cell := side // wide enough for the picture and its label
	for i, s := range steps {
		f, ok := frameAt(frames, s)
		if !ok {
			return nil, fmt.Errorf("viz: strip: step %d is not among the %d frames", s, len(frames))
		}
		pic, err := Picture(f, t, cb, false)
		if err != nil {
			return nil, fmt.Errorf("viz: strip: %w", err)
		}
		pics[i], labels[i] = pic, fmt.Sprintf("step %d", s)
		cell = max(cell, textWidth(labels[i]))
	}
	width := gap + len(steps)*(cell+gap)
	var lines [][]string
	for _, c := range caption {
		lines = append(lines, wrapWords(strings.Fields(c), max((width-2*gap)/glyphW, 1))...)
	}
	lineH := glyphH + lineSpacing
	top := gap + side + gap/2 + glyphH + gap // below the labels
	out := image.NewRGBA(image.Rect(0, 0, width, top+len(lines)*lineH))
	draw.Draw(out, out.Bounds(), image.NewUniform(paper), image.Point{}, draw.Src)
	for i, pic := range pics {
		x0 := gap + i*(cell+gap)
		upscale(out, x0+(cell-side)/2, gap, pic, scale)
		drawText(out, x0+(cell-textWidth(labels[i]))/2, gap+side+gap/2, labels[i], inkLight)
	}
	for i, line := range lines {
		drawText(out, gap, top+i*lineH, strings.Join(line, " "), inkHeader)
	}
	return out, nil
}
