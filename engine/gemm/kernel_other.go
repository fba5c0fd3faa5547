//go:build !amd64 || purego

package gemm

// archKernels has no assembly kernels to offer on this platform.
func archKernels() []*kernel { return nil }
