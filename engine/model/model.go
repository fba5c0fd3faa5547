package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gorgonia.org/tensor"

	"parascope/engine/nn"
)

// Model is the mask predictor on a backend.
type Model struct {
	Config
	be     nn.Backend
	specs  []tensorSpec
	params nn.Buf // every weight, in layout order
	grads  nn.Buf // same layout
	w, g   weights
	adamM  nn.Buf // optimiser moments, allocated on the first Step
	adamV  nn.Buf
	act    *activations
}

// weights are named views into a flat buffer.
type weights struct {
	wte, lnF, head nn.Buf
	blocks         []block
}

type block struct {
	attnNorm, wq, wk, wv, wo, ffNorm, wGate, wUp, wDown nn.Buf
}

// New makes a model with all weights zero; see Init and Load.
func New(cfg Config, be nn.Backend) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	m := &Model{Config: cfg, be: be, specs: cfg.layout()}
	n := cfg.Params()
	m.params, m.grads = be.Alloc(n), be.Alloc(n)
	m.w, m.g = m.views(m.params), m.views(m.grads)
	return m, nil
}

func (m *Model) views(flat nn.Buf) weights {
	byName := map[string]nn.Buf{}
	for _, t := range m.specs {
		byName[t.name] = m.be.Slice(flat, t.offset, t.size())
	}
	w := weights{wte: byName["wte"], lnF: byName["ln_f"], head: byName["head"]}
	for i := range m.Layers {
		b := func(n string) nn.Buf { return byName[blockName(i, n)] }
		w.blocks = append(w.blocks, block{b(attnNorm), b(wq), b(wk), b(wv), b(wo), b(ffNorm), b(wGate), b(wUp), b(wDown)})
	}
	return w
}

// Backend is the backend the model runs on.
func (m *Model) Backend() nn.Backend { return m.be }

// Init draws fresh weights: matrices from N(0, 0.02²), norm gains 1.
func (m *Model) Init(seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	host := make([]float32, m.Params())
	for _, t := range m.specs {
		v := host[t.offset : t.offset+t.size()]
		for i := range v {
			if t.decay {
				v[i] = float32(r.NormFloat64() * 0.02)
			} else {
				v[i] = 1
			}
		}
	}
	m.be.Upload(m.params, host)
}

// activations hold what the backward pass needs, sized for one batch shape.
type activations struct {
	batch, seq, nsel int
	ids, sel         []int32
	x                []nn.Buf // input of each layer, then the final residual
	layers           []layerActs
	h, rstdF         nn.Buf
	hs, logits       nn.Buf
	// backward scratch
	dx, dh, da, dq, dk, dv, do, df nn.Buf
	ds, dg, du                     nn.Buf
	dhs, dLogits                   nn.Buf
}

type layerActs struct {
	a, q, k, v, o, xmid, f nn.Buf
	rstd1, rstd2           nn.Buf
	g, u, s                nn.Buf
	probs                  nn.Buf
}

func (m *Model) activationsFor(batch, seq, nsel int) *activations {
	if a := m.act; a != nil && a.batch == batch && a.seq == seq && a.nsel == nsel {
		return a
	}
	rows, d, f := batch*seq, m.DModel, m.MLP
	alloc := m.be.Alloc
	a := &activations{batch: batch, seq: seq, nsel: nsel}
	for range m.Layers + 1 {
		a.x = append(a.x, alloc(rows*d))
	}
	for range m.Layers {
		a.layers = append(a.layers, layerActs{
			a: alloc(rows * d), q: alloc(rows * d), k: alloc(rows * d), v: alloc(rows * d),
			o: alloc(rows * d), xmid: alloc(rows * d), f: alloc(rows * d),
			rstd1: alloc(rows), rstd2: alloc(rows),
			g: alloc(rows * f), u: alloc(rows * f), s: alloc(rows * f),
			probs: alloc(batch * m.Heads * seq * seq),
		})
	}
	a.h, a.rstdF = alloc(rows*d), alloc(rows)
	a.hs, a.logits = alloc(nsel*d), alloc(nsel*m.Vocab)
	a.dx, a.dh, a.da, a.dq, a.dk, a.dv, a.do, a.df = alloc(rows*d), alloc(rows*d), alloc(rows*d), alloc(rows*d), alloc(rows*d), alloc(rows*d), alloc(rows*d), alloc(rows*d)
	a.ds, a.dg, a.du = alloc(rows*f), alloc(rows*f), alloc(rows*f)
	a.dhs, a.dLogits = alloc(nsel*d), alloc(nsel*m.Vocab)
	m.act = a
	return a
}

// check validates a batch against the config.
func (m *Model) check(ids []int32, batch, seq int, sel []int32) error {
	switch {
	case batch < 1 || seq < 1 || len(ids) != batch*seq:
		return fmt.Errorf("model: %d ids for a batch of %d×%d", len(ids), batch, seq)
	case seq > m.MaxLen:
		return fmt.Errorf("model: sequence of %d is longer than max_len %d", seq, m.MaxLen)
	case len(sel) == 0:
		return fmt.Errorf("model: no positions selected")
	}
	for i, id := range ids {
		if id < 0 || int(id) >= m.Vocab {
			return fmt.Errorf("model: token %d at position %d is outside the vocabulary of %d", id, i, m.Vocab)
		}
	}
	for _, p := range sel {
		if p < 0 || int(p) >= len(ids) {
			return fmt.Errorf("model: selected position %d is outside the batch of %d", p, len(ids))
		}
	}
	return nil
}

// Forward runs the batch (batch sequences of seq tokens, row-major) and
// returns the logits [len(sel), Vocab] at the selected flat positions
// (b·seq + t), on the backend. The activations are kept for Backward.
func (m *Model) Forward(ids []int32, batch, seq int, sel []int32) (nn.Buf, error) {
	if err := m.check(ids, batch, seq, sel); err != nil {
		return nil, err
	}
	be, a := m.be, m.activationsFor(batch, seq, len(sel))
	a.ids, a.sel = append(a.ids[:0], ids...), append(a.sel[:0], sel...)
	rows, d, f, hd := batch*seq, m.DModel, m.MLP, m.HeadDim()
	eps := float32(m.NormEps)
	be.Embed(a.x[0], m.w.wte, ids, d)
	for l, w := range m.w.blocks {
		la, x := &a.layers[l], a.x[l]
		be.RMSNorm(la.a, la.rstd1, x, w.attnNorm, rows, d, eps)
		be.MatMul(la.q, la.a, w.wq, rows, d, d, false, true, 1, 0)
		be.MatMul(la.k, la.a, w.wk, rows, d, d, false, true, 1, 0)
		be.MatMul(la.v, la.a, w.wv, rows, d, d, false, true, 1, 0)
		be.RoPE(la.q, batch, seq, m.Heads, hd, m.RopeTheta, false)
		be.RoPE(la.k, batch, seq, m.Heads, hd, m.RopeTheta, false)
		be.Attention(la.o, la.probs, la.q, la.k, la.v, batch, seq, m.Heads, hd)
		be.Copy(la.xmid, x)
		be.MatMul(la.xmid, la.o, w.wo, rows, d, d, false, true, 1, 1)
		be.RMSNorm(la.f, la.rstd2, la.xmid, w.ffNorm, rows, d, eps)
		be.MatMul(la.g, la.f, w.wGate, rows, f, d, false, true, 1, 0)
		be.MatMul(la.u, la.f, w.wUp, rows, f, d, false, true, 1, 0)
		be.SwiGLU(la.s, la.g, la.u)
		be.Copy(a.x[l+1], la.xmid)
		be.MatMul(a.x[l+1], la.s, w.wDown, rows, d, f, false, true, 1, 1)
	}
	be.RMSNorm(a.h, a.rstdF, a.x[m.Layers], m.w.lnF, rows, d, eps)
	be.Gather(a.hs, a.h, sel, d)
	be.MatMul(a.logits, a.hs, m.w.head, len(sel), m.Vocab, d, false, true, 1, 0)
	return a.logits, nil
}

// Backward accumulates into the gradients the effect of dLogits, the
// gradient of the loss with respect to the last Forward's logits.
func (m *Model) Backward(dLogits nn.Buf) {
	be, a := m.be, m.act
	rows, d, f, hd, n := a.batch*a.seq, m.DModel, m.MLP, m.HeadDim(), a.nsel
	be.MatMul(m.g.head, dLogits, a.hs, m.Vocab, d, n, true, false, 1, 1)
	be.MatMul(a.dhs, dLogits, m.w.head, n, d, m.Vocab, false, false, 1, 0)
	be.Scatter(a.dh, a.dhs, a.sel, d)
	be.Zero(a.dx)
	be.RMSNormBackward(a.dx, m.g.lnF, a.dh, a.x[m.Layers], m.w.lnF, a.rstdF, rows, d)
	for l := m.Layers - 1; l >= 0; l-- {
		la, w, g := &a.layers[l], m.w.blocks[l], m.g.blocks[l]
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
		be.AttentionBackward(a.dq, a.dk, a.dv, a.do, la.q, la.k, la.v, la.probs, a.batch, a.seq, m.Heads, hd)
		be.RoPE(a.dq, a.batch, a.seq, m.Heads, hd, m.RopeTheta, true)
		be.RoPE(a.dk, a.batch, a.seq, m.Heads, hd, m.RopeTheta, true)
		be.MatMul(g.wq, a.dq, la.a, d, d, rows, true, false, 1, 1)
		be.MatMul(g.wk, a.dk, la.a, d, d, rows, true, false, 1, 1)
		be.MatMul(g.wv, a.dv, la.a, d, d, rows, true, false, 1, 1)
		be.MatMul(a.da, a.dq, w.wq, rows, d, d, false, false, 1, 0)
		be.MatMul(a.da, a.dk, w.wk, rows, d, d, false, false, 1, 1)
		be.MatMul(a.da, a.dv, w.wv, rows, d, d, false, false, 1, 1)
		be.RMSNormBackward(a.dx, g.attnNorm, a.da, a.x[l], w.attnNorm, la.rstd1, rows, d)
	}
	be.EmbedBackward(m.g.wte, a.dx, a.ids, d)
}

// Loss runs forward, the weighted cross-entropy Σ w_j·CE(logits_j, t_j)
// at the selected positions, and backward; gradients accumulate.
func (m *Model) Loss(ids []int32, batch, seq int, sel, targets []int32, weights []float32) (float64, error) {
	a, b, err := m.LossSplit(ids, batch, seq, sel, targets, weights, len(sel))
	return a + b, err
}

// LossSplit is Loss reporting the selected rows [0, split) and [split, n)
// separately, e.g. image and text positions.
func (m *Model) LossSplit(ids []int32, batch, seq int, sel, targets []int32, weights []float32, split int) (float64, float64, error) {
	if len(targets) != len(sel) || len(weights) != len(sel) || split < 0 || split > len(sel) {
		return 0, 0, fmt.Errorf("model: %d targets and %d weights for %d positions split at %d", len(targets), len(weights), len(sel), split)
	}
	for j, t := range targets {
		if t < 0 || int(t) >= m.Vocab {
			return 0, 0, fmt.Errorf("model: target %d of position %d is outside the vocabulary", t, j)
		}
	}
	logits, err := m.Forward(ids, batch, seq, sel)
	if err != nil {
		return 0, 0, err
	}
	v := m.Vocab
	part := func(lo, hi int) float64 {
		if lo == hi {
			return 0
		}
		rows := func(b nn.Buf) nn.Buf { return m.be.Slice(b, lo*v, (hi-lo)*v) }
		return m.be.CrossEntropy(rows(m.act.dLogits), rows(logits), targets[lo:hi], weights[lo:hi], hi-lo, v)
	}
	first, second := part(0, split), part(split, len(sel))
	if loss := first + second; math.IsNaN(loss) || math.IsInf(loss, 0) {
		return first, second, fmt.Errorf("model: loss is %v", loss)
	}
	m.Backward(m.act.dLogits)
	return first, second, nil
}

// ClipGradients scales the gradients down so their global norm is at most
// maxNorm, and returns the norm before clipping.
func (m *Model) ClipGradients(maxNorm float64) float64 {
	norm := math.Sqrt(m.be.SumSquares(m.grads))
	if norm > maxNorm && maxNorm > 0 {
		m.be.Scale(m.grads, float32(maxNorm/norm))
	}
	return norm
}

// ZeroGrad clears the gradients.
func (m *Model) ZeroGrad() { m.be.Zero(m.grads) }

// Step applies one AdamW update to every weight; norm gains get no
// weight decay.
func (m *Model) Step(h nn.AdamW) {
	if m.adamM == nil {
		m.adamM, m.adamV = m.be.Alloc(m.Params()), m.be.Alloc(m.Params())
	}
	for _, t := range m.specs {
		ht := h
		if !t.decay {
			ht.WeightDecay = 0
		}
		view := func(b nn.Buf) nn.Buf { return m.be.Slice(b, t.offset, t.size()) }
		m.be.AdamW(view(m.params), view(m.grads), view(m.adamM), view(m.adamV), ht)
	}
}

// Logits runs Forward and returns the logits on the host as a shaped
// (len(sel), Vocab) tensor: the form the sampler and other callers outside
// the engine's hot loops consume.
func (m *Model) Logits(ids []int32, batch, seq int, sel []int32) (*tensor.Dense, error) {
	buf, err := m.Forward(ids, batch, seq, sel)
	if err != nil {
		return nil, err
	}
	return tensor.New(tensor.WithShape(len(sel), m.Vocab), tensor.WithBacking(m.host(buf))), nil
}

// Moments returns host copies of AdamW's first and second moments (nil
// before the first Step).
func (m *Model) Moments() (first, second []float32) {
	if m.adamM == nil {
		return nil, nil
	}
	return m.host(m.adamM), m.host(m.adamV)
}

// SetMoments restores AdamW's moments, to resume training exactly.
func (m *Model) SetMoments(first, second []float32) {
	if m.adamM == nil {
		m.adamM, m.adamV = m.be.Alloc(m.Params()), m.be.Alloc(m.Params())
	}
	m.be.Upload(m.adamM, first)
	m.be.Upload(m.adamV, second)
}

// Weights returns a host copy of every weight, in layout order.
func (m *Model) Weights() []float32 { return m.host(m.params) }

// Gradients returns a host copy of the gradients, in layout order.
func (m *Model) Gradients() []float32 { return m.host(m.grads) }

// SetWeights uploads weights in layout order.
func (m *Model) SetWeights(w []float32) { m.be.Upload(m.params, w) }

func (m *Model) host(b nn.Buf) []float32 {
	out := make([]float32, b.Len())
	m.be.Download(out, b)
	return out
}
