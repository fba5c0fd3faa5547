package clip

import (
	"fmt"
	"image"

	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/world"
)

// PairOf turns an output picture, the input picture it was edited from
// (nil for a generation) and a text into the towers' input. Masked
// positions of partial outputs are given as grey patches in the picture
// and left out of the text.
func PairOf(out, in image.Image, text string, v sample.TextTokenizer) (Pair, error) {
	pic, err := PictureOf(out, in)
	if err != nil {
		return Pair{}, err
	}
	ids, err := TextIDs(text, v)
	if err != nil {
		return Pair{}, err
	}
	return Pair{Picture: pic, Text: ids}, nil
}

// PictureOf turns an output picture and its input (nil for a generation)
// into the picture tower's input.
func PictureOf(out, in image.Image) (Picture, error) {
	var pic Picture
	var err error
	if pic.Patches, err = patchesOf(out); err != nil || in == nil {
		return pic, err
	}
	pic.Input, err = patchesOf(in)
	return pic, err
}

// patchesOf is a canvas's patches in raster order, each its pixels' RGB
// in raster order.
func patchesOf(img image.Image) ([]float32, error) {
	b := img.Bounds()
	if b.Dx() != world.Canvas || b.Dy() != world.Canvas {
		return nil, fmt.Errorf("clip: picture is %d×%d, want %d×%d", b.Dx(), b.Dy(), world.Canvas, world.Canvas)
	}
	out := make([]float32, 0, Patches*PatchDim)
	side, bg := world.Canvas/world.PatchPx, world.Background
	for py := range side {
		for px := range side {
			for y := range world.PatchPx {
				for x := range world.PatchPx {
					r, g, bl, _ := img.At(b.Min.X+px*world.PatchPx+x, b.Min.Y+py*world.PatchPx+y).RGBA()
					// Centred on the background, so empty patches read as nothing.
					out = append(out, centre(r, bg.R), centre(g, bg.G), centre(bl, bg.B))
				}
			}
		}
	}
	return out, nil
}

// TextIDs is the text tower's input: <|bos|>, the words, <|pad|>…. The
// tower reads ShapeWorld's ids, so its start and pad are token's.
func TextIDs(text string, v sample.TextTokenizer) ([]int32, error) {
	ids, err := v.Encode(text)
	if err != nil {
		return nil, err
	}
	if len(ids) > TextLen-1 {
		return nil, fmt.Errorf("clip: %d words, at most %d fit", len(ids), TextLen-1)
	}
	out := make([]int32, TextLen)
	out[0] = token.BOS
	for i := range out[1:] {
		out[1+i] = token.Pad
		if i < len(ids) {
			out[1+i] = int32(ids[i])
		}
	}
	return out, nil
}

func centre(v uint32, bg uint8) float32 { return (float32(v>>8) - float32(bg)) / 255 }
