// Package gpu is the engine's CUDA backend. Built with the cuda tag it
// registers the backend "cuda" with package nn: the driver API through
// gorgonia.org/cu, kernels compiled to PTX (kernels.ptx, from
// kernels/kernels.cu) and loaded by the driver, and GEMM through cuBLAS
// when the library can be opened at run time, else through its own kernel.
// Weights may be bfloat16 (WeightsBF16), at half the memory: cuBLAS
// multiplies them by the activations rounded to bfloat16, summing in
// float32 (cublasGemmEx), and the own kernel widens them as it loads them.
// Built without the tag, "cuda" is registered too but only says so.
package gpu
