package sample

import (
	"image"

	"parascope/engine/world"
)

// The sampler and the views of its frames work with any model's tokenizers
// and layout through these interfaces; ShapeWorld's token.Vocab is a
// TextTokenizer and a Template, its vq.Codebook an ImageTokenizer.

// TextTokenizer turns text into vocabulary ids and names ids for display.
type TextTokenizer interface {
	Encode(text string) ([]int, error)
	Name(id int) string
}

// ImageTokenizer turns a picture into codebook indices and back. Decoding
// paints a masked (negative) code grey, or its guess dimmed where guesses
// (which may be nil) holds one.
type ImageTokenizer interface {
	Encode(img image.Image) ([]int, error)
	DecodeMasked(codes, guesses []int) (*image.RGBA, error)
	K() int // the number of codes
}

// Template is a model's sequence layout, as far as the sampler reads it.
// The output a frame holds is the image's ImageLen positions, then the
// reasoning's ReasoningLen.
type Template interface {
	Size() int   // the joint vocabulary's size: the width of a logit row
	MaskID() int // the id of a masked position
	// IsEnd reports whether id ends the text (end or padding): what EndLast
	// holds back and where the words stop.
	IsEnd(id int) bool
	ImageOffset() int // the id of image code 0
	Codes() int       // the number of image codes after it
	// TextChoices are the ids a reasoning position may take, in the order
	// the sampler breaks ties in; it must not change between calls.
	TextChoices() []int
	ImageLen() int
	ReasoningLen() int
	// Start lays out a prompt with every output position masked, and its
	// unconditional twins, the branches guidance steers away from: uncond
	// without the instruction, and uncondImage without the input picture
	// (which image.cfg_img weighs; nil when the layout has none). All are
	// of one length, with the output at the same positions.
	Start(task world.Task, instruction string, input []int) (cond, uncond, uncondImage []int, err error)
	// Positions is where each output index sits in the sequences of
	// length n that Start lays out for task: the image's ImageLen
	// positions, then the reasoning's ReasoningLen.
	Positions(task world.Task, n int) []int
	// Hash identifies the vocabulary: a trace made with one must not be
	// read with another.
	Hash() string
}

// Vocabulary is what showing a frame's text needs: the layout, and the
// names of its ids.
type Vocabulary interface {
	Template
	TextTokenizer
}

// isImage reports whether id is one of t's image codes.
func isImage(t Template, id int) bool {
	return id >= t.ImageOffset() && id < t.ImageOffset()+t.Codes()
}
