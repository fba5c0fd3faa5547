package model

import "parascope/engine/nn"

// Stack is the transformer body: pre-RMSNorm blocks with bidirectional
// RoPE attention and a SwiGLU MLP, over activations [batch·seq, d_model].
// The mask predictor runs one; an encoder can run another over its own
// weights.
type Stack struct {
	cfg    Config
	be     nn.Backend
	ps     *ParamSet
	prefix string
	w, g   []block // weight and gradient views; g is made by the first Backward
	act    *stackActs
	inf    *inferActs
}

type block struct {
	attnNorm, wq, wk, wv, wo, ffNorm, wGate, wUp, wDown nn.Buf
}

// NewStack runs the blocks named prefix+"blocks.{i}.…" (BlockParams) of a
// parameter set, with cfg's shape.
func NewStack(cfg Config, ps *ParamSet, prefix string) *Stack {
	s := &Stack{cfg: cfg, be: ps.be, ps: ps, prefix: prefix}
	s.w = s.views(ps.View)
	return s
}

// views returns each block's views through get: weights or gradients.
func (s *Stack) views(get func(string) nn.Buf) []block {
	var out []block
	for i := range s.cfg.Layers {
		b := func(n string) nn.Buf { return get(s.prefix + blockName(i, n)) }
		out = append(out, block{b(attnNorm), b(wq), b(wk), b(wv), b(wo), b(ffNorm), b(wGate), b(wUp), b(wDown)})
	}
	return out
}

// stackActs hold what the backward pass needs, for one batch shape.
type stackActs struct {
	batch, seq                 int
	x                          []nn.Buf // input of each block, then the output
	layers                     []layerActs
	dx, da, dq, dk, dv, do, df nn.Buf
	ds, dg, du                 nn.Buf
}

// layerActs are one block's intermediates; without probs nothing is kept
// for a backward (see Infer).
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

// inferActs are Infer's buffers for one batch shape: the residual, updated
// in place, and one block's intermediates, which every block reuses.
type inferActs struct {
	batch, seq int
	x          nn.Buf
	layer      layerActs
}

func (s *Stack) inferActs(batch, seq int) *inferActs {
	if a := s.inf; a != nil && a.batch == batch && a.seq == seq {
		return a
	}
	rows, d, f := batch*seq, s.cfg.DModel, s.cfg.MLP
	alloc := s.be.Alloc
	// The MLP's norm and its rstd take the attention's: those are spent by then.
	norm, rstd := alloc(rows*d), alloc(rows)
	a := &inferActs{batch: batch, seq: seq, x: alloc(rows * d), layer: layerActs{
		a: norm, q: alloc(rows * d), k: alloc(rows * d), v: alloc(rows * d), o: alloc(rows * d), f: norm,
		rstd1: rstd, rstd2: rstd, g: alloc(rows * f), u: alloc(rows * f), s: alloc(rows * f),
	}}
	s.inf = a
	return a
}

// Forward runs the blocks over x, batch sequences of seq rows, and returns
// the output residual (owned by the stack until the next Forward). Every
// block's intermediates are kept for Backward.
func (s *Stack) Forward(x nn.Buf, batch, seq int) nn.Buf {
	be, a := s.be, s.acts(batch, seq)
	be.Copy(a.x[0], x)
	for l, w := range s.w {
		la := &a.layers[l]
		be.Copy(la.xmid, a.x[l])
		s.attend(la, w, a.x[l], la.xmid, batch, seq)
		be.Copy(a.x[l+1], la.xmid)
		s.mlp(la, w, la.xmid, a.x[l+1], batch*seq)
	}
	return a.x[len(s.w)]
}

// Infer is Forward for a forward that no backward follows: it adds each
// block to one residual in place, reuses one set of intermediates for every
// block and keeps no attention probabilities, so its memory does not grow
// with the depth, nor with seq² (see nn.Backend.AttentionInference). The
// output is Forward's, to the bit on the CPU; it is owned by the stack
// until the next Infer, and a Backward still follows the last Forward.
func (s *Stack) Infer(x nn.Buf, batch, seq int) nn.Buf {
	a := s.inferActs(batch, seq)
	s.be.Copy(a.x, x)
	for _, w := range s.w {
		s.attend(&a.layer, w, a.x, a.x, batch, seq)
		s.mlp(&a.layer, w, a.x, a.x, batch*seq)
	}
	return a.x
}

// attend adds the attention over x to res: res += attention(norm(x))·woᵀ.
func (s *Stack) attend(la *layerActs, w block, x, res nn.Buf, batch, seq int) {
	be := s.be
	rows, d, hd, heads := batch*seq, s.cfg.DModel, s.cfg.HeadDim(), s.cfg.Heads
	be.RMSNorm(la.a, la.rstd1, x, w.attnNorm, rows, d, float32(s.cfg.NormEps))
	be.MatMul(la.q, la.a, w.wq, rows, d, d, false, true, 1, 0)
	be.MatMul(la.k, la.a, w.wk, rows, d, d, false, true, 1, 0)
	be.MatMul(la.v, la.a, w.wv, rows, d, d, false, true, 1, 0)
	be.RoPE(la.q, batch, seq, heads, hd, s.cfg.RopeTheta, false)
	be.RoPE(la.k, batch, seq, heads, hd, s.cfg.RopeTheta, false)
	if la.probs != nil {
		be.Attention(la.o, la.probs, la.q, la.k, la.v, batch, seq, heads, hd)
	} else {
		be.AttentionInference(la.o, la.q, la.k, la.v, batch, seq, heads, hd)
	}
	be.MatMul(res, la.o, w.wo, rows, d, d, false, true, 1, 1)
}

// mlp adds the MLP of x to res: res += swiglu(norm(x))·w_downᵀ.
func (s *Stack) mlp(la *layerActs, w block, x, res nn.Buf, rows int) {
	be, d, f := s.be, s.cfg.DModel, s.cfg.MLP
	be.RMSNorm(la.f, la.rstd2, x, w.ffNorm, rows, d, float32(s.cfg.NormEps))
	be.MatMul(la.g, la.f, w.wGate, rows, f, d, false, true, 1, 0)
	be.MatMul(la.u, la.f, w.wUp, rows, f, d, false, true, 1, 0)
	be.SwiGLU(la.s, la.g, la.u)
	be.MatMul(res, la.s, w.wDown, rows, d, f, false, true, 1, 1)
}

// Backward takes the gradient of the last Forward's output, accumulates
// the blocks' weight gradients, and returns the gradient of its input
// (owned by the stack). It must follow a Forward.
func (s *Stack) Backward(dOut nn.Buf) nn.Buf {
	if s.act == nil {
		panic("model: Stack.Backward before any Forward")
	}
	if s.g == nil {
		s.g = s.views(s.ps.Grad)
	}
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
