package mmada

import (
	"fmt"
	"slices"
)

// LayoutA is MMaDA-Parallel-A's sequence (generate_ti2ti and the
// inference script that feeds it): the prompt with the input picture
// spliced in before its last token, then the answer:
//
//	prompt[:-1] <boi> picture-with-newlines <eoi> prompt[-1:]
//	<answer> <boi> masks-with-newlines <eoi> [mask]×T end
//
// where a newline id closes each row of the grid.
type LayoutA struct {
	Layout
	Newline, BOI, EOI int
	BOA               int   // the answer's start
	End               []int // "</answer>" tokenised without special tokens
}

// PromptsA tokenises the conditional and unconditional prompts for an
// instruction, special tokens added (the tokenizer's BOS first).
type PromptsA func(instruction string) (cond, uncond []int, err error)

// NewA makes -A's template from explicit ids; words may be nil.
func NewA(l LayoutA, prompts PromptsA, words Words) (*Template, error) {
	for _, id := range append([]int{l.Newline, l.BOI, l.EOI, l.BOA}, l.End...) {
		if id < 0 || id >= l.Size {
			return nil, fmt.Errorf("mmada: -A layout: id %d outside the vocabulary of %d", id, l.Size)
		}
	}
	if len(l.End) == 0 {
		return nil, fmt.Errorf("mmada: -A layout: \"</answer>\" has no ids")
	}
	t, err := newTemplate("MMaDA-Parallel-A", l.Layout, l, words)
	if err != nil {
		return nil, err
	}
	t.start = func(instruction string, input []int) ([]int, []int, []int, error) {
		prompt, un, err := prompts(instruction)
		if err != nil {
			return nil, nil, nil, err
		}
		if len(prompt) == 0 || len(un) == 0 {
			return nil, nil, nil, fmt.Errorf("an empty prompt has no last token to put the picture before")
		}
		picture := slices.Concat([]int{l.BOI}, l.rows(t.offsetCodes(input)), []int{l.EOI})
		answer := slices.Concat([]int{l.BOA, l.BOI}, l.rows(repeat(l.Mask, l.Grid*l.Grid)), []int{l.EOI},
			repeat(l.Mask, l.Text), l.End)
		cond := slices.Concat(prompt[:len(prompt)-1], picture, prompt[len(prompt)-1:], answer)
		// The text-unconditional branch puts the unconditional prompt (with
		// the picture) over the start of cond; the image-unconditional one
		// puts the bare prompt there. Both keep the rest of cond, so all
		// three have one length and the output at the same positions. (A
		// longer unconditional head covers the answer's first ids, as the
		// official code's does.)
		uncondText := overwrite(cond, slices.Concat(un[:len(un)-1], picture, un[len(un)-1:]))
		uncondImage := overwrite(cond, prompt)
		if uncondText == nil {
			return nil, nil, nil, fmt.Errorf("the unconditional prompt (%d ids) does not fit in the sequence (%d)", len(un), len(cond))
		}
		return cond, uncondText, uncondImage, nil
	}
	t.outputAt = func(n int) []int {
		textStart := n - len(l.End) - l.Text
		imageStart := textStart - 1 - l.Grid*(l.Grid+1) // before the output <eoi>
		var at []int
		for i := range l.Grid * (l.Grid + 1) {
			if i%(l.Grid+1) != l.Grid { // not a row's newline
				at = append(at, imageStart+i)
			}
		}
		for i := range l.Text {
			at = append(at, textStart+i)
		}
		return at
	}
	return t, nil
}

// rows closes each row of a grid of ids with the newline id
// (add_break_line).
func (l LayoutA) rows(ids []int) []int {
	var out []int
	for r := range l.Grid {
		out = append(out, ids[r*l.Grid:(r+1)*l.Grid]...)
		out = append(out, l.Newline)
	}
	return out
}

// overwrite returns a copy of seq with head over its start; nil if head
// is longer.
func overwrite(seq, head []int) []int {
	if len(head) > len(seq) {
		return nil
	}
	out := slices.Clone(seq)
	copy(out, head)
	return out
}
