package hf

import (
	"path/filepath"
	"testing"

	"parascope/engine/bf16"
	"parascope/engine/safetensors"
)

// The folders in testdata come from reference/fixtures.py, which writes
// the official layout from its own list of names: each family opens, and
// its BF16 weights are its F32 weights rounded.
func TestOpenReferenceFixtures(t *testing.T) {
	for _, c := range []struct {
		name   string
		family Family
	}{{"llada", LLaDA}, {"mmada", MMaDA}, {"dimoo", DiMOO}} {
		wide, err := Open(filepath.Join("testdata", c.name+"-f32"))
		if err != nil {
			t.Fatal(err)
		}
		defer wide.Close()
		narrow, err := Open(filepath.Join("testdata", c.name+"-bf16"))
		if err != nil {
			t.Fatal(err)
		}
		defer narrow.Close()
		if wide.Config.Family != c.family || narrow.Config.Family != c.family || wide.Dtype != safetensors.F32 || narrow.Dtype != safetensors.BF16 {
			t.Fatalf("%s: families %s/%s, dtypes %s/%s", c.name, wide.Config.Family, narrow.Config.Family, wide.Dtype, narrow.Dtype)
		}
		if len(wide.files) != 3 || len(narrow.files) != 1 {
			t.Errorf("%s: %d and %d files", c.name, len(wide.files), len(narrow.files))
		}
		for _, e := range Layout(wide.Config) {
			w, _ := wide.Tensor(e.Name)
			n, _ := narrow.Tensor(e.Name)
			f32, err := w.F32()
			if err != nil {
				t.Fatal(err)
			}
			bits, err := n.Uint16()
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range f32 {
				if want := bf16.FromF32(v); bits[i] != want {
					t.Fatalf("%s: %s[%d]: bf16 %#04x, want %#04x (from %v)", c.name, e.Name, i, bits[i], want, v)
				}
			}
		}
	}
}
