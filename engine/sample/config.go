// Package sample is the parallel sampler: it advances the joint
// text+image sequence one denoising step at a time, on a shared timeline
// (parallel mode) or text first then image (sequential mode), and records
// every step as a Frame. Schedules, remasking rules, temperatures and CFG
// follow LLaDA (text) and MaskGIT (image) as MMaDA-Parallel combines them.
package sample

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"parascope/engine/memory"
	"parascope/engine/model"
	"parascope/engine/tomlconf"
)

// Config holds every knob of the sampler. The zero value is not valid;
// start from Defaults.
type Config struct {
	Seed  uint64 `toml:"seed" json:"seed"`
	Mode  string `toml:"mode" json:"mode"`   // parallel | sequential
	Steps int    `toml:"steps" json:"steps"` // S: steps of the shared timeline (of the text, in sequential mode)
	// Model is a checkpoint path; empty means the embedded default.
	Model string `toml:"model" json:"model"`
	// Codebook is the image tokenizer's codebook; empty means embedded.
	Codebook string `toml:"codebook" json:"codebook"`
	// Clip is the alignment scorer: a CLIP checkpoint, "" for the embedded
	// one (if the build has one), or "none".
	Clip  string   `toml:"clip" json:"clip,omitempty"`
	Text  Modality `toml:"text" json:"text"`
	Image Modality `toml:"image" json:"image"`
}

// Modality holds one modality's schedule and rules.
type Modality struct {
	// Schedule: linear, cosine or exponential. Text linear is LLaDA's even
	// split within a block; image cosine is MaskGIT's.
	Schedule string `toml:"schedule" json:"schedule"`
	// Block is the text's semi-autoregressive block length B; the text
	// span's length (one global block) or a divisor of it, which only the
	// template knows (ValidateFor). Text only.
	Block int `toml:"block" json:"block,omitempty"`
	// ImageSteps (T_img) updates the image only on round(linspace(S/4,
	// S−1, T_img)) of the S steps; 0 means on every step. Image only.
	ImageSteps int `toml:"image_steps" json:"image_steps,omitempty"`
	// EndLast holds back the end of the text (<|eos|> and padding) until
	// no masked position proposes a word, so the words decide the length
	// instead of an early guess at it. Text only.
	EndLast bool `toml:"end_last" json:"end_last,omitempty"`
	// Remasking ranks candidates: low_confidence, random, margin, entropy.
	Remasking string `toml:"remasking" json:"remasking"`
	// Temperature of the candidates: Gumbel-max for text, multinomial
	// sampling for images; 0 takes the most likely token.
	Temperature float64 `toml:"temperature" json:"temperature"`
	// RemaskTemperature scales the Gumbel noise added to image confidences,
	// annealed to zero over the steps (MaskGIT). Image only.
	RemaskTemperature float64 `toml:"remask_temperature" json:"remask_temperature,omitempty"`
	// CFG is the guidance weight w: logits (1+w)·cond − w·uncond, the
	// unconditional branch having the instruction replaced by <|uncond|>.
	CFG float64 `toml:"cfg" json:"cfg"`
}

// Defaults are the settings the examples start from. The text block is
// ShapeWorld's whole reasoning span (token.ReasoningLen), one global
// block; another template's span needs its own block length.
func Defaults() Config {
	return Config{
		Seed: 0, Mode: Parallel, Steps: 40,
		Text:  Modality{Schedule: "linear", Block: 40, Remasking: LowConfidence, EndLast: true},
		Image: Modality{Schedule: "cosine", Remasking: LowConfidence, Temperature: 0.5, RemaskTemperature: 4.5},
	}
}

// Modes.
const (
	Parallel   = "parallel"
	Sequential = "sequential"
)

// Remasking rules.
const (
	LowConfidence = "low_confidence"
	Random        = "random"
	Margin        = "margin"
	Entropy       = "entropy"
)

var (
	modes     = []string{Parallel, Sequential}
	schedules = []string{"linear", "cosine", "exponential"}
	rules     = []string{LowConfidence, Random, Margin, Entropy}
)

// Modes, Schedules and RemaskingRules are the values Validate accepts for
// mode, a modality's schedule and its remasking rule, in the order a
// viewer cycles through them. Each call returns a fresh copy, so no
// caller can change what Validate accepts.
func Modes() []string          { return slices.Clone(modes) }
func Schedules() []string      { return slices.Clone(schedules) }
func RemaskingRules() []string { return slices.Clone(rules) }

// Validate reports every setting that cannot work under any template,
// each as a tomlconf.KeyError.
func (c Config) Validate() error { return c.validate(nil) }

// ValidateFor is Validate with the checks that need t's layout: the text
// block must divide the reasoning, its blocks the steps, and the frames
// of a run must fit in memory.
func (c Config) ValidateFor(t Template) error { return c.validate(t) }

// maxKnob bounds the temperatures and guidance weights: far beyond any
// useful setting, and low enough that scaled logits stay finite.
const maxKnob = 100

// frameOverhead is a generous count of the bytes a step costs besides its
// frame's four per-position slices: the Frame's own fields and the
// timeline's entry for the step.
const frameOverhead = 256

// TrajectoryBytes estimates what a run of c records for an output of
// outputLen positions: a frame a step (the start, the text's steps and,
// in sequential mode, the image's after them), each with its tokens,
// reveal steps, confidences and guesses (14 bytes a position).
func (c Config) TrajectoryBytes(outputLen int) int {
	frames := memory.Add(c.Steps, 1)
	if c.Mode == Sequential {
		imageSteps := c.Image.ImageSteps
		if imageSteps == 0 {
			imageSteps = c.Steps
		}
		frames = memory.Add(frames, imageSteps)
	}
	return memory.Mul(frames, memory.Add(memory.Mul(14, outputLen), frameOverhead))
}

// validate checks c; a nil template leaves out the checks that need one.
func (c Config) validate(t Template) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, tomlconf.KeyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	oneOf := func(key, v string, allowed []string) {
		if !slices.Contains(allowed, v) {
			bad(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
		}
	}
	oneOf("mode", c.Mode, modes)
	if c.Steps < 1 {
		bad("steps", "%d, want at least 1", c.Steps)
	}
	for _, m := range []struct {
		name string
		m    Modality
	}{{"text", c.Text}, {"image", c.Image}} {
		oneOf(m.name+".schedule", m.m.Schedule, schedules)
		oneOf(m.name+".remasking", m.m.Remasking, rules)
		// Written so that NaN fails too.
		if !(m.m.Temperature >= 0 && m.m.Temperature <= maxKnob) {
			bad(m.name+".temperature", "%g, want 0 to %d", m.m.Temperature, maxKnob)
		}
		if !(m.m.CFG >= 0 && m.m.CFG <= maxKnob) {
			bad(m.name+".cfg", "%g, want 0 to %d", m.m.CFG, maxKnob)
		}
	}
	n := 0
	if t != nil {
		n = t.ReasoningLen()
	}
	switch {
	case n == 0:
		if c.Text.Block < 1 {
			bad("text.block", "%d, want at least 1", c.Text.Block)
		}
	case c.Text.Block < 1 || c.Text.Block > n:
		bad("text.block", "%d, want 1 to %d (the text span)", c.Text.Block, n)
	case n%c.Text.Block != 0:
		bad("text.block", "%d does not divide the text span of %d", c.Text.Block, n)
	case c.Steps >= 1 && c.Steps%(n/c.Text.Block) != 0: // bad steps are reported once, above
		bad("text.block", "%d blocks do not divide steps = %d evenly", n/c.Text.Block, c.Steps)
	}
	if c.Text.ImageSteps != 0 {
		bad("text.image_steps", "applies to the image only")
	}
	if c.Image.EndLast {
		bad("image.end_last", "applies to the text only")
	}
	if c.Image.Block != 0 {
		bad("image.block", "applies to the text only")
	}
	if c.Image.ImageSteps < 0 || (c.Steps >= 1 && c.Image.ImageSteps > c.Steps) {
		bad("image.image_steps", "%d, want 0 (every step) to steps = %d", c.Image.ImageSteps, c.Steps)
	}
	if !(c.Image.RemaskTemperature >= 0 && c.Image.RemaskTemperature <= maxKnob) {
		bad("image.remask_temperature", "%g, want 0 to %d", c.Image.RemaskTemperature, maxKnob)
	}
	if t != nil && c.Steps > 0 {
		if err := memory.Check(c.TrajectoryBytes(t.ImageLen()+t.ReasoningLen()), "recording a frame a step"); err != nil {
			bad("steps", "%d: %v", c.Steps, err)
		}
	}
	return errors.Join(errs...)
}

// InputFiles lists the keys that name files, for tomlconf.CheckInputs:
// the embedded defaults (""), "none" and "random:SEED" name none.
func (c Config) InputFiles() map[string]string {
	files := map[string]string{}
	for key, v := range map[string]string{"model": c.Model, "codebook": c.Codebook, "clip": c.Clip} {
		if v != "" && v != "none" && (key != "model" || model.NamesFile(v)) {
			files[key] = v
		}
	}
	return files
}

// LoadConfig reads a TOML file over the defaults and checks it for t,
// naming the line of each setting that cannot work.
func LoadConfig(path string, t Template) (Config, error) {
	c := Defaults()
	if err := tomlconf.Load(path, &c); err != nil {
		return c, err
	}
	data, err := tomlconf.Read(path)
	if err != nil {
		return c, err
	}
	return c, tomlconf.Locate(path, data, c.ValidateFor(t))
}
