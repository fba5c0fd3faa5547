package tui

import (
	"context"

	"parascope/engine/sample"
	"parascope/engine/world"
)

// Engine is the viewer's link to a sampling engine: a session in this
// process (tui/local) or one across a connection. Its calls may be slow;
// the viewer makes each in a tea.Cmd and folds the typed message it
// returns back in, so nothing waits inside Update.
type Engine interface {
	// Model names the model new runs sample with.
	Model() string
	// Start begins a trajectory; its history holds the all-masked start.
	Start(cfg sample.Config, p sample.Prompt) (Stepper, error)
	// Switch makes new runs sample with the checkpoint at path.
	Switch(path string) error
	// Export writes a trajectory's files into dir and returns their paths.
	Export(t Trajectory, dir string) ([]string, error)
	// TrainSFT fine-tunes a copy of the current model on the edit kinds
	// (every kind when empty) for steps steps, and returns the new
	// checkpoint's path. It stops when ctx is cancelled, with an error
	// that wraps context.Canceled.
	TrainSFT(ctx context.Context, kinds []string, steps int, progress func(JobProgress)) (string, error)
	// TrainParaRL runs batches of ParaRL from the current model, and
	// returns the new checkpoint's path; it stops as TrainSFT does.
	TrainParaRL(ctx context.Context, batches int, progress func(JobProgress)) (string, error)
}

// Stepper is one trajectory, stepped by one goroutine at a time.
type Stepper interface {
	Step(ctx context.Context) (sample.Frame, error)
	// Fork continues from step k of the history with cfg; the run itself
	// is left as it was.
	Fork(k int, cfg sample.Config) (Stepper, error)
	History() []sample.Frame
	Steps() int
	Done() bool
}

// Trajectory is what the viewer exports: the frames, with the model,
// settings and prompt that made them, and the prompt's ground truth while
// the prompt is still the case's own.
type Trajectory struct {
	Frames []sample.Frame
	Steps  int // the run's length; the frames may stop short of it
	Model  string
	Config sample.Config
	Prompt sample.Prompt
	Truth  *world.Case
}

// Local wraps a sampler in this process as a Stepper.
func Local(s *sample.Stepper) Stepper { return localStepper{s} }

type localStepper struct{ *sample.Stepper }

func (l localStepper) Fork(k int, cfg sample.Config) (Stepper, error) {
	f, err := l.Stepper.Fork(k, cfg)
	if err != nil {
		return nil, err
	}
	return localStepper{f}, nil
}
