package termimg

import (
	"bytes"
	"image"
	"image/color"
	"slices"
	"strconv"
	"strings"
	"testing"

	"parascope/viz"
)

func picture() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 48, 48))
	for y := range 48 {
		for x := range 48 {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 5), uint8(y * 5), 90, 255})
		}
	}
	return img
}

func TestRegistry(t *testing.T) {
	names := Names()
	if want := []string{"kitty", "sixel", "blocks"}; !slices.Equal(names, want) {
		t.Errorf("Names() = %v, want %v (most preferred first)", names, want)
	}
	seen := map[string]bool{}
	for i, p := range Protocols() {
		n := p.Name()
		if n == "" || n == "auto" || seen[n] {
			t.Errorf("protocol %d: name %q is empty, reserved or taken", i, n)
		}
		seen[n] = true
		if got, ok := Lookup(n); !ok || got.Name() != n {
			t.Errorf("Lookup(%q) = %v, %v", n, got, ok)
		}
		_, raw := p.(Raw)
		_, text := p.(Text)
		if raw == text {
			t.Errorf("%s: raw %v, text %v: want exactly one", n, raw, text)
		}
	}
	if p, ok := Lookup("auto"); ok {
		t.Errorf("Lookup(auto) = %v: auto is not a protocol", p.Name())
	}
}

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		name string
		a    Answers
		want string
	}{
		{"no answer", Answers{}, "blocks"},
		{"tmux", Answers{DA1: []int{1, 2}}, "blocks"},
		{"xterm", Answers{DA1: []int{64, 1, 2, 6, 9, 15, 18, 21, 22}}, "blocks"},
		{"xterm -ti vt340", Answers{DA1: []int{63, 1, 2, 4, 6, 9, 15, 22}}, "sixel"},
		{"kitty", Answers{DA1: []int{62, 22}, Kitty: true}, "kitty"},
		{"kitty and sixel", Answers{DA1: []int{4}, Kitty: true}, "kitty"},
	} {
		if got := Detect(c.a).Name(); got != c.want {
			t.Errorf("%s: Detect(%+v) = %s, want %s", c.name, c.a, got, c.want)
		}
	}
}

func TestQueries(t *testing.T) {
	// The kitty query, then DA1: DA1 is answered by every terminal, so a
	// kitty answer arrives before it.
	if got, want := string(Queries()), "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\\x1b[c"; got != want {
		t.Errorf("Queries() = %q, want %q", got, want)
	}
	if got, want := string(Queries(Kitty)), "\x1b[c"; got != want {
		t.Errorf("Queries(Kitty) = %q, want %q", got, want)
	}
}

func TestPlace(t *testing.T) {
	img := picture()
	for _, c := range []struct {
		at    Cells
		scale int
	}{
		{Cells{Left: 2, Top: 4, Cols: 48, Rows: 24}, 6}, // 288×312 pixels
		{Cells{Left: 0, Top: 0, Cols: 50, Rows: 40}, 6}, // the width decides
		{Cells{Left: 1, Top: 1, Cols: 4, Rows: 2}, 1},   // too small: shrunk into 24×26 pixels
	} {
		for _, p := range []Raw{Sixel, Kitty} {
			got := Place(p, image.Pt(6, 13), []Picture{{img, c.at}}, nil)
			head := "\x1b[?2026h\x1b7\x1b[" + strconv.Itoa(c.at.Top+1) + ";" + strconv.Itoa(c.at.Left+1) + "H"
			want := append([]byte(head), p.Encode(Shrink(img, image.Pt(c.at.Cols*6, c.at.Rows*13)), c.scale, 0)...)
			want = append(want, "\x1b8\x1b[?2026l"...)
			if !bytes.Equal(got, want) {
				t.Errorf("%s in %+v: %q…, want scale %d: %q…", p.Name(), c.at, got[:min(40, len(got))], c.scale, want[:40])
			}
		}
	}
	if got := Place(Sixel, image.Pt(6, 13), []Picture{{image.NewRGBA(image.Rectangle{}), Cells{Cols: 5, Rows: 5}}}, nil); got != nil {
		t.Errorf("empty picture: %q, want nil", got)
	}
	if got := Place(Sixel, image.Pt(6, 13), nil, []int{0, 1}); got != nil {
		t.Errorf("sixel, nothing to draw and two slots to clear: %q, want nil", got)
	}
}

// TestPlaceSeveral draws three pictures in one write: each at its corner,
// kitty's in its slot's image id, after deleting the slots no longer shown.
func TestPlaceSeveral(t *testing.T) {
	img := picture()
	pics := []Picture{
		{img, Cells{Left: 1, Top: 3, Cols: 48, Rows: 23}},
		{img, Cells{Left: 60, Top: 4, Cols: 16, Rows: 8}},
		{img, Cells{Left: 60, Top: 14, Cols: 8, Rows: 4}},
	}
	got := string(Place(Kitty, image.Pt(6, 13), pics, []int{3, 4}))
	if strings.Count(got, "\x1b[?2026h") != 1 || !strings.HasPrefix(got, "\x1b[?2026h\x1b7") || !strings.HasSuffix(got, "\x1b8\x1b[?2026l") {
		t.Fatalf("not one synchronized write: %q…", got[:min(60, len(got))])
	}
	want := "\x1b[?2026h\x1b7" + string(viz.KittyDelete(4)) + string(viz.KittyDelete(5)) +
		"\x1b[4;2H" + string(Kitty.Encode(img, 6, 0)) +
		"\x1b[5;61H" + string(Kitty.Encode(img, 2, 1)) +
		"\x1b[15;61H" + string(Kitty.Encode(img, 1, 2)) + "\x1b8\x1b[?2026l"
	if got != want {
		t.Errorf("three kitty pictures: %q…, want %q…", got[:min(120, len(got))], want[:120])
	}
	for id := 1; id <= 3; id++ {
		if n := strings.Count(got, ",i="+strconv.Itoa(id)+","); n != 2 {
			t.Errorf("image id %d appears %d times, want 2 (deleted, then sent)", id, n)
		}
	}
	if got := string(Place(Kitty, image.Pt(6, 13), nil, []int{0, 1})); got != "\x1b[?2026h\x1b7"+string(viz.KittyDelete(1))+string(viz.KittyDelete(2))+"\x1b8\x1b[?2026l" {
		t.Errorf("kitty, nothing shown: %q, want slots 0 and 1 deleted", got)
	}
	sixels := string(Place(Sixel, image.Pt(6, 13), pics, []int{3}))
	if strings.Count(sixels, "\x1bP") != 3 || !strings.Contains(sixels, "\x1b[15;61H\x1bP") {
		t.Errorf("sixel: %d pictures, want 3 each after its cursor move", strings.Count(sixels, "\x1bP"))
	}
}

// TestFit keeps the cells a scaled picture covers, and nothing when it
// does not fit unscaled.
func TestFit(t *testing.T) {
	for _, c := range []struct {
		cols, rows, cw, ch int
		wantC, wantR       int
	}{
		{48, 24, 6, 13, 48, 23}, // scale 6: 288 pixels, 23 rows of 13
		{56, 31, 6, 13, 56, 26}, // the width decides: scale 7
		{100, 15, 10, 20, 29, 15},
		{7, 10, 6, 13, 0, 0}, // 42 pixels: too narrow
	} {
		cols, rows := Fit(image.Pt(48, 48), c.cols, c.rows, image.Pt(c.cw, c.ch))
		if cols != c.wantC || rows != c.wantR {
			t.Errorf("Fit(48×48, %d×%d cells of %d×%d) = %d×%d, want %d×%d", c.cols, c.rows, c.cw, c.ch, cols, rows, c.wantC, c.wantR)
		}
		if cols > 0 && Scale(image.Pt(48, 48), Cells{Cols: cols, Rows: rows}, image.Pt(c.cw, c.ch)) != Scale(image.Pt(48, 48), Cells{Cols: c.cols, Rows: c.rows}, image.Pt(c.cw, c.ch)) {
			t.Errorf("%d×%d: the kept cells change the scale", c.cols, c.rows)
		}
	}
}

// TestEncoders pins each protocol to the viz encoder it wraps: the kitty
// picture replaces the last one, the sixel one paints over it.
func TestEncoders(t *testing.T) {
	img := picture()
	if got, want := Kitty.Encode(img, 3, 0), append(viz.KittyDelete(1), viz.Kitty(img, 3, 1)...); !bytes.Equal(got, want) {
		t.Error("kitty, slot 0: not KittyDelete(1) then Kitty(img, 3, 1)")
	}
	if got, want := Kitty.Encode(img, 3, 2), append(viz.KittyDelete(3), viz.Kitty(img, 3, 3)...); !bytes.Equal(got, want) {
		t.Error("kitty, slot 2: not KittyDelete(3) then Kitty(img, 3, 3)")
	}
	if got, want := Kitty.Clear(2), viz.KittyDelete(3); !bytes.Equal(got, want) {
		t.Error("kitty: Clear(2) is not KittyDelete(3)")
	}
	if got, want := Sixel.Encode(img, 3, 1), viz.Sixel(img, 3); !bytes.Equal(got, want) {
		t.Error("sixel: not viz.Sixel(img, 3)")
	}
	if got := Sixel.Clear(0); got != nil {
		t.Errorf("sixel: Clear(0) = %q, want nothing", got)
	}
	for _, p := range []viz.ColorProfile{viz.TrueColor, viz.NoColor} {
		if got, want := Blocks.Lines(img, 20, 10, p), viz.HalfBlocks(img, 20, 10, p); !slices.Equal(got, want) {
			t.Errorf("blocks, profile %d: not viz.HalfBlocks", p)
		}
	}
}

// fake is a protocol a terminal selects by listing attribute 99 in DA1 and
// answering its own query.
type fake struct{}

func (fake) Name() string                                   { return "fake" }
func (fake) Query() []byte                                  { return []byte("\x1b[>0q") }
func (fake) Detect(a Answers) bool                          { return slices.Contains(a.DA1, 99) }
func (fake) Encode(img image.Image, scale, slot int) []byte { return []byte("FAKE") }
func (fake) Clear(slot int) []byte                          { return nil }

// TestRegisterFake shows that registering is all a protocol needs: it is
// named, looked up, asked for, detected and placed with no other change.
func TestRegisterFake(t *testing.T) {
	saved := slices.Clone(registered)
	t.Cleanup(func() { registered = saved })

	Register(fake{}, 15) // between kitty and sixel
	if want := []string{"kitty", "fake", "sixel", "blocks"}; !slices.Equal(Names(), want) {
		t.Errorf("Names() = %v, want %v", Names(), want)
	}
	if p, ok := Lookup("fake"); !ok || p.Name() != "fake" {
		t.Errorf("Lookup(fake) = %v, %v", p, ok)
	}
	if got := string(Queries()); !strings.Contains(got, "\x1b\\\x1b[>0q\x1b[c") {
		t.Errorf("Queries() = %q: want the fake's query between kitty's and DA1", got)
	}
	for _, c := range []struct {
		a    Answers
		want string
	}{
		{Answers{DA1: []int{1, 99}}, "fake"},
		{Answers{DA1: []int{4, 99}}, "fake"},
		{Answers{DA1: []int{4, 99}, Kitty: true}, "kitty"},
		{Answers{DA1: []int{4}}, "sixel"},
	} {
		if got := Detect(c.a).Name(); got != c.want {
			t.Errorf("Detect(%+v) = %s, want %s", c.a, got, c.want)
		}
	}
	p, _ := Lookup("fake")
	if got := string(Place(p.(Raw), image.Pt(6, 13), []Picture{{picture(), Cells{Cols: 10, Rows: 5}}}, nil)); got != "\x1b[?2026h\x1b7\x1b[1;1HFAKE\x1b8\x1b[?2026l" {
		t.Errorf("Place(fake) = %q", got)
	}

	defer func() {
		if recover() == nil {
			t.Error("registering a taken name did not panic")
		}
	}()
	Register(fake{}, 1)
}

// A picture larger than its cells is drawn shrunk into them, keeping its
// shape; a smaller one is left as it is (Place scales it up).
func TestShrinkFitsTheBox(t *testing.T) {
	big := image.NewRGBA(image.Rect(0, 0, 512, 256))
	if got := Shrink(big, image.Pt(100, 100)).Bounds().Size(); got != image.Pt(100, 50) {
		t.Errorf("512×256 into 100×100: %v", got)
	}
	small := image.NewRGBA(image.Rect(0, 0, 48, 48))
	if Shrink(small, image.Pt(100, 100)) != image.Image(small) {
		t.Error("a 48×48 picture was resampled")
	}
}
