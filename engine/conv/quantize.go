package conv

import (
	"fmt"

	"parascope/engine/gemm"
)

// Codebook is a vector quantiser's table of K codes of Dim values each:
// a latent vector becomes the index of its nearest code.
type Codebook struct {
	K, Dim int
	E      []float32 // K × Dim
	norms  []float32 // ‖e_k‖²
}

// NewCodebook wraps a K×dim table of codes.
func NewCodebook(e []float32, k, dim int) *Codebook {
	if k < 1 || dim < 1 || len(e) != k*dim {
		panic(fmt.Sprintf("conv: %d values for a codebook of %d codes of %d", len(e), k, dim))
	}
	cb := &Codebook{K: k, Dim: dim, E: e, norms: make([]float32, k)}
	for i := range k {
		var s float32
		for _, v := range e[i*dim : (i+1)*dim] {
			s += v * v
		}
		cb.norms[i] = s
	}
	return cb
}

// Nearest returns, for each pixel of z (Dim channels), the index of the
// code at the least Euclidean distance, the lowest index among equals.
// Distances are ‖e‖² − 2·z·e (‖z‖² is the same for every code), the dot
// products one GEMM, as torch.cdist computes them for large inputs; two
// codes whose distances differ by float32 rounding may be picked either
// way by another implementation.
func (cb *Codebook) Nearest(z Tensor) []int {
	z.mustBe(z.N, z.H, z.W, cb.Dim, "quantiser input")
	n := z.pixels()
	out := make([]int, n)
	rows := max(1, (1<<20)/cb.K)
	dots := make([]float32, min(rows, n)*cb.K)
	for r0 := 0; r0 < n; r0 += rows {
		r1 := min(r0+rows, n)
		gemm.Sgemm(false, true, r1-r0, cb.K, cb.Dim, -2, z.Data[r0*cb.Dim:], cb.Dim, cb.E, cb.Dim, 0, dots, cb.K)
		for r := r0; r < r1; r++ {
			row := dots[(r-r0)*cb.K : (r-r0+1)*cb.K]
			best, bestD := 0, row[0]+cb.norms[0]
			for k := 1; k < cb.K; k++ {
				if d := row[k] + cb.norms[k]; d < bestD {
					best, bestD = k, d
				}
			}
			out[r] = best
		}
	}
	return out
}

// Lookup returns the codes at the given indices, which must lie in
// [0, K), as h×w grids: as many as the indices fill.
func (cb *Codebook) Lookup(idx []int, h, w int) Tensor {
	if len(idx) == 0 || len(idx)%(h*w) != 0 {
		panic(fmt.Sprintf("conv: %d indices for %d×%d grids", len(idx), h, w))
	}
	t := NewBatch(len(idx)/(h*w), h, w, cb.Dim)
	for p, k := range idx {
		copy(t.Data[p*cb.Dim:(p+1)*cb.Dim], cb.E[k*cb.Dim:(k+1)*cb.Dim])
	}
	return t
}

// LFQIndex is lookup-free quantisation (MAGVIT-v2) of one latent vector
// of at most 30 values: each value becomes a bit, 1 when it is positive,
// and value i is bit len(z)−1−i of the index (the first value the most
// significant bit), as Show-o's LFQuantizer weighs them.
func LFQIndex(z []float32) int {
	idx := 0
	for _, v := range z {
		idx <<= 1
		if v > 0 {
			idx |= 1
		}
	}
	return idx
}

// LFQCode writes the code of index idx into dst: ±1 per bit, in
// LFQIndex's order.
func LFQCode(dst []float32, idx int) {
	for i := range dst {
		if idx>>(len(dst)-1-i)&1 == 1 {
			dst[i] = 1
		} else {
			dst[i] = -1
		}
	}
}
