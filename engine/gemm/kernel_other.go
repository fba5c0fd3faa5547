//go:build !amd64 || purego

package gemm

// No assembly kernels on this platform.
var avx2Kernel, avx512Kernel *kernel

// archKernels has no assembly kernels to offer on this platform.
func archKernels() []*kernel { return nil }

func gather4(dst []float32, w int, src []float32, ld, kc int, alpha float32) {
	gather4Go(dst, w, src, ld, kc, alpha)
}

func copyPanel(dst []float32, w int, src []float32, ld, kc int, alpha float32) {
	copyPanelGo(dst, w, src, ld, kc, alpha)
}

func gatherBF16x8(dst []float32, w int, src []uint16, ld, kc int) {
	gatherBF16x8Go(dst, w, src, ld, kc)
}
