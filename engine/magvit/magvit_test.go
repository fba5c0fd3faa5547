package magvit

import (
	"context"
	"image"
	"math"
	"path/filepath"
	"testing"

	"parascope/engine/conv"
	"parascope/engine/imgtok"
	"parascope/engine/imgtok/imgtoktest"
	"parascope/engine/sample"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// tiny is a MAGVIT-v2 folder in the official layout (five levels, the
// official ResNet counts, 13 LFQ bits, 16× down) at reduced widths (8 to
// 32 channels, 4 groups a norm), random bf16 weights and the LFQ buffers;
// reference.safetensors holds what PyTorch computes from it
// (reference/magvit.py writes both).
var tiny = filepath.Join("testdata", "tiny")

func open(t testing.TB, size int) *Model {
	t.Helper()
	m, err := Open(tiny, size)
	if err != nil {
		t.Fatal(err)
	}
	return m
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

			// Codes: the same, except for a bit whose latent PyTorch has
			// within 1e-6 of 0, where rounding may flip the sign.
			got, err := m.Encode(img)
			if err != nil {
				t.Fatal(err)
			}
			want := imgtoktest.Ints(imgtoktest.Get(t, ref, tc.name+".codes"))
			bits, ties := m.Config.Bits(), 0
			for i := range want {
				for b := range bits {
					mask := 1 << (bits - 1 - b)
					if got[i]&mask == want[i]&mask {
						continue
					}
					if z := wantLat[i*bits+b]; math.Abs(float64(z)) > 1e-6 {
						t.Errorf("position %d bit %d: Go %d, PyTorch %d, latent %.9g", i, b, got[i]&mask, want[i]&mask, z)
					}
					ties++
				}
			}
			distinct := map[int]bool{}
			for _, k := range got {
				distinct[k] = true
			}
			t.Logf("%d codes (%d distinct), %d bits differ from PyTorch's at a latent within 1e-6 of 0", len(want), len(distinct), ties)

			dec, err := m.DecodeValues(want)
			if err != nil {
				t.Fatal(err)
			}
			if tc.size == 512 { // the dump keeps every 8th row
				dec = imgtoktest.EveryEighthRow(dec)
			}
			imgtoktest.CloseTo(t, "decoded", dec.Data, imgtoktest.Get(t, ref, tc.name+".decoded"), 1e-4)
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
	t.Run("masked cells as zero vectors", func(t *testing.T) {
		m := open(t, 96)
		codes := imgtoktest.Ints(imgtoktest.Get(t, ref, "random.codes"))
		for i := 0; i < len(codes); i += 3 {
			codes[i] = -1
		}
		dec := m.decode(m.vectors(codes, 6, 6))
		imgtoktest.CloseTo(t, "decoded", dec.Data, imgtoktest.Get(t, ref, "partial.decoded"), 1e-4)
	})
}

// The LFQ buffers of the fixture are the official ones, and the bits of
// a code are its latent's signs, the first channel the most significant.
func TestBitOrder(t *testing.T) {
	m := open(t, 64)
	z := conv.New(1, 2, 13)
	z.Data[0] = 0.5    // first channel of pixel 0: bit 12
	z.Data[13+12] = 2  // last channel of pixel 1: bit 0
	z.Data[13+11] = -1 // negative: 0
	z.Data[13+10] = 0  // zero: 0, as z > 0
	if got := m.indices(z); got[0] != 4096 || got[1] != 1 {
		t.Errorf("indices %v, want [4096 1]", got)
	}
	v := m.vectors([]int{4096, 1, -1}, 1, 3)
	if v.Data[0] != 1 || v.Data[1] != -1 || v.Data[13+12] != 1 || v.Data[13] != -1 || v.Data[26] != 0 {
		t.Errorf("vectors %v", v.Data)
	}
}

func TestPicture(t *testing.T) {
	x := conv.Tensor{N: 1, H: 1, W: 2, C: 3, Data: []float32{-2, -1, 0, 0.99, 1, 3}}
	img := Picture(x)
	// (x+1)/2·255 truncated: 0, 0, 127.5 → 127, 253.7 → 253, 255, 255.
	want := []uint8{0, 0, 127, 255, 253, 255, 255, 255}
	for i, w := range want {
		if img.Pix[i] != w {
			t.Fatalf("pixels %v, want %v", img.Pix, want)
		}
	}
	v := Values(img)
	if v.Data[0] != -1 || v.Data[2] != (float32(127)/255-0.5)/0.5 || v.Data[4] != 1 {
		t.Errorf("values %v", v.Data)
	}
	// A transparent pixel keeps its stored colour (PIL's convert("RGB")).
	src := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	copy(src.Pix, []uint8{200, 100, 50, 0, 10, 20, 30, 255})
	if p := Pixels(src, 2); p.Pix[0] != 200 || p.Pix[1] != 100 || p.Pix[3] != 255 || p.Pix[4] != 10 {
		t.Errorf("pixels of a transparent picture %v", p.Pix)
	}
	if p := Pixels(src, 16); p.Bounds().Dx() != 16 || p.Bounds().Dy() != 16 {
		t.Errorf("squashed to %v", p.Bounds())
	}
}

func TestDecodeMasked(t *testing.T) {
	m := open(t, 64)
	img := imgtoktest.ReadPNG(t, "pic0")
	codes, err := m.Encode(img)
	if err != nil {
		t.Fatal(err)
	}
	full, err := m.DecodeMasked(codes, nil)
	if err != nil {
		t.Fatal(err)
	}
	exact, _ := m.Decode(codes)
	if !samePixels(full, exact) {
		t.Error("a complete grid is not decoded exactly")
	}
	partial := append([]int(nil), codes...)
	guesses := make([]int, len(codes))
	for i := range partial {
		guesses[i] = -1
		if i%2 == 1 {
			partial[i] = -1
		}
	}
	guesses[3] = 77
	got, err := m.DecodeMasked(partial, guesses)
	if err != nil {
		t.Fatal(err)
	}
	for i := range partial {
		c := imgtok.Cell(m, i)
		switch {
		case partial[i] >= 0:
			if !samePixels(got.SubImage(c).(*image.RGBA), m.Tile(partial[i])) {
				t.Errorf("cell %d is not its code's tile", i)
			}
		case i == 3:
			if got.RGBAAt(c.Min.X, c.Min.Y) != vq.Dimmed(m.Tile(77).RGBAAt(0, 0)) {
				t.Error("a guess is not its tile dimmed")
			}
		default:
			if got.RGBAAt(c.Min.X, c.Min.Y) != world.MaskGrey {
				t.Errorf("masked cell %d is not grey", i)
			}
		}
	}
	exactPartial, err := m.DecodePartial(partial, guesses)
	if err != nil {
		t.Fatal(err)
	}
	if exactPartial.RGBAAt(imgtok.Cell(m, 1).Min.X, imgtok.Cell(m, 1).Min.Y) != world.MaskGrey {
		t.Error("DecodePartial does not paint masked cells grey")
	}
	if _, err := m.DecodeMasked(codes[:3], nil); err == nil {
		t.Error("a short grid: no error")
	}
	if _, err := m.DecodeMasked(append([]int{m.K()}, codes[1:]...), nil); err == nil {
		t.Error("a code out of range: no error")
	}
}

func samePixels(a, b *image.RGBA) bool {
	r := a.Bounds()
	if r.Dx() != b.Bounds().Dx() || r.Dy() != b.Bounds().Dy() {
		return false
	}
	for y := range r.Dy() {
		for x := range r.Dx() {
			if a.RGBAAt(r.Min.X+x, r.Min.Y+y) != b.RGBAAt(b.Bounds().Min.X+x, b.Bounds().Min.Y+y) {
				return false
			}
		}
	}
	return true
}

// MakeAtlas stops when its context is done, and otherwise makes tiles
// that are each their code decoded alone (checked on a model of 6 bits;
// imgtok's tests check that every tile is made).
func TestMakeAtlas(t *testing.T) {
	c := Config{
		Encoder: Coder{Ch: 8, ChMult: []int{1, 2}, ResBlocks: []int{1, 1}, ZChannels: 6},
		Decoder: Coder{Ch: 8, ChMult: []int{1, 2}, ResBlocks: []int{1, 2}, ZChannels: 6},
		Groups:  4,
	}
	m, err := build(c, randomWeights(2))
	if err != nil {
		t.Fatal(err)
	}
	m.setSize(8)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.MakeAtlas(ctx); err != context.Canceled {
		t.Errorf("a cancelled MakeAtlas returned %v", err)
	}
	if err := m.MakeAtlas(context.Background()); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < m.K(); k += 7 {
		if !samePixels(m.Tile(k), Picture(m.decode(m.vectors([]int{k}, 1, 1)))) {
			t.Errorf("tile %d differs from the code decoded alone", k)
		}
	}
}

var _ sample.ImageTokenizer = (*Model)(nil)
