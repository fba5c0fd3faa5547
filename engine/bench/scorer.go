package bench

import (
	"context"
	"fmt"
	"math"

	"parascope/engine/partial"
	"parascope/engine/sample"
	"parascope/engine/world"
)

// ScorerSample is one rollout's output at one point of its trajectory:
// the learned scorer's alignment of what it has committed, and the exact
// judge's output alignment of the same.
type ScorerSample struct {
	Case    int     `json:"case"`
	Kind    string  `json:"kind"` // the edit kind, or "thinkgen"
	Rollout int     `json:"rollout"`
	Step    int     `json:"step"`
	Steps   int     `json:"steps"`
	Clip    float64 `json:"clip"`
	Judge   float64 `json:"judge"` // 0–100
}

// Kind names a case's kind: its edit kind, or its task for a generation.
func Kind(c world.Case) string {
	if c.Task == world.ThinkEdit {
		return c.Edit.String()
	}
	return c.Task.String()
}

// StudyScorer samples group rollouts of every case (rollout g of case i
// with seed cfg.Seed + i·group + g, the group stepped together) and, at
// each share of the trajectory in at (1 is the final output), scores what
// every rollout has committed with the scorer and with the judge: how
// well a reward built on the scorer would track the judge on this model's
// own outputs. progress, if not nil, is called after each case.
func StudyScorer(ctx context.Context, m sample.Model, scorer sample.Aligner, vocab sample.Vocabulary, cb sample.ImageTokenizer, cfg sample.Config,
	cases []world.Case, group int, at []float64, progress func(done, total int)) ([]ScorerSample, error) {
	var out []ScorerSample
	for i, c := range cases {
		p, err := sample.PromptOf(c, cb)
		if err != nil {
			return nil, err
		}
		steppers := make([]*sample.Stepper, group)
		for g := range steppers {
			run := cfg
			run.Seed = cfg.Seed + uint64(i*group+g)
			if steppers[g], err = sample.New(m, vocab, run, p); err != nil {
				return nil, err
			}
		}
		for !steppers[0].Done() {
			if _, err := sample.StepTogether(ctx, m, steppers); err != nil {
				return nil, fmt.Errorf("case %d: %w", i, err)
			}
		}
		for g, st := range steppers {
			hist, steps := st.History(), st.Steps()
			for _, share := range at {
				step := StepAt(share, steps)
				f := hist[step]
				clip, err := scorer.Align(p, f)
				if err != nil {
					return nil, fmt.Errorf("case %d: %w", i, err)
				}
				s, err := partial.Judge(c, f, vocab, cb)
				if err != nil {
					return nil, fmt.Errorf("case %d: %w", i, err)
				}
				out = append(out, ScorerSample{Case: i, Kind: Kind(c), Rollout: g, Step: step, Steps: steps, Clip: clip, Judge: s.OutputAlignment})
			}
		}
		if progress != nil {
			progress(i+1, len(cases))
		}
	}
	return out, nil
}

// StepAt is the step at a share of a trajectory of steps steps: the
// nearest, and at least the first.
func StepAt(share float64, steps int) int {
	return min(max(int(math.Round(share*float64(steps))), 1), steps)
}

// Agreement says how a set of samples' scores follow the judge's.
type Agreement struct {
	N int `json:"n"`
	// R is the Pearson correlation of the scores with the judge's, across
	// the samples; nil when either is constant.
	R *float64 `json:"r,omitempty"`
	// Pairs counts the pairs of rollouts of one case, at one step, that
	// the judge tells apart; Ordered is the share of them the scorer
	// orders the same way (a tie counts half): what a group-relative
	// advantage needs of a reward.
	Pairs   int     `json:"pairs"`
	Ordered float64 `json:"ordered"`
}

// Agree measures samples' agreement with the judge.
func Agree(samples []ScorerSample) Agreement {
	a := Agreement{N: len(samples)}
	clips, judged := make([]float64, len(samples)), make([]float64, len(samples))
	for i, s := range samples {
		clips[i], judged[i] = s.Clip, s.Judge
	}
	if r, ok := pearson(clips, judged); ok {
		a.R = &r
	}
	type point struct{ c, step int }
	groups := map[point][]ScorerSample{}
	for _, s := range samples {
		k := point{s.Case, s.Step}
		groups[k] = append(groups[k], s)
	}
	ordered := 0.0
	for _, g := range groups {
		for i := range g {
			for j := i + 1; j < len(g); j++ {
				dj := g[i].Judge - g[j].Judge
				if dj == 0 {
					continue
				}
				a.Pairs++
				switch dc := g[i].Clip - g[j].Clip; {
				case dc == 0:
					ordered += 0.5
				case (dc > 0) == (dj > 0):
					ordered++
				}
			}
		}
	}
	if a.Pairs > 0 {
		a.Ordered = ordered / float64(a.Pairs)
	}
	return a
}
