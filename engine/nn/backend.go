// Package nn is the compute seam of the engine: the Backend interface that
// the model runs on, and its CPU implementation. Each layer's forward sits
// next to its backward, as plain functions over flat float32 slices; the
// CPU backend calls them and the CUDA backend (package gpu) implements the
// same operations on the device. Activations are row-major [rows, d], with
// rows = batch·sequence and each head's hd values contiguous inside a row.
package nn

// Buf is memory owned by a backend: host memory on the CPU, device memory
// on a GPU. It is only ever handed back to the backend that made it.
type Buf interface {
	Len() int
}

// AdamW holds the optimiser's hyper-parameters for one update.
type AdamW struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	Step                               int // 1-based, for bias correction
}

// Backend runs the model's operations. Unless an operation says it
// accumulates (+=), it overwrites its outputs. Index slices (ids, rows,
// targets) live on the host; each backend moves them as it needs.
type Backend interface {
	Name() string

	Alloc(n int) Buf // zero-filled
	Slice(b Buf, off, n int) Buf
	Upload(dst Buf, src []float32)
	Download(dst []float32, src Buf)
	Zero(b Buf)
	Copy(dst, src Buf)

	// WeightsBF16 makes a read-only buffer of len(src) bfloat16 weights,
	// given as bit patterns (the high half of a float32), as checkpoints
	// store them. It serves only as MatMul's b, Embed's table and
	// Slice's source. The CPU keeps src itself, so weights mapped from a
	// file are read from it as they are used; a GPU copies them.
	WeightsBF16(src []uint16) Buf

	// MatMul computes C = alpha·op(A)·op(B) + beta·C for contiguous
	// row-major matrices; op(A) is m×k, op(B) is k×n. With a bfloat16 B
	// the CPU widens it exactly; a GPU may round A to bfloat16 too, as
	// its bfloat16 matrix units do, summing in float32.
	MatMul(c, a, b Buf, m, n, k int, transA, transB bool, alpha, beta float32)
	// AddTo computes dst += src.
	AddTo(dst, src Buf)
	// SumSquares returns Σ b², in float64; Scale multiplies b by s.
	SumSquares(b Buf) float64
	Scale(b Buf, s float32)

	Embed(out, table Buf, ids []int32, d int)
	EmbedBackward(dTable, dOut Buf, ids []int32, d int) // accumulates
	Gather(dst, src Buf, rows []int32, d int)           // dst[j] = src[rows[j]]
	Scatter(dst, src Buf, rows []int32, d int)          // dst = 0; dst[rows[j]] += src[j]

	RMSNorm(out, rstd, x, w Buf, rows, d int, eps float32)
	RMSNormBackward(dx, dw, dOut, x, w, rstd Buf, rows, d int) // accumulates into dx and dw

	// RoPE rotates each head of x in place by its position in the
	// sequence; inverse undoes it, which is also its backward.
	RoPE(x Buf, batch, seq, heads, hd int, theta float64, inverse bool)

	// Attention is bidirectional softmax(q·kᵀ/√hd)·v per sequence and
	// head; probs [batch, heads, seq, seq] is kept for the backward.
	Attention(out, probs, q, k, v Buf, batch, seq, heads, hd int)
	AttentionBackward(dq, dk, dv, dOut, q, k, v, probs Buf, batch, seq, heads, hd int)
	// AttentionInference is Attention for a forward that no backward
	// follows: it keeps no probabilities and scores a block of query rows
	// at a time, so its scratch is far smaller than batch·heads·seq².
	AttentionInference(out, q, k, v Buf, batch, seq, heads, hd int)

	SwiGLU(out, gate, up Buf)
	SwiGLUBackward(dGate, dUp, dOut, gate, up Buf)

	// CrossEntropy returns Σ_j weights[j]·CE(logits_j, targets[j]) over n
	// rows of v logits and writes its gradient with respect to the logits.
	CrossEntropy(dLogits, logits Buf, targets []int32, weights []float32, n, v int) float64

	AdamW(param, grad, m, v Buf, h AdamW)
}
