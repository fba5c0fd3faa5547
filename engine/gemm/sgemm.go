// Package gemm multiplies single-precision row-major matrices on the CPU.
//
// Sgemm follows the Goto/BLIS scheme. Blocks of op(A) and op(B) are copied
// into packed panels, which also absorbs the four transpose cases; the
// loops are blocked so that the panels stay in cache; and a
// register-blocked micro-kernel does the arithmetic on one small tile of C
// at a time. On amd64 the micro-kernel is Go assembly using AVX-512 or
// AVX2+FMA, chosen from what package cpu reports, and the packing loops use SSE;
// elsewhere (or with the purego build tag) everything is pure Go.
//
// SgemmBF16 takes B as bfloat16, as checkpoints store weights: the values
// are widened to float32 as they are packed, so the weights stay half the
// size in memory and the arithmetic is Sgemm's.
package gemm

import (
	"fmt"
	"sync"

	"parascope/engine/bf16"
	"parascope/engine/cpu"
	"parascope/engine/parallel"
)

// Cache blocking. A kc×mr panel of A (12 KiB for the AVX-512 kernel) stays
// in L1 while the micro-kernel sweeps the kc×nc block of B, which stays in
// L2 (512 KiB of a 1 MiB L2); the mc×kc block of A (under 1 MiB) is read
// from L2/L3 once per nc block. mcMax and ncMax are multiples of every
// kernel's mr and nr, so only the edges of C need partial tiles.
const (
	kcMax = 256
	mcMax = 960
	ncMax = 512
)

// parallelMin is the smallest m·n·k worth splitting across cores; smaller
// products run on the calling goroutine. Waking an idle core costs from a
// few microseconds up to ~100 µs on a virtual machine, while 128³ is about
// 40 µs of work for one core. Attention-sized products (200×200×32) stay
// inline, where callers already run many of them side by side.
const parallelMin = 128 * 128 * 128

// kernel is a register-blocked micro-kernel. fn multiplies a packed mr×k
// panel of A (k groups of mr values) by a packed k×nr panel of B (k groups
// of nr values), k ≥ 1, and stores the mr×nr product into c (row stride
// ldc), or adds it to c when acc is set.
type kernel struct {
	name   string
	mr, nr int
	fn     func(k int, a, b, c []float32, ldc int, acc bool)
}

// kernels lists the micro-kernels this machine can run, slowest first.
var kernels = append([]*kernel{&goKernel}, archKernels()...)

// best is the widest kernel the vector units that package cpu allows can
// run; tests narrow them to check the slower paths.
func best() *kernel {
	switch {
	case cpu.AVX512 && avx512Kernel != nil:
		return avx512Kernel
	case cpu.AVX2 && avx2Kernel != nil:
		return avx2Kernel
	}
	return &goKernel
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C, where op(A) is m×k and
// op(B) is k×n. All matrices are row-major. A is m×k (lda ≥ k) when
// !transA, else k×m (lda ≥ m); B is k×n (ldb ≥ n) when !transB, else n×k
// (ldb ≥ k); C is m×n (ldc ≥ n). With beta = 0, C is overwritten without
// being read. Sgemm is safe for concurrent use; large products are split
// across cores, small ones run on the calling goroutine.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(best(), problem{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc}, beta)
}

// SgemmBF16 is Sgemm with B given as bfloat16 bit patterns (the high half
// of a float32). Its products are Sgemm's on B widened to float32, to the
// bit.
func SgemmBF16(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []uint16, ldb int, beta float32, c []float32, ldc int) {
	sgemm(best(), problem{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, bh: b, ldb: ldb, c: c, ldc: ldc}, beta)
}

// checkB panics unless b can hold op(B), k×n.
func checkB[T float32 | uint16](transB bool, n, k int, b []T, ldb int) {
	if transB {
		checkMatrix("B", b, n, k, ldb)
	} else {
		checkMatrix("B", b, k, n, ldb)
	}
}

// problem is one call's operands; the parallel split hands each worker a
// problem covering a band of rows or columns of C.
type problem struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a, b, c        []float32
	bh             []uint16 // B in bfloat16, in place of b
	lda, ldb, ldc  int
	acc            bool // add to C instead of overwriting it
}

// sgemm checks p's operands and runs it, adding to C unless beta is 0.
func sgemm(kern *kernel, p problem, beta float32) {
	m, n, k, c, ldc := p.m, p.n, p.k, p.c, p.ldc
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	checkMatrix("C", c, m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	if p.alpha == 0 || k == 0 {
		scale(c, m, n, ldc, beta)
		return
	}
	if p.transA {
		checkMatrix("A", p.a, k, m, p.lda)
	} else {
		checkMatrix("A", p.a, m, k, p.lda)
	}
	if p.bh != nil {
		checkB(p.transB, n, k, p.bh, p.ldb)
	} else {
		checkB(p.transB, n, k, p.b, p.ldb)
	}
	if beta != 0 && beta != 1 {
		scale(c, m, n, ldc, beta)
	}
	p.acc = beta != 0
	if m*n*k < parallelMin {
		p.run(kern)
		return
	}
	// Split the dimension with more tiles, in whole tiles, so that every
	// worker keeps full-width micro-kernel calls.
	tilesM, tilesN := ceilDiv(m, kern.mr), ceilDiv(n, kern.nr)
	if tilesM >= tilesN {
		grain := ceilDiv(parallelMin, kern.mr*n*k)
		parallel.For(tilesM, grain, func(lo, hi int) {
			p.rows(lo*kern.mr, min(hi*kern.mr, m)).run(kern)
		})
	} else {
		grain := ceilDiv(parallelMin, kern.nr*m*k)
		parallel.For(tilesN, grain, func(lo, hi int) {
			p.cols(lo*kern.nr, min(hi*kern.nr, n)).run(kern)
		})
	}
}

// rows returns the sub-problem for rows [lo, hi) of C.
func (p problem) rows(lo, hi int) problem {
	if p.transA {
		p.a = p.a[lo:]
	} else {
		p.a = p.a[lo*p.lda:]
	}
	p.c = p.c[lo*p.ldc:]
	p.m = hi - lo
	return p
}

// cols returns the sub-problem for columns [lo, hi) of C.
func (p problem) cols(lo, hi int) problem {
	off := lo
	if p.transB {
		off = lo * p.ldb
	}
	if p.bh != nil {
		p.bh = p.bh[off:]
	} else {
		p.b = p.b[off:]
	}
	p.c = p.c[lo:]
	p.n = hi - lo
	return p
}

// run computes the problem on the calling goroutine.
func (p problem) run(kern *kernel) {
	mr, nr := kern.mr, kern.nr
	kcLen := min(p.k, kcMax)
	ws := getWorkspace(roundUp(min(p.m, mcMax), mr)*kcLen, kcLen*roundUp(min(p.n, ncMax), nr), mr*nr)
	defer workspaces.Put(ws)

	for ic := 0; ic < p.m; ic += mcMax {
		mc := min(mcMax, p.m-ic)
		for pc := 0; pc < p.k; pc += kcMax {
			kc := min(kcMax, p.k-pc)
			acc := p.acc || pc > 0 // later k blocks add to the earlier ones
			p.packA(ws.a, ic, mc, pc, kc, mr)
			for jc := 0; jc < p.n; jc += ncMax {
				nc := min(ncMax, p.n-jc)
				p.packB(ws.b, pc, kc, jc, nc, nr)
				for ir := 0; ir < mc; ir += mr {
					ap := ws.a[ir*kc : (ir+mr)*kc]
					for jr := 0; jr < nc; jr += nr {
						bp := ws.b[jr*kc : (jr+nr)*kc]
						c := p.c[(ic+ir)*p.ldc+jc+jr:]
						rows, cols := min(mr, mc-ir), min(nr, nc-jr)
						if rows == mr && cols == nr {
							kern.fn(kc, ap, bp, c, p.ldc, acc)
							continue
						}
						// Edge tile: compute the full tile aside and
						// copy out the part that lies inside C.
						kern.fn(kc, ap, bp, ws.tile, nr, false)
						for i := range rows {
							dst, src := c[i*p.ldc:i*p.ldc+cols], ws.tile[i*nr:i*nr+cols]
							if acc {
								for j, v := range src {
									dst[j] += v
								}
							} else {
								copy(dst, src)
							}
						}
					}
				}
			}
		}
	}
}

// packA packs alpha·op(A)[i0:i0+mc, p0:p0+kc] into panels of mr rows.
func (p problem) packA(dst []float32, i0, mc, p0, kc, mr int) {
	if p.transA {
		pack(dst, mr, p.a[p0*p.lda+i0:], p.lda, true, mc, kc, p.alpha)
	} else {
		pack(dst, mr, p.a[i0*p.lda+p0:], p.lda, false, mc, kc, p.alpha)
	}
}

// packB packs op(B)[p0:p0+kc, j0:j0+nc] into panels of nr columns.
func (p problem) packB(dst []float32, p0, kc, j0, nc, nr int) {
	switch {
	case p.bh != nil && p.transB:
		packBF16(dst, nr, p.bh[j0*p.ldb+p0:], p.ldb, false, nc, kc)
	case p.bh != nil:
		packBF16(dst, nr, p.bh[p0*p.ldb+j0:], p.ldb, true, nc, kc)
	case p.transB:
		pack(dst, nr, p.b[j0*p.ldb+p0:], p.ldb, false, nc, kc, 1)
	default:
		pack(dst, nr, p.b[p0*p.ldb+j0:], p.ldb, true, nc, kc, 1)
	}
}

// packBF16 is pack for a bfloat16 X, widened to float32, with alpha 1.
func packBF16(dst []float32, w int, src []uint16, ld int, kMajor bool, n, kc int) {
	for t := 0; t < n; t += w {
		d := dst[t*kc:][:w*kc]
		cols := min(w, n-t)
		if kMajor {
			for q := range kc {
				g := d[q*w:][:w]
				for i, v := range src[q*ld+t:][:cols] {
					g[i] = bf16.ToF32(v)
				}
				clear(g[cols:])
			}
			continue
		}
		i := 0
		for ; i+8 <= cols; i += 8 {
			gatherBF16x8(d[i:], w, src[(t+i)*ld:], ld, kc)
		}
		for ; i < cols; i++ {
			for q, v := range src[(t+i)*ld:][:kc] {
				d[q*w+i] = bf16.ToF32(v)
			}
		}
		for ; i < w; i++ {
			for q := range kc {
				d[q*w+i] = 0
			}
		}
	}
}

// pack copies alpha·X, for an n×kc block X, into dst in the layout the
// micro-kernels read: panel t (at dst[t·w·kc:]) holds, for each q < kc in
// turn, the w values X[t·w : t·w+w, q], zero past n. X[i, q] lies at
// src[q·ld+i] when kMajor, else at src[i·ld+q].
func pack(dst []float32, w int, src []float32, ld int, kMajor bool, n, kc int, alpha float32) {
	for t := 0; t < n; t += w {
		d := dst[t*kc:][:w*kc]
		cols := min(w, n-t)
		if kMajor && cols == w {
			copyPanel(d, w, src[t:], ld, kc, alpha)
			continue
		}
		if kMajor {
			for q := range kc {
				g := d[q*w:][:w]
				for i, v := range src[q*ld+t:][:cols] {
					g[i] = alpha * v
				}
				clear(g[cols:])
			}
			continue
		}
		i := 0
		for ; i+4 <= cols; i += 4 {
			gather4(d[i:], w, src[(t+i)*ld:], ld, kc, alpha)
		}
		for ; i < cols; i++ {
			for q, v := range src[(t+i)*ld:][:kc] {
				d[q*w+i] = alpha * v
			}
		}
		for ; i < w; i++ {
			for q := range kc {
				d[q*w+i] = 0
			}
		}
	}
}

// scale multiplies the m×n matrix C by beta; beta = 0 clears it without
// reading, so NaNs in C do not survive.
func scale(c []float32, m, n, ldc int, beta float32) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// checkMatrix panics unless x can hold a rows×cols matrix with row
// stride ld.
func checkMatrix[T float32 | uint16](name string, x []T, rows, cols, ld int) {
	if ld < cols {
		panic(fmt.Sprintf("gemm: leading dimension of %s is %d, less than its %d columns", name, ld, cols))
	}
	if rows > 0 && cols > 0 && len(x) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("gemm: %s has %d elements, too few for %d×%d with leading dimension %d", name, len(x), rows, cols, ld))
	}
}

// workspace holds one goroutine's packing buffers.
type workspace struct {
	a, b, tile []float32
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

func getWorkspace(na, nb, nt int) *workspace {
	ws := workspaces.Get().(*workspace)
	ws.a = grow(ws.a, na)
	ws.b = grow(ws.b, nb)
	ws.tile = grow(ws.tile, nt)
	return ws
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }
