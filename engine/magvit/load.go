package magvit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"parascope/engine/conv"
	"parascope/engine/imgtok"
	"parascope/engine/safetensors"
)

// WeightsFiles are the names a folder's weights are looked for under, in
// order: the one the official ModelMixin saves and loads first (Show-o's
// modeling_utils names its safetensors file so), then the
// transformers and diffusers names a converted copy may carry.
var WeightsFiles = []string{"pytorch_model.safetensors", "model.safetensors", "diffusion_pytorch_model.safetensors"}

// eps is the taming-style Normalize's: every GroupNorm of the network.
const eps = 1e-6

// layers reads the official (taming-style) blocks, whose ResNet shortcut
// is nin_shortcut.
type layers struct{ imgtok.Layers }

// resnet reads a ResnetBlock (no time embedding: temb_channels is 0).
func (b *layers) resnet(name string, in, out int) *conv.ResNet {
	return b.ResNet(name, in, out, "nin_shortcut")
}

// mid reads block_1, attn_1 (an AttnBlock of 1×1 convolutions) and block_2.
func (b *layers) mid(name string, c int) midBlock {
	a := name + ".attn_1"
	return midBlock{
		b.resnet(name+".block_1", c, c),
		&conv.Attention{Norm: b.Norm(a+".norm", c), Q: b.Conv1(a+".q", c, c), K: b.Conv1(a+".k", c, c),
			V: b.Conv1(a+".v", c, c), Proj: b.Conv1(a+".proj_out", c, c)},
		b.resnet(name+".block_2", c, c),
	}
}

// build makes the network of shape c from src.
func build(c Config, src imgtok.Source) (*Model, error) {
	b := &layers{imgtok.Layers{Src: src, Groups: c.Groups, Eps: eps}}
	m := &Model{Config: c}
	e, d, z := c.Encoder, c.Decoder, c.Bits()

	m.enc.in = b.Conv3("encoder.conv_in", e.Ch, 3)
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
			lv.resample = b.Conv(fmt.Sprintf("encoder.down.%d.downsample.conv", i), prev, prev, 3, 2, conv.Pad{Bottom: 1, Right: 1})
		}
		m.enc.levels = append(m.enc.levels, lv)
	}
	m.enc.mid = b.mid("encoder.mid", prev)
	m.enc.normOut = b.Norm("encoder.norm_out", prev)
	m.enc.out = b.Conv3("encoder.conv_out", z, prev)
	m.enc.quant = b.Conv1("encoder.quant_conv", z, z)

	last := len(d.ChMult) - 1
	m.dec.quant = b.Conv1("decoder.post_quant_conv", z, z)
	prev = d.Channels(last)
	m.dec.in = b.Conv3("decoder.conv_in", prev, z)
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
			lv.resample = b.Conv3(fmt.Sprintf("decoder.up.%d.upsample.conv", i), prev, prev)
		}
	}
	m.dec.normOut = b.Norm("decoder.norm_out", prev)
	m.dec.out = b.Conv3("decoder.conv_out", 3, prev)
	if b.Err != nil {
		return nil, b.Err
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
	m, err := build(c, imgtok.FileSource(f, used))
	if err != nil {
		return nil, err
	}
	if err := checkLFQ(f, c.Bits(), used); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := imgtok.Unused(f, used); err != nil {
		return nil, err
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
