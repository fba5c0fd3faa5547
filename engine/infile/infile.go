// Package infile reads the files a user hands in: only regular files (a
// device or a FIFO would hang a read or never end it), small ones read
// whole with a cap, and JSON decoded with errors in words that name the
// line and field at fault.
package infile

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// bom is the UTF-8 byte order mark some editors put at a file's start.
var bom = []byte("\xef\xbb\xbf")

// StripBOM drops a UTF-8 byte order mark from the start of data.
func StripBOM(data []byte) []byte { return bytes.TrimPrefix(data, bom) }

// Open opens path for reading if it is a regular file (or a link to one).
// It checks before opening, since opening a FIFO blocks until a writer
// comes.
func Open(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a folder, not a file", path)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: is not a regular file (a device, pipe or socket)", path)
	}
	return os.Open(path)
}

// Read reads a small regular file whole, refusing one larger than limit
// bytes (what names what the file should be, as "a config"), and drops a
// UTF-8 byte order mark from its start.
func Read(path string, limit int64, what string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may grow after the check, so the read is capped too.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %s, too large for %s", path, Size(limit), what)
	}
	return StripBOM(data), nil
}

// Size writes a byte count the way the limits are given: 1 MiB, 64 KiB.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
