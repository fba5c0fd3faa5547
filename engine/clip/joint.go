package clip

import (
	"math"

	"parascope/engine/memory"
	"parascope/engine/model"
	"parascope/engine/nn"
)

// The joint stack is a cross-encoder over the towers: a pair's text token
// states and picture token states (each tower's output after its final
// norm), one sequence of JointLen rows, go through Joint more blocks, a
// norm, the mean over the rows and a linear head to one logit, whether the
// two agree. A dual encoder compares one summary of the text with one of
// the picture; binding ("the triangle moves to the top, the diamond to
// the right") is a relation between particular words and particular
// patches, which attention across the two can read.

// JointLen is a joint sequence's length: the text's rows, then the picture's.
const JointLen = TextLen + Patches

func (c Config) jointStack() model.Config {
	s := c.stack()
	s.Layers, s.MaxLen = c.Joint, JointLen
	return s
}

func (c Config) jointParams() []model.Param {
	if c.Joint == 0 {
		return nil
	}
	d := c.DModel
	return append(model.BlockParams(c.jointStack(), "joint."),
		model.Param{Name: "joint.ln", Shape: []int{d}},
		model.Param{Name: "joint.head", Shape: []int{1, d}, Decay: true})
}

// jointWeights counts the joint stack's weights, jointTensors its tensors.
func (c Config) jointWeights() int {
	if c.Joint == 0 {
		return 0
	}
	return memory.Add(c.jointStack().StackParams(), memory.Mul(2, c.DModel))
}

func (c Config) jointTensors() int {
	if c.Joint == 0 {
		return 0
	}
	return memory.Add(2, memory.Mul(9, c.Joint))
}

// jointBytes estimates the joint stack's share of a training step on
// batch pairs, with at most one hard negative text and picture a pair,
// so at most 5·batch candidates (candidates): its activations, and in
// float32 the towers' states gathered in one buffer and its gradient, the
// gathered input, the final norm, its gradients (four d-wide buffers and
// a scale a row), the pooling matrix and the pooled rows and gradients.
func (c Config) jointBytes(batch int) int {
	if c.Joint == 0 {
		return 0
	}
	d := c.DModel
	p := memory.Mul(5, batch)
	rows := memory.Mul(p, JointLen)
	states := memory.Mul(2, memory.Add(memory.Mul(2, batch, TextLen), memory.Mul(2, batch, Patches)), d)
	floats := memory.Add(states, memory.Mul(rows, memory.Add(memory.Mul(4, d), 1)), memory.Mul(p, rows),
		memory.Mul(2, p, d), memory.Mul(2, p))
	return memory.Add(c.jointStack().StackBytes(p, JointLen), memory.Mul(4, floats))
}

// A candidate is a picture and a text of the last encode, by index.
type candidate struct{ picture, text int }

// candidates lists what the joint stack is trained to tell apart, and
// whether each agrees: every pair (its picture and text), its picture
// beside the next pair's text and the next pair's picture beside its
// text, and each hard negative beside the pair it was made from.
// Indices follow split: pairs first, then the extra pictures and texts.
func candidates(b Batch) ([]candidate, []bool) {
	n := len(b.Pairs)
	var cands []candidate
	var agree []bool
	add := func(c candidate, ok bool) { cands, agree = append(cands, c), append(agree, ok) }
	for i := range n {
		add(candidate{i, i}, true)
		if n > 1 {
			add(candidate{i, (i + 1) % n}, false)
			add(candidate{(i + 1) % n, i}, false)
		}
	}
	for k, of := range b.TextOf {
		add(candidate{of, n + k}, false)
	}
	for k, of := range b.PictureOf {
		add(candidate{n + k, of}, false)
	}
	return cands, agree
}

// jointLoss is the binary cross-entropy of the logits against agreement,
// the agreeing and the disagreeing candidates weighted half each (a batch
// has several times more of the latter); it returns the loss and its
// gradient with respect to the logits.
func jointLoss(logits []float32, agree []bool) (float64, []float32) {
	pos := 0
	for _, a := range agree {
		if a {
			pos++
		}
	}
	neg := len(agree) - pos
	loss, grad := 0.0, make([]float32, len(logits))
	for i, z := range logits {
		x, w, y := float64(z), 0.0, 0.0
		if agree[i] {
			w, y = 0.5/float64(pos), 1
		} else if neg > 0 {
			w = 0.5 / float64(neg)
		}
		// −y·log σ(x) − (1−y)·log(1−σ(x)) = softplus(x) − y·x.
		loss += w * (softplus(x) - y*x)
		grad[i] = float32(w * (1/(1+math.Exp(-x)) - y))
	}
	return loss, grad
}

func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

// jointActs hold the joint stack's inputs and activations for its backward.
type jointActs struct {
	p, states      int // candidates, rows of the towers' states
	rows           []int32
	all, dAll      nn.Buf // the texts' normed states, then the pictures'
	x, out, h, r   nn.Buf
	pool, pooled   nn.Buf
	logits         nn.Buf
	dLogits, dPool nn.Buf
	dH, dx         nn.Buf
}

func (m *Model) jointActs(p, states int) *jointActs {
	if a := m.jact; a != nil && a.p == p && a.states == states {
		return a
	}
	d, alloc, rows := m.DModel, m.be.Alloc, p*JointLen
	a := &jointActs{p: p, states: states, all: alloc(states * d), dAll: alloc(states * d),
		x: alloc(rows * d), h: alloc(rows * d), r: alloc(rows), pool: alloc(p * rows), pooled: alloc(p * d),
		logits: alloc(p), dLogits: alloc(p), dPool: alloc(p * d), dH: alloc(rows * d), dx: alloc(rows * d)}
	pool := make([]float32, p*rows)
	for i := range p {
		for t := range JointLen {
			pool[i*rows+i*JointLen+t] = 1 / float32(JointLen)
		}
	}
	m.be.Upload(a.pool, pool)
	m.jact = a
	return a
}

// jointForward runs the joint stack on candidates of the last encode and
// returns their logits.
func (m *Model) jointForward(cands []candidate) []float32 {
	be, t, d := m.be, m.act, m.DModel
	textRows, picRows := t.nt*TextLen, t.ni*Patches
	a := m.jointActs(len(cands), textRows+picRows)
	be.Copy(be.Slice(a.all, 0, textRows*d), t.txtH)
	be.Copy(be.Slice(a.all, textRows*d, picRows*d), t.visH)
	a.rows = a.rows[:0]
	for _, c := range cands {
		for k := range TextLen {
			a.rows = append(a.rows, int32(c.text*TextLen+k))
		}
		for k := range Patches {
			a.rows = append(a.rows, int32(textRows+c.picture*Patches+k))
		}
	}
	rows := len(cands) * JointLen
	be.Gather(a.x, a.all, a.rows, d)
	a.out = m.joint.Forward(a.x, len(cands), JointLen)
	be.RMSNorm(a.h, a.r, a.out, m.View("joint.ln"), rows, d, 1e-5)
	be.MatMul(a.pooled, a.pool, a.h, len(cands), d, rows, false, false, 1, 0)
	be.MatMul(a.logits, a.pooled, m.View("joint.head"), len(cands), 1, d, false, true, 1, 0)
	out := make([]float32, len(cands))
	be.Download(out, a.logits)
	return out
}

// jointBackward takes the logits' gradients, accumulates the joint
// stack's weights' gradients and returns those of the pictures' and the
// texts' normed states, for the towers' backward.
func (m *Model) jointBackward(dLogits []float32) (dVis, dTxt nn.Buf) {
	be, a, t, d := m.be, m.jact, m.act, m.DModel
	rows := a.p * JointLen
	be.Upload(a.dLogits, dLogits)
	be.MatMul(m.Grad("joint.head"), a.dLogits, a.pooled, 1, d, a.p, true, false, 1, 1)
	be.MatMul(a.dPool, a.dLogits, m.View("joint.head"), a.p, d, 1, false, false, 1, 0)
	be.MatMul(a.dH, a.pool, a.dPool, rows, d, a.p, true, false, 1, 0)
	be.Zero(a.dx)
	be.RMSNormBackward(a.dx, m.Grad("joint.ln"), a.dH, a.out, m.View("joint.ln"), a.r, rows, d)
	be.Scatter(a.dAll, m.joint.Backward(a.dx), a.rows, d)
	textRows := t.nt * TextLen
	return be.Slice(a.dAll, textRows*d, t.ni*Patches*d), be.Slice(a.dAll, 0, textRows*d)
}
