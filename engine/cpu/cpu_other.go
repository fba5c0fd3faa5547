//go:build !amd64 || purego

package cpu

func features() (avx2, avx512 bool) { return false, false }

// detects is false: this build never looks at the CPU.
const detects = false
