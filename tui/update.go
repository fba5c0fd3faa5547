package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"

	"parascope/engine/sample"
	"parascope/engine/token"
)

func (a *app) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := a.update(msg)
	a.keys.sync(a) // the footer and the overlay show what the new state leaves live
	return a, cmd
}

func (a *app) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		return a.refreshImage()
	case tea.ColorProfileMsg:
		a.profile = pictureProfile(msg.Profile)
		a.useTheme()
	case tea.BackgroundColorMsg:
		a.light = !msg.IsDark()
		a.useTheme()
	case uv.PrimaryDeviceAttributesEvent, uv.KittyGraphicsEvent:
		return a.terminalAnswer(msg)
	case startedMsg:
		return a.started(msg)
	case stepMsg:
		if msg.run != a.run {
			return nil
		}
		a.busy = false
		if msg.err != nil {
			a.running = false
			a.fail(msg.err)
			return nil
		}
		follow := a.shown == len(a.frames)-1
		a.frames = append(a.frames, msg.frame)
		if follow {
			a.shown = len(a.frames) - 1
		}
		cmds := []tea.Cmd{a.refreshImage()}
		if a.queued > 0 && !a.done() {
			a.queued--
			cmds = append(cmds, a.stepCmd())
		}
		if a.running {
			if a.done() {
				a.running = false
			} else {
				run := a.run
				cmds = append(cmds, tea.Tick(a.speed, func(time.Time) tea.Msg { return tickMsg{run} }))
			}
		}
		return tea.Batch(cmds...)
	case tickMsg:
		if msg.run == a.run && a.running {
			return a.stepCmd()
		}
	case resendMsg:
		if msg.gen == a.imageGen {
			return a.encodeImage()
		}
	case imageMsg:
		if msg.gen == a.imageGen && len(msg.data) > 0 {
			return tea.Raw(string(msg.data))
		}
	case jobMsg:
		return a.jobUpdate(msg)
	case compareMsg:
		a.compareUpdate(msg)
		if a.queued > 0 && !a.done() {
			a.queued--
			return a.stepCmd()
		}
		if a.running {
			if a.done() {
				a.running = false
			} else {
				run := a.run
				return tea.Tick(a.speed, func(time.Time) tea.Msg { return tickMsg{run} })
			}
		}
	case exportedMsg:
		if msg.err != nil {
			a.fail(fmt.Errorf("export: %w", msg.err))
		} else {
			a.setStatus("exported %s", strings.Join(msg.paths, ", "))
		}
	case openedMsg:
		return a.opened(msg)
	case tea.KeyPressMsg:
		return a.key(msg)
	}
	return nil
}

// key handles one key press: the bindings that sync leaves live answer,
// so the panel, the edit field and the form take the keys they share
// with the view while they have the focus.
func (a *app) key(msg tea.KeyPressMsg) tea.Cmd {
	k := &a.keys
	k.sync(a)
	switch k.focus {
	case focusEdit:
		return a.editKey(msg)
	case focusForm:
		return a.formKey(msg)
	}
	switch {
	case key.Matches(msg, k.KnobUp):
		a.knob = (a.knob + len(knobs) - 1) % len(knobs)
	case key.Matches(msg, k.KnobDown):
		a.knob = (a.knob + 1) % len(knobs)
	case key.Matches(msg, k.KnobLess):
		knobs[a.knob].change(&a.cfg, -1)
	case key.Matches(msg, k.KnobMore):
		knobs[a.knob].change(&a.cfg, +1)
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		a.help.ShowAll = !a.help.ShowAll
	case key.Matches(msg, k.Panel):
		a.panel = !a.panel
	case key.Matches(msg, k.Step):
		return a.stepKey()
	case key.Matches(msg, k.Run):
		a.running = !a.running && !a.done()
		if a.running {
			a.shown = a.historyLen() - 1
			return a.stepCmd()
		}
	case key.Matches(msg, k.Faster):
		a.speed = max(a.speed*2/3, 20*time.Millisecond)
		a.setStatus("a step every %v while running", a.speed.Round(time.Millisecond))
	case key.Matches(msg, k.Slower):
		a.speed = min(a.speed*3/2, 5*time.Second)
		a.setStatus("a step every %v while running", a.speed.Round(time.Millisecond))
	case key.Matches(msg, k.Back):
		return a.show(a.shown - 1)
	case key.Matches(msg, k.Forward):
		return a.show(a.shown + 1)
	case key.Matches(msg, k.First):
		return a.show(0)
	case key.Matches(msg, k.Last):
		return a.show(a.historyLen() - 1)
	case key.Matches(msg, k.Guesses):
		a.guesses = !a.guesses
		return a.refreshImage()
	case key.Matches(msg, k.Colour):
		a.byConfidence = !a.byConfidence
	case key.Matches(msg, k.Seed, k.Mode, k.Rerun):
		return a.newRun(msg)
	case key.Matches(msg, k.Fork):
		return a.fork()
	case key.Matches(msg, k.Edit):
		a.editing, a.edit = true, []rune(a.prompt.Instruction)
	case key.Matches(msg, k.Export):
		return a.export()
	case key.Matches(msg, k.Compare):
		return a.toggleCompare()
	case key.Matches(msg, k.SFT, k.ParaRL):
		return a.jobKey(msg)
	case key.Matches(msg, k.Switch):
		return a.switchModel()
	}
	return nil
}

// show scrubs to frame i of the history.
func (a *app) show(i int) tea.Cmd {
	a.shown = min(max(i, 0), a.historyLen()-1)
	return a.refreshImage()
}

// stepKey moves forward through the history, or takes a new step at its
// end; a step asked for while one is in flight is queued.
func (a *app) stepKey() tea.Cmd {
	if a.shown < a.historyLen()-1 {
		a.shown++
		return a.refreshImage()
	}
	if a.replaying() {
		return nil
	}
	if a.busy {
		a.queued++ // taken as soon as the step in flight lands
		return nil
	}
	return a.stepCmd()
}

// newRun starts again from step 0: with the next seed, the other mode, or
// the panel's knobs as they are.
func (a *app) newRun(msg tea.KeyPressMsg) tea.Cmd {
	if a.replaying() {
		a.setStatus("a replay has no model: it can only be watched")
		return nil
	}
	switch {
	case key.Matches(msg, a.keys.Seed):
		a.cfg.Seed++
	case key.Matches(msg, a.keys.Mode):
		a.cfg.Mode = otherMode(a.cfg.Mode)
	}
	if err := a.cfg.ValidateFor(a.o.Vocab); err != nil {
		a.fail(err)
		return nil
	}
	a.setStatus("new run: seed %d, %s mode", a.cfg.Seed, a.cfg.Mode)
	return a.start(a.cfg, a.prompt, a.truth, false)
}

// fork continues from the shown step with the panel's knobs.
func (a *app) fork() tea.Cmd {
	if a.busy || a.cmp != nil {
		a.setStatus("fork needs one run, and no step in progress")
		return nil
	}
	a.setStatus("forked at step %d with the panel's knobs", a.shown)
	old, k := a.stepper, a.shown
	msg := startedMsg{cfg: a.cfg, prompt: a.prompt, truth: a.truth, model: a.model, shown: k}
	return a.starting(func() startedMsg {
		msg.main, msg.err = old.Fork(k, msg.cfg)
		return msg
	})
}

// editKey edits the prompt or instruction; enter starts a new run with it.
func (a *app) editKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &a.keys
	switch {
	case key.Matches(msg, k.EditCancel):
		a.editing = false
	case key.Matches(msg, k.EditRun):
		instr := strings.TrimSpace(string(a.edit))
		if _, err := a.o.Vocab.Encode(instr); err != nil {
			a.fail(err)
			return nil
		}
		a.editing = false
		p := a.prompt
		p.Instruction = instr
		a.setStatus("new %s: %q", p.Task, instr)
		// An edited prompt is no longer the case's: its ground truth goes.
		return a.start(a.cfg, p, nil, false)
	case key.Matches(msg, k.EditErase):
		if len(a.edit) > 0 {
			a.edit = a.edit[:len(a.edit)-1]
		}
	default:
		if text := msg.Key().Text; text != "" {
			a.edit = append(a.edit, []rune(text)...)
		}
	}
	return nil
}

// exportedMsg ends an export: the files written, or why none were.
type exportedMsg struct {
	paths []string
	err   error
}

// export writes the trajectory's files off the UI goroutine: the frames
// shown, with the settings, prompt and model that made them.
func (a *app) export() tea.Cmd {
	engine, dir := a.o.Engine, a.o.ExportDir
	t := Trajectory{Frames: slices.Clone(a.frames), Model: a.model, Config: a.runCfg, Prompt: a.prompt, Truth: a.truth}
	a.setStatus("exporting…")
	return func() tea.Msg {
		paths, err := engine.Export(t, dir)
		return exportedMsg{paths, err}
	}
}

// knob is one sampler setting the side panel edits.
type knob struct {
	name   string
	show   func(c sample.Config) string
	change func(c *sample.Config, dir int)
}

func cycle(options []string, cur string, dir int) string {
	i := slices.Index(options, cur)
	return options[(i+dir+len(options))%len(options)]
}

func step(v *float64, by float64, dir int) { *v = max(0, *v+by*float64(dir)) }

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// blockSizes are the text block lengths the panel offers: the divisors of
// the text span, which are the lengths Validate accepts.
var blockSizes = func() []int {
	var out []int
	for b := 1; b <= token.ReasoningLen; b++ {
		if token.ReasoningLen%b == 0 {
			out = append(out, b)
		}
	}
	return out
}()

var knobs = []knob{
	{"steps", func(c sample.Config) string { return fmt.Sprint(c.Steps) }, func(c *sample.Config, d int) { c.Steps = max(1, c.Steps+d) }},
	{"mode", func(c sample.Config) string { return c.Mode }, func(c *sample.Config, d int) {
		c.Mode = cycle(sample.Modes(), c.Mode, d)
	}},
	{"text block", func(c sample.Config) string { return fmt.Sprint(c.Text.Block) }, func(c *sample.Config, d int) {
		i := slices.Index(blockSizes, c.Text.Block)
		c.Text.Block = blockSizes[min(max(i+d, 0), len(blockSizes)-1)]
	}},
	{"text schedule", func(c sample.Config) string { return c.Text.Schedule }, func(c *sample.Config, d int) { c.Text.Schedule = cycle(sample.Schedules(), c.Text.Schedule, d) }},
	{"text remasking", func(c sample.Config) string { return c.Text.Remasking }, func(c *sample.Config, d int) { c.Text.Remasking = cycle(sample.RemaskingRules(), c.Text.Remasking, d) }},
	{"text temperature", func(c sample.Config) string { return fmt.Sprintf("%.1f", c.Text.Temperature) }, func(c *sample.Config, d int) { step(&c.Text.Temperature, 0.1, d) }},
	{"text end last", func(c sample.Config) string { return onOff(c.Text.EndLast) }, func(c *sample.Config, _ int) { c.Text.EndLast = !c.Text.EndLast }},
	{"text cfg", func(c sample.Config) string { return fmt.Sprintf("%.1f", c.Text.CFG) }, func(c *sample.Config, d int) { step(&c.Text.CFG, 0.5, d) }},
	{"image schedule", func(c sample.Config) string { return c.Image.Schedule }, func(c *sample.Config, d int) { c.Image.Schedule = cycle(sample.Schedules(), c.Image.Schedule, d) }},
	{"image steps", func(c sample.Config) string {
		if c.Image.ImageSteps == 0 {
			return "every"
		}
		return fmt.Sprint(c.Image.ImageSteps)
	}, func(c *sample.Config, d int) { c.Image.ImageSteps = min(max(0, c.Image.ImageSteps+d), c.Steps) }},
	{"image remasking", func(c sample.Config) string { return c.Image.Remasking }, func(c *sample.Config, d int) {
		c.Image.Remasking = cycle(sample.RemaskingRules(), c.Image.Remasking, d)
	}},
	{"image temperature", func(c sample.Config) string { return fmt.Sprintf("%.1f", c.Image.Temperature) }, func(c *sample.Config, d int) { step(&c.Image.Temperature, 0.1, d) }},
	{"remask temperature", func(c sample.Config) string { return fmt.Sprintf("%.1f", c.Image.RemaskTemperature) }, func(c *sample.Config, d int) { step(&c.Image.RemaskTemperature, 0.5, d) }},
	{"image cfg", func(c sample.Config) string { return fmt.Sprintf("%.1f", c.Image.CFG) }, func(c *sample.Config, d int) { step(&c.Image.CFG, 0.5, d) }},
}
