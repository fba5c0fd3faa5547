package tui

import (
	"context"
	"fmt"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
	"parascope/viz/termimg"
)

// Options say what the viewer shows.
type Options struct {
	Model     sample.Model   // nil when replaying
	Aligner   sample.Aligner // scores each step's alignment; may be nil
	ModelName string
	ModelSpec string // what model.Open was given: a path or random:SEED
	Vocab     *token.Vocab
	Codebook  *vq.Codebook
	Config    sample.Config
	Prompt    sample.Prompt
	Input     *world.Scene   // the input picture of an edit, for display
	Frames    []sample.Frame // a saved trajectory to replay
	Steps     int            // the replayed run's length
	Preview   string         // auto, or a protocol of termimg.Names
	Color     string         // auto, truecolor, 256, 16 or none
	ExportDir string         // where x writes
	// Export writes a trajectory's files and returns their paths.
	Export func(frames []sample.Frame, cfg sample.Config, dir string) ([]string, error)
	// SFT and ParaRL run training jobs on the live model; Open loads
	// their result.
	SFT    SFTJob
	ParaRL ParaRLJob
	Open   OpenModel
}

// app is the root model.
type app struct {
	o      Options
	cfg    sample.Config
	width  int
	height int

	stepper *sample.Stepper
	frames  []sample.Frame
	total   int
	shown   int
	run     int // bumps on every restart, so stale step results are dropped
	busy    bool
	queued  int // steps asked for while one was in flight
	running bool
	speed   time.Duration

	byConfidence, guesses bool
	panel                 bool // the knob panel has the focus
	knob                  int
	editing               bool
	edit                  []rune

	keys keyMap
	help help.Model // the footer, and the ? overlay while ShowAll

	cmp     *comparison // the other run, while comparing
	job     *job
	form    jobForm
	offer   string // a finished job's checkpoint, waiting for y
	opening string // the checkpoint being opened for the sampler

	preview  termimg.Protocol // the protocol in use
	answers  termimg.Answers  // the terminal's answers to the start-up queries
	shading  bool             // no colours (NO_COLOR, or a dumb terminal): draw pictures in shades
	imageGen int
	status   string
	err      error
}

func newApp(o Options) (*app, error) {
	a := &app{o: o, cfg: o.Config, width: 80, height: 24, speed: 300 * time.Millisecond, preview: termimg.Blocks, form: jobForm{steps: 300},
		keys: newKeyMap(), help: newHelp()}
	defer a.keys.sync(a)
	if p := previewProtocol(o.Preview); p != nil {
		a.preview = p
	}
	if o.Model == nil {
		a.frames, a.total = o.Frames, o.Steps
		a.shown = len(a.frames) - 1
		return a, nil
	}
	return a, a.restart()
}

// restart begins a new trajectory with the current knobs.
func (a *app) restart() error {
	s, err := sample.New(a.o.Model, a.o.Vocab, a.cfg, a.o.Prompt)
	if err != nil {
		return err
	}
	if a.o.Aligner != nil {
		if err := s.SetAligner(a.o.Aligner); err != nil {
			return err
		}
	}
	a.stepper, a.frames, a.total, a.shown = s, s.History(), s.Steps(), 0
	a.cmp = nil
	a.run++
	a.busy, a.running, a.queued = false, false, 0
	return nil
}

func (a *app) replaying() bool { return a.o.Model == nil }

func (a *app) done() bool {
	return a.replaying() || a.stepper.Done() && (a.cmp == nil || a.cmp.stepper.Done())
}

// historyLen is the number of frames one can scrub through.
func (a *app) historyLen() int {
	if a.cmp != nil {
		return max(len(a.frames), len(a.cmp.frames))
	}
	return len(a.frames)
}

// Messages.
type (
	stepMsg struct {
		run   int
		frame sample.Frame
		err   error
	}
	tickMsg  struct{ run int }
	imageMsg struct {
		gen  int
		data []byte
	}
	resendMsg struct{ gen int }
)

// stepCmd runs one step off the UI goroutine. Only one is in flight at a
// time, so the stepper is never used concurrently.
func (a *app) stepCmd() tea.Cmd {
	if a.cmp != nil {
		return a.compareStepCmd()
	}
	if a.busy || a.done() {
		return nil
	}
	a.busy = true
	s, run := a.stepper, a.run
	return func() tea.Msg {
		f, err := s.Step(context.Background())
		return stepMsg{run, f, err}
	}
}

func (a *app) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestWindowSize}
	if previewProtocol(a.o.Preview) == nil {
		// Ask what the terminal can draw; the answers arrive as messages
		// and switch the preview.
		cmds = append(cmds, tea.Raw(string(termimg.Queries())))
	}
	return tea.Batch(cmds...)
}

func (a *app) setStatus(format string, args ...any) {
	a.status, a.err = fmt.Sprintf(format, args...), nil
}

func (a *app) fail(err error) { a.err, a.status = err, "" }
