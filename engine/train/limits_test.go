package train

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"parascope/engine/memory"
)

// fakeMachine makes the machine have n bytes for the test.
func fakeMachine(t *testing.T, n int) {
	saved := memory.Machine
	memory.Machine = func() (int, bool) { return n, true }
	t.Cleanup(func() { memory.Machine = saved })
}

// wantErrors checks that each config fails naming what it should, and
// that the unchanged defaults pass.
func wantErrors[C interface{ Validate() error }](t *testing.T, defaults func() C, cases []struct {
	edit func(c *C)
	want string
}) {
	t.Helper()
	if err := defaults().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range cases {
		c := defaults()
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

type edit[C any] = struct {
	edit func(c *C)
	want string
}

func TestSFTLimits(t *testing.T) {
	fakeMachine(t, 4<<30) // the defaults need about 1 GiB
	wantErrors(t, DefaultSFT, []edit[SFTConfig]{
		{func(c *SFTConfig) { c.LR = math.NaN() }, "lr: lr NaN"},
		{func(c *SFTConfig) { c.LR, c.MinLR = 5, 0 }, "want 0 ≤ min_lr ≤ lr, 0 < lr ≤ 1"},
		{func(c *SFTConfig) { c.MinLR = math.NaN() }, "lr: lr 0.001 and min_lr NaN"},
		{func(c *SFTConfig) { c.Beta2 = math.NaN() }, "beta2: NaN, want 0 ≤ x < 1"},
		{func(c *SFTConfig) { c.WeightDecay = 2 }, "weight_decay: 2, want 0 to 1"},
		{func(c *SFTConfig) { c.Clip = math.NaN() }, "clip: NaN, want ≥ 0"},
		{func(c *SFTConfig) { c.CondDropout = math.NaN() }, "cond_dropout: NaN"},
		{func(c *SFTConfig) { c.MinMask = math.NaN() }, "min_mask: NaN"},
		{func(c *SFTConfig) { c.ImageWeight = math.NaN() }, "text_weight: text_weight 1 and image_weight NaN"},
		{func(c *SFTConfig) { c.Model.Heads = 3 }, "model: d_model 256 must split into 3 heads"},
		{func(c *SFTConfig) { c.Model.Layers, c.Model.DModel = 1000, 1000000 },
			"model: layers 1000, d_model 1000000, mlp 768: training its weights, gradients and AdamW moments needs about 56.9 PiB; this machine has 4.0 GiB"},
		{func(c *SFTConfig) { c.Model.Layers, c.Model.DModel, c.Model.Heads = 1<<40, 1<<40, 1<<20 }, "needs about 8.0 EiB or more"},
		{func(c *SFTConfig) { c.Batch = 4096 }, "batch: 4096: training the model (layers 4, d_model 256, mlp 768) on batches of 4096 sequences of 256 tokens needs about"},
	})
	// A run from a checkpoint takes its shape from it, checked when it opens.
	c := DefaultSFT()
	c.Init, c.Model.Layers = "runs/sft/model.safetensors", 1<<40
	if err := c.Validate(); err != nil {
		t.Errorf("with init the [model] shape is not used: %v", err)
	}
}

func TestCLIPLimits(t *testing.T) {
	fakeMachine(t, 1<<30)
	wantErrors(t, DefaultCLIP, []edit[CLIPConfig]{
		{func(c *CLIPConfig) { c.Partial = math.NaN() }, "partial: NaN, want 0 to 1"},
		{func(c *CLIPConfig) { c.HardNegatives = 1.5 }, "hard_negatives: 1.5, want 0 to 1"},
		{func(c *CLIPConfig) { c.Model.Scale = 1000 }, "model.scale: 1000, want 0 < scale ≤ 100"},
		{func(c *CLIPConfig) { c.LR = math.Inf(1) }, "lr: lr +Inf"},
		{func(c *CLIPConfig) { c.Model.Layers, c.Model.DModel = 100, 1<<16 }, "model: layers 100, d_model 65536, mlp 384: training its weights"},
		{func(c *CLIPConfig) { c.Batch = 10000 }, "batch: 10000: training on batches of 10000 pairs needs about"},
	})
}

func TestParaRLLimits(t *testing.T) {
	fakeMachine(t, 1<<30)
	wantErrors(t, DefaultParaRL, []edit[ParaRLConfig]{
		{func(c *ParaRLConfig) { c.KL = math.NaN() }, "kl: NaN, want ≥ 0"},
		{func(c *ParaRLConfig) { c.ClipEps = math.NaN() }, "clip_eps: NaN"},
		{func(c *ParaRLConfig) { c.Sampler.Text.Temperature = math.NaN() }, "sampler.text.temperature: NaN, want 0 to 100"},
		{func(c *ParaRLConfig) { c.Sampler.Text.Block = 7 }, "sampler.text.block: 7 does not divide the text span"},
		{func(c *ParaRLConfig) { c.Sampler.Steps = 99999999999 }, "sampler.steps: 99999999999: recording a frame a step needs about"},
		{func(c *ParaRLConfig) { c.Prompts, c.Group = 1000, 100000 }, "group: 100000: recording the frames of 1000 × 100000 rollouts needs about"},
	})
}

// The errors of the sampler nested in a ParaRL config point at its lines.
func TestParaRLSamplerErrorsNameTheirLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rl.toml")
	os.WriteFile(path, []byte("steps = 5\n[sampler]\nsteps = 0\n[sampler.text]\ntemperature = 500\n"), 0o644)
	_, err := LoadParaRL(path)
	for _, want := range []string{path + ":3: sampler.steps: 0", path + ":5: sampler.text.temperature: 500"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q", err, want)
		}
	}
}

// A bad scale is one fault, not one more for the shape that holds it; a
// ParaRL run cannot do without its reward's scorer.
func TestFaultsReportedOnceByKey(t *testing.T) {
	c := DefaultCLIP()
	c.Model.Scale = -1
	if err := c.Validate(); err == nil || err.Error() != "model.scale: -1, want 0 < scale ≤ 100" {
		t.Errorf("got %v, want the one fault of model.scale", err)
	}
	r := DefaultParaRL()
	r.Sampler.Clip = "none"
	if err := r.Validate(); err == nil || !strings.HasPrefix(err.Error(), `sampler.clip: "none"`) {
		t.Errorf("got %v, want sampler.clip refused", err)
	}
}
