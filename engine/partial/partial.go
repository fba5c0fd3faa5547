// Package partial reads what a sampler's frame has committed so far and
// judges it against the case's ground truth.
package partial

import (
	"image"
	"image/color"

	"parascope/engine/judge"
	"parascope/engine/sample"
	"parascope/engine/world"
)

// Output is a frame's output as the judge reads it: the reasoning's
// positions up to the end token, each revealed or not, and the picture
// with each patch, in raster order, revealed or not.
type Output struct {
	Words    []string
	Revealed []bool
	Picture  *image.RGBA
	Patches  []bool
}

// Of reads a frame's output.
func Of(f sample.Frame, v sample.Vocabulary, cb sample.ImageTokenizer) (Output, error) {
	var o Output
	mask := int32(v.MaskID())
	for _, id := range f.TextTokens(v) {
		if id != mask && v.IsEnd(int(id)) {
			break
		}
		o.Words = append(o.Words, v.Name(int(id)))
		o.Revealed = append(o.Revealed, id != mask)
	}
	var err error
	if o.Picture, err = f.Picture(v, cb); err != nil {
		return Output{}, err
	}
	o.Patches = make([]bool, v.ImageLen())
	for i := range o.Patches {
		o.Patches[i] = f.RevealedAt[i] != -1
	}
	return o, nil
}

// Committed is what the output has said so far: its whole sentences
// (judge.CommittedText) and its picture with every cell that still has a
// masked patch painted fill (judge.DecidedCells).
func (o Output) Committed(fill color.Color) (string, image.Image) {
	return judge.CommittedText(o.Words, o.Revealed), judge.DecidedCells(o.Picture, o.Patches, fill)
}

// Judge is judge.Partial on what a sampler's frame has committed, against the
// case c. The viewer's live judge lines and ParaRL's oracle reward read
// the same numbers.
func Judge(c world.Case, f sample.Frame, v sample.Vocabulary, cb sample.ImageTokenizer) (judge.Scores, error) {
	o, err := Of(f, v, cb)
	if err != nil {
		return judge.Scores{}, err
	}
	return judge.Partial(c, o.Words, o.Revealed, o.Picture, o.Patches)
}
