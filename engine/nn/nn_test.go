package nn_test

import (
	"testing"

	"parascope/engine/cpu"
	"parascope/engine/nn"
	"parascope/engine/nn/nntest"
)

// The CPU backend on every vector path this machine has.
func TestCPUOps(t *testing.T) {
	for _, p := range cpu.Paths() {
		restore := p.Use()
		t.Run(p.Name, func(t *testing.T) { nntest.Ops(t, nn.CPU{}) })
		restore()
	}
}

func TestOpenUnknownBackend(t *testing.T) {
	if _, err := nn.Open("tpu"); err == nil {
		t.Fatal("no error for an unknown backend")
	}
}
