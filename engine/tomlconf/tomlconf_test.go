package tomlconf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type conf struct {
	Name  string `toml:"name"`
	Count int    `toml:"count"`
	Inner struct {
		Rate float64 `toml:"rate"`
	} `toml:"inner"`
}

func (c conf) Validate() error {
	if c.Count < 0 {
		return KeyError{"count", "must not be negative"}
	}
	if c.Inner.Rate > 1 {
		return errors.Join(KeyError{"inner.rate", "at most 1"})
	}
	return nil
}

func load(t *testing.T, text string) error {
	path := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(path, []byte(text), 0o644)
	var c conf
	err := Load(path, &c)
	if err != nil {
		return errors.New(strings.ReplaceAll(err.Error(), path, "c.toml"))
	}
	return nil
}

func TestErrorsNameLineAndKey(t *testing.T) {
	cases := []struct{ text, want string }{
		{"name = \"x\"\ncount = 2\n", ""},
		{"name = \"x\"\ncuont = 2\n", `c.toml:2: unknown key "cuont"`},
		{"Name = \"x\"\n", `c.toml:1: unknown key "Name"`},
		{"[inner]\nrate = 0.5\nspeed = 1\n", `c.toml:3: unknown key "inner.speed"`},
		{"[outer]\nx = 1\n", `c.toml:1: unknown key "outer"`},
		{"count = -1\n", "c.toml:1: count: must not be negative"},
		{"[inner]\nrate = 3\n", "c.toml:2: inner.rate: at most 1"},
		{"count = \n", "c.toml:1:"},
		{"count = \"three\"\n", "c.toml"},
	}
	for _, c := range cases {
		err := load(t, c.text)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.text, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: got %v, want %q", c.text, err, c.want)
		}
	}
}

// FuzzLoad: any file loads or fails with an error naming it; no panics.
func FuzzLoad(f *testing.F) {
	f.Add("name = \"x\"\n[inner]\nrate = 0.5\n")
	f.Add("[inner\n")
	f.Add("count = -3\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		path := filepath.Join(dir, "f.toml")
		os.WriteFile(path, []byte(text), 0o644)
		var c conf
		if err := Load(path, &c); err != nil && !strings.Contains(err.Error(), path) {
			t.Fatalf("error without the file name: %v", err)
		}
	})
}

// Knobs is embedded, its fields promoted to the top level.
type Knobs struct {
	LR float64 `toml:"lr"`
}

type floats struct {
	Knobs
	Steps  int       `toml:"steps"`
	Scale  float32   `toml:"scale"`
	Levels []float64 `toml:"levels"`
	Text   struct {
		Temperature float64 `toml:"temperature"`
		Deep        struct {
			CFG float64 `toml:"cfg"`
		} `toml:"deep"`
	} `toml:"text"`
	Ignored float64 // no tag: not a key
}

// Validate would pass anything: only the finite check can refuse.
func (floats) Validate() error { return nil }

func TestNonFiniteFloatsAreRefused(t *testing.T) {
	cases := []struct{ text, want string }{
		{"lr = 0.5\nlevels = [1.0, 2.5]\n[text]\ntemperature = 1.0\n", ""},
		{"lr = nan\n", "c.toml:1: lr: NaN, want a finite number"},
		{"steps = 3\nscale = nan\n", "c.toml:2: scale: NaN, want a finite number"},
		{"levels = [-inf]\n", "c.toml:1: levels: element 1: -Inf, want a finite number"},
		{"levels = [1.0, inf]\n", "c.toml:1: levels: element 2: +Inf, want a finite number"},
		{"[text]\ntemperature = +nan\n", "c.toml:2: text.temperature: NaN, want a finite number"},
		{"[text.deep]\ncfg = -nan\n", "c.toml:2: text.deep.cfg: NaN, want a finite number"},
	}
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), "c.toml")
		os.WriteFile(path, []byte(c.text), 0o644)
		var f floats
		err := Load(path, &f)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.text, err)
		case c.want != "" && (err == nil || strings.ReplaceAll(err.Error(), path, "c.toml") != c.want):
			t.Errorf("%q: got %v, want %q", c.text, err, c.want)
		}
	}
	// Every bad value is named, not only the first.
	path := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(path, []byte("lr = nan\n[text]\ntemperature = inf\n"), 0o644)
	if err := Load(path, &floats{}); err == nil || !strings.Contains(err.Error(), ":1: lr") || !strings.Contains(err.Error(), ":3: text.temperature") {
		t.Errorf("two bad values: %v", err)
	}
}

// A nested config's errors, prefixed with its table and joined inside
// the outer config's, each find their own line.
func TestPrefixedNestedErrors(t *testing.T) {
	data := []byte("steps = 1\n[sampler]\nsteps = 0\n[sampler.text]\ncfg = -1\n")
	inner := errors.Join(KeyError{"steps", "0, want at least 1"}, KeyError{"text.cfg", "-1, want 0 to 100"})
	err := Locate("c.toml", data, errors.Join(KeyError{"group", "1"}, Prefix("sampler.", inner)))
	want := "c.toml: group: 1\nc.toml:3: sampler.steps: 0, want at least 1\nc.toml:5: sampler.text.cfg: -1, want 0 to 100"
	if err == nil || err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}

type seeds struct {
	Seed  uint64 `toml:"seed"`
	Inner struct {
		Seed uint `toml:"seed"`
	} `toml:"inner"`
}

func (seeds) Validate() error { return nil }

// The decoder wraps a negative number into an unsigned field; Load
// refuses it, naming the key and line.
func TestNegativeUnsignedIsRefused(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"seed = 7\n[inner]\nseed = 0\n", ""},
		{"seed = -1\n", "c.toml:1: seed: -1, want 0 or more"},
		{"seed = 2\n[inner]\nseed = -9\n", "c.toml:3: inner.seed: -9, want 0 or more"},
	} {
		path := filepath.Join(t.TempDir(), "c.toml")
		os.WriteFile(path, []byte(c.text), 0o644)
		var s seeds
		err := Load(path, &s)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.text, err)
		case c.want != "" && (err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), path, "c.toml"), c.want)):
			t.Errorf("%q: got %v, want %q", c.text, err, c.want)
		}
	}
}
