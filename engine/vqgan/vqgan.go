// Package vqgan is the aMUSEd VQ-GAN, the image tokenizer of
// MMaDA-Parallel-A: diffusers' VQModel as aMUSEd configures it, read from
// the folder diffusers saves (config.json and
// diffusion_pytorch_model.safetensors, the checkpoint's vqvae subfolder),
// run on the CPU with package conv's layers.
//
// A picture of Size×Size pixels becomes a (Size/16)² grid of codes (16 is
// 2^(len(block_out_channels)−1)); at 512 pixels, MMaDA-Parallel-A's size,
// that is 32×32 = 1024 codes of 8192, in raster order.
package vqgan

import (
	"fmt"
	"image"

	"parascope/engine/conv"
	"parascope/engine/imgtok"
)

// DefaultSize is the picture side MMaDA-Parallel-A encodes and decodes.
// MaxSize bounds what Open accepts: the decoder's widest activations
// grow with its square (about 1 GB at 1024 pixels with aMUSEd's widths).
const (
	DefaultSize = 512
	MaxSize     = 2048
)

// Model is an opened VQ-GAN at one picture size. It is safe for
// concurrent use.
type Model struct {
	Config Config
	Size   int // picture side in pixels, a multiple of Config.Scale()

	enc, dec                 coder
	quantConv, postQuantConv *conv.Conv2d
	codebook                 *conv.Codebook

	// Drawer draws grids with the model's post-processing (Picture):
	// Decode, DecodeMasked, DecodePartial, Preview, Tile, MakeAtlas.
	*imgtok.Drawer
	scratch conv.Scratch // activations, kept between decodes
}

// coder is the encoder or the decoder: a convolution in, levels of
// ResNets with a resampling convolution between them, the mid-block, and
// a normalised convolution out. The decoder runs its mid-block first.
type coder struct {
	in      *conv.Conv2d
	levels  []level
	mid     midBlock
	normOut conv.GroupNorm
	out     *conv.Conv2d
}

type level struct {
	resnets  []*conv.ResNet
	resample *conv.Conv2d // down- or up-sampling; nil at the last level
}

type midBlock struct {
	res1 *conv.ResNet
	attn *conv.Attention // nil when the config has no mid-block attention
	res2 *conv.ResNet
}

// Open reads a VQModel folder for pictures of size×size pixels.
func Open(dir string, size int) (*Model, error) {
	c, err := ReadConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("vqgan: %w", err)
	}
	if size < c.Scale() || size%c.Scale() != 0 || size > MaxSize {
		return nil, fmt.Errorf("vqgan: picture size %d is not a multiple of the model's scale %d from %d to %d", size, c.Scale(), c.Scale(), MaxSize)
	}
	m, err := load(dir, c)
	if err != nil {
		return nil, err
	}
	m.Size = size
	m.Drawer = imgtok.NewDrawer("vqgan", m)
	return m, nil
}

// K returns the number of codes.
func (m *Model) K() int { return m.Config.Codes }

// Grid returns the side of the code grid: Size / Config.Scale().
func (m *Model) Grid() int { return m.Size / m.Config.Scale() }

// Scale returns the side of a code's cell in pixels: Config.Scale().
func (m *Model) Scale() int { return m.Config.Scale() }

func (m *midBlock) forward(s *conv.Scratch, x conv.Tensor) conv.Tensor {
	x = s.Step(x, m.res1.Forward)
	if m.attn != nil {
		x = s.Step(x, m.attn.Forward)
	}
	return s.Step(x, m.res2.Forward)
}

func (l *level) forward(s *conv.Scratch, x conv.Tensor, up bool) conv.Tensor {
	for _, r := range l.resnets {
		x = s.Step(x, r.Forward)
	}
	switch {
	case l.resample == nil:
	case up:
		x = s.Step(x, conv.Upsample2x)
		x = s.Step(x, l.resample.Forward)
	default:
		x = s.Step(x, l.resample.Forward)
	}
	return x
}

func (c *coder) head(s *conv.Scratch, x conv.Tensor) conv.Tensor {
	c.normOut.Forward(x, x, true)
	return s.Step(x, c.out.Forward)
}

// latents runs the encoder and quant_conv over a picture's values (which
// it leaves as they are).
func (m *Model) latents(x conv.Tensor) conv.Tensor {
	s := &m.scratch
	x = m.enc.in.Forward(s, x)
	for i := range m.enc.levels {
		x = m.enc.levels[i].forward(s, x, false)
	}
	x = m.enc.mid.forward(s, x)
	return s.Step(m.enc.head(s, x), m.quantConv.Forward)
}

// decode runs post_quant_conv and the decoder over a grid of code
// vectors, giving the picture's values (about 0 to 1). The grid and the
// result are the caller's.
func (m *Model) decode(q conv.Tensor) conv.Tensor {
	s := &m.scratch
	x := s.Step(m.postQuantConv.Forward(s, q), m.dec.in.Forward)
	x = m.dec.mid.forward(s, x)
	for i := range m.dec.levels {
		x = m.dec.levels[i].forward(s, x, true)
	}
	return m.dec.head(s, x)
}

// EncodeValues quantises a Size×Size×3 tensor of values in [0, 1] (the
// official pipelines feed the VQ-GAN unnormalised values).
func (m *Model) EncodeValues(x conv.Tensor) ([]int, error) {
	if err := imgtok.CheckValues("vqgan", x, m.Size); err != nil {
		return nil, err
	}
	z := m.latents(x)
	defer m.scratch.Put(z)
	return m.codebook.Nearest(z), nil
}

// Encode returns the codes of a picture, which is first brought to
// Size×Size as the official pre-processing does (see Pixels).
func (m *Model) Encode(img image.Image) ([]int, error) {
	return m.EncodeValues(Values(Pixels(img, m.Size)))
}

// DecodeValues decodes a full grid of codes to the decoder's raw output,
// Size×Size×3, before clipping.
func (m *Model) DecodeValues(codes []int) (conv.Tensor, error) {
	if err := imgtok.Check("vqgan", m, codes, false); err != nil {
		return conv.Tensor{}, err
	}
	g := m.Grid()
	return m.decode(m.vectors(codes, g, g)), nil
}

// vectors returns the codes' codebook vectors as h×w grids, as many as
// the codes fill; a negative code is the zero vector.
func (m *Model) vectors(codes []int, h, w int) conv.Tensor {
	d := m.Config.EmbedDim
	t := conv.NewBatch(len(codes)/(h*w), h, w, d)
	for p, k := range codes {
		if k >= 0 {
			copy(t.Data[p*d:(p+1)*d], m.codebook.E[k*d:(k+1)*d])
		}
	}
	return t
}

// DecodeGrids decodes len(codes)/(h*w) grids of h×w codes to a picture
// each, a negative code as the zero vector: no code, the decoder's
// neutral input. A batch of one-cell grids is how atlas tiles are made.
func (m *Model) DecodeGrids(codes []int, h, w int) []*image.RGBA {
	v := m.decode(m.vectors(codes, h, w))
	defer m.scratch.Put(v)
	return imgtok.Pictures(v, Picture)
}

// Release drops the activation memory kept between decodes (about
// 1.3 GB after a 512×512 decode at aMUSEd's widths).
func (m *Model) Release() { m.scratch.Release() }
