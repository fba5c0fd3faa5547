package mmada

import (
	"context"
	"testing"

	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/sample"
	"parascope/engine/world"
)

// BenchmarkOfficialStep times one step of each official preset on its
// fixture at the published sizes (a 32×32 grid, text 256 or 255): the
// sampler's own work around a tiny backbone, which the real 8B forward
// dwarfs.
func BenchmarkOfficialStep(b *testing.B) {
	for _, c := range []struct{ name, dir, preset string }{{"A", fixtureA, sample.OfficialA}, {"M", fixtureM, sample.OfficialM}} {
		b.Run(c.name, func(b *testing.B) {
			f := open(b, c.dir)
			m, err := model.Load(c.dir, nn.CPU{})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			cfg, err := sample.Preset(c.preset)
			if err != nil {
				b.Fatal(err)
			}
			cfg.Image.ImageSteps = cfg.Steps // every step updates the picture
			input := make([]int, f.Template.ImageLen())
			st, err := sample.New(m, f.Template, cfg, sample.Prompt{Task: world.ThinkEdit, Instruction: "Make the sky blue.", Input: input})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if st.Done() {
					b.StopTimer()
					st, _ = sample.New(m, f.Template, cfg, sample.Prompt{Task: world.ThinkEdit, Instruction: "Make the sky blue.", Input: input})
					b.StartTimer()
				}
				if _, err := st.Step(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}
