package train

import (
	"math"
	"testing"

	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

func testData(cfg SFTConfig) *data {
	cb := vq.Default()
	kinds, _ := cfg.kinds()
	return &data{cfg: cfg, kinds: kinds, vocab: token.New(cb.K()), cb: cb}
}

// Batches mask only output positions, with the right targets and
// weights, and never show a held-out case.
func TestBatches(t *testing.T) {
	cfg := DefaultSFT()
	cfg.Batch = 16
	d := testData(cfg)
	uncond, sequences, imageFrac := 0, 0, 0.0
	for k := range 12 {
		b, err := d.batch(k)
		if err != nil {
			t.Fatal(err)
		}
		wantTask := world.ThinkEdit
		if k%3 == 0 {
			wantTask = world.ThinkGen
		}
		l := token.LayoutFor(wantTask)
		if b.task != wantTask || b.seq != l.Len || len(b.ids) != cfg.Batch*l.Len {
			t.Fatalf("batch %d: task %s, %d ids of %d", k, b.task, len(b.ids), b.seq)
		}
		for j := range cfg.Batch {
			c := d.example(k, j)
			if c.HeldOut() {
				t.Fatalf("batch %d holds a held-out case", k)
			}
			seq := b.ids[j*b.seq : (j+1)*b.seq]
			if seq[l.Instruction.Start] == token.Uncond {
				uncond++
			}
			sequences++
		}
		for r, p := range b.sel {
			pos := int(p) % b.seq
			image := pos >= l.OutputImage.Start && pos < l.OutputImage.End
			text := pos >= l.OutputText.Start && pos < l.OutputText.End
			if !image && !text || (r < b.imageRows) != image || b.ids[p] != token.Mask {
				t.Fatalf("batch %d row %d: position %d (image %v text %v, image rows %d)", k, r, pos, image, text, b.imageRows)
			}
			if b.weights[r] <= 0 || (image && math.Abs(float64(b.weights[r])-1/float64(cfg.Batch*76)) > 1e-9) {
				t.Fatalf("batch %d row %d: weight %g", k, r, b.weights[r])
			}
		}
		imageFrac += float64(b.imageRows) / float64(len(b.sel))
	}
	// The targets are the case's own tokens: rebuild one and compare.
	b, _ := d.batch(1)
	c := d.example(1, 0)
	in, _ := d.cb.Encode(world.Render(c.Input))
	out, _ := d.cb.Encode(world.Render(c.Target))
	seq, _ := d.vocab.Build(token.Parts{Task: c.Task, Input: in, Instruction: c.Instruction, Output: out, Reasoning: c.Reasoning})
	for r, p := range b.sel {
		if int(p) < b.seq && int32(seq.IDs[p]) != b.targets[r] {
			t.Fatalf("target of position %d is %d, the case has %d", p, b.targets[r], seq.IDs[p])
		}
	}
	if share := float64(uncond) / float64(sequences); share < 0.03 || share > 0.2 {
		t.Errorf("%d of %d instructions dropped, want about 10%%", uncond, sequences)
	}
	t.Logf("image share of masked rows %.2f, dropped instructions %d/%d", imageFrac/12, uncond, sequences)
}
