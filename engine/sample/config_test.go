package sample

import (
	"strings"
	"testing"

	"parascope/engine/token"
)

// A bad step count is one fault, not one more for every knob it bounds.
func TestBadStepsReportedOnce(t *testing.T) {
	for _, block := range []int{40, 20} {
		c := Defaults()
		c.Steps, c.Text.Block = -3, block
		err := c.ValidateFor(token.New(0))
		if err == nil || strings.Count(err.Error(), "\n") != 0 || !strings.Contains(err.Error(), "steps: -3") {
			t.Errorf("block %d: %v, want the one fault of steps", block, err)
		}
	}
}
