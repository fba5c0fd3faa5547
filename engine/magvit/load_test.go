package magvit

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"parascope/engine/safetensors"
)

// folder writes a copy of the tiny folder with its config replaced (when
// config is not empty) and its float tensors passed through edit, in
// float32 (the int64 power_vals is left out, as a converted copy may).
func folder(t *testing.T, config string, edit func([]safetensors.Tensor) []safetensors.Tensor) string {
	t.Helper()
	dir := t.TempDir()
	if config == "" {
		raw, err := os.ReadFile(filepath.Join(tiny, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		config = string(raw)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if edit == nil {
		return dir
	}
	src, err := safetensors.Open(filepath.Join(tiny, WeightsFiles[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var ts []safetensors.Tensor
	for _, v := range src.Tensors {
		if v.Dtype != safetensors.I64 {
			x, err := v.Float32()
			if err != nil {
				t.Fatal(err)
			}
			ts = append(ts, x)
		}
	}
	f := &safetensors.File{Tensors: edit(ts)}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), f, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestOpenRefuses(t *testing.T) {
	same := func(ts []safetensors.Tensor) []safetensors.Tensor { return ts }
	without := func(name string) func([]safetensors.Tensor) []safetensors.Tensor {
		return func(ts []safetensors.Tensor) []safetensors.Tensor {
			return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == name })
		}
	}
	edit := func(name string, f func(*safetensors.Tensor)) func([]safetensors.Tensor) []safetensors.Tensor {
		return func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == name {
					f(&ts[i])
				}
			}
			return ts
		}
	}
	for _, tc := range []struct {
		name   string
		config string
		edit   func([]safetensors.Tensor) []safetensors.Tensor
		want   []string
	}{
		{"official shape", `{"_class_name": "MAGVITv2", "_diffusers_version": "0.30.0"}`, same,
			[]string{"model.safetensors", `"encoder.conv_in.weight"`, "[8 3 3 3]", "want [128 3 3 3]"}},
		{"missing", "", without("decoder.up.3.block.0.nin_shortcut.bias"),
			[]string{"model.safetensors", `"decoder.up.3.block.0.nin_shortcut.bias"`, "missing"}},
		{"shape", "", edit("encoder.mid.attn_1.q.weight", func(x *safetensors.Tensor) { x.Shape = []int{32, 32} }),
			[]string{`"encoder.mid.attn_1.q.weight"`, "shape [32 32]", "want [32 32 1 1]"}},
		{"extra", "", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return append(ts, safetensors.Tensor{Name: "decoder.up.0.attn.0.q.weight", Shape: []int{1}, Data: []float32{0}})
		}, []string{"no place for", `"decoder.up.0.attn.0.q.weight"`}},
		{"bit order", "", edit("quantize.embedding", func(x *safetensors.Tensor) { x.Data[13*5] = -x.Data[13*5] }),
			[]string{`"quantize.embedding"`, "row 5"}},
		{"class", `{"_class_name": "VQModel"}`, nil, []string{"config.json", "VQModel"}},
		{"groups", `{"_class_name": "MAGVITv2", "norm_num_groups": 48}`, nil, []string{"config.json", "encoder level 0", "norm_num_groups 48"}},
		{"levels", `{"decoder": {"ch_mult": [1, 2]}}`, nil, []string{"config.json", "decoder: 5 num_res_blocks for 2 levels"}},
		{"wide", `{"encoder": {"ch": 4611686018427387904, "ch_mult": [4, 4, 4, 4, 4]}}`, nil, []string{"products at most 65536"}},
		{"bits", `{"encoder": {"z_channels": 12}}`, nil, []string{"decoder.z_channels 13 differs"}},
		{"no weights", "", nil, []string{"none of pytorch_model.safetensors", "convert"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := folder(t, tc.config, tc.edit)
			_, err := Open(dir, 64)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if _, err := Open(tiny, 40); err == nil || !strings.Contains(err.Error(), "multiple of the model's scale 16") {
		t.Errorf("a 40-pixel size: %v", err)
	}
}

// The official shape is what a config without shape keys gives, and a
// converted copy without the LFQ buffers opens.
func TestOfficialConfig(t *testing.T) {
	c, err := ReadConfig(folder(t, `{"_class_name": "MAGVITv2", "_diffusers_version": "0.30.0"}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Scale() != 16 || c.Codes() != 8192 || c.Decoder.Channels(4) != 512 || c.Groups != 32 {
		t.Errorf("official config %+v: scale %d, codes %d", c, c.Scale(), c.Codes())
	}
	if _, err := Open(folder(t, "", func(ts []safetensors.Tensor) []safetensors.Tensor { return ts }), 64); err != nil {
		t.Errorf("a float32 copy without power_vals: %v", err)
	}
}

// ReadConfig never panics, and a config it accepts passes its checks
// and has a code grid it can index.
func FuzzReadConfig(f *testing.F) {
	for _, s := range []string{
		`{"_class_name": "MAGVITv2", "_diffusers_version": "0.30.0"}`,
		`{"encoder": {"ch": 8, "ch_mult": [1, 2], "num_res_blocks": [1, 1], "z_channels": 6}, "decoder": {"ch": 8, "ch_mult": [1, 2], "num_res_blocks": [1, 2], "z_channels": 6}, "norm_num_groups": 4}`,
		`{"encoder": {"ch": -1}}`,
		`{"norm_num_groups": 0}`,
	} {
		f.Add([]byte(s))
	}
	raw, err := os.ReadFile(filepath.Join(tiny, "config.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := ReadConfig(dir)
		if err != nil {
			return
		}
		if err := c.check(); err != nil {
			t.Fatalf("accepted a config that fails its checks: %v", err)
		}
		if c.Scale() < 1 || c.Codes() < 2 || c.Codes() > 1<<30 {
			t.Fatalf("scale %d, %d codes", c.Scale(), c.Codes())
		}
	})
}
