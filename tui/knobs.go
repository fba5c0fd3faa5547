package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"parascope/engine/sample"
	"parascope/engine/token"
)

// knob is one sampler setting the side panel edits: shown, stepped with
// ← →, or set from typed text.
type knob struct {
	name   string
	show   func(c sample.Config) string
	change func(c *sample.Config, dir int)
	set    func(c *sample.Config, text string) error
}

// choiceKnob cycles through options.
func choiceKnob(name string, field func(*sample.Config) *string, options []string) knob {
	return knob{name,
		func(c sample.Config) string { return *field(&c) },
		func(c *sample.Config, d int) {
			f := field(c)
			i := slices.Index(options, *f)
			*f = options[(i+d+len(options))%len(options)]
		},
		func(c *sample.Config, text string) error {
			if !slices.Contains(options, text) {
				return fmt.Errorf("%s: %q, want one of %s", name, text, strings.Join(options, ", "))
			}
			*field(c) = text
			return nil
		}}
}

// floatKnob steps by `by`, never below 0, up to most.
func floatKnob(name string, field func(*sample.Config) *float64, by, most float64) knob {
	return knob{name,
		func(c sample.Config) string { return fmt.Sprintf("%.1f", *field(&c)) },
		func(c *sample.Config, d int) { f := field(c); *f = min(max(0, *f+by*float64(d)), most) },
		func(c *sample.Config, text string) error {
			v, err := strconv.ParseFloat(text, 64)
			if err != nil || !(v >= 0 && v <= most) {
				return fmt.Errorf("%s: %q, want a number from 0 to %g", name, text, most)
			}
			*field(c) = v
			return nil
		}}
}

// intKnob takes the values ok allows, stepping through them.
func intKnob(name string, field func(*sample.Config) *int, ok func(c sample.Config, v int) bool, step func(c sample.Config, v, d int) int, want string) knob {
	return knob{name,
		func(c sample.Config) string { return fmt.Sprint(*field(&c)) },
		func(c *sample.Config, d int) { f := field(c); *f = step(*c, *f, d) },
		func(c *sample.Config, text string) error {
			v, err := strconv.Atoi(text)
			if err != nil || !ok(*c, v) {
				return fmt.Errorf("%s: %q, want %s", name, text, want)
			}
			*field(c) = v
			return nil
		}}
}

// maxKnobSteps bounds the steps typed in the panel (the config's own
// bound is the memory a trajectory needs; this is what a viewer shows).
const maxKnobSteps = 1000

// blockSizes are the text block lengths the panel offers: the divisors of
// the text span, which are the lengths Validate accepts.
var blockSizes = func() []int {
	var out []int
	for b := 1; b <= token.ReasoningLen; b++ {
		if token.ReasoningLen%b == 0 {
			out = append(out, b)
		}
	}
	return out
}()

var knobs = []knob{
	intKnob("steps", func(c *sample.Config) *int { return &c.Steps },
		func(_ sample.Config, v int) bool { return v >= 1 && v <= maxKnobSteps },
		func(_ sample.Config, v, d int) int { return min(max(1, v+d), maxKnobSteps) },
		fmt.Sprintf("a whole number from 1 to %d", maxKnobSteps)),
	choiceKnob("mode", func(c *sample.Config) *string { return &c.Mode }, sample.Modes()),
	intKnob("text block", func(c *sample.Config) *int { return &c.Text.Block },
		func(_ sample.Config, v int) bool { return slices.Contains(blockSizes, v) },
		func(_ sample.Config, v, d int) int {
			i := slices.Index(blockSizes, v)
			return blockSizes[min(max(i+d, 0), len(blockSizes)-1)]
		},
		fmt.Sprintf("a length that divides the text's %d positions (%s)", token.ReasoningLen, strings.Trim(fmt.Sprint(blockSizes), "[]"))),
	choiceKnob("text schedule", func(c *sample.Config) *string { return &c.Text.Schedule }, sample.Schedules()),
	choiceKnob("text remasking", func(c *sample.Config) *string { return &c.Text.Remasking }, sample.RemaskingRules()),
	floatKnob("text temperature", func(c *sample.Config) *float64 { return &c.Text.Temperature }, 0.1, 100),
	{"text end last", func(c sample.Config) string { return onOff(c.Text.EndLast) },
		func(c *sample.Config, _ int) { c.Text.EndLast = !c.Text.EndLast },
		func(c *sample.Config, text string) error {
			if text != "on" && text != "off" {
				return fmt.Errorf("text end last: %q, want on or off", text)
			}
			c.Text.EndLast = text == "on"
			return nil
		}},
	floatKnob("text cfg", func(c *sample.Config) *float64 { return &c.Text.CFG }, 0.5, 100),
	choiceKnob("image schedule", func(c *sample.Config) *string { return &c.Image.Schedule }, sample.Schedules()),
	{"image steps", func(c sample.Config) string {
		if c.Image.ImageSteps == 0 {
			return "every"
		}
		return fmt.Sprint(c.Image.ImageSteps)
	}, func(c *sample.Config, d int) { c.Image.ImageSteps = min(max(0, c.Image.ImageSteps+d), c.Steps) },
		func(c *sample.Config, text string) error {
			if text == "every" {
				c.Image.ImageSteps = 0
				return nil
			}
			v, err := strconv.Atoi(text)
			if err != nil || v < 1 || v > c.Steps {
				return fmt.Errorf("image steps: %q, want every, or a whole number from 1 to the steps (%d)", text, c.Steps)
			}
			c.Image.ImageSteps = v
			return nil
		}},
	choiceKnob("image remasking", func(c *sample.Config) *string { return &c.Image.Remasking }, sample.RemaskingRules()),
	floatKnob("image temperature", func(c *sample.Config) *float64 { return &c.Image.Temperature }, 0.1, 100),
	floatKnob("remask temperature", func(c *sample.Config) *float64 { return &c.Image.RemaskTemperature }, 0.5, 100),
	floatKnob("image cfg", func(c *sample.Config) *float64 { return &c.Image.CFG }, 0.5, 100),
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// knobColumns are the widths of the panel's name and value columns: the
// longest name, and the longest value any knob can show, so no value is
// ever cut.
var knobColumns = func() (name, value int) {
	value = len("every")
	for _, k := range knobs {
		name = max(name, len(k.name))
	}
	for _, opts := range [][]string{sample.Modes(), sample.Schedules(), sample.RemaskingRules()} {
		for _, o := range opts {
			value = max(value, len(o))
		}
	}
	return name, value
}
