//go:build cuda || cudaemu

package gpu

import "fmt"

// The enum values cuBLAS's GemmEx takes, from its headers (library_types.h
// and cublas_api.h).
const (
	cudaR32F         = 0  // CUDA_R_32F
	cudaR16BF        = 14 // CUDA_R_16BF
	cublasCompute32F = 68 // CUBLAS_COMPUTE_32F: products summed in float32
)

// colMajor is one cuBLAS call in cuBLAS's own, column-major terms: C =
// alpha·op(A)·op(B) + beta·C with op(A) m×k, batch products at strides sa,
// sb, sc in elements.
type colMajor struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        devptr
	lda, ldb, ldc  int
	sa, sb, sc     int
	batch          int
}

// colMajor is g's inner batch at outer index o for cuBLAS. cuBLAS is
// column-major, and a row-major C = op(A)·op(B) is the column-major Cᵀ =
// op(B)ᵀ·op(A)ᵀ: swap the operands and keep the leading dimensions.
func (g gemm) colMajor(o int) colMajor {
	return colMajor{
		transA: g.transB, transB: g.transA, m: g.n, n: g.m, k: g.k, alpha: g.alpha, beta: g.beta,
		a: g.b + devptr(4*o*g.sB[0]), lda: g.ldb, sa: g.sB[1],
		b: g.a + devptr(4*o*g.sA[0]), ldb: g.lda, sb: g.sA[1],
		c: g.c + devptr(4*o*g.sC[0]), ldc: g.ldc, sc: g.sC[1],
		batch: g.inner,
	}
}

// gemmCublas runs g through cuBLAS, the inner matrices of each outer index
// in one call.
func gemmCublas(g gemm) {
	for o := range g.outer {
		if s := cublasSgemm(g.colMajor(o)); s != 0 {
			panic(fmt.Sprintf("gpu: cublasSgemmStridedBatched %dx%dx%d: status %d", g.m, g.n, g.k, s))
		}
	}
}

// gemmBF16Cublas runs a single product of bfloat16 A and B into float32 C
// through cublasGemmEx, summing in float32: tensor cores where the GPU has
// them for bfloat16.
func gemmBF16Cublas(g gemm) {
	if s := cublasGemmEx(g.colMajor(0), cudaR16BF, cudaR16BF, cudaR32F, cublasCompute32F); s != 0 {
		panic(fmt.Sprintf("gpu: cublasGemmEx bfloat16 %dx%dx%d: status %d", g.m, g.n, g.k, s))
	}
}
