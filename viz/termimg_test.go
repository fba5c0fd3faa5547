package viz

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"parascope/engine/world"
)

// scenePicture is a rendered ShapeWorld target.
func scenePicture() *image.RGBA {
	return world.Render(world.Generate(1, 0, world.MixEdit).Target)
}

// maskedPicture is a scene with one patch masked grey and one dimmed, as
// in guess mode: more colours than a plain scene.
func maskedPicture() *image.RGBA {
	img := scenePicture()
	for y := range 8 {
		for x := range 8 {
			img.SetRGBA(8+x, 16+y, world.MaskGrey)
			img.SetRGBA(24+x, 16+y, dim(img.RGBAAt(24+x, 16+y)))
		}
	}
	return img
}

// manyColours has w·h distinct colours in noise, more than any palette
// here holds: odd multiples and xor-shifts are one-to-one on 24 bits.
func manyColours(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint32(y*w+x) * 2654435761 & 0xffffff
			v ^= v >> 12
			v = v * 2246822519 & 0xffffff
			v ^= v >> 11
			img.SetRGBA(x, y, color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255})
		}
	}
	return img
}

func flatPicture(c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 48, 48))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
	}
	return img
}

func scaled(img *image.RGBA, s int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*s, b.Dy()*s))
	upscale(out, 0, 0, img, s)
	return out
}

// sixelImage is what decodeSixel reads back: each pixel's register, and
// each register's colour in percent.
type sixelImage struct {
	w, h   int
	p2     int
	regs   map[int][3]int
	pix    []int // register, -1 where never painted
	paints []int // how often each pixel was painted
}

// decodeSixel reads one sixel sequence as Sixel writes it: raster
// attributes first, RGB colour definitions, colour selection, repeats,
// graphics carriage return and new line. It fails on anything drawn
// outside the declared size.
func decodeSixel(data []byte) (*sixelImage, error) {
	s := string(data)
	if !strings.HasPrefix(s, "\x1bP") || !strings.HasSuffix(s, "\x1b\\") {
		return nil, fmt.Errorf("not a DCS … ST sequence")
	}
	s = s[2 : len(s)-2]
	q := strings.IndexByte(s, 'q')
	if q < 0 {
		return nil, fmt.Errorf("no q")
	}
	params := strings.Split(s[:q], ";")
	img := &sixelImage{regs: map[int][3]int{}}
	if len(params) >= 2 {
		img.p2, _ = strconv.Atoi(params[1])
	}
	s = s[q+1:]

	// ints reads numbers separated by ';' from the front of s.
	ints := func() []int {
		var out []int
		for {
			i := 0
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			n, _ := strconv.Atoi(s[:i])
			out = append(out, n)
			s = s[i:]
			if len(s) == 0 || s[0] != ';' {
				return out
			}
			s = s[1:]
		}
	}
	x, y, cur := 0, 0, -1
	paint := func(c byte, n int) error {
		if c < '?' || c > '~' {
			return fmt.Errorf("bad sixel %q", c)
		}
		if img.pix == nil || cur < 0 {
			return fmt.Errorf("sixel before raster attributes or colour")
		}
		for range n {
			if x >= img.w {
				return fmt.Errorf("column %d past width %d", x, img.w)
			}
			bits := c - '?'
			for r := range 6 {
				if bits&(1<<r) == 0 {
					continue
				}
				if y+r >= img.h {
					return fmt.Errorf("row %d past height %d", y+r, img.h)
				}
				i := (y+r)*img.w + x
				img.pix[i] = cur
				img.paints[i]++
			}
			x++
		}
		return nil
	}
	for len(s) > 0 {
		c := s[0]
		s = s[1:]
		switch {
		case c == '"':
			a := ints()
			if len(a) != 4 {
				return nil, fmt.Errorf("raster attributes %v", a)
			}
			img.w, img.h = a[2], a[3]
			img.pix = make([]int, img.w*img.h)
			img.paints = make([]int, img.w*img.h)
			for i := range img.pix {
				img.pix[i] = -1
			}
		case c == '#':
			a := ints()
			switch {
			case len(a) == 5 && a[1] == 2:
				img.regs[a[0]] = [3]int{a[2], a[3], a[4]}
			case len(a) != 1:
				return nil, fmt.Errorf("colour %v", a)
			}
			if _, ok := img.regs[a[0]]; !ok {
				return nil, fmt.Errorf("register %d used undefined", a[0])
			}
			cur = a[0]
		case c == '!':
			a := ints()
			if len(a) != 1 || len(s) == 0 {
				return nil, fmt.Errorf("bad repeat")
			}
			if err := paint(s[0], a[0]); err != nil {
				return nil, err
			}
			s = s[1:]
		case c == '$':
			x = 0
		case c == '-':
			x, y = 0, y+6
		default:
			if err := paint(c, 1); err != nil {
				return nil, err
			}
		}
	}
	return img, nil
}

// checkSixel decodes Sixel(img, s) and compares it with img upscaled:
// every pixel painted exactly once, with a register whose colour is the
// pixel's colour in percent; one register per distinct colour; registers
// first seen in raster order 0, 1, 2, ….
func checkSixel(t *testing.T, img *image.RGBA, s int) {
	t.Helper()
	data := Sixel(img, s)
	got, err := decodeSixel(data)
	if err != nil {
		t.Fatalf("scale %d: decode: %v", s, err)
	}
	want := scaled(img, s)
	if got.w != want.Bounds().Dx() || got.h != want.Bounds().Dy() {
		t.Fatalf("scale %d: size %d×%d, want %v", s, got.w, got.h, want.Bounds().Size())
	}
	if got.p2 != 1 {
		t.Errorf("P2 = %d, want 1", got.p2)
	}
	regOf := map[color.RGBA]int{}
	colourOf := map[int]color.RGBA{}
	next := 0
	for y := range got.h {
		for x := range got.w {
			i := y*got.w + x
			c := want.RGBAAt(x, y)
			if got.paints[i] != 1 {
				t.Fatalf("scale %d: pixel (%d,%d) painted %d times", s, x, y, got.paints[i])
			}
			reg := got.pix[i]
			if p := got.regs[reg]; p != [3]int{percent(c.R), percent(c.G), percent(c.B)} {
				t.Fatalf("scale %d: pixel (%d,%d) = %v%%, want %v", s, x, y, p, c)
			}
			if r, ok := regOf[c]; ok && r != reg {
				t.Fatalf("scale %d: colour %v in registers %d and %d", s, c, r, reg)
			}
			if o, ok := colourOf[reg]; ok && o != c {
				t.Fatalf("scale %d: register %d holds %v and %v", s, reg, o, c)
			}
			if _, ok := colourOf[reg]; !ok {
				if reg != next {
					t.Fatalf("scale %d: register %d first seen, want %d", s, reg, next)
				}
				next++
			}
			regOf[c], colourOf[reg] = reg, c
		}
	}
	if len(got.regs) != next {
		t.Errorf("scale %d: %d registers defined, %d used", s, len(got.regs), next)
	}
}

func TestSixelRoundTripScene(t *testing.T) {
	for _, s := range []int{1, 4, 5} {
		checkSixel(t, scenePicture(), s)
	}
}

func TestSixelRoundTripMasked(t *testing.T) {
	img := maskedPicture()
	checkSixel(t, img, 4)
	// A sub-image: origin off zero, height not a multiple of 6.
	sub := img.SubImage(image.Rect(3, 5, 40, 44)).(*image.RGBA)
	checkSixel(t, sub, 1)
	checkSixel(t, sub, 3)
}

func TestSixelDeterministicAndEmpty(t *testing.T) {
	a, b := Sixel(maskedPicture(), 4), Sixel(maskedPicture(), 4)
	if !bytes.Equal(a, b) {
		t.Error("two encodings of one picture differ")
	}
	if got := Sixel(image.NewRGBA(image.Rectangle{}), 4); got != nil {
		t.Errorf("empty picture: %q", got)
	}
	// A non-RGBA picture takes the slow path to the same bytes.
	nrgba := image.NewNRGBA(maskedPicture().Bounds())
	for y := range 48 {
		for x := range 48 {
			nrgba.Set(x, y, maskedPicture().At(x, y))
		}
	}
	if !bytes.Equal(Sixel(nrgba, 4), a) {
		t.Error("NRGBA picture encodes differently")
	}
}

func TestSixelManyColours(t *testing.T) {
	img := manyColours(20, 20) // 400 colours
	got, err := decodeSixel(Sixel(img, 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.regs) != 256 {
		t.Fatalf("%d registers, want 256", len(got.regs))
	}
	first := make([]color.RGBA, 0, 256)
	for y := range 20 {
		for x := range 20 {
			first = append(first, img.RGBAAt(x, y))
		}
	}
	first = first[:256]
	for y := range 20 {
		for x := range 20 {
			c := img.RGBAAt(x, y)
			want := int(nearest(first, c)) // itself among the first 256
			if reg := got.pix[(2*y)*got.w+2*x]; reg != want {
				t.Fatalf("pixel (%d,%d): register %d, want %d", x, y, reg, want)
			}
		}
	}
}

// kittyChunks splits kitty graphics commands into control data and
// payloads.
func kittyChunks(t *testing.T, data []byte) (ctrl, payload []string) {
	t.Helper()
	s := string(data)
	for len(s) > 0 {
		if !strings.HasPrefix(s, "\x1b_G") {
			t.Fatalf("chunk starts %q", s[:min(len(s), 8)])
		}
		end := strings.Index(s, "\x1b\\")
		if end < 0 {
			t.Fatal("unterminated chunk")
		}
		c, p, _ := strings.Cut(s[3:end], ";")
		ctrl, payload = append(ctrl, c), append(payload, p)
		s = s[end+2:]
	}
	return ctrl, payload
}

func checkKitty(t *testing.T, img *image.RGBA, s, id int) int {
	t.Helper()
	ctrl, payload := kittyChunks(t, Kitty(img, s, id))
	w, h := img.Bounds().Dx()*s, img.Bounds().Dy()*s
	head := fmt.Sprintf("a=T,f=100,s=%d,v=%d,i=%d,C=1,q=2,", w, h, id)
	if !strings.HasPrefix(ctrl[0], head) {
		t.Errorf("first chunk %q, want prefix %q", ctrl[0], head)
	}
	var all strings.Builder
	for i, c := range ctrl {
		m := "m=1"
		if i == len(ctrl)-1 {
			m = "m=0"
		}
		if !strings.HasSuffix(c, m) || (i > 0 && c != "q=2,"+m) {
			t.Errorf("chunk %d control %q, want ending %s", i, c, m)
		}
		if len(payload[i]) > 4096 || (i < len(ctrl)-1 && len(payload[i])%4 != 0) {
			t.Errorf("chunk %d: %d bytes", i, len(payload[i]))
		}
		all.WriteString(payload[i])
	}
	raw, err := base64.StdEncoding.DecodeString(all.String())
	if err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := scaled(img, s)
	if got.Bounds() != want.Bounds() {
		t.Fatalf("size %v, want %v", got.Bounds(), want.Bounds())
	}
	for y := range h {
		for x := range w {
			if c := color.RGBAModel.Convert(got.At(x, y)); c != want.RGBAAt(x, y) {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, c, want.RGBAAt(x, y))
			}
		}
	}
	return len(ctrl)
}

func TestKittyRoundTrip(t *testing.T) {
	checkKitty(t, scenePicture(), 4, 1)
	checkKitty(t, maskedPicture(), 5, 42)
	// Too many colours for a palette: RGB, and large enough to need chunks.
	if n := checkKitty(t, manyColours(40, 40), 2, 3); n < 2 {
		t.Errorf("%d chunks, want several", n)
	}
	if got := Kitty(image.NewRGBA(image.Rectangle{}), 4, 1); got != nil {
		t.Errorf("empty picture: %q", got)
	}
}

func TestKittyDelete(t *testing.T) {
	if got, want := string(KittyDelete(7)), "\x1b_Ga=d,d=I,i=7,q=2\x1b\\"; got != want {
		t.Errorf("KittyDelete(7) = %q, want %q", got, want)
	}
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

var profiles = []ColorProfile{TrueColor, ANSI256, ANSI, NoColor}

func TestHalfBlocksWidth(t *testing.T) {
	img := maskedPicture()
	for _, p := range profiles {
		for _, size := range [][2]int{{48, 24}, {30, 11}, {7, 40}} {
			lines := HalfBlocks(img, size[0], size[1], p)
			if len(lines) != size[1] {
				t.Fatalf("profile %d: %d lines, want %d", p, len(lines), size[1])
			}
			for i, l := range lines {
				text := sgr.ReplaceAllString(l, "")
				if n := utf8.RuneCountInString(text); n != size[0] {
					t.Fatalf("profile %d line %d: %d cells, want %d", p, i, n, size[0])
				}
				if p == NoColor {
					if strings.ContainsRune(l, '\x1b') {
						t.Fatalf("NoColor line %d has an escape: %q", i, l)
					}
					if strings.Trim(text, string(shades)) != "" {
						t.Fatalf("NoColor line %d: %q", i, text)
					}
					continue
				}
				if strings.Trim(text, "▀") != "" {
					t.Fatalf("profile %d line %d: %q", p, i, text)
				}
				if !strings.HasSuffix(l, "\x1b[0m") {
					t.Fatalf("profile %d line %d does not end with a reset", p, i)
				}
			}
		}
	}
	if HalfBlocks(img, 0, 5, TrueColor) != nil || HalfBlocks(img, 5, 0, TrueColor) != nil {
		t.Error("empty size gives lines")
	}
}

func TestHalfBlocksKnownCell(t *testing.T) {
	red, blue := color.RGBA{220, 40, 40, 255}, color.RGBA{40, 80, 220, 255}
	img := image.NewRGBA(image.Rect(0, 0, 1, 2))
	img.SetRGBA(0, 0, red)
	img.SetRGBA(0, 1, blue)
	want := map[ColorProfile]string{
		TrueColor: "\x1b[38;2;220;40;40;48;2;40;80;220m▀\x1b[0m",
		ANSI256:   "\x1b[38;5;160;48;5;26m▀\x1b[0m", // (215,0,0) and (0,95,215)
		ANSI:      "\x1b[91;104m▀\x1b[0m",           // bright red, bright blue
		NoColor:   "░",                              // mean luminance 88
	}
	for _, p := range profiles {
		if got := HalfBlocks(img, 1, 1, p); len(got) != 1 || got[0] != want[p] {
			t.Errorf("profile %d: %q, want %q", p, got, want[p])
		}
	}
}

// TestHalfBlocksTrueColorCells replays each line's escape codes and checks
// every cell's colours against the picture: codes left out where nothing
// changed must not lose a colour.
func TestHalfBlocksTrueColorCells(t *testing.T) {
	img := maskedPicture()
	lines := HalfBlocks(img, 48, 24, TrueColor)
	param := regexp.MustCompile(`([34])8;2;(\d+);(\d+);(\d+)`)
	for r, l := range lines {
		var fg, bg color.RGBA
		c := 0
		for len(l) > 0 {
			if loc := sgr.FindStringIndex(l); loc != nil && loc[0] == 0 {
				for _, m := range param.FindAllStringSubmatch(l[:loc[1]], -1) {
					v := func(i int) uint8 { n, _ := strconv.Atoi(m[i]); return uint8(n) }
					col := color.RGBA{v(2), v(3), v(4), 255}
					if m[1] == "3" {
						fg = col
					} else {
						bg = col
					}
				}
				l = l[loc[1]:]
				continue
			}
			_, size := utf8.DecodeRuneInString(l)
			l = l[size:]
			if fg != img.RGBAAt(c, 2*r) || bg != img.RGBAAt(c, 2*r+1) {
				t.Fatalf("cell (%d,%d): %v on %v, want %v on %v", c, r, fg, bg, img.RGBAAt(c, 2*r), img.RGBAAt(c, 2*r+1))
			}
			c++
		}
	}
	// A flat row needs one colour code only.
	flat := HalfBlocks(flatPicture(world.Background), 10, 1, TrueColor)
	if n := strings.Count(flat[0], "\x1b["); n != 2 {
		t.Errorf("flat row: %d escape codes, want one colour and the reset: %q", n, flat[0])
	}
}

func TestXterm256Nearest(t *testing.T) {
	var table []color.RGBA
	for r := range 6 {
		for g := range 6 {
			for b := range 6 {
				table = append(table, color.RGBA{cubeLevels[r], cubeLevels[g], cubeLevels[b], 255})
			}
		}
	}
	for k := range 24 {
		v := uint8(8 + 10*k)
		table = append(table, color.RGBA{v, v, v, 255})
	}
	for r := 0; r < 256; r += 5 {
		for g := 0; g < 256; g += 5 {
			for b := 0; b < 256; b += 5 {
				c := color.RGBA{uint8(r), uint8(g), uint8(b), 255}
				got := distRGB(table[xterm256(c)-16], c)
				if want := distRGB(table[nearest(table, c)], c); got != want {
					t.Fatalf("%v: index %d at distance %d, nearest is at %d", c, xterm256(c), got, want)
				}
			}
		}
	}
}

func benchFrame(b *testing.B, encode func() int) {
	b.ReportAllocs()
	size := 0
	for b.Loop() {
		size = encode()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/frame")
	b.ReportMetric(float64(size), "bytes/frame")
}

func BenchmarkSixel(b *testing.B) {
	for _, s := range []int{4, 5} {
		img := maskedPicture()
		b.Run(fmt.Sprintf("x%d", s), func(b *testing.B) {
			benchFrame(b, func() int { return len(Sixel(img, s)) })
		})
	}
}

func BenchmarkKitty(b *testing.B) {
	for _, s := range []int{4, 5} {
		img := maskedPicture()
		b.Run(fmt.Sprintf("x%d", s), func(b *testing.B) {
			benchFrame(b, func() int { return len(Kitty(img, s, 1)) })
		})
	}
}

func BenchmarkHalfBlocks(b *testing.B) {
	img := maskedPicture()
	for _, p := range profiles {
		b.Run([]string{"TrueColor", "ANSI256", "ANSI", "NoColor"}[p], func(b *testing.B) {
			benchFrame(b, func() int {
				n := 0
				for _, l := range HalfBlocks(img, 48, 24, p) {
					n += len(l)
				}
				return n
			})
		})
	}
}
