package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"parascope/engine/nn"
)

// DefaultConfig is the default model's shape for a vocabulary: d_model
// 256, 6 layers, 8 heads, MLP 768, room for the longest task sequence.
func DefaultConfig(vocab int) Config {
	return Config{Layers: 6, DModel: 256, Heads: 8, MLP: 768, Vocab: vocab, RopeTheta: 10000, NormEps: 1e-5, MaxLen: 256}
}

// ErrNoDefault says this build carries no trained model.
var ErrNoDefault = errors.New("this build has no embedded model yet: set model to a checkpoint path, or to random:SEED for an untrained one")

// Open returns the model a config names: a checkpoint path, "random:SEED"
// (an untrained model of the default shape, for trying the machinery), or
// "" for the embedded default. vocab is the size the caller's tokenizer
// needs; a checkpoint made for another vocabulary is refused.
func Open(spec string, be nn.Backend, vocab int) (*Model, error) {
	var m *Model
	var err error
	switch {
	case spec == "":
		return nil, ErrNoDefault
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
		return nil, fmt.Errorf("model %s has a vocabulary of %d, the tokenizer has %d", spec, m.Vocab, vocab)
	}
	return m, nil
}
