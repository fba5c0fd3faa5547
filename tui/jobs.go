package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"parascope/engine/sample"
	"parascope/engine/world"
)

// JobProgress is what a running job reports.
type JobProgress struct {
	Step, Steps int
	Loss        float64
	Rate        float64 // tokens/s
	ETA         time.Duration
}

// SFTJob fine-tunes a copy of the model named by init (a checkpoint path
// or random:SEED) on the given edit kinds (all when empty) for steps
// steps, reporting progress, and returns the new checkpoint's path. It
// must stop when ctx is cancelled.
type SFTJob func(ctx context.Context, init string, kinds []string, steps int, progress func(JobProgress)) (string, error)

// OpenModel loads a checkpoint for the sampler.
type OpenModel func(path string) (sample.Model, error)

// job is the running job, if any.
type job struct {
	name    string
	cancel  context.CancelFunc
	updates chan any // JobProgress while running, then jobDone
	last    JobProgress
	losses  []float64
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
func (a *app) formKey(k string) tea.Cmd {
	kinds := a.formKinds()
	switch k {
	case "esc":
		a.form.open = false
	case "left", "h":
		a.form.kind = (a.form.kind + len(kinds) - 1) % len(kinds)
	case "right", "l":
		a.form.kind = (a.form.kind + 1) % len(kinds)
	case "up", "+", "=":
		a.form.steps = min(a.form.steps+100, 5000)
	case "down", "-":
		a.form.steps = max(a.form.steps-100, 100)
	case "enter":
		a.form.open = false
		var chosen []string
		if a.form.kind > 0 {
			chosen = []string{kinds[a.form.kind]}
		}
		return a.startSFT(chosen, a.form.steps)
	}
	return nil
}

// startSFT runs the job on its own goroutine; updates come back as
// messages, never blocking the job or the UI.
func (a *app) startSFT(kinds []string, steps int) tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	j := &job{name: "SFT", cancel: cancel, updates: make(chan any, 64)}
	a.job = j
	run, init := a.o.SFT, a.o.ModelSpec
	go func() {
		path, err := run(ctx, init, kinds, steps, func(p JobProgress) {
			select {
			case j.updates <- p:
			default: // the UI is behind: drop this update, a later one follows
			}
		})
		j.updates <- jobDone{path, err}
	}()
	what := "every edit kind"
	if len(kinds) > 0 {
		what = kinds[0]
	}
	a.setStatus("SFT job started: %d steps on %s; s cancels it", steps, what)
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
		j.losses = append(j.losses, u.Loss)
		return waitJob(j)
	case jobDone:
		a.job = nil
		switch {
		case u.err != nil && strings.Contains(u.err.Error(), context.Canceled.Error()):
			a.setStatus("SFT job cancelled; its last checkpoint is kept")
		case u.err != nil:
			a.fail(fmt.Errorf("SFT job: %w", u.err))
		default:
			a.offer = u.path
			a.setStatus("SFT job done: %s — y switches the sampler to it", u.path)
		}
	}
	return nil
}

// switchModel loads the offered checkpoint and starts a new run on it.
func (a *app) switchModel() tea.Cmd {
	m, err := a.o.Open(a.offer)
	if err != nil {
		a.fail(err)
		return nil
	}
	a.o.Model, a.o.ModelName, a.o.ModelSpec, a.offer = m, a.offer, a.offer, ""
	if err := a.restart(); err != nil {
		a.fail(err)
		return nil
	}
	a.setStatus("sampling with %s", a.o.ModelName)
	return a.refreshImage()
}

// jobLine shows a running job: bar, step, loss sparkline, rate, ETA.
func (a *app) jobLine() string {
	j := a.job
	p := j.last
	var spark strings.Builder
	lo, hi := 0.0, 0.0
	tail := j.losses[max(0, len(j.losses)-30):]
	for i, l := range tail {
		if i == 0 || l < lo {
			lo = l
		}
		hi = max(hi, l)
	}
	for _, l := range tail {
		spark.WriteRune(sparkRune((l - lo) / max(hi-lo, 1e-9)))
	}
	filled := 20 * p.Step / max(p.Steps, 1)
	return fmt.Sprintf("%s [%s%s] %d/%d  loss %.3f %s  %.0f tokens/s  ETA %s  (s cancels)", j.name,
		strings.Repeat("#", filled), strings.Repeat(".", 20-filled), p.Step, p.Steps, p.Loss, spark.String(), p.Rate, p.ETA.Round(time.Second))
}

func (a *app) formLine() string {
	return fmt.Sprintf("SFT job — edit kind: ◂ %s ▸   steps: %d (↑↓)   enter starts, esc closes", a.formKinds()[a.form.kind], a.form.steps)
}
