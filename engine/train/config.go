// Package train fits the mask predictor on ShapeWorld. SFT follows the
// paper's objective: per sequence t ~ U(ε, 1), each output token masked
// with probability t, the input never masked; text cross-entropy weighted
// by 1/t, image cross-entropy by a constant; condition dropout so that
// guidance works. Runs checkpoint atomically and resume exactly.
package train

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"parascope/engine/memory"
	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/token"
	"parascope/engine/tomlconf"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// SFTConfig holds every knob of a supervised run.
type SFTConfig struct {
	Seed  uint64 `toml:"seed" json:"seed"`   // data, masking and initialisation
	Steps int    `toml:"steps" json:"steps"` // optimiser steps in the whole run
	Batch int    `toml:"batch" json:"batch"` // sequences a step
	Tasks
	Optim

	MinMask     float64 `toml:"min_mask" json:"min_mask"`         // ε of t ~ U(ε, 1)
	TextWeight  float64 `toml:"text_weight" json:"text_weight"`   // text CE × TextWeight / t
	ImageWeight float64 `toml:"image_weight" json:"image_weight"` // image CE × ImageWeight
	CondDropout float64 `toml:"cond_dropout" json:"cond_dropout"` // share with the instruction → <|uncond|>

	CheckpointEvery int `toml:"checkpoint_every" json:"checkpoint_every"`
	// Init starts from a checkpoint's weights (fine-tuning), or from the
	// embedded model's ("embedded"); empty starts from random weights of
	// the shape below.
	Init  string     `toml:"init" json:"init,omitempty"`
	Model ModelShape `toml:"model" json:"model"`

	// from is the file the config was loaded from and the [model] keys it
	// sets: a run from init keeps the init's shape, and a shape the file
	// asks for that differs is a mistake NewSFT reports.
	from *sftSource
}

type sftSource struct {
	path      string
	modelKeys []string
}

// Tasks chooses a job's training cases.
type Tasks struct {
	// GenEvery makes every GenEvery-th batch a thinkgen batch, the others
	// thinkedit (a batch holds one task: their sequences differ in length).
	GenEvery int `toml:"gen_every" json:"gen_every"`
	// EditKinds limits the edits to these kinds ("" or empty: all), and
	// then every batch is an edit batch.
	EditKinds []string `toml:"edit_kinds" json:"edit_kinds,omitempty"`
}

// task is batch k's task.
func (t Tasks) task(k int) world.Task {
	if len(t.EditKinds) == 0 && k%t.GenEvery == 0 {
		return world.ThinkGen
	}
	return world.ThinkEdit
}

// trainingCase is case index of the training stream for task, drawn with
// seed: never a held-out case, so the benchmark stays unseen.
func trainingCase(seed uint64, index int, task world.Task, kinds []world.EditKind) world.Case {
	for attempt := uint64(0); ; attempt++ {
		s := seed + attempt*0x9e3779b97f4a7c15
		var c world.Case
		if task == world.ThinkGen {
			c = world.Generate(s, index, world.MixGen)
		} else {
			c = world.GenerateKind(s, index, kinds[index%len(kinds)])
		}
		if !c.HeldOut() {
			return c
		}
	}
}

// Optim holds the optimiser's settings, shared by every job.
type Optim struct {
	LR          float64 `toml:"lr" json:"lr"`
	MinLR       float64 `toml:"min_lr" json:"min_lr"`
	Warmup      int     `toml:"warmup" json:"warmup"`
	WeightDecay float64 `toml:"weight_decay" json:"weight_decay"`
	Beta1       float64 `toml:"beta1" json:"beta1"`
	Beta2       float64 `toml:"beta2" json:"beta2"`
	Clip        float64 `toml:"clip" json:"clip"` // global gradient norm; 0 = no clipping
}

// learningRate is linear warm-up, then cosine decay to min_lr by the last
// of steps.
func (o Optim) learningRate(step, steps int) float64 {
	if step < o.Warmup {
		return o.LR * float64(step+1) / float64(o.Warmup)
	}
	p := float64(step-o.Warmup) / float64(max(steps-o.Warmup, 1))
	return o.MinLR + (o.LR-o.MinLR)*0.5*(1+math.Cos(math.Pi*min(p, 1)))
}

// adamW is the update of step (0-based).
func (o Optim) adamW(step, steps int) nn.AdamW {
	return nn.AdamW{LR: float32(o.learningRate(step, steps)), Beta1: float32(o.Beta1), Beta2: float32(o.Beta2), Eps: 1e-8,
		WeightDecay: float32(o.WeightDecay), Step: step + 1}
}

// validate reports bad optimiser settings. The comparisons are written
// so that NaN fails them too.
func (o Optim) validate(steps int, bad func(key, format string, args ...any)) {
	switch {
	case o.Warmup < 0:
		bad("warmup", "%d, want ≥ 0", o.Warmup)
	case o.Warmup > steps && steps >= 1:
		// The learning rate would still be rising when the run ends.
		bad("warmup", "%d, more than the run's %d steps: lr would never be reached; want 0 to %d", o.Warmup, steps, steps)
	}
	// An Adam step moves a weight by about lr: beyond 1 it is noise.
	if !(o.LR > 0 && o.LR <= 1 && o.MinLR >= 0 && o.MinLR <= o.LR) {
		bad("lr", "lr %g and min_lr %g: want 0 ≤ min_lr ≤ lr, 0 < lr ≤ 1", o.LR, o.MinLR)
	}
	for key, v := range map[string]float64{"beta1": o.Beta1, "beta2": o.Beta2} {
		if !(v >= 0 && v < 1) {
			bad(key, "%g, want 0 ≤ x < 1", v)
		}
	}
	// Decoupled decay shrinks the weights by lr·weight_decay a step.
	if !(o.WeightDecay >= 0 && o.WeightDecay <= 1) {
		bad("weight_decay", "%g, want 0 to 1", o.WeightDecay)
	}
	if !(o.Clip >= 0) {
		bad("clip", "%g, want ≥ 0 (0: no clipping)", o.Clip)
	}
}

// ModelShape is the size of a fresh model; the vocabulary and length
// follow from the tokenizer.
type ModelShape struct {
	Layers int `toml:"layers" json:"layers"`
	DModel int `toml:"d_model" json:"d_model"`
	Heads  int `toml:"heads" json:"heads"`
	MLP    int `toml:"mlp" json:"mlp"`
}

// DefaultSFT is the recipe examples/sft.toml spells out.
func DefaultSFT() SFTConfig {
	return SFTConfig{
		Seed: 1, Steps: 20000, Batch: 32, Tasks: Tasks{GenEvery: 3},
		Optim:   Optim{LR: 1e-3, MinLR: 1e-4, Warmup: 300, WeightDecay: 0.1, Beta1: 0.9, Beta2: 0.95, Clip: 1},
		MinMask: 1e-3, TextWeight: 1, ImageWeight: 1, CondDropout: 0.1,
		CheckpointEvery: 250,
		Model:           ModelShape{Layers: 4, DModel: 256, Heads: 8, MLP: 768},
	}
}

// Validate reports every setting that cannot work.
func (c SFTConfig) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, tomlconf.KeyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	for key, v := range map[string]int{"steps": c.Steps, "batch": c.Batch, "gen_every": c.GenEvery, "checkpoint_every": c.CheckpointEvery} {
		if v < 1 {
			bad(key, "%d, want at least 1", v)
		}
	}
	c.Optim.validate(c.Steps, bad)
	if !(c.CondDropout >= 0 && c.CondDropout < 1) {
		bad("cond_dropout", "%g, want 0 ≤ x < 1", c.CondDropout)
	}
	if !(c.MinMask > 0 && c.MinMask < 1) {
		bad("min_mask", "%g, want 0 < ε < 1", c.MinMask)
	}
	if !(c.TextWeight >= 0 && c.ImageWeight >= 0 && c.TextWeight+c.ImageWeight > 0) {
		bad("text_weight", "text_weight %g and image_weight %g: want ≥ 0, not both 0", c.TextWeight, c.ImageWeight)
	}
	if _, err := c.kinds(); err != nil {
		bad("edit_kinds", "%v", err)
	}
	if c.Init == "" {
		// Validate knows no codebook: the default one's vocabulary stands
		// for it, as near as the estimate needs.
		checkTraining(c.Model.config(token.New(vq.Default().K()).Size()), c.Batch, bad)
	}
	return errors.Join(errs...)
}

// config is a fresh model of this shape over a vocabulary of size vocab.
func (s ModelShape) config(vocab int) model.Config {
	c := model.DefaultConfig(vocab)
	c.Layers, c.DModel, c.Heads, c.MLP = s.Layers, s.DModel, s.Heads, s.MLP
	return c
}

// checkTraining reports a shape that cannot work, or that, with batch
// sequences of the longest length, cannot be trained in this machine's
// memory (model.Config.TrainingBytes): the model's key when its weights
// and optimiser state alone do not fit, else the batch's.
func checkTraining(c model.Config, batch int, bad func(key, format string, args ...any)) {
	if err := c.Validate(); err != nil {
		bad("model", "%v", strings.ReplaceAll(err.Error(), "\n", "; "))
		return
	}
	shape := fmt.Sprintf("layers %d, d_model %d, mlp %d", c.Layers, c.DModel, c.MLP)
	if err := memory.Check(c.TrainingBytes(0, 0), "training its weights, gradients and AdamW moments"); err != nil {
		bad("model", "%s: %v", shape, err)
	} else if err := memory.Check(c.TrainingBytes(batch, c.MaxLen), fmt.Sprintf("training the model (%s) on batches of %d sequences of %d tokens", shape, batch, c.MaxLen)); err != nil {
		bad("batch", "%d: %v", batch, err)
	}
}

// kinds returns the edit kinds to train on.
func (t Tasks) kinds() ([]world.EditKind, error) {
	if len(t.EditKinds) == 0 {
		return world.EditKinds(), nil
	}
	var out []world.EditKind
	for _, s := range t.EditKinds {
		var k world.EditKind
		if err := k.UnmarshalText([]byte(s)); err != nil || k == world.NoEdit {
			return nil, fmt.Errorf("%q is not an edit kind", s)
		}
		out = append(out, k)
	}
	return out, nil
}

// InputFiles names the checkpoint a run starts from, for
// tomlconf.CheckInputs.
func (c SFTConfig) InputFiles() map[string]string { return initFile(c.Init) }

// initFile is a config's init key as an input file, when it names one
// (not the embedded weights or fresh ones).
func initFile(init string) map[string]string {
	if !model.NamesFile(init) {
		return nil
	}
	return map[string]string{"init": init}
}

// LoadSFT reads a TOML file over the defaults.
func LoadSFT(path string) (SFTConfig, error) {
	c := DefaultSFT()
	keys, err := tomlconf.LoadKeys(path, &c)
	c.from = &sftSource{path: path}
	for _, k := range keys {
		if strings.HasPrefix(k, "model.") {
			c.from.modelKeys = append(c.from.modelKeys, k)
		}
	}
	return c, err
}

// checkInitShape reports each [model] key the config's file sets to
// other than the init model's shape m, by file, line and key.
func (c SFTConfig) checkInitShape(m model.Config) error {
	if c.from == nil || len(c.from.modelKeys) == 0 {
		return nil
	}
	has := map[string]int{"model.layers": m.Layers, "model.d_model": m.DModel, "model.heads": m.Heads, "model.mlp": m.MLP}
	asked := map[string]int{"model.layers": c.Model.Layers, "model.d_model": c.Model.DModel, "model.heads": c.Model.Heads, "model.mlp": c.Model.MLP}
	var errs []error
	for _, k := range c.from.modelKeys {
		if asked[k] != has[k] {
			errs = append(errs, tomlconf.KeyError{Key: k, Msg: fmt.Sprintf("%d, but init %s has %d: a run from init keeps its shape; drop [model] or match it", asked[k], c.Init, has[k])})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	data, _ := os.ReadFile(c.from.path)
	return tomlconf.Locate(c.from.path, data, errors.Join(errs...))
}
