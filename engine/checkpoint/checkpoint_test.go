package checkpoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"parascope/engine/safetensors"
)

func file(meta map[string]string, tensors ...string) *safetensors.File {
	f := &safetensors.File{Metadata: meta}
	for _, name := range tensors {
		f.Tensors = append(f.Tensors, safetensors.Tensor{Name: name, Shape: []int{1}, Data: []float32{1}})
	}
	return f
}

// Files written before kinds keep their kind, read from their contents.
func TestInfer(t *testing.T) {
	const sft = `{"seed":1,"steps":40,"batch":2}`
	const rl = `{"seed":1,"steps":40,"sampler":{"model":"m.safetensors"}}`
	for _, c := range []struct {
		name string
		f    *safetensors.File
		want Kind
	}{
		{"model", file(map[string]string{"config": "{}", "train": sft, "step": "40"}, "wte"), Model},
		{"sft state", file(map[string]string{"config": "{}", "train": sft}, "wte", "adam.m", "adam.v"), SFT},
		{"pararl state", file(map[string]string{"config": "{}", "train": rl}, "wte", "adam.m", "adam.v"), ParaRL},
		{"scorer", file(map[string]string{"clip": "{}"}, "text.wte"), CLIP},
		{"scorer state", file(map[string]string{"clip": "{}", "train": "{}"}, "text.wte", "adam.m", "adam.v"), CLIPTraining},
		{"codebook", file(map[string]string{"patch_px": "8"}, "codebook"), Codebook},
		{"foreign", file(nil, "model.transformer.wte.weight"), ""},
		{"marked", file(map[string]string{"kind": "clip-checkpoint", "config": "{}"}, "wte"), CLIPTraining},
	} {
		if got, err := Of(c.f); err != nil || got != c.want {
			t.Errorf("%s: kind %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if _, err := Of(file(map[string]string{"kind": "banana"})); err == nil || !strings.Contains(err.Error(), `"banana"`) {
		t.Errorf("an unknown kind: %v", err)
	}
}

// The embedded weights carry no kind, and must keep loading.
func TestEmbeddedFilesKeepTheirKind(t *testing.T) {
	for path, want := range map[string]Kind{
		"../model/weights/default.safetensors": Model,
		"../clip/weights/default.safetensors":  CLIP,
		"../vq/codebook.safetensors":           Codebook,
	} {
		if _, err := os.Stat(path); err != nil {
			continue // a build without it
		}
		if _, err := Read(path, want); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

func TestCheckSaysWhichFileToUse(t *testing.T) {
	state := filepath.Join("runs", "sft", StateFile)
	model := filepath.Join("runs", "sft", ModelFile)
	sftState := file(map[string]string{"kind": string(SFT)})
	for _, c := range []struct {
		name string
		f    *safetensors.File
		want Kind
		msg  string
	}{
		{state, sftState, Model, state + " is an SFT training checkpoint, not a model: use " + model},
		{state, sftState, ParaRL, `ParaRL starts from a model: start a run with sampler.model = "` + model + `"`},
		{state, sftState, CLIPTraining, "resume it with: parascope train sft --resume " + state},
		{model, file(map[string]string{"kind": string(Model)}), SFT, "not an SFT training checkpoint: to resume its run, use " + state + "; to fine-tune this model, start a run with init"},
		{"c.safetensors", file(map[string]string{"kind": string(CLIP)}), Model, "c.safetensors is a CLIP scorer, not a model: a sampler takes it as clip"},
		{"m.safetensors", file(map[string]string{"kind": string(Model)}), CLIP, "m.safetensors is a model, not a CLIP scorer: a sampler takes it as model"},
		{"c/checkpoint.safetensors", file(map[string]string{"kind": string(CLIPTraining)}), CLIP, "use " + filepath.Join("c", ModelFile)},
	} {
		err := Check(c.name, c.f, c.want)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s as %s: %v, want %q", c.name, c.want, err, c.msg)
		}
	}
	if err := Check("x", file(nil, "model.transformer.wte.weight"), Model); err != nil {
		t.Errorf("a foreign file is the loader's to judge: %v", err)
	}
	if err := Check("x", sftState, SFT); err != nil {
		t.Error(err)
	}
}
