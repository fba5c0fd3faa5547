package model

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"parascope/engine/checkpoint"
	"parascope/engine/nn"
	"parascope/engine/safetensors"
)

// The default model, embedded when weights/default.safetensors exists
// (see weights/README.md); the folder always holds its README, so the
// build does not depend on the model being there.
//
//go:embed weights
var embedded embed.FS

const defaultPath = "weights/default.safetensors"

// Default returns the embedded default model, or ErrNoDefault.
func Default(be nn.Backend) (*Model, error) {
	data, err := embedded.ReadFile(defaultPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoDefault
	}
	if err != nil {
		return nil, err
	}
	f, err := safetensors.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("embedded default model: %w", err)
	}
	if err := checkpoint.Check("the embedded default model", f, checkpoint.Model); err != nil {
		return nil, err
	}
	return FromFile(f, be)
}

// DefaultRecord returns how the embedded model was made (default.json),
// empty when there is none.
func DefaultRecord() string {
	data, _ := embedded.ReadFile("weights/default.json")
	return string(data)
}

// DefaultConfig is the default model's shape for a vocabulary: d_model
// 256, 6 layers, 8 heads, MLP 768, room for the longest task sequence.
func DefaultConfig(vocab int) Config {
	return Config{Layers: 6, DModel: 256, Heads: 8, MLP: 768, Vocab: vocab, RopeTheta: 10000, NormEps: 1e-5, MaxLen: 256}
}

// ErrNoDefault says this build carries no trained model: build with
// weights/default.safetensors present to embed one.
var ErrNoDefault = errors.New("this build has no embedded model yet: set model to a checkpoint path, or to random:SEED for an untrained one")

// Embedded names the embedded default model where "" would mean
// something else, as an SFT run's init does (there "" is a fresh model).
const Embedded = "embedded"

// NamesFile reports whether a model spec names a checkpoint file, rather
// than the embedded model or an untrained one.
func NamesFile(spec string) bool {
	return spec != "" && spec != Embedded && !strings.HasPrefix(spec, "random:")
}

// Open returns the model a config names: a checkpoint path, "random:SEED"
// (an untrained model of the default shape, for trying the machinery), or
// "" or "embedded" for the embedded default. vocab is the size the caller's tokenizer
// needs; a checkpoint made for another vocabulary is refused.
func Open(spec string, be nn.Backend, vocab int) (*Model, error) {
	var m *Model
	var err error
	switch {
	case spec == "" || spec == Embedded:
		m, err = Default(be)
	case strings.HasPrefix(spec, "random:"):
		seed, perr := strconv.ParseUint(strings.TrimPrefix(spec, "random:"), 10, 64)
		if perr != nil {
			return nil, fmt.Errorf("model %q: the seed must be a whole number", spec)
		}
		if m, err = New(DefaultConfig(vocab), be); err == nil {
			m.Init(seed)
		}
	default:
		m, err = Load(spec, be)
	}
	if err != nil {
		return nil, err
	}
	if m.Vocab != vocab {
		name := "model " + spec
		if spec == "" {
			name = "the embedded model"
		}
		return nil, fmt.Errorf("%s has a vocabulary of %d, the tokenizer has %d", name, m.Vocab, vocab)
	}
	return m, nil
}
