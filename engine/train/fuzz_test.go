package train

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"parascope/engine/nn"
	"parascope/engine/vq"
)

// FuzzLoadConfigs runs one file through the three training loaders (SFT,
// CLIP, ParaRL). Each loads it or fails with an error naming the file; a
// config that loads is valid and loads the same once written back.
func FuzzLoadConfigs(f *testing.F) {
	for _, name := range []string{"sft.toml", "clip.toml", "pararl.toml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("steps = -1\n[model]\nlayers = 0\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		path := filepath.Join(dir, "c.toml")
		loaders := []struct {
			name string
			load func() (interface{ Validate() error }, error)
		}{
			{"sft", func() (interface{ Validate() error }, error) { return LoadSFT(path) }},
			{"clip", func() (interface{ Validate() error }, error) { return LoadCLIP(path) }},
			{"pararl", func() (interface{ Validate() error }, error) { return LoadParaRL(path) }},
		}
		for _, l := range loaders {
			os.WriteFile(path, []byte(text), 0o644)
			c, err := l.load()
			if err != nil {
				if !strings.Contains(err.Error(), path) {
					t.Fatalf("%s: error without the file name: %v", l.name, err)
				}
				continue
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("%s: loaded an invalid config: %v", l.name, err)
			}
			var b strings.Builder
			if err := toml.NewEncoder(&b).Encode(c); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(path, []byte(b.String()), 0o644)
			// The settings read the same; which file they came from is
			// not a setting.
			back, err := l.load()
			if err != nil || settings(back) != settings(c) {
				t.Fatalf("%s: written back, the config reads %+v, %v; want %+v\n%s", l.name, back, err, c, b.String())
			}
		}
	})
}

// FuzzResumeSFT resumes from arbitrary bytes as a checkpoint. It resumes
// or fails with an error naming the file; a run it resumes is valid,
// part way through, with the weights and moments of one model.
func FuzzResumeSFT(f *testing.F) {
	cfg := tinySFT(4)
	cfg.Model = ModelShape{Layers: 1, DModel: 8, Heads: 2, MLP: 8}
	dir := f.TempDir()
	s, err := NewSFT(cfg, nn.CPU{}, vq.Default(), dir)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.Checkpoint(); err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{CheckpointFile, ModelFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	path := filepath.Join(dir, "fuzzed.safetensors")
	f.Fuzz(func(t *testing.T, data []byte) {
		os.WriteFile(path, data, 0o644)
		s, err := ResumeSFT(path, nn.CPU{}, vq.Default(), dir)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		}
		if err := s.Config().Validate(); err != nil {
			t.Fatalf("resumed with an invalid config: %v", err)
		}
		if s.Step() < 0 || s.Step() >= s.Config().Steps {
			t.Fatalf("resumed at step %d of %d", s.Step(), s.Config().Steps)
		}
	})
}

// settings is a config's settings as JSON, every one of them tagged.
func settings(c any) string {
	b, err := json.Marshal(c)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
