// Package modeltest checks a whole model on a backend against the CPU:
// the parity check every backend's tests run after the op-by-op suite of
// engine/nn/nntest.
package modeltest

import (
	"math/rand/v2"
	"testing"

	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/nn/nntest"
)

// Parity runs a whole forward, backward and optimiser step of a small model
// on the backend and on the CPU from the same weights, and compares the
// logits, the loss, every gradient and the updated weights.
func Parity(t *testing.T, be nn.Backend) {
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
	same := func(what string, got, want []float64, tol float64) {
		t.Helper()
		nntest.Close(t, be.Name(), what, got, want, tol)
	}
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
	same("loss", []float64{lossGot}, []float64{lossRef}, 1e-5)
	same("gradients", nntest.F64(got.Gradients()), nntest.F64(ref.Gradients()), 1e-4)
	ref.Step(h)
	got.Step(h)
	same("weights after a step", nntest.F64(got.Weights()), nntest.F64(ref.Weights()), 1e-5)
	lr, _ := ref.Logits(ids, batch, seq, sel)
	lg, _ := got.Logits(ids, batch, seq, sel)
	same("logits", nntest.F64(lg), nntest.F64(lr), 1e-4)
}
