// Package conv holds the forward-only layers of convolutional image
// networks — the VQ-GAN and MAGVIT-v2 image tokenizers — over a batch of
// pictures: 2-D convolution, group normalisation, SiLU, nearest 2×
// up-sampling, the ResNet block, single-head spatial self-attention and
// the two quantisers (nearest codebook entry, and lookup-free sign bits).
//
// A Tensor is channels-last (N×H×W×C, row-major): a pixel's channels are
// contiguous, so a 1×1 convolution is one GEMM over the pixels as they
// lie, a stride-1 k×k one a GEMM per tap over a padded slab, a strided
// one a GEMM over an im2col copy built band by band, and group statistics
// are per-channel sums. Weights arrive in
// PyTorch's layout and are rearranged once when a layer is made.
//
// Layers that make new activations take them from a Scratch, so that a
// network run again and again reuses its memory instead of having the
// system fault fresh zeroed pages in for every layer (at 512×512 that was
// a quarter of a VQ-GAN decode).
//
// Shapes are fixed when a network is built and checked when its weights
// are read; a mismatch inside a forward pass is a programming error and
// panics, as in package gemm.
package conv

import (
	"fmt"
	"sync"

	"parascope/engine/gemm"
	"parascope/engine/parallel"
)

// Tensor is the activations of N pictures of H×W pixels of C channels
// each, channels-last: the value of channel c at (y, x) of picture i is
// Data[((i*H+y)*W+x)*C+c]. Layers treat the pictures separately (group
// statistics are per picture); a batch lets small pictures share each
// GEMM's packing of the weights.
type Tensor struct {
	N, H, W, C int
	Data       []float32
}

// New returns a zeroed h×w×c tensor of one picture.
func New(h, w, c int) Tensor { return NewBatch(1, h, w, c) }

// NewBatch returns a zeroed tensor of n pictures of h×w×c.
func NewBatch(n, h, w, c int) Tensor {
	return Tensor{N: n, H: h, W: w, C: c, Data: make([]float32, n*h*w*c)}
}

// Image returns picture i of t, sharing its values.
func (t Tensor) Image(i int) Tensor {
	size := t.H * t.W * t.C
	return Tensor{N: 1, H: t.H, W: t.W, C: t.C, Data: t.Data[i*size : (i+1)*size]}
}

func (t Tensor) pixels() int { return t.N * t.H * t.W }

func (t Tensor) mustBe(n, h, w, c int, what string) {
	if t.N != n || t.H != h || t.W != w || t.C != c || len(t.Data) != n*h*w*c {
		panic(fmt.Sprintf("conv: %s is %d×%d×%d×%d (%d values), want %d×%d×%d×%d", what, t.N, t.H, t.W, t.C, len(t.Data), n, h, w, c))
	}
}

// Pad is the zero padding on each side of a convolution's input.
// diffusers' Downsample2D pads only the bottom and right, by one.
type Pad struct{ Top, Bottom, Left, Right int }

// Same returns p pixels of padding on every side.
func Same(p int) Pad { return Pad{p, p, p, p} }

// Conv2d is a 2-D convolution with bias, any kernel size, stride and
// padding. W is stored [KH][KW][In][Out]: its rows follow the order
// im2col lays a pixel's window in, and it is the GEMM's B untransposed,
// which packs by plain copies.
type Conv2d struct {
	In, Out, KH, KW, Stride int
	Pad                     Pad
	W                       []float32 // KH·KW·In × Out
	B                       []float32 // Out values, or nil for no bias
}

// NewConv2d makes a convolution from weights in PyTorch's layout
// [out][in][kh][kw] and a bias of out values (or nil).
func NewConv2d(w, b []float32, out, in, kh, kw, stride int, pad Pad) *Conv2d {
	if len(w) != out*in*kh*kw || (b != nil && len(b) != out) || stride < 1 {
		panic(fmt.Sprintf("conv: %d weights and %d biases for a %d→%d %d×%d convolution of stride %d", len(w), len(b), in, out, kh, kw, stride))
	}
	c := &Conv2d{In: in, Out: out, KH: kh, KW: kw, Stride: stride, Pad: pad, B: b,
		W: make([]float32, len(w))}
	for o := range out {
		for i := range in {
			for y := range kh {
				for x := range kw {
					c.W[((y*kw+x)*in+i)*out+o] = w[((o*in+i)*kh+y)*kw+x]
				}
			}
		}
	}
	return c
}

// OutSize is the output's height and width for an h×w input.
func (c *Conv2d) OutSize(h, w int) (int, int) {
	return (h+c.Pad.Top+c.Pad.Bottom-c.KH)/c.Stride + 1, (w+c.Pad.Left+c.Pad.Right-c.KW)/c.Stride + 1
}

// Forward returns the convolution of x in a tensor from s.
func (c *Conv2d) Forward(s *Scratch, x Tensor) Tensor {
	oh, ow := c.OutSize(x.H, x.W)
	dst := s.Get(x.N, oh, ow, c.Out)
	c.into(dst, x, false)
	return dst
}

// An im2col band holds bandFloats values (4 MiB), to stay in the
// last-level cache between being written and being packed, but at least
// bandMin pixels: every GEMM call packs the whole weight matrix again, so
// a band of a few hundred pixels of a 768-channel layer would spend as
// long copying weights as multiplying.
const (
	bandFloats = 1 << 20
	bandMin    = 2048
)

// AddTo adds the convolution of x (bias included) to dst, which must have
// the output's shape: a residual connection costs no extra pass.
func (c *Conv2d) AddTo(dst, x Tensor) { c.into(dst, x, true) }

// into writes the convolution of x to dst, or adds it when add is set.
func (c *Conv2d) into(dst, x Tensor, add bool) {
	x.mustBe(x.N, x.H, x.W, c.In, "convolution input")
	oh, ow := c.OutSize(x.H, x.W)
	dst.mustBe(x.N, oh, ow, c.Out, "convolution output")
	switch {
	case c.KH == 1 && c.KW == 1 && c.Stride == 1 && c.Pad == (Pad{}):
		c.bias(dst.Data, add)
		gemm.Sgemm(false, false, x.pixels(), c.Out, c.In, 1, x.Data, c.In, c.W, c.Out, 1, dst.Data, c.Out)
	case c.Stride == 1 && ow >= shiftedMinWidth:
		for i := range x.N {
			c.shifted(dst.Image(i), x.Image(i), add)
		}
	default:
		c.lowered(dst, x, add)
	}
}

// lowered is the convolution as one GEMM per band of output pixels (of
// all the pictures) over an im2col copy of their windows. A band starts
// as the bias (or, adding, gets it added) just before its GEMM
// accumulates onto it, while it is in cache.
func (c *Conv2d) lowered(dst, x Tensor, add bool) {
	n, k := dst.pixels(), c.KH*c.KW*c.In
	band := min(n, max(bandMin, bandFloats/k))
	col := make([]float32, band*k)
	for p0 := 0; p0 < n; p0 += band {
		p1 := min(p0+band, n)
		out := dst.Data[p0*c.Out : p1*c.Out]
		c.bias(out, add)
		c.im2col(col, x, p0, p1, dst.H, dst.W)
		gemm.Sgemm(false, false, p1-p0, c.Out, k, 1, col, k, c.W, c.Out, 1, out, c.Out)
	}
}

// shiftedMinWidth is the narrowest output the shifted GEMMs run on: each
// output row carries KW−1 wasted columns.
const shiftedMinWidth = 16

// shifted is a stride-1 convolution without im2col. A band of output rows
// reads a slab of the input with its padding written out, Wp pixels a
// row; over the slab flattened, the input under tap (ky, kx) of output
// (r, x) is pixel r·Wp + x + ky·Wp + kx. So each tap is one GEMM of the
// slab, offset by ky·Wp + kx pixels, with that tap's In×Out weights,
// accumulating into a band computed Wp wide, whose last KW−1 columns of
// each row (windows that wrap into the next row) are dropped. The input
// is copied once instead of KH·KW times.
func (c *Conv2d) shifted(dst, x Tensor, add bool) {
	oh, ow := c.OutSize(x.H, x.W)
	wp := x.W + c.Pad.Left + c.Pad.Right
	rows := min(oh, max(ceilDiv(bandMin, wp), bandFloats/(wp*(c.In+c.Out))))
	slab := make([]float32, (rows+c.KH-1)*wp*c.In)
	acc := make([]float32, rows*wp*c.Out)
	for y0 := 0; y0 < oh; y0 += rows {
		r := min(rows, oh-y0)
		c.fillSlab(slab, x, y0, r+c.KH-1, wp)
		m := r*wp - (c.KW - 1) // the last row's wrapped windows would run off the slab
		out := acc[:m*c.Out]
		c.bias(out, false)
		for ky := range c.KH {
			for kx := range c.KW {
				tap := (ky*c.KW + kx) * c.In * c.Out
				gemm.Sgemm(false, false, m, c.Out, c.In, 1, slab[(ky*wp+kx)*c.In:], c.In,
					c.W[tap:tap+c.In*c.Out], c.Out, 1, out, c.Out)
			}
		}
		parallel.For(r, 4, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				src := acc[i*wp*c.Out : (i*wp+ow)*c.Out]
				d := dst.Data[(y0+i)*ow*c.Out : (y0+i+1)*ow*c.Out]
				if !add {
					copy(d, src)
					continue
				}
				for j, v := range src {
					d[j] += v
				}
			}
		})
	}
}

// fillSlab writes rows padded rows of x, from output row y0's first, each
// wp pixels wide with the left and right padding as zeros.
func (c *Conv2d) fillSlab(slab []float32, x Tensor, y0, rows, wp int) {
	in := c.In
	parallel.For(rows, 4, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			row := slab[j*wp*in : (j+1)*wp*in]
			iy := y0 + j - c.Pad.Top
			if iy < 0 || iy >= x.H {
				clear(row)
				continue
			}
			clear(row[:c.Pad.Left*in])
			copy(row[c.Pad.Left*in:], x.Data[iy*x.W*in:(iy+1)*x.W*in])
			clear(row[(c.Pad.Left+x.W)*in:])
		}
	})
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// bias sets each pixel's outputs to the bias, or adds the bias to them.
func (c *Conv2d) bias(out []float32, add bool) {
	if c.B == nil {
		if !add {
			clear(out)
		}
		return
	}
	parallel.For(len(out)/c.Out, 4096, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			row := out[p*c.Out : (p+1)*c.Out]
			if !add {
				copy(row, c.B)
				continue
			}
			for o, b := range c.B {
				row[o] += b
			}
		}
	})
}

// im2col writes the windows of output pixels [p0, p1) (counted through
// the pictures of an oh×ow output in turn) into col, one row of KH·KW·In
// values each, zeros where the window hangs over the padding. A window
// row's KW taps are neighbouring input pixels whatever the stride, so each
// is one copy where it lies wholly inside.
func (c *Conv2d) im2col(col []float32, x Tensor, p0, p1, oh, ow int) {
	k, run := c.KH*c.KW*c.In, c.KW*c.In
	parallel.For(p1-p0, 64, func(lo, hi int) {
		for p := p0 + lo; p < p0+hi; p++ {
			img := x.Image(p / (oh * ow))
			oy, ox := p%(oh*ow)/ow, p%ow
			row := col[(p-p0)*k : (p-p0+1)*k]
			ix0 := ox*c.Stride - c.Pad.Left
			for ky := range c.KH {
				dst := row[ky*run : (ky+1)*run]
				iy := oy*c.Stride - c.Pad.Top + ky
				switch {
				case iy < 0 || iy >= img.H:
					clear(dst)
				case ix0 >= 0 && ix0+c.KW <= img.W:
					src := (iy*img.W + ix0) * c.In
					copy(dst, img.Data[src:src+run])
				default:
					for kx := range c.KW {
						d := dst[kx*c.In : (kx+1)*c.In]
						if ix := ix0 + kx; ix >= 0 && ix < img.W {
							src := (iy*img.W + ix) * c.In
							copy(d, img.Data[src:src+c.In])
						} else {
							clear(d)
						}
					}
				}
			}
		}
	})
}

// NewLinear makes a fully connected layer applied to every pixel from
// PyTorch's Linear weight [out][in]: a 1×1 convolution.
func NewLinear(w, b []float32, out, in int) *Conv2d {
	return NewConv2d(w, b, out, in, 1, 1, 1, Pad{})
}

// Upsample2x returns x scaled up 2× by repeating each pixel (nearest
// neighbour), as torch's interpolate(scale_factor=2, mode="nearest"), in a
// tensor from s.
func Upsample2x(s *Scratch, x Tensor) Tensor {
	dst := s.Get(x.N, 2*x.H, 2*x.W, x.C)
	c := x.C
	// Rows of every picture in turn: input row y becomes output rows 2y
	// and 2y+1 of the same picture.
	parallel.For(x.N*x.H, 8, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			row := dst.Data[2*y*dst.W*c : (2*y+1)*dst.W*c]
			for xx := range x.W {
				src := x.Data[(y*x.W+xx)*c : (y*x.W+xx+1)*c]
				copy(row[2*xx*c:], src)
				copy(row[(2*xx+1)*c:], src)
			}
			copy(dst.Data[(2*y+1)*dst.W*c:(2*y+2)*dst.W*c], row)
		}
	})
	return dst
}

// Scratch lends out activation buffers and takes them back. A nil
// Scratch allocates every buffer afresh. It is safe for concurrent use.
type Scratch struct {
	mu   sync.Mutex
	free [][]float32
}

// Get returns a tensor of n pictures of h×w×c whose values are left over
// from earlier use.
func (s *Scratch) Get(pictures, h, w, c int) Tensor {
	n := pictures * h * w * c
	if s == nil {
		return NewBatch(pictures, h, w, c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The smallest free buffer that is large enough.
	best := -1
	for i, b := range s.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(s.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return NewBatch(pictures, h, w, c)
	}
	b := s.free[best]
	s.free = append(s.free[:best], s.free[best+1:]...)
	return Tensor{N: pictures, H: h, W: w, C: c, Data: b[:n]}
}

// Put gives t's buffer back for a later Get; t must not be used after.
func (s *Scratch) Put(t Tensor) {
	if s == nil || cap(t.Data) == 0 {
		return
	}
	s.mu.Lock()
	s.free = append(s.free, t.Data[:0])
	s.mu.Unlock()
}

// Step returns layer's output for x and gives x back to s: a network's
// layers chained without keeping each one's input.
func (s *Scratch) Step(x Tensor, layer func(*Scratch, Tensor) Tensor) Tensor {
	y := layer(s, x)
	s.Put(x)
	return y
}

// Release drops the buffers kept for reuse.
func (s *Scratch) Release() {
	s.mu.Lock()
	s.free = nil
	s.mu.Unlock()
}
