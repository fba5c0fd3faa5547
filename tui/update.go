package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	uv "github.com/charmbracelet/ultraviolet"

	"parascope/engine/sample"
	"parascope/engine/token"
)

func (a *app) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		return a, a.refreshImage()
	case tea.ColorProfileMsg:
		a.shading = msg.Profile == colorprofile.Ascii || msg.Profile == colorprofile.NoTTY
	case uv.PrimaryDeviceAttributesEvent:
		if slices.Contains(msg, 4) && a.preview == "blocks" {
			a.preview = "sixel"
			return a, a.refreshImage()
		}
	case uv.KittyGraphicsEvent:
		a.preview = "kitty"
		return a, a.refreshImage()
	case stepMsg:
		if msg.run != a.run {
			return a, nil
		}
		a.busy = false
		if msg.err != nil {
			a.running = false
			a.fail(msg.err)
			return a, nil
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
		return a, tea.Batch(cmds...)
	case tickMsg:
		if msg.run == a.run && a.running {
			return a, a.stepCmd()
		}
	case resendMsg:
		if msg.gen == a.imageGen {
			return a, a.encodeImage()
		}
	case imageMsg:
		if msg.gen == a.imageGen && len(msg.data) > 0 {
			return a, tea.Raw(string(msg.data))
		}
	case jobMsg:
		return a, a.jobUpdate(msg)
	case compareMsg:
		a.compareUpdate(msg)
		if a.queued > 0 && !a.done() {
			a.queued--
			return a, a.stepCmd()
		}
		if a.running {
			if a.done() {
				a.running = false
			} else {
				run := a.run
				return a, tea.Tick(a.speed, func(time.Time) tea.Msg { return tickMsg{run} })
			}
		}
	case tea.KeyPressMsg:
		return a, a.key(msg.String(), msg.Key().Text)
	}
	return a, nil
}

// key handles one key press.
func (a *app) key(k, text string) tea.Cmd {
	if a.editing {
		return a.editKey(k, text)
	}
	if a.form.open {
		return a.formKey(k)
	}
	if a.panel {
		switch k {
		case "up", "k":
			a.knob = (a.knob + len(knobs) - 1) % len(knobs)
			return nil
		case "down", "j":
			a.knob = (a.knob + 1) % len(knobs)
			return nil
		case "left", "h":
			knobs[a.knob].change(&a.cfg, -1)
			return nil
		case "right", "l":
			knobs[a.knob].change(&a.cfg, +1)
			return nil
		}
	}
	switch k {
	case "q", "ctrl+c":
		return tea.Quit
	case "?":
		a.help = !a.help
	case "tab", "shift+tab":
		a.panel = !a.panel
	case "space":
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
	case "enter":
		if a.replaying() {
			return nil
		}
		a.running = !a.running && !a.done()
		if a.running {
			a.shown = a.historyLen() - 1
			return a.stepCmd()
		}
	case "+", "=":
		a.speed = max(a.speed*2/3, 20*time.Millisecond)
		a.setStatus("a step every %v while running", a.speed.Round(time.Millisecond))
	case "-":
		a.speed = min(a.speed*3/2, 5*time.Second)
		a.setStatus("a step every %v while running", a.speed.Round(time.Millisecond))
	case "left":
		a.shown = max(a.shown-1, 0)
		return a.refreshImage()
	case "right":
		a.shown = min(a.shown+1, a.historyLen()-1)
		return a.refreshImage()
	case "home":
		a.shown = 0
		return a.refreshImage()
	case "end":
		a.shown = a.historyLen() - 1
		return a.refreshImage()
	case "g":
		a.guesses = !a.guesses
		return a.refreshImage()
	case "v":
		a.byConfidence = !a.byConfidence
	case "n", "m", "r":
		if a.replaying() {
			a.setStatus("a replay has no model: it can only be watched")
			return nil
		}
		switch k {
		case "n":
			a.cfg.Seed++
		case "m":
			a.cfg.Mode = map[string]string{sample.Parallel: sample.Sequential, sample.Sequential: sample.Parallel}[a.cfg.Mode]
		}
		if err := a.cfg.Validate(); err != nil {
			a.fail(err)
			return nil
		}
		if err := a.restart(); err != nil {
			a.fail(err)
			return nil
		}
		a.setStatus("new run: seed %d, %s mode", a.cfg.Seed, a.cfg.Mode)
		return a.refreshImage()
	case "f":
		if a.replaying() {
			return nil
		}
		if a.busy || a.cmp != nil {
			a.setStatus("fork needs one run, and no step in progress")
			return nil
		}
		f, err := a.stepper.Fork(a.shown, a.cfg)
		if err != nil {
			a.fail(err)
			return nil
		}
		a.stepper, a.frames, a.total = f, f.History(), f.Steps()
		a.run++
		a.running = false
		a.setStatus("forked at step %d with the panel's knobs", a.shown)
		return a.refreshImage()
	case "e":
		if !a.replaying() {
			a.editing, a.edit = true, []rune(a.o.Prompt.Instruction)
		}
	case "x":
		return a.export()
	case "c":
		return a.toggleCompare()
	case "s", "p":
		switch {
		case a.job != nil && a.job.key == k:
			a.job.cancel()
			a.setStatus("cancelling the %s job…", a.job.name)
		case a.job != nil:
			a.setStatus("the %s job is running: %s cancels it", a.job.name, a.job.key)
		case a.replaying() || (k == "s" && a.o.SFT == nil) || (k == "p" && a.o.ParaRL == nil):
			a.setStatus("no training here: a replay has no model to train")
		case k == "s":
			a.form.open = true
		default:
			return a.startParaRL()
		}
	case "y":
		if a.offer != "" {
			return a.switchModel()
		}
	}
	return nil
}

// editKey edits the prompt or instruction; enter starts a new run with it.
func (a *app) editKey(k, text string) tea.Cmd {
	switch k {
	case "esc":
		a.editing = false
	case "enter":
		instr := strings.TrimSpace(string(a.edit))
		if _, err := a.o.Vocab.Encode(instr); err != nil {
			a.fail(err)
			return nil
		}
		a.editing = false
		old := a.o.Prompt.Instruction
		a.o.Prompt.Instruction = instr
		if err := a.restart(); err != nil {
			a.o.Prompt.Instruction = old
			a.fail(err)
			return nil
		}
		a.setStatus("new %s: %q", a.o.Prompt.Task, instr)
		return a.refreshImage()
	case "backspace":
		if len(a.edit) > 0 {
			a.edit = a.edit[:len(a.edit)-1]
		}
	default:
		if text != "" {
			a.edit = append(a.edit, []rune(text)...)
		}
	}
	return nil
}

func (a *app) export() tea.Cmd {
	if a.o.Export == nil {
		return nil
	}
	frames, cfg, dir := slices.Clone(a.frames), a.cfg, a.o.ExportDir
	paths, err := a.o.Export(frames, cfg, dir)
	if err != nil {
		a.fail(err)
		return nil
	}
	a.setStatus("exported %s", strings.Join(paths, ", "))
	return nil
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
