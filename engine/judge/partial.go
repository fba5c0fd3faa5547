package judge

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

	"parascope/engine/world"
)

// Partial judges what a step of a run has committed, exactly as Score
// judges a final output:
//   - the text is the sentences whose every word is revealed, up to and
//     with their full stop; a sentence with a masked word is not said yet;
//   - the picture keeps the cells whose patches are all revealed (decided)
//     and leaves the others blank.
//
// words are the reasoning's positions up to the end token, revealed[i]
// saying whether words[i] is; patches says, patch by patch in row-major
// order, whether img's patch is revealed. At the last step, with every
// position revealed, Partial is Score.
func Partial(c world.Case, words []string, revealed []bool, img image.Image, patches []bool) (Scores, error) {
	if len(revealed) != len(words) {
		return Scores{}, fmt.Errorf("partial judge: %d words, %d revealed flags", len(words), len(revealed))
	}
	return Score(c, CommittedText(words, revealed), DecidedCells(img, patches, world.Background))
}

// CommittedText is the sentences of words that are fully revealed.
func CommittedText(words []string, revealed []bool) string {
	text, start, whole := "", 0, true
	for i, w := range words {
		whole = whole && revealed[i]
		if w != "." || !revealed[i] {
			continue
		}
		if whole {
			for _, s := range words[start : i+1] {
				if text != "" {
					text += " "
				}
				text += s
			}
		}
		start, whole = i+1, true
	}
	return text
}

// DecidedCells is img with every cell that has a masked patch painted
// over with fill: the judge blanks them (background), a scorer shows them
// still masked (world.MaskGrey).
func DecidedCells(img image.Image, patches []bool, fill color.Color) image.Image {
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	perRow := world.Canvas / world.PatchPx
	if len(patches) != perRow*perRow {
		return out // not a ShapeWorld picture: Score refuses its size
	}
	for cy := range world.GridN {
		for cx := range world.GridN {
			decided := true
			for p := range len(patches) {
				px, py := p%perRow*world.PatchPx, p/perRow*world.PatchPx
				if px/world.CellPx == cx && py/world.CellPx == cy {
					decided = decided && patches[p]
				}
			}
			if !decided {
				cell := image.Rect(cx*world.CellPx, cy*world.CellPx, (cx+1)*world.CellPx, (cy+1)*world.CellPx)
				draw.Draw(out, cell.Add(out.Bounds().Min), image.NewUniform(fill), image.Point{}, draw.Src)
			}
		}
	}
	return out
}
