package sample

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"parascope/engine/world"
)

// miniTemplate is a layout unlike ShapeWorld's in every respect the
// sampler reads: the mask is the last special, the ends sit among the
// words, image codes come before the mask with unused ids around them,
// and the output is 6 image positions and 8 of reasoning. Its sequence is
// task, instruction (3), <soi>, image, <eoi>, <bos>, reasoning.
type miniTemplate struct{}

const (
	miniEOS, miniPad      = 7, 8
	miniUncond            = 9
	miniWord0, miniWords  = 10, 10 // "a" … "j"
	miniOffset, miniCodes = 20, 12
	miniMask              = 40
	miniImageAt           = 5
	miniTextAt            = 13
	miniLen               = 21
)

func (miniTemplate) Size() int         { return 45 }
func (miniTemplate) MaskID() int       { return miniMask }
func (miniTemplate) IsEnd(id int) bool { return id == miniEOS || id == miniPad }
func (miniTemplate) ImageOffset() int  { return miniOffset }
func (miniTemplate) Codes() int        { return miniCodes }
func (miniTemplate) ImageLen() int     { return 6 }
func (miniTemplate) ReasoningLen() int { return 8 }
func (miniTemplate) Hash() string      { return "mini" }
func (miniTemplate) Positions(world.Task, int) []int {
	var at []int
	for o := range 6 {
		at = append(at, miniImageAt+o)
	}
	for o := range 8 {
		at = append(at, miniTextAt+o)
	}
	return at
}

func (miniTemplate) TextChoices() []int {
	var ids []int
	for id := miniWord0; id < miniWord0+miniWords; id++ {
		ids = append(ids, id)
	}
	return append(ids, miniEOS, miniPad)
}

func (m miniTemplate) Encode(text string) ([]int, error) {
	var ids []int
	for _, w := range strings.Fields(text) {
		if len(w) != 1 || w[0] < 'a' || w[0] >= 'a'+miniWords {
			return nil, fmt.Errorf("unknown word %q", w)
		}
		ids = append(ids, miniWord0+int(w[0]-'a'))
	}
	return ids, nil
}

func (m miniTemplate) Name(id int) string {
	switch {
	case id >= miniWord0 && id < miniWord0+miniWords:
		return string(rune('a' + id - miniWord0))
	case id == miniMask:
		return "<mask>"
	}
	return fmt.Sprintf("<%d>", id)
}

func (m miniTemplate) Start(_ world.Task, instruction string, _ []int) (cond, uncond, uncondImage []int, err error) {
	words, err := m.Encode(instruction)
	if err != nil || len(words) > 3 {
		return nil, nil, nil, fmt.Errorf("instruction %q: %v", instruction, err)
	}
	cond = make([]int, miniLen)
	cond[0], cond[4], cond[11], cond[12] = 1, 2, 3, 4
	for i := range 3 {
		cond[1+i] = miniPad
		if i < len(words) {
			cond[1+i] = words[i]
		}
	}
	for i := miniImageAt; i < miniImageAt+6; i++ {
		cond[i] = miniMask
	}
	for i := miniTextAt; i < miniLen; i++ {
		cond[i] = miniMask
	}
	uncond = slices.Clone(cond)
	uncond[1], uncond[2], uncond[3] = miniUncond, miniPad, miniPad
	return cond, uncond, nil, nil
}

// miniModel checks every input against the template's sequences and
// proposes a word at the first four reasoning positions and, far more
// confidently, the end at the rest; the mask id outscores everything, so
// a choice outside the template's shows at once.
type miniModel struct {
	t      *testing.T
	cond   []int
	uncond []int
	calls  int
}

func (m *miniModel) Logits(ids []int32, batch, seq int, sel []int32) ([]float32, error) {
	m.calls++
	if seq != miniLen || batch != 2 {
		m.t.Fatalf("model called with batch %d of length %d, want 2 of %d", batch, seq, miniLen)
	}
	for b, base := range [][]int{m.cond, m.uncond} {
		for p, id := range ids[b*seq : (b+1)*seq] {
			output := (p >= miniImageAt && p < miniImageAt+6) || p >= miniTextAt
			if !output && int(id) != base[p] {
				m.t.Fatalf("row %d position %d holds %d, want %d", b, p, id, base[p])
			}
		}
	}
	out := make([]float32, len(sel)*45)
	for j, s := range sel {
		row, p := out[j*45:(j+1)*45], int(s)%seq
		row[miniMask] = 100
		switch {
		case p >= miniTextAt+4:
			row[miniEOS] = 5
		case p >= miniTextAt:
			row[miniWord0+p-miniTextAt] = 1
		default:
			row[miniOffset+(p-miniImageAt)*2] = 3
		}
	}
	return out, nil
}

// The stepper runs on a template other than ShapeWorld's: it reads every
// id and size from the template, holds the ends back, and its frames
// come out in the template's terms.
func TestStepperOnAnotherTemplate(t *testing.T) {
	tmpl := miniTemplate{}
	cfg := Defaults()
	cfg.Steps, cfg.Text.Block, cfg.Text.CFG = 8, 8, 1
	p := Prompt{Task: world.ThinkGen, Instruction: "c a b"}
	cond, uncond, _, err := tmpl.Start(p.Task, p.Instruction, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := &miniModel{t: t, cond: cond, uncond: uncond}
	s, err := New(m, tmpl, cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	for !s.Done() {
		if _, err := s.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if m.calls == 0 {
		t.Fatal("the model was never asked")
	}
	choices := tmpl.TextChoices()
	for _, f := range s.History() {
		if len(f.Tokens) != 14 || f.Image.Total != 6 || f.Text.Total != 8 {
			t.Fatalf("step %d: %d tokens, totals %d and %d; want 14, 6 and 8", f.Step, len(f.Tokens), f.Image.Total, f.Text.Total)
		}
		for o, id := range f.Tokens {
			switch {
			case id == miniMask:
				if f.RevealedAt[o] != -1 {
					t.Fatalf("step %d: masked position %d revealed at %d", f.Step, o, f.RevealedAt[o])
				}
			case o < 6 && (id < miniOffset || id >= miniOffset+miniCodes):
				t.Fatalf("step %d: image position %d holds %d, not a code", f.Step, o, id)
			case o >= 6 && !slices.Contains(choices, int(id)):
				t.Fatalf("step %d: reasoning position %d holds %d, not a choice", f.Step, o, id)
			}
		}
	}
	last := s.Last()
	if slices.Contains(last.Tokens, miniMask) {
		t.Fatalf("the run ended with masks: %v", last.Tokens)
	}
	for o, c := range last.ImageCodes(tmpl) {
		if c != 2*o {
			t.Errorf("image code %d is %d, want %d", o, c, 2*o)
		}
	}
	// The ends are the more confident, yet every word commits first.
	for o := range 4 {
		for e := 4; e < 8; e++ {
			if w, end := last.RevealedAt[6+o], last.RevealedAt[6+e]; w >= end {
				t.Errorf("word %d revealed at step %d, not before the end at %d (step %d)", o, w, e, end)
			}
		}
	}
	if got := last.Reasoning(tmpl); got != "a b c d" {
		t.Errorf("reasoning %q, want %q", got, "a b c d")
	}
	var buf strings.Builder
	if err := WriteTrace(&buf, NewHeader(s, "mini", nil), s.History()); err != nil {
		t.Fatal(err)
	}
	if _, frames, err := ReadTrace(strings.NewReader(buf.String()), "mini.jsonl", tmpl); err != nil || len(frames) != len(s.History()) {
		t.Fatalf("trace read back %d frames of %d: %v", len(frames), len(s.History()), err)
	}
}
