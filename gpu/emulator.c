//go:build cudaemu

// The emulator runs kernels.cu on the host, for testing the kernels and
// the backend where there is no GPU. A block is an OpenMP team of 256
// threads, so __syncthreads is a real barrier and shared memory is one
// static array that the team shares; blocks run one after another.

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int emu_block[3], emu_grid[3];

#define HOST_EMULATION
#define KERNEL static
#define DEVICE static inline
#define SHARED static
#define __syncthreads() _Pragma("omp barrier")
#define __nvvm_read_ptx_sreg_tid_x() omp_get_thread_num()
#define __nvvm_read_ptx_sreg_ctaid_x() emu_block[0]
#define __nvvm_read_ptx_sreg_ctaid_y() emu_block[1]
#define __nvvm_read_ptx_sreg_ctaid_z() emu_block[2]
#define __nvvm_read_ptx_sreg_nctaid_x() emu_grid[0]
#define __nvvm_ex2_approx_f exp2f
#define __nvvm_lg2_approx_f log2f
#define __nvvm_sqrt_rn_f sqrtf

static void atom_add_f(float *p, float v) {
	uint32_t old, new;
	__atomic_load(( uint32_t *)p, &old, __ATOMIC_RELAXED);
	do {
		float f;
		memcpy(&f, &old, 4);
		f += v;
		memcpy(&new, &f, 4);
	} while (!__atomic_compare_exchange((uint32_t *)p, &old, &new, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}
#define __nvvm_atom_add_gen_f atom_add_f

#include "kernels/kernels.cu"

typedef const float *cf;
#define PF(i) ((float *)(uintptr_t)a[i])
#define PC(i) ((cf)(uintptr_t)a[i])
#define P16(i) ((u16 *)(uintptr_t)a[i])
#define I(i) ((i64)a[i])
#define D(i) as_double(a[i])

static double as_double(uint64_t bits) {
	double d;
	memcpy(&d, &bits, 8);
	return d;
}

// run calls kernel k (its index in kernelNames) as one thread of a block.
static void run(int k, const uint64_t *a) {
	switch (k) {
	case 0: add_to(PF(0), PC(1), I(2)); break;
	case 1: scale(PF(0), D(1), I(2)); break;
	case 2: sum_squares((double *)(uintptr_t)a[0], PC(1), I(2)); break;
	case 3: swiglu(PF(0), PC(1), PC(2), I(3)); break;
	case 4: swiglu_backward(PF(0), PF(1), PC(2), PC(3), PC(4), I(5)); break;
	case 5: adamw(PF(0), PC(1), PF(2), PF(3), I(4), D(5), D(6), D(7), D(8), D(9), D(10)); break;
	case 6: gather_rows(PF(0), PC(1), (const int *)(uintptr_t)a[2], I(3), I(4)); break;
	case 7: scatter_add_rows(PF(0), PC(1), (const int *)(uintptr_t)a[2], I(3), I(4)); break;
	case 8: rmsnorm(PF(0), PF(1), PC(2), PC(3), I(4), I(5), D(6)); break;
	case 9: rmsnorm_backward_x(PF(0), PC(1), PC(2), PC(3), PC(4), I(5), I(6)); break;
	case 10: rmsnorm_backward_w(PF(0), PC(1), PC(2), PC(3), I(4), I(5)); break;
	case 11: rope(PF(0), PC(1), PC(2), I(3), I(4), I(5), I(6), D(7)); break;
	case 12: softmax_rows(PF(0), I(1), I(2)); break;
	case 13: softmax_backward_rows(PF(0), PC(1), I(2), I(3)); break;
	case 14: cross_entropy(PF(0), (double *)(uintptr_t)a[1], PC(2), (const int *)(uintptr_t)a[3], PC(4), I(5), I(6)); break;
	case 15: sgemm(PF(0), PC(1), PC(2), I(3), I(4), I(5), I(6), I(7), I(8), I(9), I(10), I(11), D(12), D(13),
		I(14), I(15), I(16), I(17), I(18), I(19), I(20)); break;
	case 16: to_bf16(P16(0), PC(1), I(2)); break;
	case 17: gather_rows_bf16(PF(0), P16(1), (const int *)(uintptr_t)a[2], I(3), I(4)); break;
	default: fprintf(stderr, "emulator: no kernel %d\n", k); abort();
	}
}

void emu_launch(int k, int gx, int gy, int gz, const uint64_t *args) {
	omp_set_dynamic(0);
	emu_grid[0] = gx, emu_grid[1] = gy, emu_grid[2] = gz;
	for (int z = 0; z < gz; z++)
		for (int y = 0; y < gy; y++)
			for (int x = 0; x < gx; x++) {
				emu_block[0] = x, emu_block[1] = y, emu_block[2] = z;
				int team = 0;
#pragma omp parallel num_threads(BLOCK)
				{
					if (omp_get_thread_num() == 0) team = omp_get_num_threads();
					run(k, args);
				}
				if (team != BLOCK) {
					fprintf(stderr, "emulator: OpenMP gave %d threads, not %d\n", team, BLOCK);
					abort();
				}
			}
}

// Device memory is C heap memory, addressed by integers as on a device.
uintptr_t emu_malloc(size_t n) { return (uintptr_t)malloc(n); }
void emu_free(uintptr_t p) { free((void *)p); }
void emu_memset32(uintptr_t p, uint32_t v, size_t n) {
	for (size_t i = 0; i < n; i++) ((uint32_t *)p)[i] = v;
}
void emu_htod(uintptr_t dst, const void *src, size_t n) { memcpy((void *)dst, src, n); }
void emu_dtoh(void *dst, uintptr_t src, size_t n) { memcpy(dst, (const void *)src, n); }
void emu_dtod(uintptr_t dst, uintptr_t src, size_t n) { memmove((void *)dst, (const void *)src, n); }

// ---- cuBLAS, emulated ----------------------------------------------------------
// The products cuBLAS computes for the backend, column-major as cuBLAS
// defines them, with its checks of the leading dimensions: C = alpha·op(A)·
// op(B) + beta·C with op(A) m×k, summed in float32 in k order, for batch
// products at strides sa, sb, sc (in elements). A and B are float32
// (CUDA_R_32F, 0) or bfloat16 (CUDA_R_16BF, 14). Returns a cuBLAS status:
// 0, 7 (invalid value) or 15 (not supported).

static float emu_elem(uintptr_t p, int type, long long i) {
	return type == 14 ? bf16_widen(((const u16 *)p)[i]) : ((const float *)p)[i];
}

static int emu_gemm(int opA, int opB, int m, int n, int k, float alpha, uintptr_t a, int atype, int lda, long long sa,
		uintptr_t b, int btype, int ldb, long long sb, float beta, float *c, int ldc, long long sc, int batch) {
	if ((atype != 0 && atype != 14) || btype != atype) return 15;
	if (m < 0 || n < 0 || k < 0 || batch < 0 || lda < (opA ? k : m) || lda < 1 ||
			ldb < (opB ? n : k) || ldb < 1 || ldc < m || ldc < 1)
		return 7;
	for (int z = 0; z < batch; z++)
#pragma omp parallel for collapse(2)
		for (int j = 0; j < n; j++)
			for (int i = 0; i < m; i++) {
				float acc = 0;
				for (int l = 0; l < k; l++) {
					long long ai = opA ? (long long)i * lda + l : (long long)l * lda + i;
					long long bi = opB ? (long long)l * ldb + j : (long long)j * ldb + l;
					acc += emu_elem(a, atype, z * sa + ai) * emu_elem(b, btype, z * sb + bi);
				}
				float *ci = c + z * sc + (long long)j * ldc + i;
				*ci = beta == 0 ? alpha * acc : alpha * acc + beta * *ci; // beta 0 never reads C
			}
	return 0;
}

// emu_sgemm_batched is cublasSgemmStridedBatched.
int emu_sgemm_batched(int opA, int opB, int m, int n, int k, float alpha, uintptr_t a, int lda, long long sa,
		uintptr_t b, int ldb, long long sb, float beta, uintptr_t c, int ldc, long long sc, int batch) {
	return emu_gemm(opA, opB, m, n, k, alpha, a, 0, lda, sa, b, 0, ldb, sb, beta, (float *)c, ldc, sc, batch);
}

// emu_gemm_ex is cublasGemmEx with float32 C and CUBLAS_COMPUTE_32F (68).
int emu_gemm_ex(int opA, int opB, int m, int n, int k, float alpha, uintptr_t a, int atype, int lda,
		uintptr_t b, int btype, int ldb, float beta, uintptr_t c, int ctype, int ldc, int compute) {
	if (ctype != 0 || compute != 68) return 15;
	return emu_gemm(opA, opB, m, n, k, alpha, a, atype, lda, 0, b, btype, ldb, 0, beta, (float *)c, ldc, 0, 1);
}
