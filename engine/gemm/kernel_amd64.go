//go:build amd64 && !purego

package gemm

import "parascope/engine/cpu"

// The assembly kernels, nil where the CPU or OS lacks their instructions.
var avx2Kernel, avx512Kernel = func() (*kernel, *kernel) {
	var k2, k512 *kernel
	if cpu.AVX2 {
		k2 = &kernel{name: "avx2", mr: 6, nr: 16, fn: kernelAVX2}
	}
	if cpu.AVX512 {
		k512 = &kernel{name: "avx512", mr: 12, nr: 32, fn: kernelAVX512}
	}
	return k2, k512
}()

// archKernels returns the assembly kernels this CPU and OS support.
func archKernels() []*kernel {
	var ks []*kernel
	for _, k := range []*kernel{avx2Kernel, avx512Kernel} {
		if k != nil {
			ks = append(ks, k)
		}
	}
	return ks
}

// The wrappers check the slice bounds the assembly relies on, so a
// driver bug panics instead of corrupting memory.

func kernelAVX2(k int, a, b, c []float32, ldc int, acc bool) {
	_, _, _ = a[6*k-1], b[16*k-1], c[5*ldc+15]
	gemm6x16(k, &a[0], &b[0], &c[0], ldc, acc)
}

func kernelAVX512(k int, a, b, c []float32, ldc int, acc bool) {
	_, _, _ = a[12*k-1], b[32*k-1], c[11*ldc+31]
	gemm12x32(k, &a[0], &b[0], &c[0], ldc, acc)
}

// gemm6x16 is the AVX2+FMA micro-kernel: a 6×16 tile held in twelve ymm
// accumulators, two per row.
//
//go:noescape
func gemm6x16(k int, a, b, c *float32, ldc int, acc bool)

// gemm12x32 is the AVX-512 micro-kernel: a 12×32 tile held in 24 zmm
// accumulators, two per row. With the two B vectors and the broadcast
// that makes 27 of the 32 zmm registers; each B load feeds 12 FMAs, so
// the loads stay well below the FMA rate, and 24 independent sums hide
// the FMA latency.
//
//go:noescape
func gemm12x32(k int, a, b, c *float32, ldc int, acc bool)

// gather4 is gather4Go with the bulk done by transpose4x4, four columns at
// a time.
func gather4(dst []float32, w int, src []float32, ld, kc int, alpha float32) {
	n := kc &^ 3
	if n > 0 {
		_, _ = dst[(n-1)*w+3], src[3*ld+n-1]
		transpose4x4(&dst[0], w, &src[0], ld, n, alpha)
	}
	if n < kc {
		gather4Go(dst[n*w:], w, src[n:], ld, kc-n, alpha)
	}
}

// transpose4x4 sets dst[q·w+r] = alpha·src[r·ld+q] for r < 4 and q < n,
// n a multiple of 4, with SSE 4×4 transposes.
//
//go:noescape
func transpose4x4(dst *float32, w int, src *float32, ld, n int, alpha float32)

// copyPanel is copyPanelGo, done by scaleRows when w is a multiple of 4.
func copyPanel(dst []float32, w int, src []float32, ld, kc int, alpha float32) {
	if w%4 != 0 || kc == 0 {
		copyPanelGo(dst, w, src, ld, kc, alpha)
		return
	}
	_, _ = dst[kc*w-1], src[(kc-1)*ld+w-1]
	scaleRows(&dst[0], w, &src[0], ld, kc, alpha)
}

// scaleRows sets dst[q·w+i] = alpha·src[q·ld+i] for i < w and q < kc,
// w a multiple of 4, four values at a time.
//
//go:noescape
func scaleRows(dst *float32, w int, src *float32, ld, kc int, alpha float32)

// gatherBF16x8 is gatherBF16x8Go with the bulk done by transposeBF16x8,
// eight columns at a time.
func gatherBF16x8(dst []float32, w int, src []uint16, ld, kc int) {
	n := kc &^ 7
	if n > 0 {
		_, _ = dst[(n-1)*w+7], src[7*ld+n-1]
		transposeBF16x8(&dst[0], w, &src[0], ld, n)
	}
	if n < kc {
		gatherBF16x8Go(dst[n*w:], w, src[n:], ld, kc-n)
	}
}

// transposeBF16x8 sets dst[q·w+r] = float32(src[r·ld+q]) for r < 8 and
// q < n, n a multiple of 8: an SSE2 transpose of 8×8 16-bit values, each
// column then widened by interleaving it with zeros.
//
//go:noescape
func transposeBF16x8(dst *float32, w int, src *uint16, ld, n int)
