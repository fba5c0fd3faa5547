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
		{Cells{Left: 1, Top: 1, Cols: 4, Rows: 2}, 1},   // too small: never below 1
	} {
		for _, p := range []Raw{Sixel, Kitty} {
			got := Place(p, img, c.at, image.Pt(6, 13))
			head := "\x1b[?2026h\x1b7\x1b[" + strconv.Itoa(c.at.Top+1) + ";" + strconv.Itoa(c.at.Left+1) + "H"
			want := append([]byte(head), p.Encode(img, c.scale)...)
			want = append(want, "\x1b8\x1b[?2026l"...)
			if !bytes.Equal(got, want) {
				t.Errorf("%s in %+v: %q…, want scale %d: %q…", p.Name(), c.at, got[:min(40, len(got))], c.scale, want[:40])
			}
		}
	}
	if got := Place(Sixel, image.NewRGBA(image.Rectangle{}), Cells{Cols: 5, Rows: 5}, image.Pt(6, 13)); got != nil {
		t.Errorf("empty picture: %q, want nil", got)
	}
}

// TestEncoders pins each protocol to the viz encoder it wraps: the kitty
// picture replaces the last one, the sixel one paints over it.
func TestEncoders(t *testing.T) {
	img := picture()
	if got, want := Kitty.Encode(img, 3), append(viz.KittyDelete(1), viz.Kitty(img, 3, 1)...); !bytes.Equal(got, want) {
		t.Error("kitty: not KittyDelete(1) then Kitty(img, 3, 1)")
	}
	if got, want := Sixel.Encode(img, 3), viz.Sixel(img, 3); !bytes.Equal(got, want) {
		t.Error("sixel: not viz.Sixel(img, 3)")
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

func (fake) Name() string                             { return "fake" }
func (fake) Query() []byte                            { return []byte("\x1b[>0q") }
func (fake) Detect(a Answers) bool                    { return slices.Contains(a.DA1, 99) }
func (fake) Encode(img image.Image, scale int) []byte { return []byte("FAKE") }

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
	if got := string(Place(p.(Raw), picture(), Cells{Cols: 10, Rows: 5}, image.Pt(6, 13))); got != "\x1b[?2026h\x1b7\x1b[1;1HFAKE\x1b8\x1b[?2026l" {
		t.Errorf("Place(fake) = %q", got)
	}

	defer func() {
		if recover() == nil {
			t.Error("registering a taken name did not panic")
		}
	}()
	Register(fake{}, 1)
}
