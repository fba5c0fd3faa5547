package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"slices"
	"unsafe"
)

// Mapped is a safetensors file opened in place: its tensors are views into
// a read-only memory mapping of the file, in their stored dtype, so opening
// an 8B bf16 checkpoint costs address space, not 32 GB of float32. Pages
// are read from disk when a view is first touched. The views are valid
// until Close, and only while the file is not truncated under them (the
// kernel faults a read past the file's end), as with any mapped loader.
type Mapped struct {
	Path     string
	Metadata map[string]string
	Tensors  []View // in data-offset order

	unmap func() error
}

// View is one tensor of a Mapped file: its raw little-endian bytes.
type View struct {
	Name  string
	Dtype string // F32, F16, BF16 or I64
	Shape []int
	Bytes []byte // read-only: writing to it faults
}

// Open maps the safetensors file at path. The header is checked as
// strictly as Read checks it; the values are not read, so a NaN in a view
// shows only when it is widened.
func Open(path string) (*Mapped, error) {
	return readFile(path, func(f *os.File, size int64) (*Mapped, error) {
		entries, meta, dataAt, err := readHeader(f, size)
		if err == nil {
			err = checkLayout(entries, size-dataAt)
		}
		if err == nil && int64(int(size)) != size {
			err = fmt.Errorf("safetensors: %d bytes do not fit in this machine's address space", size)
		}
		if err != nil {
			return nil, err
		}
		data, unmap, err := mapFile(f, int(size))
		if err != nil {
			return nil, fmt.Errorf("map: %w", err)
		}
		m := &Mapped{Path: path, Metadata: meta, unmap: unmap}
		for _, e := range entries {
			begin, end := dataAt+e.DataOffsets[0], dataAt+e.DataOffsets[1]
			m.Tensors = append(m.Tensors, View{Name: e.name, Dtype: e.Dtype, Shape: slices.Clone(e.Shape), Bytes: data[begin:end:end]})
		}
		return m, nil
	})
}

// Close releases the mapping; every view of the file is invalid after it.
func (m *Mapped) Close() error {
	if m.unmap == nil {
		return nil
	}
	err := m.unmap()
	m.unmap, m.Tensors = nil, nil
	return err
}

// Get returns the view of the tensor with the given name.
func (m *Mapped) Get(name string) (View, bool) {
	for _, v := range m.Tensors {
		if v.Name == name {
			return v, true
		}
	}
	return View{}, false
}

// Len returns the number of elements of v.
func (v View) Len() int {
	size, _ := dtypeSize(v.Dtype)
	return len(v.Bytes) / size
}

// Uint16 returns the raw bits of a BF16 or F16 tensor without widening.
// It is a view into the mapping when the data is 2-byte aligned (as every
// writer aligns it) and a copy otherwise.
func (v View) Uint16() ([]uint16, error) {
	if v.Dtype != BF16 && v.Dtype != F16 {
		return nil, fmt.Errorf("safetensors: tensor %q is %s, not BF16 or F16", v.Name, v.Dtype)
	}
	if s, ok := inPlace[uint16](v.Bytes); ok {
		return s, nil
	}
	out := make([]uint16, len(v.Bytes)/2)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(v.Bytes[2*i:])
	}
	return out, nil
}

// F32 returns an F32 tensor's values without copying when its data is
// 4-byte aligned, and a copy otherwise. Values are not checked.
func (v View) F32() ([]float32, error) {
	if v.Dtype != F32 {
		return nil, fmt.Errorf("safetensors: tensor %q is %s, not F32", v.Name, v.Dtype)
	}
	if s, ok := inPlace[float32](v.Bytes); ok {
		return s, nil
	}
	out := make([]float32, len(v.Bytes)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(v.Bytes[4*i:]))
	}
	return out, nil
}

// Int64 returns a copy of an I64 tensor's values.
func (v View) Int64() ([]int64, error) {
	if v.Dtype != I64 {
		return nil, fmt.Errorf("safetensors: tensor %q is %s, not I64", v.Name, v.Dtype)
	}
	out := make([]int64, len(v.Bytes)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(v.Bytes[8*i:]))
	}
	return out, nil
}

// Float32 returns a float32 copy of the tensor whatever its dtype, for
// callers that compute in float32; like Read, it refuses NaN and infinity.
func (v View) Float32() (Tensor, error) {
	return decodeTensor(v.Name, entry{Dtype: v.Dtype, Shape: v.Shape}, v.Bytes)
}

// inPlace reinterprets little-endian bytes as a slice of T without
// copying, when the machine is little-endian and the bytes are aligned
// for T (a misaligned slice would break Go's pointer rules).
func inPlace[T uint16 | float32](b []byte) ([]T, bool) {
	size := int(unsafe.Sizeof(*new(T)))
	if len(b) == 0 {
		return []T{}, true
	}
	if !littleEndian || uintptr(unsafe.Pointer(&b[0]))%uintptr(size) != 0 {
		return nil, false
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/size), true
}

// littleEndian is whether this machine stores numbers as the file does.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()
