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
func (v *Vocab) Start(task world.Task, instruction string, input []int) (cond, uncond []int, err error) {
	seq, err := v.Masked(Parts{Task: task, Input: input, Instruction: instruction})
	if err != nil {
		return nil, nil, err
	}
	return seq.IDs, Unconditional(seq).IDs, nil
}

// OutputAt is where a task's output image and reasoning begin.
func (v *Vocab) OutputAt(task world.Task) (image, text int) {
	l := LayoutFor(task)
	return l.OutputImage.Start, l.OutputText.Start
}
