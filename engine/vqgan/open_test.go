package vqgan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"parascope/engine/safetensors"
)

// broken copies the tiny folder into a temporary one, letting edit change
// its config text and its tensors first.
func broken(t *testing.T, editConfig func(string) string, editTensors func(*safetensors.File)) string {
	t.Helper()
	dir := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(tiny, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if editConfig != nil {
		cfg = []byte(editConfig(string(cfg)))
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(filepath.Join(tiny, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	if editTensors != nil {
		editTensors(f)
	}
	if err := safetensors.Write(filepath.Join(dir, WeightsFile), f, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestOpenRefuses(t *testing.T) {
	replace := func(old, new string) func(string) string {
		return func(s string) string { return strings.Replace(s, old, new, 1) }
	}
	tensor := func(f *safetensors.File, name string) *safetensors.Tensor {
		for i := range f.Tensors {
			if f.Tensors[i].Name == name {
				return &f.Tensors[i]
			}
		}
		t.Fatalf("no tensor %q", name)
		return nil
	}
	for _, tc := range []struct {
		name    string
		dir     func() string
		size    int
		wantErr []string
	}{
		{"missing folder", func() string { return filepath.Join(t.TempDir(), "none") }, 512, []string{"config.json", "no such file"}},
		{"wrong size", func() string { return tiny }, 500, []string{"picture size 500", "scale 16"}},
		{"too large", func() string { return tiny }, 1 << 20, []string{"picture size 1048576", "to 2048"}},
		{"activation", func() string { return broken(t, replace(`"silu"`, `"gelu"`), nil) }, 512, []string{"config.json", "act_fn \"gelu\""}},
		{"block type", func() string {
			return broken(t, replace(`"UpDecoderBlock2D"`, `"AttnUpDecoderBlock2D"`), nil)
		}, 512, []string{"up_block_types[0]"}},
		{"groups", func() string { return broken(t, replace(`"norm_num_groups": 8`, `"norm_num_groups": 5`), nil) }, 512, []string{"norm_num_groups 5"}},
		{"bad JSON", func() string { return broken(t, replace(`"layers_per_block": 2`, `"layers_per_block": "two"`), nil) }, 512, []string{"config.json", "layers_per_block"}},
		{"missing tensor", func() string {
			return broken(t, nil, func(f *safetensors.File) {
				f.Tensors = slicesDelete(f.Tensors, "decoder.conv_out.bias")
			})
		}, 512, []string{WeightsFile, `"decoder.conv_out.bias"`, "missing"}},
		{"wrong shape", func() string {
			return broken(t, nil, func(f *safetensors.File) {
				v := tensor(f, "encoder.down_blocks.1.resnets.0.conv1.weight")
				v.Shape = []int{v.Shape[0], v.Shape[1], 9, 1}
			})
		}, 512, []string{`"encoder.down_blocks.1.resnets.0.conv1.weight"`, "shape [32 16 9 1], want [32 16 3 3]"}},
		{"wrong codebook", func() string {
			return broken(t, nil, func(f *safetensors.File) {
				v := tensor(f, "quantize.embedding.weight")
				v.Shape, v.Data = []int{v.Shape[0] - 1, v.Shape[1]}, v.Data[v.Shape[1]:]
			})
		}, 512, []string{`"quantize.embedding.weight"`, "shape [511 16], want [512 16]"}},
		{"extra tensor", func() string {
			return broken(t, nil, func(f *safetensors.File) {
				f.Tensors = append(f.Tensors, safetensors.Tensor{Name: "decoder.extra", Shape: []int{1}, Data: []float32{0}})
			})
		}, 512, []string{`"decoder.extra"`, "no place for"}},
		{"not safetensors", func() string {
			dir := broken(t, nil, nil)
			if err := os.WriteFile(filepath.Join(dir, WeightsFile), []byte("not a tensor file"), 0o644); err != nil {
				t.Fatal(err)
			}
			return dir
		}, 512, []string{WeightsFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(tc.dir(), tc.size)
			if err == nil {
				t.Fatal("opened")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func slicesDelete(ts []safetensors.Tensor, name string) []safetensors.Tensor {
	var out []safetensors.Tensor
	for _, t := range ts {
		if t.Name != name {
			out = append(out, t)
		}
	}
	return out
}

// An f32 folder opens like the bf16 one and computes the same.
func TestOpenF32(t *testing.T) {
	dir := broken(t, nil, nil)
	a, b := open(t, 64), func() *Model {
		m, err := Open(dir, 64)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}()
	codes := make([]int, 16)
	for i := range codes {
		codes[i] = i * 31
	}
	x, _ := a.Decode(codes)
	y, _ := b.Decode(codes)
	if string(x.Pix) != string(y.Pix) {
		t.Error("the f32 copy of the folder decodes differently")
	}
}
