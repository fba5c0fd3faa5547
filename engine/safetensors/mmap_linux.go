//go:build linux

package safetensors

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f read-only. The mapping outlives f's
// descriptor, so the caller may close f at once.
func mapFile(f *os.File, size int) ([]byte, func() error, error) {
	if size == 0 {
		return []byte{}, func() error { return nil }, nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() error { return syscall.Munmap(data) }, nil
}
