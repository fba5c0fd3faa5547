package world

import (
	"fmt"
	"image"
	"image/color"
	"slices"
)

// Geometry of the canvas. A 48×48 canvas on a 3×3 grid of 16-pixel cells
// gives nine positions, and 8×8 patches give 36 image tokens per picture:
// short enough for a small model to train on two CPU cores, rich enough to
// watch. Every object sits centred in its own cell, so each 8×8 patch holds
// a quarter of at most one object and the patch alphabet stays small.
const (
	Canvas  = 48
	GridN   = 3
	CellPx  = Canvas / GridN
	PatchPx = 8
)

// sizePx is the side of each size's bounding box in pixels.
var sizePx = [NumSizes]int{8, 14}

// Palette holds the RGB of each colour; Background is the canvas colour.
var (
	Palette = [NumColours]color.RGBA{
		{220, 40, 40, 255},   // red
		{245, 140, 20, 255},  // orange
		{245, 220, 40, 255},  // yellow
		{50, 170, 60, 255},   // green
		{40, 200, 210, 255},  // cyan
		{40, 80, 220, 255},   // blue
		{140, 60, 200, 255},  // purple
		{245, 130, 190, 255}, // pink
		{130, 80, 40, 255},   // brown
		{240, 240, 240, 255}, // white
	}
	Background = color.RGBA{20, 22, 30, 255}
	// MaskGrey is how a masked patch is shown: not the background, not a
	// palette colour.
	MaskGrey = color.RGBA{110, 110, 118, 255}
)

// Object is one shape on the grid.
type Object struct {
	Shape  Shape  `json:"shape"`
	Colour Colour `json:"colour"`
	Size   Size   `json:"size"`
	Cell   Cell   `json:"cell"`
}

// Scene is a set of objects, at most one per cell, kept in cell order.
type Scene struct {
	Objects []Object `json:"objects"`
}

// At returns the object in cell c.
func (s Scene) At(c Cell) (Object, bool) {
	for _, o := range s.Objects {
		if o.Cell == c {
			return o, true
		}
	}
	return Object{}, false
}

// Validate reports a scene that breaks the world's rules.
func (s Scene) Validate() error {
	var used [NumCells]bool
	for i, o := range s.Objects {
		switch {
		case int(o.Shape) >= NumShapes, int(o.Colour) >= NumColours, int(o.Size) >= NumSizes, int(o.Cell) >= NumCells:
			return fmt.Errorf("object %d: attribute out of range", i)
		case used[o.Cell]:
			return fmt.Errorf("object %d: cell %q holds two objects", i, o.Cell)
		}
		used[o.Cell] = true
	}
	return nil
}

// Equal reports whether two scenes hold the same objects.
func (s Scene) Equal(t Scene) bool {
	return slices.Equal(s.sorted().Objects, t.sorted().Objects)
}

func (s Scene) sorted() Scene {
	objs := slices.Clone(s.Objects)
	slices.SortFunc(objs, func(a, b Object) int { return int(a.Cell) - int(b.Cell) })
	return Scene{Objects: objs}
}

// Covers reports whether the pixel at (x, y) of a cell, in cell-local
// coordinates, belongs to a shape of the given size. All shapes are
// centred in the cell and symmetric left to right.
func Covers(shape Shape, size Size, x, y int) bool {
	h := float64(sizePx[size]) / 2
	u := float64(x) + 0.5 - CellPx/2
	v := float64(y) + 0.5 - CellPx/2
	if u < -h || u > h || v < -h || v > h {
		return false
	}
	switch shape {
	case Circle:
		return u*u+v*v <= h*h
	case Square:
		return true
	case Triangle:
		return abs(u) <= (v+h)/2+0.25
	case Diamond:
		return abs(u)+abs(v) <= h+0.01
	}
	return false
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// Render draws the scene on a fresh canvas. It is deterministic: the same
// scene always gives the same pixels.
func Render(s Scene) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, Canvas, Canvas))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = Background.R, Background.G, Background.B, 255
	}
	for _, o := range s.Objects {
		x0, y0 := o.Cell.Col()*CellPx, o.Cell.Row()*CellPx
		for y := range CellPx {
			for x := range CellPx {
				if Covers(o.Shape, o.Size, x, y) {
					img.SetRGBA(x0+x, y0+y, Palette[o.Colour])
				}
			}
		}
	}
	return img
}
