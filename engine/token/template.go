package token

import "parascope/engine/world"

// What a sampler asks of a sequence layout (sample.Template), answered
// for ShapeWorld's fixed layout.

// MaskID is the id of a masked position.
func (v *Vocab) MaskID() int { return Mask }

// IsEnd reports whether id ends a text span: <|eos|> or the padding after it.
func (v *Vocab) IsEnd(id int) bool { return id == EOS || id == Pad }

// TextChoices are the ids a reasoning position may take: the end and pad
// tokens, then every word.
func (v *Vocab) TextChoices() []int {
	ids := []int{EOS, Pad}
	for id := NumSpecial; id < v.ImageOffset(); id++ {
		ids = append(ids, id)
	}
	return ids
}

// ImageLen is the number of positions of the output image.
func (v *Vocab) ImageLen() int { return ImageTokens }

// ReasoningLen is the number of positions of the reasoning span.
func (v *Vocab) ReasoningLen() int { return ReasoningLen }

// Start lays out a prompt with every output position masked, and the same
// under the unconditional instruction, for guidance.
// ShapeWorld has no branch without the input picture.
func (v *Vocab) Start(task world.Task, instruction string, input []int) (cond, uncond, uncondImage []int, err error) {
	seq, err := v.Masked(Parts{Task: task, Input: input, Instruction: instruction})
	if err != nil {
		return nil, nil, nil, err
	}
	return seq.IDs, Unconditional(seq).IDs, nil, nil
}

// Positions is where a task's output image and reasoning sit: two runs
// of positions, whatever the instruction.
func (v *Vocab) Positions(task world.Task, _ int) []int {
	l := LayoutFor(task)
	var at []int
	for _, s := range []Span{l.OutputImage, l.OutputText} {
		for p := s.Start; p < s.End; p++ {
			at = append(at, p)
		}
	}
	return at
}
