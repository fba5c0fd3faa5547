package sample

import (
	"fmt"
	"image"
	"strings"

	"parascope/engine/token"
	"parascope/engine/vq"
)

// Frame is the state of the output after one step: data, not colours.
// Positions index the output: the image's patches in raster order, then
// the reasoning span's positions.
type Frame struct {
	Step int `json:"step"` // 0 is the all-masked start
	// Tokens holds the vocabulary id at every output position, or
	// token.Mask while the position is masked.
	Tokens []int32 `json:"tokens"`
	// RevealedAt is the step that committed each position, -1 while masked.
	RevealedAt []int16 `json:"revealed_at"`
	// Confidence is the remasking score a position had when committed (0
	// while masked): what the rule ranked it by.
	Confidence []float32 `json:"confidence"`
	// Guess is the model's most likely token at every position at this
	// step; for a revealed position it is the committed token.
	Guess []int32 `json:"guess"`
	// Scheduled and revealed counts so far, per modality.
	Text  Count `json:"text"`
	Image Count `json:"image"`
	// Alignment is the text–picture agreement of this step's partial
	// output, when the stepper has a scorer.
	Alignment *float64 `json:"alignment,omitempty"`
	// Nanos is the step's wall time. It is a measurement, not part of the
	// trajectory: traces leave it out so a run reproduces byte for byte.
	Nanos int64 `json:"-"`
}

// Count compares the schedule with what happened.
type Count struct {
	Target int `json:"target"` // positions the schedule meant to reveal by now
	Actual int `json:"actual"` // positions revealed by now
	Total  int `json:"total"`
}

// ImageTokens is the number of image positions at the start of a frame.
const ImageTokens = token.ImageTokens

// ImageCodes returns the image's codebook indices, -1 where masked.
func (f Frame) ImageCodes(v *token.Vocab) []int { return imageCodes(f.Tokens, v) }

// imageCodes returns the codebook indices of the image positions of ids,
// -1 where an id is not an image token.
func imageCodes(ids []int32, v *token.Vocab) []int {
	out := make([]int, ImageTokens)
	for i, id := range ids[:ImageTokens] {
		out[i] = -1
		if v.IsImage(int(id)) {
			out[i] = int(id) - v.ImageOffset()
		}
	}
	return out
}

// GuessCodes returns the model's current best image, every patch filled.
func (f Frame) GuessCodes(v *token.Vocab) []int {
	out := make([]int, ImageTokens)
	for i, id := range f.Guess[:ImageTokens] {
		out[i] = max(0, int(id)-v.ImageOffset())
	}
	return out
}

// TextTokens returns the reasoning span's ids.
func (f Frame) TextTokens() []int32 { return f.Tokens[ImageTokens:] }

// Words renders the reasoning span up to its end token, masked positions
// as [MASK]: the text as it stands at this step.
func (f Frame) Words(v *token.Vocab) []string {
	var out []string
	for _, id := range f.TextTokens() {
		if id == token.EOS || id == token.Pad {
			break
		}
		out = append(out, v.Name(int(id)))
	}
	return out
}

// Reasoning is the text as it stands: the words before the end token.
func (f Frame) Reasoning(v *token.Vocab) string { return strings.Join(f.Words(v), " ") }

// MaskedText is the reasoning as it stands, each masked position shown as
// placeholder.
func (f Frame) MaskedText(v *token.Vocab, placeholder string) string {
	words := f.Words(v)
	for i, w := range words {
		if w == v.Name(token.Mask) {
			words[i] = placeholder
		}
	}
	return strings.Join(words, " ")
}

// Picture is the output image as it stands: revealed patches decoded,
// masked patches painted world.MaskGrey, as the viewer shows them and the
// alignment scorer reads them.
func (f Frame) Picture(v *token.Vocab, cb *vq.Codebook) (*image.RGBA, error) {
	return f.picture(v, cb, false)
}

// GuessPicture is Picture with each masked patch showing the model's
// current guess for it, dimmed (vq.Dimmed); a guess that is not an image
// code leaves the patch grey.
func (f Frame) GuessPicture(v *token.Vocab, cb *vq.Codebook) (*image.RGBA, error) {
	return f.picture(v, cb, true)
}

func (f Frame) picture(v *token.Vocab, cb *vq.Codebook, guesses bool) (*image.RGBA, error) {
	if len(f.Tokens) < ImageTokens {
		return nil, fmt.Errorf("step %d: %d tokens, want at least %d", f.Step, len(f.Tokens), ImageTokens)
	}
	var guess []int
	if guesses {
		if len(f.Guess) < ImageTokens {
			return nil, fmt.Errorf("step %d: %d guesses, want at least %d", f.Step, len(f.Guess), ImageTokens)
		}
		guess = imageCodes(f.Guess, v)
	}
	img, err := cb.DecodeMasked(f.ImageCodes(v), guess)
	if err != nil {
		return nil, fmt.Errorf("step %d: %w", f.Step, err)
	}
	return img, nil
}
