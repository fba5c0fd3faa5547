package session

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"parascope/engine/nn"
	"parascope/engine/sample"
	"parascope/engine/world"
)

func TestOpenSteps(t *testing.T) {
	cfg := sample.Defaults()
	cfg.Model, cfg.Clip, cfg.Steps = "random:3", "none", 4
	s, err := Open(cfg, nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	if s.ModelName != "random:3" || s.Aligner != nil || s.Model.Vocab != s.Vocab.Size() {
		t.Fatalf("name %q, aligner %v, model vocabulary %d, tokenizer %d", s.ModelName, s.Aligner, s.Model.Vocab, s.Vocab.Size())
	}
	p, err := s.PromptOf(world.Generate(1, 0, world.MixEdit))
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.NewStepper(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	for !st.Done() {
		if _, err := st.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenNamesWhatIsWrong(t *testing.T) {
	cfg := sample.Defaults()
	cfg.Steps = 0
	if _, err := Open(cfg, nn.CPU{}); err == nil || !strings.Contains(err.Error(), "steps") {
		t.Errorf("steps = 0: %v", err)
	}
	cfg = sample.Defaults()
	cfg.Model = "no/such/checkpoint"
	if _, err := Open(cfg, nn.CPU{}); err == nil || !strings.Contains(err.Error(), "no/such/checkpoint") {
		t.Errorf("a missing model: %v", err)
	}
	cfg = sample.Defaults()
	cfg.Model, cfg.Codebook = "random:1", "no/such/codebook"
	if _, err := Open(cfg, nn.CPU{}); err == nil || !strings.Contains(err.Error(), "no/such/codebook") {
		t.Errorf("a missing codebook: %v", err)
	}
}

// Without a GPU build, auto is the CPU, silently; a named backend that is
// not built in is an error naming it.
func TestOpenBackend(t *testing.T) {
	var warn bytes.Buffer
	be, err := OpenBackend("auto", &warn)
	if err != nil || be.Name() != "cpu" {
		t.Fatalf("auto: %v, %v", be, err)
	}
	if _, err := OpenBackend("tpu", &warn); err == nil || !strings.Contains(err.Error(), "tpu") {
		t.Errorf("tpu: %v", err)
	}
}
