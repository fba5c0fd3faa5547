// Package model is the mask predictor: a LLaDA-architecture bidirectional
// transformer (pre-RMSNorm blocks, RoPE, SwiGLU MLP, no biases, untied
// embedding and head) over the joint text+image vocabulary. Its weights
// live in one flat buffer with named views, its gradients in a second of
// the same layout; it runs on an nn.Backend.
package model

import (
	"errors"
	"fmt"

	"parascope/engine/memory"
)

// Config fixes the model's shape.
type Config struct {
	Layers    int     `json:"layers"`
	DModel    int     `json:"d_model"`
	Heads     int     `json:"heads"`
	MLP       int     `json:"mlp"`
	Vocab     int     `json:"vocab"`
	RopeTheta float64 `json:"rope_theta"`
	NormEps   float64 `json:"norm_eps"`
	MaxLen    int     `json:"max_len"`
}

// HeadDim is the width of one attention head.
func (c Config) HeadDim() int { return c.DModel / max(c.Heads, 1) }

// Validate reports the first field that cannot work.
func (c Config) Validate() error {
	var errs []error
	positive := map[string]int{"layers": c.Layers, "d_model": c.DModel, "heads": c.Heads, "mlp": c.MLP, "vocab": c.Vocab, "max_len": c.MaxLen}
	for _, k := range []string{"layers", "d_model", "heads", "mlp", "vocab", "max_len"} {
		if positive[k] <= 0 {
			errs = append(errs, fmt.Errorf("%s = %d, want > 0", k, positive[k]))
		}
	}
	if c.Heads > 0 && (c.DModel%c.Heads != 0 || c.HeadDim()%2 != 0) {
		errs = append(errs, fmt.Errorf("d_model %d must split into %d heads of even width", c.DModel, c.Heads))
	}
	if c.RopeTheta <= 1 {
		errs = append(errs, fmt.Errorf("rope_theta = %g, want > 1", c.RopeTheta))
	}
	if c.NormEps <= 0 {
		errs = append(errs, fmt.Errorf("norm_eps = %g, want > 0", c.NormEps))
	}
	return errors.Join(errs...)
}

// Params counts the model's weights, as Layout lays them out, without
// building the layout and saturating at math.MaxInt: a shape too big to
// hold never counts as a small one.
func (c Config) Params() int {
	return memory.Add(memory.Mul(2, c.Vocab, c.DModel), c.DModel, c.StackParams()) // wte and head, ln_f, blocks
}

// StackParams counts the weights of the blocks BlockParams lays out,
// saturating as Params does.
func (c Config) StackParams() int {
	d, f := c.DModel, c.MLP
	block := memory.Add(memory.Mul(2, d), memory.Mul(4, d, d), memory.Mul(3, f, d)) // two norms, attention, MLP
	return memory.Mul(c.Layers, block)
}

// TensorOverhead is a generous count of the bytes a tensor costs besides
// its weights: its Param and name, offset, index entry and views.
const TensorOverhead = 256

// WeightBytes estimates what New allocates: the weights in float32 and
// the bookkeeping of the 9·layers + 3 tensors.
func (c Config) WeightBytes() int {
	return memory.Add(memory.Mul(4, c.Params()), memory.Mul(TensorOverhead, memory.Add(3, memory.Mul(9, c.Layers))))
}

// StackBytes estimates the activations a stack of c's blocks holds to
// train on batch sequences of seq tokens (rows = batch·seq), in float32:
// per layer its input, seven d-wide and three MLP-wide buffers a row, two
// norms' scales a row and the attention probabilities (batch·heads·seq²);
// once, the output and the backward's seven d-wide and three MLP-wide
// buffers a row.
func (c Config) StackBytes(batch, seq int) int {
	rows, d, f := memory.Mul(batch, seq), c.DModel, c.MLP
	layer := memory.Add(memory.Mul(8, rows, d), memory.Mul(3, rows, f), memory.Mul(2, rows), memory.Mul(batch, c.Heads, seq, seq))
	once := memory.Add(memory.Mul(8, rows, d), memory.Mul(3, rows, f))
	return memory.Mul(4, memory.Add(memory.Mul(c.Layers, layer), once))
}

// TrainingBytes estimates what training on batch sequences of seq tokens
// holds: WeightBytes, then 12 bytes a weight for its gradient and AdamW's
// two moments, the stack's activations (StackBytes), and the head's in
// float32, with every position selected at most: six d-wide buffers a row
// (embeddings, final norm, selected rows, and their gradients), the final
// norm's scale, and the logits and their gradient (2·rows·vocab).
func (c Config) TrainingBytes(batch, seq int) int {
	rows := memory.Mul(batch, seq)
	head := memory.Mul(4, memory.Add(memory.Mul(6, rows, c.DModel), rows, memory.Mul(2, rows, c.Vocab)))
	return memory.Add(c.WeightBytes(), memory.Mul(12, c.Params()), c.StackBytes(batch, seq), head)
}
