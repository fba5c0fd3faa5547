package train

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
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
			back, err := l.load()
			if err != nil || fmt.Sprint(back) != fmt.Sprint(c) {
				t.Fatalf("%s: written back, the config reads %+v, %v; want %+v\n%s", l.name, back, err, c, b.String())
			}
		}
	})
}
