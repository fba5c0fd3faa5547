package sample

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The presets hold the published generators' defaults, and every knob a
// preset sets is checked against what its rules can do.
func TestPresets(t *testing.T) {
	a, err := Preset(OfficialA)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rules != OfficialA || a.Steps != 256 || a.Image.ImageSteps != 64 || a.Image.CFG != 2.5 || a.Image.CFGImage != 4 ||
		a.Text.Temperature != 0.7 || a.Image.Temperature != 1 || a.Text.CFG != 0 {
		t.Errorf("official-a: %+v", a)
	}
	m, err := Preset(OfficialM)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rules != OfficialM || m.Steps != 128 || m.Image.ImageSteps != 30 || m.Text.CFG != 2.5 || m.Text.Guidance != Toward ||
		m.Image.CFG != 4 || m.Text.Temperature != 0 || m.Image.RemaskTemperature != 1 {
		t.Errorf("official-m: %+v", m)
	}
	for _, c := range []Config{a, m} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", c.Rules, err)
		}
	}
	if _, err := Preset("official-b"); err == nil || !strings.Contains(err.Error(), `preset: "official-b" is not one of`) {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestRulesRefuseWhatTheirCodeCannotDo(t *testing.T) {
	a, _ := Preset(OfficialA)
	m, _ := Preset(OfficialM)
	for _, c := range []struct {
		base Config
		edit func(*Config)
		want string
	}{
		{a, func(c *Config) { c.Mode = Sequential }, "mode: sequential: not in official-a"},
		{a, func(c *Config) { c.Text.CFG = 1 }, "text.cfg: 1 (official-a guides only the picture)"},
		{a, func(c *Config) { c.Image.Schedule = "linear" }, "image.schedule: linear: not in official-a"},
		{a, func(c *Config) { c.Text.Remasking = Margin }, "text.remasking: margin: not in official-a"},
		{a, func(c *Config) { c.Image.ImageSteps = 0 }, "image.image_steps: 0 (every step)"},
		{m, func(c *Config) { c.Image.CFGImage = 2 }, "image.cfg_img: 2 (official-m has one unconditional branch)"},
		{m, func(c *Config) { c.Text.EndLast = true }, "text.end_last: true (Parascope's rule)"},
		{Defaults(), func(c *Config) { c.Image.CFGImage = 2 }, "cfg_img needs rules = official-a"},
		{Defaults(), func(c *Config) { c.Rules = "official" }, `rules: "official" is not one of`},
		{Defaults(), func(c *Config) { c.Text.Guidance = "sideways" }, `text.guidance: "sideways" is not one of`},
		{Defaults(), func(c *Config) { c.Text.CFGImage = 1 }, "text.cfg_img: applies to the image only"},
		{Defaults(), func(c *Config) { c.TextLength = -1 }, "text_length: -1"},
	} {
		cfg := c.base
		c.edit(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
}

// A config file's preset key is where its other keys start; --preset
// names another.
func TestConfigFilesStartFromTheirPreset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(path, []byte("preset = \"official-m\"\nsteps = 64\n[text]\nguidance = \"away\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rules != OfficialM || c.Steps != 64 || c.Text.Guidance != Away || c.Image.ImageSteps != 30 {
		t.Errorf("%+v", c)
	}
	if c, err = LoadConfig(path, OfficialA, nil); err != nil || c.Rules != OfficialA || c.Steps != 64 || c.Image.CFGImage != 4 {
		t.Errorf("--preset official-a over the file: %+v, %v", c, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("steps = 4\npreset = \"newest\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(bad, "", nil); err == nil || !strings.Contains(err.Error(), "bad.toml") || !strings.Contains(err.Error(), `"newest"`) {
		t.Errorf("an unknown preset in a file: %v", err)
	}
}

// Guidance toward the unconditional branch is cond + w·(uncond − cond).
func TestGuidanceDirections(t *testing.T) {
	c, u := float32(2), []float32{0.5}
	if got := guide(c, u, 0, 3, false); got != 4*2-3*0.5 {
		t.Errorf("away: %g", got)
	}
	if got := guide(c, u, 0, 3, true); math.Abs(got-(2+3*(0.5-2))) > 1e-12 {
		t.Errorf("toward: %g", got)
	}
	if got := guide16([]float32{2}, []float32{0.5}, 3, Toward); got[0] != -2.5 {
		t.Errorf("toward in bfloat16: %g", got[0])
	}
}

// Switching rules keeps what the new rules can run and sets the rest to
// what they can.
func TestUnderRulesIsAlwaysValid(t *testing.T) {
	a, _ := Preset(OfficialA)
	m, _ := Preset(OfficialM)
	sw := Defaults()
	sw.Text.Remasking, sw.Mode = Entropy, Sequential
	for _, c := range []Config{a, m, sw} {
		for _, r := range []string{"", OfficialA, OfficialM} {
			if err := c.UnderRules(r).Validate(); err != nil {
				t.Errorf("%q under %q: %v", c.Rules, r, err)
			}
		}
	}
	if got := m.UnderRules(""); got.Text.Guidance != Toward || got.Text.CFG != 2.5 || got.Text.Block != 0 {
		t.Errorf("official-m under Parascope's rules: %+v", got)
	}
}
