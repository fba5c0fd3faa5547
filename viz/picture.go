package viz

import (
	"fmt"
	"image"
	"image/color"

	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// dim blends c halfway toward world.MaskGrey: a guess reads as provisional but
// keeps its hue.
func dim(c color.RGBA) color.RGBA {
	mix := func(a, b uint8) uint8 { return uint8((uint16(a) + uint16(b)) / 2) }
	return color.RGBA{mix(c.R, world.MaskGrey.R), mix(c.G, world.MaskGrey.G), mix(c.B, world.MaskGrey.B), 255}
}

// Picture draws the output image as it stands at frame f: revealed patches
// decoded from their codes, masked patches flat grey. With guesses, a
// masked patch shows the model's current guess instead, dimmed; a guess
// that is not an image code leaves the patch grey.
func Picture(f sample.Frame, v *token.Vocab, cb *vq.Codebook, guesses bool) (*image.RGBA, error) {
	if !guesses {
		return f.Picture(v, cb)
	}
	if len(f.Tokens) < sample.ImageTokens {
		return nil, fmt.Errorf("viz: step %d: %d tokens, want at least %d", f.Step, len(f.Tokens), sample.ImageTokens)
	}
	if guesses && len(f.Guess) < sample.ImageTokens {
		return nil, fmt.Errorf("viz: step %d: %d guesses, want at least %d", f.Step, len(f.Guess), sample.ImageTokens)
	}
	revealed := f.ImageCodes(v)
	codes := make([]int, len(revealed))
	guessed := make([]bool, len(revealed))
	for i, c := range revealed {
		switch {
		case c >= 0:
			codes[i] = c
		case guesses && v.IsImage(int(f.Guess[i])):
			codes[i] = int(f.Guess[i]) - v.ImageOffset()
			guessed[i] = true
		}
		// Otherwise code 0 stands in; the patch is painted over below.
	}
	img, err := cb.Decode(codes)
	if err != nil {
		return nil, fmt.Errorf("viz: step %d: %w", f.Step, err)
	}
	for i, c := range revealed {
		if c >= 0 {
			continue
		}
		x0, y0 := i%vq.PerSide*vq.PatchPx, i/vq.PerSide*vq.PatchPx
		for y := y0; y < y0+vq.PatchPx; y++ {
			for x := x0; x < x0+vq.PatchPx; x++ {
				if guessed[i] {
					img.SetRGBA(x, y, dim(img.RGBAAt(x, y)))
				} else {
					img.SetRGBA(x, y, world.MaskGrey)
				}
			}
		}
	}
	return img, nil
}
