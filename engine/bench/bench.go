// Package bench is ParaBench-mini: a fixed, seeded suite of held-out
// ShapeWorld cases, sampled with the parallel sampler and scored with the
// exact judge, reported as the paper's table.
package bench

import (
	"context"
	"fmt"

	"parascope/engine/judge"
	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// DefaultCases and DefaultSeed fix the suite: 300 cases, 200 edits and
// 100 generations.
const (
	DefaultCases = 300
	DefaultSeed  = 2025
)

// Suite returns n cases: two edits for every generation, the edits cycling
// through every edit kind, all held out from training (world.Case.HeldOut).
func Suite(seed uint64, n int) []world.Case {
	var out []world.Case
	kinds := world.EditKinds()
	next, edits := 0, 0
	for i := range n {
		for {
			var c world.Case
			if i%3 == 2 {
				c = world.Generate(seed, next, world.MixGen)
			} else {
				c = world.GenerateKind(seed, next, kinds[edits%len(kinds)])
			}
			next++
			if c.HeldOut() {
				out = append(out, c)
				if c.Task == world.ThinkEdit {
					edits++
				}
				break
			}
		}
	}
	return out
}

// Result is one judged case.
type Result struct {
	Case   world.Case
	Text   string
	Scores judge.Scores
}

// Run samples every case (case i with seed cfg.Seed + i) and judges the
// outputs. progress, if not nil, is called after each case.
func Run(ctx context.Context, m sample.Model, vocab *token.Vocab, cb *vq.Codebook, cfg sample.Config, cases []world.Case,
	progress func(done, total int)) (judge.Report, []Result, error) {
	var tally judge.Tally
	var results []Result
	for i, c := range cases {
		p := sample.Prompt{Task: c.Task, Instruction: c.Instruction}
		var err error
		if c.Task == world.ThinkEdit {
			if p.Input, err = cb.Encode(world.Render(c.Input)); err != nil {
				return judge.Report{}, nil, err
			}
		}
		run := cfg
		run.Seed = cfg.Seed + uint64(i)
		s, err := sample.New(m, vocab, run, p)
		if err != nil {
			return judge.Report{}, nil, err
		}
		for !s.Done() {
			if _, err := s.Step(ctx); err != nil {
				return judge.Report{}, nil, fmt.Errorf("case %d: %w", i, err)
			}
		}
		last := s.Last()
		img, err := cb.Decode(last.GuessCodes(vocab))
		if err != nil {
			return judge.Report{}, nil, err
		}
		text := last.Reasoning(vocab)
		scores, err := judge.Score(c, text, img)
		if err != nil {
			return judge.Report{}, nil, fmt.Errorf("case %d: %w", i, err)
		}
		tally.Add(c, scores)
		results = append(results, Result{Case: c, Text: text, Scores: scores})
		if progress != nil {
			progress(i+1, len(cases))
		}
	}
	return tally.Report(), results, nil
}
