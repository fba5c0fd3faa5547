package train

import (
	"context"
	"fmt"
	"os"
	"time"

	"parascope/engine/checkpoint"
	"parascope/engine/memory"
	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/token"
	"parascope/engine/vq"
)

// Files a run writes into its folder: the full state to resume from, and
// the weights alone, for sampling and benchmarks.
const (
	CheckpointFile = checkpoint.StateFile
	ModelFile      = checkpoint.ModelFile
)

// Progress is reported after every step.
type Progress struct {
	Step, Steps         int
	Loss                float64 // weighted image + text loss
	ImageLoss, TextLoss float64
	GradNorm, LR        float64
	TokensPerSec        float64
	ETA                 time.Duration
	Checkpoint          string // the file just written, if any
}

// SFT is a supervised run.
type SFT struct {
	cfg     SFTConfig
	m       *model.Model
	d       data
	step    int
	out     string
	elapsed time.Duration // training time so far, across resumes
}

// NewSFT starts a run writing into the folder out: from cfg.Init's weights,
// or from fresh weights of cfg.Model's shape.
func NewSFT(cfg SFTConfig, be nn.Backend, cb *vq.Codebook, out string) (*SFT, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	vocab := token.New(cb.K())
	var m *model.Model
	var err error
	if cfg.Init != "" {
		if m, err = model.Open(cfg.Init, be, vocab.Size()); err != nil {
			return nil, err
		}
		if m.ReadOnly() {
			return nil, fmt.Errorf("init %s: %w", cfg.Init, model.ErrReadOnly)
		}
		if err := cfg.checkInitShape(m.Config); err != nil {
			return nil, err
		}
		if err := memory.Check(m.TrainingBytes(cfg.Batch, m.MaxLen), fmt.Sprintf("training it on batches of %d sequences", cfg.Batch)); err != nil {
			return nil, fmt.Errorf("init %s: %w", cfg.Init, err)
		}
	} else {
		if m, err = model.New(cfg.Model.config(vocab.Size()), be); err != nil {
			return nil, err
		}
		m.Init(cfg.Seed)
	}
	return newSFT(cfg, m, vocab, cb, out)
}

func newSFT(cfg SFTConfig, m *model.Model, vocab *token.Vocab, cb *vq.Codebook, out string) (*SFT, error) {
	kinds, err := cfg.kinds()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	return &SFT{cfg: cfg, m: m, out: out, d: data{cfg: cfg, kinds: kinds, vocab: vocab, cb: cb}}, nil
}

// ResumeSFT continues the run saved in a checkpoint, with its config,
// weights, optimiser state and position in the data; it writes into out.
func ResumeSFT(path string, be nn.Backend, cb *vq.Codebook, out string) (*SFT, error) {
	var cfg SFTConfig
	vocab := token.New(cb.K())
	m, st, err := resumeModel(path, checkpoint.SFT, &cfg, vocab, be)
	if err != nil {
		return nil, err
	}
	s, err := newSFT(cfg, m, vocab, cb, out)
	if err != nil {
		return nil, err
	}
	s.step, s.elapsed = st.step, st.elapsed
	return s, nil
}

// Model is the model being trained.
func (s *SFT) Model() *model.Model { return s.m }

// Step is the number of optimiser steps taken.
func (s *SFT) Step() int { return s.step }

// Config is the run's config.
func (s *SFT) Config() SFTConfig { return s.cfg }

// Run trains until the configured number of steps, checkpointing every
// checkpoint_every steps, at the end, and when ctx is cancelled.
func (s *SFT) Run(ctx context.Context, progress func(Progress)) error {
	tokens := 0
	return runSteps(ctx, &s.step, s.cfg.Steps, s.cfg.CheckpointEvery, &s.elapsed, s.Checkpoint, func() (func(stepTiming), error) {
		b, err := s.d.batch(s.step)
		if err != nil {
			return nil, err
		}
		s.m.ZeroGrad()
		img, txt, err := s.m.LossSplit(b.ids, s.cfg.Batch, b.seq, b.sel, b.targets, b.weights, b.imageRows)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", s.step+1, err)
		}
		norm := s.m.ClipGradients(s.cfg.Clip)
		h := s.cfg.adamW(s.step, s.cfg.Steps)
		s.m.Step(h)
		tokens += b.tokens
		return func(t stepTiming) {
			if progress != nil {
				progress(Progress{Step: s.step, Steps: s.cfg.Steps, Loss: img + txt, ImageLoss: img, TextLoss: txt, GradNorm: norm,
					LR: float64(h.LR), TokensPerSec: float64(tokens) / t.elapsed.Seconds(), ETA: t.eta, Checkpoint: t.checkpoint})
			}
		}, nil
	})
}

// Checkpoint writes the run's state and its weights, each atomically, and
// returns the state's path.
func (s *SFT) Checkpoint() (string, error) {
	meta, err := stateMeta(s.cfg, s.step, s.elapsed, s.d.vocab)
	if err != nil {
		return "", err
	}
	f, err := s.m.File(meta)
	if err != nil {
		return "", err
	}
	return saveState(s.out, f, s.m.ParamSet, checkpoint.SFT)
}
