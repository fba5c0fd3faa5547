package vqgan

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	xdraw "golang.org/x/image/draw"

	"parascope/engine/conv"
	"parascope/engine/imgtok"
)

// Pixels brings a picture to size×size as MMaDA-Parallel-A's
// pre-processing does for a square crop: transparency blended over
// white, the picture scaled so that its shorter side is size (bicubic,
// here x/image's Catmull-Rom, which is close to PIL's but not
// bit-identical), then the centre size×size cut out (the official code
// picks the window at random along the longer side). A picture that is
// already size×size is used as it is.
func Pixels(img image.Image, size int) *image.RGBA {
	b := img.Bounds()
	white := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(white, white.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(white, white.Bounds(), img, b.Min, draw.Over)
	w, h := b.Dx(), b.Dy()
	if w == size && h == size {
		return white
	}
	scale := max(float64(size)/float64(w), float64(size)/float64(h))
	sw, sh := max(size, int(math.Round(float64(w)*scale))), max(size, int(math.Round(float64(h)*scale)))
	scaled := image.NewRGBA(image.Rect(0, 0, sw, sh))
	xdraw.CatmullRom.Scale(scaled, scaled.Bounds(), white, white.Bounds(), xdraw.Src, nil)
	x0, y0 := (sw-size)/2, (sh-size)/2
	out := image.NewRGBA(image.Rect(0, 0, size, size))
	draw.Draw(out, out.Bounds(), scaled, image.Pt(x0, y0), draw.Src)
	return out
}

// Values turns an RGBA picture into the network's input: each channel
// byte divided by 255, as the pipelines' VaeImageProcessor with
// do_normalize=False does.
func Values(img *image.RGBA) conv.Tensor { return imgtok.Values(img, 0, 1) }

// Picture turns the decoder's output into pixels as the official
// post-processing does: clipped to [0, 1], times 255 in float32, rounded
// half to even.
func Picture(t conv.Tensor) *image.RGBA {
	return imgtok.Picture(t, 0, 1, func(v float32) uint8 { return uint8(math.RoundToEven(float64(v))) })
}
