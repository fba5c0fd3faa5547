package termimg

import (
	"image"
	"slices"

	"parascope/viz"
)

// Sixel draws sixel images. A terminal that draws them lists attribute 4
// in its primary device attributes.
var Sixel Raw = sixel{}

func init() { Register(Sixel, 10) }

type sixel struct{}

func (sixel) Name() string { return "sixel" }

func (sixel) Query() []byte { return []byte("\x1b[c") }

func (sixel) Detect(a Answers) bool { return slices.Contains(a.DA1, 4) }

// Encode needs no clearing, and no slot: every pixel of a sixel picture
// is painted, over what was there.
func (sixel) Encode(img image.Image, scale, _ int) []byte { return viz.Sixel(img, scale) }

// Clear needs nothing: the text written over a sixel picture replaces it.
func (sixel) Clear(int) []byte { return nil }
