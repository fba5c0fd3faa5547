package nn_test

import (
	"testing"

	"parascope/engine/nn"
	"parascope/engine/nn/nntest"
)

func TestCPUOps(t *testing.T) { nntest.Ops(t, nn.CPU{}) }
