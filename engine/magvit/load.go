package magvit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"parascope/engine/conv"
	"parascope/engine/safetensors"
)

// WeightsFiles are the names a folder's weights are looked for under, in
// order: the one the official ModelMixin saves and loads first (Show-o's
// modeling_utils names its safetensors file so), then the
// transformers and diffusers names a converted copy may carry.
var WeightsFiles = []string{"pytorch_model.safetensors", "model.safetensors", "diffusion_pytorch_model.safetensors"}

// eps is the taming-style Normalize's: every GroupNorm of the network.
const eps = 1e-6

// source gives a weight by name, float32, in PyTorch's layout, or an
// error saying why it cannot.
type source func(name string, shape []int) ([]float32, error)

// builder makes layers from a source by the official state-dict names and
// remembers the first error.
type builder struct {
	src    source
	groups int
	err    error
}

func (b *builder) tensor(name string, shape ...int) []float32 {
	if b.err != nil {
		return nil
	}
	v, err := b.src(name, shape)
	if err != nil {
		b.err = err
		return nil
	}
	return v
}

func (b *builder) conv(name string, out, in, k, stride int, pad conv.Pad) *conv.Conv2d {
	w := b.tensor(name+".weight", out, in, k, k)
	bias := b.tensor(name+".bias", out)
	if b.err != nil {
		return nil
	}
	return conv.NewConv2d(w, bias, out, in, k, k, stride, pad)
}

func (b *builder) conv3(name string, out, in int) *conv.Conv2d {
	return b.conv(name, out, in, 3, 1, conv.Same(1))
}

func (b *builder) conv1(name string, out, in int) *conv.Conv2d {
	return b.conv(name, out, in, 1, 1, conv.Pad{})
}

func (b *builder) norm(name string, c int) conv.GroupNorm {
	g := b.tensor(name+".weight", c)
	beta := b.tensor(name+".bias", c)
	if b.err != nil {
		return conv.GroupNorm{}
	}
	return conv.NewGroupNorm(b.groups, eps, g, beta)
}

// resnet reads a ResnetBlock (no time embedding: temb_channels is 0).
func (b *builder) resnet(name string, in, out int) *conv.ResNet {
	r := &conv.ResNet{
		Norm1: b.norm(name+".norm1", in), Conv1: b.conv3(name+".conv1", out, in),
		Norm2: b.norm(name+".norm2", out), Conv2: b.conv3(name+".conv2", out, out),
	}
	if in != out {
		r.Shortcut = b.conv1(name+".nin_shortcut", out, in)
	}
	return r
}

// mid reads block_1, attn_1 (an AttnBlock of 1×1 convolutions) and block_2.
func (b *builder) mid(name string, c int) midBlock {
	a := name + ".attn_1"
	return midBlock{
		b.resnet(name+".block_1", c, c),
		&conv.Attention{Norm: b.norm(a+".norm", c), Q: b.conv1(a+".q", c, c), K: b.conv1(a+".k", c, c),
			V: b.conv1(a+".v", c, c), Proj: b.conv1(a+".proj_out", c, c)},
		b.resnet(name+".block_2", c, c),
	}
}

// build makes the network of shape c from src.
func build(c Config, src source) (*Model, error) {
	b := &builder{src: src, groups: c.Groups}
	m := &Model{Config: c}
	e, d, z := c.Encoder, c.Decoder, c.Bits()

	m.enc.in = b.conv3("encoder.conv_in", e.Ch, 3)
	prev := e.Ch
	for i := range e.ChMult {
		var lv level
		for j := range e.ResBlocks[i] {
			lv.blocks = append(lv.blocks, b.resnet(fmt.Sprintf("encoder.down.%d.block.%d", i, j), prev, e.Channels(i)))
			prev = e.Channels(i)
		}
		if i < len(e.ChMult)-1 {
			// Downsample: a row and a column of zeros below and right,
			// then a stride-2 convolution.
			lv.resample = b.conv(fmt.Sprintf("encoder.down.%d.downsample.conv", i), prev, prev, 3, 2, conv.Pad{Bottom: 1, Right: 1})
		}
		m.enc.levels = append(m.enc.levels, lv)
	}
	m.enc.mid = b.mid("encoder.mid", prev)
	m.enc.normOut = b.norm("encoder.norm_out", prev)
	m.enc.out = b.conv3("encoder.conv_out", z, prev)
	m.enc.quant = b.conv1("encoder.quant_conv", z, z)

	last := len(d.ChMult) - 1
	m.dec.quant = b.conv1("decoder.post_quant_conv", z, z)
	prev = d.Channels(last)
	m.dec.in = b.conv3("decoder.conv_in", prev, z)
	m.dec.mid = b.mid("decoder.mid", prev)
	// up[i] works at level i; the decoder runs them coarsest first.
	m.dec.levels = make([]level, len(d.ChMult))
	for i := last; i >= 0; i-- {
		lv := &m.dec.levels[i]
		for j := range d.ResBlocks[i] {
			lv.blocks = append(lv.blocks, b.resnet(fmt.Sprintf("decoder.up.%d.block.%d", i, j), prev, d.Channels(i)))
			prev = d.Channels(i)
		}
		if i > 0 {
			lv.resample = b.conv3(fmt.Sprintf("decoder.up.%d.upsample.conv", i), prev, prev)
		}
	}
	m.dec.normOut = b.norm("decoder.norm_out", prev)
	m.dec.out = b.conv3("decoder.conv_out", 3, prev)
	if b.err != nil {
		return nil, b.err
	}
	return m, nil
}

// weightsPath returns the first of WeightsFiles that dir holds.
func weightsPath(dir string) (string, error) {
	for _, name := range WeightsFiles {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s holds none of %s (a pytorch_model.bin is converted by engine/magvit/reference/convert.py)", dir, strings.Join(WeightsFiles, ", "))
}

// load builds the network from dir's weights, naming the file and tensor
// at fault, and refuses tensors the config has no place for.
func load(dir string, c Config) (*Model, error) {
	path, err := weightsPath(dir)
	if err != nil {
		return nil, err
	}
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() // every layer holds a float32 copy
	used := map[string]bool{}
	m, err := build(c, func(name string, shape []int) ([]float32, error) {
		v, ok := f.Get(name)
		if !ok {
			return nil, fmt.Errorf("%s: tensor %q: missing", path, name)
		}
		used[name] = true
		if !slices.Equal(v.Shape, shape) {
			return nil, fmt.Errorf("%s: tensor %q: shape %v, want %v", path, name, v.Shape, shape)
		}
		if v.Dtype == safetensors.I64 {
			return nil, fmt.Errorf("%s: tensor %q: dtype %s, want F32, BF16 or F16", path, name, v.Dtype)
		}
		t, err := v.Float32()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return t.Data, nil
	})
	if err != nil {
		return nil, err
	}
	if err := checkLFQ(f, c.Bits(), used); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var extra []string
	for _, v := range f.Tensors {
		if !used[v.Name] {
			extra = append(extra, fmt.Sprintf("%q", v.Name))
		}
	}
	if len(extra) > 0 {
		if len(extra) > 3 {
			extra = append(extra[:3], fmt.Sprintf("and %d more", len(extra)-3))
		}
		return nil, fmt.Errorf("%s: tensors the config has no place for: %s", path, strings.Join(extra, ", "))
	}
	return m, nil
}

// checkLFQ checks the quantiser's buffers where the file has them (the
// official state dict saves both; a converted copy may leave them out,
// since the code fixes them): quantize.embedding, the ±1 code of every
// index, and quantize.power_vals (int64), the weight of each bit. Values
// other than this package's would mean another bit order.
func checkLFQ(f *safetensors.Mapped, bits int, used map[string]bool) error {
	if v, ok := f.Get("quantize.embedding"); ok {
		used[v.Name] = true
		if want := []int{1 << bits, bits}; !slices.Equal(v.Shape, want) || v.Dtype == safetensors.I64 {
			return fmt.Errorf("tensor %q: %s %v, want a float tensor of shape %v", v.Name, v.Dtype, v.Shape, want)
		}
		t, err := v.Float32()
		if err != nil {
			return err
		}
		code := make([]float32, bits)
		for k := range 1 << bits {
			conv.LFQCode(code, k)
			if !slices.Equal(t.Data[k*bits:(k+1)*bits], code) {
				return fmt.Errorf("tensor %q: row %d is %v, want %v (the bits of %d, most significant first, as ±1)", v.Name, k, t.Data[k*bits:(k+1)*bits], code, k)
			}
		}
	}
	if v, ok := f.Get("quantize.power_vals"); ok {
		used[v.Name] = true
		p, err := v.Int64()
		if err != nil || !slices.Equal(v.Shape, []int{bits}) {
			return fmt.Errorf("tensor %q: %s %v, want I64 of shape [%d]", v.Name, v.Dtype, v.Shape, bits)
		}
		for i, x := range p {
			if want := int64(1) << (bits - 1 - i); x != want {
				return fmt.Errorf("tensor %q: element %d is %d, want %d (the first channel the most significant bit)", v.Name, i, x, want)
			}
		}
	}
	return nil
}
