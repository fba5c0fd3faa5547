package model

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"parascope/engine/memory"
	"parascope/engine/nn"
	"parascope/engine/nn/nntest"
	"parascope/engine/safetensors"
)

// fakeMachine makes the machine have n bytes for the test.
func fakeMachine(t *testing.T, n int) {
	saved := memory.Machine
	memory.Machine = func() (int, bool) { return n, true }
	t.Cleanup(func() { memory.Machine = saved })
}

func TestParamsMatchesLayout(t *testing.T) {
	for _, cfg := range []Config{tiny, DefaultConfig(388), {Layers: 3, DModel: 8, MLP: 5, Vocab: 7}} {
		n := 0
		for _, p := range cfg.Layout() {
			n += p.size()
		}
		if cfg.Params() != n {
			t.Errorf("%+v: Params %d, the layout holds %d", cfg, cfg.Params(), n)
		}
	}
}

// A shape whose count overflows an int counts as the largest int, never
// as a small or negative number.
func TestSizesSaturate(t *testing.T) {
	for _, cfg := range []Config{
		{Layers: 1 << 40, DModel: 1 << 20, MLP: 1 << 20, Vocab: 10},
		{Layers: 1, DModel: 1 << 33, MLP: 1, Vocab: 1 << 33},
		{Layers: math.MaxInt, DModel: math.MaxInt, MLP: math.MaxInt, Vocab: math.MaxInt},
	} {
		if cfg.Params() != math.MaxInt || cfg.WeightBytes() != math.MaxInt || cfg.TrainingBytes(math.MaxInt, 2) != math.MaxInt {
			t.Errorf("%+v: Params %d, WeightBytes %d, TrainingBytes %d", cfg, cfg.Params(), cfg.WeightBytes(), cfg.TrainingBytes(math.MaxInt, 2))
		}
	}
}

// The estimates cover what the model allocates, and not by far more: New
// allocates WeightBytes' weights, and a training step (forward, backward,
// AdamW) at most TrainingBytes, at least half of it.
func TestEstimatesCoverAllocations(t *testing.T) {
	cfg, batch, seq := tiny, 3, 16
	var floats int
	m, err := New(cfg, nntest.Counting{Floats: &floats})
	if err != nil {
		t.Fatal(err)
	}
	if floats != cfg.Params() || cfg.WeightBytes() < 4*floats {
		t.Errorf("New allocated %d bytes; Params %d, WeightBytes %d", 4*floats, cfg.Params(), cfg.WeightBytes())
	}
	ids, sel, targets, weights := randomBatch(rand.New(rand.NewPCG(1, 2)), cfg, batch, seq, batch*seq)
	m.ZeroGrad()
	if _, err := m.Loss(ids, batch, seq, sel, targets, weights); err != nil {
		t.Fatal(err)
	}
	m.Step(nn.AdamW{LR: 1e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, Step: 1})
	if est := cfg.TrainingBytes(batch, seq); 4*floats > est || 4*floats < est/2 {
		t.Errorf("a training step allocated %d bytes; TrainingBytes estimates %d", 4*floats, est)
	}
}

// A shape that cannot fit is refused before anything is allocated, from
// a config or from a checkpoint's metadata, saying what it would need.
func TestNewRefusesWhatDoesNotFit(t *testing.T) {
	fakeMachine(t, 1<<30)
	huge := DefaultConfig(388)
	huge.Layers, huge.DModel = 100000, 65536
	_, err := New(huge, nn.CPU{})
	want := "model of 100000 layers, d_model 65536, mlp 768, vocabulary 388: holding its weights needs about 6.2 PiB; this machine has 1.0 GiB"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	overflow := DefaultConfig(388)
	overflow.DModel, overflow.Heads = 1<<40, 1<<38
	if _, err := New(overflow, nn.CPU{}); err == nil || !strings.Contains(err.Error(), "8.0 EiB or more") {
		t.Errorf("a shape whose size overflows: %v", err)
	}

	m, _ := New(tiny, nn.CPU{})
	f, err := m.File(nil)
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(huge)
	f.Metadata["config"] = string(meta)
	path := filepath.Join(t.TempDir(), "claims.safetensors")
	if err := safetensors.Write(path, f, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	// Its claim is held against the tensors it holds before any size is.
	if _, err := Load(path, nn.CPU{}); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "100000 layers, the file holds 21 tensors") {
		t.Errorf("a checkpoint claiming a huge model: %v", err)
	}
}
