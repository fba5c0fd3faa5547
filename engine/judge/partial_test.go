package judge

import (
	"image"
	"slices"
	"strings"
	"testing"

	"parascope/engine/world"
)

// patchesOf says which patches lie in the chosen cells.
func patchesOf(cells ...int) []bool {
	perRow := world.Canvas / world.PatchPx
	out := make([]bool, perRow*perRow)
	for p := range out {
		cell := p/perRow*world.PatchPx/world.CellPx*world.GridN + p%perRow*world.PatchPx/world.CellPx
		out[p] = slices.Contains(cells, cell)
	}
	return out
}

func flags(n int, v bool) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestPartialAtTheEndIsScore(t *testing.T) {
	for i := range 200 {
		c := world.Generate(21, i, world.MixBoth)
		words := strings.Fields(strings.ReplaceAll(c.Reasoning, ".", " ."))
		img := world.Render(c.Target)
		got, err := Partial(c, words, flags(len(words), true), img, flags(36, true))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Score(c, c.Reasoning, img)
		if got != want {
			t.Fatalf("case %d: partial %+v, score %+v", i, got, want)
		}
	}
}

// With one of two sentences committed, text alignment is exactly 1/2;
// with nothing committed, the text says nothing and agrees with nothing.
func TestPartialCountsCommittedSentencesOnly(t *testing.T) {
	var c world.Case
	var words []string
	for i := range 1000 {
		c = world.Generate(5, i, world.MixBoth)
		words = strings.Fields(strings.ReplaceAll(c.Reasoning, ".", " ."))
		if strings.Count(c.Reasoning, ".") == 2 && len(keys(ParseText(c.Reasoning, c.Input))) == 2 {
			break
		}
	}
	first := slices.Index(words, ".")
	revealed := flags(len(words), true)
	revealed[first+1] = false // a word of the second sentence
	img := world.Render(c.Target)
	s, err := Partial(c, words, revealed, img, flags(36, true))
	if err != nil {
		t.Fatal(err)
	}
	if s.TextAlignment != 50 {
		t.Fatalf("text alignment %v, want 50 (one claim of two)", s.TextAlignment)
	}
	revealed[first] = false // the first sentence's full stop
	if s, _ = Partial(c, words, revealed, img, flags(36, true)); s.TextAlignment != 0 || s.OutputAlignment != 0 {
		t.Fatalf("nothing committed: %+v", s)
	}
	if _, err := Partial(c, words, revealed[1:], img, flags(36, true)); err == nil {
		t.Fatal("mismatched flags accepted")
	}
}

// A cell with a masked patch is blank; a decided one keeps its pixels.
func TestPartialBlanksUndecidedCells(t *testing.T) {
	c := world.Generate(3, 0, world.MixBoth)
	img := world.Render(c.Target)
	out := DecidedCells(img, patchesOf(0, 4), world.Background)
	for y := range world.Canvas {
		for x := range world.Canvas {
			cell := y/world.CellPx*world.GridN + x/world.CellPx
			want := img.At(x, y)
			if cell != 0 && cell != 4 {
				want = world.Background
			}
			r1, g1, b1, _ := out.At(x, y).RGBA()
			r2, g2, b2, _ := want.RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				t.Fatalf("pixel (%d, %d) of cell %d", x, y, cell)
			}
		}
	}
}

func BenchmarkPartial(b *testing.B) {
	c := world.Generate(9, 1, world.MixBoth)
	words := strings.Fields(strings.ReplaceAll(c.Reasoning, ".", " ."))
	revealed := flags(len(words), true)
	revealed[len(words)/2] = false
	img := image.Image(world.Render(c.Target))
	patches := patchesOf(0, 1, 2, 4, 8)
	for b.Loop() {
		if _, err := Partial(c, words, revealed, img, patches); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/step")
}
