package hf

import "fmt"

// prefix is where LLaDAModelLM keeps its LLaDAModel ("model") and that its
// ModuleDict ("transformer"); the three families share it.
const prefix = "model.transformer."

// Expected is one tensor a folder must hold.
type Expected struct {
	Name  string
	Shape []int
}

// blockTensors are each block's weights in the official LLaDALlamaBlock,
// with their shapes ([out, in], as nn.Linear stores them) from a config.
// ff_proj is the gate (it goes through the activation) and up_proj the
// value it multiplies.
var blockTensors = []struct {
	name  string
	shape func(c Config) []int
}{
	{"attn_norm", func(c Config) []int { return []int{c.DModel} }},
	{"q_proj", func(c Config) []int { return []int{c.DModel, c.DModel} }},
	{"k_proj", func(c Config) []int { return []int{c.KVHeads * c.HeadDim(), c.DModel} }},
	{"v_proj", func(c Config) []int { return []int{c.KVHeads * c.HeadDim(), c.DModel} }},
	{"attn_out", func(c Config) []int { return []int{c.DModel, c.DModel} }},
	{"ff_norm", func(c Config) []int { return []int{c.DModel} }},
	{"ff_proj", func(c Config) []int { return []int{c.MLP, c.DModel} }},
	{"up_proj", func(c Config) []int { return []int{c.MLP, c.DModel} }},
	{"ff_out", func(c Config) []int { return []int{c.DModel, c.MLP} }},
}

// BlockTensor names block i's weight (attn_norm, q_proj, … of blockTensors).
func BlockTensor(i int, name string) string {
	return fmt.Sprintf("%sblocks.%d.%s.weight", prefix, i, name)
}

// Names of the tensors outside the blocks.
const (
	Embedding = prefix + "wte.weight"    // [embedding_size, d_model]
	FinalNorm = prefix + "ln_f.weight"   // [d_model]
	Head      = prefix + "ff_out.weight" // [embedding_size, d_model]; absent when tied to wte
)

// Layout lists every tensor a folder with config c holds, and nothing else.
func Layout(c Config) []Expected {
	out := []Expected{{Embedding, []int{c.Embedding, c.DModel}}}
	for i := range c.Layers {
		for _, b := range blockTensors {
			out = append(out, Expected{BlockTensor(i, b.name), b.shape(c)})
		}
	}
	out = append(out, Expected{FinalNorm, []int{c.DModel}})
	if !c.Tied {
		out = append(out, Expected{Head, []int{c.Embedding, c.DModel}})
	}
	return out
}
