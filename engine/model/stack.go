package model

import "parascope/engine/nn"

// Stack is the transformer body: pre-RMSNorm blocks with bidirectional
// RoPE attention and a SwiGLU MLP, over activations [batch·seq, d_model].
// The mask predictor runs one; an encoder can run another over its own
// weights.
type Stack struct {
	cfg  Config
	be   nn.Backend
	w, g []block // weight and gradient views
	act  *stackActs
}

type block struct {
	attnNorm, wq, wk, wv, wo, ffNorm, wGate, wUp, wDown nn.Buf
}

// NewStack runs the blocks named prefix+"blocks.{i}.…" (BlockParams) of a
// parameter set, with cfg's shape.
func NewStack(cfg Config, ps *ParamSet, prefix string) *Stack {
	s := &Stack{cfg: cfg, be: ps.be}
	for i := range cfg.Layers {
		views := func(get func(string) nn.Buf) block {
			b := func(n string) nn.Buf { return get(prefix + blockName(i, n)) }
			return block{b(attnNorm), b(wq), b(wk), b(wv), b(wo), b(ffNorm), b(wGate), b(wUp), b(wDown)}
		}
		s.w = append(s.w, views(ps.View))
		s.g = append(s.g, views(ps.Grad))
	}
	return s
}

// stackActs hold what the backward pass needs, for one batch shape.
type stackActs struct {
	batch, seq                 int
	x                          []nn.Buf // input of each block, then the output
	layers                     []layerActs
	dx, da, dq, dk, dv, do, df nn.Buf
	ds, dg, du                 nn.Buf
}

type layerActs struct {
	a, q, k, v, o, xmid, f nn.Buf
	rstd1, rstd2           nn.Buf
	g, u, s                nn.Buf
	probs                  nn.Buf
}

func (s *Stack) acts(batch, seq int) *stackActs {
	if a := s.act; a != nil && a.batch == batch && a.seq == seq {
		return a
	}
	rows, d, f := batch*seq, s.cfg.DModel, s.cfg.MLP
	alloc := s.be.Alloc
	a := &stackActs{batch: batch, seq: seq}
	for range len(s.w) + 1 {
		a.x = append(a.x, alloc(rows*d))
	}
	for range s.w {
		a.layers = append(a.layers, layerActs{
			a: alloc(rows * d), q: alloc(rows * d), k: alloc(rows * d), v: alloc(rows * d),
			o: alloc(rows * d), xmid: alloc(rows * d), f: alloc(rows * d),
			rstd1: alloc(rows), rstd2: alloc(rows),
			g: alloc(rows * f), u: alloc(rows * f), s: alloc(rows * f),
			probs: alloc(batch * s.cfg.Heads * seq * seq),
		})
	}
	a.dx, a.da, a.dq, a.dk, a.dv, a.do, a.df = alloc(rows*d), alloc(rows*d), alloc(rows*d), alloc(rows*d), alloc(rows*d), alloc(rows*d), alloc(rows*d)
	a.ds, a.dg, a.du = alloc(rows*f), alloc(rows*f), alloc(rows*f)
	s.act = a
	return a
}

// Forward runs the blocks over x, batch sequences of seq rows, and returns
// the output residual (owned by the stack until the next Forward).
func (s *Stack) Forward(x nn.Buf, batch, seq int) nn.Buf {
	be, a := s.be, s.acts(batch, seq)
	rows, d, f, hd, heads := batch*seq, s.cfg.DModel, s.cfg.MLP, s.cfg.HeadDim(), s.cfg.Heads
	eps := float32(s.cfg.NormEps)
	be.Copy(a.x[0], x)
	for l, w := range s.w {
		la, x := &a.layers[l], a.x[l]
		be.RMSNorm(la.a, la.rstd1, x, w.attnNorm, rows, d, eps)
		be.MatMul(la.q, la.a, w.wq, rows, d, d, false, true, 1, 0)
		be.MatMul(la.k, la.a, w.wk, rows, d, d, false, true, 1, 0)
		be.MatMul(la.v, la.a, w.wv, rows, d, d, false, true, 1, 0)
		be.RoPE(la.q, batch, seq, heads, hd, s.cfg.RopeTheta, false)
		be.RoPE(la.k, batch, seq, heads, hd, s.cfg.RopeTheta, false)
		be.Attention(la.o, la.probs, la.q, la.k, la.v, batch, seq, heads, hd)
		be.Copy(la.xmid, x)
		be.MatMul(la.xmid, la.o, w.wo, rows, d, d, false, true, 1, 1)
		be.RMSNorm(la.f, la.rstd2, la.xmid, w.ffNorm, rows, d, eps)
		be.MatMul(la.g, la.f, w.wGate, rows, f, d, false, true, 1, 0)
		be.MatMul(la.u, la.f, w.wUp, rows, f, d, false, true, 1, 0)
		be.SwiGLU(la.s, la.g, la.u)
		be.Copy(a.x[l+1], la.xmid)
		be.MatMul(a.x[l+1], la.s, w.wDown, rows, d, f, false, true, 1, 1)
	}
	return a.x[len(s.w)]
}

// Backward takes the gradient of the last Forward's output, accumulates
// the blocks' weight gradients, and returns the gradient of its input
// (owned by the stack).
func (s *Stack) Backward(dOut nn.Buf) nn.Buf {
	be, a := s.be, s.act
	rows, d, f, hd, heads := a.batch*a.seq, s.cfg.DModel, s.cfg.MLP, s.cfg.HeadDim(), s.cfg.Heads
	be.Copy(a.dx, dOut)
	for l := len(s.w) - 1; l >= 0; l-- {
		la, w, g := &a.layers[l], s.w[l], s.g[l]
		// x[l+1] = xmid + swiglu(f)·w_downᵀ; dx is d x[l+1] and passes to xmid.
		be.MatMul(g.wDown, a.dx, la.s, d, f, rows, true, false, 1, 1)
		be.MatMul(a.ds, a.dx, w.wDown, rows, f, d, false, false, 1, 0)
		be.SwiGLUBackward(a.dg, a.du, a.ds, la.g, la.u)
		be.MatMul(g.wGate, a.dg, la.f, f, d, rows, true, false, 1, 1)
		be.MatMul(g.wUp, a.du, la.f, f, d, rows, true, false, 1, 1)
		be.MatMul(a.df, a.dg, w.wGate, rows, d, f, false, false, 1, 0)
		be.MatMul(a.df, a.du, w.wUp, rows, d, f, false, false, 1, 1)
		be.RMSNormBackward(a.dx, g.ffNorm, a.df, la.xmid, w.ffNorm, la.rstd2, rows, d)
		// xmid = x[l] + attention·woᵀ; dx is now d xmid and passes to x[l].
		be.MatMul(g.wo, a.dx, la.o, d, d, rows, true, false, 1, 1)
		be.MatMul(a.do, a.dx, w.wo, rows, d, d, false, false, 1, 0)
		be.AttentionBackward(a.dq, a.dk, a.dv, a.do, la.q, la.k, la.v, la.probs, a.batch, a.seq, heads, hd)
		be.RoPE(a.dq, a.batch, a.seq, heads, hd, s.cfg.RopeTheta, true)
		be.RoPE(a.dk, a.batch, a.seq, heads, hd, s.cfg.RopeTheta, true)
		be.MatMul(g.wq, a.dq, la.a, d, d, rows, true, false, 1, 1)
		be.MatMul(g.wk, a.dk, la.a, d, d, rows, true, false, 1, 1)
		be.MatMul(g.wv, a.dv, la.a, d, d, rows, true, false, 1, 1)
		be.MatMul(a.da, a.dq, w.wq, rows, d, d, false, false, 1, 0)
		be.MatMul(a.da, a.dk, w.wk, rows, d, d, false, false, 1, 1)
		be.MatMul(a.da, a.dv, w.wv, rows, d, d, false, false, 1, 1)
		be.RMSNormBackward(a.dx, g.attnNorm, a.da, a.x[l], w.attnNorm, la.rstd1, rows, d)
	}
	return a.dx
}
