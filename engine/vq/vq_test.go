package vq

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"parascope/engine/safetensors"
	"parascope/engine/world"
)

// freshImages renders the Input and Target scenes of cases from a stream
// the default codebook never saw (it was learned on seed 7).
func freshImages(cases int) []*image.RGBA {
	var out []*image.RGBA
	for i := range cases {
		c := world.Generate(99, i, world.MixBoth)
		out = append(out, world.Render(c.Input), world.Render(c.Target))
	}
	return out
}

func TestDefaultRoundTrip(t *testing.T) {
	cb := Default()
	imgs := freshImages(1000)
	exact := 0
	var psnr float64
	for _, img := range imgs {
		codes, err := cb.Encode(img)
		if err != nil {
			t.Fatal(err)
		}
		out, err := cb.Decode(codes)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(out.Pix, img.Pix) {
			exact++
		} else {
			psnr += PSNR(img, out)
		}
	}
	frac := float64(exact) / float64(len(imgs))
	t.Logf("K = %d: %d of %d fresh images exact (%.2f%%)", cb.K(), exact, len(imgs), 100*frac)
	if n := len(imgs) - exact; n > 0 {
		t.Logf("mean PSNR of the others: %.2f dB", psnr/float64(n))
	}
	if frac < 0.99 {
		t.Errorf("only %.2f%% of images round-trip exactly, want at least 99%%", 100*frac)
	}
}

func TestDefaultInfo(t *testing.T) {
	info := Default().Info
	want := Info{Seed: DefaultSeed, KRequested: DefaultK, Iters: DefaultIters, Cases: DefaultCases, Scenes: 2 * DefaultCases}
	if info != want {
		t.Errorf("embedded codebook made with %+v, want %+v", info, want)
	}
}

func TestEncodeErrors(t *testing.T) {
	cb := Default()
	_, err := cb.Encode(image.NewRGBA(image.Rect(0, 0, 32, 48)))
	if err == nil || !strings.Contains(err.Error(), "32×48") {
		t.Errorf("wrong size: err = %v, want one naming 32×48", err)
	}
	for _, codes := range [][]int{nil, make([]int, Tokens-1), make([]int, Tokens+1)} {
		if _, err := cb.Decode(codes); err == nil {
			t.Errorf("Decode of %d codes succeeded", len(codes))
		}
	}
	for _, bad := range []int{-1, cb.K()} {
		codes := make([]int, Tokens)
		codes[5] = bad
		if _, err := cb.Decode(codes); err == nil || !strings.Contains(err.Error(), "position 5") {
			t.Errorf("Decode with code %d: err = %v", bad, err)
		}
	}
}

func TestEncodeAnyImage(t *testing.T) {
	cb := Default()
	img := freshImages(3)[5]
	want, _ := cb.Encode(img)
	// The same pixels as another image type, and offset from the origin.
	nrgba := image.NewNRGBA(image.Rect(10, 20, 10+world.Canvas, 20+world.Canvas))
	draw.Draw(nrgba, nrgba.Bounds(), img, image.Point{}, draw.Src)
	sub := image.NewRGBA(image.Rect(0, 0, 64, 64))
	draw.Draw(sub, image.Rect(3, 7, 3+world.Canvas, 7+world.Canvas), img, image.Point{}, draw.Src)
	for name, m := range map[string]image.Image{"nrgba": nrgba, "subimage": sub.SubImage(image.Rect(3, 7, 3+world.Canvas, 7+world.Canvas))} {
		got, err := cb.Encode(m)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: codes %v, err %v; want %v", name, got, err, want)
		}
	}
}

func TestNearestTiesAndDistance(t *testing.T) {
	half := func(v float32) []float32 {
		c := make([]float32, Dim)
		for i := range c {
			c[i] = v
		}
		return c
	}
	// Codes 1 and 2 are equally far from a patch of 10s; 0 is farther.
	cb, err := New([][]float32{half(0), half(9.5), half(10.5)}, Info{})
	if err != nil {
		t.Fatal(err)
	}
	var p Patch
	for i := range p {
		p[i] = 10
	}
	if k := cb.Nearest(p); k != 1 {
		t.Errorf("Nearest = %d, want 1 (lowest of a tie)", k)
	}
	for i := range p {
		p[i] = 3
	}
	if k := cb.Nearest(p); k != 0 {
		t.Errorf("Nearest = %d, want 0", k)
	}
}

func tinySet() *PatchSet {
	s := &PatchSet{}
	for i, n := range []int{50, 3, 1, 7, 1} {
		var p Patch
		for j := range p {
			p[j] = uint8((i*37 + j*(i+1)) % 256)
		}
		s.Add(p, n)
	}
	return s
}

func TestLearnReproducesSmallSet(t *testing.T) {
	s := tinySet()
	for _, k := range []int{s.Len(), s.Len() + 4} {
		cb, err := Learn(s, k, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		if cb.K() != s.Len() {
			t.Errorf("k = %d: %d codes, want %d (one per distinct patch)", k, cb.K(), s.Len())
		}
		for i, p := range s.patches {
			c := cb.Code(cb.Nearest(p))
			for j := range p {
				if c[j] != float32(p[j]) {
					t.Fatalf("k = %d: patch %d not reproduced exactly", k, i)
				}
			}
		}
		// The most frequent patch gets code 0.
		if cb.Nearest(s.patches[0]) != 0 {
			t.Errorf("k = %d: most frequent patch is not code 0", k)
		}
	}
}

func TestLearnFewerCodes(t *testing.T) {
	cb, err := Learn(tinySet(), 2, 1, 20)
	if err != nil {
		t.Fatal(err)
	}
	if cb.K() < 1 || cb.K() > 2 {
		t.Errorf("k = 2 gave %d codes", cb.K())
	}
}

func TestLearnDeterministic(t *testing.T) {
	a := WorldPatches(3, 200)
	// The same patches added in reverse order must give the same codebook.
	b := &PatchSet{}
	for i := a.Len() - 1; i >= 0; i-- {
		b.Add(a.patches[i], a.counts[i])
	}
	var prev []float32
	for i, s := range []*PatchSet{a, a, b} {
		cb, err := Learn(s, 40, 11, 25)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && !slices.Equal(cb.codes, prev) {
			t.Fatalf("run %d gave a different codebook", i)
		}
		prev = cb.codes
	}
}

func TestLearnErrors(t *testing.T) {
	if _, err := Learn(&PatchSet{}, 4, 1, 1); err == nil {
		t.Error("learning from no patches succeeded")
	}
	if _, err := Learn(tinySet(), 0, 1, 1); err == nil {
		t.Error("k = 0 succeeded")
	}
	if _, err := LearnWorld(context.Background(), 1, 0, 4, 1); err == nil {
		t.Error("zero cases succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LearnWorld(ctx, 1, 5, 4, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled run returned %v", err)
	}
}

func TestWorldPatches(t *testing.T) {
	s := WorldPatches(5, 10)
	if s.Images() != 20 || s.Total() != 20*Tokens {
		t.Errorf("10 cases gave %d images, %d patches", s.Images(), s.Total())
	}
}

func TestSaveLoad(t *testing.T) {
	cb, err := LearnWorld(context.Background(), 5, 50, 16, 10)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cb.safetensors")
	if err := cb.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.codes, cb.codes) || got.Info != cb.Info {
		t.Errorf("loaded %+v, saved %+v", got.Info, cb.Info)
	}
	want := Info{Seed: 5, KRequested: 16, Iters: 10, Cases: 50, Scenes: 100}
	if got.Info != want {
		t.Errorf("info %+v, want %+v", got.Info, want)
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, f *safetensors.File) string {
		path := filepath.Join(dir, name)
		if err := safetensors.Write(path, f, safetensors.F32); err != nil {
			t.Fatal(err)
		}
		return path
	}
	one := func(name string, shape []int, n int, v float32, meta map[string]string) *safetensors.File {
		data := make([]float32, n)
		for i := range data {
			data[i] = v
		}
		return &safetensors.File{Tensors: []safetensors.Tensor{{Name: name, Shape: shape, Data: data}}, Metadata: meta}
	}
	for _, c := range []struct {
		file  string
		f     *safetensors.File
		parts []string
	}{
		{"shape.safetensors", one("codebook", []int{3, 64}, 192, 1, nil), []string{"shape.safetensors", `"codebook"`, "[3 64]"}},
		{"name.safetensors", one("codes", []int{1, Dim}, Dim, 1, nil), []string{"name.safetensors", `"codebook"`}},
		{"range.safetensors", one("codebook", []int{1, Dim}, Dim, 300, nil), []string{"range.safetensors", `"codebook"`, "300"}},
		{"patch.safetensors", one("codebook", []int{1, Dim}, Dim, 1, map[string]string{"patch_px": "16"}), []string{"patch.safetensors", "patch_px"}},
	} {
		_, err := Load(write(c.file, c.f))
		if err == nil {
			t.Errorf("%s loaded", c.file)
			continue
		}
		for _, p := range c.parts {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("%s: error %q does not mention %q", c.file, err, p)
			}
		}
	}
	os.WriteFile(filepath.Join(dir, "junk.safetensors"), []byte("junk"), 0o644)
	if _, err := Load(filepath.Join(dir, "junk.safetensors")); err == nil || !strings.Contains(err.Error(), "junk.safetensors") {
		t.Errorf("junk file: err = %v", err)
	}
	if _, err := Parse([]byte("junk")); err == nil {
		t.Error("Parse of junk succeeded")
	}
}

func TestPSNR(t *testing.T) {
	a := world.Render(world.Scene{})
	if p := PSNR(a, a); !math.IsInf(p, 1) {
		t.Errorf("PSNR of an image with itself = %v, want +Inf", p)
	}
	b := image.NewRGBA(a.Bounds())
	copy(b.Pix, a.Pix)
	b.Pix[0] += 10 // one channel of one pixel off by 10
	want := 10 * math.Log10(255*255/(100/float64(3*world.Canvas*world.Canvas)))
	if p := PSNR(a, b); math.Abs(p-want) > 1e-9 {
		t.Errorf("PSNR = %v, want %v", p, want)
	}
	if p := PSNR(a, image.NewRGBA(image.Rect(0, 0, 2, 2))); !math.IsNaN(p) {
		t.Errorf("PSNR of different sizes = %v, want NaN", p)
	}
}

func BenchmarkEncode(b *testing.B) {
	cb := Default()
	imgs := freshImages(32)
	n := 0
	for b.Loop() {
		if _, err := cb.Encode(imgs[n%len(imgs)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkEncodeSearch times the full nearest-code search that patches
// unlike any code need, by shifting every pixel off the codebook.
func BenchmarkEncodeSearch(b *testing.B) {
	cb := Default()
	imgs := freshImages(32)
	for _, img := range imgs {
		for i := range img.Pix {
			if i%4 != 3 {
				img.Pix[i] ^= 1
			}
		}
	}
	n := 0
	for b.Loop() {
		if _, err := cb.Encode(imgs[n%len(imgs)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkDecode(b *testing.B) {
	cb := Default()
	var all [][]int
	for _, img := range freshImages(32) {
		codes, _ := cb.Encode(img)
		all = append(all, codes)
	}
	n := 0
	for b.Loop() {
		if _, err := cb.Decode(all[n%len(all)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
}

// The embedded file must be what LearnWorld makes with the defaults, so
// that regenerating it changes nothing.
func TestDefaultIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("learns from 20000 cases")
	}
	cb, err := LearnWorld(context.Background(), DefaultSeed, DefaultCases, DefaultK, DefaultIters)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cb.codes, Default().codes) || cb.Info != Default().Info {
		t.Error("LearnWorld with the defaults no longer gives the embedded codebook; regenerate it")
	}
}

// TestDecodeMasked checks the three kinds of patch: a revealed code is
// drawn as Decode draws it, a masked one with no guess is flat mask grey,
// and a masked one with a guess is the guess's patch dimmed pixel by pixel.
func TestDecodeMasked(t *testing.T) {
	cb := Default()
	truth, err := cb.Encode(freshImages(1)[1])
	if err != nil {
		t.Fatal(err)
	}
	full, err := cb.Decode(truth)
	if err != nil {
		t.Fatal(err)
	}
	const greyAt, guessAt = 3, 20
	codes := slices.Clone(truth)
	codes[greyAt], codes[guessAt] = -1, -1
	guesses := make([]int, Tokens)
	for i := range guesses {
		guesses[i] = -1
	}
	guesses[guessAt] = truth[guessAt]
	guesses[7] = 0 // a guess where the code is revealed is ignored

	for _, g := range [][]int{nil, guesses} {
		img, err := cb.DecodeMasked(codes, g)
		if err != nil {
			t.Fatal(err)
		}
		for y := range world.Canvas {
			for x := range world.Canvas {
				p := y/PatchPx*PerSide + x/PatchPx
				want := full.RGBAAt(x, y)
				switch {
				case p == greyAt, p == guessAt && g == nil:
					want = world.MaskGrey
				case p == guessAt:
					want = Dimmed(want)
				}
				if got := img.RGBAAt(x, y); got != want {
					t.Fatalf("guesses %v: pixel (%d,%d) of patch %d = %v, want %v", g != nil, x, y, p, got, want)
				}
			}
		}
	}
	// With every code revealed it is Decode.
	img, err := cb.DecodeMasked(truth, guesses)
	if err != nil || !bytes.Equal(img.Pix, full.Pix) {
		t.Errorf("all revealed: err = %v, same pixels as Decode = %v", err, err == nil && bytes.Equal(img.Pix, full.Pix))
	}
}

func TestDecodeMaskedErrors(t *testing.T) {
	cb := Default()
	masked := make([]int, Tokens)
	for i := range masked {
		masked[i] = -1
	}
	for _, c := range []struct {
		name           string
		codes, guesses []int
		want           string
	}{
		{"short codes", make([]int, Tokens-1), nil, "codes"},
		{"short guesses", masked, make([]int, 3), "guesses"},
		{"code past K", append(make([]int, Tokens-1), cb.K()), nil, "position 35"},
		{"guess past K", masked, append(slices.Clone(masked[1:]), cb.K()), "position 35"},
	} {
		if _, err := cb.DecodeMasked(c.codes, c.guesses); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one naming %q", c.name, err, c.want)
		}
	}
}

func TestDimmed(t *testing.T) {
	g := world.MaskGrey
	if got := Dimmed(g); got != g {
		t.Errorf("Dimmed(mask grey) = %v, want it unchanged", got)
	}
	if got, want := Dimmed(color.RGBA{0, 255, 10, 255}), (color.RGBA{g.R / 2, uint8((255 + uint16(g.G)) / 2), uint8((10 + uint16(g.B)) / 2), 255}); got != want {
		t.Errorf("Dimmed = %v, want %v", got, want)
	}
}

// FuzzParse reads arbitrary bytes as a codebook. It parses or fails with
// an error; a codebook it parses decodes every code into a picture and
// reads back the same after saving.
func FuzzParse(f *testing.F) {
	var b bytes.Buffer
	if err := safetensors.Encode(&b, tinyCodebook(f).file(), safetensors.F32); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		cb, err := Parse(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "vq: ") {
				t.Fatalf("the error does not say it is the codebook's: %v", err)
			}
			return
		}
		codes := make([]int, Tokens)
		for i := range codes {
			codes[i] = i % cb.K()
		}
		if _, err := cb.Decode(codes); err != nil {
			t.Fatalf("a parsed codebook does not decode its own codes: %v", err)
		}
		var out bytes.Buffer
		if err := safetensors.Encode(&out, cb.file(), safetensors.F32); err != nil {
			t.Fatal(err)
		}
		again, err := Parse(out.Bytes())
		if err != nil || !slices.Equal(again.codes, cb.codes) || again.Info != cb.Info {
			t.Fatalf("a parsed codebook reads back differently: %v", err)
		}
	})
}

// tinyCodebook is a four-code book.
func tinyCodebook(f *testing.F) *Codebook {
	cb, err := Learn(tinySet(), 4, 1, 3)
	if err != nil {
		f.Fatal(err)
	}
	return cb
}
