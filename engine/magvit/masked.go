package magvit

import (
	"context"
	"image"
	"image/draw"
	"slices"
	"sync"

	"parascope/engine/vq"
	"parascope/engine/world"
)

// DecodeMasked draws a grid in which a negative code is a cell not yet
// revealed: painted world.MaskGrey, or its guess (when guesses holds one)
// dimmed by vq.Dimmed, as every image tokenizer of this project draws it.
// Views call it on every step, so it has two paths:
//
//   - a complete grid (no negative code) is decoded exactly, and the last
//     one is kept, since views redraw a finished picture often;
//   - a partial grid is a preview from the atlas: each cell drawn as its
//     code decoded alone (Tile), with no context from its neighbours and
//     no cost once the codes' tiles are made (DecodePartial is the exact,
//     slow alternative).
func (m *Model) DecodeMasked(codes, guesses []int) (*image.RGBA, error) {
	if err := m.check(codes, true); err != nil {
		return nil, err
	}
	if guesses != nil {
		if err := m.check(guesses, true); err != nil {
			return nil, err
		}
	}
	if !slices.ContainsFunc(codes, func(k int) bool { return k < 0 }) {
		return m.decodeCached(codes)
	}
	return m.Preview(codes, guesses), nil
}

func (m *Model) decodeCached(codes []int) (*image.RGBA, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last.img == nil || !slices.Equal(m.last.codes, codes) {
		img, err := m.Decode(codes)
		if err != nil {
			return nil, err
		}
		m.last = exact{slices.Clone(codes), img}
	}
	out := *m.last.img
	out.Pix = slices.Clone(m.last.img.Pix)
	return &out, nil
}

// cell is the rectangle of grid position i.
func (m *Model) cell(i int) image.Rectangle {
	s, g := m.Config.Scale(), m.Grid()
	return image.Rect(i%g*s, i/g*s, i%g*s+s, i/g*s+s)
}

// Preview draws a partial grid from the atlas: the tile of each shown
// code, guesses dimmed, masked cells grey. Codes and guesses must be in
// range (as DecodeMasked checks); tiles not yet made are made first.
func (m *Model) Preview(codes, guesses []int) *image.RGBA {
	need := make([]int, len(codes))
	for i := range codes {
		need[i], _ = vq.Shown(codes, guesses, i)
	}
	tiles := m.atlas.get(m, need)
	img := image.NewRGBA(image.Rect(0, 0, m.Size, m.Size))
	for i := range codes {
		if need[i] < 0 {
			draw.Draw(img, m.cell(i), image.NewUniform(world.MaskGrey), image.Point{}, draw.Src)
			continue
		}
		draw.Draw(img, m.cell(i), tiles[i], image.Point{}, draw.Src)
		if _, guess := vq.Shown(codes, guesses, i); guess {
			vq.DimCell(img, m.cell(i))
		}
	}
	return img
}

// DecodePartial decodes a partial grid exactly: every cell goes through
// the decoder together, a masked cell as its guess where guesses holds
// one and otherwise as the zero vector (halfway between every code's ±1,
// which the convolutions and group norms still spread into the
// neighbouring revealed cells), and then masked cells are painted as
// DecodeMasked paints them. It costs a full decode.
func (m *Model) DecodePartial(codes, guesses []int) (*image.RGBA, error) {
	if err := m.check(codes, true); err != nil {
		return nil, err
	}
	if guesses != nil {
		if err := m.check(guesses, true); err != nil {
			return nil, err
		}
	}
	in := make([]int, len(codes))
	for i := range codes {
		in[i], _ = vq.Shown(codes, guesses, i)
	}
	g := m.Grid()
	v := m.decode(m.vectors(in, g, g))
	img := Picture(v)
	m.scratch.Put(v)
	for i := range codes {
		switch k, guess := vq.Shown(codes, guesses, i); {
		case k < 0:
			draw.Draw(img, m.cell(i), image.NewUniform(world.MaskGrey), image.Point{}, draw.Src)
		case guess:
			vq.DimCell(img, m.cell(i))
		}
	}
	return img, nil
}

// atlas holds each code decoded alone, made on first use.
type atlas struct {
	mu    sync.Mutex
	tiles []*image.RGBA // by code; nil until made
}

// Tile returns code k decoded alone: a one-cell grid through the whole
// decoder, Scale×Scale pixels.
func (m *Model) Tile(k int) *image.RGBA {
	return m.atlas.get(m, []int{k})[0]
}

// MakeAtlas makes the tile of every code, so that later previews cost
// only drawing: a view can run it in the background while the first
// steps make their own tiles. It stops early when ctx is done.
func (m *Model) MakeAtlas(ctx context.Context) error {
	for lo := 0; lo < m.K(); lo += tileBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := make([]int, min(tileBatch, m.K()-lo))
		for i := range batch {
			batch[i] = lo + i
		}
		m.atlas.get(m, batch)
	}
	return nil
}

// tileBatch is how many tiles are decoded together: enough rows for each
// GEMM at the coarse levels, a few hundred MiB of activations at the
// finest at the official widths.
const tileBatch = 64

// get returns the tiles of the given codes (nil for a negative code),
// making those not made yet in batches of one-cell pictures, which share
// every layer's GEMM. The lock is not held while decoding, so one
// caller's drawing does not wait for another's atlas; two callers may
// make the same tile, and either copy is kept.
func (a *atlas) get(m *Model, codes []int) []*image.RGBA {
	a.mu.Lock()
	var todo []int
	for _, k := range codes {
		if k >= 0 && a.tiles[k] == nil && !slices.Contains(todo, k) {
			todo = append(todo, k)
		}
	}
	a.mu.Unlock()
	for len(todo) > 0 {
		batch := todo[:min(tileBatch, len(todo))]
		todo = todo[len(batch):]
		v := m.decode(m.vectors(batch, 1, 1))
		made := make([]*image.RGBA, len(batch))
		for i := range batch {
			made[i] = Picture(v.Image(i))
		}
		m.scratch.Put(v)
		a.mu.Lock()
		for i, k := range batch {
			a.tiles[k] = made[i]
		}
		a.mu.Unlock()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*image.RGBA, len(codes))
	for i, k := range codes {
		if k >= 0 {
			out[i] = a.tiles[k]
		}
	}
	return out
}
