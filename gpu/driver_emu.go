//go:build cudaemu

package gpu

/*
#cgo CFLAGS: -fopenmp -O2
#cgo LDFLAGS: -fopenmp -lm
#include <stdint.h>
#include <stdlib.h>
void emu_launch(int k, int gx, int gy, int gz, const uint64_t *args);
uintptr_t emu_malloc(size_t n);
void emu_free(uintptr_t p);
void emu_memset32(uintptr_t p, uint32_t v, size_t n);
void emu_htod(uintptr_t dst, const void *src, size_t n);
void emu_dtoh(void *dst, uintptr_t src, size_t n);
void emu_dtod(uintptr_t dst, uintptr_t src, size_t n);
int emu_sgemm_batched(int opA, int opB, int m, int n, int k, float alpha, uintptr_t a, int lda, long long sa,
	uintptr_t b, int ldb, long long sb, float beta, uintptr_t c, int ldc, long long sc, int batch);
int emu_gemm_ex(int opA, int opB, int m, int n, int k, float alpha, uintptr_t a, int atype, int lda,
	uintptr_t b, int btype, int ldb, float beta, uintptr_t c, int ctype, int ldc, int compute);
*/
import "C"

import (
	"errors"
	"fmt"
	"slices"
	"unsafe"
)

// The emulated driver: device memory is C heap memory, kernels run on the
// host through emulator.c. Built with -tags cudaemu, for tests only.

func driverInit() error { return nil }

func startDriver() (deviceInfo, error) {
	return deviceInfo{name: "host emulator", sms: 2, memory: 1 << 30}, nil
}

func memAlloc(bytes int64) (devptr, error) {
	p := C.emu_malloc(C.size_t(bytes))
	if p == 0 {
		return 0, fmt.Errorf("out of host memory for %d bytes", bytes)
	}
	return devptr(p), nil
}

func memFree(p devptr) error {
	C.emu_free(C.uintptr_t(p))
	return nil
}

func memsetD32(p devptr, v uint32, n int64) error {
	C.emu_memset32(C.uintptr_t(p), C.uint32_t(v), C.size_t(n))
	return nil
}

func htod(dst devptr, src unsafe.Pointer, bytes int64) error {
	C.emu_htod(C.uintptr_t(dst), src, C.size_t(bytes))
	return nil
}

func dtoh(dst unsafe.Pointer, src devptr, bytes int64) error {
	C.emu_dtoh(dst, C.uintptr_t(src), C.size_t(bytes))
	return nil
}

func dtod(dst, src devptr, bytes int64) error {
	C.emu_dtod(C.uintptr_t(dst), C.uintptr_t(src), C.size_t(bytes))
	return nil
}

func synchronize() error { return nil }

// emulated tells the host emulator from a GPU.
const emulated = true

func memInfo() (free, total int64, err error) {
	return 0, 0, errors.New("the emulator does not count its memory")
}

func launchKernel(name string, gx, gy, gz int, args []uint64) error {
	k := slices.Index(kernelNames, name)
	if k < 0 {
		return fmt.Errorf("no kernel %s", name)
	}
	a := C.malloc(C.size_t(8 * max(1, len(args))))
	defer C.free(a)
	copy(unsafe.Slice((*uint64)(a), len(args)), args)
	C.emu_launch(C.int(k), C.int(gx), C.int(gy), C.int(gz), (*C.uint64_t)(a))
	return nil
}

// The emulator's cuBLAS is emulator.c's: the same column-major calls,
// computed on the host, so the operand swap in cublas.go is tested too.

func openCublas() (string, error) { return "emulated cuBLAS", nil }
func cublasTF32(bool)             {}

func cublasSgemm(x colMajor) int {
	return int(C.emu_sgemm_batched(op(x.transA), op(x.transB), C.int(x.m), C.int(x.n), C.int(x.k), C.float(x.alpha),
		C.uintptr_t(x.a), C.int(x.lda), C.longlong(x.sa), C.uintptr_t(x.b), C.int(x.ldb), C.longlong(x.sb),
		C.float(x.beta), C.uintptr_t(x.c), C.int(x.ldc), C.longlong(x.sc), C.int(x.batch)))
}

func cublasGemmEx(x colMajor, aType, bType, cType, compute int) int {
	return int(C.emu_gemm_ex(op(x.transA), op(x.transB), C.int(x.m), C.int(x.n), C.int(x.k), C.float(x.alpha),
		C.uintptr_t(x.a), C.int(aType), C.int(x.lda), C.uintptr_t(x.b), C.int(bType), C.int(x.ldb),
		C.float(x.beta), C.uintptr_t(x.c), C.int(cType), C.int(x.ldc), C.int(compute)))
}

func op(t bool) C.int {
	if t {
		return 1
	}
	return 0
}
