// Package conv holds the forward-only layers of convolutional image
// networks — the VQ-GAN and MAGVIT-v2 image tokenizers — over one picture
// at a time: 2-D convolution, group normalisation, SiLU, nearest 2×
// up-sampling, the ResNet block, single-head spatial self-attention and
// the two quantisers (nearest codebook entry, and lookup-free sign bits).
//
// A Tensor is channels-last (H×W×C, row-major, batch 1): a pixel's
// channels are contiguous, so a 1×1 convolution is one GEMM over the
// pixels as they lie, a k×k one is a GEMM over an im2col copy built band
// by band, and group statistics are per-channel sums. Weights arrive in
// PyTorch's layout and are rearranged once when a layer is made.
//
// Shapes are fixed when a network is built and checked when its weights
// are read; a mismatch inside a forward pass is a programming error and
// panics, as in package gemm.
package conv

import (
	"fmt"

	"parascope/engine/gemm"
	"parascope/engine/parallel"
)

// Tensor is one picture's activations, H×W pixels of C channels each,
// channels-last: the value of channel c at (y, x) is Data[(y*W+x)*C+c].
type Tensor struct {
	H, W, C int
	Data    []float32
}

// New returns a zeroed h×w×c tensor.
func New(h, w, c int) Tensor {
	return Tensor{H: h, W: w, C: c, Data: make([]float32, h*w*c)}
}

// Clone returns a copy of t.
func (t Tensor) Clone() Tensor {
	return Tensor{H: t.H, W: t.W, C: t.C, Data: append([]float32(nil), t.Data...)}
}

func (t Tensor) pixels() int { return t.H * t.W }

func (t Tensor) mustBe(h, w, c int, what string) {
	if t.H != h || t.W != w || t.C != c || len(t.Data) != h*w*c {
		panic(fmt.Sprintf("conv: %s is %d×%d×%d (%d values), want %d×%d×%d", what, t.H, t.W, t.C, len(t.Data), h, w, c))
	}
}

// Pad is the zero padding on each side of a convolution's input.
// diffusers' Downsample2D pads only the bottom and right, by one.
type Pad struct{ Top, Bottom, Left, Right int }

// Same returns p pixels of padding on every side.
func Same(p int) Pad { return Pad{p, p, p, p} }

// Conv2d is a 2-D convolution with bias, any kernel size, stride and
// padding. W is stored [Out][KH][KW][In], the order im2col lays a pixel's
// window in, so that a row of W and a row of the im2col copy line up.
type Conv2d struct {
	In, Out, KH, KW, Stride int
	Pad                     Pad
	W                       []float32 // Out × KH·KW·In
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
					c.W[((o*kh+y)*kw+x)*in+i] = w[((o*in+i)*kh+y)*kw+x]
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

// Forward returns the convolution of x.
func (c *Conv2d) Forward(x Tensor) Tensor {
	oh, ow := c.OutSize(x.H, x.W)
	dst := New(oh, ow, c.Out)
	c.AddTo(dst, x)
	return dst
}

// bandFloats bounds the im2col copy (4 MiB): large enough that each GEMM
// call has hundreds of rows to split across cores, small enough to stay
// in the last-level cache between being written and being packed.
const bandFloats = 1 << 20

// AddTo adds the convolution of x (bias included) to dst, which must have
// the output's shape: a residual connection costs no extra pass.
func (c *Conv2d) AddTo(dst, x Tensor) {
	x.mustBe(x.H, x.W, c.In, "convolution input")
	oh, ow := c.OutSize(x.H, x.W)
	dst.mustBe(oh, ow, c.Out, "convolution output")
	n, k := oh*ow, c.KH*c.KW*c.In
	if c.KH == 1 && c.KW == 1 && c.Stride == 1 && c.Pad == (Pad{}) {
		c.addBias(dst.Data)
		gemm.Sgemm(false, true, n, c.Out, k, 1, x.Data, c.In, c.W, k, 1, dst.Data, c.Out)
		return
	}
	band := min(n, max(1, bandFloats/k))
	col := make([]float32, band*k)
	for p0 := 0; p0 < n; p0 += band {
		p1 := min(p0+band, n)
		out := dst.Data[p0*c.Out : p1*c.Out]
		c.addBias(out)
		c.im2col(col, x, p0, p1, ow)
		gemm.Sgemm(false, true, p1-p0, c.Out, k, 1, col, k, c.W, k, 1, out, c.Out)
	}
}

// ForwardBatch returns the convolution of each of xs, pictures of one
// shape, as one GEMM over all their pixels: a batch of pictures of a few
// pixels (codes decoded alone, for an atlas) then costs per pixel what a
// large picture does, rather than a small GEMM call each.
func (c *Conv2d) ForwardBatch(xs []Tensor) []Tensor {
	if len(xs) == 0 {
		return nil
	}
	h, w := xs[0].H, xs[0].W
	oh, ow := c.OutSize(h, w)
	n, k := oh*ow, c.KH*c.KW*c.In
	data := make([]float32, len(xs)*n*c.Out)
	outs := make([]Tensor, len(xs))
	for i, x := range xs {
		x.mustBe(h, w, c.In, "batched convolution input")
		outs[i] = Tensor{H: oh, W: ow, C: c.Out, Data: data[i*n*c.Out : (i+1)*n*c.Out]}
	}
	total := len(xs) * n
	band := min(total, max(1, bandFloats/k))
	col := make([]float32, band*k)
	for p0 := 0; p0 < total; p0 += band {
		p1 := min(p0+band, total)
		// A band may span several pictures: each lays its own rows.
		for p := p0; p < p1; {
			q0 := p % n
			q1 := min(n, q0+p1-p)
			c.im2col(col[(p-p0)*k:], xs[p/n], q0, q1, ow)
			p += q1 - q0
		}
		out := data[p0*c.Out : p1*c.Out]
		c.addBias(out)
		gemm.Sgemm(false, true, p1-p0, c.Out, k, 1, col, k, c.W, k, 1, out, c.Out)
	}
	return outs
}

func (c *Conv2d) addBias(out []float32) {
	if c.B == nil {
		return
	}
	parallel.For(len(out)/c.Out, 4096, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			row := out[p*c.Out : (p+1)*c.Out]
			for o, b := range c.B {
				row[o] += b
			}
		}
	})
}

// im2col writes the windows of output pixels [p0, p1) into col, one row
// of KH·KW·In values each, zeros where the window hangs over the padding.
// A window row's KW taps are neighbouring input pixels whatever the
// stride, so each is one copy where it lies wholly inside.
func (c *Conv2d) im2col(col []float32, x Tensor, p0, p1, ow int) {
	k, run := c.KH*c.KW*c.In, c.KW*c.In
	parallel.For(p1-p0, 64, func(lo, hi int) {
		for p := p0 + lo; p < p0+hi; p++ {
			oy, ox := p/ow, p%ow
			row := col[(p-p0)*k : (p-p0+1)*k]
			ix0 := ox*c.Stride - c.Pad.Left
			for ky := range c.KH {
				dst := row[ky*run : (ky+1)*run]
				iy := oy*c.Stride - c.Pad.Top + ky
				switch {
				case iy < 0 || iy >= x.H:
					clear(dst)
				case ix0 >= 0 && ix0+c.KW <= x.W:
					src := (iy*x.W + ix0) * c.In
					copy(dst, x.Data[src:src+run])
				default:
					for kx := range c.KW {
						d := dst[kx*c.In : (kx+1)*c.In]
						if ix := ix0 + kx; ix >= 0 && ix < x.W {
							src := (iy*x.W + ix) * c.In
							copy(d, x.Data[src:src+c.In])
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
// neighbour), as torch's interpolate(scale_factor=2, mode="nearest").
func Upsample2x(x Tensor) Tensor {
	dst := New(2*x.H, 2*x.W, x.C)
	c := x.C
	parallel.For(x.H, 8, func(lo, hi int) {
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
