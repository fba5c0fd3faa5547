package cli

import (
	"strings"
	"testing"

	"parascope/engine/train"
)

// A chart no run has a point of says why; one with points does not.
func TestRunChartsSayWhyOneIsEmpty(t *testing.T) {
	held := 87.5
	noChecks := runLog{name: "a", lines: []train.RLProgress{{Step: 1, FinalReward: 0.5}, {Step: 2, FinalReward: 0.6}}}
	checked := runLog{name: "b", lines: []train.RLProgress{{Step: 1, FinalReward: 0.5}, {Step: 2, HeldOut: &held}}}
	for _, tc := range []struct {
		runs []runLog
		none bool
	}{{[]runLog{noChecks}, true}, {[]runLog{noChecks, checked}, false}} {
		charts := runCharts(tc.runs, 5)
		if len(charts) != 4 {
			t.Fatalf("%d charts, want 4", len(charts))
		}
		for i, c := range charts {
			says := strings.Contains(c.Title, "no check")
			if want := tc.none && i == 1; says != want {
				t.Errorf("%d runs, chart %d %q: says it has no checks %v, want %v", len(tc.runs), i, c.Title, says, want)
			}
		}
	}
}
