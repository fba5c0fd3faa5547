package model

import (
	"testing"

	"parascope/engine/nn"
)

// The default model's shape until training fixes it, and the batch the
// PyTorch peer script (reference/peer.py) runs: 8 sequences of 200 tokens,
// logits at the second half of each sequence.
var benchConfig = Config{Layers: 6, DModel: 256, Heads: 8, MLP: 768, Vocab: 1536, RopeTheta: 10000, NormEps: 1e-5, MaxLen: 256}

const benchBatch, benchSeq = 8, 200

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
