// Package magvit is Show-o's MAGVIT-v2, the image tokenizer of
// MMaDA-Parallel-M (Hugging Face showlab/magvitv2): a taming-style
// convolutional encoder and decoder around a lookup-free quantiser (LFQ),
// read from the folder the official MAGVITv2 module saves (config.json
// and its weights in safetensors, bf16 or f32) and run on the CPU with
// package conv's layers.
//
// A picture of Size×Size pixels becomes a (Size/16)² grid of codes in
// raster order; at 512 pixels, MMaDA-Parallel-M's size, that is 32×32 =
// 1024 codes. A code is 13 bits, one per latent channel (1 where the
// channel is positive, the first channel the most significant), so there
// are 8192 codes and no codebook: code k decodes from its bits as ±1.
package magvit

import (
	"fmt"
	"image"

	"parascope/engine/conv"
	"parascope/engine/imgtok"
)

// DefaultSize is the picture side MMaDA-Parallel-M encodes and decodes.
const DefaultSize = 512

// Model is an opened MAGVIT-v2 at one picture size. It is safe for
// concurrent use.
type Model struct {
	Config Config
	Size   int // picture side in pixels, a multiple of Config.Scale()

	enc, dec coder

	// Drawer draws grids with the model's post-processing (Picture):
	// Decode, DecodeMasked, DecodePartial, Preview, Tile, MakeAtlas.
	*imgtok.Drawer
	scratch conv.Scratch // activations, kept between decodes
}

// coder is the encoder or the decoder. The encoder runs in, its levels
// finest first (ResNet blocks, then a down-sampling convolution), the
// mid-block, the normalised out convolution and quant_conv. The decoder
// runs post_quant_conv (quant), in, the mid-block, its levels coarsest
// first (ResNet blocks, then nearest 2× and a convolution), and out.
type coder struct {
	quant   *conv.Conv2d // the encoder's quant_conv or the decoder's post_quant_conv
	in      *conv.Conv2d
	levels  []level // finest first
	mid     midBlock
	normOut conv.GroupNorm
	out     *conv.Conv2d
}

type level struct {
	blocks   []*conv.ResNet
	resample *conv.Conv2d // down- or up-sampling; nil at the last level run
}

type midBlock struct {
	block1 *conv.ResNet
	attn   *conv.Attention
	block2 *conv.ResNet
}

// Open reads a MAGVIT-v2 folder for pictures of size×size pixels.
func Open(dir string, size int) (*Model, error) {
	c, err := ReadConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("magvit: %w", err)
	}
	if size < c.Scale() || size%c.Scale() != 0 {
		return nil, fmt.Errorf("magvit: picture size %d is not a positive multiple of the model's scale %d", size, c.Scale())
	}
	m, err := load(dir, c)
	if err != nil {
		return nil, fmt.Errorf("magvit: %w", err)
	}
	m.setSize(size)
	return m, nil
}

func (m *Model) setSize(size int) {
	m.Size = size
	m.Drawer = imgtok.NewDrawer("magvit", m)
}

// K returns the number of codes, 2^bits.
func (m *Model) K() int { return m.Config.Codes() }

// Grid returns the side of the code grid: Size / Config.Scale().
func (m *Model) Grid() int { return m.Size / m.Config.Scale() }

// Scale returns the side of a code's cell in pixels: Config.Scale().
func (m *Model) Scale() int { return m.Config.Scale() }

func (b *midBlock) forward(s *conv.Scratch, x conv.Tensor) conv.Tensor {
	x = s.Step(x, b.block1.Forward)
	x = s.Step(x, b.attn.Forward)
	return s.Step(x, b.block2.Forward)
}

func (l *level) forward(s *conv.Scratch, x conv.Tensor) conv.Tensor {
	for _, r := range l.blocks {
		x = s.Step(x, r.Forward)
	}
	return x
}

// latents runs the encoder (quant_conv included) over a picture's values
// (which it leaves as they are).
func (m *Model) latents(x conv.Tensor) conv.Tensor {
	s, e := &m.scratch, &m.enc
	x = e.in.Forward(s, x)
	for i := range e.levels {
		lv := &e.levels[i]
		x = lv.forward(s, x)
		if lv.resample != nil {
			x = s.Step(x, lv.resample.Forward)
		}
	}
	x = e.mid.forward(s, x)
	e.normOut.Forward(x, x, true)
	return s.Step(s.Step(x, e.out.Forward), e.quant.Forward)
}

// decode runs the decoder over grids of code vectors, one picture each,
// giving their values (about −1 to 1). The grids and the result are the
// caller's; a batch of one-cell grids is how atlas tiles are made.
func (m *Model) decode(q conv.Tensor) conv.Tensor {
	s, d := &m.scratch, &m.dec
	x := s.Step(d.quant.Forward(s, q), d.in.Forward)
	x = d.mid.forward(s, x)
	for i := len(d.levels) - 1; i >= 0; i-- {
		lv := &d.levels[i]
		x = lv.forward(s, x)
		if lv.resample != nil {
			x = s.Step(x, conv.Upsample2x)
			x = s.Step(x, lv.resample.Forward)
		}
	}
	d.normOut.Forward(x, x, true)
	return s.Step(x, d.out.Forward)
}

// indices quantises latents: one code per pixel, from the signs of its
// channels (a channel of exactly 0 is a 0 bit, as the official z > 0).
func (m *Model) indices(z conv.Tensor) []int {
	bits := m.Config.Bits()
	out := make([]int, z.N*z.H*z.W)
	for p := range out {
		out[p] = conv.LFQIndex(z.Data[p*bits : (p+1)*bits])
	}
	return out
}

// vectors returns the codes' ±1 vectors as h×w grids, as many as the
// codes fill; a negative code is the zero vector, no code at all.
func (m *Model) vectors(codes []int, h, w int) conv.Tensor {
	bits := m.Config.Bits()
	t := conv.NewBatch(len(codes)/(h*w), h, w, bits)
	for p, k := range codes {
		if k >= 0 {
			conv.LFQCode(t.Data[p*bits:(p+1)*bits], k)
		}
	}
	return t
}

// EncodeValues quantises a Size×Size×3 tensor of values in [−1, 1], as
// the official pre-processing normalises pictures.
func (m *Model) EncodeValues(x conv.Tensor) ([]int, error) {
	if err := imgtok.CheckValues("magvit", x, m.Size); err != nil {
		return nil, err
	}
	z := m.latents(x)
	defer m.scratch.Put(z)
	return m.indices(z), nil
}

// Encode returns the codes of a picture, which is first brought to
// Size×Size as the official pre-processing does (see Pixels).
func (m *Model) Encode(img image.Image) ([]int, error) {
	return m.EncodeValues(Values(Pixels(img, m.Size)))
}

// DecodeValues decodes a full grid of codes to the decoder's raw output,
// Size×Size×3, before the post-processing.
func (m *Model) DecodeValues(codes []int) (conv.Tensor, error) {
	if err := imgtok.Check("magvit", m, codes, false); err != nil {
		return conv.Tensor{}, err
	}
	g := m.Grid()
	return m.decode(m.vectors(codes, g, g)), nil
}

// DecodeGrids decodes len(codes)/(h*w) grids of h×w codes to a picture
// each, a negative code as the zero vector (halfway between every code's
// ±1). A batch of one-cell grids is how atlas tiles are made.
func (m *Model) DecodeGrids(codes []int, h, w int) []*image.RGBA {
	v := m.decode(m.vectors(codes, h, w))
	defer m.scratch.Put(v)
	return imgtok.Pictures(v, Picture)
}

// Release drops the activation memory kept between decodes.
func (m *Model) Release() { m.scratch.Release() }
