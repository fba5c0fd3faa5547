package nntest

import (
	"math/rand/v2"
	"testing"

	"parascope/engine/model"
	"parascope/engine/nn"
)

// Model runs a whole forward, backward and optimiser step of a small model
// on the backend and on the CPU from the same weights, and compares the
// logits, the loss, every gradient and the updated weights.
func Model(t *testing.T, be nn.Backend) {
	cfg := model.Config{Layers: 2, DModel: 24, Heads: 3, MLP: 40, Vocab: 37, RopeTheta: 10000, NormEps: 1e-5, MaxLen: 16}
	ref, err := model.New(cfg, nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	ref.Init(11)
	got, _ := model.New(cfg, be)
	got.SetWeights(ref.Weights())

	r := rand.New(rand.NewPCG(12, 12))
	const batch, seq = 3, 13
	var ids, sel, targets []int32
	var weights []float32
	for i := range batch * seq {
		ids = append(ids, int32(r.IntN(cfg.Vocab)))
		if i%3 == 0 {
			sel = append(sel, int32(i))
			targets = append(targets, int32(r.IntN(cfg.Vocab)))
			weights = append(weights, 0.1)
		}
	}
	c := &checker{t: t, be: be}
	h := nn.AdamW{LR: 1e-2, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1, Step: 1}
	for _, m := range []*model.Model{ref, got} {
		m.ZeroGrad()
	}
	lossRef, err := ref.Loss(ids, batch, seq, sel, targets, weights)
	if err != nil {
		t.Fatal(err)
	}
	lossGot, err := got.Loss(ids, batch, seq, sel, targets, weights)
	if err != nil {
		t.Fatal(err)
	}
	c.close("loss", []float64{lossGot}, []float64{lossRef}, 1e-5)
	c.close("gradients", f64(got.Gradients()), f64(ref.Gradients()), 1e-4)
	ref.Step(h)
	got.Step(h)
	c.close("weights after a step", f64(got.Weights()), f64(ref.Weights()), 1e-5)
	lr, _ := ref.Logits(ids, batch, seq, sel)
	lg, _ := got.Logits(ids, batch, seq, sel)
	c.close("logits", f64(lg.Data().([]float32)), f64(lr.Data().([]float32)), 1e-4)
}
