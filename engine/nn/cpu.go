package nn

import (
	"fmt"

	"parascope/engine/gemm"
)

// CPU is the host backend. It is always available and is the reference
// that every other backend is checked against.
type CPU struct{}

// cpuBuf is host memory; a Slice of it shares the same array.
type cpuBuf []float32

func (b cpuBuf) Len() int { return len(b) }

// bf16Buf is read-only bfloat16 weights on the host, often a view of a
// memory-mapped checkpoint.
type bf16Buf []uint16

func (b bf16Buf) Len() int { return len(b) }

// F32 returns the host slice behind a CPU buffer of float32.
func F32(b Buf) []float32 {
	c, ok := b.(cpuBuf)
	if !ok {
		panic(fmt.Sprintf("nn: %T is not a float32 CPU buffer", b))
	}
	return c
}

// Wrap makes a CPU buffer of an existing slice, without copying.
func Wrap(s []float32) Buf { return cpuBuf(s) }

func (CPU) Name() string    { return "cpu" }
func (CPU) Alloc(n int) Buf { return make(cpuBuf, n) }
func (CPU) Slice(b Buf, off, n int) Buf {
	if h, ok := b.(bf16Buf); ok {
		return h[off : off+n : off+n]
	}
	return cpuBuf(F32(b)[off : off+n : off+n])
}
func (CPU) WeightsBF16(src []uint16) Buf { return bf16Buf(src) }
func (CPU) Upload(dst Buf, src []float32) {
	mustLen("upload", len(src), dst.Len())
	copy(F32(dst), src)
}
func (CPU) Download(dst []float32, src Buf) {
	mustLen("download", len(dst), src.Len())
	copy(dst, F32(src))
}
func (CPU) Zero(b Buf) { clear(F32(b)) }
func (CPU) Copy(dst, src Buf) {
	mustLen("copy", src.Len(), dst.Len())
	copy(F32(dst), F32(src))
}

func mustLen(op string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("nn: %s: %d values for a buffer of %d", op, got, want))
	}
}

func (CPU) MatMul(c, a, b Buf, m, n, k int, transA, transB bool, alpha, beta float32) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	if h, ok := b.(bf16Buf); ok {
		gemm.SgemmBF16(transA, transB, m, n, k, alpha, F32(a), lda, h, ldb, beta, F32(c), n)
		return
	}
	gemm.Sgemm(transA, transB, m, n, k, alpha, F32(a), lda, F32(b), ldb, beta, F32(c), n)
}

func (CPU) AddTo(dst, src Buf)       { addTo(F32(dst), F32(src)) }
func (CPU) SumSquares(b Buf) float64 { return sumSquares(F32(b)) }
func (CPU) Scale(b Buf, s float32)   { scaleAll(F32(b), s) }

func (CPU) Embed(out, table Buf, ids []int32, d int) {
	if h, ok := table.(bf16Buf); ok {
		embedBF16(F32(out), h, ids, d)
		return
	}
	embedForward(F32(out), F32(table), ids, d)
}
func (CPU) EmbedBackward(dTable, dOut Buf, ids []int32, d int) {
	embedBackward(F32(dTable), F32(dOut), ids, d)
}
func (CPU) Gather(dst, src Buf, rows []int32, d int)  { gather(F32(dst), F32(src), rows, d) }
func (CPU) Scatter(dst, src Buf, rows []int32, d int) { scatter(F32(dst), F32(src), rows, d) }

func (CPU) RMSNorm(out, rstd, x, w Buf, rows, d int, eps float32) {
	rmsnormForward(F32(out), F32(rstd), F32(x), F32(w), rows, d, eps)
}
func (CPU) RMSNormBackward(dx, dw, dOut, x, w, rstd Buf, rows, d int) {
	rmsnormBackward(F32(dx), F32(dw), F32(dOut), F32(x), F32(w), F32(rstd), rows, d)
}

func (CPU) RoPE(x Buf, batch, seq, heads, hd int, theta float64, inverse bool) {
	rope(F32(x), batch, seq, heads, hd, theta, inverse)
}

func (CPU) Attention(out, probs, q, k, v Buf, batch, seq, heads, hd int) {
	attentionForward(F32(out), F32(probs), F32(q), F32(k), F32(v), batch, seq, heads, hd)
}
func (CPU) AttentionBackward(dq, dk, dv, dOut, q, k, v, probs Buf, batch, seq, heads, hd int) {
	attentionBackward(F32(dq), F32(dk), F32(dv), F32(dOut), F32(q), F32(k), F32(v), F32(probs), batch, seq, heads, hd)
}

func (CPU) AttentionInference(out, q, k, v Buf, batch, seq, heads, hd int) {
	attentionInference(F32(out), F32(q), F32(k), F32(v), batch, seq, heads, hd, attentionRows(seq))
}

func (CPU) SwiGLU(out, gate, up Buf) { swigluForward(F32(out), F32(gate), F32(up)) }
func (CPU) SwiGLUBackward(dGate, dUp, dOut, gate, up Buf) {
	swigluBackward(F32(dGate), F32(dUp), F32(dOut), F32(gate), F32(up))
}

func (CPU) CrossEntropy(dLogits, logits Buf, targets []int32, weights []float32, n, v int) float64 {
	return crossEntropy(F32(dLogits), F32(logits), targets, weights, n, v)
}

func (CPU) AdamW(param, grad, m, v Buf, h AdamW) { adamw(F32(param), F32(grad), F32(m), F32(v), h) }
