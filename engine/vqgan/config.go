package vqgan

import (
	"fmt"
	"path/filepath"
	"slices"

	"parascope/engine/infile"
)

// Config is what of diffusers' VQModel config.json decides the network's
// shape. aMUSEd's (and MMaDA-Parallel-A's vqvae): block_out_channels
// [128, 256, 256, 512, 768], layers_per_block 2, latent_channels 64,
// num_vq_embeddings 8192, norm_num_groups 32, mid_block_add_attention
// false.
type Config struct {
	InChannels     int
	OutChannels    int
	BlockOut       []int // channels at each resolution, finest first
	LayersPerBlock int
	Latent         int // latent_channels
	Codes          int // num_vq_embeddings
	EmbedDim       int // vq_embed_dim
	Groups         int // norm_num_groups
	MidAttention   bool
}

// Scale is how many pixels a code's cell spans on a side:
// 2^(len(block_out_channels)−1), as the official pipelines compute it.
func (c Config) Scale() int { return 1 << (len(c.BlockOut) - 1) }

// rawConfig holds config.json's keys with diffusers' defaults for those
// left out.
type rawConfig struct {
	ClassName      string   `json:"_class_name"`
	InChannels     int      `json:"in_channels"`
	OutChannels    int      `json:"out_channels"`
	DownBlockTypes []string `json:"down_block_types"`
	UpBlockTypes   []string `json:"up_block_types"`
	BlockOut       []int    `json:"block_out_channels"`
	LayersPerBlock int      `json:"layers_per_block"`
	ActFn          string   `json:"act_fn"`
	Latent         int      `json:"latent_channels"`
	Codes          int      `json:"num_vq_embeddings"`
	Groups         int      `json:"norm_num_groups"`
	EmbedDim       *int     `json:"vq_embed_dim"`
	NormType       string   `json:"norm_type"`
	MidAttention   bool     `json:"mid_block_add_attention"`
}

func defaults() rawConfig {
	return rawConfig{InChannels: 3, OutChannels: 3, DownBlockTypes: []string{"DownEncoderBlock2D"},
		UpBlockTypes: []string{"UpDecoderBlock2D"}, BlockOut: []int{64}, LayersPerBlock: 1, ActFn: "silu",
		Latent: 3, Codes: 256, Groups: 32, NormType: "group", MidAttention: true}
}

// ReadConfig reads dir/config.json, refusing the variants whose layers
// this package does not build.
func ReadConfig(dir string) (Config, error) {
	path := filepath.Join(dir, "config.json")
	raw, err := infile.Read(path, 1<<20, "a VQ model config")
	if err != nil {
		return Config{}, err
	}
	c, err := ParseConfig(raw)
	if err != nil {
		return Config{}, infile.In(path, err)
	}
	return c, nil
}

// ParseConfig reads a config.json's bytes.
func ParseConfig(data []byte) (Config, error) {
	rc := defaults()
	// Keys such as sample_size and scaling_factor change no weight.
	if err := infile.DecodeJSON(data, &rc, false); err != nil {
		return Config{}, err
	}
	return rc.config()
}

func (rc rawConfig) config() (Config, error) {
	switch {
	case rc.ClassName != "" && rc.ClassName != "VQModel":
		return Config{}, fmt.Errorf("_class_name %q, want \"VQModel\"", rc.ClassName)
	case rc.ActFn != "silu":
		return Config{}, fmt.Errorf("act_fn %q: only \"silu\" is built", rc.ActFn)
	case rc.NormType != "group":
		return Config{}, fmt.Errorf("norm_type %q: only \"group\" is built", rc.NormType)
	case len(rc.BlockOut) < 1 || len(rc.BlockOut) > 8:
		return Config{}, fmt.Errorf("block_out_channels has %d entries, want 1 to 8", len(rc.BlockOut))
	case len(rc.DownBlockTypes) != len(rc.BlockOut) || len(rc.UpBlockTypes) != len(rc.BlockOut):
		return Config{}, fmt.Errorf("%d down and %d up block types for %d block_out_channels", len(rc.DownBlockTypes), len(rc.UpBlockTypes), len(rc.BlockOut))
	case rc.LayersPerBlock < 1 || rc.LayersPerBlock > 16:
		return Config{}, fmt.Errorf("layers_per_block %d, want 1 to 16", rc.LayersPerBlock)
	case rc.InChannels < 1 || rc.OutChannels < 1 || rc.Latent < 1 || rc.Codes < 1 || rc.Groups < 1:
		return Config{}, fmt.Errorf("in_channels, out_channels, latent_channels, num_vq_embeddings and norm_num_groups must be positive")
	}
	for i, t := range rc.DownBlockTypes {
		if t != "DownEncoderBlock2D" {
			return Config{}, fmt.Errorf("down_block_types[%d] %q: only \"DownEncoderBlock2D\" is built", i, t)
		}
	}
	for i, t := range rc.UpBlockTypes {
		if t != "UpDecoderBlock2D" {
			return Config{}, fmt.Errorf("up_block_types[%d] %q: only \"UpDecoderBlock2D\" is built", i, t)
		}
	}
	for i, ch := range rc.BlockOut {
		if ch < 1 || ch > 1<<14 || ch%rc.Groups != 0 {
			return Config{}, fmt.Errorf("block_out_channels[%d] = %d is not a multiple of norm_num_groups %d from 1 to 16384", i, ch, rc.Groups)
		}
	}
	c := Config{InChannels: rc.InChannels, OutChannels: rc.OutChannels, BlockOut: slices.Clone(rc.BlockOut),
		LayersPerBlock: rc.LayersPerBlock, Latent: rc.Latent, Codes: rc.Codes, EmbedDim: rc.Latent,
		Groups: rc.Groups, MidAttention: rc.MidAttention}
	if rc.EmbedDim != nil {
		c.EmbedDim = *rc.EmbedDim
	}
	if c.EmbedDim < 1 {
		return Config{}, fmt.Errorf("vq_embed_dim %d, want 1 or more", c.EmbedDim)
	}
	if c.InChannels != 3 || c.OutChannels != 3 {
		return Config{}, fmt.Errorf("in_channels %d and out_channels %d: pictures are RGB, want 3 and 3", c.InChannels, c.OutChannels)
	}
	return c, nil
}
