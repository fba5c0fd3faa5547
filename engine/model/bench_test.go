package model

import (
	"testing"

	"parascope/engine/bf16"
	"parascope/engine/nn"
)

// The default model's shape until training fixes it, and the batch the
// PyTorch peer script (reference/peer.py) runs: 8 sequences of 200 tokens,
// logits at the second half of each sequence.
var benchConfig = Config{Layers: 6, DModel: 256, Heads: 8, MLP: 768, Vocab: 1536, RopeTheta: 10000, NormEps: 1e-5, MaxLen: 256}

const benchBatch, benchSeq = 8, 200

// spread returns seq ids spread over a vocabulary, and every k-th position.
func spread(seq, vocab, k int) (ids, sel []int32) {
	for i := range seq {
		ids = append(ids, int32(i*7919%vocab))
		if i%k == 0 {
			sel = append(sel, int32(i))
		}
	}
	return ids, sel
}

func benchInputs() (ids, sel, targets []int32, weights []float32) {
	for i := range benchBatch * benchSeq {
		ids = append(ids, int32(i*7919%benchConfig.Vocab))
		if i%benchSeq >= benchSeq/2 {
			sel = append(sel, int32(i))
			targets = append(targets, int32(i*104729%benchConfig.Vocab))
		}
	}
	weights = make([]float32, len(sel))
	for i := range weights {
		weights[i] = 1 / float32(len(sel))
	}
	return
}

func BenchmarkForward(b *testing.B) {
	m, _ := New(benchConfig, nn.CPU{})
	m.Init(1)
	ids, sel, _, _ := benchInputs()
	m.Forward(ids, benchBatch, benchSeq, sel) // allocate the activations
	for b.Loop() {
		if _, err := m.Forward(ids, benchBatch, benchSeq, sel); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(ids))/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkForwardBackward(b *testing.B) {
	m, _ := New(benchConfig, nn.CPU{})
	m.Init(1)
	ids, sel, targets, weights := benchInputs()
	m.Loss(ids, benchBatch, benchSeq, sel, targets, weights) // allocate the activations
	for b.Loop() {
		if _, err := m.Loss(ids, benchBatch, benchSeq, sel, targets, weights); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(ids))/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkTrainStep is one SFT optimiser step at the training shape:
// the default SFT model (4 layers), 32 thinkedit sequences of 140
// tokens, every other output position masked, then clipping and AdamW.
// reference/peer.py runs the same step in PyTorch.
func BenchmarkTrainStep(b *testing.B) {
	cfg := Config{Layers: 4, DModel: 256, Heads: 8, MLP: 768, Vocab: 388, RopeTheta: 10000, NormEps: 1e-5, MaxLen: 256}
	m, _ := New(cfg, nn.CPU{})
	m.Init(1)
	const batch, seq = 32, 140
	var ids, sel, targets []int32
	for i := range batch * seq {
		ids = append(ids, int32(i*7919%cfg.Vocab))
		// The output spans of a thinkedit sequence: [62, 98) and [100, 140).
		if t := i % seq; ((t >= 62 && t < 98) || t >= 100) && t%2 == 0 {
			sel = append(sel, int32(i))
			targets = append(targets, int32(i*104729%cfg.Vocab))
		}
	}
	weights := make([]float32, len(sel))
	for i := range weights {
		weights[i] = 1 / float32(len(sel))
	}
	h := nn.AdamW{LR: 1e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1}
	step := func() {
		m.ZeroGrad()
		if _, err := m.Loss(ids, batch, seq, sel, targets, weights); err != nil {
			b.Fatal(err)
		}
		m.ClipGradients(1)
		h.Step++
		m.Step(h)
	}
	step() // allocate the activations and the optimiser state
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(b.N*len(ids))/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkLLaDALayer runs one LLaDA-8B block (d 4096, 32 heads, MLP
// 12288) over 512 tokens, as Infer does, with float32 weights and with
// bfloat16 weights widened in the GEMM's packing; the ratio of their
// tokens/s is what holding an 8B model in bfloat16 costs in speed.
func BenchmarkLLaDALayer(b *testing.B) {
	cfg := Config{Layers: 1, DModel: 4096, Heads: 32, MLP: 12288, Vocab: 1, RopeTheta: 500000, NormEps: 1e-5, MaxLen: 512}
	const seq = 512
	be := nn.CPU{}
	f32 := NewParamSet(be, BlockParams(cfg, ""))
	f32.Init(1, 0.02)
	host := f32.Weights()
	weights := map[string]nn.Buf{}
	for i, p := range f32.params {
		v := host[f32.offsets[i] : f32.offsets[i]+p.size()]
		if p.Decay {
			weights[p.Name] = be.WeightsBF16(bf16.Round(v))
		} else {
			weights[p.Name] = nn.Wrap(v)
		}
	}
	readOnly, err := NewReadOnlyParamSet(be, BlockParams(cfg, ""), weights)
	if err != nil {
		b.Fatal(err)
	}
	x := be.Alloc(seq * cfg.DModel)
	be.Upload(x, host[:seq*cfg.DModel]) // any values of the right scale
	for _, c := range []struct {
		name string
		ps   *ParamSet
	}{{"f32", f32}, {"bf16", readOnly}} {
		b.Run(c.name, func(b *testing.B) {
			s := NewStack(cfg, c.ps, "")
			s.Infer(x, 1, seq) // allocate the activations
			for b.Loop() {
				s.Infer(x, 1, seq)
			}
			b.ReportMetric(float64(b.N*seq)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkHeadSpans is a sampler's step over a joint vocabulary the size
// of MMaDA-Parallel's (126,464 text ids and 8,192 image codes) on a small
// body: logits at 512 of 1,024 positions over the whole vocabulary, and
// over the image codes or the text ids alone, as InferSpans lets a step
// that may only choose one of them ask.
func BenchmarkHeadSpans(b *testing.B) {
	const text, codes, seq = 126464, 8192, 1024
	cfg := Config{Layers: 1, DModel: 256, Heads: 4, MLP: 768, Vocab: text + codes, RopeTheta: 10000, NormEps: 1e-5, MaxLen: seq}
	m, err := New(cfg, nn.CPU{})
	if err != nil {
		b.Fatal(err)
	}
	m.Init(1)
	ids, sel := spread(seq, cfg.Vocab, 2)
	for _, c := range []struct {
		name   string
		lo, hi int
	}{{"all", 0, cfg.Vocab}, {"text", 0, text}, {"image", text, cfg.Vocab}} {
		b.Run(c.name, func(b *testing.B) {
			spans := []Span{{Sel: sel, Lo: c.lo, Hi: c.hi}}
			for b.Loop() {
				if _, err := m.InferSpans(ids, 1, seq, spans); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/step")
		})
	}
}
