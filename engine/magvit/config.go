package magvit

import (
	"fmt"
	"path/filepath"
	"slices"

	"parascope/engine/infile"
)

// Coder is the shape of the encoder or the decoder, named as the
// arguments of the official VQGANEncoder and VQGANDecoder.
type Coder struct {
	Ch        int   `json:"ch"`             // channels at the finest level
	ChMult    []int `json:"ch_mult"`        // each level's channels over Ch, finest first
	ResBlocks []int `json:"num_res_blocks"` // ResNet blocks at each level, finest first
	ZChannels int   `json:"z_channels"`     // latent channels: LFQ bits
}

// Channels returns the channels at level i.
func (c Coder) Channels(i int) int { return c.Ch * c.ChMult[i] }

// Config is the network's shape. The official MAGVITv2 module takes no
// arguments, so its config.json holds no shape: it is Official. A folder
// may describe a reduced model (the test fixtures do) with "encoder" and
// "decoder" objects and "norm_num_groups", keys the official code ignores.
type Config struct {
	Encoder, Decoder Coder
	Groups           int // groups of every GroupNorm (Normalize: 32)
}

// Official returns the shape of Show-o's MAGVIT-v2 (showlab/magvitv2):
// VQGANEncoder's and VQGANDecoder's defaults and LFQuantizer's 13 bits.
// Their attn_resolutions [5] never meets a level at resolution 256, so
// the only attention is the mid-blocks'.
func Official() Config {
	return Config{
		Encoder: Coder{Ch: 128, ChMult: []int{1, 2, 2, 4, 4}, ResBlocks: []int{4, 3, 4, 3, 4}, ZChannels: 13},
		Decoder: Coder{Ch: 128, ChMult: []int{1, 1, 2, 2, 4}, ResBlocks: []int{4, 4, 3, 4, 3}, ZChannels: 13},
		Groups:  32,
	}
}

// Scale is how many pixels a code's cell spans on a side: 2 to the
// number of down-sampling steps (16 for the official shape).
func (c Config) Scale() int { return 1 << (len(c.Encoder.ChMult) - 1) }

// Bits is the number of LFQ bits of a code.
func (c Config) Bits() int { return c.Encoder.ZChannels }

// Codes is the number of codes, 2^Bits (8192 for the official shape).
func (c Config) Codes() int { return 1 << c.Bits() }

type rawConfig struct {
	ClassName string `json:"_class_name"`
	Encoder   Coder  `json:"encoder"`
	Decoder   Coder  `json:"decoder"`
	Groups    int    `json:"norm_num_groups"`
}

// ReadConfig reads dir/config.json: the official shape, unless the
// folder describes a reduced one.
func ReadConfig(dir string) (Config, error) {
	path := filepath.Join(dir, "config.json")
	raw, err := infile.Read(path, 1<<20, "a MAGVIT-v2 config")
	if err != nil {
		return Config{}, err
	}
	off := Official()
	rc := rawConfig{Encoder: off.Encoder, Decoder: off.Decoder, Groups: off.Groups}
	// Keys such as _diffusers_version change no weight.
	if err := infile.DecodeJSON(raw, &rc, false); err != nil {
		return Config{}, infile.In(path, err)
	}
	if rc.ClassName != "" && rc.ClassName != "MAGVITv2" {
		return Config{}, fmt.Errorf("%s: _class_name %q, want \"MAGVITv2\"", path, rc.ClassName)
	}
	c := Config{Encoder: rc.Encoder, Decoder: rc.Decoder, Groups: rc.Groups}
	if err := c.check(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// maxChannels bounds a level's channels far above any real model's (512),
// so that no product overflows.
const maxChannels = 1 << 16

func (c Config) check() error {
	if c.Groups < 1 {
		return fmt.Errorf("norm_num_groups %d, want 1 or more", c.Groups)
	}
	for _, cd := range []struct {
		name string
		c    Coder
	}{{"encoder", c.Encoder}, {"decoder", c.Decoder}} {
		n := len(cd.c.ChMult)
		switch {
		case n < 1 || n > 8:
			return fmt.Errorf("%s.ch_mult has %d levels, want 1 to 8", cd.name, n)
		case len(cd.c.ResBlocks) != n:
			return fmt.Errorf("%s: %d num_res_blocks for %d levels of ch_mult", cd.name, len(cd.c.ResBlocks), n)
		case cd.c.Ch < 1 || cd.c.Ch > maxChannels || slices.ContainsFunc(cd.c.ChMult, func(m int) bool { return m < 1 || m > maxChannels/cd.c.Ch }):
			return fmt.Errorf("%s: ch %d and ch_mult %v must be positive, their products at most %d", cd.name, cd.c.Ch, cd.c.ChMult, maxChannels)
		case slices.ContainsFunc(cd.c.ResBlocks, func(b int) bool { return b < 1 }):
			return fmt.Errorf("%s.num_res_blocks %v: every level needs a block", cd.name, cd.c.ResBlocks)
		}
		for i := range n {
			if ch := cd.c.Channels(i); ch%c.Groups != 0 {
				return fmt.Errorf("%s level %d has %d channels, not a multiple of norm_num_groups %d", cd.name, i, ch, c.Groups)
			}
		}
	}
	switch {
	case len(c.Encoder.ChMult) != len(c.Decoder.ChMult):
		return fmt.Errorf("encoder has %d levels and decoder %d: they must scale alike", len(c.Encoder.ChMult), len(c.Decoder.ChMult))
	case c.Encoder.ZChannels < 1 || c.Encoder.ZChannels > 30:
		return fmt.Errorf("encoder.z_channels %d, want 1 to 30 (one LFQ bit each)", c.Encoder.ZChannels)
	case c.Decoder.ZChannels != c.Encoder.ZChannels:
		return fmt.Errorf("decoder.z_channels %d differs from encoder.z_channels %d", c.Decoder.ZChannels, c.Encoder.ZChannels)
	}
	return nil
}
