package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/safetensors"
	"parascope/engine/token"
	"parascope/engine/vq"
)

// Files a run writes into its folder: the full state to resume from, and
// the weights alone, for sampling and benchmarks.
const (
	CheckpointFile = "checkpoint.safetensors"
	ModelFile      = "model.safetensors"
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
	} else {
		shape := model.DefaultConfig(vocab.Size())
		shape.Layers, shape.DModel, shape.Heads, shape.MLP = cfg.Model.Layers, cfg.Model.DModel, cfg.Model.Heads, cfg.Model.MLP
		if m, err = model.New(shape, be); err != nil {
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
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, err
	}
	var cfg SFTConfig
	if err := json.Unmarshal([]byte(f.Metadata["train"]), &cfg); err != nil {
		return nil, fmt.Errorf("%s: not a training checkpoint: metadata \"train\": %w", path, err)
	}
	step, err := strconv.Atoi(f.Metadata["step"])
	if err != nil {
		return nil, fmt.Errorf("%s: metadata \"step\": %w", path, err)
	}
	vocab := token.New(cb.K())
	if h := f.Metadata["vocab_hash"]; h != vocab.Hash() {
		return nil, fmt.Errorf("%s: made with vocabulary %s, this build has %s", path, h, vocab.Hash())
	}
	var moments [2]safetensors.Tensor
	weights := &safetensors.File{Metadata: f.Metadata}
	for _, t := range f.Tensors {
		switch t.Name {
		case "adam.m":
			moments[0] = t
		case "adam.v":
			moments[1] = t
		default:
			weights.Tensors = append(weights.Tensors, t)
		}
	}
	m, err := model.FromFile(weights, be)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(moments[0].Data) != m.Params() || len(moments[1].Data) != m.Params() {
		return nil, fmt.Errorf("%s: tensors \"adam.m\" and \"adam.v\" must hold %d values", path, m.Params())
	}
	m.SetMoments(moments[0].Data, moments[1].Data)
	s, err := newSFT(cfg, m, vocab, cb, out)
	if err != nil {
		return nil, err
	}
	s.step = step
	if secs, err := strconv.ParseFloat(f.Metadata["elapsed_s"], 64); err == nil {
		s.elapsed = time.Duration(secs * float64(time.Second))
	}
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
	began, startStep, tokens, before := time.Now(), s.step, 0, s.elapsed
	defer func() { s.elapsed = before + time.Since(began) }()
	for s.step < s.cfg.Steps {
		if err := ctx.Err(); err != nil {
			if _, cerr := s.Checkpoint(); cerr != nil {
				return errors.Join(err, cerr)
			}
			return err
		}
		b, err := s.d.batch(s.step)
		if err != nil {
			return err
		}
		s.m.ZeroGrad()
		img, txt, err := s.m.LossSplit(b.ids, s.cfg.Batch, b.seq, b.sel, b.targets, b.weights, b.imageRows)
		if err != nil {
			return fmt.Errorf("step %d: %w", s.step+1, err)
		}
		norm := s.m.ClipGradients(s.cfg.Clip)
		h := s.cfg.adamW(s.step, s.cfg.Steps)
		lr := float64(h.LR)
		s.m.Step(h)
		s.step++
		tokens += b.tokens
		elapsed := time.Since(began)
		s.elapsed = before + elapsed
		p := Progress{Step: s.step, Steps: s.cfg.Steps, Loss: img + txt, ImageLoss: img, TextLoss: txt, GradNorm: norm, LR: lr,
			TokensPerSec: float64(tokens) / elapsed.Seconds(),
			ETA:          time.Duration(float64(elapsed) / float64(s.step-startStep) * float64(s.cfg.Steps-s.step))}
		if s.step%s.cfg.CheckpointEvery == 0 || s.step == s.cfg.Steps {
			if p.Checkpoint, err = s.Checkpoint(); err != nil {
				return err
			}
		}
		if progress != nil {
			progress(p)
		}
	}
	return nil
}

// Checkpoint writes the run's state and its weights, each atomically, and
// returns the state's path.
func (s *SFT) Checkpoint() (string, error) {
	cfg, err := json.Marshal(s.cfg)
	if err != nil {
		return "", err
	}
	meta := map[string]string{"train": string(cfg), "step": strconv.Itoa(s.step), "vocab_hash": s.d.vocab.Hash(),
		"elapsed_s": strconv.FormatFloat(s.elapsed.Seconds(), 'f', 0, 64)}
	if err := s.m.Save(filepath.Join(s.out, ModelFile), safetensors.F32, meta); err != nil {
		return "", err
	}
	f, err := s.m.File(meta)
	if err != nil {
		return "", err
	}
	first, second := s.m.Moments()
	if first == nil {
		first, second = make([]float32, s.m.Params()), make([]float32, s.m.Params())
	}
	f.Tensors = append(f.Tensors,
		safetensors.Tensor{Name: "adam.m", Shape: []int{len(first)}, Data: first},
		safetensors.Tensor{Name: "adam.v", Shape: []int{len(second)}, Data: second})
	path := filepath.Join(s.out, CheckpointFile)
	return path, safetensors.Write(path, f, safetensors.F32)
}
