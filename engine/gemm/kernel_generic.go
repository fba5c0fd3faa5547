package gemm

import "parascope/engine/bf16"

// goKernel is the portable micro-kernel: a 2×4 tile whose eight sums
// live in local variables. Larger tiles run slower in pure Go, because
// their sums and operands no longer fit in the sixteen SSE registers and
// spill to the stack.
var goKernel = kernel{name: "go", mr: 2, nr: 4, fn: kernelGo}

func kernelGo(k int, a, b, c []float32, ldc int, acc bool) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	a, b = a[:2*k], b[:4*k]
	for len(a) >= 2 && len(b) >= 4 {
		a0, a1 := a[0], a[1]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a, b = a[2:], b[4:]
	}
	store4(c[:4], acc, c00, c01, c02, c03)
	store4(c[ldc:ldc+4], acc, c10, c11, c12, c13)
}

func store4(c []float32, acc bool, v0, v1, v2, v3 float32) {
	if acc {
		v0 += c[0]
		v1 += c[1]
		v2 += c[2]
		v3 += c[3]
	}
	c[0], c[1], c[2], c[3] = v0, v1, v2, v3
}

// gather4Go transposes four rows of a matrix into the packed layout:
// dst[q·w+r] = alpha·src[r·ld+q] for r < 4 and q < kc. It reads the four
// rows side by side, so each is a sequential stream.
func gather4Go(dst []float32, w int, src []float32, ld, kc int, alpha float32) {
	if kc == 0 {
		return
	}
	s0 := src[0*ld:][:kc]
	s1 := src[1*ld:][:kc]
	s2 := src[2*ld:][:kc]
	s3 := src[3*ld:][:kc]
	for q := range s0 {
		g := dst[q*w:][:4]
		g[0], g[1], g[2], g[3] = alpha*s0[q], alpha*s1[q], alpha*s2[q], alpha*s3[q]
	}
}

// copyPanelGo copies w values from each of kc rows of a matrix into the
// packed layout: dst[q·w+i] = alpha·src[q·ld+i] for i < w and q < kc.
func copyPanelGo(dst []float32, w int, src []float32, ld, kc int, alpha float32) {
	for q := range kc {
		g := dst[q*w:][:w]
		for i, v := range src[q*ld:][:w] {
			g[i] = alpha * v
		}
	}
}

// gatherBF16x8Go transposes eight rows of a bfloat16 matrix into the packed
// layout, widened: dst[q·w+r] = float32(src[r·ld+q]) for r < 8, q < kc.
func gatherBF16x8Go(dst []float32, w int, src []uint16, ld, kc int) {
	for r := range 8 {
		for q, v := range src[r*ld:][:kc] {
			dst[q*w+r] = bf16.ToF32(v)
		}
	}
}
