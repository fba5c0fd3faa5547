package model

import (
	"fmt"
	"math"

	"parascope/engine/memory"
	"parascope/engine/nn"
)

// Model is the mask predictor on a backend.
type Model struct {
	Config
	*ParamSet
	be    nn.Backend
	w, g  head // the embedding and head, weights and gradients (made by the first Backward)
	stack *Stack
	act   *activations // the last Forward's, for Backward
	inf   *activations // Infer's, without the backward's buffers
	close func() error // releases mapped weights; nil when there are none
}

// head holds the views outside the blocks.
type head struct {
	wte, lnF, head nn.Buf
}

// New makes a model with all weights zero; see Init and Load. It holds
// the weights alone until it is trained: the gradients, the optimiser's
// moments and the activations a backward needs come with the first call
// that uses them (Forward, Loss, Backward, ZeroGrad, Step), and sampling
// through Infer or Logits needs none of them.
func New(cfg Config, be nn.Backend) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	// A checkpoint's metadata can claim any shape: the check comes before
	// the layout, which is itself proportional to the layers.
	if err := memory.Check(cfg.WeightBytes(), "holding its weights"); err != nil {
		return nil, fmt.Errorf("model of %d layers, d_model %d, mlp %d, vocabulary %d: %w", cfg.Layers, cfg.DModel, cfg.MLP, cfg.Vocab, err)
	}
	return withParams(cfg, be, NewParamSet(be, cfg.Layout())), nil
}

// NewReadOnly makes a model over weights the backend already holds, one
// buffer for each tensor of cfg.Layout() (bfloat16 matrices from
// nn.Backend.WeightsBF16, float32 gains): it runs, and cannot be trained.
func NewReadOnly(cfg Config, be nn.Backend, weights map[string]nn.Buf) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	ps, err := NewReadOnlyParamSet(be, cfg.Layout(), weights)
	if err != nil {
		return nil, err
	}
	return withParams(cfg, be, ps), nil
}

func withParams(cfg Config, be nn.Backend, ps *ParamSet) *Model {
	return &Model{Config: cfg, ParamSet: ps, be: be, stack: NewStack(cfg, ps, ""),
		w: head{ps.View("wte"), ps.View("ln_f"), ps.View("head")}}
}

// Close releases the weights a model maps from its checkpoint (see Load);
// the model must not be used after it. Other models hold nothing to close.
func (m *Model) Close() error {
	if m.close == nil {
		return nil
	}
	err := m.close()
	m.close = nil
	return err
}

// Backend is the backend the model runs on.
func (m *Model) Backend() nn.Backend { return m.be }

// Init draws fresh weights: matrices from N(0, 0.02²), norm gains 1.
func (m *Model) Init(seed uint64) { m.ParamSet.Init(seed, 0.02) }

// activations hold what the head's backward needs, for one batch shape;
// the stack keeps its own. Infer's have no backward buffers (d…).
type activations struct {
	batch, seq, nsel int
	ids, sel         []int32
	emb, out         nn.Buf // the embeddings; the stack's output
	h, rstdF         nn.Buf
	hs, logits       nn.Buf
	dx, dh           nn.Buf
	dhs, dLogits     nn.Buf
}

// activationsFor returns a if it fits the batch shape, else new ones, with
// the backward's buffers when backward is set.
func (m *Model) activationsFor(a *activations, batch, seq, nsel int, backward bool) *activations {
	if a != nil && a.batch == batch && a.seq == seq && a.nsel == nsel {
		return a
	}
	rows, d, alloc := batch*seq, m.DModel, m.be.Alloc
	a = &activations{batch: batch, seq: seq, nsel: nsel,
		emb: alloc(rows * d), h: alloc(rows * d), rstdF: alloc(rows),
		hs: alloc(nsel * d), logits: alloc(nsel * m.Vocab)}
	if backward {
		a.dx, a.dh, a.dhs, a.dLogits = alloc(rows*d), alloc(rows*d), alloc(nsel*d), alloc(nsel*m.Vocab)
	}
	return a
}

// Span asks for logits at the flat positions Sel (b·seq + t) over the
// vocabulary ids [Lo, Hi): a [len(Sel), Hi−Lo] block, whose column j is
// id Lo+j. A step that may only choose text tokens, or only image codes,
// asks for that range alone and pays the head for it alone.
type Span struct {
	Sel    []int32
	Lo, Hi int
}

// allOf is the span of every id at sel.
func (m *Model) allOf(sel []int32) []Span { return []Span{{Sel: sel, Hi: m.Vocab}} }

// check validates a batch against the config, and returns how many
// positions the spans ask for.
func (m *Model) check(ids []int32, batch, seq int, spans []Span) (nsel int, err error) {
	switch {
	case batch < 1 || seq < 1 || len(ids) != batch*seq:
		return 0, fmt.Errorf("model: %d ids for a batch of %d×%d", len(ids), batch, seq)
	case seq > m.MaxLen:
		return 0, fmt.Errorf("model: sequence of %d is longer than max_len %d", seq, m.MaxLen)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= m.Vocab {
			return 0, fmt.Errorf("model: token %d at position %d is outside the vocabulary of %d", id, i, m.Vocab)
		}
	}
	for _, s := range spans {
		if s.Lo < 0 || s.Hi > m.Vocab || s.Lo >= s.Hi {
			return 0, fmt.Errorf("model: vocabulary range [%d, %d) is not inside [0, %d)", s.Lo, s.Hi, m.Vocab)
		}
		for _, p := range s.Sel {
			if p < 0 || int(p) >= len(ids) {
				return 0, fmt.Errorf("model: selected position %d is outside the batch of %d", p, len(ids))
			}
		}
		nsel += len(s.Sel)
	}
	if nsel == 0 {
		return 0, fmt.Errorf("model: no positions selected")
	}
	return nsel, nil
}

// Forward runs the batch (batch sequences of seq tokens, row-major) and
// returns the logits [len(sel), Vocab] at the selected flat positions
// (b·seq + t), on the backend. The activations are kept for Backward;
// when none will follow, Infer gives the same logits in far less memory.
func (m *Model) Forward(ids []int32, batch, seq int, sel []int32) (nn.Buf, error) {
	if m.ReadOnly() {
		return nil, fmt.Errorf("model: %w", ErrReadOnly)
	}
	spans := m.allOf(sel)
	if _, err := m.check(ids, batch, seq, spans); err != nil {
		return nil, err
	}
	m.act = m.activationsFor(m.act, batch, seq, len(sel), true)
	a := m.act
	a.ids, a.sel = append(a.ids[:0], ids...), append(a.sel[:0], sel...)
	return m.embedAndHead(a, ids, batch, seq, spans, m.stack.Forward), nil
}

// Infer is Forward for sampling and scoring: it keeps nothing for a
// backward, and its attention holds a block of scores at a time instead of
// every layer's batch·heads·seq² probabilities. The logits (owned by the
// model until the next Infer) are Forward's, to the bit on the CPU. A
// Backward after it still follows the last Forward.
func (m *Model) Infer(ids []int32, batch, seq int, sel []int32) (nn.Buf, error) {
	return m.InferSpans(ids, batch, seq, m.allOf(sel))
}

// InferSpans is Infer with the head run once per span, over the span's
// positions and vocabulary range only: the blocks, which most of a step
// costs, run once. The logits are the spans' blocks one after another,
// each equal to the columns Lo…Hi−1 of Infer's rows at its positions.
func (m *Model) InferSpans(ids []int32, batch, seq int, spans []Span) (nn.Buf, error) {
	nsel, err := m.check(ids, batch, seq, spans)
	if err != nil {
		return nil, err
	}
	m.inf = m.activationsFor(m.inf, batch, seq, nsel, false)
	return m.embedAndHead(m.inf, ids, batch, seq, spans, m.stack.Infer), nil
}

// embedAndHead embeds ids, runs the stack through body and the head over
// the spans, into a; it returns the logits, a prefix of a.logits.
func (m *Model) embedAndHead(a *activations, ids []int32, batch, seq int, spans []Span, body func(x nn.Buf, batch, seq int) nn.Buf) nn.Buf {
	be, rows, d := m.be, batch*seq, m.DModel
	be.Embed(a.emb, m.w.wte, ids, d)
	a.out = body(a.emb, batch, seq)
	be.RMSNorm(a.h, a.rstdF, a.out, m.w.lnF, rows, d, float32(m.NormEps))
	row, off := 0, 0
	for _, s := range spans {
		n, v := len(s.Sel), s.Hi-s.Lo
		if n == 0 {
			continue
		}
		hs := be.Slice(a.hs, row*d, n*d)
		be.Gather(hs, a.h, s.Sel, d)
		be.MatMul(be.Slice(a.logits, off, n*v), hs, be.Slice(m.w.head, s.Lo*d, v*d), n, v, d, false, true, 1, 0)
		row, off = row+n, off+n*v
	}
	return be.Slice(a.logits, 0, off)
}

// Backward accumulates into the gradients the effect of dLogits, the
// gradient of the loss with respect to the last Forward's logits.
func (m *Model) Backward(dLogits nn.Buf) error {
	be, a := m.be, m.act
	if m.ReadOnly() {
		return fmt.Errorf("model: %w", ErrReadOnly)
	}
	if a == nil {
		return fmt.Errorf("model: Backward before any Forward")
	}
	if dLogits.Len() != a.nsel*m.Vocab {
		return fmt.Errorf("model: %d logit gradients for the last Forward's %d×%d logits", dLogits.Len(), a.nsel, m.Vocab)
	}
	if m.g.wte == nil {
		m.g = head{m.Grad("wte"), m.Grad("ln_f"), m.Grad("head")}
	}
	rows, d, n := a.batch*a.seq, m.DModel, a.nsel
	be.MatMul(m.g.head, dLogits, a.hs, m.Vocab, d, n, true, false, 1, 1)
	be.MatMul(a.dhs, dLogits, m.w.head, n, d, m.Vocab, false, false, 1, 0)
	be.Scatter(a.dh, a.dhs, a.sel, d)
	be.Zero(a.dx)
	be.RMSNormBackward(a.dx, m.g.lnF, a.dh, a.out, m.w.lnF, a.rstdF, rows, d)
	be.EmbedBackward(m.g.wte, m.stack.Backward(a.dx), a.ids, d)
	return nil
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
	return first, second, m.Backward(m.act.dLogits)
}

// Logits runs Infer and returns the logits on the host, [len(sel), Vocab]
// row-major: the form the sampler and other callers outside the engine's
// hot loops consume.
func (m *Model) Logits(ids []int32, batch, seq int, sel []int32) ([]float32, error) {
	return m.LogitsSpans(ids, batch, seq, m.allOf(sel))
}

// LogitsSpans is InferSpans with the logits on the host.
func (m *Model) LogitsSpans(ids []int32, batch, seq int, spans []Span) ([]float32, error) {
	buf, err := m.InferSpans(ids, batch, seq, spans)
	if err != nil {
		return nil, err
	}
	host := make([]float32, buf.Len())
	m.be.Download(host, buf)
	return host, nil
}
