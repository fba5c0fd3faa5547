//go:build cuda && !cudaemu

package gpu

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>

// cuBLAS is opened by name at run time: linking it would pin the binary to
// one CUDA version through its SONAME. Only the entry points used here are
// declared, with cuBLAS's own signatures (handles and enums as plain types).
typedef int (*cublas_create)(void **);
typedef int (*cublas_math_mode)(void *, int);
typedef int (*cublas_sgemm_batched)(void *, int, int, int, int, int, const float *,
	const float *, int, long long, const float *, int, long long,
	const float *, float *, int, long long, int);
typedef int (*cublas_gemm_ex)(void *, int, int, int, int, int, const void *,
	const void *, int, int, const void *, int, int,
	const void *, void *, int, int, int, int);

static void *cublas_handle;
static cublas_math_mode cublas_set_math;
static cublas_sgemm_batched cublas_sgemm;
static cublas_gemm_ex cublas_gemmex;

// cublas_open returns 0, or 1 when the library is missing, 2 when it lacks
// a symbol, 3 when cublasCreate fails.
static int cublas_open(const char *path) {
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib) return 1;
	cublas_create create = (cublas_create)dlsym(lib, "cublasCreate_v2");
	cublas_set_math = (cublas_math_mode)dlsym(lib, "cublasSetMathMode");
	cublas_sgemm = (cublas_sgemm_batched)dlsym(lib, "cublasSgemmStridedBatched");
	cublas_gemmex = (cublas_gemm_ex)dlsym(lib, "cublasGemmEx");
	if (!create || !cublas_set_math || !cublas_sgemm || !cublas_gemmex) return 2;
	return create(&cublas_handle) ? 3 : 0;
}

static int cublas_gemm(int opA, int opB, int m, int n, int k, float alpha,
		uintptr_t a, int lda, long long sa, uintptr_t b, int ldb, long long sb,
		float beta, uintptr_t c, int ldc, long long sc, int batch) {
	return cublas_sgemm(cublas_handle, opA, opB, m, n, k, &alpha, (const float *)a, lda, sa,
		(const float *)b, ldb, sb, &beta, (float *)c, ldc, sc, batch);
}

// cublas_gemm_typed passes alpha and beta as floats, as a float32 compute
// type wants them; -1 is CUBLAS_GEMM_DEFAULT.
static int cublas_gemm_typed(int opA, int opB, int m, int n, int k, float alpha,
		uintptr_t a, int atype, int lda, uintptr_t b, int btype, int ldb,
		float beta, uintptr_t c, int ctype, int ldc, int compute) {
	return cublas_gemmex(cublas_handle, opA, opB, m, n, k, &alpha, (const void *)a, atype, lda,
		(const void *)b, btype, ldb, &beta, (void *)c, ctype, ldc, compute, -1);
}

static int cublas_tf32(int on) { return cublas_set_math(cublas_handle, on ? 3 : 0); }
*/
import "C"

import (
	"fmt"
	"os"
	"strings"
	"unsafe"
)

// cublasNames are tried in order unless PARASCOPE_CUBLAS names the file.
var cublasNames = []string{"libcublas.so.12", "libcublas.so.11", "libcublas.so"}

// openCublas loads cuBLAS on the device thread (it must see the context).
func openCublas() (string, error) {
	names := cublasNames
	if p := os.Getenv("PARASCOPE_CUBLAS"); p != "" {
		names = []string{p}
	}
	var tried []string
	for _, name := range names {
		cname := C.CString(name)
		status := C.cublas_open(cname)
		C.free(unsafe.Pointer(cname))
		switch status {
		case 0:
			return name, nil
		case 1:
			tried = append(tried, name)
		case 2:
			return "", fmt.Errorf("%s lacks cublasSgemmStridedBatched, cublasGemmEx or cublasCreate_v2", name)
		default:
			return "", fmt.Errorf("%s: cublasCreate failed", name)
		}
	}
	return "", fmt.Errorf("no cuBLAS found (tried %s; set PARASCOPE_CUBLAS or LD_LIBRARY_PATH)", strings.Join(tried, ", "))
}

// cublasTF32 switches cuBLAS between exact float32 and TF32 tensor cores.
func cublasTF32(on bool) {
	v := 0
	if on {
		v = 1
	}
	if s := C.cublas_tf32(C.int(v)); s != 0 {
		panic(fmt.Sprintf("gpu: cublasSetMathMode: status %d", s))
	}
}

func cublasSgemm(x colMajor) int {
	return int(C.cublas_gemm(op(x.transA), op(x.transB), C.int(x.m), C.int(x.n), C.int(x.k), C.float(x.alpha),
		C.uintptr_t(x.a), C.int(x.lda), C.longlong(x.sa), C.uintptr_t(x.b), C.int(x.ldb), C.longlong(x.sb),
		C.float(x.beta), C.uintptr_t(x.c), C.int(x.ldc), C.longlong(x.sc), C.int(x.batch)))
}

func cublasGemmEx(x colMajor, aType, bType, cType, compute int) int {
	return int(C.cublas_gemm_typed(op(x.transA), op(x.transB), C.int(x.m), C.int(x.n), C.int(x.k), C.float(x.alpha),
		C.uintptr_t(x.a), C.int(aType), C.int(x.lda), C.uintptr_t(x.b), C.int(bType), C.int(x.ldb),
		C.float(x.beta), C.uintptr_t(x.c), C.int(cType), C.int(x.ldc), C.int(compute)))
}

// op is cublasOperation_t: CUBLAS_OP_N or CUBLAS_OP_T.
func op(t bool) C.int {
	if t {
		return 1
	}
	return 0
}
