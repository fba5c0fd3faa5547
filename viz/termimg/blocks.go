package termimg

import (
	"image"

	"parascope/viz"
)

// Blocks draws a picture as upper half blocks, two pixels a cell, in the
// text: the fallback, which any terminal shows.
var Blocks Text = blocks{}

func init() { Register(Blocks, 0) }

type blocks struct{}

func (blocks) Name() string { return "blocks" }

func (blocks) Query() []byte { return nil }

func (blocks) Detect(Answers) bool { return true }

func (blocks) Lines(img image.Image, cols, rows int, profile viz.ColorProfile) []string {
	return viz.HalfBlocks(img, cols, rows, profile)
}
