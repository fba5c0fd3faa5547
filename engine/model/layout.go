package model

import "fmt"

// tensorSpec is one named weight tensor inside the flat buffer.
type tensorSpec struct {
	name   string
	shape  []int
	offset int
	decay  bool // weight decay applies to matrices, not to norm gains
}

func (t tensorSpec) size() int {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	return n
}

// Names of the per-layer tensors, in buffer order.
const (
	attnNorm = "attn_norm"
	wq       = "wq"
	wk       = "wk"
	wv       = "wv"
	wo       = "wo"
	ffNorm   = "ff_norm"
	wGate    = "w_gate"
	wUp      = "w_up"
	wDown    = "w_down"
)

func blockName(i int, n string) string { return fmt.Sprintf("blocks.%d.%s", i, n) }

// layout lists every tensor with its offset: wte, the blocks, ln_f, head.
// Linear weights are [out, in], as PyTorch stores them.
func (c Config) layout() []tensorSpec {
	d, f := c.DModel, c.MLP
	var ts []tensorSpec
	add := func(name string, decay bool, shape ...int) {
		off := 0
		if len(ts) > 0 {
			last := ts[len(ts)-1]
			off = last.offset + last.size()
		}
		ts = append(ts, tensorSpec{name, shape, off, decay})
	}
	add("wte", true, c.Vocab, d)
	for i := range c.Layers {
		add(blockName(i, attnNorm), false, d)
		add(blockName(i, wq), true, d, d)
		add(blockName(i, wk), true, d, d)
		add(blockName(i, wv), true, d, d)
		add(blockName(i, wo), true, d, d)
		add(blockName(i, ffNorm), false, d)
		add(blockName(i, wGate), true, f, d)
		add(blockName(i, wUp), true, f, d)
		add(blockName(i, wDown), true, d, f)
	}
	add("ln_f", false, d)
	add("head", true, c.Vocab, d)
	return ts
}
