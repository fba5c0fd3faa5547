package vqgan

import (
	"image"
	"os"
	"strings"
	"testing"

	"parascope/engine/imgtok"
	"parascope/engine/imgtok/imgtoktest"
	"parascope/engine/vq"
	"parascope/engine/world"
)

func sameCell(t *testing.T, what string, got, want *image.RGBA, cell, from image.Rectangle, dimmed bool) {
	t.Helper()
	for y := range cell.Dy() {
		for x := range cell.Dx() {
			w := want.RGBAAt(from.Min.X+x, from.Min.Y+y)
			if dimmed {
				w = vq.Dimmed(w)
			}
			if g := got.RGBAAt(cell.Min.X+x, cell.Min.Y+y); g != w {
				t.Fatalf("%s: pixel (%d,%d) of the cell is %v, want %v", what, x, y, g, w)
			}
		}
	}
}

func TestDecodeMasked(t *testing.T) {
	m := open(t, 64) // a 4×4 grid
	codes := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	full, err := m.Decode(codes)
	if err != nil {
		t.Fatal(err)
	}
	// A complete grid is decoded exactly.
	got, err := m.DecodeMasked(codes, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Pix) != string(full.Pix) {
		t.Error("a complete grid's DecodeMasked differs from Decode")
	}
	// A partial one is drawn from the atlas: revealed cells as their
	// tiles, guesses dimmed, the rest grey.
	partial := append([]int(nil), codes...)
	partial[5], partial[6] = -1, -1
	guesses := make([]int, 16)
	for i := range guesses {
		guesses[i] = -1
	}
	guesses[6] = 300
	got, err = m.DecodeMasked(partial, guesses)
	if err != nil {
		t.Fatal(err)
	}
	cell := func(i int) image.Rectangle { return image.Rect(i%4*16, i/4*16, i%4*16+16, i/4*16+16) }
	sameCell(t, "revealed cell 0", got, m.Tile(1), cell(0), image.Rect(0, 0, 16, 16), false)
	sameCell(t, "guessed cell 6", got, m.Tile(300), cell(6), image.Rect(0, 0, 16, 16), true)
	if c := got.RGBAAt(5*16%64+3, 16+3); c != world.MaskGrey {
		t.Errorf("masked cell 5 is %v, want the mask grey", c)
	}
	// A tile made in a batch is its code decoded alone.
	m.Preview([]int{3, 7, 300, 9, 1, 2, 3, 4, 5, 6, 8, 10, 11, 12, 13, 14}, nil)
	alone := Picture(m.decode(m.codebook.Lookup([]int{7}, 1, 1)))
	if string(m.Tile(7).Pix) != string(alone.Pix) {
		t.Error("the tile of code 7, made in a batch, differs from code 7 decoded alone")
	}
	// The exact partial decode paints the same masks over a decode.
	exact, err := m.DecodePartial(partial, guesses)
	if err != nil {
		t.Fatal(err)
	}
	if c := exact.RGBAAt(cell(5).Min.X, cell(5).Min.Y); c != world.MaskGrey {
		t.Errorf("exact: masked cell 5 is %v, want the mask grey", c)
	}
	for _, tc := range []struct {
		codes, guesses []int
		want           string
	}{
		{codes[:15], nil, "15 codes, want 16"},
		{append(codes[:15:15], 512), nil, "code 512 at position 15 outside 0..511"},
		{partial, guesses[:3], "3 codes, want 16"},
	} {
		if _, err := m.DecodeMasked(tc.codes, tc.guesses); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeMasked: error %v, want %q", err, tc.want)
		}
	}
	if _, err := m.Decode(partial); err == nil || !strings.Contains(err.Error(), "code -1 at position 5") {
		t.Errorf("Decode of a partial grid: error %v", err)
	}
}

// TestPreviewAgainstExact compares the atlas preview of a complete 512×512
// grid with its exact decode (PSNR), for the README.
func TestPreviewAgainstExact(t *testing.T) {
	if testing.Short() {
		t.Skip("a 512×512 encode and decode")
	}
	m := open(t, 512)
	img := imgtoktest.ReadPNG(t, "pic512")
	codes, err := m.Encode(img)
	if err != nil {
		t.Fatal(err)
	}
	exact, err := m.Decode(codes)
	if err != nil {
		t.Fatal(err)
	}
	preview := m.Preview(codes, nil)
	t.Logf("preview against exact decode: PSNR %.1f dB; exact decode against the picture: %.1f dB",
		vq.PSNR(exact, preview), vq.PSNR(img, exact))
}

// BenchmarkPreview is one step's picture in the viewer at 512×512: half the
// 32×32 grid revealed, a guess in every other cell, tiles already made.
func BenchmarkPreview(b *testing.B) {
	m := open(b, 512)
	n := m.Grid() * m.Grid()
	codes, guesses := make([]int, n), make([]int, n)
	for i := range codes {
		codes[i], guesses[i] = (i*37)%m.K(), (i*53)%m.K()
		if i%2 == 1 {
			codes[i] = -1
		}
	}
	if _, err := m.DecodeMasked(codes, guesses); err != nil { // makes the tiles
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := m.DecodeMasked(codes, guesses); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/step")
}

// BenchmarkTiles makes atlas tiles (codes decoded alone), a batch at a
// time, with the folder PARASCOPE_VQGAN_DIR names: the cost a code's first
// preview adds.
func BenchmarkTiles(b *testing.B) {
	dir := os.Getenv("PARASCOPE_VQGAN_DIR")
	if dir == "" {
		b.Skip("PARASCOPE_VQGAN_DIR names no VQModel folder")
	}
	m, err := Open(dir, 512)
	if err != nil {
		b.Fatal(err)
	}
	next := 0
	for b.Loop() {
		codes := make([]int, imgtok.TileBatch)
		for i := range codes {
			codes[i] = next % m.K()
			next++
		}
		m.Tiles(codes)
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(next), "ms/tile")
}
