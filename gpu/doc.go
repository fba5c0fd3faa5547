// Package gpu will hold the CUDA implementation of the engine's backend,
// behind the cuda build tag. The engine runs on the CPU until it exists.
package gpu
