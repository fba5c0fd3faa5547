package vqgan

import (
	"fmt"
	"path/filepath"

	"parascope/engine/conv"
	"parascope/engine/imgtok"
	"parascope/engine/safetensors"
)

// WeightsFile is the name diffusers saves a VQModel's weights under.
const WeightsFile = "diffusion_pytorch_model.safetensors"

// eps is diffusers' resnet_eps for VQ-GAN blocks, which its encoder and
// decoder also give their output norms and the mid-block attention.
const eps = 1e-6

// layers reads diffusers' VQ-GAN blocks, whose ResNet shortcut is
// conv_shortcut.
type layers struct{ imgtok.Layers }

func (l *layers) resnet(name string, in, out int) *conv.ResNet {
	return l.ResNet(name, in, out, "conv_shortcut")
}

// mid reads UNetMidBlock2D: a ResNet, the attention (when the config
// has it), a ResNet.
func (l *layers) mid(name string, c int, attention bool) midBlock {
	m := midBlock{l.resnet(name+".resnets.0", c, c), nil, l.resnet(name+".resnets.1", c, c)}
	if attention {
		a := name + ".attentions.0"
		m.attn = &conv.Attention{Norm: l.Norm(a+".group_norm", c),
			Q: l.Linear(a+".to_q", c, c), K: l.Linear(a+".to_k", c, c),
			V: l.Linear(a+".to_v", c, c), Proj: l.Linear(a+".to_out.0", c, c)}
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
	used := map[string]bool{}
	l := &layers{imgtok.Layers{Src: imgtok.FileSource(f, used), Groups: c.Groups, Eps: eps}}
	m := &Model{Config: c}
	b, last := c.BlockOut, len(c.BlockOut)-1

	m.enc.in = l.Conv3("encoder.conv_in", b[0], c.InChannels)
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
			lv.resample = l.Conv(fmt.Sprintf("encoder.down_blocks.%d.downsamplers.0.conv", i), ch, ch, 3, 2, conv.Pad{Bottom: 1, Right: 1})
		}
		m.enc.levels = append(m.enc.levels, lv)
	}
	m.enc.mid = l.mid("encoder.mid_block", b[last], c.MidAttention)
	m.enc.normOut = l.Norm("encoder.conv_norm_out", b[last])
	m.enc.out = l.Conv3("encoder.conv_out", c.Latent, b[last])
	m.quantConv = l.Conv1("quant_conv", c.EmbedDim, c.Latent)
	if e := l.Tensor("quantize.embedding.weight", c.Codes, c.EmbedDim); e != nil {
		m.codebook = conv.NewCodebook(e, c.Codes, c.EmbedDim)
	}
	m.postQuantConv = l.Conv1("post_quant_conv", c.Latent, c.EmbedDim)

	m.dec.in = l.Conv3("decoder.conv_in", b[last], c.Latent)
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
			lv.resample = l.Conv3(fmt.Sprintf("decoder.up_blocks.%d.upsamplers.0.conv", i), ch, ch)
		}
		m.dec.levels = append(m.dec.levels, lv)
	}
	m.dec.normOut = l.Norm("decoder.conv_norm_out", b[0])
	m.dec.out = l.Conv3("decoder.conv_out", c.OutChannels, b[0])
	if l.Err != nil {
		return nil, fmt.Errorf("vqgan: %w", l.Err)
	}
	if err := imgtok.Unused(f, used); err != nil {
		return nil, fmt.Errorf("vqgan: %w", err)
	}
	return m, nil
}
