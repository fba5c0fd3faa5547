package clip

import (
	"testing"

	"parascope/engine/nn"
	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// The scorer reads what a frame has committed: before the text has a
// whole sentence the score is 0, as the judge's is; once one is whole,
// the picture (here still all masked) and the sentence are compared.
func TestScorerWaitsForASentence(t *testing.T) {
	cb := vq.Default()
	v := token.New(cb.K())
	m, err := New(tinyConfig(), nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(3)
	s := Scorer{Model: m, Vocab: v, Codebook: cb}
	c := world.GenerateKind(4, 0, world.Move)
	words, err := v.Encode(c.Reasoning)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := v.Encode(".")
	if err != nil {
		t.Fatal(err)
	}
	// Every word revealed but the full stops, then the first one too.
	n := v.ImageLen() + v.ReasoningLen()
	f := sample.Frame{Tokens: make([]int32, n), RevealedAt: make([]int16, n)}
	for i := range n {
		f.Tokens[i], f.RevealedAt[i] = int32(v.MaskID()), -1
		if j := i - v.ImageLen(); j >= 0 && j < len(words) && words[j] != stop[0] {
			f.Tokens[i], f.RevealedAt[i] = int32(words[j]), 1
		}
	}
	p := sample.Prompt{Task: c.Task, Instruction: c.Instruction}
	if got, err := s.Align(p, f); err != nil || got != 0 {
		t.Fatalf("no whole sentence: %v, %v; want 0", got, err)
	}
	for j, w := range words {
		if w == stop[0] {
			f.Tokens[v.ImageLen()+j], f.RevealedAt[v.ImageLen()+j] = int32(w), 2
			break
		}
	}
	if got, err := s.Align(p, f); err != nil || got == 0 {
		t.Fatalf("a whole sentence: %v, %v; want a cosine", got, err)
	}
}
