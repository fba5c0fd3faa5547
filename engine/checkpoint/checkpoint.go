// Package checkpoint says what one of Parascope's safetensors files holds:
// a model, a CLIP scorer, a job's training checkpoint or the VQ codebook.
// Every save writes the kind into the metadata under "kind"; files written
// before the key existed (the embedded weights among them) have their kind
// inferred from their contents. Every loader names the kind it needs, so
// a file of another kind is refused with the file to use instead.
package checkpoint

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"parascope/engine/safetensors"
)

// Key is the metadata entry that holds a file's kind.
const Key = "kind"

// Files a training run writes into its folder: the full state to resume
// from, and the weights alone, for sampling and benchmarks.
const (
	StateFile = "checkpoint.safetensors"
	ModelFile = "model.safetensors"
)

// Kind is what a file holds.
type Kind string

// The kinds Parascope writes.
const (
	Model        Kind = "model"
	SFT          Kind = "sft-checkpoint"
	ParaRL       Kind = "pararl-checkpoint"
	CLIP         Kind = "clip-scorer"
	CLIPTraining Kind = "clip-checkpoint"
	Codebook     Kind = "vq-codebook"
)

// about is what a message needs of a kind: its name, the job that resumes
// it (training checkpoints only), and the kind of weights its run writes
// beside it as ModelFile.
var about = map[Kind]struct {
	name, job string
	weights   Kind
}{
	Model:        {name: "a model"},
	SFT:          {name: "an SFT training checkpoint", job: "sft", weights: Model},
	ParaRL:       {name: "a ParaRL training checkpoint", job: "pararl", weights: Model},
	CLIP:         {name: "a CLIP scorer"},
	CLIPTraining: {name: "a CLIP training checkpoint", job: "clip", weights: CLIP},
	Codebook:     {name: "a VQ codebook"},
}

// String is the kind as a message names it: "an SFT training checkpoint".
func (k Kind) String() string {
	if a, ok := about[k]; ok {
		return a.name
	}
	return string(k)
}

// Mark writes the kind into f's metadata.
func (k Kind) Mark(f *safetensors.File) {
	if f.Metadata == nil {
		f.Metadata = map[string]string{}
	}
	f.Metadata[Key] = string(k)
}

// Of returns the kind f says it is or, for a file written before kinds,
// the kind its contents show; "" for a file of no kind Parascope writes.
func Of(f *safetensors.File) (Kind, error) {
	if s, ok := f.Metadata[Key]; ok {
		if _, known := about[Kind(s)]; !known {
			return "", fmt.Errorf("metadata %q is %q, which this build does not know", Key, s)
		}
		return Kind(s), nil
	}
	return infer(f), nil
}

// infer reads the kind of a file written before kinds from what the
// writers put in it then: a model's config or a scorer's under "config"
// or "clip", AdamW's moments in a training checkpoint, the job's config
// under "train", the codebook's one tensor.
func infer(f *safetensors.File) Kind {
	_, training := f.Get("adam.m")
	_, model := f.Metadata["config"]
	_, scorer := f.Metadata["clip"]
	_, codes := f.Get("codebook")
	switch {
	case model && training:
		// Only ParaRL's config holds a sampler's.
		var job map[string]json.RawMessage
		if json.Unmarshal([]byte(f.Metadata["train"]), &job) == nil && job["sampler"] != nil {
			return ParaRL
		}
		return SFT
	case model:
		return Model
	case scorer && training:
		return CLIPTraining
	case scorer:
		return CLIP
	case codes && len(f.Tensors) == 1:
		return Codebook
	}
	return ""
}

// Check refuses f, read from name, when it is of a kind other than want,
// saying which file to use instead. A file of no kind Parascope writes is
// left to the caller, whose own checks say what it lacks (a LLaDA
// checkpoint is such a file, and a model).
func Check(name string, f *safetensors.File, want Kind) error {
	have, err := Of(f)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if have == "" || have == want {
		return nil
	}
	return fmt.Errorf("%s is %s, not %s: %s", name, have, want, hint(name, have, want))
}

// Read reads the file at path and checks that it is of kind want.
func Read(path string, want Kind) (*safetensors.File, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, err
	}
	return f, Check(path, f, want)
}

// hint says what to use where a file of kind want was expected, or what
// the file of kind have is for.
func hint(path string, have, want Kind) string {
	h, w := about[have], about[want]
	model := filepath.Join(filepath.Dir(path), ModelFile)
	switch {
	case h.weights == want: // a run's state where its weights belong
		return "use " + model
	case w.weights == have: // a run's weights where its state belongs
		s := "to resume its run, use " + filepath.Join(filepath.Dir(path), StateFile)
		switch want {
		case SFT:
			s += fmt.Sprintf("; to fine-tune this model, start a run with init = %q in its config", path)
		case ParaRL:
			s += fmt.Sprintf("; to train this model with ParaRL, start a run with sampler.model = %q in its config", path)
		}
		return s
	case have == SFT && want == ParaRL:
		return fmt.Sprintf("ParaRL starts from a model: start a run with sampler.model = %q in its config", model)
	case h.job != "":
		return "resume it with: parascope train " + h.job + " --resume " + path
	case have == Model:
		return "a sampler takes it as model (--model)"
	case have == CLIP:
		return "a sampler takes it as clip"
	}
	return "a sampler takes it as codebook"
}
