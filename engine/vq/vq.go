// Package vq is Parascope's image tokenizer: a vector quantiser that turns
// each 8×8 RGB patch of a 48×48 ShapeWorld canvas into the index of its
// nearest codebook entry, giving 36 image tokens per picture, and turns
// tokens back into pixels.
//
// The codebook is learned by k-means over the patches of scenes rendered
// by engine/world, and stored as safetensors. ShapeWorld draws each object
// centred in its own cell, so its patch alphabet is small (a few hundred
// distinct patches); a codebook at least that large reproduces rendered
// scenes pixel for pixel. The default codebook is embedded in the binary.
package vq

import (
	_ "embed"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"strconv"
	"sync"

	"parascope/engine/checkpoint"
	"parascope/engine/safetensors"
	"parascope/engine/world"
)

// Geometry of the token grid.
const (
	PatchPx = world.PatchPx          // patch side in pixels
	Dim     = PatchPx * PatchPx * 3  // values per patch: rows, columns, RGB
	PerSide = world.Canvas / PatchPx // patches along each side
	Tokens  = PerSide * PerSide      // codes per image
	tensor  = "codebook"             // tensor name in the safetensors file
)

// Patch is one 8×8 RGB patch: row-major pixels, R, G, B interleaved.
type Patch [Dim]uint8

// Info records how a codebook was made. It is stored as file metadata.
type Info struct {
	Seed       uint64 // k-means seed
	KRequested int    // k asked for; unused and duplicate codes are dropped
	Iters      int    // most Lloyd iterations allowed
	Cases      int    // world cases sampled (0 when not learned from the world)
	Scenes     int    // images whose patches were counted
}

// Codebook maps patches to codes and back. Codes are vectors of Dim
// values on the 0..255 pixel scale, laid out like a Patch.
type Codebook struct {
	Info Info

	codes  []float32 // K×Dim, row-major
	pixels []uint8   // codes rounded to opaque RGBA pixels, for Decode
	exact  map[Patch]int
}

// New builds a codebook from K code vectors of Dim values in 0..255.
func New(codes [][]float32, info Info) (*Codebook, error) {
	if len(codes) == 0 {
		return nil, errors.New("vq: codebook has no codes")
	}
	flat := make([]float32, 0, len(codes)*Dim)
	for i, c := range codes {
		if len(c) != Dim {
			return nil, fmt.Errorf("vq: code %d has %d values, want %d", i, len(c), Dim)
		}
		flat = append(flat, c...)
	}
	return newFlat(flat, info)
}

func newFlat(flat []float32, info Info) (*Codebook, error) {
	cb := &Codebook{Info: info, codes: flat, pixels: make([]uint8, len(flat)/3*4), exact: map[Patch]int{}}
	for i, v := range flat {
		if !(v >= 0 && v <= 255) { // also catches NaN
			return nil, fmt.Errorf("vq: code %d: value %v outside 0..255", i/Dim, v)
		}
		cb.pixels[i/3*4+i%3] = uint8(math.Round(float64(v)))
		if i%3 == 2 {
			cb.pixels[i/3*4+3] = 255
		}
	}
	// Codes that are whole pixels are found by lookup: a patch equal to a
	// code is at distance zero, so the first such code is its nearest.
	for k := range cb.K() {
		c := cb.codes[k*Dim : (k+1)*Dim]
		var p Patch
		whole := true
		for i, v := range c {
			p[i] = uint8(v)
			whole = whole && float32(p[i]) == v
		}
		if _, seen := cb.exact[p]; whole && !seen {
			cb.exact[p] = k
		}
	}
	return cb, nil
}

// K returns the number of codes.
func (cb *Codebook) K() int { return len(cb.codes) / Dim }

// PatchSize returns the side of a patch in pixels.
func (cb *Codebook) PatchSize() int { return PatchPx }

// Code returns a copy of code k.
func (cb *Codebook) Code(k int) []float32 {
	return slices.Clone(cb.codes[k*Dim : (k+1)*Dim])
}

// Nearest returns the code closest to p by squared L2 distance, the lowest
// index among equals.
func (cb *Codebook) Nearest(p Patch) int {
	if k, ok := cb.exact[p]; ok {
		return k
	}
	best, bestD := 0, math.Inf(1)
	for k := range cb.K() {
		c := cb.codes[k*Dim : (k+1)*Dim]
		var d float64
		// Give up on a code as soon as it cannot beat the best so far;
		// checking once per pixel row keeps the test cheap.
		for i := 0; i < Dim && d < bestD; i += PatchPx * 3 {
			for j := i; j < i+PatchPx*3; j++ {
				e := float64(p[j]) - float64(c[j])
				d += e * e
			}
		}
		if d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// patches cuts a canvas-sized image into its patches in raster order.
// Colours are read as 8-bit RGB; alpha is ignored.
func patches(img image.Image) ([Tokens]Patch, error) {
	var out [Tokens]Patch
	b := img.Bounds()
	if b.Dx() != world.Canvas || b.Dy() != world.Canvas {
		return out, fmt.Errorf("vq: image is %d×%d, want %d×%d", b.Dx(), b.Dy(), world.Canvas, world.Canvas)
	}
	rgba, _ := img.(*image.RGBA)
	for t := range out {
		x0, y0 := b.Min.X+t%PerSide*PatchPx, b.Min.Y+t/PerSide*PatchPx
		for y := range PatchPx {
			for x := range PatchPx {
				i := (y*PatchPx + x) * 3
				if rgba != nil {
					o := rgba.PixOffset(x0+x, y0+y)
					copy(out[t][i:i+3], rgba.Pix[o:o+3])
					continue
				}
				r, g, bl, _ := img.At(x0+x, y0+y).RGBA()
				out[t][i], out[t][i+1], out[t][i+2] = uint8(r>>8), uint8(g>>8), uint8(bl>>8)
			}
		}
	}
	return out, nil
}

// Encode returns the Tokens codes of a world.Canvas-square image, patches
// in raster order.
func (cb *Codebook) Encode(img image.Image) ([]int, error) {
	ps, err := patches(img)
	if err != nil {
		return nil, err
	}
	codes := make([]int, Tokens)
	for t := range ps {
		codes[t] = cb.Nearest(ps[t])
	}
	return codes, nil
}

// Decode draws the image that the codes stand for, each code rounded to
// whole pixels.
func (cb *Codebook) Decode(codes []int) (*image.RGBA, error) {
	if len(codes) != Tokens {
		return nil, fmt.Errorf("vq: %d codes, want %d", len(codes), Tokens)
	}
	img := image.NewRGBA(image.Rect(0, 0, world.Canvas, world.Canvas))
	for t, k := range codes {
		if k < 0 || k >= cb.K() {
			return nil, fmt.Errorf("vq: code %d at position %d outside 0..%d", k, t, cb.K()-1)
		}
		const row = PatchPx * 4 // bytes in one pixel row of a patch
		c := cb.pixels[k*PatchPx*row : (k+1)*PatchPx*row]
		x0, y0 := t%PerSide*PatchPx, t/PerSide*PatchPx
		for y := range PatchPx {
			o := img.PixOffset(x0, y0+y)
			copy(img.Pix[o:o+row], c[y*row:(y+1)*row])
		}
	}
	return img, nil
}

// DecodeMasked draws codes like Decode, except that a negative code is a
// patch not yet revealed. It is painted world.MaskGrey, unless guesses
// (one per position, or nil for none) holds a code for it: then the guess
// is drawn, each pixel dimmed by Dimmed, so that it reads as provisional.
// This is how every view of a partial image draws it.
func (cb *Codebook) DecodeMasked(codes, guesses []int) (*image.RGBA, error) {
	if len(codes) != Tokens {
		return nil, fmt.Errorf("vq: %d codes, want %d", len(codes), Tokens)
	}
	if guesses != nil && len(guesses) != Tokens {
		return nil, fmt.Errorf("vq: %d guesses, want %d", len(guesses), Tokens)
	}
	drawn := make([]int, Tokens)
	for t, k := range codes {
		switch {
		case k >= 0:
			drawn[t] = k
		case guesses != nil && guesses[t] >= 0:
			drawn[t] = guesses[t]
		}
		// Otherwise code 0 stands in; the patch is painted over below.
	}
	img, err := cb.Decode(drawn)
	if err != nil {
		return nil, err
	}
	for t, k := range codes {
		if k >= 0 {
			continue
		}
		guessed := guesses != nil && guesses[t] >= 0
		x0, y0 := t%PerSide*PatchPx, t/PerSide*PatchPx
		for y := y0; y < y0+PatchPx; y++ {
			for x := x0; x < x0+PatchPx; x++ {
				if guessed {
					img.SetRGBA(x, y, Dimmed(img.RGBAAt(x, y)))
				} else {
					img.SetRGBA(x, y, world.MaskGrey)
				}
			}
		}
	}
	return img, nil
}

// Dimmed is how DecodeMasked shows a pixel of a guessed patch: c blended
// halfway toward world.MaskGrey, so the guess keeps its hue.
func Dimmed(c color.RGBA) color.RGBA {
	mix := func(a, b uint8) uint8 { return uint8((uint16(a) + uint16(b)) / 2) }
	return color.RGBA{mix(c.R, world.MaskGrey.R), mix(c.G, world.MaskGrey.G), mix(c.B, world.MaskGrey.B), 255}
}

// Shown is the code cell i of a partial grid is drawn with, and whether
// it is a guess (dimmed by DimCell); -1 for a masked cell without one,
// painted world.MaskGrey. The real image tokenizers' previews share it.
func Shown(codes, guesses []int, i int) (int, bool) {
	if codes[i] >= 0 {
		return codes[i], false
	}
	if guesses != nil && guesses[i] >= 0 {
		return guesses[i], true
	}
	return -1, false
}

// DimCell dims the pixels of r in img by Dimmed: a guessed cell.
func DimCell(img *image.RGBA, r image.Rectangle) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, Dimmed(img.RGBAAt(x, y)))
		}
	}
}

// PSNR returns the peak signal-to-noise ratio of b against a over the RGB
// channels, in dB: +Inf when the pixels are identical, NaN when the sizes
// differ or the images are empty.
func PSNR(a, b image.Image) float64 {
	ra, rb := a.Bounds(), b.Bounds()
	if ra.Size() != rb.Size() || ra.Empty() {
		return math.NaN()
	}
	var se float64
	for y := range ra.Dy() {
		for x := range ra.Dx() {
			r1, g1, b1, _ := a.At(ra.Min.X+x, ra.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(rb.Min.X+x, rb.Min.Y+y).RGBA()
			for _, d := range [3]float64{
				float64(r1>>8) - float64(r2>>8),
				float64(g1>>8) - float64(g2>>8),
				float64(b1>>8) - float64(b2>>8),
			} {
				se += d * d
			}
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	mse := se / float64(3*ra.Dx()*ra.Dy())
	return 10 * math.Log10(255*255/mse)
}

// Save writes the codebook to path as safetensors, atomically.
func (cb *Codebook) Save(path string) error {
	return safetensors.Write(path, cb.file(), safetensors.F32)
}

func (cb *Codebook) file() *safetensors.File {
	itoa := strconv.Itoa
	f := &safetensors.File{
		Tensors: []safetensors.Tensor{{Name: tensor, Shape: []int{cb.K(), Dim}, Data: cb.codes}},
		Metadata: map[string]string{
			"patch_px":    itoa(PatchPx),
			"canvas_px":   itoa(world.Canvas),
			"k_requested": itoa(cb.Info.KRequested),
			"seed":        strconv.FormatUint(cb.Info.Seed, 10),
			"iterations":  itoa(cb.Info.Iters),
			"cases":       itoa(cb.Info.Cases),
			"scenes":      itoa(cb.Info.Scenes),
		},
	}
	checkpoint.Codebook.Mark(f)
	return f
}

// Load reads a codebook saved by Save.
func Load(path string) (*Codebook, error) {
	f, err := checkpoint.Read(path, checkpoint.Codebook)
	if err != nil {
		return nil, fmt.Errorf("vq: %w", err)
	}
	cb, err := fromFile(f)
	if err != nil {
		return nil, fmt.Errorf("vq: %s: %w", path, err)
	}
	return cb, nil
}

// Parse decodes a codebook from the bytes of a safetensors file.
func Parse(b []byte) (*Codebook, error) {
	f, err := safetensors.Decode(b)
	if err == nil {
		err = checkpoint.Check("the codebook", f, checkpoint.Codebook)
	}
	if err != nil {
		return nil, fmt.Errorf("vq: %w", err)
	}
	cb, err := fromFile(f)
	if err != nil {
		return nil, fmt.Errorf("vq: %w", err)
	}
	return cb, nil
}

func fromFile(f *safetensors.File) (*Codebook, error) {
	t, ok := f.Get(tensor)
	if !ok {
		return nil, fmt.Errorf("no tensor %q", tensor)
	}
	if len(t.Shape) != 2 || t.Shape[0] < 1 || t.Shape[1] != Dim {
		return nil, fmt.Errorf("tensor %q: shape %v, want [K %d] with K ≥ 1", tensor, t.Shape, Dim)
	}
	var info Info
	for _, m := range []struct {
		key  string
		want int  // required value, or 0 for any
		dst  *int // where the value goes, or nil
	}{
		{"patch_px", PatchPx, nil},
		{"canvas_px", world.Canvas, nil},
		{"k_requested", 0, &info.KRequested},
		{"iterations", 0, &info.Iters},
		{"cases", 0, &info.Cases},
		{"scenes", 0, &info.Scenes},
	} {
		s, ok := f.Metadata[m.key]
		if !ok {
			continue
		}
		v, err := strconv.Atoi(s)
		if err != nil || (m.want != 0 && v != m.want) {
			return nil, fmt.Errorf("metadata %s = %q, want %s", m.key, s, wantText(m.want))
		}
		if m.dst != nil {
			*m.dst = v
		}
	}
	if s, ok := f.Metadata["seed"]; ok {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("metadata seed = %q, want an unsigned integer", s)
		}
		info.Seed = v
	}
	cb, err := newFlat(t.Data, info)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", tensor, err)
	}
	return cb, nil
}

func wantText(want int) string {
	if want == 0 {
		return "an integer"
	}
	return strconv.Itoa(want)
}

// Defaults of the embedded codebook and of `parascope train vq`.
const (
	DefaultSeed  = 7
	DefaultCases = 20000
	DefaultK     = 384
	DefaultIters = 25
)

// defaultFile is the embedded default codebook. It is regenerated with
//
//	go run . train vq --out engine/vq/codebook.safetensors
//
// (defaults: seed 7, 20000 cases, k 384, 25 iterations), which calls
// LearnWorld.
//
//go:embed codebook.safetensors
var defaultFile []byte

var defaultCodebook = sync.OnceValue(func() *Codebook {
	cb, err := Parse(defaultFile)
	if err != nil {
		// The file is part of the source tree: a bad one is a build defect.
		panic("embedded codebook.safetensors: " + err.Error())
	}
	return cb
})

// Default returns the embedded codebook, decoded on first use.
func Default() *Codebook { return defaultCodebook() }
