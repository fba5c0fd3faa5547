package judge

import (
	"fmt"
	"image"

	"parascope/engine/world"
)

// Pixel labels: a palette colour's index, or one of these.
const (
	labelBackground = uint8(world.NumColours)
	labelOther      = labelBackground + 1
)

// colourTolerance is the largest RGB distance at which a pixel still counts
// as a palette colour: just under half the distance between the closest
// two palette entries (orange and yellow, about 82).
const colourTolerance = 40

// minIoU is the overlap with a shape's template below which a component is
// not recognised as an object at all. Templates of different shapes at the
// same size overlap by at most about 0.8, so the best match decides the
// shape and this only rejects fragments and blobs.
const minIoU = 0.5

// Image is what the judge sees in a picture.
type Image struct {
	Scene world.Scene
	// Quality is the fraction of pixels that agree with a clean rendering
	// of Scene: 1 for a perfect picture; noise, smudges and fragments
	// lower it.
	Quality float64
}

// ParseImage recovers the objects of a ShapeWorld picture: pixels are
// labelled with the nearest palette colour, same-colour 4-connected
// components are matched against the shape templates of the cell they sit
// in, and the best match of each cell is kept.
func ParseImage(img image.Image) (Image, error) {
	b := img.Bounds()
	if b.Dx() != world.Canvas || b.Dy() != world.Canvas {
		return Image{}, fmt.Errorf("image is %d×%d, want %d×%d", b.Dx(), b.Dy(), world.Canvas, world.Canvas)
	}
	labels := labelPixels(img)
	var best [world.NumCells]*candidate
	for _, comp := range components(labels) {
		c := match(comp)
		if c == nil {
			continue
		}
		if cur := best[c.obj.Cell]; cur == nil || c.iou > cur.iou {
			best[c.obj.Cell] = c
		}
	}
	var out Image
	for _, c := range best {
		if c != nil {
			out.Scene.Objects = append(out.Scene.Objects, c.obj)
		}
	}
	clean := labelPixels(world.Render(out.Scene))
	agree := 0
	for i := range labels {
		if labels[i] == clean[i] {
			agree++
		}
	}
	out.Quality = float64(agree) / float64(len(labels))
	return out, nil
}

func labelPixels(img image.Image) []uint8 {
	b := img.Bounds()
	labels := make([]uint8, world.Canvas*world.Canvas)
	for y := range world.Canvas {
		for x := range world.Canvas {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			labels[y*world.Canvas+x] = nearestLabel(int(r>>8), int(g>>8), int(bl>>8))
		}
	}
	return labels
}

func nearestLabel(r, g, b int) uint8 {
	best, bestD := labelOther, colourTolerance*colourTolerance+1
	try := func(l uint8, c [3]uint8) {
		dr, dg, db := r-int(c[0]), g-int(c[1]), b-int(c[2])
		if d := dr*dr + dg*dg + db*db; d < bestD {
			best, bestD = l, d
		}
	}
	try(labelBackground, [3]uint8{world.Background.R, world.Background.G, world.Background.B})
	for i, c := range world.Palette {
		try(uint8(i), [3]uint8{c.R, c.G, c.B})
	}
	return best
}

// component is a 4-connected region of one palette colour.
type component struct {
	colour world.Colour
	pixels []int // y*Canvas+x
}

func components(labels []uint8) []component {
	seen := make([]bool, len(labels))
	var out []component
	var stack []int
	for start, l := range labels {
		if seen[start] || l >= labelBackground {
			continue
		}
		comp := component{colour: world.Colour(l)}
		stack = append(stack[:0], start)
		seen[start] = true
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			comp.pixels = append(comp.pixels, p)
			x, y := p%world.Canvas, p/world.Canvas
			for _, q := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if q[0] < 0 || q[1] < 0 || q[0] >= world.Canvas || q[1] >= world.Canvas {
					continue
				}
				n := q[1]*world.Canvas + q[0]
				if !seen[n] && labels[n] == l {
					seen[n] = true
					stack = append(stack, n)
				}
			}
		}
		out = append(out, comp)
	}
	return out
}

type candidate struct {
	obj world.Object
	iou float64
}

// match finds the shape template that best overlaps a component, in the
// cell that holds the centre of the component's bounding box.
func match(comp component) *candidate {
	x0, y0, x1, y1 := world.Canvas, world.Canvas, -1, -1
	for _, p := range comp.pixels {
		x, y := p%world.Canvas, p/world.Canvas
		x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
	}
	cell := world.Cell(((y0+y1)/2/world.CellPx)*world.GridN + (x0+x1)/2/world.CellPx)
	cx, cy := cell.Col()*world.CellPx, cell.Row()*world.CellPx
	var best *candidate
	for shape := range world.Shape(world.NumShapes) {
		for size := range world.Size(world.NumSizes) {
			inter := 0
			for _, p := range comp.pixels {
				x, y := p%world.Canvas-cx, p/world.Canvas-cy
				if x >= 0 && y >= 0 && x < world.CellPx && y < world.CellPx && world.Covers(shape, size, x, y) {
					inter++
				}
			}
			iou := float64(inter) / float64(len(comp.pixels)+templateArea[shape][size]-inter)
			if iou >= minIoU && (best == nil || iou > best.iou) {
				best = &candidate{world.Object{Shape: shape, Colour: comp.colour, Size: size, Cell: cell}, iou}
			}
		}
	}
	return best
}

var templateArea = func() (area [world.NumShapes][world.NumSizes]int) {
	for shape := range world.Shape(world.NumShapes) {
		for size := range world.Size(world.NumSizes) {
			for y := range world.CellPx {
				for x := range world.CellPx {
					if world.Covers(shape, size, x, y) {
						area[shape][size]++
					}
				}
			}
		}
	}
	return area
}()
