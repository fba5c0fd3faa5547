package bench

import (
	"context"
	"math"
	"testing"

	"parascope/engine/model"
	"parascope/engine/nn"
	"parascope/engine/partial"
	"parascope/engine/sample"
	"parascope/engine/token"
	"parascope/engine/vq"
	"parascope/engine/world"
)

// Pairs the judge tells apart, counted and ordered by hand; a tie of the
// scorer counts half; a scorer linear in the judge has r = 1.
func TestAgree(t *testing.T) {
	s := func(c, rollout int, clip, judge float64) ScorerSample {
		return ScorerSample{Case: c, Rollout: rollout, Step: 20, Steps: 20, Clip: clip, Judge: judge}
	}
	samples := []ScorerSample{
		s(0, 0, 0.9, 100), s(0, 1, 0.5, 50), s(0, 2, 0.6, 50), s(0, 3, 0.7, 0),
		s(1, 0, 0.5, 100), s(1, 1, 0.5, 0),
		s(2, 0, 0.1, 40), s(2, 1, 0.9, 40), // the judge ties: no pair
	}
	// Case 0: (0,1) (0,2) (0,3) ordered, (1,3) (2,3) not; case 1: a tie.
	a := Agree(samples)
	if a.N != 8 || a.Pairs != 6 || math.Abs(a.Ordered-3.5/6) > 1e-12 || a.R == nil {
		t.Fatalf("%+v", a)
	}
	for i := range samples {
		samples[i].Clip = 0.2 + samples[i].Judge/200
	}
	if a := Agree(samples); a.R == nil || math.Abs(*a.R-1) > 1e-12 || a.Ordered != 1 {
		t.Fatalf("a scorer linear in the judge: %+v", a)
	}
	if a := Agree(samples[6:]); a.R != nil || a.Pairs != 0 {
		t.Fatalf("constant judge: %+v", a)
	}
}

// judgeScorer scores a frame with the judge's own output alignment of
// the case being sampled: the study must then find r = 1 at every step
// where outputs differ.
type judgeScorer struct {
	cases []world.Case
	at    int
	v     *token.Vocab
	cb    *vq.Codebook
}

func (j *judgeScorer) Align(_ sample.Prompt, f sample.Frame) (float64, error) {
	s, err := partial.Judge(j.cases[j.at], f, j.v, j.cb)
	return s.OutputAlignment / 100, err
}

func TestStudyScorerScoresTheFramesItJudges(t *testing.T) {
	cb := vq.Default()
	v := token.New(cb.K())
	m, err := model.Default(nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := sample.Defaults()
	cfg.Steps, cfg.Text.Temperature, cfg.Image.Temperature = 12, 0.9, 1
	cases := Suite(777, 6)
	js := &judgeScorer{cases: cases, v: v, cb: cb}
	at := []float64{1, 0.5}
	samples, err := StudyScorer(context.Background(), m, js, v, cb, cfg, cases, 4, at, func(done, _ int) {
		js.at = min(done, len(cases)-1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != len(cases)*4*len(at) {
		t.Fatalf("%d samples, want %d", len(samples), len(cases)*4*len(at))
	}
	differ := false
	for i, s := range samples {
		if want := StepAt(at[i%len(at)], 12); s.Step != want || s.Steps != 12 || s.Kind != Kind(cases[s.Case]) {
			t.Fatalf("sample %d: %+v, want step %d", i, s, want)
		}
		if s.Clip != s.Judge/100 {
			t.Fatalf("sample %d: scored %v, judged %v: not the same frame", i, s.Clip, s.Judge)
		}
		differ = differ || s.Judge != samples[i%len(at)].Judge
	}
	a := Agree(samples)
	if !differ || a.R == nil || math.Abs(*a.R-1) > 1e-9 || a.Pairs > 0 && a.Ordered != 1 {
		t.Fatalf("the judge against itself: %+v (outputs differ: %v)", a, differ)
	}
	t.Logf("%d samples, %d pairs told apart", a.N, a.Pairs)
}
