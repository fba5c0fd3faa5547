package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"parascope/engine/checkpoint"
	"parascope/engine/infile"
	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/safetensors"
	"parascope/engine/token"
)

// Every job's checkpoint is its weights (with the model's own config in
// the metadata), AdamW's moments as "adam.m" and "adam.v", and metadata
// saying the job's config, the step, the vocabulary and the training time.

// stateMeta is a checkpoint's job metadata.
func stateMeta(cfg any, step int, elapsed time.Duration, v *token.Vocab) (map[string]string, error) {
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return map[string]string{"train": string(js), "step": strconv.Itoa(step), "vocab_hash": v.Hash(),
		"elapsed_s": strconv.FormatFloat(elapsed.Seconds(), 'f', 0, 64)}, nil
}

// saveState writes the weights file f as ModelFile, for sampling and
// benchmarks, then f with the moments as CheckpointFile, of kind job, to
// resume from; each atomically. It returns the checkpoint's path.
func saveState(out string, f *safetensors.File, ps *model.ParamSet, job checkpoint.Kind) (string, error) {
	if err := safetensors.Write(filepath.Join(out, ModelFile), f, safetensors.F32); err != nil {
		return "", err
	}
	first, second := ps.Moments()
	if first == nil {
		first, second = make([]float32, ps.Len()), make([]float32, ps.Len())
	}
	job.Mark(f)
	f.Tensors = append(f.Tensors,
		safetensors.Tensor{Name: "adam.m", Shape: []int{len(first)}, Data: first},
		safetensors.Tensor{Name: "adam.v", Shape: []int{len(second)}, Data: second})
	path := filepath.Join(out, CheckpointFile)
	return path, safetensors.Write(path, f, safetensors.F32)
}

// RunOf reads, from the header alone, which run wrote the checkpoint or
// weights file at path: the job's config as its metadata "train" holds
// it (one config, seed included, is one run), and the step it was saved
// at (-1 where it says none). run is "" for a file no training run wrote.
func RunOf(path string) (run string, step int, err error) {
	meta, err := safetensors.ReadMetadata(path)
	if err != nil {
		return "", -1, err
	}
	step, err = strconv.Atoi(meta["step"])
	if err != nil {
		step = -1
	}
	return meta["train"], step, nil
}

// savedState is a checkpoint read back.
type savedState struct {
	weights *safetensors.File // without the moments
	moments [2][]float32
	step    int
	elapsed time.Duration
}

// jobConfig is what resuming needs of a job's config.
type jobConfig interface {
	Validate() error
	length() int // the steps of the whole run
}

func (c SFTConfig) length() int    { return c.Steps }
func (c CLIPConfig) length() int   { return c.Steps }
func (c ParaRLConfig) length() int { return c.Steps }

// trainOn says how to go on from a finished run of each job: a run
// cannot be stretched, but a new one can start from its weights.
var trainOn = map[checkpoint.Kind]string{
	checkpoint.SFT:          "to train on, start a new run with init = %q in its config",
	checkpoint.ParaRL:       "to train on, start a new run with sampler.model = %q in its config",
	checkpoint.CLIPTraining: "its scorer is %s",
}

// readState reads a checkpoint of kind job, decodes the job's config into
// cfg and checks it, the step and the vocabulary, each before any use.
func readState(path string, job checkpoint.Kind, cfg jobConfig, v *token.Vocab) (savedState, error) {
	var s savedState
	f, err := checkpoint.Read(path, job)
	if err != nil {
		return s, err
	}
	js, ok := f.Metadata["train"]
	if !ok {
		return s, fmt.Errorf("%s: not a training checkpoint: no metadata \"train\"", path)
	}
	if err := json.Unmarshal([]byte(js), cfg); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return s, fmt.Errorf("%s: metadata \"train\": %s: %s, want %s", path, te.Field, te.Value, infile.Want(te.Type))
		}
		return s, fmt.Errorf("%s: metadata \"train\": %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		// One line a fault, each naming the file and the key.
		lines := strings.Split(err.Error(), "\n")
		for i, l := range lines {
			lines[i] = fmt.Sprintf("%s: metadata \"train\": %s", path, l)
		}
		return s, errors.New(strings.Join(lines, "\n"))
	}
	if s.step, err = strconv.Atoi(f.Metadata["step"]); err != nil {
		return s, fmt.Errorf("%s: metadata \"step\" is %q, want a whole number", path, f.Metadata["step"])
	}
	switch steps := cfg.length(); {
	case s.step < 0:
		return s, fmt.Errorf("%s: metadata \"step\" is %d, want 0 or more", path, s.step)
	case s.step > steps:
		return s, fmt.Errorf("%s: metadata \"step\" is %d, past the run's %d steps (metadata \"train\")", path, s.step, steps)
	case s.step == steps:
		weights := filepath.Join(filepath.Dir(path), ModelFile)
		return s, fmt.Errorf("%s: the run is finished (step %d of %d); "+trainOn[job], path, s.step, steps, weights)
	}
	if h := f.Metadata["vocab_hash"]; h != v.Hash() {
		return s, fmt.Errorf("%s: made with vocabulary %q, this build has %q", path, h, v.Hash())
	}
	if e, ok := f.Metadata["elapsed_s"]; ok {
		secs, err := strconv.ParseFloat(e, 64)
		if err != nil || !(secs >= 0) || math.IsInf(secs, 0) {
			return s, fmt.Errorf("%s: metadata \"elapsed_s\" is %q, want seconds", path, e)
		}
		s.elapsed = time.Duration(secs * float64(time.Second))
	}
	s.weights = &safetensors.File{Metadata: f.Metadata}
	for _, t := range f.Tensors {
		switch t.Name {
		case "adam.m":
			s.moments[0] = t.Data
		case "adam.v":
			s.moments[1] = t.Data
		default:
			s.weights.Tensors = append(s.weights.Tensors, t)
		}
	}
	return s, nil
}

// restore puts the moments into the parameter set they belong to.
func (s savedState) restore(path string, ps *model.ParamSet) error {
	if len(s.moments[0]) != ps.Len() || len(s.moments[1]) != ps.Len() {
		return fmt.Errorf("%s: tensors \"adam.m\" and \"adam.v\" must hold %d values", path, ps.Len())
	}
	ps.SetMoments(s.moments[0], s.moments[1])
	return nil
}

// resumeModel reads a mask predictor's checkpoint: the job's config into
// cfg, the weights onto be, with the optimiser's moments restored.
func resumeModel(path string, job checkpoint.Kind, cfg jobConfig, v *token.Vocab, be nn.Backend) (*model.Model, savedState, error) {
	st, err := readState(path, job, cfg, v)
	if err != nil {
		return nil, st, err
	}
	m, err := model.FromFile(st.weights, be)
	if err != nil {
		return nil, st, fmt.Errorf("%s: %w", path, err)
	}
	return m, st, st.restore(path, m.ParamSet)
}
