// Package bench is ParaBench-mini: a fixed, seeded suite of held-out
// ShapeWorld cases, sampled with the parallel sampler and scored with the
// exact judge, reported as the paper's table.
package bench

import (
	"context"
	"fmt"
	"math"

	"parascope/engine/judge"
	"parascope/engine/sample"
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
	Clip   *float64 // the final output's alignment score, with a scorer
}

// Report is the judge's table, and with a scorer how CLIP relates to it.
type Report struct {
	judge.Report
	// ClipFinal is the mean CLIP score of the final outputs;
	// ClipJudgeCorr its Pearson correlation, over the suite, with the
	// judge's output_alignment.
	ClipFinal     *float64 `json:"clip_final,omitempty"`
	ClipJudgeCorr *float64 `json:"clip_judge_corr,omitempty"`
}

// Run samples every case (case i with seed cfg.Seed + i) and judges the
// outputs; with an aligner (may be nil) it also scores the final outputs.
// progress, if not nil, is called after each case. When ctx is cancelled
// it returns the report over the cases judged so far with ctx's error.
func Run(ctx context.Context, m sample.Model, aligner sample.Aligner, vocab sample.Vocabulary, cb sample.ImageTokenizer, cfg sample.Config, cases []world.Case,
	progress func(done, total int)) (Report, []Result, error) {
	var results []Result
	for i, c := range cases {
		res, err := runCase(ctx, m, aligner, vocab, cb, cfg, i, c)
		if err != nil && ctx.Err() != nil {
			return report(results, aligner != nil), results, ctx.Err()
		}
		if err != nil {
			return Report{}, nil, err
		}
		results = append(results, res)
		if progress != nil {
			progress(i+1, len(cases))
		}
	}
	return report(results, aligner != nil), results, nil
}

// runCase samples and judges case i.
func runCase(ctx context.Context, m sample.Model, aligner sample.Aligner, vocab sample.Vocabulary, cb sample.ImageTokenizer, cfg sample.Config, i int, c world.Case) (Result, error) {
	p, err := sample.PromptOf(c, cb)
	if err != nil {
		return Result{}, err
	}
	run := cfg
	run.Seed = cfg.Seed + uint64(i)
	s, err := sample.New(m, vocab, run, p)
	if err != nil {
		return Result{}, err
	}
	for !s.Done() {
		if _, err := s.Step(ctx); err != nil {
			return Result{}, fmt.Errorf("case %d: %w", i, err)
		}
	}
	last := s.Last()
	// GuessCodes fills every patch, so no code is masked.
	img, err := cb.DecodeMasked(last.GuessCodes(vocab), nil)
	if err != nil {
		return Result{}, err
	}
	text := last.Reasoning(vocab)
	scores, err := judge.Score(c, text, img)
	if err != nil {
		return Result{}, fmt.Errorf("case %d: %w", i, err)
	}
	res := Result{Case: c, Text: text, Scores: scores}
	if aligner != nil {
		a, err := aligner.Align(p, last)
		if err != nil {
			return Result{}, fmt.Errorf("case %d: %w", i, err)
		}
		res.Clip = &a
	}
	return res, nil
}

// report tallies judged cases; with scores, how CLIP relates to the judge.
func report(results []Result, scored bool) Report {
	var tally judge.Tally
	for _, res := range results {
		tally.Add(res.Case, res.Scores)
	}
	r := Report{Report: tally.Report()}
	if scored && len(results) > 0 {
		var clips, aligned []float64
		for _, res := range results {
			clips, aligned = append(clips, *res.Clip), append(aligned, res.Scores.OutputAlignment)
		}
		mean := meanOf(clips)
		r.ClipFinal = &mean
		if corr, ok := pearson(clips, aligned); ok {
			r.ClipJudgeCorr = &corr
		}
	}
	return r
}

func meanOf(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(max(len(x), 1))
}

// pearson is the correlation of x and y; false when either is constant.
func pearson(x, y []float64) (float64, bool) {
	mx, my := meanOf(x), meanOf(y)
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return 0, false
	}
	return sxy / math.Sqrt(sxx*syy), true
}
