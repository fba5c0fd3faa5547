// Package model is the mask predictor: a LLaDA-architecture bidirectional
// transformer (pre-RMSNorm blocks, RoPE, SwiGLU MLP, no biases, untied
// embedding and head) over the joint text+image vocabulary. Its weights
// live in one flat buffer with named views, its gradients in a second of
// the same layout; it runs on an nn.Backend.
package model

import (
	"errors"
	"fmt"
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

// Params counts the model's weights.
func (c Config) Params() int {
	n := 0
	for _, t := range c.Layout() {
		n += t.size()
	}
	return n
}
