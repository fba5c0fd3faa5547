package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"parascope/engine/bf16"
)

func sample() *File {
	return &File{
		Tensors: []Tensor{
			{Name: "w", Shape: []int{2, 3}, Data: []float32{1, -2.5, 3.14159, 1e-30, -65504, 0}},
			{Name: "b", Shape: []int{3}, Data: []float32{0.1, 0.2, 0.3}},
			{Name: "scalar", Shape: []int{}, Data: []float32{42}},
			{Name: "empty", Shape: []int{0, 4}, Data: []float32{}},
		},
		Metadata: map[string]string{"format": "pt", "note": "test"},
	}
}

// build assembles a file from a header and a data buffer, unpadded.
func build(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func encode(t *testing.T, f *File, dtype string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, f, dtype); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
}

func TestRoundTripF32(t *testing.T) {
	in := sample()
	b := encode(t, in, F32)
	if n := binary.LittleEndian.Uint64(b); n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tensors) != len(in.Tensors) {
		t.Fatalf("got %d tensors, want %d", len(out.Tensors), len(in.Tensors))
	}
	for i, want := range in.Tensors {
		got := out.Tensors[i] // offset order is the order written
		if got.Name != want.Name || !slices.Equal(got.Shape, want.Shape) || !slices.Equal(got.Data, want.Data) {
			t.Errorf("tensor %d: got %+v, want %+v", i, got, want)
		}
	}
	if out.Metadata["note"] != "test" || len(out.Metadata) != 2 {
		t.Errorf("metadata %v", out.Metadata)
	}
	if _, ok := out.Get("b"); !ok {
		t.Error("Get(b) found nothing")
	}
	if _, ok := out.Get("nope"); ok {
		t.Error("Get(nope) found something")
	}
	if again := encode(t, out, F32); !bytes.Equal(again, b) {
		t.Error("re-encoding the decoded file changed its bytes")
	}
}

func TestRoundTripBF16(t *testing.T) {
	in := sample()
	out, err := Decode(encode(t, in, BF16))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range in.Tensors {
		for j, v := range want.Data {
			got := out.Tensors[i].Data[j]
			// bf16 keeps 8 significant bits: rounding moves a value by at most
			// half a unit in the last place, 2⁻⁸ of its magnitude.
			if d := math.Abs(float64(got - v)); d > math.Abs(float64(v))/256 {
				t.Errorf("%s[%d] = %v, want %v within bf16 precision", want.Name, j, got, v)
			}
		}
	}
}

func TestBF16RoundsToNearestEven(t *testing.T) {
	for _, c := range []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1.0 exactly
		{0x3f808000, 0x3f80}, // halfway, even stays
		{0x3f818000, 0x3f82}, // halfway, odd rounds up to even
		{0x3f808001, 0x3f81}, // above halfway
		{0xbf807fff, 0xbf80}, // below halfway, negative
	} {
		if got := bf16.FromF32(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("bf16(%#08x) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	big := &File{Tensors: []Tensor{{Name: "big", Shape: []int{1}, Data: []float32{math.MaxFloat32}}}}
	wantErr(t, Encode(&bytes.Buffer{}, big, BF16), `"big"`, "overflows")
}

func TestDecodeF16(t *testing.T) {
	// Written by hand: a subnormal (2⁻²⁴, the smallest), 1.0, -2.5, 65504
	// (the largest finite half) and negative zero.
	halves := []uint16{0x0001, 0x3c00, 0xc100, 0x7bff, 0x8000}
	var data []byte
	for _, h := range halves {
		data = binary.LittleEndian.AppendUint16(data, h)
	}
	f, err := Decode(build(`{"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]}}`, data))
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1.0 / (1 << 24), 1, -2.5, 65504, float32(math.Copysign(0, -1))}
	got := f.Tensors[0].Data
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Errorf("half %#04x = %v, want %v", halves[i], got[i], want[i])
		}
	}
	// A larger subnormal: 0x03ff = 1023 × 2⁻²⁴.
	if v := f16ToF32(0x03ff); v != 1023.0/(1<<24) {
		t.Errorf("f16 0x03ff = %v", v)
	}
	if v := f16ToF32(0xfc00); !math.IsInf(float64(v), -1) {
		t.Errorf("f16 0xfc00 = %v, want -Inf", v)
	}
	if v := f16ToF32(0x7e00); !math.IsNaN(float64(v)) {
		t.Errorf("f16 0x7e00 = %v, want NaN", v)
	}
}

func TestDecodeRefuses(t *testing.T) {
	f32 := func(vs ...float32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	valid := encode(t, sample(), F32)
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	for _, c := range []struct {
		name  string
		file  []byte
		parts []string
	}{
		{"empty", nil, []string{"empty file"}},
		{"short length", []byte{1, 0, 0}, []string{"truncated"}},
		{"header past end", valid[:20], []string{"truncated"}},
		{"data cut short", valid[:len(valid)-4], []string{"data"}},
		{"absurd header", append(huge, "{}"...), []string{"exceeds limit"}},
		{"bad json", build(`{"a":`, nil), []string{"not valid JSON"}},
		{"not an object", build(`[1,2]`, nil), []string{"not a JSON object"}},
		{"unknown dtype", build(`{"t":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}`, f32(1)), []string{`"t"`, "dtype"}},
		{"wrong byte size", build(`{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, f32(1)), []string{`"t"`, "needs 8 bytes"}},
		{"NaN", build(`{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32(1, float32(math.NaN()))), []string{`"t"`, "element 1", "NaN"}},
		{"Inf", build(`{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(float32(math.Inf(1)))), []string{`"t"`, "+Inf"}},
		{"offsets out of range", build(`{"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1)), []string{`"t"`, "outside"}},
		{"overlap", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1)), []string{`"b"`, "overlaps"}},
		{"gap", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1, 2)), []string{`"a"`, "gap"}},
		{"uncovered tail", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1, 2)), []string{"cover"}},
		{"negative dim", build(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, f32(1)), []string{`"a"`, "shape"}},
		{"overflowing shape", build(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}`, f32(1)), []string{`"a"`, "shape"}},
		{"duplicate name", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1)), []string{`"a"`, "twice"}},
		{"bad metadata", build(`{"__metadata__":{"k":1}}`, nil), []string{"__metadata__"}},
		{"unknown field", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, f32(1)), []string{`"a"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.file)
			wantErr(t, err, c.parts...)
		})
	}
}

func TestEncodeRefuses(t *testing.T) {
	one := func(tn Tensor) *File { return &File{Tensors: []Tensor{tn}} }
	wantErr(t, Encode(&bytes.Buffer{}, sample(), "F64"), "F64")
	wantErr(t, Encode(&bytes.Buffer{}, one(Tensor{Name: "x", Shape: []int{3}, Data: []float32{1, 2}}), F32), `"x"`, "shape")
	wantErr(t, Encode(&bytes.Buffer{}, one(Tensor{Name: "x", Shape: []int{1}, Data: []float32{float32(math.NaN())}}), F32), `"x"`, "NaN")
	wantErr(t, Encode(&bytes.Buffer{}, one(Tensor{Name: "__metadata__", Shape: []int{0}}), F32), "name")
	twice := &File{Tensors: []Tensor{{Name: "x", Shape: []int{0}}, {Name: "x", Shape: []int{0}}}}
	wantErr(t, Encode(&bytes.Buffer{}, twice, F32), `"x"`, "twice")
}

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := Write(path, sample(), F32); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if w, _ := f.Get("w"); w.Data[2] != 3.14159 {
		t.Errorf("w = %v", w.Data)
	}
	if _, err := Read(filepath.Join(dir, "missing.safetensors")); err == nil {
		t.Error("reading a missing file succeeded")
	}
	os.WriteFile(filepath.Join(dir, "bad.safetensors"), []byte("garbage!"), 0o644)
	_, err = Read(filepath.Join(dir, "bad.safetensors"))
	wantErr(t, err, "bad.safetensors")
}

func TestWriteFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := Write(path, sample(), F32); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	bad := &File{Tensors: []Tensor{{Name: "x", Shape: []int{1}, Data: []float32{float32(math.Inf(1))}}}}
	for _, c := range []struct {
		f     *File
		dtype string
	}{{sample(), "F64"}, {bad, F32}} {
		wantErr(t, Write(path, c.f, c.dtype), "m.safetensors")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("a failed write changed the existing file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only m.safetensors", names)
	}
	// Folders are made as needed, but not through a file.
	if err := Write(filepath.Join(path, "m.safetensors"), sample(), F32); err == nil {
		t.Error("writing under a file succeeded")
	}
}

func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever Decode accepts must survive an F32 round trip unchanged.
		var buf bytes.Buffer
		if err := Encode(&buf, file, F32); err != nil {
			t.Fatalf("decoded file does not encode: %v", err)
		}
		again, err := Decode(buf.Bytes())
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		if len(again.Tensors) != len(file.Tensors) || len(again.Metadata) != len(file.Metadata) {
			t.Fatal("round trip changed the tensor or metadata count")
		}
		for k, v := range file.Metadata {
			if again.Metadata[k] != v {
				t.Fatalf("metadata %q changed", k)
			}
		}
		for _, want := range file.Tensors {
			got, ok := again.Get(want.Name)
			if !ok || !slices.Equal(got.Shape, want.Shape) || !slices.Equal(got.Data, want.Data) {
				t.Fatalf("tensor %q changed in the round trip", want.Name)
			}
		}
	})
}

// A file of another kind, given where a checkpoint belongs, is named for
// what it looks like.
func TestDecodeNamesOtherFiles(t *testing.T) {
	var pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	for _, c := range []struct {
		name string
		file string
		want string
	}{
		{"empty", "", "an empty file, not a safetensors file"},
		{"png", string(pngHead), "a PNG picture, not a safetensors file"},
		{"gif", "GIF89a\x01\x00\x01\x00", "a GIF picture"},
		{"jsonl", "{\"step\":1}\n{\"step\":2}\n", "a JSON lines file"},
		{"json", "{\n  \"seed\": 1\n}\n", "a JSON file"},
		{"json one line", `{"seed": 1, "steps": 20}`, "a JSON file"},
		{"text", "the user's own file\n", "a text file"},
		{"short text", "hi\n", "a text file"},
		{"utf-8 text", "σ ≥ 0, ε < 1, all fine here", "a text file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.file))
			wantErr(t, err, c.want)
		})
	}
	path := filepath.Join(t.TempDir(), "keep.png")
	os.WriteFile(path, pngHead, 0o644)
	_, err := Read(path)
	wantErr(t, err, path+": a PNG picture, not a safetensors file")
}
