package model

import (
	"encoding/json"
	"math"
	"testing"

	"parascope/engine/cpu"
	"parascope/engine/nn"
	"parascope/engine/safetensors"
)

// TestMatchesPyTorch compares the model with a PyTorch run of the same
// tiny model, llm.c style: logits, loss, every gradient, then the losses
// and final weights of five AdamW steps, on every vector path.
// testdata/reference.safetensors is written by reference/reference.py.
func TestMatchesPyTorch(t *testing.T) {
	for _, p := range cpu.Paths() {
		restore := p.Use()
		t.Run(p.Name, matchPyTorch)
		restore()
	}
}

func matchPyTorch(t *testing.T) {
	f, err := safetensors.Read("testdata/reference.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) []float32 {
		tt, ok := f.Get(name)
		if !ok {
			t.Fatalf("dump has no tensor %q", name)
		}
		return tt.Data
	}
	ints := func(name string) []int32 {
		var out []int32
		for _, v := range get(name) {
			out = append(out, int32(v))
		}
		return out
	}
	var cfg Config
	var shape struct{ B, T int }
	var adam struct {
		LR          float32 `json:"lr"`
		Beta1       float32 `json:"beta1"`
		Beta2       float32 `json:"beta2"`
		Eps         float32 `json:"eps"`
		WeightDecay float32 `json:"weight_decay"`
	}
	for k, v := range map[string]any{"config": &cfg, "batch": &shape, "adamw": &adam} {
		if err := json.Unmarshal([]byte(f.Metadata[k]), v); err != nil {
			t.Fatalf("metadata %q: %v", k, err)
		}
	}
	m, err := New(cfg, nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	initial := map[string]safetensors.Tensor{}
	for _, t := range m.Tensors() {
		initial[t.Name] = safetensors.Tensor{Name: t.Name, Shape: t.Shape, Data: get(t.Name)}
	}
	if err := m.SetTensors(initial); err != nil {
		t.Fatal(err)
	}

	ids, sel, targets, weights := ints("ids"), ints("sel"), ints("targets"), get("weights")
	logits, err := m.Forward(ids, shape.B, shape.T, sel)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "logits", download(m.be, logits), get("logits"))
	m.ZeroGrad()
	loss, err := m.Loss(ids, shape.B, shape.T, sel, targets, weights)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "loss", []float32{float32(loss)}, get("loss"))
	for _, g := range m.gradTensors() {
		compare(t, "grad."+g.Name, g.Data, get("grad."+g.Name))
	}

	// Five optimiser steps; the first loss is the one above.
	wantLosses := get("adamw_losses")
	h := nn.AdamW{LR: adam.LR, Beta1: adam.Beta1, Beta2: adam.Beta2, Eps: adam.Eps, WeightDecay: adam.WeightDecay}
	var losses []float32
	for step := 1; step <= len(wantLosses); step++ {
		m.ZeroGrad()
		l, err := m.Loss(ids, shape.B, shape.T, sel, targets, weights)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, float32(l))
		h.Step = step
		m.Step(h)
	}
	compare(t, "adamw losses", losses, wantLosses)
	for _, w := range m.Tensors() {
		compare(t, "final."+w.Name, w.Data, get("final."+w.Name))
	}
}

// compare fails when a tensor differs from its reference by more than
// 1e-4 relative to the reference's largest magnitude, and logs maxdiff.
func compare(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	diff, scale := 0.0, 0.0
	for i := range got {
		diff = math.Max(diff, math.Abs(float64(got[i]-want[i])))
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	t.Logf("%-28s maxdiff %.3g (max |ref| %.3g)", name, diff, scale)
	if diff > 1e-4*math.Max(scale, 1e-3) || math.IsNaN(diff) {
		t.Errorf("%s: max difference %.3g against a scale of %.3g", name, diff, scale)
	}
}
