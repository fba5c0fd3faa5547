package vqgan

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"parascope/engine/conv"
	"parascope/engine/safetensors"
)

// WeightsFile is the name diffusers saves a VQModel's weights under.
const WeightsFile = "diffusion_pytorch_model.safetensors"

// eps is diffusers' resnet_eps for VQ-GAN blocks, which its encoder and
// decoder also give their output norms and the mid-block attention.
const eps = 1e-6

// loader reads layers out of a mapped weights file by diffusers' names,
// checking each tensor's shape and dtype, and remembers the first error.
type loader struct {
	file   *safetensors.Mapped
	groups int
	used   map[string]bool
	err    error
}

func (l *loader) fail(name, format string, args ...any) {
	if l.err == nil {
		l.err = fmt.Errorf("%s: tensor %q: %s", l.file.Path, name, fmt.Sprintf(format, args...))
	}
}

// tensor returns the named tensor widened to float32 (F32, BF16 or F16
// stored), or nil after recording why it cannot be used.
func (l *loader) tensor(name string, shape ...int) []float32 {
	if l.err != nil {
		return nil
	}
	v, ok := l.file.Get(name)
	if !ok {
		l.fail(name, "missing")
		return nil
	}
	l.used[name] = true
	if !slices.Equal(v.Shape, shape) {
		l.fail(name, "shape %v, want %v", v.Shape, shape)
		return nil
	}
	t, err := v.Float32()
	if err != nil {
		if l.err == nil {
			l.err = fmt.Errorf("%s: %w", l.file.Path, err)
		}
		return nil
	}
	return t.Data
}

func (l *loader) conv(name string, out, in, k, stride int, pad conv.Pad) *conv.Conv2d {
	w := l.tensor(name+".weight", out, in, k, k)
	b := l.tensor(name+".bias", out)
	if l.err != nil {
		return nil
	}
	return conv.NewConv2d(w, b, out, in, k, k, stride, pad)
}

func (l *loader) linear(name string, out, in int) *conv.Conv2d {
	w := l.tensor(name+".weight", out, in)
	b := l.tensor(name+".bias", out)
	if l.err != nil {
		return nil
	}
	return conv.NewLinear(w, b, out, in)
}

func (l *loader) norm(name string, c int) conv.GroupNorm {
	g := l.tensor(name+".weight", c)
	b := l.tensor(name+".bias", c)
	if l.err != nil {
		return conv.GroupNorm{}
	}
	return conv.NewGroupNorm(l.groups, eps, g, b)
}

func (l *loader) resnet(name string, in, out int) *conv.ResNet {
	r := &conv.ResNet{
		Norm1: l.norm(name+".norm1", in),
		Conv1: l.conv(name+".conv1", out, in, 3, 1, conv.Same(1)),
		Norm2: l.norm(name+".norm2", out),
		Conv2: l.conv(name+".conv2", out, out, 3, 1, conv.Same(1)),
	}
	if in != out {
		r.Shortcut = l.conv(name+".conv_shortcut", out, in, 1, 1, conv.Pad{})
	}
	return r
}

// mid reads UNetMidBlock2D: a ResNet, the attention (when the config
// has it), a ResNet.
func (l *loader) mid(name string, c int, attention bool) midBlock {
	m := midBlock{l.resnet(name+".resnets.0", c, c), nil, l.resnet(name+".resnets.1", c, c)}
	if attention {
		a := name + ".attentions.0"
		m.attn = &conv.Attention{Norm: l.norm(a+".group_norm", c),
			Q: l.linear(a+".to_q", c, c), K: l.linear(a+".to_k", c, c),
			V: l.linear(a+".to_v", c, c), Proj: l.linear(a+".to_out.0", c, c)}
	}
	return m
}

// load builds the network from dir's weights file, naming the file and
// tensor at fault, and refuses tensors the config has no place for.
func load(dir string, c Config) (*Model, error) {
	f, err := safetensors.Open(filepath.Join(dir, WeightsFile))
	if err != nil {
		return nil, err
	}
	defer f.Close() // every layer holds a float32 copy
	l := &loader{file: f, groups: c.Groups, used: map[string]bool{}}
	m := &Model{Config: c}
	b, last := c.BlockOut, len(c.BlockOut)-1

	m.enc.in = l.conv("encoder.conv_in", b[0], c.InChannels, 3, 1, conv.Same(1))
	prev := b[0]
	for i, ch := range b {
		var lv level
		for j := range c.LayersPerBlock {
			lv.resnets = append(lv.resnets, l.resnet(fmt.Sprintf("encoder.down_blocks.%d.resnets.%d", i, j), prev, ch))
			prev = ch
		}
		if i < last {
			// Downsample2D with padding 0: one row and column of zeros
			// below and right, then a stride-2 convolution.
			lv.resample = l.conv(fmt.Sprintf("encoder.down_blocks.%d.downsamplers.0.conv", i), ch, ch, 3, 2, conv.Pad{Bottom: 1, Right: 1})
		}
		m.enc.levels = append(m.enc.levels, lv)
	}
	m.enc.mid = l.mid("encoder.mid_block", b[last], c.MidAttention)
	m.enc.normOut = l.norm("encoder.conv_norm_out", b[last])
	m.enc.out = l.conv("encoder.conv_out", c.Latent, b[last], 3, 1, conv.Same(1))
	m.quantConv = l.conv("quant_conv", c.EmbedDim, c.Latent, 1, 1, conv.Pad{})
	if e := l.tensor("quantize.embedding.weight", c.Codes, c.EmbedDim); e != nil {
		m.codebook = conv.NewCodebook(e, c.Codes, c.EmbedDim)
	}
	m.postQuantConv = l.conv("post_quant_conv", c.Latent, c.EmbedDim, 1, 1, conv.Pad{})

	m.dec.in = l.conv("decoder.conv_in", b[last], c.Latent, 3, 1, conv.Same(1))
	m.dec.mid = l.mid("decoder.mid_block", b[last], c.MidAttention)
	prev = b[last]
	for i := range b {
		ch := b[last-i]
		var lv level
		for j := range c.LayersPerBlock + 1 {
			lv.resnets = append(lv.resnets, l.resnet(fmt.Sprintf("decoder.up_blocks.%d.resnets.%d", i, j), prev, ch))
			prev = ch
		}
		if i < last {
			lv.resample = l.conv(fmt.Sprintf("decoder.up_blocks.%d.upsamplers.0.conv", i), ch, ch, 3, 1, conv.Same(1))
		}
		m.dec.levels = append(m.dec.levels, lv)
	}
	m.dec.normOut = l.norm("decoder.conv_norm_out", b[0])
	m.dec.out = l.conv("decoder.conv_out", c.OutChannels, b[0], 3, 1, conv.Same(1))
	if l.err != nil {
		return nil, fmt.Errorf("vqgan: %w", l.err)
	}
	var extra []string
	for _, v := range f.Tensors {
		if !l.used[v.Name] {
			extra = append(extra, fmt.Sprintf("%q", v.Name))
		}
	}
	if len(extra) > 0 {
		if len(extra) > 3 {
			extra = append(extra[:3], fmt.Sprintf("and %d more", len(extra)-3))
		}
		return nil, fmt.Errorf("vqgan: %s: tensors the config has no place for: %s", f.Path, strings.Join(extra, ", "))
	}
	return m, nil
}
