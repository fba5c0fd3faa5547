// Package termimg puts pictures on terminals. Each way of drawing one (the
// kitty graphics protocol, sixel, half-block text) is a Protocol in its own
// file, registered here with a preference; adding a protocol is adding a
// file. A viewer sends the terminal every protocol's start-up query
// (Queries), gathers the answers (Answers), and draws with the most
// preferred protocol they support (Detect), or with the one the user named
// (Lookup). A Raw protocol's bytes go straight to the terminal, over a
// rectangle of cells the view keeps blank (Place); a Text protocol gives
// lines the view draws itself. Half-blocks are the Text fallback that every
// terminal supports.
//
// The pictures come from viz; the byte-level encoders are viz.Sixel,
// viz.Kitty and viz.HalfBlocks.
package termimg

import (
	"fmt"
	"image"
	"slices"

	"parascope/viz"

	xdraw "golang.org/x/image/draw"
)

// Answers is what the terminal said to the start-up queries so far.
type Answers struct {
	DA1   []int // primary device attributes: the reply to CSI c
	Kitty bool  // the terminal answered the kitty graphics query
}

// Protocol is one way of drawing a picture on a terminal.
type Protocol interface {
	// Name is what the user picks it by (--preview).
	Name() string
	// Query is sent to the terminal at start so that its answer can
	// select the protocol; nil when it needs none.
	Query() []byte
	// Detect reports whether the answers show the terminal supports it.
	Detect(Answers) bool
}

// Raw is a protocol whose pictures are bytes written to the terminal.
// A screen may show several at once, each in its own slot (0, 1, …).
type Raw interface {
	Protocol
	// Encode returns the bytes that draw img at the cursor, each pixel a
	// scale×scale block, in place of what the protocol drew before in
	// the same slot.
	Encode(img image.Image, scale, slot int) []byte
	// Clear returns the bytes that remove the picture of a slot no longer
	// shown; nil when the text written over it is enough.
	Clear(slot int) []byte
}

// Text is a protocol whose pictures are lines of text in the view.
type Text interface {
	Protocol
	// Lines draws img in cols×rows cells, one string per row, with the
	// escape codes of the colour profile.
	Lines(img image.Image, cols, rows int, profile viz.ColorProfile) []string
}

// Cells is a rectangle of terminal cells, counted from 0 at the top left.
type Cells struct{ Left, Top, Cols, Rows int }

// Picture is one picture of a screen and the cells it is drawn in.
type Picture struct {
	Img image.Image
	At  Cells
}

// Place returns the bytes that draw pics with p, picture i in slot i,
// each scaled up by the largest whole factor (at least 1) that fits its
// cells, given the size of a cell in pixels, after removing the pictures
// of the slots in clear. It is all one write: synchronized output, the
// cursor saved, moved to each rectangle's corner in turn, and restored
// after, because the renderer assumes it did not move. Nothing to draw
// or remove gives nil.
func Place(p Raw, cell image.Point, pics []Picture, clear []int) []byte {
	var body []byte
	for _, s := range clear {
		body = append(body, p.Clear(s)...)
	}
	for slot, pic := range pics {
		img := Shrink(pic.Img, image.Pt(pic.At.Cols*cell.X, pic.At.Rows*cell.Y))
		payload := p.Encode(img, Scale(img.Bounds().Size(), pic.At, cell), slot)
		if len(payload) == 0 {
			continue
		}
		body = fmt.Appendf(body, "\x1b[%d;%dH", pic.At.Top+1, pic.At.Left+1)
		body = append(body, payload...)
	}
	if len(body) == 0 {
		return nil
	}
	out := append([]byte("\x1b[?2026h\x1b7"), body...)
	return append(out, "\x1b8\x1b[?2026l"...)
}

// Shrink returns img scaled down, keeping its shape, to fit box pixels
// when it is larger (a published model's 512×512 picture in a few
// cells), else img itself.
func Shrink(img image.Image, box image.Point) image.Image {
	b := img.Bounds()
	if (b.Dx() <= box.X && b.Dy() <= box.Y) || box.X <= 0 || box.Y <= 0 {
		return img
	}
	f := min(float64(box.X)/float64(b.Dx()), float64(box.Y)/float64(b.Dy()))
	out := image.NewRGBA(image.Rect(0, 0, max(1, int(float64(b.Dx())*f)), max(1, int(float64(b.Dy())*f))))
	xdraw.ApproxBiLinear.Scale(out, out.Bounds(), img, b, xdraw.Src, nil)
	return out
}

// Scale is the largest whole factor (at least 1) by which a picture of
// size pixels fits in the cells at, given the size of a cell in pixels.
func Scale(size image.Point, at Cells, cell image.Point) int {
	if size.X <= 0 || size.Y <= 0 {
		return 1
	}
	return max(1, min(at.Cols*cell.X/size.X, at.Rows*cell.Y/size.Y))
}

// Fit returns the cells a picture of size pixels covers when scaled up by
// the largest whole factor that fits a room of cols×rows cells: the
// rectangle to keep for it, so that it fills all but the last column and
// row. It is 0×0 when the picture does not fit even unscaled.
func Fit(size image.Point, cols, rows int, cell image.Point) (int, int) {
	if size.X <= 0 || size.Y <= 0 || cell.X <= 0 || cell.Y <= 0 {
		return 0, 0
	}
	scale := min(cols*cell.X/size.X, rows*cell.Y/size.Y)
	if scale < 1 {
		return 0, 0
	}
	return ceilDiv(scale*size.X, cell.X), ceilDiv(scale*size.Y, cell.Y)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// registered holds the protocols, most preferred first.
var registered []entry

type entry struct {
	p          Protocol
	preference int
}

// Register adds a protocol, from an init function of the file that
// defines it. Detect prefers a higher preference; the half-block fallback
// has 0 and supports every terminal, so a protocol registered below it is
// only used when named. A name registered twice is a defect of the build,
// and panics.
func Register(p Protocol, preference int) {
	if _, ok := Lookup(p.Name()); ok {
		panic("termimg: protocol " + p.Name() + " registered twice")
	}
	i := 0
	for i < len(registered) && registered[i].preference >= preference {
		i++
	}
	registered = slices.Insert(registered, i, entry{p, preference})
}

// Protocols returns every protocol, most preferred first.
func Protocols() []Protocol {
	out := make([]Protocol, len(registered))
	for i, e := range registered {
		out[i] = e.p
	}
	return out
}

// Names returns the protocols' names, most preferred first: the values a
// --preview flag takes besides "auto".
func Names() []string {
	out := make([]string, len(registered))
	for i, e := range registered {
		out[i] = e.p.Name()
	}
	return out
}

// Lookup returns the protocol of that name.
func Lookup(name string) (Protocol, bool) {
	for _, e := range registered {
		if e.p.Name() == name {
			return e.p, true
		}
	}
	return nil, false
}

// Detect returns the most preferred protocol the answers show the terminal
// supports: half-blocks when none of the others.
func Detect(a Answers) Protocol {
	for _, e := range registered {
		if e.p.Detect(a) {
			return e.p
		}
	}
	return Blocks
}

// Queries returns the start-up queries of every protocol but those in
// except, most preferred first, each once. The kitty query goes before
// DA1, which every terminal answers, so its answer (if any) comes first.
func Queries(except ...Protocol) []byte {
	var out []byte
	var seen [][]byte
	for _, e := range registered {
		if slices.Contains(except, e.p) {
			continue
		}
		q := e.p.Query()
		if len(q) == 0 || slices.ContainsFunc(seen, func(s []byte) bool { return string(s) == string(q) }) {
			continue
		}
		seen = append(seen, q)
		out = append(out, q...)
	}
	return out
}
