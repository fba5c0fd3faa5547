package model_test

import (
	"testing"

	"parascope/engine/cpu"
	"parascope/engine/model/modeltest"
	"parascope/engine/nn"
)

// The whole-model parity check (forward, backward, AdamW) on the CPU
// backend, on each vector path this machine has but the last.
func TestModelAcrossPaths(t *testing.T) {
	for _, p := range cpu.Paths()[:len(cpu.Paths())-1] {
		restore := p.Use()
		t.Run(p.Name, func(t *testing.T) { modeltest.Parity(t, nn.CPU{}) })
		restore()
	}
}
