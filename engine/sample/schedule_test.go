package sample

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"parascope/engine/memory"
	"parascope/engine/token"
)

// Every expected figure below is worked out by hand from the formulas.
func TestTextCounts(t *testing.T) {
	cases := []struct {
		schedule string
		m, k     int
		want     []int
	}{
		{"linear", 40, 20, slices.Repeat([]int{2}, 20)},
		{"linear", 10, 4, []int{3, 3, 2, 2}},   // 10 = 4·2 + 2: the first two get one more
		{"linear", 3, 5, []int{1, 1, 1, 0, 0}}, // more steps than tokens
		{"linear", 40, 1, []int{40}},           // a single step
		{"cosine", 10, 4, []int{1, 2, 4, 3}},   // masked after: ⌊10·cos(π/8)⌋=9, ⌊10·cos(π/4)⌋=7, ⌊10·cos(3π/8)⌋=3, 0
		// exponential: fraction(r) = (e^-5r − e^-5)/(1 − e^-5) = 0.28167,
		// 0.07586, 0.01689 at r = ¼, ½, ¾: 40 masked → 11, 3, 0, 0 left
		{"exponential", 40, 4, []int{29, 8, 3, 0}},
		{"linear", 0, 3, []int{0, 0, 0}}, // nothing left to reveal
	}
	for _, c := range cases {
		if got := textCounts(c.schedule, c.m, c.k); !slices.Equal(got, c.want) {
			t.Errorf("%s m=%d k=%d: %v, want %v", c.schedule, c.m, c.k, got, c.want)
		}
	}
}

func TestImageMaskedAfter(t *testing.T) {
	// N = 36, T = 4, cosine: ⌊36·cos(π/8)⌋ = 33, ⌊36·cos(π/4)⌋ = 25,
	// ⌊36·cos(3π/8)⌋ = 13, then 0.
	unknown := 36
	var reveals []int
	for step := range 4 {
		after := imageMaskedAfter("cosine", 36, unknown, step, 4)
		reveals = append(reveals, unknown-after)
		unknown = after
	}
	if want := []int{3, 8, 12, 13}; !slices.Equal(reveals, want) {
		t.Fatalf("reveals %v, want %v", reveals, want)
	}
	// The clamps: at least one revealed and one kept before the last step.
	if got := imageMaskedAfter("cosine", 36, 36, 0, 100); got != 35 {
		t.Errorf("first of 100 steps keeps %d masked, want 35 (⌊36·cos(π/200)⌋ = 35)", got)
	}
	if got := imageMaskedAfter("cosine", 36, 2, 98, 100); got != 1 {
		t.Errorf("with 2 unknown one step early, %d stay masked, want 1", got)
	}
	if got := imageMaskedAfter("cosine", 36, 1, 50, 100); got != 1 {
		t.Errorf("with 1 unknown before the end, %d stay masked, want 1 (nothing revealed)", got)
	}
	if got := imageMaskedAfter("cosine", 36, 36, 0, 1); got != 0 {
		t.Errorf("a single step leaves %d masked, want 0", got)
	}
}

func TestImageStepList(t *testing.T) {
	cases := []struct {
		S, T int
		want []int
	}{
		{4, 0, []int{0, 1, 2, 3}},
		{20, 5, []int{5, 8, 12, 16, 19}}, // linspace(5, 19, 5) = 5, 8.5, 12, 15.5, 19; halves to even
		{8, 8, []int{2, 3, 4, 5, 6, 7}},  // 2, 2.71, 3.43, 4.14, 4.86, 5.57, 6.29, 7: repeats count once
		{10, 1, []int{2}},
		{1, 1, []int{0}},
	}
	for _, c := range cases {
		if got := imageStepList(c.S, c.T); !slices.Equal(got, c.want) {
			t.Errorf("S=%d T=%d: %v, want %v", c.S, c.T, got, c.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		edit func(c *Config)
		want string
	}{
		{func(c *Config) { c.Text.Block = 7 }, "text.block: 7 does not divide the text span of 40"},
		{func(c *Config) { c.Text.Block, c.Steps = 20, 3 }, "text.block: 2 blocks do not divide steps = 3 evenly"},
		{func(c *Config) { c.Steps = 0 }, "steps: 0, want at least 1"},
		{func(c *Config) { c.Mode = "serial" }, `mode: "serial" is not one of parallel, sequential`},
		{func(c *Config) { c.Image.Remasking = "lowest" }, `image.remasking: "lowest"`},
		{func(c *Config) { c.Image.ImageSteps = 50 }, "image.image_steps: 50"},
		{func(c *Config) { c.Text.Temperature = -1 }, "text.temperature"},
		{func(c *Config) { c.Image.EndLast = true }, "image.end_last: applies to the text only"},
		{func(c *Config) { c.Text.Temperature = math.NaN() }, "text.temperature: NaN, want 0 to 100"},
		{func(c *Config) { c.Image.Temperature = 1e6 }, "image.temperature: 1e+06, want 0 to 100"},
		{func(c *Config) { c.Text.CFG = math.Inf(1) }, "text.cfg: +Inf, want 0 to 100"},
		{func(c *Config) { c.Image.CFG = math.NaN() }, "image.cfg: NaN"},
		{func(c *Config) { c.Image.RemaskTemperature = math.NaN() }, "image.remask_temperature: NaN, want 0 to 100"},
		{func(c *Config) { c.Image.RemaskTemperature = 101 }, "image.remask_temperature: 101"},
		{func(c *Config) { c.Steps = 99999999999 }, "steps: 99999999999: recording a frame a step needs about"},
	}
	v := token.New(8)
	for _, c := range cases {
		cfg := Defaults()
		c.edit(&cfg)
		if err := cfg.ValidateFor(v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	if err := Defaults().ValidateFor(v); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if Defaults().Text.Block != token.ReasoningLen {
		t.Fatal("the default text block is not ShapeWorld's reasoning span")
	}
	// Without a template only what holds for every template is checked.
	odd := Defaults()
	odd.Text.Block = 7
	if err := odd.Validate(); err != nil {
		t.Fatalf("a block length needs the template to be checked: %v", err)
	}
	odd.Text.Block = -1
	if err := odd.Validate(); err == nil || !strings.Contains(err.Error(), "text.block: -1, want 0 (one block) or more") {
		t.Fatalf("block -1: %v", err)
	}
}

// A run's frames are bounded by the machine's memory: a frame a step (and
// in sequential mode the image's steps after the text's), 14 bytes a
// position and the step's overhead each.
func TestStepsFitInMemory(t *testing.T) {
	saved := memory.Machine
	memory.Machine = func() (int, bool) { return 1 << 30, true }
	defer func() { memory.Machine = saved }()
	v := token.New(8)
	n := v.ImageLen() + v.ReasoningLen()
	cfg := Defaults()
	if got, want := cfg.TrajectoryBytes(n), 41*(14*n+frameOverhead); got != want {
		t.Errorf("parallel: %d bytes, want %d", got, want)
	}
	seq := cfg
	seq.Mode = Sequential
	if got, want := seq.TrajectoryBytes(n), 81*(14*n+frameOverhead); got != want {
		t.Errorf("sequential: %d bytes, want %d", got, want)
	}
	fits := (1 << 30) / (14*n + frameOverhead)
	cfg.Steps = fits - 1 - fits%40 // the text block's 1 block divides any steps
	if err := cfg.ValidateFor(v); err != nil {
		t.Errorf("%d steps fit in 1 GiB: %v", cfg.Steps, err)
	}
	cfg.Steps = fits + 40
	want := fmt.Sprintf("steps: %d: recording a frame a step needs about 1.0 GiB; this machine has 1.0 GiB", cfg.Steps)
	if err := cfg.ValidateFor(v); err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	cfg.Steps = math.MaxInt
	if err := cfg.ValidateFor(v); err == nil || !strings.Contains(err.Error(), "8.0 EiB or more") {
		t.Errorf("steps whose frames overflow an int: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("without a template the frames' size is unknown: %v", err)
	}
}

// Every value the exported lists offer validates, in both modalities, and
// the lists are copies: changing one changes nothing Validate accepts.
func TestListedValuesValidate(t *testing.T) {
	for _, mode := range Modes() {
		for _, sched := range Schedules() {
			for _, rule := range RemaskingRules() {
				c := Defaults()
				c.Mode = mode
				c.Text.Schedule, c.Image.Schedule = sched, sched
				c.Text.Remasking, c.Image.Remasking = rule, rule
				if err := c.Validate(); err != nil {
					t.Errorf("%s, %s, %s: %v", mode, sched, rule, err)
				}
			}
		}
	}
	Modes()[0] = "serial"
	if slices.Contains(Modes(), "serial") {
		t.Fatal("Modes hands out the list Validate uses")
	}
}
