// Package clip is a small CLIP for ShapeWorld: an image tower over the
// canvas's 8×8 RGB patches and a text tower over the grammar's words,
// trained contrastively (symmetric InfoNCE) so that the cosine of their
// embeddings says how well a text and a picture agree. Both towers are
// the engine's transformer stack; the contrastive head, a B×B matrix, is
// computed on the host.
package clip

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"parascope/engine/checkpoint"
	"parascope/engine/infile"
	"parascope/engine/memory"
	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/safetensors"
	"parascope/engine/token"
	"parascope/engine/world"
)

// Geometry of the inputs.
const (
	Patches  = (world.Canvas / world.PatchPx) * (world.Canvas / world.PatchPx)
	PatchDim = world.PatchPx * world.PatchPx * 3
	TextLen  = token.ReasoningLen + 1 // <|bos|>, then the words, padded
)

// Config fixes the towers' shape; both towers share it.
type Config struct {
	Layers int     `json:"layers"`
	DModel int     `json:"d_model"`
	Heads  int     `json:"heads"`
	MLP    int     `json:"mlp"`
	Embed  int     `json:"embed"` // width of the joint embedding
	Vocab  int     `json:"vocab"` // text ids below this
	Scale  float64 `json:"scale"` // logit scale: 1 / temperature
	// Input makes the picture tower read the input picture too, each
	// patch beside the output's at the same place: a reasoning says what
	// changes and what stays, which only the input can confirm.
	Input bool `json:"input,omitempty"`
	// Joint is the depth of a stack that reads the text's and the
	// picture's token states together (a cross-encoder over the towers);
	// with it a pair's score is that stack's verdict, not the cosine.
	Joint int `json:"joint,omitempty"`
}

// patchWidth is a picture token's width: an output patch, and the input
// picture's patch when the tower reads it.
func (c Config) patchWidth() int {
	if c.Input {
		return 2 * PatchDim
	}
	return PatchDim
}

func (c Config) stack() model.Config {
	return model.Config{Layers: c.Layers, DModel: c.DModel, Heads: c.Heads, MLP: c.MLP, Vocab: 1,
		RopeTheta: 10000, NormEps: 1e-5, MaxLen: max(Patches, TextLen)}
}

// Validate reports a shape that cannot work.
func (c Config) Validate() error {
	if c.Embed < 1 || c.Vocab < 1 || c.Scale <= 0 {
		return fmt.Errorf("clip: embed %d, vocab %d and scale %g must be positive", c.Embed, c.Vocab, c.Scale)
	}
	if c.Joint < 0 {
		return fmt.Errorf("clip: joint %d layers, want 0 or more", c.Joint)
	}
	return c.stack().Validate()
}

// weights counts the towers' weights as params lays them out, saturating
// (see memory.Mul).
func (c Config) weights() int {
	d := c.DModel
	return memory.Add(memory.Mul(d, c.patchWidth()), memory.Mul(Patches, d), memory.Mul(2, c.stack().StackParams()),
		memory.Mul(2, d), memory.Mul(2, c.Embed, d), memory.Mul(c.Vocab, d), c.jointWeights())
}

// WeightBytes estimates what New allocates: the weights in float32 and
// the bookkeeping of the 18·layers + 7 tensors, and the joint stack's
// 9·joint + 2.
func (c Config) WeightBytes() int {
	tensors := memory.Add(7, memory.Mul(18, c.Layers), c.jointTensors())
	return memory.Add(memory.Mul(4, c.weights()), memory.Mul(model.TensorOverhead, tensors))
}

// TrainingBytes estimates what a training step on batch pairs holds, with
// at most one hard negative text and one picture a pair (ni ≤ 2·batch
// pictures of rv = ni·Patches rows, nt ≤ 2·batch texts of rt = nt·TextLen
// rows): WeightBytes, 12 bytes a weight for its gradient and AdamW's
// moments, the two stacks' activations (model.Config.StackBytes), and in
// float32 the encoders' buffers and their host copies: the patches
// (2·rv·patchWidth), the pooling
// matrices, which grow with the square of the batch (2·ni·rv + 2·nt·rt),
// four d-wide buffers and a norm's scale a row, four d-wide and four
// embed-wide buffers a picture or text, and the similarities (2·ni·nt).
func (c Config) TrainingBytes(batch int) int {
	ni, nt, d := memory.Mul(2, batch), memory.Mul(2, batch), c.DModel
	rv, rt := memory.Mul(ni, Patches), memory.Mul(nt, TextLen)
	floats := memory.Add(memory.Mul(2, rv, c.patchWidth()), memory.Mul(2, ni, rv), memory.Mul(2, nt, rt),
		memory.Mul(memory.Add(rv, rt), memory.Add(memory.Mul(4, d), 1)),
		memory.Mul(memory.Add(ni, nt), memory.Add(memory.Mul(4, d), memory.Mul(4, c.Embed))), memory.Mul(2, ni, nt))
	stacks := memory.Add(c.stack().StackBytes(ni, Patches), c.stack().StackBytes(nt, TextLen))
	return memory.Add(c.WeightBytes(), memory.Mul(12, c.weights()), stacks, memory.Mul(4, floats), c.jointBytes(batch))
}

func (c Config) params() []model.Param {
	d := c.DModel
	ps := []model.Param{
		{Name: "vision.patch", Shape: []int{d, c.patchWidth()}, Decay: true},
		{Name: "vision.pos", Shape: []int{Patches, d}, Decay: true},
	}
	ps = append(ps, model.BlockParams(c.stack(), "vision.")...)
	ps = append(ps,
		model.Param{Name: "vision.ln", Shape: []int{d}},
		model.Param{Name: "vision.proj", Shape: []int{c.Embed, d}, Decay: true},
		model.Param{Name: "text.wte", Shape: []int{c.Vocab, d}, Decay: true},
	)
	ps = append(ps, model.BlockParams(c.stack(), "text.")...)
	ps = append(ps,
		model.Param{Name: "text.ln", Shape: []int{d}},
		model.Param{Name: "text.proj", Shape: []int{c.Embed, d}, Decay: true},
	)
	return append(ps, c.jointParams()...)
}

// Model is the two towers on a backend.
type Model struct {
	Config
	*model.ParamSet
	be       nn.Backend
	vis, txt *model.Stack
	act      *acts
	joint    *model.Stack // nil without a joint stack
	jact     *jointActs
}

// New makes a model with zero weights; see Init.
func New(cfg Config, be nn.Backend) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// A checkpoint's metadata can claim any shape: check before the layout.
	if err := memory.Check(cfg.WeightBytes(), "holding its weights"); err != nil {
		return nil, fmt.Errorf("clip: towers of %d layers, d_model %d, mlp %d: %w", cfg.Layers, cfg.DModel, cfg.MLP, err)
	}
	ps := model.NewParamSet(be, cfg.params())
	m := &Model{Config: cfg, ParamSet: ps, be: be,
		vis: model.NewStack(cfg.stack(), ps, "vision."), txt: model.NewStack(cfg.stack(), ps, "text.")}
	if cfg.Joint > 0 {
		m.joint = model.NewStack(cfg.jointStack(), ps, "joint.")
	}
	return m, nil
}

// Init draws fresh weights.
func (m *Model) Init(seed uint64) { m.ParamSet.Init(seed, 0.02) }

// File returns the weights as a safetensors file of kind clip-scorer,
// with the config in its metadata; FromFile reads one back.
func (m *Model) File(meta map[string]string) (*safetensors.File, error) {
	f, err := m.ParamSet.File(meta, "clip", m.Config)
	if err != nil {
		return nil, err
	}
	checkpoint.CLIP.Mark(f)
	return f, nil
}

// FromFile builds a model from a CLIP checkpoint already read; tensors
// whose names start with "adam." (training state) are left to the caller.
func FromFile(f *safetensors.File, be nn.Backend) (*Model, error) {
	var cfg Config
	if err := infile.DecodeJSON([]byte(f.Metadata["clip"]), &cfg, false); err != nil {
		return nil, fmt.Errorf("not a CLIP checkpoint: metadata \"clip\": %w", err)
	}
	// A claimed shape must fit the weights the file holds before anything
	// is allocated for it, so a file cannot ask for more than its size.
	held := 0
	for _, t := range f.Tensors {
		if !strings.HasPrefix(t.Name, "adam.") {
			held += len(t.Data)
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if w := cfg.weights(); w != held {
		return nil, fmt.Errorf("clip: its config's shape has %d weights, the file holds %d", w, held)
	}
	m, err := New(cfg, be)
	if err != nil {
		return nil, err
	}
	byName := map[string]safetensors.Tensor{}
	for _, t := range f.Tensors {
		if !strings.HasPrefix(t.Name, "adam.") {
			byName[t.Name] = t
		}
	}
	return m, m.SetTensors(byName)
}

// Picture is what the picture tower reads: the output picture's patches
// and the input picture's, each Patches×PatchDim values of RGB in
// [−1, 1] with 0 the background. Input is read only by a tower made to;
// nil reads as an empty canvas (a generation has no input).
type Picture struct {
	Patches, Input []float32
}

// Pair is one picture and one text as the towers read them.
type Pair struct {
	Picture
	Text []int32 // TextLen ids: <|bos|>, words, <|pad|>…
}

// acts hold one batch's activations for the backward pass.
type acts struct {
	ni, nt                 int // pictures, texts
	patches, x, ids        nn.Buf
	textIDs                []int32
	poolV, poolT           nn.Buf // pooling matrices, n × rows
	visOut, txtOut         nn.Buf
	visH, visR, txtH, txtR nn.Buf // final norms and their rstd
	visP, txtP             nn.Buf // pooled, n × d
	visZ, txtZ             nn.Buf // projected, n × embed
	dZ, dP, dH, dx         nn.Buf
	dZT, dPT, dHT, dxT     nn.Buf
}

func (m *Model) acts(ni, nt int) *acts {
	if a := m.act; a != nil && a.ni == ni && a.nt == nt {
		return a
	}
	d, e, alloc := m.DModel, m.Embed, m.be.Alloc
	rv, rt := ni*Patches, nt*TextLen
	a := &acts{ni: ni, nt: nt, patches: alloc(rv * m.patchWidth()), x: alloc(rv * d), ids: alloc(rt * d),
		poolV: alloc(ni * rv), poolT: alloc(nt * rt),
		visH: alloc(rv * d), visR: alloc(rv), txtH: alloc(rt * d), txtR: alloc(rt),
		visP: alloc(ni * d), txtP: alloc(nt * d), visZ: alloc(ni * e), txtZ: alloc(nt * e),
		dZ: alloc(ni * e), dP: alloc(ni * d), dH: alloc(rv * d), dx: alloc(rv * d),
		dZT: alloc(nt * e), dPT: alloc(nt * d), dHT: alloc(rt * d), dxT: alloc(rt * d)}
	m.act = a
	return a
}

// split returns the pairs' pictures followed by extra pictures, and
// their texts followed by extra texts.
func split(pairs []Pair, texts [][]int32, pictures []Picture) ([]Picture, [][]int32) {
	pics := make([]Picture, 0, len(pairs)+len(pictures))
	txts := make([][]int32, 0, len(pairs)+len(texts))
	for _, p := range pairs {
		pics, txts = append(pics, p.Picture), append(txts, p.Text)
	}
	return append(pics, pictures...), append(txts, texts...)
}

// encode runs the picture tower on pictures and the text tower on texts,
// and returns the projected (not yet normalised) embeddings on the host,
// one row of embed values each.
func (m *Model) encode(pictures []Picture, texts [][]int32) (img, txt []float32, err error) {
	ni, nt, w := len(pictures), len(texts), m.patchWidth()
	if ni == 0 || nt == 0 {
		return nil, nil, errors.New("clip: no pairs")
	}
	host := make([]float32, ni*Patches*w)
	for i, p := range pictures {
		if len(p.Patches) != Patches*PatchDim || (p.Input != nil && len(p.Input) != Patches*PatchDim) {
			return nil, nil, fmt.Errorf("clip: picture %d has %d patch values and %d input values, want %d", i, len(p.Patches), len(p.Input), Patches*PatchDim)
		}
		for t := range Patches {
			row := host[(i*Patches+t)*w:]
			copy(row, p.Patches[t*PatchDim:(t+1)*PatchDim])
			if m.Input && p.Input != nil {
				copy(row[PatchDim:], p.Input[t*PatchDim:(t+1)*PatchDim])
			}
		}
	}
	be, a, d, e := m.be, m.acts(ni, nt), m.DModel, m.Embed
	a.textIDs = a.textIDs[:0]
	poolT := make([]float32, nt*nt*TextLen)
	for i, text := range texts {
		if len(text) != TextLen {
			return nil, nil, fmt.Errorf("clip: text %d has %d ids, want %d", i, len(text), TextLen)
		}
		words := 0
		for _, id := range text {
			if id < 0 || int(id) >= m.Vocab {
				return nil, nil, fmt.Errorf("clip: text %d: id %d outside the vocabulary of %d", i, id, m.Vocab)
			}
			if id != token.Pad {
				words++
			}
		}
		for t, id := range text {
			if id != token.Pad {
				poolT[i*nt*TextLen+i*TextLen+t] = 1 / float32(words)
			}
		}
		a.textIDs = append(a.textIDs, text...)
	}
	poolV := make([]float32, ni*ni*Patches)
	for i := range ni {
		for t := range Patches {
			poolV[i*ni*Patches+i*Patches+t] = 1 / float32(Patches)
		}
	}
	be.Upload(a.patches, host)
	be.Upload(a.poolV, poolV)
	be.Upload(a.poolT, poolT)
	eps := float32(1e-5)
	// Pictures: patches·Wᵀ + pos, the stack, a norm, mean over patches, projection.
	be.MatMul(a.x, a.patches, m.View("vision.patch"), ni*Patches, d, w, false, true, 1, 0)
	for i := range ni {
		be.AddTo(be.Slice(a.x, i*Patches*d, Patches*d), m.View("vision.pos"))
	}
	a.visOut = m.vis.Forward(a.x, ni, Patches)
	be.RMSNorm(a.visH, a.visR, a.visOut, m.View("vision.ln"), ni*Patches, d, eps)
	be.MatMul(a.visP, a.poolV, a.visH, ni, d, ni*Patches, false, false, 1, 0)
	be.MatMul(a.visZ, a.visP, m.View("vision.proj"), ni, e, d, false, true, 1, 0)
	// Texts: embeddings, the stack, a norm, mean over the words, projection.
	be.Embed(a.ids, m.View("text.wte"), a.textIDs, d)
	a.txtOut = m.txt.Forward(a.ids, nt, TextLen)
	be.RMSNorm(a.txtH, a.txtR, a.txtOut, m.View("text.ln"), nt*TextLen, d, eps)
	be.MatMul(a.txtP, a.poolT, a.txtH, nt, d, nt*TextLen, false, false, 1, 0)
	be.MatMul(a.txtZ, a.txtP, m.View("text.proj"), nt, e, d, false, true, 1, 0)
	img, txt = make([]float32, ni*e), make([]float32, nt*e)
	be.Download(img, a.visZ)
	be.Download(txt, a.txtZ)
	return img, txt, nil
}

// backward takes the gradients of the projected embeddings, and those of
// the towers' normed token states when the joint stack read them (nil
// otherwise), and accumulates every weight's gradient.
func (m *Model) backward(dImg, dTxt []float32, dVis, dTxtH nn.Buf) {
	be, a, d, e := m.be, m.act, m.DModel, m.Embed
	ni, nt := a.ni, a.nt
	// Pictures.
	be.Upload(a.dZ, dImg)
	be.MatMul(m.Grad("vision.proj"), a.dZ, a.visP, e, d, ni, true, false, 1, 1)
	be.MatMul(a.dP, a.dZ, m.View("vision.proj"), ni, d, e, false, false, 1, 0)
	be.MatMul(a.dH, a.poolV, a.dP, ni*Patches, d, ni, true, false, 1, 0)
	if dVis != nil {
		be.AddTo(a.dH, dVis)
	}
	be.Zero(a.dx)
	be.RMSNormBackward(a.dx, m.Grad("vision.ln"), a.dH, a.visOut, m.View("vision.ln"), a.visR, ni*Patches, d)
	dx := m.vis.Backward(a.dx)
	for i := range ni {
		be.AddTo(m.Grad("vision.pos"), be.Slice(dx, i*Patches*d, Patches*d))
	}
	be.MatMul(m.Grad("vision.patch"), dx, a.patches, d, m.patchWidth(), ni*Patches, true, false, 1, 1)
	// Texts.
	be.Upload(a.dZT, dTxt)
	be.MatMul(m.Grad("text.proj"), a.dZT, a.txtP, e, d, nt, true, false, 1, 1)
	be.MatMul(a.dPT, a.dZT, m.View("text.proj"), nt, d, e, false, false, 1, 0)
	be.MatMul(a.dHT, a.poolT, a.dPT, nt*TextLen, d, nt, true, false, 1, 0)
	if dTxtH != nil {
		be.AddTo(a.dHT, dTxtH)
	}
	be.Zero(a.dxT)
	be.RMSNormBackward(a.dxT, m.Grad("text.ln"), a.dHT, a.txtOut, m.View("text.ln"), a.txtR, nt*TextLen, d)
	be.EmbedBackward(m.Grad("text.wte"), m.txt.Backward(a.dxT), a.textIDs, d)
}

// Batch is a training step: matching pairs, and hard negatives — texts
// no picture matches (e.g. a pair's text with one fact changed), pictures
// no text matches (e.g. a pair's picture with an object misdrawn) — each
// made from the pair TextOf or PictureOf names.
type Batch struct {
	Pairs     []Pair
	Texts     [][]int32
	TextOf    []int
	Pictures  []Picture
	PictureOf []int
}

// Loss runs both towers on a batch and the symmetric InfoNCE loss (pair
// i's picture should pick text i among the batch's, and the other way
// round; a hard negative text joins the texts each picture must rank below
// its own, a hard negative picture the pictures each text must), plus,
// with a joint stack, its loss (jointLoss); then the backward pass.
// Gradients accumulate.
func (m *Model) Loss(b Batch) (float64, error) {
	if len(b.TextOf) != len(b.Texts) || len(b.PictureOf) != len(b.Pictures) {
		return 0, fmt.Errorf("clip: %d hard negative texts with %d owners, %d pictures with %d", len(b.Texts), len(b.TextOf), len(b.Pictures), len(b.PictureOf))
	}
	pics, txts := split(b.Pairs, b.Texts, b.Pictures)
	img, txt, err := m.encode(pics, txts)
	if err != nil {
		return 0, err
	}
	n := len(b.Pairs)
	loss, dImg, dTxt := contrastive(img, txt, n, len(pics), len(txts), m.Embed, m.Scale)
	var dVis, dTxtH nn.Buf
	if m.joint != nil {
		cands, agree := candidates(b)
		logits := m.jointForward(cands)
		l, dLogits := jointLoss(logits, agree)
		loss += l
		dVis, dTxtH = m.jointBackward(dLogits)
	}
	m.backward(dImg, dTxt, dVis, dTxtH)
	return loss, nil
}

// Scores returns each pair's score: the cosine of its picture and text
// embeddings, or with a joint stack its verdict, the probability that the
// two agree.
func (m *Model) Scores(pairs []Pair) ([]float64, error) {
	img, txt, err := m.encode(split(pairs, nil, nil))
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(pairs))
	if m.joint != nil {
		cands := make([]candidate, len(pairs))
		for i := range cands {
			cands[i] = candidate{i, i}
		}
		for i, z := range m.jointForward(cands) {
			out[i] = 1 / (1 + math.Exp(-float64(z)))
		}
		return out, nil
	}
	for i := range pairs {
		zi, _ := normalize(img[i*m.Embed : (i+1)*m.Embed])
		zt, _ := normalize(txt[i*m.Embed : (i+1)*m.Embed])
		for k := range zi {
			out[i] += zi[k] * zt[k]
		}
	}
	return out, nil
}

// Embeddings returns the normalised picture and text embeddings, for
// retrieval: similarity is their dot product.
func (m *Model) Embeddings(pairs []Pair) (img, txt [][]float64, err error) {
	pi, pt, err := m.encode(split(pairs, nil, nil))
	if err != nil {
		return nil, nil, err
	}
	for i := range pairs {
		zi, _ := normalize(pi[i*m.Embed : (i+1)*m.Embed])
		zt, _ := normalize(pt[i*m.Embed : (i+1)*m.Embed])
		img, txt = append(img, zi), append(txt, zt)
	}
	return img, txt, nil
}

// normalize returns x/|x| in float64 and |x|.
func normalize(x []float32) ([]float64, float64) {
	n := 0.0
	for _, v := range x {
		n += float64(v) * float64(v)
	}
	n = math.Sqrt(n)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v) / max(n, 1e-12)
	}
	return out, n
}

// StartFrom sets each weight of m that o has to o's, which must have the
// same shape. Every tower weight must be there; the joint stack is left
// as drawn when o has none, so a cross-encoder starts from trained towers.
func (m *Model) StartFrom(o *Model) error {
	params, shapes := m.params(), map[string][]int{}
	for _, p := range params {
		shapes[p.Name] = p.Shape
	}
	for _, t := range o.Tensors() {
		if s, ok := shapes[t.Name]; !ok || !slices.Equal(s, t.Shape) {
			return fmt.Errorf("clip: tensor %q of shape %v has no counterpart (%v) in this scorer", t.Name, t.Shape, s)
		}
		delete(shapes, t.Name)
	}
	for _, p := range params {
		if _, missing := shapes[p.Name]; missing && !strings.HasPrefix(p.Name, "joint.") {
			return fmt.Errorf("clip: tensor %q of this scorer is not in the one it starts from", p.Name)
		}
	}
	for _, t := range o.Tensors() {
		m.be.Upload(m.View(t.Name), t.Data)
	}
	return nil
}
