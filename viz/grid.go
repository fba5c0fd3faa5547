// Package viz draws pictures from engine data: pure functions of images,
// frames and scores, with no engine state.
package viz

import (
	"image"
	"image/color"
	"image/draw"
)

// Grid lays images out in rows of cols cells, each scaled up by an integer
// factor with nearest-neighbour sampling (pixel art stays crisp), with gap
// pixels of paper between cells. A nil image leaves its cell blank. Cells
// take the size of the largest image.
func Grid(images []image.Image, cols, scale, gap int, paper color.Color) *image.RGBA {
	cols, scale = max(cols, 1), max(scale, 1)
	cw, ch := 0, 0
	for _, img := range images {
		if img != nil {
			cw, ch = max(cw, img.Bounds().Dx()*scale), max(ch, img.Bounds().Dy()*scale)
		}
	}
	rows := (len(images) + cols - 1) / cols
	out := image.NewRGBA(image.Rect(0, 0, gap+cols*(cw+gap), gap+rows*(ch+gap)))
	draw.Draw(out, out.Bounds(), image.NewUniform(paper), image.Point{}, draw.Src)
	for i, img := range images {
		if img == nil {
			continue
		}
		x0, y0 := gap+(i%cols)*(cw+gap), gap+(i/cols)*(ch+gap)
		b := img.Bounds()
		for y := range b.Dy() * scale {
			for x := range b.Dx() * scale {
				out.Set(x0+x, y0+y, img.At(b.Min.X+x/scale, b.Min.Y+y/scale))
			}
		}
	}
	return out
}
