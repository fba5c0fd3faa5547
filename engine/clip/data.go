package clip

import (
	"fmt"
	"image"

	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/world"
)

// PairOf turns a picture and a text into the towers' inputs. Masked
// positions of partial outputs are given as grey patches in the picture
// and left out of the text.
func PairOf(img image.Image, text string, v sample.TextTokenizer) (Pair, error) {
	b := img.Bounds()
	if b.Dx() != world.Canvas || b.Dy() != world.Canvas {
		return Pair{}, fmt.Errorf("clip: picture is %d×%d, want %d×%d", b.Dx(), b.Dy(), world.Canvas, world.Canvas)
	}
	ids, err := TextIDs(text, v)
	if err != nil {
		return Pair{}, err
	}
	p := Pair{Patches: make([]float32, 0, Patches*PatchDim), Text: ids}
	side, bg := world.Canvas/world.PatchPx, world.Background
	for py := range side {
		for px := range side {
			for y := range world.PatchPx {
				for x := range world.PatchPx {
					r, g, bl, _ := img.At(b.Min.X+px*world.PatchPx+x, b.Min.Y+py*world.PatchPx+y).RGBA()
					// Centred on the background, so empty patches read as nothing.
					p.Patches = append(p.Patches, centre(r, bg.R), centre(g, bg.G), centre(bl, bg.B))
				}
			}
		}
	}
	return p, nil
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
