package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"parascope/engine/sample"
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

// blockSizes are the text block lengths the panel offers for a text
// span of n positions: its divisors, which are the lengths ValidateFor
// accepts.
func blockSizes(n int) []int {
	var out []int
	for b := 1; b <= n; b++ {
		if n%b == 0 {
			out = append(out, b)
		}
	}
	return out
}

// rulesNames are the rules knob's values as it shows them: Parascope's
// own ("") and the published generators'.
var rulesNames = map[string]string{"": "parascope", sample.OfficialA: sample.OfficialA, sample.OfficialM: sample.OfficialM}

// rulesKnob picks the loop each step follows.
func rulesKnob() knob {
	options := []string{"", sample.OfficialA, sample.OfficialM}
	return knob{name: "rules",
		show: func(c sample.Config) string { return rulesNames[c.Rules] },
		change: func(c *sample.Config, d int) {
			i := slices.Index(options, c.Rules)
			*c = c.UnderRules(options[(i+d+len(options))%len(options)])
		},
		set: func(c *sample.Config, text string) error {
			for _, o := range options {
				if rulesNames[o] == text {
					*c = c.UnderRules(o)
					return nil
				}
			}
			return fmt.Errorf("rules: %q, want parascope, %s or %s", text, sample.OfficialA, sample.OfficialM)
		}}
}

// guidanceKnob picks CFG's direction; "" is away.
func guidanceKnob(name string, field func(*sample.Config) *string) knob {
	show := func(v string) string {
		if v == "" {
			return sample.Away
		}
		return v
	}
	return knob{name: name,
		show: func(c sample.Config) string { return show(*field(&c)) },
		change: func(c *sample.Config, _ int) {
			f := field(c)
			*f = map[bool]string{true: sample.Toward, false: ""}[show(*f) == sample.Away]
		},
		set: func(c *sample.Config, text string) error {
			if text != sample.Away && text != sample.Toward {
				return fmt.Errorf("%s: %q, want %s or %s", name, text, sample.Away, sample.Toward)
			}
			if f := field(c); show(*f) != text {
				*f = strings.TrimPrefix(text, sample.Away)
			}
			return nil
		}}
}

// knobList is the panel's knobs for a template whose text span has
// textLen positions (ShapeWorld's token.ReasoningLen, or a published
// model's text_length); a published model's add the published
// generators' own: the rules, the guidance's direction and cfg_img.
func knobList(textLen int, published bool) []knob {
	blocks := blockSizes(textLen)
	// Under the official rules the text is one global block, and a
	// block of 0 says so.
	blockOK := func(c sample.Config, v int) bool {
		return slices.Contains(blocks, v) || (v == 0 && c.Rules != "")
	}
	ks := []knob{
		intKnob("steps", func(c *sample.Config) *int { return &c.Steps },
			func(_ sample.Config, v int) bool { return v >= 1 && v <= maxKnobSteps },
			func(_ sample.Config, v, d int) int { return min(max(1, v+d), maxKnobSteps) },
			fmt.Sprintf("a whole number from 1 to %d", maxKnobSteps)),
		choiceKnob("mode", func(c *sample.Config) *string { return &c.Mode }, sample.Modes()),
		rulesKnob(),
		intKnob("text block", func(c *sample.Config) *int { return &c.Text.Block }, blockOK,
			func(_ sample.Config, v, d int) int {
				i := slices.Index(blocks, v)
				if i < 0 { // 0, one global block: the longest
					i = len(blocks)
				}
				return blocks[min(max(i+d, 0), len(blocks)-1)]
			},
			fmt.Sprintf("a length that divides the text's %d positions (%s)", textLen, strings.Trim(fmt.Sprint(blocks), "[]"))),
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
		guidanceKnob("text guidance", func(c *sample.Config) *string { return &c.Text.Guidance }),
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
		guidanceKnob("image guidance", func(c *sample.Config) *string { return &c.Image.Guidance }),
		floatKnob("image cfg_img", func(c *sample.Config) *float64 { return &c.Image.CFGImage }, 0.5, 100),
	}
	if !published {
		ks = slices.DeleteFunc(ks, func(k knob) bool { return publishedOnly[k.name] })
	}
	return ks
}

// publishedOnly are the knobs of the published generators' settings,
// shown for a published model only (ShapeWorld's panel is as it was).
var publishedOnly = map[string]bool{"rules": true, "text guidance": true, "image guidance": true, "image cfg_img": true}

// unused says whether the loop c.Rules names leaves knob name's setting
// unread: the official code has no text blocks and no end-last rule,
// official-a guides only the picture, and only official-a has a second
// unconditional branch (cfg_img).
func unused(name string, c sample.Config) bool {
	switch name {
	case "text block", "text end last":
		return c.Rules != ""
	case "text cfg", "text guidance":
		return c.Rules == sample.OfficialA
	case "image cfg_img":
		return c.Rules != sample.OfficialA
	}
	return false
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
func knobColumns() (name, value int) {
	value = len("every")
	for _, k := range knobList(1, true) {
		name = max(name, len(k.name))
	}
	for _, opts := range [][]string{sample.Modes(), sample.Schedules(), sample.RemaskingRules(), {sample.OfficialA, sample.OfficialM, "parascope"}} {
		for _, o := range opts {
			value = max(value, len(o))
		}
	}
	return name, value
}
