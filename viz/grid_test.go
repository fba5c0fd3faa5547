package viz

import (
	"image"
	"image/color"
	"testing"
)

func TestGridScalesAndPlaces(t *testing.T) {
	a := image.NewRGBA(image.Rect(0, 0, 2, 1))
	a.Set(0, 0, color.RGBA{255, 0, 0, 255})
	a.Set(1, 0, color.RGBA{0, 0, 255, 255})
	paper := color.RGBA{9, 9, 9, 255}
	g := Grid([]image.Image{a, nil, a}, 2, 3, 1, paper)
	// two columns of 6×3 cells with 1px gaps: 1+2*(6+1) by 1+2*(3+1)
	if g.Bounds().Dx() != 15 || g.Bounds().Dy() != 9 {
		t.Fatalf("size %v", g.Bounds())
	}
	checks := []struct {
		x, y int
		want color.RGBA
	}{
		{0, 0, paper},                      // gap
		{1, 1, color.RGBA{255, 0, 0, 255}}, // first cell, left pixel
		{3, 3, color.RGBA{255, 0, 0, 255}}, // still inside its 3×3 block
		{4, 1, color.RGBA{0, 0, 255, 255}}, // right pixel
		{9, 2, paper},                      // nil cell stays blank
		{1, 5, color.RGBA{255, 0, 0, 255}}, // third image, second row
		{6, 7, color.RGBA{0, 0, 255, 255}},
	}
	for _, c := range checks {
		if got := g.RGBAAt(c.x, c.y); got != c.want {
			t.Errorf("(%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}
