package clip

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"

	"parascope/engine/atomicfile"
	"parascope/engine/infile"
	"parascope/engine/sample"
)

// Normaliser turns a CLIP score into ParaRL's reward:
// R = clip(½ + (s − μ)/(2Z), 0, 1), with μ and σ estimated on rollouts of
// the training distribution and Z = ZSigmas·σ. ZSigmas = 2 maps μ ± 2σ
// onto [0, 1]: about 95% of scores stay inside the clip, so the reward
// keeps its resolution and only outliers saturate.
type Normaliser struct {
	Mu      float64 `json:"mu"`
	Sigma   float64 `json:"sigma"`
	ZSigmas float64 `json:"z_sigmas"`
	Samples int     `json:"samples"`
}

// DefaultZSigmas is Z in units of σ.
const DefaultZSigmas = 2

// Estimate measures μ and σ from scores.
func Estimate(scores []float64, zSigmas float64) (Normaliser, error) {
	if len(scores) < 2 {
		return Normaliser{}, fmt.Errorf("clip: %d scores are too few to estimate a spread", len(scores))
	}
	mu := 0.0
	for _, s := range scores {
		mu += s
	}
	mu /= float64(len(scores))
	v := 0.0
	for _, s := range scores {
		v += (s - mu) * (s - mu)
	}
	sigma := math.Sqrt(v / float64(len(scores)-1))
	if sigma == 0 {
		return Normaliser{}, fmt.Errorf("clip: all %d scores are equal", len(scores))
	}
	return Normaliser{Mu: mu, Sigma: sigma, ZSigmas: zSigmas, Samples: len(scores)}, nil
}

// Reward maps a score into [0, 1].
func (n Normaliser) Reward(s float64) float64 {
	return min(max(0.5+(s-n.Mu)/(2*n.ZSigmas*n.Sigma), 0), 1)
}

// Save writes the normaliser as JSON, atomically; LoadNormaliser reads it.
func (n Normaliser) Save(path string) error {
	b, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

func LoadNormaliser(path string) (Normaliser, error) {
	b, err := infile.Read(path, 64<<10, "a reward normaliser")
	if err != nil {
		return Normaliser{}, err
	}
	return decodeNormaliser(b, path)
}

// decodeNormaliser reads a normaliser strictly: a misspelt or missing
// key would otherwise leave a value at zero without a word.
func decodeNormaliser(b []byte, name string) (Normaliser, error) {
	var n Normaliser
	if err := infile.DecodeJSON(b, &n, true); err != nil {
		return n, infile.In(name, err)
	}
	var keys map[string]json.RawMessage
	json.Unmarshal(b, &keys) // the decode above succeeded: an object
	for _, k := range []string{"mu", "sigma", "z_sigmas"} {
		if _, ok := keys[k]; !ok {
			return n, fmt.Errorf("%s: no %q", name, k)
		}
	}
	if n.Sigma <= 0 || n.ZSigmas <= 0 {
		return n, fmt.Errorf("%s: sigma and z_sigmas must be positive", name)
	}
	return n, nil
}

// NormaliserFor reads the normaliser that belongs to a scorer: reward.json
// beside its checkpoint, or for "" the embedded one.
func NormaliserFor(spec string) (Normaliser, error) {
	if spec != "" {
		n, err := LoadNormaliser(filepath.Join(filepath.Dir(spec), "reward.json"))
		if errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("%s has no reward.json beside it: run parascope train reward --clip %s", spec, spec)
		}
		return n, err
	}
	b, err := embedded.ReadFile("weights/reward.json")
	if err != nil {
		return Normaliser{}, fmt.Errorf("the embedded scorer has no reward normaliser: %w", err)
	}
	return decodeNormaliser(b, "the embedded reward.json")
}

// Reward is ParaRL's reward for a step of a trajectory: the scorer's
// alignment of its partial text and picture, normalised into [0, 1].
type Reward struct {
	Scorer Scorer
	Norm   Normaliser
}

func (r Reward) Reward(p sample.Prompt, f sample.Frame) (float64, error) {
	s, err := r.Scorer.Align(p, f)
	return r.Norm.Reward(s), err
}
