package sample

import (
	"context"
	"testing"
	"time"

	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// timed measures the time spent inside the model.
type timed struct {
	Model
	spent time.Duration
}

func (t *timed) Logits(ids []int32, batch, seq int, sel []int32) ([]float32, error) {
	began := time.Now()
	defer func() { t.spent += time.Since(began) }()
	return t.Model.Logits(ids, batch, seq, sel)
}

// BenchmarkStep runs thinkedit steps with guidance on an untrained model of
// the default shape, and reports steps/s and the share of a step spent
// outside the model call (the sampler's overhead).
func BenchmarkStep(b *testing.B) {
	cb := vq.Default()
	v := token.New(cb.K())
	m, err := model.Open("random:1", nn.CPU{}, v.Size())
	if err != nil {
		b.Fatal(err)
	}
	c := world.Generate(1, 0, world.MixEdit)
	in, _ := cb.Encode(world.Render(c.Input))
	p := Prompt{Task: c.Task, Instruction: c.Instruction, Input: in}
	cfg := Defaults()
	cfg.Text.Temperature = 0.5
	fake := &timed{Model: m}
	s, _ := New(fake, v, cfg, p)
	s.Step(context.Background()) // allocate the activations
	fake.spent = 0
	steps := 0
	b.ResetTimer()
	for b.Loop() {
		if s.Done() {
			b.StopTimer()
			s, _ = New(fake, v, cfg, p)
			b.StartTimer()
		}
		if _, err := s.Step(context.Background()); err != nil {
			b.Fatal(err)
		}
		steps++
	}
	total := b.Elapsed()
	b.ReportMetric(float64(steps)/total.Seconds(), "steps/s")
	b.ReportMetric(100*(1-fake.spent.Seconds()/total.Seconds()), "overhead-%")
}
