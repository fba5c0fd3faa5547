// Package local is the viewer's engine in this process: an open session,
// the training jobs the viewer starts from it, and its exports. A front
// end in another process would implement tui.Engine the same way over a
// connection.
package local

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"parascope/engine/sample"
	"parascope/engine/session"
	"parascope/engine/train"
	"parascope/tui"
	"parascope/viz/export"
)

// Engine drives a session for the viewers that share it. The model is
// used by one call at a time: a step, a start and a switch never
// overlap; the steps of several viewers that arrive together share one
// call (batch.go). Close ends its goroutine.
type Engine struct {
	mu    sync.Mutex
	sess  *session.Session
	batch *batcher
	// now names the runs a job writes into (runs/viewer-sft-TIME).
	now func() time.Time
}

// New returns the engine over an open session, which it owns from now on.
func New(s *session.Session) *Engine {
	e := &Engine{sess: s, now: time.Now}
	e.batch = newBatcher(&e.mu)
	return e
}

// Close stops the engine's stepping; a step asked after it fails with
// ErrClosed. Jobs and exports are not affected.
func (e *Engine) Close() error {
	e.batch.close()
	return nil
}

// Model names the model new runs sample with.
func (e *Engine) Model() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sess.ModelName == session.Embedded {
		return "default (embedded)"
	}
	return e.sess.ModelName
}

// Start begins a trajectory with the session's scorer.
func (e *Engine) Start(cfg sample.Config, p sample.Prompt) (tui.Stepper, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st, err := e.sess.NewStepper(cfg, p)
	if err != nil {
		return nil, err
	}
	return stepper{st, e.batch}, nil
}

// stepper steps through the engine's batcher, so runs side by side (a
// comparison, a run left behind by a restart, other viewers' runs)
// share the model safely and, where they can, its calls.
type stepper struct {
	st    *sample.Stepper
	batch *batcher
}

func (s stepper) Step(ctx context.Context) (sample.Frame, error) { return s.batch.step(ctx, s.st) }
func (s stepper) History() []sample.Frame                        { return s.st.History() }
func (s stepper) Steps() int                                     { return s.st.Steps() }
func (s stepper) Done() bool                                     { return s.st.Done() }

func (s stepper) Fork(k int, cfg sample.Config) (tui.Stepper, error) {
	f, err := s.st.Fork(k, cfg)
	if err != nil {
		return nil, err
	}
	return stepper{f, s.batch}, nil
}

// Switch opens the checkpoint at path; later runs sample with it, and
// jobs start from it.
func (e *Engine) Switch(path string) error {
	m, err := e.sess.OpenModel(path)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sess.Model, e.sess.ModelName, e.sess.Config.Model = m, path, path
	return nil
}

// Export writes the trace, GIF and strip into dir.
func (e *Engine) Export(t tui.Trajectory, dir string) ([]string, error) {
	last := t.Frames[len(t.Frames)-1]
	steps := max(t.Steps, last.Step)
	h := sample.HeaderFor(t.Config, e.sess.Template, t.Prompt, steps, t.Model, t.Truth)
	h.Stopped = last.Step < steps // exported before its end: replay knows the rest is missing
	return export.Trajectory{Header: h, Frames: t.Frames, Vocab: e.sess.Template, Codebook: e.sess.Images}.Snapshot(dir, e.now())
}

// spec is what the current model was opened from, for a job's init:
// the embedded model by its name, since an empty init trains from
// scratch.
func (e *Engine) spec() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sess.Config.Model == "" {
		return session.Embedded
	}
	return e.sess.Config.Model
}

// runDir is a new job's folder under runs/.
func (e *Engine) runDir(job string) string {
	return filepath.Join("runs", "viewer-"+job+"-"+e.now().Format("20060102-150405"))
}

// TrainSFT runs train.QuickSFT from the current model into
// runs/viewer-sft-TIME.
func (e *Engine) TrainSFT(ctx context.Context, kinds []string, steps int, progress func(tui.JobProgress)) (string, error) {
	if e.sess.Folder != nil {
		return "", fmt.Errorf("fine-tuning: %w", session.ErrShapeWorldOnly)
	}
	out := e.runDir("sft")
	run, err := train.NewSFT(train.QuickSFT(e.spec(), kinds, steps), e.sess.Backend, e.sess.Codebook, out)
	if err != nil {
		return "", err
	}
	err = run.Run(ctx, func(p train.Progress) {
		progress(tui.JobProgress{Step: p.Step, Steps: p.Steps, Loss: p.Loss, Rate: p.TokensPerSec, ETA: p.ETA})
	})
	return filepath.Join(out, train.ModelFile), err
}

// TrainParaRL runs train.QuickParaRL from the current model, rewarded by
// the session's scorer, into runs/viewer-pararl-TIME.
func (e *Engine) TrainParaRL(ctx context.Context, batches int, progress func(tui.JobProgress)) (string, error) {
	if e.sess.Folder != nil {
		return "", fmt.Errorf("ParaRL: %w", session.ErrShapeWorldOnly)
	}
	out := e.runDir("pararl")
	be, cb := e.sess.Backend, e.sess.Codebook
	cfg := train.QuickParaRL(e.spec(), e.sess.Config.Clip, batches)
	run, err := train.StartParaRL(cfg, be, cb, out, train.OpenDeps(be, cb))
	if err != nil {
		return "", err
	}
	err = run.Run(ctx, func(p train.RLProgress) {
		progress(tui.JobProgress{Step: p.Step, Steps: p.Steps, Reward: p.Reward, KL: p.KL, Rate: p.TrajectoriesPerSec, ETA: p.ETA})
	})
	return filepath.Join(out, train.ModelFile), err
}
