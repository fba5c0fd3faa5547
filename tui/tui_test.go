package tui

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// updating reports -update, the flag the golden package (through teatest)
// defines: it rewrites the golden screens.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// fixed is a fake model with a fixed preference: the word "circle" in the
// text, code 3 in the picture, a little surer at later positions.
type fixed struct{ v *token.Vocab }

func (m fixed) Logits(ids []int32, batch, seq int, sel []int32) ([]float32, error) {
	V := m.v.Size()
	circle, _ := m.v.Encode("circle")
	out := make([]float32, len(sel)*V)
	for j, p := range sel {
		out[j*V+circle[0]] = 2 + float32(int(p)%seq)/100
		out[j*V+m.v.ImageOffset()+3] = 2 + float32(int(p)%seq)/100
	}
	return out, nil
}

// fakeEngine samples the fixed model in this process; its hooks stand in
// for training, switching and exporting, and record what they were given.
type fakeEngine struct {
	v        *token.Vocab
	model    string
	sft      func(ctx context.Context, kinds []string, steps int, progress func(JobProgress)) (string, error)
	paraRL   func(ctx context.Context, batches int, progress func(JobProgress)) (string, error)
	switched []string
	export   func(t Trajectory, dir string) ([]string, error)
	aligner  sample.Aligner
	sampler  sample.Model // the fixed model when nil
}

func (e *fakeEngine) Model() string { return e.model }

func (e *fakeEngine) Start(cfg sample.Config, p sample.Prompt) (Stepper, error) {
	var m sample.Model = fixed{e.v}
	if e.sampler != nil {
		m = e.sampler
	}
	s, err := sample.New(m, e.v, cfg, p)
	if err == nil && e.aligner != nil {
		err = s.SetAligner(e.aligner)
	}
	if err != nil {
		return nil, err
	}
	return Local(s), nil
}

func (e *fakeEngine) Switch(path string) error {
	e.switched = append(e.switched, path)
	e.model = path
	return nil
}

func (e *fakeEngine) Export(t Trajectory, dir string) ([]string, error) { return e.export(t, dir) }

func (e *fakeEngine) TrainSFT(ctx context.Context, kinds []string, steps int, progress func(JobProgress)) (string, error) {
	return e.sft(ctx, kinds, steps, progress)
}

func (e *fakeEngine) TrainParaRL(ctx context.Context, batches int, progress func(JobProgress)) (string, error) {
	return e.paraRL(ctx, batches, progress)
}

func testApp(t testing.TB, w, h int) *app {
	t.Helper()
	cb := vq.Default()
	v := token.New(cb.K())
	c := world.Generate(1, 0, world.MixEdit)
	in, _ := cb.Encode(world.Render(c.Input))
	cfg := sample.Defaults()
	cfg.Steps = 8
	engine := &fakeEngine{v: v, model: "fixed", export: func(t Trajectory, dir string) ([]string, error) {
		return []string{dir + "/trajectory.jsonl", dir + "/trajectory.gif"}, nil
	}}
	a, err := newApp(Options{Engine: engine, Vocab: v, Codebook: cb, Config: cfg,
		Prompt: sample.Prompt{Task: c.Task, Instruction: c.Instruction, Input: in}, Case: &c, Input: &c.Input, Preview: "blocks",
		ExportDir: "out"})
	if err != nil {
		t.Fatal(err)
	}
	a.cellSize = noCellSize // not the size of the terminal the tests run in
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return a
}

// noCellSize is a terminal that reports no pixels.
func noCellSize() (image.Point, bool) { return image.Point{}, false }

// engineOf is the test app's fake engine.
func engineOf(a *app) *fakeEngine { return a.o.Engine.(*fakeEngine) }

// press sends a key and runs what it starts to completion, as the program
// would, feeding each result back.
func press(a *app, keys ...string) {
	for _, k := range keys {
		text := ""
		if len([]rune(k)) == 1 {
			text = k
		}
		code := []rune(k)[0]
		if k == "space" {
			code, text = tea.KeySpace, " "
		}
		if named, ok := map[string]rune{"left": tea.KeyLeft, "right": tea.KeyRight, "up": tea.KeyUp, "down": tea.KeyDown, "enter": tea.KeyEnter, "tab": tea.KeyTab, "esc": tea.KeyEscape, "backspace": tea.KeyBackspace, "home": tea.KeyHome, "end": tea.KeyEnd}[k]; ok {
			code, text = named, ""
		}
		_, cmd := a.Update(tea.KeyPressMsg{Code: code, Text: text})
		drain(a, cmd)
	}
}

func drain(a *app, cmd tea.Cmd) {
	for cmd != nil {
		msg := cmd()
		switch msg := msg.(type) {
		case stepMsg, startedMsg, jobMsg, compareMsg, exportedMsg, openedMsg, exactMsg:
			_, cmd = a.Update(msg)
		case tea.BatchMsg:
			for _, c := range msg {
				drain(a, c)
			}
			return
		default:
			return
		}
	}
}

func screen(a *app) string { return ansi.Strip(a.render()) }

func TestKeys(t *testing.T) {
	a := testApp(t, 120, 40)
	if !strings.Contains(screen(a), "step 0/8") {
		t.Fatalf("start screen:\n%s", screen(a))
	}
	press(a, "space", "space", "space")
	if s := screen(a); !strings.Contains(s, "step 3/8") || !strings.Contains(s, "circle") {
		t.Fatalf("after three steps:\n%s", s)
	}
	press(a, "left")
	if a.shown != 2 || !strings.Contains(screen(a), "step 2/8") {
		t.Fatalf("scrubbed to %d", a.shown)
	}
	press(a, "space") // forward through history, no new step
	if a.shown != 3 || len(a.frames) != 4 {
		t.Fatalf("shown %d of %d frames", a.shown, len(a.frames))
	}
	press(a, "g", "v")
	if !a.guesses || !a.byConfidence {
		t.Fatal("toggles")
	}
	press(a, "tab", "down", "right") // mode → sequential on the panel
	if a.cfg.Mode != sample.Sequential {
		t.Fatalf("mode %s", a.cfg.Mode)
	}
	press(a, "tab", "f") // fork at step 3 in sequential mode
	if a.stepper.(localStepper).Config().Mode != sample.Sequential || len(a.frames) != 4 {
		t.Fatalf("fork: mode %s, %d frames", a.stepper.(localStepper).Config().Mode, len(a.frames))
	}
	press(a, "n")
	if a.cfg.Seed != 1 || len(a.frames) != 1 {
		t.Fatalf("new seed: %d, %d frames", a.cfg.Seed, len(a.frames))
	}
	press(a, "e", "backspace", "backspace", "x", "enter")
	if a.err == nil || !strings.Contains(a.err.Error(), "unknown word") {
		t.Fatalf("a bad instruction: %v", a.err)
	}
	press(a, "esc", "?")
	if !strings.Contains(screen(a), "fork at the shown step") {
		t.Fatal("no help")
	}
	_, cmd := a.Update(tea.KeyPressMsg{Code: 'q', Text: "q"})
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q does not quit")
	}
}

func TestNoColorDrawsShades(t *testing.T) {
	a := testApp(t, 100, 30)
	a.Update(tea.ColorProfileMsg{Profile: colorprofile.Ascii})
	press(a, "space", "space", "space", "space", "space")
	s := a.render()
	if strings.Contains(s, "▀") || !strings.ContainsAny(s, "░▒▓█") {
		t.Fatalf("no shading without colours:\n%s", ansi.Strip(s))
	}
}

func TestRunToTheEnd(t *testing.T) {
	a := testApp(t, 100, 30)
	for range 20 {
		press(a, "space")
	}
	if !a.done() || !strings.Contains(screen(a), "step 8/8") || !strings.Contains(screen(a), "done") {
		t.Fatalf("not done:\n%s", screen(a))
	}
}

// Golden screens at fixed sizes, colours stripped.
func TestGoldenScreens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
		a := testApp(t, size[0], size[1])
		press(a, "space", "space")
		got := screen(a)
		lines := strings.Split(got, "\n")
		if len(lines) != size[1] {
			t.Fatalf("%v: %d lines", size, len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > size[0] {
				t.Fatalf("%v: line %d is %d wide", size, i, w)
			}
		}
		golden(t, fmt.Sprintf("screen-%dx%d.golden", size[0], size[1]), got)
	}
}

// golden compares a screen with testdata/name, or writes it there under
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updating() {
		os.WriteFile(path, []byte(got), 0o644)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n%s", path, got)
	}
}

func TestCompare(t *testing.T) {
	a := testApp(t, 120, 40)
	press(a, "space", "c")
	if a.cmp == nil || len(a.frames) != 1 {
		t.Fatal("compare restarts both runs")
	}
	press(a, "space", "space")
	s := screen(a)
	if !strings.Contains(s, "parallel · step 2") || !strings.Contains(s, "sequential · step 2") {
		t.Fatalf("compare screen:\n%s", s)
	}
	// Sequential runs longer (text, then image): step both to the end.
	for range 20 {
		press(a, "space")
	}
	if !a.done() || len(a.cmp.frames) != 17 || len(a.frames) != 9 {
		t.Fatalf("done %v, frames %d and %d", a.done(), len(a.frames), len(a.cmp.frames))
	}
	press(a, "left")
	if !strings.Contains(screen(a), "sequential · step 15") || !strings.Contains(screen(a), "parallel · step 8") {
		t.Fatalf("scrubbing keeps the shorter run on its last step:\n%s", screen(a))
	}
	press(a, "c")
	if a.cmp != nil {
		t.Fatal("c closes the comparison")
	}
}

// Comparing, each side has its alignment: in its column's label and as
// its own plot over the longer run's steps.
func TestCompareAlignmentPerSide(t *testing.T) {
	a := testApp(t, 160, 50)
	engineOf(a).aligner = revealAligner{}
	press(a, "c")
	for range 20 {
		press(a, "space")
	}
	s := screen(a)
	for _, want := range []string{"CLIP (left)", "CLIP (right)", "text (left)", "; right 40/40", "parallel · step 8 · text 40/40 · image 36/36 · align +1.000", "sequential · step 16 · text 40/40 · image 36/36 · align +1.000", "▲ step 16 of 16", "step 8/8 (right 16/16)"} {
		if !strings.Contains(s, want) {
			t.Fatalf("no %q:\n%s", want, s)
		}
	}
}

func TestSFTJob(t *testing.T) {
	a := testApp(t, 120, 40)
	var gotKinds []string
	a.o.Engine.Switch("random:7")
	engineOf(a).sft = func(ctx context.Context, kinds []string, steps int, progress func(JobProgress)) (string, error) {
		gotKinds = kinds
		for i := 1; i <= 3; i++ {
			progress(JobProgress{Step: i, Steps: 3, Loss: 1 / float64(i)})
		}
		return "runs/x/model.safetensors", nil
	}
	press(a, "s")
	if !a.form.open || !strings.Contains(screen(a), "SFT job — edit kind: ◂ every kind ▸") {
		t.Fatalf("no form:\n%s", screen(a))
	}
	press(a, "right", "right", "enter") // remove
	if a.job != nil || len(gotKinds) != 1 || gotKinds[0] != "remove" {
		t.Fatalf("job %v, kinds %v", a.job, gotKinds)
	}
	if !strings.Contains(screen(a), "y switches the sampler") {
		t.Fatalf("no offer:\n%s", screen(a))
	}
	_, cmd := a.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
	if len(engineOf(a).switched) != 1 || !strings.Contains(a.status, "opening runs/x/model.safetensors") {
		t.Fatalf("y opened the checkpoint inside Update (status %q)", a.status)
	}
	drain(a, cmd)
	if sw := engineOf(a).switched; len(sw) != 2 || sw[1] != "runs/x/model.safetensors" || a.model != sw[1] || !strings.Contains(screen(a), "step 0/8") {
		t.Fatalf("switch: switched to %q, model %q", sw, a.model)
	}
}

// The ParaRL key runs the job on the live model, shows reward and KL
// sparklines while it runs, cancels with p, and offers the result.
func TestParaRLJob(t *testing.T) {
	a := testApp(t, 160, 40)
	release := make(chan struct{})
	engineOf(a).paraRL = func(ctx context.Context, batches int, progress func(JobProgress)) (string, error) {
		for i := 1; i <= 4; i++ {
			progress(JobProgress{Step: i, Steps: batches, Reward: 0.5 + 0.05*float64(i), KL: 0.001 * float64(i), Rate: 2})
		}
		<-release
		return "runs/rl/model.safetensors", ctx.Err()
	}
	_, cmd := a.Update(tea.KeyPressMsg{Code: 'p', Text: "p"})
	for range 4 { // the four progress updates, without waiting for the end
		_, cmd = a.Update(cmd())
	}
	line := screen(a)
	if !strings.Contains(line, "ParaRL [####") || !strings.Contains(line, "reward 0.700") ||
		!strings.Contains(line, "KL 0.004 ") || !strings.Contains(line, "▁▃▆█") || !strings.Contains(line, "p cancels") {
		t.Fatalf("job line:\n%s", line)
	}
	press(a, "s")
	if a.form.open || !strings.Contains(a.status, "the ParaRL job is running") {
		t.Fatal("s opened a second job while ParaRL runs")
	}
	close(release)
	drain(a, cmd)
	if a.job != nil || !strings.Contains(screen(a), "ParaRL job done: runs/rl/model.safetensors — y switches") {
		t.Fatalf("no offer:\n%s", screen(a))
	}
}

func TestReplayNeedsNoModel(t *testing.T) {
	a := testApp(t, 100, 30)
	press(a, "space", "space", "space")
	r, err := newApp(Options{ModelName: "replay", Vocab: a.o.Vocab, Codebook: a.o.Codebook, Config: a.cfg, Prompt: a.prompt,
		Frames: a.frames, Steps: a.total, Preview: "blocks"})
	if err != nil {
		t.Fatal(err)
	}
	r.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	if !strings.Contains(screen(r), "step 3/8") {
		t.Fatal("a replay opens on its last step")
	}
	press(r, "left", "left", "n")
	if r.shown != 1 || !strings.Contains(screen(r), "a replay has no model") {
		t.Fatalf("replay: shown %d", r.shown)
	}
}

// BenchmarkRender draws a computed step at 200×60 with the case's judge
// curves and the inspector on.
func BenchmarkRender(b *testing.B) {
	a := testApp(b, 200, 60)
	press(a, "space", "space", "space", "i", "]")
	for b.Loop() {
		a.render()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/frame")
}

type revealAligner struct{}

func (revealAligner) Align(_ sample.Prompt, f sample.Frame) (float64, error) {
	return float64(f.Image.Actual) / 36, nil
}

func TestAlignmentPlot(t *testing.T) {
	a := testApp(t, 120, 40)
	engineOf(a).aligner = revealAligner{}
	press(a, "r", "space", "space", "space")
	s := screen(a)
	if !strings.Contains(s, "alignment") || strings.Contains(s, "no CLIP scorer") || !strings.Contains(s, "+0.") {
		t.Fatalf("no live alignment plot:\n%s", s)
	}
	// Scrubbed back to the all-masked start: no score, and the run after
	// it still plotted, the cursor on the axis at step 0.
	press(a, "home")
	line := func(name string) string {
		for _, l := range strings.Split(screen(a), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), name) {
				return l
			}
		}
		t.Fatalf("no %s line:\n%s", name, screen(a))
		return ""
	}
	al := line("CLIP alignment")
	if !strings.Contains(al, "·▁▃█") || !strings.Contains(al, "—") || strings.Contains(al, "+0.") {
		t.Fatalf("step 0's alignment line: %q", al)
	}
	if axis := line("step  "); !strings.Contains(axis, "▲") || !strings.HasSuffix(axis, " ▲         step 0 of 8") {
		t.Fatalf("axis %q", axis)
	}
}

// Every knob on the panel moves its setting one way and back the other,
// and what it shows follows.
func TestKnobsMoveAndReturn(t *testing.T) {
	start := sample.Defaults()
	for _, k := range knobList(token.ReasoningLen, true) {
		moved := false
		for _, dir := range []int{1, -1} {
			c := start
			if k.change(&c, dir); k.show(c) == k.show(start) {
				continue // at the end of its range this way
			}
			moved = true
			if k.name == "rules" { // a switch of rules sets what they cannot run to what they can
				if k.change(&c, -dir); k.show(c) != k.show(start) || c.Validate() != nil {
					t.Errorf("rules: %s does not come back to a valid %s: %v", k.show(c), k.show(start), c.Validate())
				}
				break
			}
			if k.change(&c, -dir); !reflect.DeepEqual(c, start) {
				t.Errorf("%s: %s does not come back (shows %s)", k.name, k.show(start), k.show(c))
			}
			break
		}
		if !moved {
			t.Errorf("%s: stays at %s either way", k.name, k.show(start))
		}
	}
}

// A job's cancellation is known by its error value, wrapped as the
// training loop wraps it, not by its text: an error that only says
// "context canceled" is a failure.
func TestJobCancelledByErrorValue(t *testing.T) {
	for _, c := range []struct {
		err        error
		cancelled  bool
		wantStatus string
	}{
		{fmt.Errorf("pararl batch 2: %w", fmt.Errorf("sample: step 3 of a group: %w", context.Canceled)), true, "SFT job cancelled"},
		{errors.Join(context.Canceled, errors.New("checkpoint: disk full")), true, "SFT job cancelled"},
		{errors.New("remote: context canceled"), false, ""},
	} {
		a := testApp(t, 120, 40)
		engineOf(a).sft = func(ctx context.Context, kinds []string, steps int, progress func(JobProgress)) (string, error) {
			<-ctx.Done()
			return "runs/x/model.safetensors", c.err
		}
		press(a, "s")
		_, wait := a.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
		press(a, "s") // cancels
		drain(a, wait)
		switch {
		case a.job != nil:
			t.Fatalf("%v: the job is still running", c.err)
		case c.cancelled && (a.err != nil || !strings.Contains(a.status, c.wantStatus)):
			t.Errorf("%v: status %q, error %v; want a cancellation", c.err, a.status, a.err)
		case !c.cancelled && (a.err == nil || !strings.Contains(a.err.Error(), "remote: context canceled")):
			t.Errorf("%v: status %q, error %v; want a failure", c.err, a.status, a.err)
		}
	}
}

// x hands the export to a command: Update returns at once, saying
// "exporting…", and the command's message shows the paths or the error.
func TestExportRunsOffUpdate(t *testing.T) {
	a := testApp(t, 120, 40)
	release := make(chan struct{})
	engineOf(a).export = func(t Trajectory, dir string) ([]string, error) {
		<-release
		if dir == "full" {
			return nil, errors.New("disk full")
		}
		return []string{dir + "/a.jsonl", dir + "/b.gif"}, nil
	}
	pressX := func() tea.Cmd {
		done := make(chan tea.Cmd)
		go func() {
			_, cmd := a.Update(tea.KeyPressMsg{Code: 'x', Text: "x"})
			done <- cmd
		}()
		select {
		case cmd := <-done:
			return cmd
		case <-time.After(5 * time.Second):
			t.Fatal("Update waits for the export")
			return nil
		}
	}
	cmd := pressX()
	if cmd == nil || !strings.Contains(screen(a), "exporting…") {
		t.Fatalf("no command, or no word of the export:\n%s", screen(a))
	}
	close(release)
	a.Update(cmd())
	if !strings.Contains(screen(a), "exported out/a.jsonl, out/b.gif") {
		t.Fatalf("no paths:\n%s", screen(a))
	}
	a.o.ExportDir = "full"
	a.Update(pressX()())
	if a.err == nil || a.err.Error() != "export: disk full" {
		t.Fatalf("error %v", a.err)
	}
}

// The footer and the ? overlay show the keys live in each state, and the
// keys that are not live do nothing.
func TestHelpShowsLiveKeys(t *testing.T) {
	a := testApp(t, 200, 60)
	footer := func() string { lines := strings.Split(screen(a), "\n"); return lines[len(lines)-1] }
	if f := footer(); !strings.Contains(f, "←/→ scrub") || strings.Contains(f, "pick") {
		t.Fatalf("view footer: %s", f)
	}
	press(a, "tab")
	if f := footer(); strings.Contains(f, "scrub") || !strings.Contains(f, "↑↓ pick · ←→ change") {
		t.Fatalf("panel footer: %s", f)
	}
	press(a, "?")
	if s := screen(a); !strings.Contains(s, "pick a knob on the panel") || strings.Contains(s, "scrub through the steps") {
		t.Fatalf("panel help:\n%s", s)
	}
	press(a, "?", "tab", "e")
	if f := footer(); f != " type the new text · enter run it · esc cancel" {
		t.Fatalf("edit footer: %q", f)
	}
	press(a, "q") // typed, not quit
	if !strings.HasSuffix(string(a.edit), "q") {
		t.Fatalf("the field holds %q", string(a.edit))
	}
	press(a, "esc")
	if a.editing {
		t.Fatal("esc leaves the field")
	}
	engineOf(a).sft = func(context.Context, []string, int, func(JobProgress)) (string, error) { return "", nil }
	press(a, "s")
	if f := footer(); !strings.Contains(f, "←/→ edit kind · ↑/↓ steps · enter start · esc close") {
		t.Fatalf("form footer: %s", f)
	}
	press(a, "q") // not live in the form
	if !a.form.open {
		t.Fatal("q closed the form")
	}
	press(a, "esc", "y")
	if a.opening != "" || !strings.Contains(screen(a), "no model to switch to") {
		t.Fatalf("y with no offer:\n%s", screen(a))
	}
}

// Keys that can do nothing say why, and toggles say what they show.
func TestKeysNeverSilent(t *testing.T) {
	a := testApp(t, 120, 40)
	says := func(what, want string) {
		t.Helper()
		if sc := screen(a); !strings.Contains(sc, want) {
			t.Fatalf("%s: no %q on screen:\n%s", what, want, sc)
		}
	}
	press(a, "g")
	says("g", "masked patches show the model's guesses")
	says("g", "guesses shown")
	press(a, "v")
	says("v", "words coloured by the model's probability when committed")
	says("v", "p committed 0 .25 .5 .75 1")
	a.frames[len(a.frames)-1].Nanos = int64(400 * time.Millisecond)
	for range 10 {
		press(a, "+")
	}
	says("+", "a step takes 400ms here, so that sets the pace")
	for !a.done() {
		press(a, "space")
	}
	press(a, "space")
	says("space when done", "the run is done: n new seed")
	a.setStatus("")
	press(a, "enter")
	says("enter when done", "the run is done")
	if a.running {
		t.Fatal("enter ran a finished run")
	}
}

// q with a job running asks first; a second q cancels the job and quits.
// p while ParaRL runs says it is cancelling until the job stops.
func TestQuitWithAJobRunning(t *testing.T) {
	a := testApp(t, 120, 40)
	stopped := make(chan struct{})
	engineOf(a).paraRL = func(ctx context.Context, batches int, progress func(JobProgress)) (string, error) {
		progress(JobProgress{Step: 1, Steps: batches})
		<-ctx.Done()
		close(stopped)
		return "", ctx.Err()
	}
	_, cmd := a.Update(tea.KeyPressMsg{Code: 'p', Text: "p"})
	a.Update(cmd())
	_, quit := a.Update(tea.KeyPressMsg{Code: 'q', Text: "q"})
	if quit != nil || !strings.Contains(screen(a), "q again cancels it and quits") {
		t.Fatalf("q quit with a job running:\n%s", screen(a))
	}
	press(a, "left") // another key: the question lapses
	if _, quit = a.Update(tea.KeyPressMsg{Code: 'q', Text: "q"}); quit != nil {
		t.Fatal("q after another key quit without asking")
	}
	press(a, "p")
	if !strings.Contains(screen(a), "cancelling…") {
		t.Fatalf("no word of the cancel:\n%s", screen(a))
	}
	<-stopped
	engineOf(a).paraRL = func(ctx context.Context, batches int, progress func(JobProgress)) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}
	drain(a, cmd)
	_, cmd = a.Update(tea.KeyPressMsg{Code: 'p', Text: "p"})
	a.Update(tea.KeyPressMsg{Code: 'q', Text: "q"})
	if _, quit = a.Update(tea.KeyPressMsg{Code: 'q', Text: "q"}); quit != nil {
		t.Fatal("q twice quit before the job stopped")
	}
	if !strings.Contains(screen(a), "quitting once the ParaRL job has written its checkpoint") {
		t.Fatalf("no word of the wait:\n%s", screen(a))
	}
	msg := cmd()
	if msg.(jobMsg).update.(jobDone).err == nil {
		t.Fatal("the job was not cancelled")
	}
	if _, quit = a.Update(msg); quit == nil {
		t.Fatal("no quit once the job stopped")
	}
	if _, ok := quit().(tea.QuitMsg); !ok {
		t.Fatal("no quit once the job stopped")
	}
}

// An export after the prompt was edited records the edited prompt, and
// no longer the case's ground truth; before the edit it records both.
func TestExportAfterEditRecordsTheEditedPrompt(t *testing.T) {
	a := testApp(t, 120, 40)
	var got Trajectory
	engineOf(a).export = func(t Trajectory, dir string) ([]string, error) { got = t; return nil, nil }
	caseInstruction := a.prompt.Instruction
	press(a, "space", "x")
	if got.Prompt.Instruction != caseInstruction || got.Truth == nil || got.Model != "fixed" || len(got.Frames) != 2 {
		t.Fatalf("before the edit: %q, truth %v, model %q, %d frames", got.Prompt.Instruction, got.Truth != nil, got.Model, len(got.Frames))
	}
	press(a, "e")
	for range len([]rune(caseInstruction)) {
		press(a, "backspace")
	}
	for _, r := range "remove the circle" {
		press(a, string(r))
	}
	press(a, "enter", "space", "space", "x")
	if got.Prompt.Instruction != "remove the circle" || got.Truth != nil || len(got.Frames) != 3 {
		t.Fatalf("after the edit: %q, truth %v, %d frames", got.Prompt.Instruction, got.Truth != nil, len(got.Frames))
	}
	if got.Prompt.Task != world.ThinkEdit || got.Config.Steps != 8 {
		t.Fatalf("task %s, %d steps", got.Prompt.Task, got.Config.Steps)
	}
}

// Nothing a user needs is cut off: the way to help at every width, every
// knob's value where the panel shows, an export's files at 80 columns.
func TestNothingCutOff(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
		a := testApp(t, size[0], size[1])
		a.cfg.Text.Remasking, a.cfg.Image.Schedule = sample.LowConfidence, "exponential"
		if !slices.Contains(sample.Schedules(), a.cfg.Image.Schedule) {
			a.cfg.Image.Schedule = sample.Schedules()[len(sample.Schedules())-1]
		}
		sc := screen(a)
		lines := strings.Split(sc, "\n")
		if footer := lines[len(lines)-1]; !strings.Contains(footer, "? help") || !strings.Contains(footer, "q quit") {
			t.Errorf("%dx%d: footer %q", size[0], size[1], footer)
		}
		if size[0] >= 110 && (!strings.Contains(sc, sample.LowConfidence) || !strings.Contains(sc, a.cfg.Image.Schedule)) {
			t.Errorf("%dx%d: a knob's value is cut:\n%s", size[0], size[1], sc)
		}
		a.Update(exportedMsg{paths: []string{"exports/trajectory-20261205-120000-2.jsonl", "exports/trajectory-20261205-120000-2.gif", "exports/strip-20261205-120000-2.png"}})
		if sc := screen(a); !strings.Contains(sc, "exported 3 files: exports/*-20261205-120000-2.*") {
			t.Errorf("%dx%d: the export's files are cut:\n%s", size[0], size[1], sc)
		}
	}
}

// answering is a fake model that knows the answer: the target sequence's
// token at every position, surer at later ones.
type answering struct {
	v      *token.Vocab
	target []int
}

func (m answering) Logits(ids []int32, batch, seq int, sel []int32) ([]float32, error) {
	V := m.v.Size()
	out := make([]float32, len(sel)*V)
	for j, p := range sel {
		out[j*V+m.target[int(p)%seq]] = 5 + float32(int(p)%seq)/100
	}
	return out, nil
}

// The partial judge plots the run against the case's answer: nothing at
// step 0, 100 at the end of a right answer, with a verdict; t shows the
// answer; a wrong answer says where it is wrong.
func TestJudgeCurvesAndVerdict(t *testing.T) {
	a := testApp(t, 120, 40)
	seq, err := a.o.Vocab.(*token.Vocab).BuildCase(a.o.Codebook.(*vq.Codebook), *a.truth)
	if err != nil {
		t.Fatal(err)
	}
	engineOf(a).sampler = answering{a.o.Vocab.(*token.Vocab), seq.IDs}
	press(a, "r")
	if sc := screen(a); !strings.Contains(sc, "text align      ·") && !strings.Contains(sc, "  0/100") {
		t.Fatalf("step 0:\n%s", sc)
	}
	for !a.done() {
		press(a, "space")
	}
	sc := screen(a)
	for _, want := range []string{"text align", "100/100", "✓ right"} {
		if !strings.Contains(sc, want) {
			t.Fatalf("no %q at the end of a right answer:\n%s", want, sc)
		}
	}
	if strings.Contains(sc, "the case's answer") {
		t.Fatal("the answer shown before t")
	}
	press(a, "t")
	if sc := screen(a); !strings.Contains(sc, "the case's answer") || !strings.Contains(sc, strings.Fields(a.truth.Reasoning)[0]) {
		t.Fatalf("t shows no answer:\n%s", sc)
	}
	press(a, "home")
	if strings.Contains(screen(a), "✓ right") {
		t.Fatal("a verdict before the last step")
	}

	b := testApp(t, 120, 40) // the fixed model: circles everywhere
	for !b.done() {
		press(b, "space")
	}
	if sc := screen(b); !strings.Contains(sc, "✗ wrong: text align 0") {
		t.Fatalf("no verdict on a wrong answer:\n%s", sc)
	}
	press(b, "e", "enter")
	press(b, "t")
	if !strings.Contains(screen(b), "no answer to show") {
		t.Fatalf("t after an edit:\n%s", screen(b))
	}
}

// The inspector follows a word or a patch: picked by [ ] or a click, it
// shows the reveal, the probability then, and the candidates step by
// step; the picked patch is outlined in the picture.
func TestInspector(t *testing.T) {
	a := testApp(t, 120, 40)
	press(a, "space", "space", "space", "i")
	sc := screen(a)
	if a.inspected != a.o.Vocab.ImageLen() || !strings.Contains(sc, "inspect word 1") || !strings.Contains(sc, "most likely, step by step:") {
		t.Fatalf("i inspects the first word:\n%s", sc)
	}
	press(a, "]")
	if !strings.Contains(screen(a), "inspect word 2") {
		t.Fatalf("] picks the next word:\n%s", screen(a))
	}
	if !strings.Contains(sc, "step 1   circle 1.00") && !strings.Contains(sc, "step 1   circle") {
		t.Fatalf("no candidates of step 1:\n%s", sc)
	}
	if v := a.View(); v.MouseMode != tea.MouseModeCellMotion {
		t.Fatal("no mouse while inspecting")
	}
	press(a, "[", "[")
	if sc := screen(a); !strings.Contains(sc, "inspect patch (5, 5)") {
		t.Fatalf("[ goes round to the last patch:\n%s", sc)
	}
	l := a.layout()
	a.Update(tea.MouseClickMsg{X: l.imgLeft, Y: l.imgTop, Button: tea.MouseLeft})
	if a.inspected != 0 || !strings.Contains(screen(a), "inspect patch (0, 0)") {
		t.Fatalf("a click on the picture's corner picked %d", a.inspected)
	}
	img := a.picture(a.shownFrame()).(*image.RGBA)
	if img.RGBAAt(0, 0) != (color.RGBA{255, 255, 255, 255}) || img.RGBAAt(world.PatchPx, 0) == img.RGBAAt(0, 0) {
		t.Fatal("the picked patch is not outlined, or more is")
	}
	// A click on the third word of the reasoning picks it.
	f := a.shownFrame()
	_, spans := a.reasoning(f, l.textWidth)
	w := spans[2]
	a.Update(tea.MouseClickMsg{X: l.textLeft + w.col, Y: l.imgTop + len(a.textHead(f, l)) + w.line, Button: tea.MouseLeft})
	if a.inspected != w.pos || !strings.Contains(screen(a), "inspect word 3") {
		t.Fatalf("a click on word 3 picked %d", a.inspected)
	}
	press(a, "i")
	if v := a.View(); v.MouseMode != tea.MouseModeNone || strings.Contains(screen(a), "inspect word") {
		t.Fatal("i does not close the inspector")
	}
}

// Forks are kept as branches and shown again where they were left; the
// panel marks knobs that differ from the shown run; a knob can be typed.
func TestForkTreeAndTypedKnobs(t *testing.T) {
	a := testApp(t, 160, 50)
	press(a, "space", "space", "space", "tab")
	for a.knob != slices.IndexFunc(a.knobs, func(k knob) bool { return k.name == "text temperature" }) {
		press(a, "down")
	}
	press(a, "right")
	if sc := screen(a); !strings.Contains(sc, "0.1*") {
		t.Fatalf("a changed knob is not marked:\n%s", sc)
	}
	press(a, "tab", "f")
	if a.branch != 1 || len(a.branches) != 2 || !strings.Contains(screen(a), "[1←0@3]") {
		t.Fatalf("fork: branch %d of %d:\n%s", a.branch, len(a.branches), screen(a))
	}
	press(a, "space", "space")
	press(a, "b")
	if a.branch != 0 || a.shown != 3 || len(a.frames) != 4 || a.cfg.Text.Temperature != 0 || !strings.Contains(screen(a), "[0]") {
		t.Fatalf("b shows the first run where it was left: branch %d, step %d of %d frames, temperature %v", a.branch, a.shown, len(a.frames), a.cfg.Text.Temperature)
	}
	press(a, "space")
	press(a, "B")
	if a.branch != 1 || a.shown != 5 || a.cfg.Text.Temperature != 0.1 || !strings.Contains(a.status, "fork 1, from 0 at step 3 (text temperature 0.1)") {
		t.Fatalf("B shows the fork where it was left: branch %d, step %d, status %q", a.branch, a.shown, a.status)
	}
	press(a, "b")
	if len(a.frames) != 5 {
		t.Fatalf("the first run lost its step: %d frames", len(a.frames))
	}
	press(a, "n")
	if len(a.branches) != 1 || strings.Contains(screen(a), "branches") {
		t.Fatal("a new run keeps the old tree")
	}

	press(a, "tab")
	for a.knob != 0 { // steps
		press(a, "up")
	}
	press(a, "enter", "backspace", "1", "2", "enter")
	if a.cfg.Steps != 12 || a.editing || !strings.Contains(a.status, "steps set to 12") {
		t.Fatalf("typed steps: %d, editing %v, status %q", a.cfg.Steps, a.editing, a.status)
	}
	press(a, "enter", "x", "enter")
	if !a.editing || a.err == nil || !strings.Contains(a.err.Error(), `steps: "12x"`) {
		t.Fatalf("a bad value: editing %v, error %v", a.editing, a.err)
	}
	press(a, "esc")
	if a.editing || a.cfg.Steps != 12 {
		t.Fatal("esc does not leave the value as it was")
	}
}

// Every knob takes what it shows, typed back.
func TestKnobsTakeWhatTheyShow(t *testing.T) {
	c := sample.Defaults()
	for _, k := range knobList(token.ReasoningLen, true) {
		before := c
		if err := k.set(&c, k.show(c)); err != nil || !reflect.DeepEqual(c, before) {
			t.Errorf("%s: %q typed back: %v", k.name, k.show(before), err)
		}
		if err := k.set(&c, "nonsense"); err == nil || !strings.Contains(err.Error(), k.name) {
			t.Errorf("%s: nonsense taken: %v", k.name, err)
		}
	}
}

// Cases page with pgdn / pgup; talk mode plays them one after another.
func TestCasesAndTalkMode(t *testing.T) {
	a := testApp(t, 160, 50)
	a.o.CaseAt = func(i int) world.Case { return world.Generate(1, i, world.MixEdit) }
	press(a, ",")
	if !strings.Contains(a.status, "this is the first case") {
		t.Fatalf("pgup on the first case: %q", a.status)
	}
	press(a, ".")
	want := world.Generate(1, 1, world.MixEdit)
	if a.caseAt != 1 || a.prompt.Instruction != want.Instruction || a.truth.Reasoning != want.Reasoning || a.input.Objects[0] != want.Input.Objects[0] {
		t.Fatalf("pgdn: case %d, prompt %q", a.caseAt, a.prompt.Instruction)
	}

	a.o.Demo, a.autoplay = true, true
	a.speed, a.hold = time.Millisecond, time.Millisecond
	a.useTheme()
	if l := a.layout(); l.panelWidth != 0 {
		t.Fatal("talk mode keeps the knob panel")
	}
	press(a, ".")
	if !a.running || a.caseAt != 2 {
		t.Fatalf("auto-play does not run case 2: running %v, case %d", a.running, a.caseAt)
	}
	for !a.done() {
		_, cmd := a.Update(tickMsg{a.run})
		drain(a, cmd)
	}
	if a.running {
		t.Fatal("still running at the end")
	}
	_, cmd := a.Update(nextCaseMsg{a.run})
	drain(a, cmd)
	if a.caseAt != 3 || !a.running {
		t.Fatalf("after the hold: case %d, running %v", a.caseAt, a.running)
	}
	press(a, "enter")
	if a.autoplay || a.running {
		t.Fatal("enter does not pause the show")
	}
}

// ? lists every live key, at 80×24 too, in columns.
func TestHelpShowsEveryKey(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 50}} {
		a := testApp(t, size[0], size[1])
		press(a, "?")
		sc := screen(a)
		for _, want := range []string{"one step", "a ParaRL job", "switch the sampler", "the knob panel", "quit"} {
			if !strings.Contains(sc, want) {
				t.Errorf("%dx%d: help lacks %q:\n%s", size[0], size[1], want, sc)
			}
		}
	}
}

// Closing a comparison shows a step of the run that is left; esc leaves
// the panel; ctrl+u clears the edit field; the SFT form goes down to ten
// steps; a replay's footer offers only what a replay does.
func TestKeysAsExpected(t *testing.T) {
	a := testApp(t, 120, 40)
	press(a, "c")
	for range 20 {
		press(a, "space")
	}
	press(a, "c")
	if a.shown != len(a.frames)-1 || !strings.Contains(screen(a), fmt.Sprintf("step %d of %d", a.shown, a.total)) {
		t.Fatalf("after compare: step %d of %d frames", a.shown, len(a.frames))
	}
	press(a, "tab")
	_, _ = a.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	if a.panel {
		t.Fatal("esc does not leave the panel")
	}
	press(a, "e")
	a.Update(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
	if len(a.edit) != 0 {
		t.Fatalf("ctrl+u left %q", string(a.edit))
	}
	press(a, "esc")
	engineOf(a).sft = func(context.Context, []string, int, func(JobProgress)) (string, error) { return "", nil }
	press(a, "s")
	for range 30 {
		press(a, "down")
	}
	if a.form.steps != 10 {
		t.Fatalf("the form stops at %d steps", a.form.steps)
	}
	press(a, "up")
	if a.form.steps != 20 {
		t.Fatalf("up from 10: %d", a.form.steps)
	}
	press(a, "esc")

	r, err := newApp(Options{ModelName: "replay", Vocab: a.o.Vocab, Codebook: a.o.Codebook, Config: a.cfg, Prompt: a.prompt,
		Frames: a.frames, Steps: a.total, Preview: "blocks"})
	if err != nil {
		t.Fatal(err)
	}
	r.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	lines := strings.Split(screen(r), "\n")
	if footer := lines[len(lines)-1]; strings.Contains(footer, "seed") || strings.Contains(footer, "knobs") || !strings.Contains(footer, "scrub") {
		t.Fatalf("replay footer: %s", footer)
	}
}
