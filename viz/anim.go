package viz

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"strings"
	"unicode/utf8"

	"parascope/engine/sample"
	"parascope/engine/world"
)

// AnimOptions sets up Animation. Zero values take the defaults.
type AnimOptions struct {
	Scale   int  // picture magnification; default 4 (192 px)
	Delay   int  // hundredths of a second per frame; default 25
	Hold    int  // hundredths of a second on the final frame; default 200
	Guesses bool // show the model's guess, dimmed, in masked patches
	// Caption is drawn under the step on every frame, wrapped to the
	// text column: what made the run, so a frame shown alone says it.
	Caption []string
}

// Layout of an animation frame: the picture on the left, then the
// reasoning text in a column textCols glyphs wide.
const (
	textCols    = 40
	margin      = 8
	lineSpacing = 2
	placeholder = "___"
)

// gifPalette holds every colour a frame can use, so pictures keep their
// exact colours. The rest of the table is a colour cube, so a codebook
// whose codes are not world colours is still drawn approximately.
var gifPalette = func() color.Palette {
	p := color.Palette{paper, inkLight, inkNew, inkHeader, world.MaskGrey, world.Background, dim(world.Background)}
	for _, c := range world.Palette {
		p = append(p, c, dim(c))
	}
	for r := range 6 {
		for g := range 6 {
			for b := range 6 {
				p = append(p, color.RGBA{uint8(r * 51), uint8(g * 51), uint8(b * 51), 255})
			}
		}
	}
	return p
}()

// word is one reasoning position as drawn: its text and colour.
type word struct {
	text string
	ink  color.RGBA
}

// reasoning returns the reasoning span's positions up to the first revealed
// end token: revealed words light, words revealed at this step highlighted,
// masked positions as a grey placeholder.
func reasoning(f sample.Frame, v sample.Vocabulary) []word {
	var out []word
	n, mask := v.ImageLen(), int32(v.MaskID())
	if pieces, ok := f.TextPieces(v); ok {
		// A published model's pieces, joined as the text reads: a masked
		// position one "_", a line break a space.
		for i, p := range pieces {
			pos := n + i
			switch {
			case f.Tokens[pos] == mask:
				out = append(out, word{"_", world.MaskGrey})
			case pos < len(f.RevealedAt) && int(f.RevealedAt[pos]) == f.Step:
				out = append(out, word{strings.ReplaceAll(p, "\n", " "), inkNew})
			default:
				out = append(out, word{strings.ReplaceAll(p, "\n", " "), inkLight})
			}
		}
		return out
	}
	for i, id := range f.Tokens[min(n, len(f.Tokens)):] {
		pos := n + i
		switch {
		case id == mask:
			out = append(out, word{placeholder, world.MaskGrey})
		case v.IsEnd(int(id)):
			return out
		case pos < len(f.RevealedAt) && int(f.RevealedAt[pos]) == f.Step:
			out = append(out, word{v.Name(int(id)), inkNew})
		default:
			out = append(out, word{v.Name(int(id)), inkLight})
		}
	}
	return out
}

// wrapWords fills lines of at most cols characters greedily, words
// separated by one space. A word longer than cols gets a line of its own.
func wrapWords(words []string, cols int) [][]string { return wrapJoined(words, cols, 1) }

// wrapJoined is wrapWords with words sep spaces apart: 0 for a published
// model's pieces, which carry their own spaces.
func wrapJoined(words []string, cols, sep int) [][]string {
	var lines [][]string
	var line []string
	width := 0
	for _, w := range words {
		n := utf8.RuneCountInString(w)
		if len(line) > 0 && width+sep+n > cols {
			lines = append(lines, line)
			line, width = nil, 0
		}
		if len(line) > 0 {
			width += sep
		}
		line = append(line, w)
		width += n
	}
	if len(line) > 0 {
		lines = append(lines, line)
	}
	return lines
}

// Animation draws a whole run as an animated GIF: each frame shows the
// picture at that step and the reasoning text as it stands, under a
// "step s/S" header, and the final frame is held longer. Colours come from
// one fixed palette without dithering, so the same frames always encode
// to the same bytes.
func Animation(frames []sample.Frame, v sample.Vocabulary, cb sample.ImageTokenizer, opt AnimOptions) (*gif.GIF, error) {
	if len(frames) == 0 {
		return nil, errors.New("viz: animation: no frames")
	}
	scale, delay, hold := opt.Scale, opt.Delay, opt.Hold
	if scale <= 0 {
		scale = 4
	}
	if delay <= 0 {
		delay = 25
	}
	if hold <= 0 {
		hold = 200
	}

	// Every frame has the size of the tallest text, so lay all out first.
	texts := make([][]word, len(frames))
	lines := make([][][]string, len(frames))
	maxLines := 0
	sep := 1 // words apart; a published model's pieces carry their spaces
	if _, pieced := frames[0].TextPieces(v); pieced {
		sep = 0
	}
	for i, f := range frames {
		texts[i] = reasoning(f, v)
		plain := make([]string, len(texts[i]))
		for j, w := range texts[i] {
			plain[j] = w.text
		}
		lines[i] = wrapJoined(plain, textCols, sep)
		maxLines = max(maxLines, len(lines[i]))
	}
	var caption [][]string
	for _, c := range opt.Caption {
		caption = append(caption, wrapWords(strings.Fields(c), textCols)...)
	}
	side := world.Canvas * scale
	lineH := glyphH + lineSpacing
	textX := margin + side + 2*margin
	textTop := margin + (2+len(caption))*lineH // header and caption, then a blank line
	bounds := image.Rect(0, 0, textX+textCols*glyphW+margin, max(margin+side, textTop+maxLines*lineH)+margin)

	g := &gif.GIF{}
	last := frames[len(frames)-1].Step
	for i, f := range frames {
		pic, err := Picture(f, v, cb, opt.Guesses)
		if err != nil {
			return nil, fmt.Errorf("viz: animation: %w", err)
		}
		// Map the picture to palette indices once, then scale the indices
		// to the frame's side (up for ShapeWorld's 48×48, down for a
		// published model's 512×512): far fewer palette searches.
		small := image.NewPaletted(pic.Bounds(), gifPalette)
		draw.Draw(small, small.Bounds(), pic, pic.Bounds().Min, draw.Src)
		pw, ph := pic.Bounds().Dx(), pic.Bounds().Dy()

		img := image.NewPaletted(bounds, gifPalette)
		draw.Draw(img, bounds, image.NewUniform(paper), image.Point{}, draw.Src)
		for y := range side {
			for x := range side {
				img.SetColorIndex(margin+x, margin+y, small.ColorIndexAt(x*pw/side, y*ph/side))
			}
		}
		drawText(img, textX, margin, fmt.Sprintf("step %d/%d", f.Step, last), inkHeader)
		for l, line := range caption {
			drawText(img, textX, margin+(1+l)*lineH, strings.Join(line, " "), inkHeader)
		}
		k := 0 // index into texts[i]: the lines hold its words in order
		for l, line := range lines[i] {
			col := 0
			for _, w := range line {
				drawText(img, textX+col*glyphW, textTop+l*lineH, w, texts[i][k].ink)
				col += utf8.RuneCountInString(w) + sep
				k++
			}
		}
		g.Image = append(g.Image, img)
		g.Delay = append(g.Delay, delay)
	}
	g.Delay[len(g.Delay)-1] = hold
	return g, nil
}
