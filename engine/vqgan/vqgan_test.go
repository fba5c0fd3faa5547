package vqgan

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"parascope/engine/conv"
	"parascope/engine/safetensors"
)

// tiny is a VQModel folder in aMUSEd's layout (five levels, two ResNets a
// level, 16× down) at small widths and with the mid-block attention on,
// random bf16 weights; reference.safetensors holds what PyTorch computes
// from it (reference/vqgan.py writes both).
var tiny = filepath.Join("testdata", "tiny")

func reference(t testing.TB) *safetensors.File {
	t.Helper()
	f, err := safetensors.Read(filepath.Join("testdata", "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func get(t testing.TB, f *safetensors.File, name string) []float32 {
	t.Helper()
	v, ok := f.Get(name)
	if !ok {
		t.Fatalf("reference has no %q", name)
	}
	return v.Data
}

func open(t testing.TB, size int) *Model {
	t.Helper()
	m, err := Open(tiny, size)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ints(v []float32) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// closeTo fails when got and want differ by more than tol relative to
// want's largest magnitude (at least 1), and logs the max difference.
func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
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

// sqDist is the squared distance from a latent vector to code k, in
// float64.
func sqDist(m *Model, z []float32, k int) float64 {
	d := 0.0
	for i, v := range z {
		e := float64(v) - float64(m.codebook.E[k*len(z)+i])
		d += e * e
	}
	return d
}

func TestMatchesPyTorch(t *testing.T) {
	ref := reference(t)
	for _, tc := range []struct {
		name string
		size int
	}{{"pic0", 64}, {"pic1", 96}, {"pic512", 512}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.size == 512 && testing.Short() {
				t.Skip("a 512×512 encode and decode")
			}
			m := open(t, tc.size)
			f, err := os.Open(filepath.Join("testdata", tc.name+".png"))
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			lat := m.latents(Values(Pixels(img, m.Size)))
			wantLat := get(t, ref, tc.name+".latents")
			closeTo(t, "latents", lat.Data, wantLat, 1e-4)

			// Codes: the same, except where PyTorch's latent is as near
			// (within rounding) to the code Go picked as to its own.
			got, err := m.Encode(img)
			if err != nil {
				t.Fatal(err)
			}
			want := ints(get(t, ref, tc.name+".codes"))
			ties := 0
			d := m.Config.EmbedDim
			for i := range want {
				if got[i] == want[i] {
					continue
				}
				z := wantLat[i*d : (i+1)*d]
				a, b := sqDist(m, z, got[i]), sqDist(m, z, want[i])
				if math.Abs(math.Sqrt(a)-math.Sqrt(b)) > 1e-6*max(1, math.Sqrt(b)) {
					t.Errorf("position %d: code %d (distance %.9g), PyTorch %d (%.9g)", i, got[i], math.Sqrt(a), want[i], math.Sqrt(b))
				}
				ties++
			}
			distinct := map[int]bool{}
			for _, k := range got {
				distinct[k] = true
			}
			t.Logf("%d codes (%d distinct), %d differ from PyTorch's at a tie", len(want), len(distinct), ties)

			dec, err := m.DecodeValues(want)
			if err != nil {
				t.Fatal(err)
			}
			wantDec := get(t, ref, tc.name+".decoded")
			if tc.size == 512 { // the dump keeps every 8th row
				var rows []float32
				for y := 0; y < dec.H; y += 8 {
					rows = append(rows, dec.Data[y*dec.W*3:(y+1)*dec.W*3]...)
				}
				dec = conv.Tensor{H: dec.H / 8, W: dec.W, C: 3, Data: rows}
			}
			closeTo(t, "decoded", dec.Data, wantDec, 1e-4)
		})
	}
	t.Run("random codes", func(t *testing.T) {
		m := open(t, 96)
		dec, err := m.DecodeValues(ints(get(t, ref, "random.codes")))
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "decoded", dec.Data, get(t, ref, "random.decoded"), 1e-4)
	})
}
