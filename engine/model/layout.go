package model

import "fmt"

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

// Layout lists every tensor in buffer order: wte, the blocks, ln_f,
// head. Linear weights are [out, in], as PyTorch stores them.
func (c Config) Layout() []Param {
	out := []Param{{"wte", []int{c.Vocab, c.DModel}, true}}
	out = append(out, BlockParams(c, "")...)
	return append(out, Param{"ln_f", []int{c.DModel}, false}, Param{"head", []int{c.Vocab, c.DModel}, true})
}

// BlockParams lists the tensors of a stack of c.Layers blocks of c's
// shape, named prefix+"blocks.{i}.…".
func BlockParams(c Config, prefix string) []Param {
	d, f := c.DModel, c.MLP
	var out []Param
	for i := range c.Layers {
		n := func(s string) string { return prefix + blockName(i, s) }
		out = append(out,
			Param{n(attnNorm), []int{d}, false},
			Param{n(wq), []int{d, d}, true},
			Param{n(wk), []int{d, d}, true},
			Param{n(wv), []int{d, d}, true},
			Param{n(wo), []int{d, d}, true},
			Param{n(ffNorm), []int{d}, false},
			Param{n(wGate), []int{f, d}, true},
			Param{n(wUp), []int{f, d}, true},
			Param{n(wDown), []int{d, f}, true},
		)
	}
	return out
}
