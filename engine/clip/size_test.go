package clip

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"parascope/engine/memory"
	"parascope/engine/nn"
	"parascope/engine/nn/nntest"
)

// The estimates cover what the towers allocate, with and without a joint
// stack: their weights, and a training step with a hard negative text and
// picture for every pair.
func TestEstimatesCoverAllocations(t *testing.T) {
	for _, joint := range []int{0, 1} {
		cfg := tinyConfig()
		cfg.Input, cfg.Joint = true, joint
		checkEstimates(t, cfg)
	}
}

func checkEstimates(t *testing.T, cfg Config) {
	const batch = 4
	var floats int
	m, err := New(cfg, nntest.Counting{Floats: &floats})
	if err != nil {
		t.Fatal(err)
	}
	if floats != cfg.weights() || cfg.WeightBytes() < 4*floats {
		t.Errorf("New allocated %d floats; weights %d, WeightBytes %d", floats, cfg.weights(), cfg.WeightBytes())
	}
	r := rand.New(rand.NewPCG(1, 2))
	pairs := randomPairs(r, batch, m.Vocab)
	b := Batch{Pairs: pairs}
	for i, p := range randomPairs(r, batch, m.Vocab) {
		b.Texts, b.Pictures = append(b.Texts, p.Text), append(b.Pictures, p.Picture)
		b.TextOf, b.PictureOf = append(b.TextOf, i), append(b.PictureOf, i)
	}
	m.ZeroGrad()
	if _, err := m.Loss(b); err != nil {
		t.Fatal(err)
	}
	m.Step(nn.AdamW{LR: 1e-3, Beta1: 0.9, Beta2: 0.98, Eps: 1e-8, Step: 1})
	if est := cfg.TrainingBytes(batch); 4*floats > est || 4*floats < est/4 {
		t.Errorf("a training step allocated %d bytes on the backend; TrainingBytes estimates %d", 4*floats, est)
	}
	if cfg.TrainingBytes(math.MaxInt/2) != math.MaxInt {
		t.Errorf("a batch whose size overflows counts as %d bytes", cfg.TrainingBytes(math.MaxInt/2))
	}
}

func TestNewRefusesWhatDoesNotFit(t *testing.T) {
	saved := memory.Machine
	memory.Machine = func() (int, bool) { return 1 << 30, true }
	defer func() { memory.Machine = saved }()
	cfg := tinyConfig()
	cfg.Layers, cfg.DModel, cfg.Heads = 1000, 1<<16, 16
	_, err := New(cfg, nn.CPU{})
	if err == nil || !strings.Contains(err.Error(), "holding its weights needs about") || !strings.Contains(err.Error(), "this machine has 1.0 GiB") {
		t.Errorf("got %v", err)
	}
}
