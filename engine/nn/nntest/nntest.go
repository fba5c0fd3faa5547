package nntest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"parascope/engine/bf16"
	"parascope/engine/nn"
)

// Shapes small enough for finite differences, odd enough to catch
// indexing mistakes.
const (
	batch, seq, heads, hd = 2, 5, 3, 4
	d, ff, vocab, nsel    = heads * hd, 7, 11, 4
	rows                  = batch * seq
	theta, eps            = 10000.0, 1e-5
)

// checker holds the backend under test and the random source.
type checker struct {
	t  *testing.T
	be nn.Backend
	r  *rand.Rand
}

func (c *checker) random(n int, scale float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = c.r.NormFloat64() * scale
	}
	return out
}

func (c *checker) upload(x []float64) nn.Buf {
	b := c.be.Alloc(len(x))
	c.be.Upload(b, f32(x))
	return b
}

func (c *checker) download(b nn.Buf) []float64 {
	out := make([]float32, b.Len())
	c.be.Download(out, b)
	return F64(out)
}

func f32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// F64 widens a backend's values for comparison with float64 references.
func F64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// roundTrip rounds through float32, so references see exactly the values
// the backend sees.
func roundTrip(x []float64) []float64 { return F64(f32(x)) }

// close fails the test when got and want differ by more than tol (see
// Close).
func (c *checker) close(what string, got, want []float64, tol float64) {
	c.t.Helper()
	Close(c.t, c.be.Name(), what, got, want, tol)
}

// Close fails the test when got and want differ by more than tol relative
// to the larger of 1 and want's largest magnitude, and logs the max
// difference either way; backend names what produced got.
func Close(t *testing.T, backend, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	maxDiff, maxRef := 0.0, 1.0
	for i := range got {
		maxDiff = math.Max(maxDiff, math.Abs(got[i]-want[i]))
		maxRef = math.Max(maxRef, math.Abs(want[i]))
		if math.IsNaN(got[i]) {
			maxDiff = math.Inf(1)
		}
	}
	t.Logf("%-28s maxdiff %.3g (scale %.3g)", what, maxDiff, maxRef)
	if maxDiff > tol*maxRef {
		t.Errorf("%s on %s: max difference %.3g exceeds %.3g", what, backend, maxDiff, tol*maxRef)
	}
}

// gradCheck compares an analytic gradient with central differences of
// L(x) = Σ upstream·f(x), evaluated in float64 at every coordinate.
func (c *checker) gradCheck(what string, x []float64, f func([]float64) []float64, upstream, analytic []float64) {
	c.t.Helper()
	const h = 1e-5
	num := make([]float64, len(x))
	xx := append([]float64(nil), x...)
	for i := range x {
		xx[i] = x[i] + h
		plus := dot(upstream, f(xx))
		xx[i] = x[i] - h
		minus := dot(upstream, f(xx))
		xx[i] = x[i]
		num[i] = (plus - minus) / (2 * h)
	}
	c.close(what+" (finite differences)", analytic, num, 2e-4)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// Ops runs every operation of the backend against the references.
func Ops(t *testing.T, be nn.Backend) {
	tests := []struct {
		name string
		run  func(c *checker)
	}{
		{"MatMul", checkMatMul},
		{"MatMulBF16", checkMatMulBF16},
		{"Embed", checkEmbed},
		{"EmbedBF16", checkEmbedBF16},
		{"GatherScatter", checkGatherScatter},
		{"RMSNorm", checkRMSNorm},
		{"RoPE", checkRoPE},
		{"Attention", checkAttention},
		{"SwiGLU", checkSwiGLU},
		{"CrossEntropy", checkCrossEntropy},
		{"AdamW", checkAdamW},
		{"AddCopyZero", checkAddCopyZero},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(&checker{t: t, be: be, r: rand.New(rand.NewPCG(uint64(i), 7))})
		})
	}
}

func checkMatMul(c *checker) {
	for _, s := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 9, 33}, {64, 48, 40}} {
		m, n, k := s[0], s[1], s[2]
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, ab := range [][2]float64{{1, 0}, {0.5, 1}} {
				a, b, cc := roundTrip(c.random(m*k, 1)), roundTrip(c.random(k*n, 1)), roundTrip(c.random(m*n, 1))
				out := c.upload(cc)
				c.be.MatMul(out, c.upload(a), c.upload(b), m, n, k, tr[0], tr[1], float32(ab[0]), float32(ab[1]))
				want := refMatMul(a, b, m, n, k, tr[0], tr[1], ab[0], ab[1], cc)
				c.close(fmt.Sprintf("matmul %dx%dx%d t=%v a,b=%v", m, n, k, tr, ab), c.download(out), want, 1e-5*float64(k))
			}
		}
	}
}

// bf16Weights draws n weights rounded to bfloat16: their bit patterns,
// and the values they stand for.
func (c *checker) bf16Weights(n int) ([]uint16, []float64) {
	x := f32(c.random(n, 1))
	h := bf16.Round(x)
	return h, F64(x)
}

// checkMatMulBF16 multiplies by bfloat16 weights, as a model does (x·Wᵀ,
// and W alone in a backward), through a Slice of the weights too. The
// tolerance allows a GPU to round A to bfloat16 (2⁻⁹ relative).
func checkMatMulBF16(c *checker) {
	for _, s := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 9, 33}, {64, 48, 40}} {
		m, n, k := s[0], s[1], s[2]
		for _, transB := range []bool{true, false} {
			wh, w := c.bf16Weights(k*n + 5)
			a, cc := roundTrip(c.random(m*k, 1)), roundTrip(c.random(m*n, 1))
			out := c.upload(cc)
			b := c.be.Slice(c.be.WeightsBF16(wh), 5, k*n)
			c.be.MatMul(out, c.upload(a), b, m, n, k, false, transB, 0.5, 1)
			want := refMatMul(a, w[5:], m, n, k, false, transB, 0.5, 1, cc)
			c.close(fmt.Sprintf("matmul bf16 %dx%dx%d transB=%v", m, n, k, transB), c.download(out), want, 4e-3*math.Sqrt(float64(k)))
		}
	}
}

// checkEmbedBF16 looks rows up in a bfloat16 table: exact, since widening is.
func checkEmbedBF16(c *checker) {
	th, table := c.bf16Weights(vocab * d)
	ids := []int32{3, 0, 10, 3, 7, 1}
	out := c.be.Alloc(len(ids) * d)
	c.be.Embed(out, c.be.WeightsBF16(th), ids, d)
	c.close("embed bf16", c.download(out), refEmbed(table, ids, d), 0)
}

func checkEmbed(c *checker) {
	table := roundTrip(c.random(vocab*d, 1))
	ids := []int32{3, 0, 10, 3, 7, 1}
	out := c.be.Alloc(len(ids) * d)
	c.be.Embed(out, c.upload(table), ids, d)
	c.close("embed", c.download(out), refEmbed(table, ids, d), 0)
	up := roundTrip(c.random(len(ids)*d, 1))
	dTable := c.be.Alloc(vocab * d)
	c.be.EmbedBackward(dTable, c.upload(up), ids, d)
	c.gradCheck("embed backward", table, func(tb []float64) []float64 { return refEmbed(tb, ids, d) }, up, c.download(dTable))
}

func checkGatherScatter(c *checker) {
	src := roundTrip(c.random(rows*d, 1))
	sel := []int32{9, 0, 4, 5}
	dst := c.be.Alloc(len(sel) * d)
	c.be.Gather(dst, c.upload(src), sel, d)
	c.close("gather", c.download(dst), refEmbed(src, sel, d), 0)
	back := c.be.Alloc(rows * d)
	c.be.Upload(back, f32(c.random(rows*d, 1))) // must be overwritten
	up := roundTrip(c.random(len(sel)*d, 1))
	c.be.Scatter(back, c.upload(up), sel, d)
	c.gradCheck("scatter (gather backward)", src, func(s []float64) []float64 { return refEmbed(s, sel, d) }, up, c.download(back))
}

func checkRMSNorm(c *checker) {
	x, w := roundTrip(c.random(rows*d, 2)), roundTrip(c.random(d, 1))
	out, rstd := c.be.Alloc(rows*d), c.be.Alloc(rows)
	xb, wb := c.upload(x), c.upload(w)
	c.be.RMSNorm(out, rstd, xb, wb, rows, d, eps)
	c.close("rmsnorm", c.download(out), refRMSNorm(x, w, rows, d, eps), 1e-5)
	up := roundTrip(c.random(rows*d, 1))
	prior := roundTrip(c.random(rows*d, 1)) // dx accumulates onto this
	dx, dw := c.upload(prior), c.be.Alloc(d)
	c.be.RMSNormBackward(dx, dw, c.upload(up), xb, wb, rstd, rows, d)
	gx := c.download(dx)
	for i := range gx {
		gx[i] -= prior[i]
	}
	c.gradCheck("rmsnorm backward x", x, func(xx []float64) []float64 { return refRMSNorm(xx, w, rows, d, eps) }, up, gx)
	c.gradCheck("rmsnorm backward w", w, func(ww []float64) []float64 { return refRMSNorm(x, ww, rows, d, eps) }, up, c.download(dw))
}

func checkRoPE(c *checker) {
	x := roundTrip(c.random(rows*d, 1))
	// positions up to 5 barely rotate the slow pairs; test a long sequence too
	for _, s := range []struct{ batch, seq int }{{batch, seq}, {1, 300}} {
		n := s.batch * s.seq * d
		xs := roundTrip(c.random(n, 1))
		if s.seq == seq {
			xs = x
		}
		b := c.upload(xs)
		c.be.RoPE(b, s.batch, s.seq, heads, hd, theta, false)
		c.close(fmt.Sprintf("rope seq %d", s.seq), c.download(b), refRoPE(xs, s.batch, s.seq, heads, hd, theta), 1e-5)
		c.be.RoPE(b, s.batch, s.seq, heads, hd, theta, true)
		c.close(fmt.Sprintf("rope inverse seq %d", s.seq), c.download(b), xs, 1e-5)
	}
	up := roundTrip(c.random(rows*d, 1))
	g := c.upload(up)
	c.be.RoPE(g, batch, seq, heads, hd, theta, true)
	c.gradCheck("rope backward", x, func(xx []float64) []float64 { return refRoPE(xx, batch, seq, heads, hd, theta) }, up, c.download(g))
}

func checkAttention(c *checker) {
	q, k, v := roundTrip(c.random(rows*d, 1)), roundTrip(c.random(rows*d, 1)), roundTrip(c.random(rows*d, 1))
	qb, kb, vb := c.upload(q), c.upload(k), c.upload(v)
	out, probs := c.be.Alloc(rows*d), c.be.Alloc(batch*heads*seq*seq)
	c.be.Attention(out, probs, qb, kb, vb, batch, seq, heads, hd)
	c.close("attention", c.download(out), refAttention(q, k, v, batch, seq, heads, hd), 1e-5)
	inf := c.be.Alloc(rows * d)
	c.be.AttentionInference(inf, qb, kb, vb, batch, seq, heads, hd)
	c.close("attention for inference", c.download(inf), refAttention(q, k, v, batch, seq, heads, hd), 1e-5)
	up := roundTrip(c.random(rows*d, 1))
	dq, dk, dv := c.be.Alloc(rows*d), c.be.Alloc(rows*d), c.be.Alloc(rows*d)
	c.be.AttentionBackward(dq, dk, dv, c.upload(up), qb, kb, vb, probs, batch, seq, heads, hd)
	c.gradCheck("attention backward q", q, func(x []float64) []float64 { return refAttention(x, k, v, batch, seq, heads, hd) }, up, c.download(dq))
	c.gradCheck("attention backward k", k, func(x []float64) []float64 { return refAttention(q, x, v, batch, seq, heads, hd) }, up, c.download(dk))
	c.gradCheck("attention backward v", v, func(x []float64) []float64 { return refAttention(q, k, x, batch, seq, heads, hd) }, up, c.download(dv))
	// Large logits must not overflow the softmax.
	big := make([]float64, len(q))
	for i := range big {
		big[i] = q[i] * 300
	}
	c.be.Attention(out, probs, c.upload(big), kb, vb, batch, seq, heads, hd)
	c.close("attention, large logits", c.download(out), refAttention(roundTrip(big), k, v, batch, seq, heads, hd), 1e-4)
	c.be.AttentionInference(inf, c.upload(big), kb, vb, batch, seq, heads, hd)
	c.close("attention for inference, large logits", c.download(inf), refAttention(roundTrip(big), k, v, batch, seq, heads, hd), 1e-4)
}

func checkSwiGLU(c *checker) {
	g, u := roundTrip(c.random(rows*ff, 3)), roundTrip(c.random(rows*ff, 1))
	gb, ub := c.upload(g), c.upload(u)
	out := c.be.Alloc(rows * ff)
	c.be.SwiGLU(out, gb, ub)
	c.close("swiglu", c.download(out), refSwiGLU(g, u), 1e-5)
	up := roundTrip(c.random(rows*ff, 1))
	dg, du := c.be.Alloc(rows*ff), c.be.Alloc(rows*ff)
	c.be.SwiGLUBackward(dg, du, c.upload(up), gb, ub)
	c.gradCheck("swiglu backward gate", g, func(x []float64) []float64 { return refSwiGLU(x, u) }, up, c.download(dg))
	c.gradCheck("swiglu backward up", u, func(x []float64) []float64 { return refSwiGLU(g, x) }, up, c.download(du))
}

func checkCrossEntropy(c *checker) {
	logits := roundTrip(c.random(nsel*vocab, 3))
	logits[0] = 80 // a large logit must not overflow
	targets := []int32{0, 10, 4, 4}
	weights := []float32{0.5, 1, 0.25, 2}
	dl := c.be.Alloc(nsel * vocab)
	loss := c.be.CrossEntropy(dl, c.upload(logits), targets, weights, nsel, vocab)
	want := refCrossEntropy(logits, targets, weights, nsel, vocab)
	c.close("cross-entropy loss", []float64{loss}, []float64{want}, 1e-5)
	c.gradCheck("cross-entropy backward", logits, func(x []float64) []float64 {
		return []float64{refCrossEntropy(x, targets, weights, nsel, vocab)}
	}, []float64{1}, c.download(dl))
}

func checkAdamW(c *checker) {
	const n = 37
	p, m, v := roundTrip(c.random(n, 1)), roundTrip(c.random(n, 0.1)), roundTrip(c.random(n, 0.1))
	for i := range v {
		v[i] = math.Abs(v[i])
	}
	g := roundTrip(c.random(n, 1))
	h := nn.AdamW{LR: 1e-2, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1, Step: 3}
	pb, mb, vb := c.upload(p), c.upload(m), c.upload(v)
	c.be.AdamW(pb, c.upload(g), mb, vb, h)
	want := make([]float64, n)
	for i := range p {
		mm := 0.9*m[i] + 0.1*g[i]
		vv := 0.95*v[i] + 0.05*g[i]*g[i]
		mhat, vhat := mm/(1-math.Pow(0.9, 3)), vv/(1-math.Pow(0.95, 3))
		want[i] = p[i] - 1e-2*(mhat/(math.Sqrt(vhat)+1e-8)+0.1*p[i])
	}
	c.close("adamw", c.download(pb), want, 1e-5)
}

func checkAddCopyZero(c *checker) {
	a, b := roundTrip(c.random(50, 1)), roundTrip(c.random(50, 1))
	ab, bb := c.upload(a), c.upload(b)
	c.be.AddTo(ab, bb)
	sum := make([]float64, 50)
	for i := range sum {
		sum[i] = a[i] + b[i]
	}
	c.close("add", c.download(ab), sum, 1e-7)
	c.be.Copy(ab, bb)
	c.close("copy", c.download(ab), b, 0)
	big := roundTrip(c.random(40000, 1)) // more than one chunk
	ss := 0.0
	for _, v := range big {
		ss += v * v
	}
	bigb := c.upload(big)
	c.close("sum of squares", []float64{c.be.SumSquares(bigb)}, []float64{ss}, 1e-9)
	c.be.Scale(bigb, 0.25)
	for i := range big {
		big[i] *= 0.25
	}
	c.close("scale", c.download(bigb), big, 0)
	view := c.be.Slice(ab, 10, 5)
	c.be.Zero(view)
	got := c.download(ab)
	for i, x := range got {
		if zero := i >= 10 && i < 15; zero != (x == 0) {
			c.t.Fatalf("zeroing a slice changed element %d", i)
		}
	}
}

// Counting is the CPU backend, counting the floats it allocates, for
// tests that hold a size estimate against what is really allocated.
type Counting struct {
	nn.CPU
	Floats *int
}

func (c Counting) Alloc(n int) nn.Buf {
	*c.Floats += n
	return c.CPU.Alloc(n)
}
