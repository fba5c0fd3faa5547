package viz

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"slices"
	"strings"
	"testing"

	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// fixture is a target scene, its pixels, and a frame with all of it
// revealed at the given step.
type fixture struct {
	v     *token.Vocab
	cb    *vq.Codebook
	scene *image.RGBA
	full  sample.Frame
}

const reasoningText = "the circle stays ."

func newFixture(t *testing.T, step int) fixture {
	t.Helper()
	cb := vq.Default()
	v := token.New(cb.K())
	scene := world.Render(world.Generate(1, 0, world.MixEdit).Target)
	codes, err := cb.Encode(scene)
	if err != nil {
		t.Fatal(err)
	}
	words, err := v.Encode(reasoningText)
	if err != nil {
		t.Fatal(err)
	}
	n := token.ImageTokens + token.ReasoningLen
	f := sample.Frame{
		Step:       step,
		Tokens:     make([]int32, n),
		RevealedAt: make([]int16, n),
		Confidence: make([]float32, n),
	}
	for i, c := range codes {
		f.Tokens[i] = int32(v.ImageOffset() + c)
	}
	for i := range token.ReasoningLen {
		id := token.Pad
		switch {
		case i < len(words):
			id = words[i]
		case i == len(words):
			id = token.EOS
		}
		f.Tokens[token.ImageTokens+i] = int32(id)
	}
	for i := range f.RevealedAt {
		f.RevealedAt[i] = int16(step)
	}
	f.Guess = slices.Clone(f.Tokens)
	return fixture{v: v, cb: cb, scene: scene, full: f}
}

// masked returns a copy of f at step with the given positions masked again;
// the guesses still hold the true tokens.
func masked(f sample.Frame, step int, positions ...int) sample.Frame {
	f.Step = step
	f.Tokens = slices.Clone(f.Tokens)
	f.RevealedAt = slices.Clone(f.RevealedAt)
	for _, p := range positions {
		f.Tokens[p] = token.Mask
		f.RevealedAt[p] = -1
	}
	return f
}

// trajectory returns frames 0..3: all masked, then the image's top half
// and the first word, then everything but the last image patch, then all.
func trajectory(fx fixture) []sample.Frame {
	n := len(fx.full.Tokens)
	f0 := masked(fx.full, 0, positions(0, n)...)
	f1 := masked(fx.full, 1, append(positions(token.ImageTokens/2, token.ImageTokens), positions(token.ImageTokens+1, n)...)...)
	f2 := masked(fx.full, 2, token.ImageTokens-1)
	f3 := fx.full
	f3.Step = 3
	return []sample.Frame{f0, f1, f2, f3}
}

func patchPixels(img *image.RGBA, p int) []color.RGBA {
	var out []color.RGBA
	x0, y0 := p%vq.PerSide*vq.PatchPx, p/vq.PerSide*vq.PatchPx
	for y := range vq.PatchPx {
		for x := range vq.PatchPx {
			out = append(out, img.RGBAAt(img.Bounds().Min.X+x0+x, img.Bounds().Min.Y+y0+y))
		}
	}
	return out
}

func samePixels(t *testing.T, got, want image.Image, x0, y0, scale int) {
	t.Helper()
	b := want.Bounds()
	for y := range b.Dy() * scale {
		for x := range b.Dx() * scale {
			g := color.RGBAModel.Convert(got.At(x0+x, y0+y))
			w := color.RGBAModel.Convert(want.At(b.Min.X+x/scale, b.Min.Y+y/scale))
			if g != w {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, w)
			}
		}
	}
}

func TestPictureRevealedIsScene(t *testing.T) {
	fx := newFixture(t, 0)
	pic, err := Picture(fx.full, fx.v, fx.cb, false)
	if err != nil {
		t.Fatal(err)
	}
	samePixels(t, pic, fx.scene, 0, 0, 1)
}

func TestPictureMaskedIsGrey(t *testing.T) {
	fx := newFixture(t, 0)
	if world.MaskGrey == world.Background {
		t.Fatal("mask grey is the background colour")
	}
	const p = 7
	pic, err := Picture(masked(fx.full, 1, p), fx.v, fx.cb, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range patchPixels(pic, p) {
		if c != world.MaskGrey {
			t.Fatalf("masked patch pixel %v, want %v", c, world.MaskGrey)
		}
	}
	// The other patches are untouched.
	for q := range token.ImageTokens {
		if q != p && !slices.Equal(patchPixels(pic, q), patchPixels(fx.scene, q)) {
			t.Fatalf("patch %d changed", q)
		}
	}
}

func TestPictureGuessesAreDimmed(t *testing.T) {
	fx := newFixture(t, 0)
	f := masked(fx.full, 1, positions(0, token.ImageTokens)...)
	pic, err := Picture(f, fx.v, fx.cb, true)
	if err != nil {
		t.Fatal(err)
	}
	for p := range token.ImageTokens {
		got, truth := patchPixels(pic, p), patchPixels(fx.scene, p)
		for i := range got {
			if got[i] == world.MaskGrey || got[i] == truth[i] {
				t.Fatalf("patch %d pixel %d = %v: want a dimmed guess (truth %v)", p, i, got[i], truth[i])
			}
		}
	}
}

// positions returns lo, lo+1, …, hi-1.
func positions(lo, hi int) []int {
	var out []int
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

func TestPictureShortFrame(t *testing.T) {
	fx := newFixture(t, 0)
	if _, err := Picture(sample.Frame{Step: 2, Tokens: make([]int32, 3)}, fx.v, fx.cb, false); err == nil {
		t.Fatal("want an error for a frame without an image")
	}
}

func TestStrip(t *testing.T) {
	fx := newFixture(t, 3)
	frames := trajectory(fx)
	img, err := Strip(frames, []int{0, 2, 3}, fx.v, fx.cb, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Three 96 px cells with 8 px gaps; the label band is half a gap,
	// a glyph row and a gap.
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 8+3*(96+8) || h != 8+96+4+13+8 {
		t.Fatalf("size %d×%d", w, h)
	}
	samePixels(t, img, fx.scene, 8+2*(96+8), 8, 2) // the last one is the scene
	if _, err := Strip(frames, []int{1, 9}, fx.v, fx.cb, 2); err == nil || !strings.Contains(err.Error(), "step 9") {
		t.Fatalf("missing step: err = %v", err)
	}
}

func TestAnimation(t *testing.T) {
	fx := newFixture(t, 3)
	frames := trajectory(fx)
	// A first frame fully revealed checks the picture's colours.
	frames[0] = fx.full
	frames[0].Step = 0
	g, err := Animation(frames, fx.v, fx.cb, AnimOptions{Scale: 3, Delay: 10, Hold: 150})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) != len(frames) || !slices.Equal(g.Delay, []int{10, 10, 10, 150}) {
		t.Fatalf("%d images, delays %v", len(g.Image), g.Delay)
	}
	samePixels(t, g.Image[0], fx.scene, margin, margin, 3)

	encode := func() []byte {
		g, err := Animation(frames, fx.v, fx.cb, AnimOptions{Scale: 3})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := gif.EncodeAll(&b, g); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := encode(), encode()
	if !bytes.Equal(a, b) {
		t.Fatal("two encodings of the same frames differ")
	}
	back, err := gif.DecodeAll(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if back.Delay[0] != 25 || back.Delay[len(back.Delay)-1] != 200 {
		t.Fatalf("default delays %v", back.Delay)
	}
}

func TestAnimationDefaultsAndEmpty(t *testing.T) {
	fx := newFixture(t, 3)
	g, err := Animation(trajectory(fx)[:1], fx.v, fx.cb, AnimOptions{Guesses: true})
	if err != nil {
		t.Fatal(err)
	}
	// Default scale 4: a 192 px picture, and a lone frame gets the hold.
	if g.Image[0].Bounds().Dx() < margin+192 || !slices.Equal(g.Delay, []int{200}) {
		t.Fatalf("bounds %v, delays %v", g.Image[0].Bounds(), g.Delay)
	}
	if _, err := Animation(nil, fx.v, fx.cb, AnimOptions{}); err == nil {
		t.Fatal("want an error for no frames")
	}
}

func TestPaletteHoldsPictureColours(t *testing.T) {
	want := []color.RGBA{world.MaskGrey, world.Background, dim(world.Background)}
	for _, c := range world.Palette {
		want = append(want, c, dim(c))
	}
	for _, c := range want {
		if gifPalette[gifPalette.Index(c)] != color.Color(c) {
			t.Errorf("palette lacks %v", c)
		}
	}
	if len(gifPalette) > 256 {
		t.Fatalf("%d colours", len(gifPalette))
	}
}

func TestReasoningWords(t *testing.T) {
	fx := newFixture(t, 3)
	words := func(f sample.Frame) (out []string) {
		for _, w := range reasoning(f, fx.v) {
			out = append(out, w.text)
		}
		return out
	}
	frames := trajectory(fx)
	// All 40 positions are masked at the start: no end token is revealed.
	if got := words(frames[0]); len(got) != token.ReasoningLen || got[0] != placeholder {
		t.Fatalf("step 0 words %q", got)
	}
	if got, want := words(frames[3]), strings.Fields(reasoningText); !slices.Equal(got, want) {
		t.Fatalf("final words %q, want %q", got, want)
	}
	// Highlight only the words revealed at the frame's own step.
	f := frames[3]
	f.RevealedAt = slices.Clone(f.RevealedAt)
	f.RevealedAt[token.ImageTokens] = 1
	inks := reasoning(f, fx.v)
	if inks[0].ink != inkLight || inks[1].ink != inkNew {
		t.Fatalf("inks %v", inks)
	}
}

func TestWrapWords(t *testing.T) {
	words := strings.Fields("the sky is blue . the circle becomes blue . the square stays as it is . a-very-long-word-that-does-not-fit")
	lines := wrapWords(words, 16)
	var flat []string
	for _, line := range lines {
		flat = append(flat, line...)
		if n := len(strings.Join(line, " ")); n > 16 && len(line) > 1 {
			t.Errorf("line %q is %d wide", line, n)
		}
	}
	if !slices.Equal(flat, words) {
		t.Fatalf("words lost or reordered: %q", lines)
	}
	if got := strings.Join(lines[0], " "); got != "the sky is blue" {
		t.Errorf("first line %q", got)
	}
	if last := lines[len(lines)-1]; len(last) != 1 {
		t.Errorf("long word shares a line: %q", last)
	}
	if wrapWords(nil, 16) != nil {
		t.Error("no words should give no lines")
	}
}

func TestStripPNGDeterministic(t *testing.T) {
	fx := newFixture(t, 3)
	frames := trajectory(fx)
	encode := func() []byte {
		img, err := Strip(frames, []int{0, 1, 2, 3}, fx.v, fx.cb, 2)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	if !bytes.Equal(encode(), encode()) {
		t.Fatal("two encodings differ")
	}
}

// A caption is drawn on every frame, between the step and the text.
func TestAnimationCaption(t *testing.T) {
	fx := newFixture(t, 3)
	frames := trajectory(fx)
	plain, _ := Animation(frames, fx.v, fx.cb, AnimOptions{Scale: 1})
	g, err := Animation(frames, fx.v, fx.cb, AnimOptions{Scale: 1, Caption: []string{"thinkgen: draw a circle", "parallel · seed 3"}})
	if err != nil {
		t.Fatal(err)
	}
	lineH := glyphH + lineSpacing
	textX := margin + world.Canvas + 2*margin
	for i, img := range g.Image {
		if img.Bounds().Dy() < plain.Image[i].Bounds().Dy() {
			t.Fatalf("frame %d is shorter with a caption", i)
		}
		inked := 0
		for y := margin + lineH; y < margin+3*lineH; y++ {
			for x := textX; x < textX+20*glyphW; x++ {
				if img.At(x, y) == color.Color(inkHeader) {
					inked++
				}
			}
		}
		if inked == 0 {
			t.Fatalf("frame %d has no caption", i)
		}
	}
}

// A strip's caption goes under its labels, wrapped to its width.
func TestStripCaption(t *testing.T) {
	fx := newFixture(t, 3)
	frames := trajectory(fx)
	plain, _ := Strip(frames, []int{0, 3}, fx.v, fx.cb, 1)
	long := strings.Repeat("word ", 40)
	img, err := Strip(frames, []int{0, 3}, fx.v, fx.cb, 1, "thinkgen: draw a circle", long)
	if err != nil {
		t.Fatal(err)
	}
	extra := img.Bounds().Dy() - plain.Bounds().Dy()
	if lineH := glyphH + lineSpacing; extra < 3*lineH || img.Bounds().Dx() != plain.Bounds().Dx() {
		t.Fatalf("caption adds %d px to %v, want three lines or more at the same width", extra, img.Bounds())
	}
	inked := 0
	for y := plain.Bounds().Dy(); y < img.Bounds().Dy(); y++ {
		for x := range img.Bounds().Dx() {
			if img.RGBAAt(x, y) == inkHeader {
				inked++
			}
		}
	}
	if inked == 0 {
		t.Fatal("no caption drawn")
	}
}

// A published model's pieces carry their own spaces: wrapped with none
// added between them.
func TestWrapJoinedPieces(t *testing.T) {
	got := wrapJoined([]string{"the", " sky", " turns"}, 8, 0)
	if len(got) != 2 || strings.Join(got[0], "") != "the sky" || strings.Join(got[1], "") != " turns" {
		t.Errorf("got %q", got)
	}
}
