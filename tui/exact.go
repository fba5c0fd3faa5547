package tui

import (
	"image"
	"slices"

	tea "charm.land/bubbletea/v2"

	"parascope/engine/sample"
)

// exactDecoder is an image tokenizer that decodes a partial grid exactly
// (a published model's, imgtok.Drawer): every cell through the decoder
// together, where the live picture is a preview from an atlas of tiles.
// It takes seconds on real weights, so it is asked for with a key.
type exactDecoder interface {
	DecodePartial(codes, guesses []int) (*image.RGBA, error)
}

// exactPicture is the exact decode of a partial grid: of codes, with or
// without the guesses.
type exactPicture struct {
	codes   []int
	guesses bool
	img     *image.RGBA
}

// exactMsg is an exact decode done off the UI goroutine.
type exactMsg struct {
	step int
	pic  exactPicture
	err  error
}

// canDecodeExactly reports whether the image tokenizer decodes partial
// grids exactly on demand.
func (a *app) canDecodeExactly() bool {
	_, ok := a.o.Codebook.(exactDecoder)
	return ok
}

// decodeExact decodes the shown step's picture exactly, in a tea.Cmd.
func (a *app) decodeExact() tea.Cmd {
	d, ok := a.o.Codebook.(exactDecoder)
	if !ok {
		a.setStatus("this image tokenizer has no exact decode of a partial picture")
		return nil
	}
	f := a.shownFrame()
	if a.pictureKind(f) == "exact" {
		a.setStatus("step %d's picture is already exact", f.Step)
		return nil
	}
	codes := f.ImageCodes(a.o.Vocab)
	var guesses []int
	if a.guesses {
		guesses = f.GuessCodes(a.o.Vocab)
	}
	a.setStatus("decoding step %d's picture exactly…", f.Step)
	show := a.guesses
	return func() tea.Msg {
		img, err := d.DecodePartial(codes, guesses)
		return exactMsg{f.Step, exactPicture{codes, show, img}, err}
	}
}

// exactDone keeps an exact decode and shows it while its step is shown.
func (a *app) exactDone(msg exactMsg) tea.Cmd {
	if msg.err != nil {
		a.fail(msg.err)
		return nil
	}
	a.exact = msg.pic
	a.setStatus("step %d's picture decoded exactly", msg.step)
	return a.refreshImage()
}

// exactFor is the exact decode of f's picture, when one was made; nil
// otherwise.
func (a *app) exactFor(f sample.Frame) *image.RGBA {
	e := a.exact
	if e.img == nil || e.guesses != a.guesses || !slices.Equal(e.codes, f.ImageCodes(a.o.Vocab)) {
		return nil
	}
	out := *e.img
	out.Pix = slices.Clone(e.img.Pix)
	return &out
}

// pictureKind says what the picture of f is: "exact" when its grid is
// complete or was decoded exactly, else "preview".
func (a *app) pictureKind(f sample.Frame) string {
	if f.Image.Actual >= f.Image.Total || a.exactFor(f) != nil {
		return "exact"
	}
	return "preview"
}
