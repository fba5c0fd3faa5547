package mmada

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"parascope/engine/world"
)

// Template is one variant's sequence layout (sample.Template) and the
// names of its ids (sample.TextTokenizer). NewA and NewM make it from
// explicit ids, so that the real folders and a test's small layouts run
// the same code.
type Template struct {
	name          string // the variant, for errors and Hash
	size, mask    int
	offset, codes int
	grid, textLen int
	ends          map[int]bool
	choices       []int
	hash          string
	words         Words // nil: ids are named by number

	// The variant's layout: its sequences, and where the output sits in
	// a sequence of a given length.
	start    func(instruction string, input []int) (cond, uncond, uncondImage []int, err error)
	outputAt func(length int) []int
}

// Words is what a template asks of a text tokenizer; *hftok.Tokenizer
// has it.
type Words interface {
	Encode(text string, addSpecial bool) []int
	Decode(ids []int, skipSpecial bool) string
	TokenBytes(id int) ([]byte, bool)
}

// Layout is what every variant's layout has: the vocabulary's ids and
// the output's sizes.
type Layout struct {
	Size   int // the vocabulary's width: a logit row
	Mask   int
	Offset int   // the id of image code 0
	Codes  int   // K, the codebook's size
	Grid   int   // the side of the image's code grid
	Text   int   // T, the reasoning's length
	Ends   []int // the ids IsEnd accepts: end, padding
	// Tokenizer identifies the tokenizer file (a digest), for Hash.
	Tokenizer string
}

func (c Layout) check() error {
	switch {
	case c.Offset <= 0 || c.Codes <= 0 || c.Offset+c.Codes > c.Size:
		return fmt.Errorf("image codes %d..%d outside the vocabulary of %d", c.Offset, c.Offset+c.Codes-1, c.Size)
	case c.Mask < 0 || c.Mask >= c.Size || (c.Mask >= c.Offset && c.Mask < c.Offset+c.Codes):
		return fmt.Errorf("mask id %d is outside the vocabulary of %d or an image code", c.Mask, c.Size)
	case c.Grid <= 0 || c.Text <= 0:
		return fmt.Errorf("grid %d and text length %d must be positive", c.Grid, c.Text)
	}
	return nil
}

func newTemplate(name string, c Layout, layout any, words Words) (*Template, error) {
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("mmada: %s layout: %w", name, err)
	}
	t := &Template{size: c.Size, mask: c.Mask, offset: c.Offset, codes: c.Codes, grid: c.Grid, textLen: c.Text,
		ends: map[int]bool{}, words: words, name: name}
	for _, id := range c.Ends {
		t.ends[id] = true
	}
	// Every text id may be a reasoning token but the mask, in id order
	// (the official samplers take the argmax over the whole row).
	for id := range c.Offset {
		if id != c.Mask {
			t.choices = append(t.choices, id)
		}
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s %+v", name, layout))
	t.hash = name + ":" + hex.EncodeToString(sum[:8])
	return t, nil
}

// Size is the joint vocabulary's width.
func (t *Template) Size() int { return t.size }

// MaskID is the id of a masked position.
func (t *Template) MaskID() int { return t.mask }

// IsEnd reports whether id ends the text: the tokenizer's end and pad
// tokens, and for -A the answer's end.
func (t *Template) IsEnd(id int) bool { return t.ends[id] }

// ImageOffset is the id of image code 0.
func (t *Template) ImageOffset() int { return t.offset }

// Codes is the number of image codes.
func (t *Template) Codes() int { return t.codes }

// TextChoices are every id below the image offset but the mask.
func (t *Template) TextChoices() []int { return t.choices }

// ImageLen is the number of image codes of the output: grid².
func (t *Template) ImageLen() int { return t.grid * t.grid }

// ReasoningLen is the reasoning's length T.
func (t *Template) ReasoningLen() int { return t.textLen }

// Grid is the side of the image's code grid.
func (t *Template) Grid() int { return t.grid }

// Hash identifies the tokenizer, the ids and the sizes.
func (t *Template) Hash() string { return t.hash }

// Start lays out the conditional sequence and its unconditional twins
// for an edit of input (raw codes 0..K-1, the template adds the offset).
// Both published inference scripts edit a picture, so a task without one
// is refused.
func (t *Template) Start(task world.Task, instruction string, input []int) (cond, uncond, uncondImage []int, err error) {
	if task != world.ThinkEdit {
		return nil, nil, nil, fmt.Errorf("mmada: %s edits a picture (task %v); it has no layout for generation without one", t.name, task)
	}
	if len(input) != t.grid*t.grid {
		return nil, nil, nil, fmt.Errorf("mmada: %d input codes, want %d (a %d×%d grid)", len(input), t.grid*t.grid, t.grid, t.grid)
	}
	for i, k := range input {
		if k < 0 || k >= t.codes {
			return nil, nil, nil, fmt.Errorf("mmada: input code %d at %d outside 0..%d", k, i, t.codes-1)
		}
	}
	cond, uncond, uncondImage, err = t.start(instruction, input)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("mmada: %s: %w", t.name, err)
	}
	return cond, uncond, uncondImage, nil
}

// Positions is where the output sits in sequences of length n laid out
// by Start: the image's positions in raster order, then the reasoning's.
// Both layouts keep the output at the end, after a prompt whose length
// depends on the instruction.
func (t *Template) Positions(_ world.Task, n int) []int { return t.outputAt(n) }

// offsetCodes returns codes shifted to their ids.
func (t *Template) offsetCodes(codes []int) []int {
	out := slices.Clone(codes)
	for i := range out {
		out[i] += t.offset
	}
	return out
}

// repeat is n copies of id.
func repeat(id, n int) []int { return slices.Repeat([]int{id}, n) }
