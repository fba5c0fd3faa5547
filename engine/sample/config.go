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
	// Preset names the settings a config file starts from (Preset):
	// "", official-a or official-m. Its keys go on top.
	Preset string `toml:"preset" json:"-"`
	// Rules is the loop each step follows: "" (Parascope's sampler) or
	// official-a / official-m, the published MMaDA-Parallel generators
	// reproduced step for step (official.go says what differs).
	Rules string `toml:"rules" json:"rules,omitempty"`
	Seed  uint64 `toml:"seed" json:"seed"`
	Mode  string `toml:"mode" json:"mode"` // parallel | sequential
	// TextLength is the reasoning span's length (text_gen_length); 0 is
	// the model's own (ShapeWorld's is fixed). The template is built
	// with it.
	TextLength int `toml:"text_length" json:"text_length,omitempty"`
	Steps      int `toml:"steps" json:"steps"` // S: steps of the shared timeline (of the text, in sequential mode)
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
	// Guidance is CFG's direction: "" or "away", the formula above, or
	// "toward", cond + w·(uncond − cond), which the official -M code
	// applies to the text and which moves toward the unconditional
	// branch. Both are available so the difference can be watched.
	Guidance string `toml:"guidance" json:"guidance,omitempty"`
	// CFGImage weighs a second unconditional branch, the input picture
	// taken away (official-a's cfg_img): + w₂·(cond − uncond_image). Image
	// only; the template must have that branch.
	CFGImage float64 `toml:"cfg_img" json:"cfg_img,omitempty"`
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

// Rules and the presets that set them.
const (
	OfficialA = "official-a"
	OfficialM = "official-m"
)

// Guidance directions.
const (
	Away   = "away"
	Toward = "toward"
)

// Preset returns the settings a preset starts from: "" is Defaults,
// official-a and official-m the published generators' defaults
// (generate_ti2ti as MMaDA-Parallel-A's inference.py calls it, and
// MMaDA-Parallel-M's interleave_generate as its inference.py calls it).
func Preset(name string) (Config, error) {
	c := Defaults()
	switch name {
	case "":
		return c, nil
	case OfficialA:
		// timesteps 64 image steps among text_steps 256; text_block_length
		// 32 is accepted by the official code and never used, as here.
		c.Steps = 256
		c.Text = Modality{Schedule: "linear", Block: 32, Remasking: LowConfidence, Temperature: 0.7}
		c.Image = Modality{Schedule: "cosine", ImageSteps: 64, Remasking: LowConfidence, Temperature: 1, RemaskTemperature: 1, CFG: 2.5, CFGImage: 4}
	case OfficialM:
		// text_steps 128, image_steps 30, text_cfg 2.5 toward the
		// unconditional branch, image_cfg 4, text at temperature 0.
		c.Steps = 128
		c.Text = Modality{Schedule: "linear", Block: 0, Remasking: LowConfidence, CFG: 2.5, Guidance: Toward}
		c.Image = Modality{Schedule: "cosine", ImageSteps: 30, Remasking: LowConfidence, Temperature: 1, RemaskTemperature: 1, CFG: 4}
	default:
		return c, tomlconf.KeyError{Key: "preset", Msg: fmt.Sprintf("%q is not one of official-a, official-m", name)}
	}
	c.Preset, c.Rules = name, name
	return c, nil
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
	loops     = []string{"", OfficialA, OfficialM}
	guidances = []string{"", Away, Toward}
)

// UnderRules is c with rules r, and each setting r cannot run set to the
// nearest it can: what a viewer's rules switch does.
func (c Config) UnderRules(r string) Config {
	if c.Rules != "" && r == "" {
		c.Text.Block = 0 // the official code's one global block
	}
	c.Rules, c.Preset = r, ""
	if r != OfficialA {
		c.Image.CFGImage = 0
	}
	if r == "" {
		return c
	}
	c.Mode, c.Text.Schedule, c.Image.Schedule = Parallel, "linear", "cosine"
	if c.Text.Remasking != Random {
		c.Text.Remasking = LowConfidence
	}
	c.Image.Remasking, c.Text.EndLast = LowConfidence, false
	if c.Image.ImageSteps == 0 {
		c.Image.ImageSteps = c.Steps
	}
	if r == OfficialA {
		c.Text.CFG = 0
	}
	return c
}

// validateRules checks what each loop can do: the official generators
// have one mode, one schedule per modality and fewer remasking rules, and
// each guides what its code guides.
func (c Config) validateRules(bad func(key, format string, args ...any)) {
	if !slices.Contains(loops, c.Rules) {
		bad("rules", "%q is not one of parascope (\"\"), official-a, official-m", c.Rules)
		return
	}
	if c.Rules == "" {
		if c.Image.CFGImage != 0 {
			bad("image.cfg_img", "Parascope's rules have one unconditional branch; cfg_img needs rules = official-a")
		}
		return
	}
	why := func(key, what string) { bad(key, "%s: not in %s, which follows the published code", what, c.Rules) }
	if c.Mode != Parallel {
		why("mode", c.Mode)
	}
	if c.Text.Schedule != "linear" {
		why("text.schedule", c.Text.Schedule)
	}
	if c.Image.Schedule != "cosine" {
		why("image.schedule", c.Image.Schedule)
	}
	if c.Text.Remasking != LowConfidence && c.Text.Remasking != Random {
		why("text.remasking", c.Text.Remasking)
	}
	if c.Image.Remasking != LowConfidence {
		why("image.remasking", c.Image.Remasking+" (the picture remasks by log-probability and noise)")
	}
	if c.Text.EndLast {
		why("text.end_last", "true (Parascope's rule)")
	}
	if c.Image.ImageSteps == 0 {
		why("image.image_steps", "0 (every step)")
	}
	if c.Rules == OfficialA && c.Text.CFG != 0 {
		why("text.cfg", fmt.Sprintf("%g (official-a guides only the picture)", c.Text.CFG))
	}
	if c.Rules == OfficialM && c.Image.CFGImage != 0 {
		why("image.cfg_img", fmt.Sprintf("%g (official-m has one unconditional branch)", c.Image.CFGImage))
	}
}

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

// maxTextLength bounds text_length: LLaDA's context is 4,096 tokens, the
// picture and prompt included.
const maxTextLength = 4096

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
	if c.TextLength < 0 || c.TextLength > maxTextLength {
		bad("text_length", "%d, want 0 (the model's) to %d", c.TextLength, maxTextLength)
	}
	if t != nil && c.TextLength != 0 && c.TextLength != t.ReasoningLen() {
		bad("text_length", "%d, but the model's layout has %d", c.TextLength, t.ReasoningLen())
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
		if !(m.m.CFGImage >= 0 && m.m.CFGImage <= maxKnob) {
			bad(m.name+".cfg_img", "%g, want 0 to %d", m.m.CFGImage, maxKnob)
		}
		oneOf(m.name+".guidance", m.m.Guidance, guidances)
	}
	n := 0
	if t != nil {
		n = t.ReasoningLen()
	}
	official := c.Rules == OfficialA || c.Rules == OfficialM
	switch {
	case c.Text.Block < 0:
		bad("text.block", "%d, want 0 (one block) or more", c.Text.Block)
	case official || c.Text.Block == 0: // the official generators have no blocks
	case n == 0:
	case c.Text.Block > n:
		bad("text.block", "%d, want 0 or 1 to %d (the text span)", c.Text.Block, n)
	case n%c.Text.Block != 0:
		bad("text.block", "%d does not divide the text span of %d", c.Text.Block, n)
	case c.Steps >= 1 && c.Steps%(n/c.Text.Block) != 0: // bad steps are reported once, above
		bad("text.block", "%d blocks do not divide steps = %d evenly", n/c.Text.Block, c.Steps)
	}
	c.validateRules(bad)
	if c.Text.ImageSteps != 0 {
		bad("text.image_steps", "applies to the image only")
	}
	if c.Image.EndLast {
		bad("image.end_last", "applies to the text only")
	}
	if c.Image.Block != 0 {
		bad("image.block", "applies to the text only")
	}
	if c.Text.CFGImage != 0 {
		bad("text.cfg_img", "applies to the image only")
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

// LoadConfig reads a TOML file over a preset's settings and checks it for
// t (nil leaves out the checks that need a template), naming the line of
// each setting that cannot work. The preset is the one named, else the
// file's own preset key, else none (Defaults).
func LoadConfig(path, preset string, t Template) (Config, error) {
	if preset == "" {
		var err error
		if preset, err = tomlconf.String(path, "preset"); err != nil {
			return Defaults(), err
		}
	}
	c, err := Preset(preset)
	if err != nil {
		return Defaults(), fmt.Errorf("%s: %w", path, err)
	}
	if err := tomlconf.Load(path, &c); err != nil {
		return c, err
	}
	c.Preset = preset
	data, err := tomlconf.Read(path)
	if err != nil {
		return c, err
	}
	return c, tomlconf.Locate(path, data, c.validate(t))
}
