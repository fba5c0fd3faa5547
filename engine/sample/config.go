// Package sample is the parallel sampler: it advances the joint
// text+image sequence one denoising step at a time, on a shared timeline
// (parallel mode) or text first then image (sequential mode), and records
// every step as a Frame. Schedules, remasking rules, temperatures and CFG
// follow LLaDA (text) and MaskGIT (image) as MMaDA-Parallel combines them.
package sample

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"

	"parascope/engine/token"
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
	Codebook string   `toml:"codebook" json:"codebook"`
	Text     Modality `toml:"text" json:"text"`
	Image    Modality `toml:"image" json:"image"`
}

// Modality holds one modality's schedule and rules.
type Modality struct {
	// Schedule: linear, cosine or exponential. Text linear is LLaDA's even
	// split within a block; image cosine is MaskGIT's.
	Schedule string `toml:"schedule" json:"schedule"`
	// Block is the text's semi-autoregressive block length B; the text
	// span's length (one global block) or a divisor of it. Text only.
	Block int `toml:"block" json:"block,omitempty"`
	// ImageSteps (T_img) updates the image only on round(linspace(S/4,
	// S−1, T_img)) of the S steps; 0 means on every step. Image only.
	ImageSteps int `toml:"image_steps" json:"image_steps,omitempty"`
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

// Defaults are the settings the examples start from.
func Defaults() Config {
	return Config{
		Seed: 0, Mode: Parallel, Steps: 20,
		Text:  Modality{Schedule: "linear", Block: token.ReasoningLen, Remasking: LowConfidence},
		Image: Modality{Schedule: "cosine", Remasking: LowConfidence, Temperature: 1, RemaskTemperature: 4.5, CFG: 2},
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

// KeyError is a setting that cannot work, named by its dotted key.
type KeyError struct {
	Key, Msg string
}

func (e KeyError) Error() string { return e.Key + ": " + e.Msg }

// Validate reports every setting that cannot work, each as a KeyError.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, KeyError{key, fmt.Sprintf(format, args...)})
	}
	oneOf := func(key, v string, allowed []string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		bad(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
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
		if m.m.Temperature < 0 {
			bad(m.name+".temperature", "%g, want ≥ 0", m.m.Temperature)
		}
		if m.m.CFG < 0 {
			bad(m.name+".cfg", "%g, want ≥ 0", m.m.CFG)
		}
	}
	n := token.ReasoningLen
	switch {
	case c.Text.Block < 1 || c.Text.Block > n:
		bad("text.block", "%d, want 1 to %d (the text span)", c.Text.Block, n)
	case n%c.Text.Block != 0:
		bad("text.block", "%d does not divide the text span of %d", c.Text.Block, n)
	case c.Steps%(n/c.Text.Block) != 0:
		bad("text.block", "%d blocks do not divide steps = %d evenly", n/c.Text.Block, c.Steps)
	}
	if c.Text.ImageSteps != 0 {
		bad("text.image_steps", "applies to the image only")
	}
	if c.Image.Block != 0 {
		bad("image.block", "applies to the text only")
	}
	if c.Image.ImageSteps < 0 || c.Image.ImageSteps > c.Steps {
		bad("image.image_steps", "%d, want 0 (every step) to steps = %d", c.Image.ImageSteps, c.Steps)
	}
	if c.Image.RemaskTemperature < 0 {
		bad("image.remask_temperature", "%g, want ≥ 0", c.Image.RemaskTemperature)
	}
	return errors.Join(errs...)
}

// LoadConfig reads a TOML file over the defaults. Syntax errors name the
// line and column, unknown keys their line, bad values their key.
func LoadConfig(path string) (Config, error) {
	c := Defaults()
	data, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	meta, err := toml.Decode(string(data), &c)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return c, fmt.Errorf("%s:%d:%d: %s", path, perr.Position.Line, perr.Position.Col, perr.Message)
		}
		return c, fmt.Errorf("%s: %w", path, err)
	}
	// The decoder matches keys regardless of case; only the exact names
	// are accepted, so a config reads the same everywhere.
	known := knownKeys(reflect.TypeOf(c), "")
	var errs []error
	for _, k := range meta.Keys() {
		if !known[k.String()] {
			errs = append(errs, fmt.Errorf("%s:%d: unknown key %q", path, keyLine(data, k), k.String()))
		}
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	if err := c.Validate(); err != nil {
		// Point at the line that sets the key, where the file sets it.
		var located []error
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			ke := e.(KeyError)
			if line := keyLine(data, strings.Split(ke.Key, ".")); line > 0 {
				located = append(located, fmt.Errorf("%s:%d: %w", path, line, ke))
			} else {
				located = append(located, fmt.Errorf("%s: %w", path, ke))
			}
		}
		return c, errors.Join(located...)
	}
	return c, nil
}

// knownKeys lists the dotted TOML keys of a struct type.
func knownKeys(t reflect.Type, prefix string) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		name := prefix + f.Tag.Get("toml")
		out[name] = true
		if f.Type.Kind() == reflect.Struct {
			maps.Copy(out, knownKeys(f.Type, name+"."))
		}
	}
	return out
}

// keyLine finds the line that sets a key: its last part at the start of a
// line, inside the table its other parts name; 0 when not found.
func keyLine(data []byte, k toml.Key) int {
	table := strings.Join(k[:len(k)-1], ".")
	current := ""
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			current = strings.Trim(line, "[] \t")
			if current == strings.Join(k, ".") {
				return i + 1 // an unknown table
			}
			continue
		}
		name, _, ok := strings.Cut(line, "=")
		if ok && current == table && strings.Trim(strings.TrimSpace(name), `"`) == k[len(k)-1] {
			return i + 1
		}
	}
	return 0
}
