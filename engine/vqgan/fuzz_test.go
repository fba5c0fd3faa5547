package vqgan

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseConfig: any bytes give a config whose shape the loader can
// build, or an error; never a panic.
func FuzzParseConfig(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join(tiny, "config.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"block_out_channels": [64, 0]}`))
	f.Add([]byte(`{"norm_num_groups": 0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if len(c.BlockOut) == 0 || c.Groups < 1 || c.LayersPerBlock < 1 || c.EmbedDim < 1 || c.Codes < 1 {
			t.Fatalf("accepted %+v", c)
		}
		for _, ch := range c.BlockOut {
			if ch < 1 || ch%c.Groups != 0 {
				t.Fatalf("accepted channels %d with %d groups", ch, c.Groups)
			}
		}
	})
}
