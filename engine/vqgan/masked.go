package vqgan

import (
	"image"
	"image/draw"
	"slices"
	"sync"

	"parascope/engine/vq"
	"parascope/engine/world"
)

// DecodeMasked draws a grid in which a negative code is a cell not yet
// revealed: painted world.MaskGrey, or its guess (when guesses holds one)
// dimmed by vq.Dimmed. It is what views call on every step, so it has two
// paths:
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
	return clone(m.last.img), nil
}

func clone(img *image.RGBA) *image.RGBA {
	out := *img
	out.Pix = slices.Clone(img.Pix)
	return &out
}

// Preview draws a partial grid from the atlas: the tile of each shown
// code, guesses dimmed, masked cells grey. Codes and guesses must be in
// range (as DecodeMasked checks); tiles not yet made are made first.
func (m *Model) Preview(codes, guesses []int) *image.RGBA {
	var need []int
	for i := range codes {
		if k, _ := vq.Shown(codes, guesses, i); k >= 0 {
			need = append(need, k)
		}
	}
	m.atlas.fill(m, need)
	s, g := m.Config.Scale(), m.Grid()
	img := image.NewRGBA(image.Rect(0, 0, m.Size, m.Size))
	for i := range codes {
		cell := image.Rect(i%g*s, i/g*s, i%g*s+s, i/g*s+s)
		k, guess := vq.Shown(codes, guesses, i)
		if k < 0 {
			draw.Draw(img, cell, image.NewUniform(world.MaskGrey), image.Point{}, draw.Src)
			continue
		}
		draw.Draw(img, cell, m.atlas.tiles[k], image.Point{}, draw.Src)
		if guess {
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
func (m *Model) DecodePartial(codes, guesses []int) (*image.RGBA, error) {
	if err := m.check(codes, true); err != nil {
		return nil, err
	}
	if guesses != nil {
		if err := m.check(guesses, true); err != nil {
			return nil, err
		}
	}
	g, d := m.Grid(), m.Config.EmbedDim
	q := m.codebook.Lookup(make([]int, g*g), g, g)
	for i := range codes {
		row := q.Data[i*d : (i+1)*d]
		if k, _ := vq.Shown(codes, guesses, i); k >= 0 {
			copy(row, m.codebook.E[k*d:(k+1)*d])
		} else {
			clear(row)
		}
	}
	v := m.decode(q)
	img := Picture(v)
	m.scratch.Put(v)
	s := m.Config.Scale()
	for i := range codes {
		cell := image.Rect(i%g*s, i/g*s, i%g*s+s, i/g*s+s)
		switch k, guess := vq.Shown(codes, guesses, i); {
		case k < 0:
			draw.Draw(img, cell, image.NewUniform(world.MaskGrey), image.Point{}, draw.Src)
		case guess:
			vq.DimCell(img, cell)
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
	m.atlas.fill(m, []int{k})
	return m.atlas.tiles[k]
}

// fill makes the tiles of the given codes that are not made yet, a batch
// of codes at a time: each is its own one-cell picture, but the batch
// shares every layer's GEMM, whose packing of the weights is most of a
// lone cell's cost.
func (a *atlas) fill(m *Model, codes []int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var todo []int
	seen := map[int]bool{}
	for _, k := range codes {
		if a.tiles[k] == nil && !seen[k] {
			todo = append(todo, k)
			seen[k] = true
		}
	}
	for len(todo) > 0 {
		batch := todo[:min(tileBatch, len(todo))]
		todo = todo[len(batch):]
		v := m.decode(m.codebook.Lookup(batch, 1, 1))
		for i, k := range batch {
			a.tiles[k] = Picture(v.Image(i))
		}
		m.scratch.Put(v)
	}
}

// tileBatch is how many tiles are decoded together: past 64 the GEMMs
// gain little and the batch's activations (16×16 pixels of 128 to 768
// channels each) grow.
const tileBatch = 64
