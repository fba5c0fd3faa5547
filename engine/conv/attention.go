package conv

import (
	"math"

	"parascope/engine/gemm"
	"parascope/engine/parallel"
)

// Attention is the single-head self-attention over all pixels that sits
// in the middle of VQ-GAN encoders and decoders (diffusers' Attention
// with group norm, a residual connection and output factor 1; taming's
// AttnBlock with 1×1 convolutions is the same arithmetic):
// x + Out(softmax(Q·Kᵀ/√C)·V), with Q, K, V computed from GroupNorm(x).
type Attention struct {
	Norm          GroupNorm
	Q, K, V, Proj *Conv2d // per-pixel C→C layers
}

// Forward returns the attention block's output for x in a tensor from s,
// each picture attending over its own pixels.
func (a *Attention) Forward(s *Scratch, x Tensor) Tensor {
	out := s.Get(x.N, x.H, x.W, x.C)
	for i := range x.N {
		y := a.forward(s, x.Image(i))
		copy(out.Image(i).Data, y.Data)
		s.Put(y)
	}
	return out
}

func (a *Attention) forward(s *Scratch, x Tensor) Tensor {
	n, c := x.pixels(), x.C
	h := s.Get(1, x.H, x.W, c)
	a.Norm.Forward(h, x, false)
	q, k, v := a.Q.Forward(s, h), a.K.Forward(s, h), a.V.Forward(s, h)
	// Scores one band of query rows at a time, so that a 64×64 map
	// needs a few MiB of scores rather than 64 MiB.
	rows := max(1, min(n, (1<<20)/n))
	scores := make([]float32, rows*n)
	scale := float32(1 / math.Sqrt(float64(c)))
	for r0 := 0; r0 < n; r0 += rows {
		r1 := min(r0+rows, n)
		p := scores[:(r1-r0)*n]
		gemm.Sgemm(false, true, r1-r0, n, c, scale, q.Data[r0*c:], c, k.Data, c, 0, p, n)
		parallel.For(r1-r0, 16, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				softmax(p[r*n : (r+1)*n])
			}
		})
		gemm.Sgemm(false, false, r1-r0, c, n, 1, p, n, v.Data, c, 0, h.Data[r0*c:], c)
	}
	out := s.Get(1, x.H, x.W, c)
	copy(out.Data, x.Data)
	a.Proj.AddTo(out, h)
	for _, t := range []Tensor{h, q, k, v} {
		s.Put(t)
	}
	return out
}

// softmax replaces a row of scores by their softmax, in float32 as
// PyTorch computes it, the sum in float64.
func softmax(row []float32) {
	m := row[0]
	for _, v := range row {
		m = max(m, v)
	}
	var sum float64
	for i, v := range row {
		e := exp(max(v-m, -87)) // 0 to float32 precision below
		row[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range row {
		row[i] *= inv
	}
}
