package mmada

import (
	"slices"
	"testing"

	"parascope/engine/sample"
	"parascope/engine/world"
)

var (
	_ sample.Vocabulary     = (*Template)(nil)
	_ sample.ImageTokenizer = ImageTokenizer(nil)
)

// The spec's mini -A layout: V=640, MASK=600, NEWLINE=601, BOI=602,
// EOI=603, BOA=604, EOA=605, O=400, K=192, grid 6, T=24, end [605].
func miniA(t *testing.T, prompt, uncond []int) *Template {
	t.Helper()
	l := LayoutA{Layout: Layout{Size: 640, Mask: 600, Offset: 400, Codes: 192, Grid: 6, Text: 24, Ends: []int{605}},
		Newline: 601, BOI: 602, EOI: 603, BOA: 604, End: []int{605}}
	tm, err := NewA(l, func(string) ([]int, []int, error) { return prompt, uncond, nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// The spec's mini -M layout: V=640, O=400, MASK=600, SOI=380, EOI=381,
// INTERLEAVE=382, BOS=1, EOS=2, K=192, grid 6, T=24.
func miniM(t *testing.T, text map[string][]int) *Template {
	t.Helper()
	l := LayoutM{Layout: Layout{Size: 640, Mask: 600, Offset: 400, Codes: 192, Grid: 6, Text: 24, Ends: []int{2}},
		SOI: 380, EOI: 381, Interleave: 382, BOS: 1, EOS: 2}
	tm, err := NewM(l, func(s string) ([]int, error) { return text[s], nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func codes(n, k int) []int {
	c := make([]int, n)
	for i := range c {
		c[i] = (i*37 + 5) % k
	}
	return c
}

// breakLines is the official add_break_line, written out.
func breakLines(seq []int, h, w, nl int) []int {
	var out []int
	for i := 0; i < h; i++ {
		out = append(out, seq[i*w:i*w+w]...)
		out = append(out, nl)
	}
	return out
}

// expectA builds -A's sequences from the spec's formulas.
func expectA(prompt, uncond, input []int, g, T, O, mask, nl, boi, eoi, boa int, end []int) (cond, ut, ui, pos []int) {
	in := make([]int, len(input))
	for i, c := range input {
		in[i] = c + O
	}
	img := append(append([]int{boi}, breakLines(in, g, g, nl)...), eoi)
	masks := make([]int, g*g)
	for i := range masks {
		masks[i] = mask
	}
	cond = append(cond, prompt[:len(prompt)-1]...)
	cond = append(cond, img...)
	cond = append(cond, prompt[len(prompt)-1:]...)
	cond = append(cond, boa, boi)
	cond = append(cond, breakLines(masks, g, g, nl)...)
	cond = append(cond, eoi)
	for range T {
		cond = append(cond, mask)
	}
	cond = append(cond, end...)
	head := append(append(slices.Clone(uncond[:len(uncond)-1]), img...), uncond[len(uncond)-1:]...)
	ut = append(head, cond[len(head):]...)
	ui = append(slices.Clone(prompt), cond[len(prompt):]...)
	imageStart := len(prompt) + len(img) + 2
	for p := imageStart; p < imageStart+g*g+g; p++ {
		if cond[p] != nl {
			pos = append(pos, p)
		}
	}
	for p := imageStart + g*g + g + 1; p < imageStart+g*g+g+1+T; p++ {
		pos = append(pos, p)
	}
	return
}

func TestMiniA(t *testing.T) {
	for _, prompt := range [][]int{{1, 10, 11, 12, 13}, {1, 7}} {
		uncond := []int{1, 10, 20, 13}
		tm := miniA(t, prompt, uncond)
		in := codes(36, 192)
		cond, ut, ui, err := tm.Start(world.ThinkEdit, "x", in)
		if err != nil {
			t.Fatal(err)
		}
		wc, wut, wui, wpos := expectA(prompt, uncond, in, 6, 24, 400, 600, 601, 602, 603, 604, []int{605})
		if !slices.Equal(cond, wc) || !slices.Equal(ut, wut) || !slices.Equal(ui, wui) {
			t.Errorf("prompt %v:\ncond   %v\nwant   %v\nuncond %v\nwant   %v\nuimage %v\nwant   %v", prompt, cond, wc, ut, wut, ui, wui)
		}
		if got := tm.Positions(world.ThinkEdit, len(cond)); !slices.Equal(got, wpos) {
			t.Errorf("positions %v, want %v", got, wpos)
		}
		for _, p := range wpos {
			if cond[p] != 600 {
				t.Errorf("output position %d holds %d, not the mask", p, cond[p])
			}
		}
	}
}

// expectM builds -M's sequences from the spec's formulas.
func expectM(ins, empty, input []int, g, T, O, mask, soi, eoi, il, bos, eos int) (cond, uncond, pos []int) {
	frame := func(ids []int) []int {
		if len(ids) == 0 || ids[0] != bos {
			ids = append([]int{bos}, ids...)
		}
		return append(slices.Clone(ids), eos)
	}
	text, ut := frame(ins), frame(empty)
	for len(ut) < len(text) {
		ut = append(ut, eos)
	}
	n := g * g
	input2 := []int{il, soi}
	for _, c := range input {
		input2 = append(input2, c+O)
	}
	input2 = append(append(input2, eoi), text...)
	un := append(append(append([]int{il, soi}, make([]int, n)...), eoi), ut...)
	out := []int{soi}
	for range n {
		out = append(out, mask)
	}
	out = append(out, eoi, bos)
	for range T {
		out = append(out, mask)
	}
	cond, uncond = append(input2, out...), append(un, out...)
	for p := len(input2) + 1; p < len(input2)+1+n; p++ {
		pos = append(pos, p)
	}
	for p := len(cond) - T; p < len(cond); p++ {
		pos = append(pos, p)
	}
	return
}

func TestMiniM(t *testing.T) {
	text := map[string][]int{"a": {1, 30, 31, 32}, "b": {40}, "": {1}}
	tm := miniM(t, text)
	for _, ins := range []string{"a", "b"} {
		in := codes(36, 192)
		cond, un, ui, err := tm.Start(world.ThinkEdit, ins, in)
		if err != nil {
			t.Fatal(err)
		}
		wc, wu, wpos := expectM(text[ins], text[""], in, 6, 24, 400, 600, 380, 381, 382, 1, 2)
		if !slices.Equal(cond, wc) || !slices.Equal(un, wu) || ui != nil {
			t.Errorf("%q:\ncond   %v\nwant   %v\nuncond %v\nwant   %v\nuimage %v", ins, cond, wc, un, wu, ui)
		}
		if got := tm.Positions(world.ThinkEdit, len(cond)); !slices.Equal(got, wpos) {
			t.Errorf("positions %v, want %v", got, wpos)
		}
	}
}

func TestStartRefuses(t *testing.T) {
	tm := miniA(t, []int{1, 2}, []int{1, 2})
	for _, c := range []struct {
		task  world.Task
		input []int
	}{{world.ThinkGen, nil}, {world.ThinkEdit, codes(35, 192)}, {world.ThinkEdit, append(codes(35, 192), 192)}} {
		if _, _, _, err := tm.Start(c.task, "x", c.input); err == nil {
			t.Errorf("task %v, %d codes: no error", c.task, len(c.input))
		} else {
			t.Log(err)
		}
	}
}

func TestMiniVocabulary(t *testing.T) {
	tm := miniA(t, []int{1, 2}, []int{1, 2})
	ch := tm.TextChoices()
	if len(ch) != 400 || slices.Contains(ch, 600) || ch[0] != 0 || ch[len(ch)-1] != 399 {
		t.Errorf("TextChoices: %d ids from %d to %d", len(ch), ch[0], ch[len(ch)-1])
	}
	if tm.Size() != 640 || tm.ImageLen() != 36 || tm.ReasoningLen() != 24 || !tm.IsEnd(605) || tm.IsEnd(2) {
		t.Error("mini -A sizes or ends wrong")
	}
	if tm.Name(600) != "[mask]" || tm.Name(405) != "<img 5>" {
		t.Errorf("names %q %q", tm.Name(600), tm.Name(405))
	}
	m := miniM(t, map[string][]int{})
	if tm.Hash() == m.Hash() {
		t.Error("-A and -M share a hash")
	}
}
