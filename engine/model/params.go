package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"

	"parascope/engine/nn"
	"parascope/engine/safetensors"
)

// Param describes one named weight tensor.
type Param struct {
	Name  string
	Shape []int
	Decay bool // weight decay and random init apply to matrices, not to gains
}

func (p Param) size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// ParamSet is a model's weights: named tensors in one flat buffer, a
// gradient buffer of the same layout, and AdamW's moments, so zeroing the
// gradients is one call, the update one loop and a checkpoint one read.
// The gradients and moments are allocated by the first call that needs
// them, so a model that only samples holds its weights alone.
//
// A read-only set (NewReadOnlyParamSet) has no flat buffer: its weights
// are buffers held elsewhere, such as the bfloat16 views of a mapped
// checkpoint. It can be run but not trained, initialised or saved.
type ParamSet struct {
	be           nn.Backend
	params       []Param
	offsets      []int
	n            int
	index        map[string]int
	flat         nn.Buf
	fixed        map[string]nn.Buf // a read-only set's weights, in place of flat
	grads        nn.Buf            // allocated by gradients
	adamM, adamV nn.Buf            // allocated on the first Step or SetMoments
}

// NewParamSet lays the tensors out in order, all zero.
func NewParamSet(be nn.Backend, params []Param) *ParamSet {
	p := layOut(be, params)
	p.flat = be.Alloc(p.n)
	return p
}

// NewReadOnlyParamSet makes a set whose weights are the given buffers,
// one per param, each of its param's size.
func NewReadOnlyParamSet(be nn.Backend, params []Param, weights map[string]nn.Buf) (*ParamSet, error) {
	p := layOut(be, params)
	p.fixed = map[string]nn.Buf{}
	for _, t := range params {
		w, ok := weights[t.Name]
		switch {
		case !ok:
			return nil, fmt.Errorf("model: no weight %q", t.Name)
		case w.Len() != t.size():
			return nil, fmt.Errorf("model: weight %q has %d values, its shape %v needs %d", t.Name, w.Len(), t.Shape, t.size())
		}
		p.fixed[t.Name] = w
	}
	return p, nil
}

func layOut(be nn.Backend, params []Param) *ParamSet {
	p := &ParamSet{be: be, params: params, index: map[string]int{}}
	for i, t := range params {
		p.offsets = append(p.offsets, p.n)
		p.index[t.Name] = i
		p.n += t.size()
	}
	return p
}

// ReadOnly reports whether the weights are held elsewhere, read-only.
func (p *ParamSet) ReadOnly() bool { return p.fixed != nil }

// ErrReadOnly is what training a read-only set's model says.
var ErrReadOnly = errors.New("the weights are read-only (a bfloat16 checkpoint opened for inference): they can be run, not trained or saved")

// writable panics on a read-only set: callers that can meet one check
// ReadOnly first and return ErrReadOnly.
func (p *ParamSet) writable() {
	if p.ReadOnly() {
		panic("model: " + ErrReadOnly.Error())
	}
}

// gradients returns the gradient buffer, allocating it (zero) on first use.
func (p *ParamSet) gradients() nn.Buf {
	p.writable()
	if p.grads == nil {
		p.grads = p.be.Alloc(p.Len())
	}
	return p.grads
}

// Len counts the weights.
func (p *ParamSet) Len() int { return p.n }

func (p *ParamSet) slice(b nn.Buf, name string) nn.Buf {
	i, ok := p.index[name]
	if !ok {
		panic("model: no weight " + name)
	}
	return p.be.Slice(b, p.offsets[i], p.params[i].size())
}

// View is a weight's view into the flat buffer (a read-only set's own
// buffer); Grad is its gradient's.
func (p *ParamSet) View(name string) nn.Buf {
	if p.fixed != nil {
		if w, ok := p.fixed[name]; ok {
			return w
		}
		panic("model: no weight " + name)
	}
	return p.slice(p.flat, name)
}
func (p *ParamSet) Grad(name string) nn.Buf { return p.slice(p.gradients(), name) }

// Init draws fresh weights: matrices from N(0, std²), gains 1.
func (p *ParamSet) Init(seed uint64, std float64) {
	p.writable()
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	host := make([]float32, p.Len())
	for i, t := range p.params {
		v := host[p.offsets[i] : p.offsets[i]+t.size()]
		for j := range v {
			if t.Decay {
				v[j] = float32(r.NormFloat64() * std)
			} else {
				v[j] = 1
			}
		}
	}
	p.be.Upload(p.flat, host)
}

// ZeroGrad clears the gradients.
func (p *ParamSet) ZeroGrad() { p.be.Zero(p.gradients()) }

// ClipGradients scales the gradients down so their global norm is at most
// maxNorm, and returns the norm before clipping.
func (p *ParamSet) ClipGradients(maxNorm float64) float64 {
	norm := math.Sqrt(p.be.SumSquares(p.gradients()))
	if norm > maxNorm && maxNorm > 0 {
		p.be.Scale(p.gradients(), float32(maxNorm/norm))
	}
	return norm
}

// Step applies one AdamW update to every weight; gains get no decay.
func (p *ParamSet) Step(h nn.AdamW) {
	p.writable()
	if p.adamM == nil {
		p.adamM, p.adamV = p.be.Alloc(p.Len()), p.be.Alloc(p.Len())
	}
	for _, t := range p.params {
		ht := h
		if !t.Decay {
			ht.WeightDecay = 0
		}
		p.be.AdamW(p.slice(p.flat, t.Name), p.Grad(t.Name), p.slice(p.adamM, t.Name), p.slice(p.adamV, t.Name), ht)
	}
}

// Moments returns host copies of AdamW's first and second moments (nil
// before the first Step).
func (p *ParamSet) Moments() (first, second []float32) {
	if p.adamM == nil {
		return nil, nil
	}
	return p.host(p.adamM), p.host(p.adamV)
}

// SetMoments restores AdamW's moments, to resume training exactly.
func (p *ParamSet) SetMoments(first, second []float32) {
	p.writable()
	if p.adamM == nil {
		p.adamM, p.adamV = p.be.Alloc(p.Len()), p.be.Alloc(p.Len())
	}
	p.be.Upload(p.adamM, first)
	p.be.Upload(p.adamV, second)
}

// Weights returns a host copy of every weight, in layout order.
func (p *ParamSet) Weights() []float32 {
	p.writable()
	return p.host(p.flat)
}

// Gradients returns a host copy of the gradients, in layout order.
func (p *ParamSet) Gradients() []float32 { return p.host(p.gradients()) }

// SetWeights uploads weights in layout order.
func (p *ParamSet) SetWeights(w []float32) {
	p.writable()
	p.be.Upload(p.flat, w)
}

func (p *ParamSet) host(b nn.Buf) []float32 {
	out := make([]float32, b.Len())
	p.be.Download(out, b)
	return out
}

// File returns the weights as a safetensors file with meta in its
// metadata and config as JSON under configKey; callers may add tensors of
// their own (training state) before writing it.
func (p *ParamSet) File(meta map[string]string, configKey string, config any) (*safetensors.File, error) {
	if p.ReadOnly() {
		return nil, ErrReadOnly
	}
	cfg, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	f := &safetensors.File{Metadata: map[string]string{}, Tensors: p.Tensors()}
	maps.Copy(f.Metadata, meta)
	f.Metadata[configKey] = string(cfg)
	return f, nil
}

// Tensors returns the weights as named safetensors tensors.
func (p *ParamSet) Tensors() []safetensors.Tensor     { return p.named(p.Weights()) }
func (p *ParamSet) gradTensors() []safetensors.Tensor { return p.named(p.Gradients()) }

func (p *ParamSet) named(host []float32) []safetensors.Tensor {
	var out []safetensors.Tensor
	for i, t := range p.params {
		out = append(out, safetensors.Tensor{Name: t.Name, Shape: t.Shape, Data: host[p.offsets[i] : p.offsets[i]+t.size()]})
	}
	return out
}

// SetTensors uploads named tensors; every weight must be there with its
// exact shape, and nothing else may be. Everything is checked before the
// first upload, so a refused set leaves the weights as they were; each
// tensor then goes straight to its view, with no host copy of the whole.
func (p *ParamSet) SetTensors(byName map[string]safetensors.Tensor) error {
	if p.ReadOnly() {
		return ErrReadOnly
	}
	if err := checkTensors(p.params, byName); err != nil {
		return err
	}
	for _, t := range p.params {
		p.be.Upload(p.View(t.Name), byName[t.Name].Data)
	}
	return nil
}

// checkTensors reports a tensor of params that byName lacks or holds in
// another shape, and a tensor of byName that is not one of params.
func checkTensors(params []Param, byName map[string]safetensors.Tensor) error {
	index := make(map[string]bool, len(params))
	for _, t := range params {
		index[t.Name] = true
		src, ok := byName[t.Name]
		switch {
		case !ok:
			return fmt.Errorf("tensor %q is missing", t.Name)
		case !slices.Equal(src.Shape, t.Shape):
			return fmt.Errorf("tensor %q has shape %v, the config needs %v", t.Name, src.Shape, t.Shape)
		case len(src.Data) != t.size():
			return fmt.Errorf("tensor %q has %d values for its shape %v", t.Name, len(src.Data), t.Shape)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		if !index[name] {
			return fmt.Errorf("tensor %q is not part of the model", name)
		}
	}
	return nil
}
