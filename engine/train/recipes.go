package train

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"

	"parascope/engine/clip"
	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/partial"
	"parascope/engine/safetensors"
	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// QuickSFT is the viewer's fine-tuning recipe: a short, gentle run of the
// given steps from init's weights, on the chosen edit kinds (all when
// empty).
func QuickSFT(init string, kinds []string, steps int) SFTConfig {
	cfg := DefaultSFT()
	cfg.Init, cfg.EditKinds, cfg.Steps, cfg.Batch = init, kinds, steps, 16
	cfg.LR, cfg.MinLR, cfg.Warmup, cfg.CheckpointEvery = 3e-4, 3e-5, min(20, steps/5), max(steps/4, 1)
	return cfg
}

// QuickParaRL is the viewer's ParaRL recipe: examples/pararl.toml's
// settings for the given batches, from init's weights, rewarded by the
// scorer the sampler config names.
func QuickParaRL(init, scorer string, batches int) ParaRLConfig {
	cfg := DefaultParaRL()
	cfg.Sampler.Model, cfg.Sampler.Clip, cfg.Steps = init, scorer, batches
	cfg.Warmup = min(cfg.Warmup, batches) // a warm-up past the run is refused
	return cfg
}

// OpenDeps opens a ParaRL run's reference (the starting policy, frozen)
// and its reward (the scorer's alignment through its normaliser) from
// the run's config.
func OpenDeps(be nn.Backend, cb *vq.Codebook) RLDeps {
	vocab := token.New(cb.K())
	return func(cfg ParaRLConfig) (*model.Model, Rewarder, error) {
		var reward Rewarder = JudgeReward{Vocab: vocab, Codebook: cb}
		if cfg.Reward != RewardJudge {
			scorer, err := clip.Open(cfg.Sampler.Clip, be)
			if err != nil {
				return nil, nil, fmt.Errorf("the reward's scorer (sampler.clip): %w", err)
			}
			norm, err := clip.NormaliserFor(cfg.Sampler.Clip)
			if err != nil {
				return nil, nil, err
			}
			reward = scorerReward{clip.Reward{Scorer: clip.Scorer{Model: scorer, Vocab: vocab, Codebook: cb}, Norm: norm}}
		}
		ref, err := model.Open(cfg.Sampler.Model, be, vocab.Size())
		if err != nil {
			return nil, nil, fmt.Errorf("the starting policy (sampler.model): %w", err)
		}
		return ref, reward, nil
	}
}

// scorerReward is a CLIP scorer's normalised score: it sees the frame
// and the prompt, never the case's answer.
type scorerReward struct{ clip clip.Reward }

func (r scorerReward) Reward(_ world.Case, p sample.Prompt, f sample.Frame) (float64, error) {
	return r.clip.Reward(p, f)
}

// JudgeReward is the oracle: the exact judge's output alignment of what
// a step has committed against the case's ground truth (partial.Judge), in
// [0, 1].
type JudgeReward struct {
	Vocab    sample.Vocabulary
	Codebook sample.ImageTokenizer
}

func (r JudgeReward) Reward(c world.Case, _ sample.Prompt, f sample.Frame) (float64, error) {
	s, err := partial.Judge(c, f, r.Vocab, r.Codebook)
	if err != nil {
		return 0, err
	}
	return s.OutputAlignment / 100, nil
}

// Provenance is how a checkpoint was made: its file name and metadata and,
// for a fine-tune, the same of the model it started from, so a promoted
// record reproduces every stage. Paths are kept to their base names: the
// record is embedded and must not carry this machine's folders.
func Provenance(path string, meta map[string]string) map[string]any {
	record := map[string]any{"source": filepath.Base(path), "metadata": meta}
	var train map[string]json.RawMessage
	var init string
	if json.Unmarshal([]byte(meta["train"]), &train) != nil || json.Unmarshal(train["init"], &init) != nil || init == "" {
		return record
	}
	train["init"], _ = json.Marshal(filepath.Base(init))
	js, _ := json.Marshal(train)
	meta = maps.Clone(meta)
	meta["train"] = string(js)
	record["metadata"] = meta
	if f, err := safetensors.Read(init); err == nil {
		record["init"] = Provenance(init, f.Metadata)
	} else {
		record["init"] = map[string]any{"source": filepath.Base(init), "missing": "not readable when this was promoted"}
	}
	return record
}
