package imgtok

import (
	"context"
	"image"
	"image/color"
	"strings"
	"sync"
	"testing"

	"parascope/engine/conv"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// flat is a tokenizer whose code k decodes to a cell of grey k wherever
// it stands; it counts the codes it decodes.
type flat struct {
	mu      sync.Mutex
	decoded int
}

func (*flat) K() int     { return 200 }
func (*flat) Grid() int  { return 3 }
func (*flat) Scale() int { return 2 }

func (f *flat) DecodeGrids(codes []int, h, w int) []*image.RGBA {
	f.mu.Lock()
	f.decoded += len(codes)
	f.mu.Unlock()
	out := make([]*image.RGBA, len(codes)/(h*w))
	for n := range out {
		img := image.NewRGBA(image.Rect(0, 0, w*2, h*2))
		for i, k := range codes[n*h*w : (n+1)*h*w] {
			r := image.Rect(i%w*2, i/w*2, i%w*2+2, i/w*2+2)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					img.SetRGBA(x, y, color.RGBA{uint8(max(k, 0)), uint8(max(k, 0)), uint8(max(k, 0)), 255})
				}
			}
		}
		out[n] = img
	}
	return out
}

func TestDrawer(t *testing.T) {
	f := &flat{}
	d := NewDrawer("flat", f)
	codes := []int{1, 2, 3, 4, 5, 6, 7, 8, 9}
	got, err := d.DecodeMasked(codes, nil)
	if err != nil {
		t.Fatal(err)
	}
	got.Pix[0] = 99 // the kept picture is the Drawer's, not the caller's
	if again, _ := d.DecodeMasked(codes, nil); again.Pix[0] != 1 || f.decoded != 9 {
		t.Errorf("the last complete grid is not kept: pixel %d, %d codes decoded", again.Pix[0], f.decoded)
	}
	partial := []int{1, -1, 3, -1, 5, 6, 7, 8, 9}
	guesses := []int{-1, 150, -1, -1, -1, -1, -1, -1, -1}
	for _, draw := range []func([]int, []int) (*image.RGBA, error){d.DecodeMasked, d.DecodePartial} {
		img, err := draw(partial, guesses)
		if err != nil {
			t.Fatal(err)
		}
		at := func(i int) color.RGBA { c := Cell(f, i); return img.RGBAAt(c.Min.X+1, c.Max.Y-1) }
		if at(0) != (color.RGBA{1, 1, 1, 255}) || at(3) != world.MaskGrey || at(1) != vq.Dimmed(color.RGBA{150, 150, 150, 255}) {
			t.Errorf("cells drawn %v %v %v", at(0), at(3), at(1))
		}
	}
	for _, tc := range []struct {
		codes, guesses []int
		want           string
	}{
		{codes[:8], nil, "flat: 8 codes, want 9 (a 3×3 grid for 6-pixel pictures)"},
		{append(codes[:8:8], 200), nil, "flat: code 200 at position 8 outside 0..199"},
		{partial, guesses[:2], "flat: 2 codes, want 9"},
	} {
		if _, err := d.DecodeMasked(tc.codes, tc.guesses); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	if _, err := d.Decode(partial); err == nil || !strings.Contains(err.Error(), "code -1 at position 1") {
		t.Errorf("a partial grid's exact decode: error %v", err)
	}
}

// MakeAtlas stops when its context is done, and otherwise makes every
// tile, so that a preview decodes nothing more.
func TestMakeAtlas(t *testing.T) {
	f := &flat{}
	d := NewDrawer("flat", f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.MakeAtlas(ctx); err != context.Canceled || f.decoded != 0 {
		t.Errorf("a cancelled MakeAtlas returned %v after %d codes", err, f.decoded)
	}
	if err := d.MakeAtlas(context.Background()); err != nil || f.decoded != f.K() {
		t.Fatalf("MakeAtlas returned %v after %d codes", err, f.decoded)
	}
	d.Preview([]int{0, 50, 199, -1, 7, 7, 8, 9, 10}, nil)
	if f.decoded != f.K() {
		t.Errorf("a preview after MakeAtlas decoded %d more codes", f.decoded-f.K())
	}
	if tile := d.Tile(42); tile.Bounds() != image.Rect(0, 0, 2, 2) || tile.Pix[0] != 42 {
		t.Errorf("tile 42 is %v, first byte %d", tile.Bounds(), tile.Pix[0])
	}
}

func TestValuesPicture(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	copy(img.Pix, []uint8{0, 51, 255, 255})
	v := Values(img, 0.5, 0.5)
	if v.Data[0] != -1 || v.Data[2] != 1 {
		t.Errorf("values %v", v.Data)
	}
	x := conv.New(1, 1, 3)
	copy(x.Data, []float32{-2, 0.5, 7})
	p := Picture(x, -1, 1, func(v float32) uint8 { return uint8(v) })
	if p.Pix[0] != 0 || p.Pix[1] != 191 || p.Pix[2] != 255 || p.Pix[3] != 255 {
		t.Errorf("pixels %v", p.Pix)
	}
}
