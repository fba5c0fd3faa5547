package tui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"parascope/engine/world"
)

// JobProgress is what a running job reports: SFT its loss and tokens/s,
// ParaRL its reward, KL to the starting model and trajectories/s.
type JobProgress struct {
	Step, Steps int
	Loss        float64
	Reward, KL  float64
	Rate        float64
	ETA         time.Duration
}

// job is the running job, if any.
type job struct {
	name    string       // SFT or ParaRL
	stop    *key.Binding // the key that started it, and cancels it
	cancel  context.CancelFunc
	updates chan any // JobProgress while running, then jobDone
	last    JobProgress
	history []JobProgress
	// cancelling: asked to stop, and not stopped yet (it finishes the
	// step it is in).
	cancelling bool
}

type jobDone struct {
	path string
	err  error
}

// jobMsg carries one update from the job's goroutine.
type jobMsg struct{ update any }

// jobForm is the small form the s key opens.
type jobForm struct {
	open  bool
	kind  int // 0 = every kind
	steps int
}

func (a *app) formKinds() []string {
	out := []string{"every kind"}
	for _, k := range world.EditKinds() {
		out = append(out, k.String())
	}
	return out
}

// formKey handles keys while the form is open.
func (a *app) formKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &a.keys
	kinds := a.formKinds()
	switch {
	case key.Matches(msg, k.FormClose):
		a.form.open = false
	case key.Matches(msg, k.FormKindPrev):
		a.form.kind = (a.form.kind + len(kinds) - 1) % len(kinds)
	case key.Matches(msg, k.FormKindNext):
		a.form.kind = (a.form.kind + 1) % len(kinds)
	case key.Matches(msg, k.FormMore):
		a.form.steps = min(a.form.steps+formStep(a.form.steps), 5000)
	case key.Matches(msg, k.FormLess):
		a.form.steps = max(a.form.steps-formStep(a.form.steps-1), 10)
	case key.Matches(msg, k.FormStart):
		a.form.open = false
		var chosen []string
		if a.form.kind > 0 {
			chosen = []string{kinds[a.form.kind]}
		}
		return a.startSFT(chosen, a.form.steps)
	}
	return nil
}

// formStep is the form's step in steps: tens up to a hundred, hundreds
// above, so that a short job is as easy to ask for as a long one.
func formStep(steps int) int {
	if steps < 100 {
		return 10
	}
	return 100
}

// startSFT starts the fine-tuning job the form describes.
func (a *app) startSFT(kinds []string, steps int) tea.Cmd {
	engine := a.o.Engine
	what := "every edit kind"
	if len(kinds) > 0 {
		what = kinds[0]
	}
	a.setStatus("SFT job started: %d steps on %s; %s cancels it", steps, what, a.keys.SFT.Help().Key)
	return a.startJob("SFT", &a.keys.SFT, func(ctx context.Context, progress func(JobProgress)) (string, error) {
		return engine.TrainSFT(ctx, kinds, steps, progress)
	})
}

// paraRLBatches is the length of the viewer's ParaRL job.
const paraRLBatches = 20

// startParaRL starts a short ParaRL job on the live model.
func (a *app) startParaRL() tea.Cmd {
	engine := a.o.Engine
	a.setStatus("ParaRL job started: %d batches of rollouts; %s cancels it", paraRLBatches, a.keys.ParaRL.Help().Key)
	return a.startJob("ParaRL", &a.keys.ParaRL, func(ctx context.Context, progress func(JobProgress)) (string, error) {
		return engine.TrainParaRL(ctx, paraRLBatches, progress)
	})
}

// startJob runs a job on its own goroutine; updates come back as
// messages, never blocking the job or the UI.
func (a *app) startJob(name string, stop *key.Binding, run func(ctx context.Context, progress func(JobProgress)) (string, error)) tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	j := &job{name: name, stop: stop, cancel: cancel, updates: make(chan any, 64)}
	a.job = j
	go func() {
		var done jobDone
		// A panic here would end the program with the terminal still in
		// raw mode: it becomes the job's error instead.
		defer func() {
			if r := recover(); r != nil {
				done.err = fmt.Errorf("internal error: %v (please report it)", r)
			}
			j.updates <- done
		}()
		done.path, done.err = run(ctx, func(p JobProgress) {
			select {
			case j.updates <- p:
			default: // the UI is behind: drop this update, a later one follows
			}
		})
	}()
	return waitJob(j)
}

func waitJob(j *job) tea.Cmd {
	return func() tea.Msg { return jobMsg{<-j.updates} }
}

// jobUpdate folds one update in and re-arms the wait while the job runs.
func (a *app) jobUpdate(msg jobMsg) tea.Cmd {
	j := a.job
	if j == nil {
		return nil
	}
	switch u := msg.update.(type) {
	case JobProgress:
		j.last = u
		j.history = append(j.history, u)
		return waitJob(j)
	case jobDone:
		a.job = nil
		if a.quitting {
			return tea.Quit
		}
		switch {
		case errors.Is(u.err, context.Canceled):
			a.setStatus("%s job cancelled; its last checkpoint is kept", j.name)
		case u.err != nil:
			a.fail(fmt.Errorf("%s job: %w", j.name, u.err))
		default:
			a.offer = u.path
			a.setStatus("%s job done: %s — %s switches the sampler to it", j.name, u.path, a.keys.Switch.Help().Key)
		}
	}
	return nil
}

// jobKey starts the job its key names, or cancels the job that key
// started; one job runs at a time.
func (a *app) jobKey(msg tea.KeyPressMsg) tea.Cmd {
	sft := key.Matches(msg, a.keys.SFT)
	switch {
	case a.job != nil && key.Matches(msg, *a.job.stop):
		a.job.cancel()
		a.job.cancelling = true
	case a.job != nil:
		a.setStatus("the %s job is running: %s cancels it", a.job.name, a.job.stop.Help().Key)
	case a.replaying():
		a.setStatus("no training here: a replay has no model to train")
	case sft:
		a.form.open = true
	default:
		return a.startParaRL()
	}
	return nil
}

// openedMsg says the engine switched to the offered checkpoint (or why
// it did not), off the UI goroutine.
type openedMsg struct {
	path string
	err  error
}

// switchModel switches the engine to the offered checkpoint; opened
// starts a new run on it.
func (a *app) switchModel() tea.Cmd {
	switch {
	case a.opening != "":
		a.setStatus("still opening %s…", a.opening)
		return nil
	case a.offer == "":
		a.setStatus("no model to switch to: %s or %s trains one, and %s takes it when the job is done",
			a.keys.SFT.Help().Key, a.keys.ParaRL.Help().Key, a.keys.Switch.Help().Key)
		return nil
	}
	engine, path := a.o.Engine, a.offer
	a.opening = path
	a.setStatus("opening %s…", path)
	return func() tea.Msg { return openedMsg{path, engine.Switch(path)} }
}

func (a *app) opened(msg openedMsg) tea.Cmd {
	a.opening = ""
	if msg.err != nil {
		a.fail(fmt.Errorf("open %s: %w", msg.path, msg.err))
		return nil
	}
	if a.offer == msg.path {
		a.offer = "" // a job that ended meanwhile keeps its own offer
	}
	a.setStatus("sampling with %s", msg.path)
	return a.start(a.runCfg, a.prompt, a.truth, false) // the shown run's settings on the new model
}

// jobLine shows a running job: bar, step, sparklines of its figures
// (loss for SFT; reward and KL for ParaRL), rate, ETA.
func (a *app) jobLine() string {
	j := a.job
	p := j.last
	if len(j.history) == 0 && !j.cancelling {
		return fmt.Sprintf("%s job starting… (%s cancels)", j.name, j.stop.Help().Key)
	}
	filled := 20 * p.Step / max(p.Steps, 1)
	bar := fmt.Sprintf("%s [%s%s] %d/%d", j.name, strings.Repeat("#", filled), strings.Repeat(".", 20-filled), p.Step, p.Steps)
	eta := fmt.Sprintf("ETA %s  (%s cancels)", p.ETA.Round(time.Second), j.stop.Help().Key)
	if j.cancelling {
		eta = "cancelling… (the step under way finishes first)"
	}
	if j.name == "ParaRL" {
		return fmt.Sprintf("%s  reward %.3f %s  KL %.2g %s  %.2f traj/s  %s", bar,
			p.Reward, jobSpark(j.history, func(p JobProgress) float64 { return p.Reward }),
			p.KL, jobSpark(j.history, func(p JobProgress) float64 { return p.KL }), p.Rate, eta)
	}
	return fmt.Sprintf("%s  loss %.3f %s  %.0f tokens/s  %s", bar,
		p.Loss, jobSpark(j.history, func(p JobProgress) float64 { return p.Loss }), p.Rate, eta)
}

// jobSpark is a sparkline of the last 30 values of one figure, scaled to
// their range.
func jobSpark(history []JobProgress, figure func(JobProgress) float64) string {
	tail := history[max(0, len(history)-30):]
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range tail {
		lo, hi = math.Min(lo, figure(p)), math.Max(hi, figure(p))
	}
	var b strings.Builder
	for _, p := range tail {
		b.WriteRune(sparkRune((figure(p) - lo) / max(hi-lo, 1e-9)))
	}
	return b.String()
}

// formLine is the form's state; its keys are in the footer.
func (a *app) formLine() string {
	return fmt.Sprintf("SFT job — edit kind: ◂ %s ▸   steps: %d", a.formKinds()[a.form.kind], a.form.steps)
}
