package safetensors

import (
	"io"
	"os"
)

// readWhole reads size bytes of f into memory: the fallback for platforms
// without a mapping, kept here so that it is tested everywhere.
func readWhole(f *os.File, size int) ([]byte, func() error, error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, int64(size)), data); err != nil {
		return nil, nil, err
	}
	return data, func() error { return nil }, nil
}
