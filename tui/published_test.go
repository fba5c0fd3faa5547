package tui

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"parascope/engine/nn"
	"parascope/engine/sample"
	"parascope/engine/session"
	"parascope/engine/world"
)

// sessionEngine samples an open session in this process, as tui/local
// does (which this package cannot import).
type sessionEngine struct {
	fakeEngine
	sess *session.Session
}

func (e *sessionEngine) Start(cfg sample.Config, p sample.Prompt) (Stepper, error) {
	st, err := e.sess.NewStepper(cfg, p)
	if err != nil {
		return nil, err
	}
	return Local(st), nil
}

// publishedApp opens a published model's fixture folder through a
// session with preset's settings, made small, on an edit of input.
func publishedApp(t *testing.T, dir, preset, input string, w, h int) *app {
	t.Helper()
	cfg, err := sample.Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Model, cfg.Steps, cfg.TextLength, cfg.Image.ImageSteps, cfg.Clip = dir, 8, 32, 3, "none"
	sess, err := session.Open(cfg, nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(input)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pic, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := sess.Images.Encode(pic)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(Options{Engine: &sessionEngine{fakeEngine{model: filepath.Base(dir)}, sess}, Vocab: sess.Template, Codebook: sess.Images,
		Config: cfg, Prompt: sample.Prompt{Task: world.ThinkEdit, Instruction: "make the sky red", Input: codes}, InputPicture: pic, Preview: "blocks"})
	if err != nil {
		t.Fatal(err)
	}
	a.cellSize = noCellSize
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return a
}

// Each published fixture, opened through a session with its preset and
// stepped a few times: the tokenizer, template, official sampler,
// preview and view all run; the screen matches its golden file.
func TestPublishedGoldenScreens(t *testing.T) {
	if testing.Short() {
		t.Skip("samples the fixtures")
	}
	for _, fx := range []struct{ name, dir, preset, input string }{
		{"parallel-a", "../engine/mmada/testdata/parallel-a", sample.OfficialA, "../engine/vqgan/testdata/pic512.png"},
		{"parallel-m", "../engine/mmada/testdata/parallel-m", sample.OfficialM, "../engine/magvit/testdata/pic512.png"},
	} {
		t.Run(fx.name, func(t *testing.T) {
			a := publishedApp(t, fx.dir, fx.preset, fx.input, 120, 40)
			press(a, "space", "space", "space", "space", "space")
			got := screen(a)
			for _, want := range []string{"step 5/8", fx.name, "rules " + fx.preset, "input", "picture  preview", "‹?›", "·"} {
				if !strings.Contains(got, want) {
					t.Errorf("no %q on the screen:\n%s", want, got)
				}
			}
			for i, l := range strings.Split(got, "\n") {
				if w := ansi.StringWidth(l); w > 120 {
					t.Fatalf("line %d is %d wide", i, w)
				}
			}
			golden(t, fx.name+"-120x40.golden", got)
		})
	}
}

// A published model's reasoning reads as its pieces joined, with no
// spaces added, revealed in place: with the fixture's real tokenizer, a
// text laid into a frame shows as written once revealed, a masked
// position a "·", and wraps at a space.
func TestPiecesRevealInPlace(t *testing.T) {
	a := publishedApp(t, "../engine/mmada/testdata/parallel-m", sample.OfficialM, "../engine/magvit/testdata/pic512.png", 120, 40)
	v := a.o.Vocab
	text := "the sky turns red"
	ids, err := v.Encode(text)
	if err != nil {
		t.Fatal(err)
	}
	f := a.frames[0]
	f.Tokens = append([]int32(nil), f.Tokens...)
	f.RevealedAt = append([]int16(nil), f.RevealedAt...)
	start := v.ImageLen()
	for i, id := range ids {
		f.Tokens[start+i], f.RevealedAt[start+i] = int32(id), 1
	}
	for i := len(ids); i < v.ReasoningLen(); i++ {
		f.Tokens[start+i] = int32(v.MaskID())
	}
	lines, spans := a.reasoning(f, 80)
	if got := ansi.Strip(lines[0]); !strings.HasPrefix(got, text+"·") {
		t.Fatalf("revealed text reads %q, want %q then dots", got, text)
	}
	if len(spans) == 0 || spans[0].pos != start || spans[0].col != 0 {
		t.Errorf("spans %v: the first piece is not at the first position", spans)
	}
	if got := f.MaskedText(v, "_"); !strings.HasPrefix(got, text+"_") {
		t.Errorf("MaskedText %q", got)
	}
	// Hidden: the word after the hidden piece still reads, no space added.
	f.Tokens[start+1] = int32(v.MaskID())
	if got := ansi.Strip(strings.Join(must(a.reasoning(f, 80)), "")); strings.Contains(got, "  ") || !strings.Contains(got, "·") {
		t.Errorf("with a piece masked: %q", got)
	}
	// Narrow: lines break at the spaces the pieces carry.
	f.Tokens[start+1] = int32(ids[1])
	narrow, _ := a.reasoning(f, 9)
	if got := ansi.Strip(narrow[0]); got != "the sky " {
		t.Errorf("first line at width 9: %q", got)
	}
}

func must(lines []string, _ []wordSpan) []string { return lines }

// d decodes the shown step's partial picture exactly, off the UI
// goroutine; the panel says preview until then and exact after; the key
// is in the footer and in help. ShapeWorld's codebook has no such decode,
// so there the key is absent.
func TestExactDecodeOnDemand(t *testing.T) {
	if testing.Short() {
		t.Skip("samples a fixture")
	}
	a := publishedApp(t, "../engine/mmada/testdata/parallel-a", sample.OfficialA, "../engine/vqgan/testdata/pic512.png", 120, 40)
	press(a, "space", "space", "space")
	f := a.shownFrame()
	if f.Image.Actual == 0 || f.Image.Actual == f.Image.Total {
		t.Fatalf("want a partial picture at step %d: %d/%d", f.Step, f.Image.Actual, f.Image.Total)
	}
	if s := screen(a); !strings.Contains(s, "picture  preview · d: exact") || !strings.Contains(s, "d exact picture") {
		t.Fatalf("before d:\n%s", s)
	}
	_, cmd := a.Update(tea.KeyPressMsg{Code: 'd', Text: "d"})
	if cmd == nil {
		t.Fatal("d started no decode")
	}
	drain(a, cmd)
	if s := screen(a); !strings.Contains(s, "picture  exact") || !strings.Contains(s, "decoded exactly") {
		t.Fatalf("after d:\n%s", s)
	}
	press(a, "left") // another step: a preview again
	if s := screen(a); !strings.Contains(s, "picture  preview") {
		t.Fatalf("a step back:\n%s", s)
	}
	press(a, "?")
	if s := screen(a); !strings.Contains(s, "decode the shown step's partial picture exactly") {
		t.Fatalf("help has no d:\n%s", s)
	}

	w := testApp(t, 120, 40)
	if s := screen(w); strings.Contains(s, "exact picture") || strings.Contains(s, "picture  preview") {
		t.Fatalf("ShapeWorld shows the exact decode:\n%s", s)
	}
}

// Under the official rules, compare runs the same settings under
// Parascope's beside them; under Parascope's, the other mode.
func TestCompareOtherRules(t *testing.T) {
	m, _ := sample.Preset(sample.OfficialM)
	c := compared(m)
	if c.Rules != "" || c.Text.Guidance != "" || c.Image.Guidance != "" || c.Text.Block != 0 || c.Image.CFGImage != 0 || c.Mode != m.Mode {
		t.Errorf("official-m compared with %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("the other side does not validate: %v", err)
	}
	if side(m, true) != "official-m rules" || side(c, true) != "parascope rules" {
		t.Errorf("sides %q, %q", side(m, true), side(c, true))
	}
	d := sample.Defaults()
	if compared(d).Mode == d.Mode || compared(d).Rules != "" {
		t.Errorf("Parascope's rules compared with %+v", compared(d))
	}
}

// A published model's screen fits every size, with the panel's values
// whole and the help overlay's keys all shown.
func TestPublishedNothingCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("samples a fixture")
	}
	a := publishedApp(t, "../engine/mmada/testdata/parallel-m", sample.OfficialM, "../engine/magvit/testdata/pic512.png", 120, 40)
	press(a, "space", "space")
	for _, size := range [][2]int{{80, 24}, {110, 30}, {120, 40}, {200, 60}} {
		a.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		s := screen(a)
		lines := strings.Split(s, "\n")
		if len(lines) != size[1] {
			t.Fatalf("%v: %d lines", size, len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > size[0] {
				t.Fatalf("%v: line %d is %d wide", size, i, w)
			}
		}
		if size[0] >= 110 {
			for _, want := range []string{"official-m", "low_confidence", "toward", "unused by official-m"} {
				if !strings.Contains(s, want) {
					t.Errorf("%v: no %q on the panel:\n%s", size, want, s)
				}
			}
		}
	}
}
