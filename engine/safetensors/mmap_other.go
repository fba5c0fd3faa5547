//go:build !linux

package safetensors

import "os"

// mapFile reads the file whole where mapping is not implemented: the
// same views, at the cost of memory.
func mapFile(f *os.File, size int) ([]byte, func() error, error) { return readWhole(f, size) }
