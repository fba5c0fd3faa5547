package imgtok

import (
	"fmt"
	"image"

	"parascope/engine/conv"
)

// Values turns an RGBA picture into a network's input as torchvision's
// ToTensor and Normalize(mean, std) do: each channel byte over 255, less
// mean, over std.
func Values(img *image.RGBA, mean, std float32) conv.Tensor {
	b := img.Bounds()
	t := conv.New(b.Dy(), b.Dx(), 3)
	for y := range b.Dy() {
		for x := range b.Dx() {
			o := img.PixOffset(b.Min.X+x, b.Min.Y+y)
			for c := range 3 {
				t.Data[(y*b.Dx()+x)*3+c] = (float32(img.Pix[o+c])/255 - mean) / std
			}
		}
	}
	return t
}

// CheckValues refuses a network input that is not size×size×3. Errors
// start with name.
func CheckValues(name string, x conv.Tensor, size int) error {
	if x.H != size || x.W != size || x.C != 3 {
		return fmt.Errorf("%s: values are %d×%d×%d, want %d×%d×3", name, x.H, x.W, x.C, size, size)
	}
	return nil
}

// Pictures turns each picture of a decoder's output into pixels with
// picture, the model's post-processing.
func Pictures(v conv.Tensor, picture func(conv.Tensor) *image.RGBA) []*image.RGBA {
	out := make([]*image.RGBA, v.N)
	for i := range out {
		out[i] = picture(v.Image(i))
	}
	return out
}

// Picture turns a decoder's output into opaque pixels: each value v
// brought to (v−lo)/(hi−lo), clamped to [0, 1], times 255 in float32,
// then made a byte by toByte (the models' post-processing rounds or
// truncates).
func Picture(t conv.Tensor, lo, hi float32, toByte func(float32) uint8) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, t.W, t.H))
	for p := range t.H * t.W {
		for c := range 3 {
			img.Pix[p*4+c] = toByte(min(max((t.Data[p*3+c]-lo)/(hi-lo), 0), 1) * 255)
		}
		img.Pix[p*4+3] = 255
	}
	return img
}
