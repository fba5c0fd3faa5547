package viz

import (
	"image"
	"image/color"

	"parascope/engine/sample"
	"parascope/engine/vq"
)

// dim is how a guessed pixel is shown (vq.Dimmed); the animation's palette
// holds the dimmed world colours so that guesses keep their exact colours.
func dim(c color.RGBA) color.RGBA { return vq.Dimmed(c) }

// Picture draws the output image as it stands at frame f: revealed patches
// decoded from their codes, masked patches flat grey. With guesses, a
// masked patch shows the model's current guess instead, dimmed; a guess
// that is not an image code leaves the patch grey. Both are drawn by
// the image tokenizer's DecodeMasked, as every view of a frame is.
func Picture(f sample.Frame, t sample.Template, cb sample.ImageTokenizer, guesses bool) (*image.RGBA, error) {
	if guesses {
		return f.GuessPicture(t, cb)
	}
	return f.Picture(t, cb)
}
