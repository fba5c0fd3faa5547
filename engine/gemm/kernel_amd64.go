//go:build amd64 && !purego

package gemm

var (
	avx2Kernel   = kernel{name: "avx2", mr: 6, nr: 16, fn: kernelAVX2}
	avx512Kernel = kernel{name: "avx512", mr: 12, nr: 32, fn: kernelAVX512}
)

// archKernels returns the assembly kernels this CPU and OS support.
func archKernels() []*kernel {
	avx2, avx512 := cpuFeatures()
	var ks []*kernel
	if avx2 {
		ks = append(ks, &avx2Kernel)
	}
	if avx512 {
		ks = append(ks, &avx512Kernel)
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
// accumulators, two per row.
//
//go:noescape
func gemm12x32(k int, a, b, c *float32, ldc int, acc bool)
