package token

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"parascope/engine/world"
)

func TestVocabularyIsDisjointAndComplete(t *testing.T) {
	v := New(300)
	seen := map[string]int{}
	for id := range v.Size() {
		name := v.Name(id)
		if prev, dup := seen[name]; dup {
			t.Fatalf("ids %d and %d share the name %q", prev, id, name)
		}
		seen[name] = id
	}
	if v.Size() != NumSpecial+len(world.Words())+300 {
		t.Fatalf("size %d", v.Size())
	}
	if !v.IsImage(v.ImageOffset()) || v.IsImage(v.ImageOffset()-1) || v.IsImage(v.Size()) {
		t.Fatal("IsImage boundaries are wrong")
	}
}

func TestEncodeTextRoundTrip(t *testing.T) {
	v := New(10)
	for i := range 2000 {
		c := world.Generate(3, i, world.MixBoth)
		for _, text := range []string{c.Instruction, c.Reasoning} {
			ids, err := v.Encode(text)
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			if got := v.Text(ids); got != text {
				t.Fatalf("case %d: round trip\n got %q\nwant %q", i, got, text)
			}
		}
	}
}

func TestEncodeSplitsFullStops(t *testing.T) {
	v := New(10)
	a, err := v.Encode("the sky is blue.")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := v.Encode("the sky is blue .")
	if !slices.Equal(a, b) {
		t.Fatalf("%v != %v", a, b)
	}
}

func TestEncodeUnknownWordNamesIt(t *testing.T) {
	_, err := New(10).Encode("make the circle mauve")
	if err == nil || !strings.Contains(err.Error(), `"mauve"`) || !strings.Contains(err.Error(), "word 4") {
		t.Fatalf("got %v", err)
	}
}

// The layouts written out by hand from the sequence order.
func TestLayouts(t *testing.T) {
	edit := LayoutFor(world.ThinkEdit)
	wantEdit := Layout{Task: world.ThinkEdit, Len: 140,
		InputImage: Span{2, 38}, Instruction: Span{40, 61}, OutputImage: Span{62, 98}, OutputText: Span{100, 140}}
	if edit != wantEdit {
		t.Fatalf("thinkedit layout\n got %+v\nwant %+v", edit, wantEdit)
	}
	gen := LayoutFor(world.ThinkGen)
	wantGen := Layout{Task: world.ThinkGen, Len: 102,
		Instruction: Span{2, 23}, OutputImage: Span{24, 60}, OutputText: Span{62, 102}}
	if gen != wantGen {
		t.Fatalf("thinkgen layout\n got %+v\nwant %+v", gen, wantGen)
	}
}

func randomCodes(r *rand.Rand, n int) []int {
	out := make([]int, ImageTokens)
	for i := range out {
		out[i] = r.IntN(n)
	}
	return out
}

func TestBuildSplitRoundTrip(t *testing.T) {
	v := New(321)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		c := world.Generate(5, i, world.MixBoth)
		p := Parts{Task: c.Task, Instruction: c.Instruction, Output: randomCodes(r, 321), Reasoning: c.Reasoning}
		if c.Task == world.ThinkEdit {
			p.Input = randomCodes(r, 321)
		}
		seq, err := v.Build(p)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		l := seq.Layout
		checks := map[int]int{0: ThinkGen, l.Instruction.Start - 1: BOS, l.OutputImage.Start - 1: SOI, l.OutputImage.End: EOI, l.OutputText.Start - 1: BOS}
		if c.Task == world.ThinkEdit {
			checks[0] = ThinkEdit
			checks[l.InputImage.Start-1], checks[l.InputImage.End] = SOI, EOI
		}
		for pos, id := range checks {
			if seq.IDs[pos] != id {
				t.Fatalf("case %d: position %d holds %s, want %s", i, pos, v.Name(seq.IDs[pos]), v.Name(id))
			}
		}
		back, err := v.Split(seq)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if back.Task != p.Task || back.Instruction != p.Instruction || back.Reasoning != p.Reasoning ||
			!slices.Equal(back.Input, p.Input) || !slices.Equal(back.Output, p.Output) {
			t.Fatalf("case %d: split differs\n got %+v\nwant %+v", i, back, p)
		}
	}
}

func TestBuildErrorsNameThePart(t *testing.T) {
	v := New(8)
	codes := make([]int, ImageTokens)
	long := strings.TrimSpace(strings.Repeat("the circle stays . ", 11))
	cases := []struct {
		p    Parts
		want string
	}{
		{Parts{Task: world.ThinkGen, Instruction: "draw", Output: codes[:3]}, "output image: 3 codes"},
		{Parts{Task: world.ThinkEdit, Instruction: "draw", Input: append(slices.Clone(codes[:35]), 8), Output: codes}, "input image: code 8 at patch 35"},
		{Parts{Task: world.ThinkGen, Instruction: "draw a cat", Output: codes}, `instruction: unknown word "cat"`},
		{Parts{Task: world.ThinkGen, Instruction: "draw", Output: codes, Reasoning: long}, "reasoning: 44 words, at most 39 fit"},
	}
	for _, c := range cases {
		_, err := v.Build(c.p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error containing %q", err, c.want)
		}
	}
}

func TestSplitRefusesWordsInImageSpans(t *testing.T) {
	v := New(8)
	seq, err := v.Build(Parts{Task: world.ThinkGen, Instruction: "draw", Output: make([]int, ImageTokens)})
	if err != nil {
		t.Fatal(err)
	}
	seq.IDs[seq.Layout.OutputImage.Start+4] = Mask
	if _, err := v.Split(seq); err == nil || !strings.Contains(err.Error(), "position 4 holds [MASK]") {
		t.Fatalf("got %v", err)
	}
}

func BenchmarkBuildCase(b *testing.B) {
	v := New(321)
	codes := make([]int, ImageTokens)
	n := 0
	for b.Loop() {
		c := world.Generate(1, n, world.MixBoth)
		n++
		if _, err := v.Build(Parts{Task: c.Task, Input: codes, Instruction: c.Instruction, Output: codes, Reasoning: c.Reasoning}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "cases/s")
}

func TestMaskedAndUnconditional(t *testing.T) {
	v := New(30)
	c := world.Generate(2, 1, world.MixEdit)
	in := make([]int, ImageTokens)
	for i := range in {
		in[i] = i % 30
	}
	seq, err := v.Masked(Parts{Task: c.Task, Input: in, Instruction: c.Instruction})
	if err != nil {
		t.Fatal(err)
	}
	l := seq.Layout
	for i, id := range seq.IDs {
		out := (i >= l.OutputImage.Start && i < l.OutputImage.End) || (i >= l.OutputText.Start && i < l.OutputText.End)
		if out != (id == Mask) {
			t.Fatalf("position %d holds %s", i, v.Name(id))
		}
	}
	u := Unconditional(seq)
	if got := v.Text(u.IDs[l.Instruction.Start:l.Instruction.End]); got != "<|uncond|>" {
		t.Fatalf("unconditional instruction %q", got)
	}
	for i := range seq.IDs {
		if (i < l.Instruction.Start || i >= l.Instruction.End) && u.IDs[i] != seq.IDs[i] {
			t.Fatalf("position %d outside the instruction changed", i)
		}
	}
	if v.Text(seq.IDs[l.Instruction.Start:l.Instruction.End]) != c.Instruction {
		t.Fatal("Unconditional changed its argument")
	}
}
