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
type Raw interface {
	Protocol
	// Encode returns the bytes that draw img at the cursor, each pixel a
	// scale×scale block, in place of what the protocol drew before.
	Encode(img image.Image, scale int) []byte
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

// Place returns the bytes that draw img with p in the cells at, scaled up
// by the largest whole factor (at least 1) that fits them, given the size
// of a cell in pixels. The picture is wrapped for writing in one go:
// synchronized output, the cursor saved, moved to the rectangle's corner,
// and restored after, because the renderer assumes it did not move. An
// empty picture gives nil.
func Place(p Raw, img image.Image, at Cells, cell image.Point) []byte {
	scale := 1
	if b := img.Bounds(); !b.Empty() {
		scale = max(1, min(at.Cols*cell.X/b.Dx(), at.Rows*cell.Y/b.Dy()))
	}
	payload := p.Encode(img, scale)
	if len(payload) == 0 {
		return nil
	}
	out := fmt.Appendf(nil, "\x1b[?2026h\x1b7\x1b[%d;%dH", at.Top+1, at.Left+1)
	out = append(out, payload...)
	return append(out, "\x1b8\x1b[?2026l"...)
}

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
