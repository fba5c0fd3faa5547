package clip

import (
	"fmt"
	"image"

	"parascope/engine/token"
	"parascope/engine/world"
)

// PairOf turns a picture and a text into the towers' inputs. Masked
// positions of partial outputs are given as grey patches in the picture
// and left out of the text.
func PairOf(img image.Image, text string, v *token.Vocab) (Pair, error) {
	b := img.Bounds()
	if b.Dx() != world.Canvas || b.Dy() != world.Canvas {
		return Pair{}, fmt.Errorf("clip: picture is %d×%d, want %d×%d", b.Dx(), b.Dy(), world.Canvas, world.Canvas)
	}
	ids, err := v.Encode(text)
	if err != nil {
		return Pair{}, err
	}
	if len(ids) > TextLen-1 {
		return Pair{}, fmt.Errorf("clip: %d words, at most %d fit", len(ids), TextLen-1)
	}
	p := Pair{Patches: make([]float32, 0, Patches*PatchDim), Text: make([]int32, TextLen)}
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
	p.Text[0] = token.BOS
	for i := range p.Text[1:] {
		p.Text[1+i] = token.Pad
		if i < len(ids) {
			p.Text[1+i] = int32(ids[i])
		}
	}
	return p, nil
}

func centre(v uint32, bg uint8) float32 { return (float32(v>>8) - float32(bg)) / 255 }
