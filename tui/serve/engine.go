package serve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"parascope/engine/sample"
	"parascope/tui"
)

// ErrJobsRefused is what a training job asked for over SSH answers
// unless the server was started with --allow-jobs: a job trains on the
// server's machine and its model would replace every session's.
var ErrJobsRefused = errors.New("training jobs are not allowed over SSH (the server's --allow-jobs allows them)")

// sessionEngine is one session's view of the shared engine: its exports
// go into the key's own folder, its jobs are refused unless allowed, and
// it counts the steps the session takes.
type sessionEngine struct {
	tui.Engine
	allowJobs bool
	exportDir string
	steps     *atomic.Int64
}

func (e sessionEngine) Start(cfg sample.Config, p sample.Prompt) (tui.Stepper, error) {
	s, err := e.Engine.Start(cfg, p)
	if err != nil {
		return nil, err
	}
	return countingStepper{s, e.steps}, nil
}

// Switch changes the model every session samples with, so it goes with
// the jobs that make new models.
func (e sessionEngine) Switch(path string) error {
	if !e.allowJobs {
		return fmt.Errorf("switching to %s: the model is shared by every session: %w", path, ErrJobsRefused)
	}
	return e.Engine.Switch(path)
}

// Export writes into the session's own folder, whatever dir the viewer
// names.
func (e sessionEngine) Export(t tui.Trajectory, _ string) ([]string, error) {
	if err := os.MkdirAll(e.exportDir, 0o700); err != nil {
		return nil, err
	}
	return e.Engine.Export(t, e.exportDir)
}

func (e sessionEngine) TrainSFT(ctx context.Context, kinds []string, steps int, progress func(tui.JobProgress)) (string, error) {
	if !e.allowJobs {
		return "", fmt.Errorf("fine-tuning: %w", ErrJobsRefused)
	}
	return e.Engine.TrainSFT(ctx, kinds, steps, progress)
}

func (e sessionEngine) TrainParaRL(ctx context.Context, batches int, progress func(tui.JobProgress)) (string, error) {
	if !e.allowJobs {
		return "", fmt.Errorf("ParaRL: %w", ErrJobsRefused)
	}
	return e.Engine.TrainParaRL(ctx, batches, progress)
}

// countingStepper counts the steps taken, for the session's log line.
type countingStepper struct {
	tui.Stepper
	steps *atomic.Int64
}

func (s countingStepper) Step(ctx context.Context) (sample.Frame, error) {
	f, err := s.Stepper.Step(ctx)
	if err == nil {
		s.steps.Add(1)
	}
	return f, err
}

func (s countingStepper) Fork(k int, cfg sample.Config) (tui.Stepper, error) {
	f, err := s.Stepper.Fork(k, cfg)
	if err != nil {
		return nil, err
	}
	return countingStepper{f, s.steps}, nil
}
