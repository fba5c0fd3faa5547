package viz

import (
	"image"
	"image/color"
)

// maxRegisters is the most colours a sixel image may define: the usual
// limit of terminals' colour registers, and of a paletted PNG.
const maxRegisters = 256

// rgbAt reads the pixel at (x, y) as 8-bit RGB. Alpha is ignored: the
// pictures drawn here are opaque.
func rgbAt(img image.Image, x, y int) color.RGBA {
	if m, ok := img.(*image.RGBA); ok {
		i := m.PixOffset(x, y)
		return color.RGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], 255}
	}
	c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
	c.A = 255
	return c
}

// indexed is a picture as indices into a short table of its colours.
type indexed struct {
	w, h  int
	pix   []uint8      // row-major, w*h entries
	pal   []color.RGBA // in first-seen order, raster scan
	exact bool         // every pixel has its own colour in pal
}

// indexColours gives each distinct colour of img an index in first-seen
// order. ShapeWorld pictures hold a few dozen colours at most, so there is
// no quantisation: past maxRegisters distinct colours, a new colour takes
// the nearest of the first maxRegisters (and exact is false).
func indexColours(img image.Image) indexed {
	b := img.Bounds()
	out := indexed{w: b.Dx(), h: b.Dy(), pix: make([]uint8, b.Dx()*b.Dy()), exact: true}
	seen := make(map[color.RGBA]uint8)
	var last color.RGBA
	var lastIdx uint8
	for y := range out.h {
		for x := range out.w {
			c := rgbAt(img, b.Min.X+x, b.Min.Y+y)
			// Runs of one colour are the rule: skip the map for them.
			if x+y > 0 && c == last {
				out.pix[y*out.w+x] = lastIdx
				continue
			}
			n, ok := seen[c]
			if !ok {
				if len(out.pal) < maxRegisters {
					n = uint8(len(out.pal))
					out.pal = append(out.pal, c)
				} else {
					n = nearest(out.pal, c)
					out.exact = false
				}
				seen[c] = n
			}
			out.pix[y*out.w+x] = n
			last, lastIdx = c, n
		}
	}
	return out
}

// nearest returns the index of the colour in pal closest to c in RGB
// (squared Euclidean distance; the first wins a tie).
func nearest(pal []color.RGBA, c color.RGBA) uint8 {
	best, bestD := 0, -1
	for i, p := range pal {
		if d := distRGB(p, c); bestD < 0 || d < bestD {
			best, bestD = i, d
		}
	}
	return uint8(best)
}

func distRGB(a, b color.RGBA) int {
	dr, dg, db := int(a.R)-int(b.R), int(a.G)-int(b.G), int(a.B)-int(b.B)
	return dr*dr + dg*dg + db*db
}
