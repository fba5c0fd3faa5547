package tui

import (
	"fmt"
	"image"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"

	"parascope/engine/sample"
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
		return tea.Batch(a.readCellSize(), a.refreshImage())
	case uv.CellSizeEvent:
		if msg.Width > 0 && msg.Height > 0 {
			a.cell = image.Pt(msg.Width, msg.Height)
			return a.refreshImage()
		}
	case tea.BackgroundColorMsg:
		a.termBg, a.light = msg.Color, !msg.IsDark()
		a.useTheme()
	case tea.ColorProfileMsg:
		a.profile = pictureProfile(msg.Profile)
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
				cmds = append(cmds, a.holdThenNext())
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
	case nextCaseMsg:
		if msg.run == a.run && a.autoplay {
			return a.loadCase(a.caseAt + 1)
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
	case exactMsg:
		return a.exactDone(msg)
	case compareMsg:
		a.compareUpdate(msg)
		cmds := []tea.Cmd{a.refreshImage()}
		if a.queued > 0 && !a.done() {
			a.queued--
			cmds = append(cmds, a.stepCmd())
		}
		if a.running {
			if a.done() {
				a.running = false
				cmds = append(cmds, a.holdThenNext())
			} else {
				run := a.run
				cmds = append(cmds, tea.Tick(a.speed, func(time.Time) tea.Msg { return tickMsg{run} }))
			}
		}
		return tea.Batch(cmds...)
	case exportedMsg:
		if msg.err != nil {
			a.fail(fmt.Errorf("export: %w", msg.err))
		} else {
			a.setStatus("%s", exported(msg.paths))
		}
	case openedMsg:
		return a.opened(msg)
	case tea.KeyPressMsg:
		return a.key(msg)
	case tea.MouseClickMsg:
		if a.inspecting {
			return a.click(msg.Mouse())
		}
	}
	return nil
}

// key handles one key press: the bindings that sync leaves live answer,
// so the panel, the edit field and the form take the keys they share
// with the view while they have the focus.
func (a *app) key(msg tea.KeyPressMsg) tea.Cmd {
	k := &a.keys
	k.sync(a)
	if !key.Matches(msg, k.Quit) {
		a.quitAsked = false // the question was for the very next key
	}
	switch k.focus {
	case focusEdit:
		return a.editKey(msg)
	case focusForm:
		return a.formKey(msg)
	}
	switch {
	case k.focus == focusPanel && msg.String() == "esc":
		a.panel = false
	case key.Matches(msg, k.KnobType):
		a.editing, a.typingKnob, a.edit = true, true, []rune(a.knobs[a.knob].show(a.cfg))
	case key.Matches(msg, k.KnobUp):
		a.knob = (a.knob + len(a.knobs) - 1) % len(a.knobs)
	case key.Matches(msg, k.KnobDown):
		a.knob = (a.knob + 1) % len(a.knobs)
	case key.Matches(msg, k.KnobLess):
		a.knobs[a.knob].change(&a.cfg, -1)
	case key.Matches(msg, k.KnobMore):
		a.knobs[a.knob].change(&a.cfg, +1)
	case key.Matches(msg, k.Quit):
		return a.quit()
	case key.Matches(msg, k.Help):
		a.help.ShowAll = !a.help.ShowAll
		// The overlay wrote over the pictures, or lay under kitty's: they
		// go while it shows and come back when it closes.
		return a.refreshImage()
	case key.Matches(msg, k.Panel):
		a.panel = !a.panel
	case key.Matches(msg, k.Step):
		return a.stepKey()
	case key.Matches(msg, k.Run):
		if a.done() && !a.autoplay {
			a.sayDone()
			return nil
		}
		a.running = !a.running && !a.done()
		if a.o.Demo && a.o.CaseAt != nil {
			a.autoplay = !a.autoplay // talk mode: enter pauses and resumes the whole show
			if a.autoplay && a.done() {
				return a.loadCase(a.caseAt + 1)
			}
		}
		if a.running {
			a.shown = a.historyLen() - 1
			return a.stepCmd()
		}
	case key.Matches(msg, k.Faster):
		a.speed = max(a.speed*2/3, 20*time.Millisecond)
		a.sayPace()
	case key.Matches(msg, k.Slower):
		a.speed = min(a.speed*3/2, 5*time.Second)
		a.sayPace()
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
		a.setStatus("masked patches show %s", map[bool]string{true: "the model's guesses, dimmed", false: "the mask grey"}[a.guesses])
		return a.refreshImage()
	case key.Matches(msg, k.Inspect):
		a.inspecting = !a.inspecting
		if a.inspecting {
			a.inspected = a.inspectOrder(a.shownFrame())[0]
			a.setStatus("inspecting: [ and ] pick a word or patch, or click one; i closes")
		} else {
			a.setStatus("inspector closed")
		}
		return a.refreshImage()
	case key.Matches(msg, k.PickPrev):
		return a.inspectStep(-1)
	case key.Matches(msg, k.PickNext):
		return a.inspectStep(+1)
	case key.Matches(msg, k.Truth):
		if a.truth == nil {
			a.setStatus("no answer to show: the prompt is not a case's (open one with --case), or it was edited")
			return nil
		}
		a.showTruth = !a.showTruth
		a.setStatus("the case's answer %s", map[bool]string{true: "is shown under the reasoning", false: "is hidden"}[a.showTruth])
	case key.Matches(msg, k.Decode):
		return a.decodeExact()
	case key.Matches(msg, k.Colour):
		a.byConfidence = !a.byConfidence
		a.setStatus("words coloured by %s", map[bool]string{true: "the model's probability when committed", false: "age"}[a.byConfidence])
	case key.Matches(msg, k.Seed, k.Mode, k.Rerun):
		return a.newRun(msg)
	case key.Matches(msg, k.Fork):
		return a.fork()
	case key.Matches(msg, k.NextCase):
		return a.loadCase(a.caseAt + 1)
	case key.Matches(msg, k.PrevCase):
		if a.caseAt == 0 {
			a.setStatus("this is the first case")
			return nil
		}
		return a.loadCase(a.caseAt - 1)
	case key.Matches(msg, k.NextBranch):
		return a.switchBranch(+1)
	case key.Matches(msg, k.PrevBranch):
		return a.switchBranch(-1)
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
	if a.done() {
		a.sayDone()
		return nil
	}
	if a.busy {
		a.queued++ // taken as soon as the step in flight lands
		return nil
	}
	return a.stepCmd()
}

// nextCaseMsg ends the hold on a finished run in auto-play.
type nextCaseMsg struct{ run int }

// holdThenNext goes on to the next case after a hold, in auto-play.
func (a *app) holdThenNext() tea.Cmd {
	if !a.autoplay {
		return nil
	}
	run := a.run
	return tea.Tick(a.hold, func(time.Time) tea.Msg { return nextCaseMsg{run} })
}

// loadCase starts a run on case i of Options.CaseAt.
func (a *app) loadCase(i int) tea.Cmd {
	c := a.o.CaseAt(i)
	p, err := sample.PromptOf(c, a.o.Codebook)
	if err != nil {
		a.fail(err)
		return nil
	}
	a.caseAt = i
	a.setStatus("case %d: %s", i, c.Instruction)
	return a.start(a.cfg, p, &c, false)
}

// sayDone answers a key that would step a finished run.
func (a *app) sayDone() {
	if a.replaying() {
		a.setStatus("the replay's last step: %s scrubs back", a.keys.scrub().Help().Key)
		return
	}
	a.setStatus("the run is done: %s new seed, %s rerun, %s fork at a step, %s edit the prompt",
		a.keys.Seed.Help().Key, a.keys.Rerun.Help().Key, a.keys.Fork.Help().Key, a.keys.Edit.Help().Key)
}

// sayPace says the pace asked for and, when steps take longer, that
// compute sets it.
func (a *app) sayPace() {
	asked := a.speed.Round(time.Millisecond)
	took := time.Duration(a.frames[len(a.frames)-1].Nanos)
	if took > a.speed {
		a.setStatus("a step every %v asked; a step takes %v here, so that sets the pace", asked, took.Round(time.Millisecond))
		return
	}
	a.setStatus("a step every %v while running", asked)
}

// quit quits, but with a job running asks first; a second q cancels the
// job and quits once it has stopped, its checkpoint written (a third
// quits at once).
func (a *app) quit() tea.Cmd {
	switch {
	case a.job == nil || a.quitting:
		return tea.Quit
	case !a.quitAsked:
		a.quitAsked = true
		a.setStatus("the %s job is running: %s again cancels it and quits (its last checkpoint is kept)", a.job.name, a.keys.Quit.Help().Key)
		return nil
	}
	a.quitting = true
	a.job.cancel()
	a.job.cancelling = true
	a.setStatus("quitting once the %s job has written its checkpoint (%s again quits now)", a.job.name, a.keys.Quit.Help().Key)
	return nil
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
	msg := startedMsg{cfg: a.cfg, prompt: a.prompt, truth: a.truth, model: a.model, shown: k, fork: true}
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
		a.editing, a.typingKnob = false, false
	case key.Matches(msg, k.EditRun) && a.typingKnob:
		kn := a.knobs[a.knob]
		if err := kn.set(&a.cfg, strings.TrimSpace(string(a.edit))); err != nil {
			a.fail(err) // the field stays open, to mend the value
			return nil
		}
		a.editing, a.typingKnob = false, false
		a.setStatus("%s set to %s: %s reruns with it, %s forks at the shown step", kn.name, kn.show(a.cfg), a.keys.Rerun.Help().Key, a.keys.Fork.Help().Key)
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
	case key.Matches(msg, k.EditClear):
		a.edit = nil
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

// exported says where an export went, short enough for the status line
// at 80 columns: files that share a folder and a stamp
// (trajectory-STAMP.jsonl, strip-STAMP.png) as one pattern a shell takes.
func exported(paths []string) string {
	if len(paths) == 0 {
		return "exported nothing"
	}
	stampOf := func(p string) string {
		base := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		_, stamp, _ := strings.Cut(base, "-")
		return stamp
	}
	dir, stamp := filepath.Dir(paths[0]), stampOf(paths[0])
	for _, p := range paths {
		if filepath.Dir(p) != dir || stampOf(p) != stamp || stamp == "" {
			return "exported " + strings.Join(paths, ", ")
		}
	}
	return fmt.Sprintf("exported %d files: %s", len(paths), filepath.Join(dir, "*-"+stamp+".*"))
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
	t := Trajectory{Frames: slices.Clone(a.frames), Steps: a.total, Model: a.model, Config: a.runCfg, Prompt: a.prompt, Truth: a.truth}
	a.setStatus("exporting…")
	return func() tea.Msg {
		paths, err := engine.Export(t, dir)
		return exportedMsg{paths, err}
	}
}
