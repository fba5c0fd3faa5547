package conv

import "parascope/engine/parallel"

// ResNet is the residual block of VQ-GAN encoders and decoders (diffusers'
// ResnetBlock2D without a time embedding, output factor 1):
// shortcut(x) + Conv2(SiLU(Norm2(Conv1(SiLU(Norm1(x)))))), where the
// shortcut is a 1×1 convolution when the channel count changes and the
// identity otherwise.
type ResNet struct {
	Norm1, Norm2 GroupNorm
	Conv1, Conv2 *Conv2d
	Shortcut     *Conv2d // nil for the identity
}

// Forward returns the block's output for x.
func (r *ResNet) Forward(x Tensor) Tensor {
	h := New(x.H, x.W, x.C)
	r.Norm1.Forward(h, x, true)
	h = r.Conv1.Forward(h)
	r.Norm2.Forward(h, h, true)
	var out Tensor
	if r.Shortcut != nil {
		out = r.Shortcut.Forward(x)
	} else {
		out = x.Clone()
	}
	r.Conv2.AddTo(out, h)
	return out
}

// ForwardBatch returns the block's output for each of xs, pictures of
// one shape, with each convolution one GEMM over the whole batch (see
// Conv2d.ForwardBatch); each picture is normalised over its own pixels.
func (r *ResNet) ForwardBatch(xs []Tensor) []Tensor {
	hs := make([]Tensor, len(xs))
	for i, x := range xs {
		hs[i] = New(x.H, x.W, x.C)
		r.Norm1.Forward(hs[i], x, true)
	}
	hs = r.Conv1.ForwardBatch(hs)
	for _, h := range hs {
		r.Norm2.Forward(h, h, true)
	}
	hs = r.Conv2.ForwardBatch(hs)
	var short []Tensor
	if r.Shortcut != nil {
		short = r.Shortcut.ForwardBatch(xs)
	}
	for i, h := range hs {
		s := xs[i].Data
		if short != nil {
			s = short[i].Data
		}
		parallel.For(len(s), 1<<14, func(lo, hi int) {
			for j, v := range s[lo:hi] {
				h.Data[lo+j] += v
			}
		})
	}
	return hs
}
