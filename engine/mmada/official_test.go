package mmada

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"parascope/engine/world"
)

// The mini layouts built here lay out what the reference port of the
// official generators built (engine/sample/reference/official.py), case
// by case; engine/sample checks its official rules on those sequences.
func TestLayoutsMatchTheReferencePort(t *testing.T) {
	data, err := os.ReadFile("../sample/testdata/official.json")
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		Cases []struct {
			Preset         string
			PromptIDs      []int `json:"prompt_ids"`
			UncondIDs      []int `json:"uncond_ids"`
			InstructionIDs []int `json:"instruction_ids"`
			EmptyIDs       []int `json:"empty_ids"`
			Codes          []int
			Cond, Uncond   []int
			UncondText     []int `json:"uncond_text"`
			UncondImage    []int `json:"uncond_image"`
			ImagePositions []int `json:"image_positions"`
			TextPositions  []int `json:"text_positions"`
		}
	}
	if err := json.Unmarshal(data, &dump); err != nil {
		t.Fatal(err)
	}
	for i, c := range dump.Cases {
		var tm *Template
		want := [3][]int{c.Cond, c.Uncond, nil}
		if c.Preset == "official-a" {
			tm = miniA(t, c.PromptIDs, c.UncondIDs)
			want[1], want[2] = c.UncondText, c.UncondImage
		} else {
			tm = miniM(t, map[string][]int{"x": c.InstructionIDs, "": c.EmptyIDs})
		}
		cond, uncond, uncondImage, err := tm.Start(world.ThinkEdit, "x", c.Codes)
		if err != nil {
			t.Fatal(err)
		}
		for k, got := range [][]int{cond, uncond, uncondImage} {
			if !slices.Equal(got, want[k]) {
				t.Errorf("case %d (%s), sequence %d:\n got %v\nwant %v", i, c.Preset, k, got, want[k])
			}
		}
		if got, want := tm.Positions(world.ThinkEdit, len(cond)), append(c.ImagePositions, c.TextPositions...); !slices.Equal(got, want) {
			t.Errorf("case %d (%s): positions %v, want %v", i, c.Preset, got, want)
		}
	}
}
