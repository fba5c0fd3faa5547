package train

import (
	"path/filepath"
	"strings"
	"testing"

	"parascope/engine/checkpoint"
	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/safetensors"
	"parascope/engine/vq"
)

// tamper writes a copy of the checkpoint at path with its metadata
// edited, and returns the copy's path.
func tamper(t *testing.T, path, name string, edit func(meta map[string]string)) string {
	t.Helper()
	f, err := safetensors.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	edit(f.Metadata)
	out := filepath.Join(filepath.Dir(path), name)
	if err := safetensors.Write(out, f, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	return out
}

func kindOf(t *testing.T, path string) checkpoint.Kind {
	t.Helper()
	f, err := safetensors.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := checkpoint.Of(f)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A run's two files say what they are.
func TestSavedFilesSayTheirKind(t *testing.T) {
	cb := vq.Default()
	dir := t.TempDir()
	s, err := NewSFT(tinySFT(4), nn.CPU{}, cb, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if k := kindOf(t, filepath.Join(dir, CheckpointFile)); k != checkpoint.SFT {
		t.Errorf("the SFT state is %q", k)
	}
	if k := kindOf(t, filepath.Join(dir, ModelFile)); k != checkpoint.Model {
		t.Errorf("the SFT weights are %q", k)
	}
	clipDir := t.TempDir()
	c, err := NewCLIP(tinyCLIP(4), nn.CPU{}, cb, clipDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if k := kindOf(t, filepath.Join(clipDir, CheckpointFile)); k != checkpoint.CLIPTraining {
		t.Errorf("the CLIP state is %q", k)
	}
	if k := kindOf(t, filepath.Join(clipDir, ModelFile)); k != checkpoint.CLIP {
		t.Errorf("the CLIP weights are %q", k)
	}
}

// A checkpoint's metadata is checked before any use, and a fault names
// the file and the key.
func TestResumeChecksMetadata(t *testing.T) {
	cb := vq.Default()
	dir := t.TempDir()
	s, err := NewSFT(tinySFT(4), nn.CPU{}, cb, dir)
	if err != nil {
		t.Fatal(err)
	}
	good, err := s.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	set := func(key, value string) func(map[string]string) {
		return func(m map[string]string) { m[key] = value }
	}
	train := func(from, to string) func(map[string]string) {
		return func(m map[string]string) { m["train"] = strings.Replace(m["train"], from, to, 1) }
	}
	for _, c := range []struct {
		name string
		edit func(map[string]string)
		want string
	}{
		{"negative", set("step", "-3"), `metadata "step" is -3, want 0 or more`},
		{"huge", set("step", "999999999"), `metadata "step" is 999999999, past the run's 4 steps`},
		{"words", set("step", "four"), `metadata "step" is "four", want a whole number`},
		{"finished", set("step", "4"), `the run is finished (step 4 of 4); to train on, start a new run with init = "` + filepath.Join(dir, ModelFile) + `"`},
		{"bad json", set("train", "{oops"), `metadata "train": invalid character`},
		{"invalid config", train(`"batch":4`, `"batch":0`), `metadata "train": batch: 0, want at least 1`},
		{"negative seed", train(`"seed":1`, `"seed":-1`), `metadata "train": seed: number -1, want a whole number, 0 or more`},
		{"no train", func(m map[string]string) { delete(m, "train") }, `no metadata "train"`},
		{"elapsed", set("elapsed_s", "-5"), `metadata "elapsed_s" is "-5"`},
		{"vocabulary", set("vocab_hash", "0000"), `made with vocabulary "0000"`},
		{"kind", set("kind", "banana"), `metadata "kind" is "banana"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := tamper(t, good, c.name+".safetensors", c.edit)
			_, err := ResumeSFT(path, nn.CPU{}, cb, dir)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %s naming %s", err, c.want, path)
			}
		})
	}
	if _, err := ResumeSFT(tamper(t, good, "mid.safetensors", set("step", "3")), nn.CPU{}, cb, dir); err != nil {
		t.Fatalf("a run stopped at step 3 of 4: %v", err)
	}
}

// The CLIP and ParaRL jobs check their checkpoints the same way, ParaRL
// before it opens its reference and reward.
func TestOtherJobsCheckMetadata(t *testing.T) {
	cb := vq.Default()
	clipDir := t.TempDir()
	c, _ := NewCLIP(tinyCLIP(4), nn.CPU{}, cb, clipDir)
	clipState, err := c.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	finished := tamper(t, clipState, "finished.safetensors", func(m map[string]string) { m["step"] = "4" })
	if _, err := ResumeCLIP(finished, nn.CPU{}, cb, clipDir); err == nil || !strings.Contains(err.Error(), "the run is finished (step 4 of 4); its scorer is "+filepath.Join(clipDir, ModelFile)) {
		t.Errorf("a finished CLIP run: %v", err)
	}
	negative := tamper(t, clipState, "negative.safetensors", func(m map[string]string) { m["step"] = "-1" })
	if _, err := ResumeCLIP(negative, nn.CPU{}, cb, clipDir); err == nil || !strings.Contains(err.Error(), `metadata "step" is -1`) {
		t.Errorf("a negative step: %v", err)
	}

	cfg, m, ref, _ := tinyRL(t)
	rlDir := t.TempDir()
	r, err := NewParaRL(cfg, m, ref, codeShare{}, cb, rlDir)
	if err != nil {
		t.Fatal(err)
	}
	rlState, err := r.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	if k := kindOf(t, rlState); k != checkpoint.ParaRL {
		t.Errorf("the ParaRL state is %q", k)
	}
	noDeps := func(ParaRLConfig) (*model.Model, Rewarder, error) {
		t.Fatal("opened the reference before checking the checkpoint")
		return nil, nil, nil
	}
	for _, c := range []struct{ from, to, want string }{
		{`"group":8`, `"group":1`, `metadata "train": group: 1: an advantage needs a group of at least 2`},
		{`"steps":30`, `"steps":0`, `metadata "train": steps: 0, want at least 1`},
		{`"clip_eps":0.2`, `"clip_eps":5`, `metadata "train": clip_eps: 5, want 0 < ε < 1`},
	} {
		path := tamper(t, rlState, "rl.safetensors", func(m map[string]string) {
			m["train"] = strings.Replace(m["train"], c.from, c.to, 1)
		})
		if _, err := ResumeParaRL(path, nn.CPU{}, cb, rlDir, noDeps); err == nil || !strings.Contains(err.Error(), path+": "+c.want) {
			t.Errorf("%s: %v, want %s", c.to, err, c.want)
		}
	}
	// An SFT checkpoint is not ParaRL's to resume.
	sftDir := t.TempDir()
	s, _ := NewSFT(tinySFT(4), nn.CPU{}, cb, sftDir)
	sftState, _ := s.Checkpoint()
	if _, err := ResumeParaRL(sftState, nn.CPU{}, cb, rlDir, noDeps); err == nil || !strings.Contains(err.Error(), "is an SFT training checkpoint, not a ParaRL training checkpoint") {
		t.Errorf("an SFT checkpoint: %v", err)
	}
}
