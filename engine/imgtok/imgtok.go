// Package imgtok is what the project's convolutional image tokenizers
// (engine/vqgan, engine/magvit) share around their networks: checking
// grids of codes, drawing grids in progress (masked cells grey, guesses
// dimmed, an atlas of codes decoded alone, the last complete grid kept),
// turning tensors into pictures and back, and reading layers out of a
// weights file by their PyTorch names (Layers). Each model keeps what
// differs: how codes become a latent, how its decoder runs, and its
// pre- and post-processing constants.
package imgtok

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	"slices"
	"sync"

	"parascope/engine/vq"
	"parascope/engine/world"
)

// Tokenizer is what Drawer needs of a model.
type Tokenizer interface {
	K() int     // the number of codes
	Grid() int  // the side of the code grid
	Scale() int // the side of a code's cell in pixels
	// DecodeGrids decodes len(codes)/(h*w) grids of h×w codes, one
	// picture each, a negative code as the zero vector (no code at all).
	DecodeGrids(codes []int, h, w int) []*image.RGBA
}

// Check refuses a grid of the wrong length or with codes out of range;
// masked allows negative codes. Errors start with name.
func Check(name string, t Tokenizer, codes []int, masked bool) error {
	g := t.Grid()
	if len(codes) != g*g {
		return fmt.Errorf("%s: %d codes, want %d (a %d×%d grid for %d-pixel pictures)", name, len(codes), g*g, g, g, g*t.Scale())
	}
	for i, k := range codes {
		if k >= t.K() || (k < 0 && !masked) {
			return fmt.Errorf("%s: code %d at position %d outside 0..%d", name, k, i, t.K()-1)
		}
	}
	return nil
}

// Drawer draws a tokenizer's grids, complete or in progress. A model
// embeds one, made by NewDrawer, for its Decode, DecodeMasked,
// DecodePartial, Preview, Tile and MakeAtlas. It is safe for concurrent
// use.
type Drawer struct {
	name string
	t    Tokenizer

	mu   sync.Mutex // guards last
	last exact      // the last complete grid decoded, which views redraw often

	atlasMu sync.Mutex    // guards tiles
	tiles   []*image.RGBA // each code decoded alone, by code; nil until made
}

type exact struct {
	codes []int
	img   *image.RGBA
}

// NewDrawer returns an empty Drawer for t; errors start with name.
func NewDrawer(name string, t Tokenizer) *Drawer {
	return &Drawer{name: name, t: t, tiles: make([]*image.RGBA, t.K())}
}

// Decode draws the picture a complete grid of codes stands for, exactly
// as the model's official post-processing does.
func (d *Drawer) Decode(codes []int) (*image.RGBA, error) {
	if err := Check(d.name, d.t, codes, false); err != nil {
		return nil, err
	}
	g := d.t.Grid()
	return d.t.DecodeGrids(codes, g, g)[0], nil
}

// DecodeMasked draws a grid in which a negative code is a cell not yet
// revealed: painted world.MaskGrey, or its guess (when guesses holds one)
// dimmed by vq.Dimmed. Views call it on every step, so it has two paths:
//
//   - a complete grid (no negative code) is decoded exactly, and the last
//     one is kept, since views redraw a finished picture often;
//   - a partial grid is a preview from the atlas: each cell drawn as its
//     code decoded alone (Tile), with no context from its neighbours and
//     no cost once the codes' tiles are made (DecodePartial is the exact,
//     slow alternative).
func (d *Drawer) DecodeMasked(codes, guesses []int) (*image.RGBA, error) {
	if err := d.check(codes, guesses); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(codes, func(k int) bool { return k < 0 }) {
		return d.decodeCached(codes)
	}
	return d.Preview(codes, guesses), nil
}

func (d *Drawer) check(codes, guesses []int) error {
	if err := Check(d.name, d.t, codes, true); err != nil {
		return err
	}
	if guesses != nil {
		return Check(d.name, d.t, guesses, true)
	}
	return nil
}

func (d *Drawer) decodeCached(codes []int) (*image.RGBA, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.last.img == nil || !slices.Equal(d.last.codes, codes) {
		img, err := d.Decode(codes)
		if err != nil {
			return nil, err
		}
		d.last = exact{slices.Clone(codes), img}
	}
	out := *d.last.img
	out.Pix = slices.Clone(d.last.img.Pix)
	return &out, nil
}

// Cell is the rectangle of grid position i in t's pictures.
func Cell(t Tokenizer, i int) image.Rectangle {
	s, g := t.Scale(), t.Grid()
	return image.Rect(i%g*s, i/g*s, i%g*s+s, i/g*s+s)
}

// Preview draws a partial grid from the atlas: the tile of each shown
// code, guesses dimmed, masked cells grey. Codes and guesses must be in
// range (as DecodeMasked checks); tiles not yet made are made first.
func (d *Drawer) Preview(codes, guesses []int) *image.RGBA {
	need := make([]int, len(codes))
	for i := range codes {
		need[i], _ = vq.Shown(codes, guesses, i)
	}
	tiles := d.Tiles(need)
	size := d.t.Grid() * d.t.Scale()
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := range codes {
		cell := Cell(d.t, i)
		if need[i] < 0 {
			draw.Draw(img, cell, image.NewUniform(world.MaskGrey), image.Point{}, draw.Src)
			continue
		}
		draw.Draw(img, cell, tiles[i], image.Point{}, draw.Src)
		if _, guess := vq.Shown(codes, guesses, i); guess {
			vq.DimCell(img, cell)
		}
	}
	return img
}

// DecodePartial decodes a partial grid exactly: every cell goes through
// the decoder together, a masked cell as its guess where guesses holds
// one and otherwise as the zero vector (no code: the decoder's neutral
// input, which the convolutions and group norms still spread into the
// neighbouring revealed cells), and then masked cells are painted as
// DecodeMasked paints them. It costs a full decode.
func (d *Drawer) DecodePartial(codes, guesses []int) (*image.RGBA, error) {
	if err := d.check(codes, guesses); err != nil {
		return nil, err
	}
	in := make([]int, len(codes))
	for i := range codes {
		in[i], _ = vq.Shown(codes, guesses, i)
	}
	g := d.t.Grid()
	img := d.t.DecodeGrids(in, g, g)[0]
	for i := range codes {
		switch k, guess := vq.Shown(codes, guesses, i); {
		case k < 0:
			draw.Draw(img, Cell(d.t, i), image.NewUniform(world.MaskGrey), image.Point{}, draw.Src)
		case guess:
			vq.DimCell(img, Cell(d.t, i))
		}
	}
	return img, nil
}

// Tile returns code k decoded alone: a one-cell grid through the whole
// decoder, Scale×Scale pixels.
func (d *Drawer) Tile(k int) *image.RGBA {
	return d.Tiles([]int{k})[0]
}

// MakeAtlas makes the tile of every code, so that later previews cost
// only drawing: a view can run it in the background while the first
// steps make their own tiles. It stops early when ctx is done.
func (d *Drawer) MakeAtlas(ctx context.Context) error {
	for lo := 0; lo < d.t.K(); lo += TileBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := make([]int, min(TileBatch, d.t.K()-lo))
		for i := range batch {
			batch[i] = lo + i
		}
		d.Tiles(batch)
	}
	return nil
}

// TileBatch is how many tiles are decoded together: each is its own
// one-cell picture, but the batch shares every layer's GEMM, whose
// packing of the weights is most of a lone cell's cost. Past 64 the GEMMs
// gain little and the batch's activations grow (a few hundred MiB at the
// finest level at MAGVIT-v2's official widths).
const TileBatch = 64

// Tiles returns the tiles of the given codes (nil for a negative code),
// making those not made yet, TileBatch at a time. The lock is not held
// while decoding, so one caller's drawing does not wait for another's
// atlas; two callers may make the same tile, and either copy is kept.
func (d *Drawer) Tiles(codes []int) []*image.RGBA {
	d.atlasMu.Lock()
	var todo []int
	for _, k := range codes {
		if k >= 0 && d.tiles[k] == nil && !slices.Contains(todo, k) {
			todo = append(todo, k)
		}
	}
	d.atlasMu.Unlock()
	for len(todo) > 0 {
		batch := todo[:min(TileBatch, len(todo))]
		todo = todo[len(batch):]
		made := d.t.DecodeGrids(batch, 1, 1)
		d.atlasMu.Lock()
		for i, k := range batch {
			d.tiles[k] = made[i]
		}
		d.atlasMu.Unlock()
	}
	d.atlasMu.Lock()
	defer d.atlasMu.Unlock()
	out := make([]*image.RGBA, len(codes))
	for i, k := range codes {
		if k >= 0 {
			out[i] = d.tiles[k]
		}
	}
	return out
}
