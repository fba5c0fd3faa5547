// Package safetensors reads and writes the safetensors checkpoint format:
// an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then one raw little-endian data buffer.
//
// Parascope's own models and the VQ codebook are stored this way, and real
// checkpoints (LLaDA, MMaDA) arrive this way, so the reader is strict: it
// refuses any file whose header and data disagree, and names the tensor
// at fault. Read gives float32 tensors whatever their dtype on disk; Open
// maps the file and gives views in the stored dtype, for checkpoints too
// large to widen. Both understand F32, F16 and BF16; the writer writes F32
// or BF16.
package safetensors

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"parascope/engine/atomicfile"
	"parascope/engine/bf16"
	"parascope/engine/infile"
)

// Dtypes this package understands.
const (
	F32  = "F32"
	F16  = "F16"
	BF16 = "BF16"
	// I64 is read only through Mapped views (View.Int64): PyTorch saves
	// integer buffers, such as MAGVIT-v2's LFQ bit weights, as int64.
	I64 = "I64"
)

// MaxHeader is the largest header accepted, in bytes. Real headers are a
// few hundred kilobytes; a larger length field means a corrupt or hostile
// file, and refusing it keeps Decode from allocating on its say-so.
const MaxHeader = 100 << 20

// metadataKey is the reserved header entry holding string metadata.
const metadataKey = "__metadata__"

// Tensor is one named array, row-major, float32 whatever the file dtype.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// File is the content of one safetensors file.
type File struct {
	Tensors  []Tensor // in data-offset order when decoded
	Metadata map[string]string
}

// Get returns the tensor with the given name.
func (f *File) Get(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// dtypeSize returns the bytes per element of the dtypes this package reads.
func dtypeSize(dtype string) (int, bool) {
	switch dtype {
	case F32:
		return 4, true
	case F16, BF16:
		return 2, true
	case I64:
		return 8, true
	}
	return 0, false
}

// entry is one tensor's record in the JSON header.
type entry struct {
	Dtype       string  `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// Read reads and decodes the file at path, one tensor's bytes at a time,
// so that it never holds the whole file beside the decoded tensors.
func Read(path string) (*File, error) {
	return readFile(path, func(f *os.File, size int64) (*File, error) { return decode(f, size) })
}

// Decode parses a whole safetensors file held in memory.
func Decode(b []byte) (*File, error) { return decode(bytes.NewReader(b), int64(len(b))) }

// ReadMetadata reads only the header of the file at path and returns its
// metadata: what a file holds, without reading its tensors.
func ReadMetadata(path string) (map[string]string, error) {
	return readFile(path, func(f *os.File, size int64) (map[string]string, error) {
		_, meta, _, err := readHeader(f, size)
		return meta, err
	})
}

// readFile opens the file at path and reads it with read, naming the
// path in read's errors.
func readFile[T any](path string, read func(f *os.File, size int64) (T, error)) (T, error) {
	var zero T
	r, err := infile.Open(path)
	if err != nil {
		return zero, err
	}
	defer r.Close()
	st, err := r.Stat()
	if err != nil {
		return zero, err
	}
	v, err := read(r, st.Size())
	if err != nil {
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// decode parses size bytes of a safetensors file read through r.
func decode(r io.ReaderAt, size int64) (*File, error) {
	entries, meta, data, err := readHeader(r, size)
	if err != nil {
		return nil, err
	}
	if err := checkLayout(entries, size-data); err != nil {
		return nil, err
	}
	f := &File{Metadata: meta}
	var raw []byte // one tensor's bytes, reused
	for _, e := range entries {
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		raw = slices.Grow(raw[:0], int(end-begin))[:end-begin]
		if err := readAt(r, raw, data+begin); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", e.name, err)
		}
		t, err := decodeTensor(e.name, e.entry, raw)
		if err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, t)
	}
	return f, nil
}

// readHeader reads and parses the header of a safetensors file of size
// bytes read through r; data is where the tensors' bytes begin.
func readHeader(r io.ReaderAt, size int64) (entries []namedEntry, meta map[string]string, data int64, err error) {
	if size < 8 {
		if err := notSafetensors(r, size); err != nil {
			return nil, nil, 0, err
		}
		return nil, nil, 0, fmt.Errorf("safetensors: truncated: %d bytes, need at least 8", size)
	}
	var word [8]byte
	if err := readAt(r, word[:], 0); err != nil {
		return nil, nil, 0, fmt.Errorf("safetensors: header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(word[:])
	if n > MaxHeader || n > uint64(size-8) {
		if err := notSafetensors(r, size); err != nil {
			return nil, nil, 0, err
		}
	}
	if n > MaxHeader {
		return nil, nil, 0, fmt.Errorf("safetensors: header length %d exceeds limit %d", n, MaxHeader)
	}
	if n > uint64(size-8) {
		return nil, nil, 0, fmt.Errorf("safetensors: truncated: header length %d but only %d bytes follow", n, size-8)
	}
	header := make([]byte, n)
	if err := readAt(r, header, 8); err != nil {
		return nil, nil, 0, fmt.Errorf("safetensors: header: %w", err)
	}
	entries, meta, err = parseHeader(header)
	return entries, meta, 8 + int64(n), err
}

// notSafetensors says what a file whose header length is implausible
// looks like instead, when its first bytes tell: a picture or a text file
// given where a checkpoint belongs is a common slip, and "header length
// 8247626016 exceeds limit" would not say so. It returns nil when the
// bytes look like nothing in particular.
func notSafetensors(r io.ReaderAt, size int64) error {
	if size == 0 {
		return errors.New("an empty file, not a safetensors file")
	}
	head := make([]byte, min(size, 512))
	if err := readAt(r, head, 0); err != nil {
		return nil
	}
	if what := sniff(head, size); what != "" {
		return fmt.Errorf("%s, not a safetensors file", what)
	}
	return nil
}

// magic are the openings of files often found beside checkpoints.
var magic = []struct{ prefix, what string }{
	{"\x89PNG\r\n\x1a\n", "a PNG picture"},
	{"GIF87a", "a GIF picture"},
	{"GIF89a", "a GIF picture"},
	{"\xff\xd8\xff", "a JPEG picture"},
	{"PK\x03\x04", "a zip archive"},
	{"\x1f\x8b", "a gzip archive"},
	{"\x80\x02", "a Python pickle"},
}

// sniff names the kind of file head (its first bytes, of size in all)
// opens, or returns "".
func sniff(head []byte, size int64) string {
	for _, m := range magic {
		if bytes.HasPrefix(head, []byte(m.prefix)) {
			return m.what
		}
	}
	// The last rune may be cut at the end of head.
	text := head
	for i := 0; i < utf8.UTFMax && len(text) > 0 && !utf8.Valid(text); i++ {
		text = text[:len(text)-1]
	}
	if len(text) == 0 || !utf8.Valid(text) || bytes.ContainsFunc(text, func(r rune) bool {
		return r < ' ' && r != '\n' && r != '\r' && r != '\t'
	}) {
		return ""
	}
	trimmed := bytes.TrimSpace(text)
	if len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[') {
		return "a text file"
	}
	// A first line that is a whole JSON value, with more after it, is
	// JSON lines (a trace, bench results); anything else opening with {
	// or [ is JSON.
	if first, rest, ok := bytes.Cut(trimmed, []byte("\n")); ok && json.Valid(first) && (len(bytes.TrimSpace(rest)) > 0 || int64(len(head)) < size) {
		return "a JSON lines file"
	}
	return "a JSON file"
}

// readAt fills p from r at off; a read that fills p is no error, even
// when it ends at the end of the file.
func readAt(r io.ReaderAt, p []byte, off int64) error {
	if n, err := r.ReadAt(p, off); n < len(p) {
		return err
	}
	return nil
}

type namedEntry struct {
	name string
	entry
}

// parseHeader reads the header object key by key so that duplicate names,
// which a plain map would silently merge, are refused.
func parseHeader(header []byte) ([]namedEntry, map[string]string, error) {
	if !json.Valid(header) {
		return nil, nil, errors.New("safetensors: header is not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("safetensors: header is not a JSON object")
	}
	var entries []namedEntry
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("safetensors: header: %w", err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: listed twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		if name == metadataKey {
			if err := infile.DecodeJSON(raw, &meta, true); err != nil || meta == nil {
				return nil, nil, errors.New("safetensors: __metadata__ must map strings to strings")
			}
			continue
		}
		if name == "" {
			return nil, nil, errors.New("safetensors: tensor with an empty name")
		}
		var e entry
		if err := infile.DecodeJSON(raw, &e, true); err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: bad header entry: %w", name, err)
		}
		entries = append(entries, namedEntry{name, e})
	}
	return entries, meta, nil
}

// checkLayout checks each entry's dtype, shape and offsets, and that the
// tensors tile the data buffer exactly: no gaps, no overlaps, nothing
// left over. It sorts entries into offset order.
func checkLayout(entries []namedEntry, dataLen int64) error {
	for _, e := range entries {
		size, ok := dtypeSize(e.Dtype)
		if !ok {
			return fmt.Errorf("safetensors: tensor %q: unsupported dtype %q (want F32, F16, BF16 or I64)", e.name, e.Dtype)
		}
		if e.Shape == nil {
			return fmt.Errorf("safetensors: tensor %q: missing shape", e.name)
		}
		if len(e.DataOffsets) != 2 {
			return fmt.Errorf("safetensors: tensor %q: data_offsets must hold two numbers", e.name)
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || end < begin || end > dataLen {
			return fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] outside data of %d bytes", e.name, begin, end, dataLen)
		}
		elems, ok := numElems(e.Shape, dataLen)
		if !ok {
			return fmt.Errorf("safetensors: tensor %q: shape %v is invalid or larger than the data", e.name, e.Shape)
		}
		if elems*int64(size) != end-begin {
			return fmt.Errorf("safetensors: tensor %q: shape %v of %s needs %d bytes, offsets give %d", e.name, e.Shape, e.Dtype, elems*int64(size), end-begin)
		}
	}
	slices.SortStableFunc(entries, func(a, b namedEntry) int {
		return cmp.Or(cmp.Compare(a.DataOffsets[0], b.DataOffsets[0]), cmp.Compare(a.DataOffsets[1], b.DataOffsets[1]))
	})
	var at int64
	for _, e := range entries {
		begin := e.DataOffsets[0]
		if begin < at {
			return fmt.Errorf("safetensors: tensor %q: data overlaps the previous tensor", e.name)
		}
		if begin > at {
			return fmt.Errorf("safetensors: tensor %q: gap of %d bytes before its data", e.name, begin-at)
		}
		at = e.DataOffsets[1]
	}
	if at != dataLen {
		return fmt.Errorf("safetensors: data buffer is %d bytes but tensors cover %d", dataLen, at)
	}
	return nil
}

// numElems returns the product of shape if no dimension is negative and the
// product is at most limit. Checking against the limit as it multiplies
// keeps a hostile shape from overflowing.
func numElems(shape []int, limit int64) (int64, bool) {
	if slices.Contains(shape, 0) {
		return 0, !slices.ContainsFunc(shape, func(d int) bool { return d < 0 })
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 || n > limit/int64(d) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}

func decodeTensor(name string, e entry, raw []byte) (Tensor, error) {
	if e.Dtype == I64 {
		return Tensor{}, fmt.Errorf("safetensors: tensor %q: %s is an integer dtype, not float", name, e.Dtype)
	}
	size, _ := dtypeSize(e.Dtype)
	data := make([]float32, len(raw)/size)
	for i := range data {
		switch e.Dtype {
		case F32:
			data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		case F16:
			data[i] = f16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		case BF16:
			data[i] = bf16.ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
		if v := float64(data[i]); math.IsNaN(v) || math.IsInf(v, 0) {
			return Tensor{}, fmt.Errorf("safetensors: tensor %q: element %d is %v", name, i, v)
		}
	}
	return Tensor{Name: name, Shape: slices.Clone(e.Shape), Data: data}, nil
}

// f16ToF32 widens an IEEE half exactly; every half is a float32.
func f16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0: // zero or subnormal: mant × 2⁻²⁴, exact in float32
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(math.Float32bits(v) | sign)
	case 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp-15+127)<<23 | mant<<13)
}

// Encode writes f in safetensors form with every tensor stored as dtype
// (F32 or BF16), data in the order of f.Tensors. The header is
// deterministic (sorted keys) and padded with spaces so the data starts on
// an 8-byte boundary. Everything is checked before the first byte is
// written, so a refused file writes nothing.
func Encode(w io.Writer, f *File, dtype string) error {
	if dtype != F32 && dtype != BF16 {
		return fmt.Errorf("safetensors: cannot write dtype %q (want F32 or BF16)", dtype)
	}
	if f == nil {
		return errors.New("safetensors: nil file")
	}
	size, _ := dtypeSize(dtype)
	header := map[string]any{}
	if len(f.Metadata) > 0 {
		header[metadataKey] = f.Metadata
	}
	var offset int64
	for _, t := range f.Tensors {
		if err := checkTensor(t, dtype, header); err != nil {
			return err
		}
		n := int64(len(t.Data)) * int64(size)
		header[t.Name] = entry{Dtype: dtype, Shape: append([]int{}, t.Shape...), DataOffsets: []int64{offset, offset + n}}
		offset += n
	}
	js, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("safetensors: header: %w", err)
	}
	if pad := len(js) % 8; pad != 0 {
		js = append(js, strings.Repeat(" ", 8-pad)...)
	}
	bw := bufio.NewWriter(w)
	var word [8]byte
	binary.LittleEndian.PutUint64(word[:], uint64(len(js)))
	bw.Write(word[:])
	bw.Write(js)
	for _, t := range f.Tensors {
		for _, v := range t.Data {
			if dtype == F32 {
				binary.LittleEndian.PutUint32(word[:], math.Float32bits(v))
				bw.Write(word[:4])
			} else {
				binary.LittleEndian.PutUint16(word[:], bf16.FromF32(v))
				bw.Write(word[:2])
			}
		}
	}
	// bufio keeps the first write error and returns it here.
	return bw.Flush()
}

// checkTensor refuses what Decode would refuse, so that every file this
// package writes can be read back.
func checkTensor(t Tensor, dtype string, header map[string]any) error {
	if t.Name == "" || t.Name == metadataKey {
		return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
	}
	if _, dup := header[t.Name]; dup {
		return fmt.Errorf("safetensors: tensor %q: listed twice", t.Name)
	}
	if n, ok := numElems(t.Shape, int64(len(t.Data))); !ok || n != int64(len(t.Data)) {
		return fmt.Errorf("safetensors: tensor %q: shape %v does not match %d values", t.Name, t.Shape, len(t.Data))
	}
	for i, v := range t.Data {
		if x := float64(v); math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("safetensors: tensor %q: element %d is %v", t.Name, i, x)
		}
		// Values near the float32 limit round up to infinity in BF16.
		if dtype == BF16 && bf16.FromF32(v)&0x7f80 == 0x7f80 {
			return fmt.Errorf("safetensors: tensor %q: element %d (%v) overflows BF16", t.Name, i, v)
		}
	}
	return nil
}

// Write encodes f to path atomically: the bytes go to a temporary file in
// the same directory, which is synced and renamed over path, so a reader
// sees either the old file or the whole new one, never a torn write.
func Write(path string, f *File, dtype string) error {
	err := atomicfile.Write(path, func(w io.Writer) error { return Encode(w, f, dtype) })
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
