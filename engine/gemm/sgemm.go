// Package gemm multiplies single-precision row-major matrices on the CPU.
//
// Sgemm follows the Goto/BLIS scheme. Blocks of op(A) and op(B) are copied
// into packed panels, which also absorbs the four transpose cases; the
// loops are blocked so that the panels stay in cache; and a
// register-blocked micro-kernel does the arithmetic on one small tile of C
// at a time. On amd64 the micro-kernel is Go assembly using AVX-512 or
// AVX2+FMA, chosen at start-up from CPUID; elsewhere a pure-Go kernel runs.
package gemm

import (
	"fmt"
	"sync"

	"parascope/engine/parallel"
)

// Cache blocking. A kc×mr panel of A stays in L1 while the micro-kernel
// sweeps the kc×nc block of B, which stays in L2 (256×512 floats, 512 KiB);
// the mc×kc block of A is read from L2/L3 once per nc block. mcMax and
// ncMax are multiples of every kernel's mr and nr.
const (
	kcMax = 256
	mcMax = 960
	ncMax = 512
)

// parallelMin is the smallest m·n·k worth splitting across cores; smaller
// products run on the calling goroutine.
const parallelMin = 64 * 64 * 64

// kernel is a register-blocked micro-kernel. fn multiplies a packed mr×k
// panel of A (k groups of mr values) by a packed k×nr panel of B (k groups
// of nr values) and stores the mr×nr product into c (row stride ldc), or
// adds it to c when acc is set.
type kernel struct {
	name   string
	mr, nr int
	fn     func(k int, a, b, c []float32, ldc int, acc bool)
}

// kernels lists the micro-kernels this machine can run, slowest first;
// best is the one Sgemm uses. Neither changes after start-up.
var (
	kernels = append([]*kernel{&goKernel}, archKernels()...)
	best    = kernels[len(kernels)-1]
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C, where op(A) is m×k and
// op(B) is k×n. All matrices are row-major. A is m×k (lda ≥ k) when
// !transA, else k×m (lda ≥ m); B is k×n (ldb ≥ n) when !transB, else n×k
// (ldb ≥ k); C is m×n (ldc ≥ n). With beta = 0, C is overwritten without
// being read. Sgemm is safe for concurrent use; large products are split
// across cores, small ones run on the calling goroutine.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(best, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// problem is one call's operands; the parallel split hands each worker a
// problem covering a band of rows or columns of C.
type problem struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a, b, c        []float32
	lda, ldb, ldc  int
	acc            bool // add to C instead of overwriting it
}

func sgemm(kern *kernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	checkMatrix("C", c, m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scale(c, m, n, ldc, beta)
		return
	}
	if transA {
		checkMatrix("A", a, k, m, lda)
	} else {
		checkMatrix("A", a, m, k, lda)
	}
	if transB {
		checkMatrix("B", b, n, k, ldb)
	} else {
		checkMatrix("B", b, k, n, ldb)
	}
	if beta != 0 && beta != 1 {
		scale(c, m, n, ldc, beta)
	}
	p := problem{transA, transB, m, n, k, alpha, a, b, c, lda, ldb, ldc, beta != 0}

	if m*n*k < parallelMin || parallel.Workers() == 1 {
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
	if p.transB {
		p.b = p.b[lo*p.ldb:]
	} else {
		p.b = p.b[lo:]
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

// packA copies alpha·op(A)[i0:i0+mc, p0:p0+kc] into dst as panels of mr
// rows; each panel holds kc groups of mr values, one group per k, and rows
// past mc are zero.
func (p problem) packA(dst []float32, i0, mc, p0, kc, mr int) {
	for ir := 0; ir < mc; ir += mr {
		d := dst[ir*kc : (ir+mr)*kc]
		rows := min(mr, mc-ir)
		if p.transA {
			// op(A) rows are columns of A: each k reads rows contiguous values.
			for q := range kc {
				src := p.a[(p0+q)*p.lda+i0+ir:][:rows]
				g := d[q*mr : q*mr+mr]
				for i, v := range src {
					g[i] = p.alpha * v
				}
				clear(g[rows:])
			}
			continue
		}
		for i := range rows {
			src := p.a[(i0+ir+i)*p.lda+p0:][:kc]
			for q, v := range src {
				d[q*mr+i] = p.alpha * v
			}
		}
		for i := rows; i < mr; i++ {
			for q := range kc {
				d[q*mr+i] = 0
			}
		}
	}
}

// packB copies op(B)[p0:p0+kc, j0:j0+nc] into dst as panels of nr columns;
// each panel holds kc groups of nr values, one group per k, and columns
// past nc are zero.
func (p problem) packB(dst []float32, p0, kc, j0, nc, nr int) {
	for jr := 0; jr < nc; jr += nr {
		d := dst[jr*kc : (jr+nr)*kc]
		cols := min(nr, nc-jr)
		if !p.transB {
			for q := range kc {
				g := d[q*nr : q*nr+nr]
				copy(g, p.b[(p0+q)*p.ldb+j0+jr:][:cols])
				clear(g[cols:])
			}
			continue
		}
		// op(B) columns are rows of B: scatter each into its place per k.
		for j := range cols {
			src := p.b[(j0+jr+j)*p.ldb+p0:][:kc]
			for q, v := range src {
				d[q*nr+j] = v
			}
		}
		for j := cols; j < nr; j++ {
			for q := range kc {
				d[q*nr+j] = 0
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
func checkMatrix(name string, x []float32, rows, cols, ld int) {
	if ld < max(cols, 1) {
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
