package magvit

import (
	"image"
	"image/color"

	xdraw "golang.org/x/image/draw"

	"parascope/engine/conv"
	"parascope/engine/imgtok"
)

// Pixels brings a picture to size×size as MMaDA-Parallel-M's
// pre-processing does (convert("RGB"), then image_transform_squash):
// transparency dropped, the stored colour kept, and the whole picture
// squashed to size×size whatever its aspect (bicubic; here x/image's
// Catmull-Rom, PIL's kernel but not its rounding). A picture that is
// already size×size is used as it is.
func Pixels(img image.Image, size int) *image.RGBA {
	b := img.Bounds()
	rgb := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			rgb.SetRGBA(x, y, color.RGBA{c.R, c.G, c.B, 255})
		}
	}
	if b.Dx() == size && b.Dy() == size {
		return rgb
	}
	out := image.NewRGBA(image.Rect(0, 0, size, size))
	xdraw.CatmullRom.Scale(out, out.Bounds(), rgb, rgb.Bounds(), xdraw.Src, nil)
	return out
}

// Values turns an RGBA picture into the network's input as ToTensor and
// Normalize(0.5, 0.5) do: each channel byte over 255, less 0.5, over 0.5.
func Values(img *image.RGBA) conv.Tensor { return imgtok.Values(img, 0.5, 0.5) }

// Picture turns the decoder's output into pixels as the official
// post-processing does: (x+1)/2 clamped to [0, 1], times 255 in float32,
// then truncated to a byte (numpy's astype(uint8)), not rounded.
func Picture(t conv.Tensor) *image.RGBA {
	return imgtok.Picture(t, -1, 1, func(v float32) uint8 { return uint8(v) })
}
