package safetensors

import (
	"fmt"
	"math"
	"slices"
	"unsafe"

	"parascope/engine/infile"
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

	data  []byte // the whole file
	unmap func() error
}

// View is one tensor of a Mapped file: its raw little-endian bytes.
type View struct {
	Name  string
	Dtype string // F32, F16 or BF16
	Shape []int
	Bytes []byte // read-only: writing to it faults
}

// Open maps the safetensors file at path. The header is checked as
// strictly as Read checks it; the values are not read, so a NaN in a view
// shows only when it is widened.
func Open(path string) (*Mapped, error) {
	f, err := infile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	entries, meta, dataAt, err := readHeader(f, size)
	if err == nil {
		err = checkLayout(entries, size-dataAt)
	}
	if err == nil && int64(int(size)) != size {
		err = fmt.Errorf("safetensors: %d bytes do not fit in this machine's address space", size)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	data, unmap, err := mapFile(f, int(size))
	if err != nil {
		return nil, fmt.Errorf("%s: map: %w", path, err)
	}
	m := &Mapped{Path: path, Metadata: meta, data: data, unmap: unmap}
	for _, e := range entries {
		begin, end := dataAt+e.DataOffsets[0], dataAt+e.DataOffsets[1]
		m.Tensors = append(m.Tensors, View{Name: e.name, Dtype: e.Dtype, Shape: slices.Clone(e.Shape), Bytes: data[begin:end:end]})
	}
	return m, nil
}

// Close releases the mapping; every view of the file is invalid after it.
func (m *Mapped) Close() error {
	if m.unmap == nil {
		return nil
	}
	err := m.unmap()
	m.unmap, m.data, m.Tensors = nil, nil, nil
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
	return viewAs[uint16](v.Bytes), nil
}

// F32 returns an F32 tensor's values without copying when its data is
// 4-byte aligned, and a copy otherwise. Values are not checked.
func (v View) F32() ([]float32, error) {
	if v.Dtype != F32 {
		return nil, fmt.Errorf("safetensors: tensor %q is %s, not F32", v.Name, v.Dtype)
	}
	return viewAs[float32](v.Bytes), nil
}

// Float32 returns a float32 copy of the tensor whatever its dtype, for
// callers that compute in float32; like Read, it refuses NaN and infinity.
func (v View) Float32() (Tensor, error) {
	return decodeTensor(v.Name, entry{Dtype: v.Dtype, Shape: v.Shape}, v.Bytes)
}

// viewAs reinterprets little-endian bytes as a slice of T, in place when
// the bytes are aligned for T and the machine is little-endian, and by
// copying otherwise.
func viewAs[T uint16 | float32](b []byte) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	n := len(b) / size
	if n == 0 {
		return []T{}
	}
	if littleEndian && uintptr(unsafe.Pointer(&b[0]))%uintptr(size) == 0 {
		return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]T, n)
	for i := range out {
		switch p := any(&out[i]).(type) {
		case *uint16:
			*p = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		case *float32:
			*p = math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
		}
	}
	return out
}

// littleEndian is whether this machine stores numbers as the file does.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()
