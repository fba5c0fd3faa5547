package viz

import (
	"fmt"
	"image/color"
	"testing"

	"parascope/engine/world"
)

// TestWorldANSIDistinct: in 16 colours every ShapeWorld colour, the
// canvas and the mask grey show as different basic colours, and as the
// ones a reader would name them by.
func TestWorldANSIDistinct(t *testing.T) {
	want := map[string]uint8{
		"red": 9, "orange": 3, "yellow": 11, "green": 2, "cyan": 6,
		"blue": 12, "purple": 5, "pink": 13, "brown": 1, "white": 7,
	}
	seen := map[uint8]string{ansiIndex(world.Background): "canvas"}
	if got := ansiIndex(world.MaskGrey); got != 8 {
		t.Errorf("mask grey: %d, want 8 (grey)", got)
	}
	if seen[ansiIndex(world.MaskGrey)] != "" {
		t.Errorf("mask grey shares %d with the canvas", ansiIndex(world.MaskGrey))
	}
	seen[ansiIndex(world.MaskGrey)] = "mask"
	if got := ansiIndex(world.Background); got != 0 {
		t.Errorf("canvas: %d, want 0 (black)", got)
	}
	for i, c := range world.Palette {
		name := world.Colour(i).String()
		got := ansiIndex(c)
		if other, ok := seen[got]; ok {
			t.Errorf("%s and %s both show as %d", name, other, got)
		}
		seen[got] = name
		if got != want[name] {
			t.Errorf("%s: %d, want %d", name, got, want[name])
		}
	}
}

// TestANSINearest: colours outside ShapeWorld's take the nearest basic
// colour in OKLab; greys stay grey.
func TestANSINearest(t *testing.T) {
	for _, tc := range []struct {
		c    color.RGBA
		want uint8
	}{
		{color.RGBA{0, 0, 0, 255}, 0}, {color.RGBA{255, 255, 255, 255}, 15},
		{color.RGBA{120, 120, 120, 255}, 8}, {color.RGBA{200, 200, 200, 255}, 7},
		{color.RGBA{200, 10, 10, 255}, 1}, {color.RGBA{10, 10, 230, 255}, 4},
		{color.RGBA{250, 250, 10, 255}, 11},
	} {
		if got := ansiIndex(tc.c); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.c, got, tc.want)
		}
	}
	for v := 0; v < 256; v += 5 {
		grey := color.RGBA{uint8(v), uint8(v), uint8(v), 255}
		if got := ansiIndex(grey); got != 0 && got != 7 && got != 8 && got != 15 {
			t.Errorf("grey %d shows as colour %d", v, got)
		}
	}
}

func ExampleANSIColour() {
	fmt.Println(ANSIColour(1), ANSIColour(12))
	// Output: {205 0 0 255} {92 92 255 255}
}
