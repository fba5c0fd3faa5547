package partial

import (
	"image"
	"strings"
	"testing"

	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// frameOf lays out a case's target picture and reasoning as a frame's
// output, every position revealed but the words at hideWords and the
// patches at hidePatches.
func frameOf(t *testing.T, c world.Case, v *token.Vocab, cb *vq.Codebook, hideWords, hidePatches []int) sample.Frame {
	t.Helper()
	codes, err := cb.Encode(world.Render(c.Target))
	if err != nil {
		t.Fatal(err)
	}
	words, err := v.Encode(c.Reasoning)
	if err != nil {
		t.Fatal(err)
	}
	n := v.ImageLen() + v.ReasoningLen()
	f := sample.Frame{Tokens: make([]int32, n), RevealedAt: make([]int16, n)}
	for i := range n {
		f.Tokens[i] = token.Pad
		switch {
		case i < v.ImageLen():
			f.Tokens[i] = int32(v.ImageOffset() + codes[i])
		case i-v.ImageLen() < len(words):
			f.Tokens[i] = int32(words[i-v.ImageLen()])
		case i-v.ImageLen() == len(words):
			f.Tokens[i] = token.EOS
		}
	}
	for _, w := range hideWords {
		f.Tokens[v.ImageLen()+w] = int32(v.MaskID())
	}
	for _, p := range hidePatches {
		f.Tokens[p] = int32(v.MaskID())
	}
	for i, id := range f.Tokens {
		if id == int32(v.MaskID()) {
			f.RevealedAt[i] = -1
		}
	}
	return f
}

// What a frame has committed: the sentences whose every word is revealed
// (the one with a masked word is left out, the ones after it kept), and
// the picture with each cell that has a masked patch painted the fill.
func TestCommitted(t *testing.T) {
	cb := vq.Default()
	v := token.New(cb.K())
	c := world.GenerateKind(4, 0, world.Move) // "the … moves to … . the … stays . …"
	f := frameOf(t, c, v, cb, []int{1}, []int{0})
	o, err := Of(f, v, cb)
	if err != nil {
		t.Fatal(err)
	}
	text, img := o.Committed(world.MaskGrey)
	if want := strings.SplitN(c.Reasoning, " . ", 2)[1]; text != want {
		t.Errorf("committed text %q, want %q", text, want)
	}
	whole := world.Render(c.Target)
	for _, at := range []image.Point{{1, 1}, {world.CellPx + 1, 1}} {
		want := whole.At(at.X, at.Y)
		if at.X < world.CellPx { // cell 0 holds the masked patch
			want = world.MaskGrey
		}
		r1, g1, b1, _ := img.At(at.X, at.Y).RGBA()
		r2, g2, b2, _ := want.RGBA()
		if r1 != r2 || g1 != g2 || b1 != b2 {
			t.Errorf("pixel %v is %v, want %v", at, img.At(at.X, at.Y), want)
		}
	}
}
