package safetensors

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"parascope/engine/bf16"
)

// writeBytes writes b to a file in a fresh temporary folder.
func writeBytes(t testing.TB, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func openOK(t *testing.T, path string) *Mapped {
	t.Helper()
	m, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// Each dtype the writer writes opens to the values Read decodes, with the
// raw bits available unwidened.
func TestOpenRoundTrip(t *testing.T) {
	for _, dtype := range []string{F32, BF16} {
		in := sample()
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := Write(path, in, dtype); err != nil {
			t.Fatal(err)
		}
		want, err := Read(path)
		if err != nil {
			t.Fatal(err)
		}
		m := openOK(t, path)
		if m.Metadata["note"] != "test" || len(m.Tensors) != len(in.Tensors) {
			t.Fatalf("%s: metadata %v, %d tensors", dtype, m.Metadata, len(m.Tensors))
		}
		for i, w := range want.Tensors {
			v := m.Tensors[i]
			if v.Name != w.Name || v.Dtype != dtype || !slices.Equal(v.Shape, w.Shape) || v.Len() != len(w.Data) {
				t.Fatalf("%s: view %d is %s %s %v, want %s %v", dtype, i, v.Name, v.Dtype, v.Shape, w.Name, w.Shape)
			}
			got, err := v.Float32()
			if err != nil || !slices.Equal(got.Data, w.Data) || !slices.Equal(got.Shape, w.Shape) {
				t.Errorf("%s: %s widens to %v (%v), want %v", dtype, v.Name, got.Data, err, w.Data)
			}
			switch dtype {
			case F32:
				if raw, err := v.F32(); err != nil || !slices.Equal(raw, w.Data) {
					t.Errorf("F32 view of %s = %v (%v), want %v", v.Name, raw, err, w.Data)
				}
				if _, err := v.Uint16(); err == nil {
					t.Errorf("Uint16 of an F32 tensor: no error")
				}
			case BF16:
				raw, err := v.Uint16()
				if err != nil || len(raw) != len(in.Tensors[i].Data) {
					t.Fatalf("BF16 view of %s: %d values, %v", v.Name, len(raw), err)
				}
				for j, x := range in.Tensors[i].Data {
					if raw[j] != bf16.FromF32(x) {
						t.Errorf("%s[%d] bits %#04x, want %#04x", v.Name, j, raw[j], bf16.FromF32(x))
					}
				}
				if _, err := v.F32(); err == nil {
					t.Errorf("F32 of a BF16 tensor: no error")
				}
			}
		}
		if _, ok := m.Get("b"); !ok {
			t.Error("Get(b) found nothing")
		}
		if _, ok := m.Get("nope"); ok {
			t.Error("Get(nope) found something")
		}
	}
}

func TestOpenF16(t *testing.T) {
	halves := []uint16{0x0001, 0x3c00, 0xc100, 0x7bff, 0x8000}
	var data []byte
	for _, h := range halves {
		data = binary.LittleEndian.AppendUint16(data, h)
	}
	m := openOK(t, writeBytes(t, build(`{"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]}}`, data)))
	raw, err := m.Tensors[0].Uint16()
	if err != nil || !slices.Equal(raw, halves) {
		t.Fatalf("F16 bits %#04x (%v), want %#04x", raw, err, halves)
	}
	wide, err := m.Tensors[0].Float32()
	if err != nil || wide.Data[3] != 65504 {
		t.Errorf("widened %v (%v)", wide.Data, err)
	}
}

// A header whose length is odd puts the data off its natural alignment;
// the accessors then copy instead of viewing, and give the same values.
func TestOpenUnaligned(t *testing.T) {
	header := `{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}` + " "
	if len(header)%2 == 0 {
		header += " "
	}
	data := []byte{0x80, 0x3f, 0x00, 0xc0} // bf16 1, -2
	data = binary.LittleEndian.AppendUint32(data, math.Float32bits(0.5))
	m := openOK(t, writeBytes(t, build(header, data)))
	a, _ := m.Get("a")
	b, _ := m.Get("b")
	if raw, err := a.Uint16(); err != nil || !slices.Equal(raw, []uint16{0x3f80, 0xc000}) {
		t.Errorf("unaligned BF16 = %#04x (%v)", raw, err)
	}
	if raw, err := b.F32(); err != nil || !slices.Equal(raw, []float32{0.5}) {
		t.Errorf("unaligned F32 = %v (%v)", raw, err)
	}
}

// Open refuses what Read refuses, naming the file and the tensor.
func TestOpenRefuses(t *testing.T) {
	valid := encode(t, sample(), F32)
	cases := []struct {
		name string
		b    []byte
		want []string
	}{
		{"empty", nil, []string{"empty file"}},
		{"short length", []byte{1, 0, 0}, []string{"truncated"}},
		{"header cut", valid[:20], []string{"truncated"}},
		{"data cut", valid[:len(valid)-4], []string{"outside data"}},
		{"trailing bytes", append(slices.Clone(valid), 0, 0, 0, 0), []string{"data buffer"}},
		{"bad JSON", build(`{"w":`, nil), []string{"not valid JSON"}},
		{"bad dtype", build(`{"w":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}), []string{`"w"`, "unsupported dtype"}},
		{"wrong size", build(`{"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,4]}}`, make([]byte, 4)), []string{`"w"`, "needs 6 bytes"}},
		{"a PNG", []byte("\x89PNG\r\n\x1a\n0000000000"), []string{"PNG"}},
	}
	for _, c := range cases {
		path := writeBytes(t, c.b)
		m, err := Open(path)
		if err == nil {
			m.Close()
		}
		wantErr(t, err, append(c.want, path)...)
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("opening a folder: no error")
	}
	// A NaN is found when the tensor is widened, as Read would find it.
	nan := binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN())))
	m := openOK(t, writeBytes(t, build(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, nan)))
	_, err := m.Tensors[0].Float32()
	wantErr(t, err, `"x"`, "NaN")
}

func TestCloseTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	Write(path, sample(), BF16)
	m, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil || m.Tensors != nil {
		t.Errorf("second Close: %v, tensors %v", err, m.Tensors)
	}
}

// The fallback for platforms without mapping reads the same bytes.
func TestReadWhole(t *testing.T) {
	want := encode(t, sample(), BF16)
	f, err := os.Open(writeBytes(t, want))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, release, err := readWhole(f, len(want))
	if err != nil || !slices.Equal(got, want) || release() != nil {
		t.Fatalf("readWhole: %d bytes, %v", len(got), err)
	}
	if _, _, err := readWhole(f, len(want)+1); err == nil {
		t.Error("reading past the end: no error")
	}
}

// benchFile writes a BF16 file of n tensors of 1024×1024 random values.
func benchFile(b *testing.B, n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	f := &File{}
	for i := range n {
		data := make([]float32, 1<<20)
		for j := range data {
			data[j] = float32(r.NormFloat64())
		}
		f.Tensors = append(f.Tensors, Tensor{Name: string(rune('a' + i)), Shape: []int{1024, 1024}, Data: data})
	}
	path := filepath.Join(b.TempDir(), "bench.safetensors")
	if err := Write(path, f, BF16); err != nil {
		b.Fatal(err)
	}
	return path
}

// Open and sum every raw value (touching every page) against Read, which
// widens the whole file to float32.
func BenchmarkOpenBF16(b *testing.B) {
	path := benchFile(b, 16)
	b.SetBytes(16 << 21)
	for b.Loop() {
		m, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		var sum uint64
		for _, v := range m.Tensors {
			raw, _ := v.Uint16()
			for _, x := range raw {
				sum += uint64(x)
			}
		}
		m.Close()
	}
}

func BenchmarkReadBF16(b *testing.B) {
	path := benchFile(b, 16)
	b.SetBytes(16 << 21)
	for b.Loop() {
		if _, err := Read(path); err != nil {
			b.Fatal(err)
		}
	}
}

// An I64 tensor (PyTorch's integer buffers) is a view to read as int64;
// widening it to float32, or reading the file whole, is refused by name.
func TestOpenInt64(t *testing.T) {
	var data []byte
	for _, v := range []int64{4096, -3, 1} {
		data = binary.LittleEndian.AppendUint64(data, uint64(v))
	}
	path := writeBytes(t, build(`{"p":{"dtype":"I64","shape":[3],"data_offsets":[0,24]}}`, data))
	m, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, _ := m.Get("p")
	if got, err := p.Int64(); err != nil || !slices.Equal(got, []int64{4096, -3, 1}) {
		t.Errorf("Int64 = %v (%v)", got, err)
	}
	_, err = p.Float32()
	wantErr(t, err, `"p"`, "integer")
	_, err = p.F32()
	wantErr(t, err, `"p"`, "not F32")
	_, err = Read(path)
	wantErr(t, err, `"p"`, "integer")
}
