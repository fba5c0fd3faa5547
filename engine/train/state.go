package train

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

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
// benchmarks, then f with the moments as CheckpointFile, to resume from;
// each atomically. It returns the checkpoint's path.
func saveState(out string, f *safetensors.File, ps *model.ParamSet) (string, error) {
	if err := safetensors.Write(filepath.Join(out, ModelFile), f, safetensors.F32); err != nil {
		return "", err
	}
	first, second := ps.Moments()
	if first == nil {
		first, second = make([]float32, ps.Len()), make([]float32, ps.Len())
	}
	f.Tensors = append(f.Tensors,
		safetensors.Tensor{Name: "adam.m", Shape: []int{len(first)}, Data: first},
		safetensors.Tensor{Name: "adam.v", Shape: []int{len(second)}, Data: second})
	path := filepath.Join(out, CheckpointFile)
	return path, safetensors.Write(path, f, safetensors.F32)
}

// savedState is a checkpoint read back.
type savedState struct {
	weights *safetensors.File // without the moments
	moments [2][]float32
	step    int
	elapsed time.Duration
}

// readState reads a checkpoint, decodes the job's config into cfg and
// checks the vocabulary.
func readState(path string, cfg any, v *token.Vocab) (savedState, error) {
	var s savedState
	f, err := safetensors.Read(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal([]byte(f.Metadata["train"]), cfg); err != nil {
		return s, fmt.Errorf("%s: not a training checkpoint: metadata \"train\": %w", path, err)
	}
	if s.step, err = strconv.Atoi(f.Metadata["step"]); err != nil {
		return s, fmt.Errorf("%s: metadata \"step\": %w", path, err)
	}
	if h := f.Metadata["vocab_hash"]; h != v.Hash() {
		return s, fmt.Errorf("%s: made with vocabulary %s, this build has %s", path, h, v.Hash())
	}
	if secs, err := strconv.ParseFloat(f.Metadata["elapsed_s"], 64); err == nil {
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
func resumeModel(path string, cfg any, v *token.Vocab, be nn.Backend) (*model.Model, savedState, error) {
	st, err := readState(path, cfg, v)
	if err != nil {
		return nil, st, err
	}
	m, err := model.FromFile(st.weights, be)
	if err != nil {
		return nil, st, fmt.Errorf("%s: %w", path, err)
	}
	return m, st, st.restore(path, m.ParamSet)
}
