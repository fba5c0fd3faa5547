package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The layers against float64 references written out naively here, on
// shapes odd enough to catch indexing mistakes.

func random(r *rand.Rand, n int, scale float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64() * scale)
	}
	return out
}

func randomTensor(r *rand.Rand, h, w, c int) Tensor {
	return Tensor{H: h, W: w, C: c, Data: random(r, h*w*c, 1)}
}

// closeTo fails when got and want differ by more than tol relative to the
// larger of 1 and want's largest magnitude, and logs the max difference.
func closeTo(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	maxDiff, maxRef := 0.0, 1.0
	for i := range got {
		d := math.Abs(float64(got[i]) - want[i])
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		maxDiff = max(maxDiff, d)
		maxRef = max(maxRef, math.Abs(want[i]))
	}
	t.Logf("%-32s maxdiff %.3g (scale %.3g)", what, maxDiff, maxRef)
	if maxDiff > tol*maxRef {
		t.Errorf("%s: max difference %.3g exceeds %.3g", what, maxDiff, tol*maxRef)
	}
}

// refConv is a direct convolution in float64 with PyTorch's weight layout.
func refConv(x Tensor, w, b []float32, out, kh, kw, stride int, pad Pad) ([]float64, int, int) {
	oh := (x.H+pad.Top+pad.Bottom-kh)/stride + 1
	ow := (x.W+pad.Left+pad.Right-kw)/stride + 1
	in := x.C
	y := make([]float64, oh*ow*out)
	for oy := range oh {
		for ox := range ow {
			for o := range out {
				s := 0.0
				if b != nil {
					s = float64(b[o])
				}
				for ky := range kh {
					for kx := range kw {
						iy, ix := oy*stride-pad.Top+ky, ox*stride-pad.Left+kx
						if iy < 0 || iy >= x.H || ix < 0 || ix >= x.W {
							continue
						}
						for i := range in {
							s += float64(w[((o*in+i)*kh+ky)*kw+kx]) * float64(x.Data[(iy*x.W+ix)*in+i])
						}
					}
				}
				y[(oy*ow+ox)*out+o] = s
			}
		}
	}
	return y, oh, ow
}

func TestConv2d(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		h, w, in, out, k, stride int
		pad                      Pad
		bias                     bool
	}{
		{7, 9, 5, 6, 3, 1, Same(1), true},          // ResNet convolutions
		{7, 9, 5, 6, 1, 1, Pad{}, true},            // shortcuts, quant_conv
		{7, 9, 5, 6, 1, 1, Pad{}, false},           // no bias
		{8, 10, 5, 5, 3, 2, Pad{0, 1, 0, 1}, true}, // diffusers' Downsample2D
		{9, 7, 3, 4, 3, 2, Same(1), true},          // a strided convolution padded on all sides
		{6, 6, 3, 4, 4, 2, Same(1), true},          // an even kernel
		{5, 4, 2, 3, 5, 1, Pad{2, 0, 1, 3}, true},
		{130, 131, 8, 7, 3, 1, Same(1), true}, // more than one im2col band
	} {
		name := fmt.Sprintf("%dx%dx%d→%d k%d s%d %v", tc.h, tc.w, tc.in, tc.out, tc.k, tc.stride, tc.pad)
		t.Run(name, func(t *testing.T) {
			x := randomTensor(r, tc.h, tc.w, tc.in)
			w := random(r, tc.out*tc.in*tc.k*tc.k, 0.3)
			var b []float32
			if tc.bias {
				b = random(r, tc.out, 1)
			}
			c := NewConv2d(w, b, tc.out, tc.in, tc.k, tc.k, tc.stride, tc.pad)
			got := c.Forward(x)
			want, oh, ow := refConv(x, w, b, tc.out, tc.k, tc.k, tc.stride, tc.pad)
			if got.H != oh || got.W != ow || got.C != tc.out {
				t.Fatalf("output %d×%d×%d, want %d×%d×%d", got.H, got.W, got.C, oh, ow, tc.out)
			}
			closeTo(t, name, got.Data, want, 1e-5)
		})
	}
}

func TestConv2dAddTo(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := randomTensor(r, 6, 5, 4)
	w, b := random(r, 4*4*9, 0.3), random(r, 4, 1)
	c := NewConv2d(w, b, 4, 4, 3, 3, 1, Same(1))
	want, _, _ := refConv(x, w, b, 4, 3, 3, 1, Same(1))
	for i := range want {
		want[i] += float64(x.Data[i])
	}
	got := x.Clone()
	c.AddTo(got, x)
	closeTo(t, "residual convolution", got.Data, want, 1e-5)
}

func refGroupNorm(x Tensor, groups int, eps float64, gamma, beta []float32, silu bool) []float64 {
	c, n := x.C, x.pixels()
	per := c / groups
	y := make([]float64, len(x.Data))
	for g := range groups {
		var s float64
		for p := range n {
			for i := g * per; i < (g+1)*per; i++ {
				s += float64(x.Data[p*c+i])
			}
		}
		mean := s / float64(n*per)
		var q float64
		for p := range n {
			for i := g * per; i < (g+1)*per; i++ {
				d := float64(x.Data[p*c+i]) - mean
				q += d * d
			}
		}
		rstd := 1 / math.Sqrt(q/float64(n*per)+eps)
		for p := range n {
			for i := g * per; i < (g+1)*per; i++ {
				v := (float64(x.Data[p*c+i])-mean)*rstd*float64(gamma[i]) + float64(beta[i])
				if silu {
					v = v / (1 + math.Exp(-v))
				}
				y[p*c+i] = v
			}
		}
	}
	return y
}

func TestGroupNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, silu := range []bool{false, true} {
		x := randomTensor(r, 9, 11, 12)
		for i := range x.Data {
			x.Data[i] += 3 // a mean far from zero
		}
		gamma, beta := random(r, 12, 1), random(r, 12, 1)
		g := NewGroupNorm(4, 1e-6, gamma, beta)
		want := refGroupNorm(x, 4, 1e-6, gamma, beta, silu)
		got := New(9, 11, 12)
		g.Forward(got, x, silu)
		closeTo(t, fmt.Sprintf("group norm (silu %v)", silu), got.Data, want, 2e-6)
		g.Forward(x, x, silu) // in place
		closeTo(t, "group norm in place", x.Data, want, 2e-6)
	}
}

func TestExpAndSiLU(t *testing.T) {
	worst := 0.0
	for v := -87.0; v <= 88; v += 0.001 {
		x := float32(v)
		want := math.Exp(float64(x))
		worst = max(worst, math.Abs(float64(exp(x))-want)/want)
	}
	t.Logf("exp: worst relative error %.3g", worst)
	if worst > 3e-7 {
		t.Errorf("exp: relative error %.3g", worst)
	}
	if exp(-100) != 0 || !math.IsInf(float64(exp(100)), 1) {
		t.Errorf("exp(-100) = %g, exp(100) = %g", exp(-100), exp(100))
	}
	x := Tensor{H: 1, W: 1, C: 7, Data: []float32{-200, -20, -1, 0, 0.5, 20, 200}}
	want := make([]float64, 7)
	for i, v := range x.Data {
		want[i] = float64(v) / (1 + math.Exp(-float64(v)))
	}
	SiLU(x)
	closeTo(t, "silu", x.Data, want, 1e-6)
}

func TestUpsample2x(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x := randomTensor(r, 3, 5, 4)
	got := Upsample2x(x)
	want := make([]float64, 6*10*4)
	for y := range 6 {
		for xx := range 10 {
			for c := range 4 {
				want[(y*10+xx)*4+c] = float64(x.Data[((y/2)*5+xx/2)*4+c])
			}
		}
	}
	if got.H != 6 || got.W != 10 {
		t.Fatalf("upsampled to %d×%d", got.H, got.W)
	}
	closeTo(t, "upsample", got.Data, want, 0)
}

func randomConv(r *rand.Rand, out, in, k int) *Conv2d {
	return NewConv2d(random(r, out*in*k*k, 1/math.Sqrt(float64(in*k*k))), random(r, out, 0.1), out, in, k, k, 1, Same(k/2))
}

func randomNorm(r *rand.Rand, groups, c int) GroupNorm {
	gamma, beta := random(r, c, 0.2), random(r, c, 0.2)
	for i := range gamma {
		gamma[i]++
	}
	return NewGroupNorm(groups, 1e-6, gamma, beta)
}

func TestResNet(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, io := range [][2]int{{8, 8}, {8, 12}} {
		in, out := io[0], io[1]
		b := &ResNet{Norm1: randomNorm(r, 4, in), Conv1: randomConv(r, out, in, 3),
			Norm2: randomNorm(r, 4, out), Conv2: randomConv(r, out, out, 3)}
		if in != out {
			b.Shortcut = randomConv(r, out, in, 1)
		}
		x := randomTensor(r, 6, 7, in)
		// The reference: each step in float64, rounded to float32 where
		// the next layer's input is.
		h := round(x, refGroupNorm(x, 4, 1e-6, b.Norm1.Gamma, b.Norm1.Beta, true))
		h1, _, _ := refConv(h, pyWeights(b.Conv1), b.Conv1.B, out, 3, 3, 1, Same(1))
		h = round(Tensor{H: 6, W: 7, C: out}, h1)
		h = round(h, refGroupNorm(h, 4, 1e-6, b.Norm2.Gamma, b.Norm2.Beta, true))
		want, _, _ := refConv(h, pyWeights(b.Conv2), b.Conv2.B, out, 3, 3, 1, Same(1))
		short := make([]float64, len(want))
		if b.Shortcut != nil {
			short, _, _ = refConv(x, pyWeights(b.Shortcut), b.Shortcut.B, out, 1, 1, 1, Pad{})
		} else {
			for i, v := range x.Data {
				short[i] = float64(v)
			}
		}
		for i := range want {
			want[i] += short[i]
		}
		closeTo(t, fmt.Sprintf("resnet %d→%d", in, out), b.Forward(x).Data, want, 1e-5)
	}
}

// round returns a tensor of t's shape holding v rounded to float32.
func round(t Tensor, v []float64) Tensor {
	out := Tensor{H: t.H, W: t.W, C: len(v) / (t.H * t.W), Data: make([]float32, len(v))}
	for i, x := range v {
		out.Data[i] = float32(x)
	}
	return out
}

// pyWeights returns a convolution's weights back in PyTorch's layout.
func pyWeights(c *Conv2d) []float32 {
	w := make([]float32, len(c.W))
	for o := range c.Out {
		for i := range c.In {
			for y := range c.KH {
				for x := range c.KW {
					w[((o*c.In+i)*c.KH+y)*c.KW+x] = c.W[((o*c.KH+y)*c.KW+x)*c.In+i]
				}
			}
		}
	}
	return w
}

func TestAttention(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const h, w, c = 5, 6, 8
	lin := func() *Conv2d { return NewLinear(random(r, c*c, 0.4), random(r, c, 0.1), c, c) }
	a := &Attention{Norm: randomNorm(r, 4, c), Q: lin(), K: lin(), V: lin(), Proj: lin()}
	x := randomTensor(r, h, w, c)
	n := h * w
	norm := round(x, refGroupNorm(x, 4, 1e-6, a.Norm.Gamma, a.Norm.Beta, false))
	proj := func(l *Conv2d, in []float64) []float64 {
		out := make([]float64, n*c)
		for p := range n {
			for o := range c {
				s := float64(l.B[o])
				for i := range c {
					s += float64(l.W[o*c+i]) * in[p*c+i]
				}
				out[p*c+o] = s
			}
		}
		return out
	}
	in := make([]float64, n*c)
	for i, v := range norm.Data {
		in[i] = float64(v)
	}
	q, k, v := proj(a.Q, in), proj(a.K, in), proj(a.V, in)
	att := make([]float64, n*c)
	for i := range n {
		s := make([]float64, n)
		m := math.Inf(-1)
		for j := range n {
			for d := range c {
				s[j] += q[i*c+d] * k[j*c+d]
			}
			s[j] /= math.Sqrt(c)
			m = max(m, s[j])
		}
		sum := 0.0
		for j := range n {
			s[j] = math.Exp(s[j] - m)
			sum += s[j]
		}
		for j := range n {
			for d := range c {
				att[i*c+d] += s[j] / sum * v[j*c+d]
			}
		}
	}
	want := proj(a.Proj, att)
	for i := range want {
		want[i] += float64(x.Data[i])
	}
	closeTo(t, "attention", a.Forward(x).Data, want, 1e-5)
}

func TestCodebookNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	const k, dim = 300, 6
	cb := NewCodebook(random(r, k*dim, 1), k, dim)
	z := randomTensor(r, 7, 9, dim)
	copy(z.Data[:dim], cb.E[5*dim:6*dim]) // a pixel exactly on code 5
	got := cb.Nearest(z)
	for p := range z.pixels() {
		best, bestD, second := 0, math.Inf(1), math.Inf(1)
		for j := range k {
			d := 0.0
			for i := range dim {
				e := float64(z.Data[p*dim+i]) - float64(cb.E[j*dim+i])
				d += e * e
			}
			if d < bestD {
				best, bestD, second = j, d, bestD
			} else if d < second {
				second = d
			}
		}
		if got[p] != best && second-bestD > 1e-5 {
			t.Errorf("pixel %d: code %d, want %d (distance %.6g, next %.6g)", p, got[p], best, bestD, second)
		}
	}
	if got[0] != 5 {
		t.Errorf("a pixel equal to code 5 quantised to %d", got[0])
	}
	look := cb.Lookup(got, 7, 9)
	for p, c := range got {
		for i := range dim {
			if look.Data[p*dim+i] != cb.E[c*dim+i] {
				t.Fatalf("lookup of pixel %d differs from code %d", p, c)
			}
		}
	}
}

func TestLFQ(t *testing.T) {
	// Show-o's LFQuantizer: index = Σ_i 2^(dim−1−i)·[z_i > 0], and its
	// embedding row for an index is 2·bit − 1 in the same order.
	r := rand.New(rand.NewPCG(15, 16))
	const dim = 13
	for range 200 {
		z := random(r, dim, 1)
		z[r.IntN(dim)] = 0 // zero is not positive: bit 0
		want := 0
		for i, v := range z {
			if v > 0 {
				want += 1 << (dim - 1 - i)
			}
		}
		if got := LFQIndex(z); got != want {
			t.Fatalf("LFQIndex(%v) = %d, want %d", z, got, want)
		}
		code := make([]float32, dim)
		LFQCode(code, want)
		for i, v := range code {
			if (v == 1) != (z[i] > 0) || (v != 1 && v != -1) {
				t.Fatalf("LFQCode(%d)[%d] = %g for z = %g", want, i, v, z[i])
			}
		}
		if LFQIndex(code) != want {
			t.Fatalf("LFQIndex(LFQCode(%d)) = %d", want, LFQIndex(code))
		}
	}
}

// BenchmarkConv2d times the convolutions that dominate a 512×512 VQ-GAN
// decode: 3×3 at 128 and 256 channels, a 1×1 shortcut and the strided
// down-sampling.
func BenchmarkConv2d(b *testing.B) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, tc := range []struct {
		size, in, out, k, stride int
		pad                      Pad
	}{
		{128, 128, 128, 3, 1, Same(1)},
		{64, 256, 256, 3, 1, Same(1)},
		{128, 256, 128, 1, 1, Pad{}},
		{128, 128, 128, 3, 2, Pad{0, 1, 0, 1}},
	} {
		b.Run(fmt.Sprintf("%d²x%d→%d_k%d_s%d", tc.size, tc.in, tc.out, tc.k, tc.stride), func(b *testing.B) {
			x := randomTensor(r, tc.size, tc.size, tc.in)
			c := NewConv2d(random(r, tc.out*tc.in*tc.k*tc.k, 0.1), random(r, tc.out, 0.1), tc.out, tc.in, tc.k, tc.k, tc.stride, tc.pad)
			oh, ow := c.OutSize(tc.size, tc.size)
			flops := 2 * float64(oh*ow*tc.out*tc.in*tc.k*tc.k)
			for b.Loop() {
				c.Forward(x)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// A batch gives what each picture gives alone, whatever the bands
// (pictures of one pixel, and pictures split across bands).
func TestForwardBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, tc := range []struct {
		n, h, w, in, out, k, stride int
		pad                         Pad
	}{
		{5, 1, 1, 6, 7, 3, 1, Same(1)},
		{3, 4, 5, 6, 7, 3, 1, Same(1)},
		{3, 6, 6, 5, 4, 3, 2, Pad{0, 1, 0, 1}},
		{4, 3, 2, 5, 6, 1, 1, Pad{}},
		{3, 70, 90, 20, 8, 3, 1, Same(1)}, // bands of 5825 rows, across pictures
	} {
		name := fmt.Sprintf("%d×%dx%dx%d→%d k%d s%d", tc.n, tc.h, tc.w, tc.in, tc.out, tc.k, tc.stride)
		c := NewConv2d(random(r, tc.out*tc.in*tc.k*tc.k, 0.3), random(r, tc.out, 1), tc.out, tc.in, tc.k, tc.k, tc.stride, tc.pad)
		xs := make([]Tensor, tc.n)
		for i := range xs {
			xs[i] = randomTensor(r, tc.h, tc.w, tc.in)
		}
		for i, got := range c.ForwardBatch(xs) {
			want, _, _ := refConv(xs[i], pyWeights(c), c.B, tc.out, tc.k, tc.k, tc.stride, tc.pad)
			closeTo(t, fmt.Sprintf("%s picture %d", name, i), got.Data, want, 1e-5)
		}
	}
	for _, io := range [][2]int{{8, 8}, {8, 12}} {
		b := &ResNet{Norm1: randomNorm(r, 4, io[0]), Conv1: randomConv(r, io[1], io[0], 3),
			Norm2: randomNorm(r, 4, io[1]), Conv2: randomConv(r, io[1], io[1], 3)}
		if io[0] != io[1] {
			b.Shortcut = randomConv(r, io[1], io[0], 1)
		}
		xs := []Tensor{randomTensor(r, 2, 3, io[0]), randomTensor(r, 2, 3, io[0]), randomTensor(r, 2, 3, io[0])}
		for i, got := range b.ForwardBatch(xs) {
			want := b.Forward(xs[i])
			ref := make([]float64, len(want.Data))
			for j, v := range want.Data {
				ref[j] = float64(v)
			}
			closeTo(t, fmt.Sprintf("resnet %d→%d batch picture %d", io[0], io[1], i), got.Data, ref, 1e-6)
		}
	}
}
