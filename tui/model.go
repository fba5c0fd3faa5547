package tui

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"os"
	"slices"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"parascope/engine/sample"
	"parascope/engine/world"
	"parascope/viz"
	"parascope/viz/termimg"
)

// Options say what the viewer shows.
type Options struct {
	Engine    Engine // nil when replaying
	ModelName string // a replay's model, for its header
	Vocab     sample.Vocabulary
	Codebook  sample.ImageTokenizer
	Config    sample.Config
	Prompt    sample.Prompt
	Case      *world.Case  // the prompt's ground truth, when it is a case's
	Input     *world.Scene // the input picture of an edit, for display
	// InputPicture is a published model's input picture (the --input
	// PNG), shown where ShapeWorld's Input is; nil for ShapeWorld.
	InputPicture image.Image
	Frames       []sample.Frame // a saved trajectory to replay
	Steps        int            // the replayed run's length
	Preview      string         // auto, or a protocol of termimg.Names
	Color        string         // auto, truecolor, 256, 16 or none
	Theme        string         // auto, dark, light or contrast (themeNames)
	// CaseAt gives the i-th case of a stream the user can page through
	// (next / previous case); nil when the prompt is the only one.
	CaseAt func(i int) world.Case
	// Demo is talk mode: a contrast theme unless one is named, the
	// picture in the knob panel's room too, and auto-play through the
	// cases.
	Demo      bool
	ExportDir string // where x writes
}

// app is the root model.
type app struct {
	o      Options
	cfg    sample.Config // the panel's knobs
	runCfg sample.Config // the knobs of the run shown (of its last fork)
	prompt sample.Prompt
	truth  *world.Case  // the prompt's ground truth; nil once the prompt is edited
	input  *world.Scene // the input picture of an edit, for display
	caseAt int          // the shown case's place in Options.CaseAt
	// autoplay runs each case to its end, holds it, and goes on to the
	// next (talk mode).
	autoplay bool
	hold     time.Duration // how long auto-play shows a finished run
	first    tea.Cmd       // what the first run's start asks for (auto-play's first step)
	model    string        // the model that made the frames

	width  int
	height int

	stepper Stepper
	frames  []sample.Frame
	judged  judged // the partial judge of frames, against truth
	total   int
	shown   int
	run     int // bumps on every restart, so stale step results are dropped
	busy    bool
	queued  int // steps asked for while one was in flight
	running bool
	speed   time.Duration

	byConfidence, guesses bool
	showTruth             bool   // the case's answer is shown beside the run
	inspecting            bool   // the inspector is open
	inspected             int    // on this output position
	quitAsked             bool   // q was pressed once with a job running
	quitting              bool   // and again: quit when the job has stopped
	panel                 bool   // the knob panel has the focus
	knobs                 []knob // the panel's, for the template's text span
	knob                  int
	editing               bool
	typingKnob            bool // the edit field holds the panel's knob, not the prompt
	edit                  []rune

	keys keyMap
	help help.Model // the footer, and the ? overlay while ShowAll

	cmp *comparison // the other run, while comparing

	exact exactPicture // the last exact decode of a partial picture

	branches []branch // the fork tree of the shown run
	branch   int      // the shown branch
	job      *job
	form     jobForm
	offer    string // a finished job's checkpoint, waiting for y
	opening  string // the checkpoint being opened for the sampler

	preview  termimg.Protocol // the protocol in use
	answers  termimg.Answers  // the terminal's answers to the start-up queries
	profile  viz.ColorProfile // the terminal's colours, which pictures are drawn in
	light    bool             // the terminal said its background is light
	theme    *theme
	imageGen int
	cell     image.Point                // the size of a cell in pixels
	cellSize func() (image.Point, bool) // reads it from the terminal, when it says
	tmux     bool                       // the terminal is a tmux pane
	slots    int                        // the raw picture slots used so far
	termBg   color.Color                // the terminal's background, once it says
	status   string
	err      error
}

func newApp(o Options) (*app, error) {
	a := &app{o: o, cfg: o.Config, prompt: o.Prompt, truth: o.Case, input: o.Input, autoplay: o.Demo && o.CaseAt != nil, hold: 4 * time.Second, width: 80, height: 24, speed: 300 * time.Millisecond, preview: termimg.Blocks, form: jobForm{steps: 300},
		keys: newKeyMap(), help: newHelp(), cell: defaultCell, cellSize: ttyCellSize, tmux: os.Getenv("TMUX") != ""}
	defer a.keys.sync(a)
	_, published := o.Vocab.(pieceVocabulary)
	a.knobs = knobList(o.Vocab.ReasoningLen(), published)
	a.useTheme()
	if p := previewProtocol(o.Preview); p != nil {
		a.preview = p
	}
	if o.Engine == nil {
		a.model, a.runCfg = o.ModelName, o.Config
		a.frames, a.total = o.Frames, o.Steps
		a.shown = len(a.frames) - 1
		return a, nil
	}
	// The first run starts before the program does, so it may wait here.
	msg := a.start(a.cfg, a.prompt, a.truth, false)()
	a.first = a.started(msg.(startedMsg)) // Init hands it to the program
	return a, a.err
}

// startedMsg is a new run, started or forked off the UI goroutine with
// the settings and prompt it carries (and the comparison's run beside it).
type startedMsg struct {
	run    int
	cfg    sample.Config
	prompt sample.Prompt
	truth  *world.Case
	model  string
	main   Stepper
	other  Stepper // the comparison, when one was asked for
	shown  int     // the step to show: 0 for a new run, the fork's step
	fork   bool    // a fork of the shown run, not a new one
	err    error
}

// start begins a new trajectory with cfg and p, and with compare a second
// one in the other mode beside it.
func (a *app) start(cfg sample.Config, p sample.Prompt, truth *world.Case, compare bool) tea.Cmd {
	engine := a.o.Engine
	return a.starting(func() startedMsg {
		msg := startedMsg{cfg: cfg, prompt: p, truth: truth, model: engine.Model()}
		if msg.main, msg.err = engine.Start(cfg, p); msg.err == nil && compare {
			msg.other, msg.err = engine.Start(compared(cfg), p)
		}
		return msg
	})
}

// starting calls begin off the UI goroutine and makes what it returns
// the new run. Until that lands, steps asked for wait and the old run
// stays on screen; should it fail, the old run stays live.
func (a *app) starting(begin func() startedMsg) tea.Cmd {
	a.run++
	a.busy, a.running, a.queued = true, false, 0
	run := a.run
	return func() tea.Msg {
		msg := begin()
		msg.run = run
		return msg
	}
}

// started makes a new run the one shown, or says why it did not start;
// the settings and prompt it was asked with become the viewer's only now.
func (a *app) started(msg startedMsg) tea.Cmd {
	if msg.run != a.run {
		return nil
	}
	a.busy = false
	if msg.err != nil {
		a.fail(msg.err)
		return nil
	}
	if msg.fork {
		a.branches[a.branch] = a.current() // the run forked from, as it is now
	}
	a.runCfg, a.prompt, a.truth, a.model = msg.cfg, msg.prompt, msg.truth, msg.model
	if msg.truth != nil {
		a.input = &msg.truth.Input // an edited prompt keeps its input
	}
	// Copies: the stepper appends to its history as it steps, the viewer
	// to its own.
	a.stepper, a.frames, a.total, a.shown = msg.main, slices.Clone(msg.main.History()), msg.main.Steps(), msg.shown
	a.judged = judged{}
	a.cmp = nil
	if msg.other != nil {
		a.cmp = &comparison{stepper: msg.other, frames: slices.Clone(msg.other.History())}
	}
	if msg.fork {
		a.grow(msg.shown)
	} else {
		a.grow(-1)
	}
	cmds := []tea.Cmd{a.refreshImage()}
	switch {
	case a.autoplay && !a.done():
		a.running = true
		cmds = append(cmds, a.stepCmd())
	case a.queued > 0 && !a.done():
		a.queued--
		cmds = append(cmds, a.stepCmd())
	}
	return tea.Batch(cmds...)
}

func (a *app) replaying() bool { return a.o.Engine == nil }

func (a *app) done() bool {
	return a.replaying() || a.stepper == nil || a.mainDone() && (a.cmp == nil || a.cmp.done())
}

// mainDone reports whether the main run is over, from the frames the
// viewer holds: the stepper itself may be stepping on another goroutine.
func (a *app) mainDone() bool { return sample.Finished(a.frames[len(a.frames)-1], a.total) }

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
	cmds := []tea.Cmd{tea.RequestWindowSize, tea.RequestBackgroundColor, a.first}
	if previewProtocol(a.o.Preview) == nil {
		// Ask what the terminal can draw; the answers arrive as messages
		// and switch the preview.
		cmds = append(cmds, tea.Raw(string(startupQueries(a.tmux))))
	}
	return tea.Batch(cmds...)
}

// startupQueries are the picture protocols' queries to send. Inside tmux
// the kitty query is left out: tmux passes no kitty graphics through, and
// shows the query's APC string in the pane title.
func startupQueries(tmux bool) []byte {
	if tmux {
		return termimg.Queries(termimg.Kitty)
	}
	return termimg.Queries()
}

// useTheme applies the theme Options.Theme names for what the terminal
// has said so far: until it says otherwise, a dark background.
func (a *app) useTheme() {
	name := a.o.Theme
	if a.o.Demo && (name == "" || name == "auto") {
		name = "contrast" // what reads on a projector
	}
	a.theme = pickTheme(name, !a.light, a.profile)
	styleMu.Lock()
	a.theme.use()
	styleMu.Unlock()
}

func (a *app) setStatus(format string, args ...any) {
	a.status, a.err = fmt.Sprintf(format, args...), nil
}

func (a *app) fail(err error) { a.err, a.status = err, "" }
