package sample

import "parascope/engine/world"

// What reinforcement learning needs to score a trajectory's steps again
// under a changed model: the model input of a past state, where each
// output position sits in it, and the policy the sampler draws its token
// from there.

// Input is the conditional model input with the output tokens out placed.
func (s *Stepper) Input(out []int32) []int32 {
	row := make([]int32, len(s.cond))
	for p, id := range s.cond {
		row[p] = int32(id)
	}
	s.placeOutput(row, out)
	return row
}

// SeqLen is the length of the stepper's model input.
func (s *Stepper) SeqLen() int { return len(s.cond) }

// Position is output index o's place in the model input.
func (s *Stepper) Position(o int) int { return s.position(o) }

// Policy is the distribution output position o's token is drawn from:
// over image codes for the picture, the reasoning's words for the text.
func (s *Stepper) Policy(o int) Policy {
	if o < s.imageLen {
		return Policy{Choices: s.imageIDs, Temperature: s.cfg.Image.Temperature, CFG: s.cfg.Image.CFG, Toward: s.cfg.Image.Guidance == Toward}
	}
	return Policy{Choices: s.textIDs, Temperature: s.cfg.Text.Temperature, CFG: s.cfg.Text.CFG, Toward: s.cfg.Text.Guidance == Toward}
}

// PromptOf is a case's prompt: its instruction, and for an edit the input
// picture encoded with enc.
func PromptOf(c world.Case, enc ImageTokenizer) (Prompt, error) {
	p := Prompt{Task: c.Task, Instruction: c.Instruction}
	if c.Task == world.ThinkEdit {
		var err error
		if p.Input, err = enc.Encode(world.Render(c.Input)); err != nil {
			return Prompt{}, err
		}
	}
	return p, nil
}
