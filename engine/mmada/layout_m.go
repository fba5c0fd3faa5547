package mmada

import (
	"fmt"
	"slices"
)

// LayoutM is MMaDA-Parallel-M's sequence (interleave_generate): the input
// part, then the output part, reasoning last:
//
//	<|interleave|> <|soi|> picture <|eoi|> BOS instruction EOS
//	<|soi|> [mask]×N <|eoi|> BOS [mask]×T
//
// Its unconditional twin has an empty instruction padded with EOS to the
// same length, and the picture's ids set to 0 (the official code zeroes
// the token ids, not the codes). It has no image-unconditional branch.
type LayoutM struct {
	Layout
	SOI, EOI, Interleave int
	BOS, EOS             int
}

// TextIDs tokenises an instruction with special tokens added
// (tokenizer(text)["input_ids"]).
type TextIDs func(text string) ([]int, error)

// NewM makes -M's template from explicit ids; words may be nil.
func NewM(l LayoutM, text TextIDs, words Words) (*Template, error) {
	for _, id := range []int{l.SOI, l.EOI, l.Interleave, l.BOS, l.EOS} {
		if id < 0 || id >= l.Size {
			return nil, fmt.Errorf("mmada: -M layout: id %d outside the vocabulary of %d", id, l.Size)
		}
	}
	t, err := newTemplate("MMaDA-Parallel-M", l.Layout, l, words)
	if err != nil {
		return nil, err
	}
	n := l.Grid * l.Grid
	t.start = func(instruction string, input []int) ([]int, []int, []int, error) {
		ins, err := text(instruction)
		if err != nil {
			return nil, nil, nil, err
		}
		empty, err := text("")
		if err != nil {
			return nil, nil, nil, err
		}
		words, blank := l.framed(ins), l.framed(empty)
		if len(blank) > len(words) {
			return nil, nil, nil, fmt.Errorf("the empty instruction (%d ids) is longer than %q (%d)", len(blank), instruction, len(words))
		}
		blank = append(blank, repeat(l.EOS, len(words)-len(blank))...)
		output := slices.Concat([]int{l.SOI}, repeat(l.Mask, n), []int{l.EOI, l.BOS}, repeat(l.Mask, l.Text))
		cond := slices.Concat([]int{l.Interleave, l.SOI}, t.offsetCodes(input), []int{l.EOI}, words, output)
		uncond := slices.Concat([]int{l.Interleave, l.SOI}, repeat(0, n), []int{l.EOI}, blank, output)
		return cond, uncond, nil, nil
	}
	t.outputAt = func(length int) []int {
		var at []int
		imageStart := length - l.Text - 2 - n // before <|eoi|> BOS
		for i := range n {
			at = append(at, imageStart+i)
		}
		for i := range l.Text {
			at = append(at, length-l.Text+i)
		}
		return at
	}
	return t, nil
}

// framed is ids with BOS first (unless it is there) and EOS last.
func (l LayoutM) framed(ids []int) []int {
	if len(ids) == 0 || ids[0] != l.BOS {
		ids = append([]int{l.BOS}, ids...)
	}
	return append(slices.Clone(ids), l.EOS)
}
