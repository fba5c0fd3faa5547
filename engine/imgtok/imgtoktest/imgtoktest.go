// Package imgtoktest holds what the image tokenizers' parity tests share:
// reading a package's testdata (PyTorch's dump, test pictures) and
// comparing values with a tolerance.
package imgtoktest

import (
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"parascope/engine/conv"
	"parascope/engine/safetensors"
)

// Reference reads testdata/reference.safetensors, what the package's
// reference script computed in PyTorch.
func Reference(t testing.TB) *safetensors.File {
	t.Helper()
	f, err := safetensors.Read(filepath.Join("testdata", "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Get returns the values of the tensor name in f.
func Get(t testing.TB, f *safetensors.File, name string) []float32 {
	t.Helper()
	v, ok := f.Get(name)
	if !ok {
		t.Fatalf("reference has no %q", name)
	}
	return v.Data
}

// Ints returns codes the dump stores as floats.
func Ints(v []float32) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// ReadPNG reads testdata/name.png.
func ReadPNG(t testing.TB, name string) image.Image {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// CloseTo fails when got and want differ by more than tol relative to
// want's largest magnitude (at least 1), and logs the max difference.
func CloseTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	maxDiff, scale := 0.0, 1.0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		maxDiff, scale = max(maxDiff, d), max(scale, math.Abs(float64(want[i])))
	}
	t.Logf("%-20s maxdiff %.3g (scale %.3g)", what, maxDiff, scale)
	if maxDiff > tol*scale {
		t.Errorf("%s: max difference %.3g exceeds %.3g", what, maxDiff, tol*scale)
	}
}

// EveryEighthRow keeps the rows of a 3-channel picture that the dumps of
// 512-pixel decodes keep.
func EveryEighthRow(x conv.Tensor) conv.Tensor {
	var rows []float32
	for y := 0; y < x.H; y += 8 {
		rows = append(rows, x.Data[y*x.W*3:(y+1)*x.W*3]...)
	}
	return conv.Tensor{N: 1, H: x.H / 8, W: x.W, C: 3, Data: rows}
}
