package vqgan

import (
	"math"
	"path/filepath"
	"testing"

	"parascope/engine/imgtok/imgtoktest"
)

// tiny is a VQModel folder in aMUSEd's layout (five levels, two ResNets a
// level, 16× down) at small widths and with the mid-block attention on,
// random bf16 weights; reference.safetensors holds what PyTorch computes
// from it (reference/vqgan.py writes both).
var tiny = filepath.Join("testdata", "tiny")

func open(t testing.TB, size int) *Model {
	t.Helper()
	m, err := Open(tiny, size)
	if err != nil {
		t.Fatal(err)
	}
	return m
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
	ref := imgtoktest.Reference(t)
	for _, tc := range []struct {
		name string
		size int
	}{{"pic0", 64}, {"pic1", 96}, {"pic512", 512}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.size == 512 && testing.Short() {
				t.Skip("a 512×512 encode and decode")
			}
			m := open(t, tc.size)
			img := imgtoktest.ReadPNG(t, tc.name)
			lat := m.latents(Values(Pixels(img, m.Size)))
			wantLat := imgtoktest.Get(t, ref, tc.name+".latents")
			imgtoktest.CloseTo(t, "latents", lat.Data, wantLat, 1e-4)

			// Codes: the same, except where PyTorch's latent is as near
			// (within rounding) to the code Go picked as to its own.
			got, err := m.Encode(img)
			if err != nil {
				t.Fatal(err)
			}
			want := imgtoktest.Ints(imgtoktest.Get(t, ref, tc.name+".codes"))
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
			wantDec := imgtoktest.Get(t, ref, tc.name+".decoded")
			if tc.size == 512 { // the dump keeps every 8th row
				dec = imgtoktest.EveryEighthRow(dec)
			}
			imgtoktest.CloseTo(t, "decoded", dec.Data, wantDec, 1e-4)
		})
	}
	t.Run("random codes", func(t *testing.T) {
		m := open(t, 96)
		dec, err := m.DecodeValues(imgtoktest.Ints(imgtoktest.Get(t, ref, "random.codes")))
		if err != nil {
			t.Fatal(err)
		}
		imgtoktest.CloseTo(t, "decoded", dec.Data, imgtoktest.Get(t, ref, "random.decoded"), 1e-4)
	})
}
