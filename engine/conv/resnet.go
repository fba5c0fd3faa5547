package conv

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

// Forward returns the block's output for x in a tensor from s, where its
// intermediate tensors go back.
func (r *ResNet) Forward(s *Scratch, x Tensor) Tensor {
	h := s.Get(x.N, x.H, x.W, x.C)
	r.Norm1.Forward(h, x, true)
	h1 := r.Conv1.Forward(s, h)
	s.Put(h)
	r.Norm2.Forward(h1, h1, true)
	var out Tensor
	if r.Shortcut != nil {
		out = r.Shortcut.Forward(s, x)
	} else {
		out = s.Get(x.N, x.H, x.W, x.C)
		copy(out.Data, x.Data)
	}
	r.Conv2.AddTo(out, h1)
	s.Put(h1)
	return out
}
