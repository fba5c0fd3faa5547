package nn

import (
	"math"

	"parascope/engine/gemm"
	"parascope/engine/parallel"
)

// ---- Bidirectional multi-head attention ------------------------------------
// q, k, v, out are [batch·seq, heads·hd]; a head's view is a seq×hd matrix
// with row stride heads·hd, which the GEMM takes as its leading dimension.
// Work is split across (sequence, head) pairs.

func attentionForward(out, probs, q, k, v []float32, batch, seq, heads, hd int) {
	d := heads * hd
	scale := float32(1 / math.Sqrt(float64(hd)))
	parallel.For(batch*heads, 1, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, h := bh/heads, bh%heads
			off := b*seq*d + h*hd
			p := probs[bh*seq*seq : (bh+1)*seq*seq]
			gemm.Sgemm(false, true, seq, seq, hd, scale, q[off:], d, k[off:], d, 0, p, seq)
			for r := range seq {
				softmaxRow(p[r*seq : (r+1)*seq])
			}
			gemm.Sgemm(false, false, seq, hd, seq, 1, p, seq, v[off:], d, 0, out[off:], d)
		}
	})
}

// attentionBlock is the most scores an inference attention worker holds at
// once (256 KiB): a block of query rows against every key. A sequence of up
// to 256 tokens is one block, as in attentionForward.
const attentionBlock = 1 << 16

// attentionRows is how many query rows an inference attention scores at once.
func attentionRows(seq int) int { return max(1, min(seq, attentionBlock/seq)) }

// attentionInference is attentionForward for a forward that no backward
// follows: nothing is kept, and each worker scores blocks of rows query rows
// in a scratch of its own. Every score and output sums the same products in
// the same order as attentionForward, so out is the same to the bit. Work is
// split across (sequence, head, block) triples.
func attentionInference(out, q, k, v []float32, batch, seq, heads, hd, rows int) {
	d := heads * hd
	scale := float32(1 / math.Sqrt(float64(hd)))
	blocks := (seq + rows - 1) / rows
	parallel.For(batch*heads*blocks, 1, func(lo, hi int) {
		p := make([]float32, rows*seq)
		for i := lo; i < hi; i++ {
			bh, r0 := i/blocks, i%blocks*rows
			b, h, n := bh/heads, bh%heads, min(rows, seq-r0)
			off := b*seq*d + h*hd
			at := off + r0*d // the block's first query row
			gemm.Sgemm(false, true, n, seq, hd, scale, q[at:], d, k[off:], d, 0, p, seq)
			for r := range n {
				softmaxRow(p[r*seq : (r+1)*seq])
			}
			gemm.Sgemm(false, false, n, hd, seq, 1, p, seq, v[off:], d, 0, out[at:], d)
		}
	})
}

// softmaxRow normalises a row in place, stable against large logits.
func softmaxRow(row []float32) {
	scale(row, 1/expAffine(row, row, 1, -maxOf(row)))
}

// attentionBackward: with S = q·kᵀ·scale and P = softmax(S),
// dP = dO·vᵀ, dv = Pᵀ·dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)),
// dq = dS·k·scale, dk = dSᵀ·q·scale.
func attentionBackward(dq, dk, dv, dOut, q, k, v, probs []float32, batch, seq, heads, hd int) {
	d := heads * hd
	scale := float32(1 / math.Sqrt(float64(hd)))
	parallel.For(batch*heads, 1, func(lo, hi int) {
		ds := make([]float32, seq*seq)
		for bh := lo; bh < hi; bh++ {
			b, h := bh/heads, bh%heads
			off := b*seq*d + h*hd
			p := probs[bh*seq*seq : (bh+1)*seq*seq]
			gemm.Sgemm(false, true, seq, seq, hd, 1, dOut[off:], d, v[off:], d, 0, ds, seq)
			gemm.Sgemm(true, false, seq, hd, seq, 1, p, seq, dOut[off:], d, 0, dv[off:], d)
			for r := range seq {
				pr, dr := p[r*seq:(r+1)*seq], ds[r*seq:(r+1)*seq]
				var dot float32
				for j := range pr {
					dot += pr[j] * dr[j]
				}
				for j := range pr {
					dr[j] = pr[j] * (dr[j] - dot)
				}
			}
			gemm.Sgemm(false, false, seq, hd, seq, scale, ds, seq, k[off:], d, 0, dq[off:], d)
			gemm.Sgemm(true, false, seq, hd, seq, scale, ds, seq, q[off:], d, 0, dk[off:], d)
		}
	})
}
