package clip

import (
	"image"
	"math/rand/v2"

	"parascope/engine/sample"
	"parascope/engine/world"
)

// Example is a held-out (or training) pair with its ground truth, before
// it becomes towers' input.
type Example struct {
	Case  world.Case
	Image image.Image
	Input image.Image // the edit's input picture; nil for a generation
	Text  string
}

// Examples returns n cases of the stream with the given seed whose
// held-out status is heldOut: (target picture, reasoning) pairs.
func Examples(seed uint64, n int, heldOut bool) []Example {
	var out []Example
	for i := 0; len(out) < n; i++ {
		c := world.Generate(seed, i, world.MixBoth)
		if c.HeldOut() == heldOut {
			out = append(out, Example{Case: c, Image: world.Render(c.Target), Input: InputOf(c), Text: c.Reasoning})
		}
	}
	return out
}

// InputOf is a case's input picture as the scorer reads it: nil for a
// generation, which has none.
func InputOf(c world.Case) image.Image {
	if c.Task != world.ThinkEdit {
		return nil
	}
	return world.Render(c.Input)
}

// Quality is how well the scorer tracks agreement on held-out pairs.
type Quality struct {
	// Retrieval is picture → text among 100, top-1, by the towers' cosine
	// (with a joint stack, its verdict on 100×100 pairs would cost more
	// than the rest of the training); the rankings are by Scores.
	Retrieval float64 `json:"retrieval_top1"`
	Ranking   float64 `json:"fact_ranking"` // the true text scores above one with a fact changed
	// WrongObject: the true text scores above one that says the change of
	// the wrong object (WrongObject); Misdrawn: the true picture scores
	// above one with a mistake (Misdraw), both with the true text.
	WrongObject float64 `json:"wrong_object_ranking"`
	Misdrawn    float64 `json:"misdrawn_ranking"`
	// Misread: a misread text (Misread) scores higher beside the picture
	// it describes than beside the case's own.
	Misread float64 `json:"misread_ranking"`
}

// A contrast draws, from a held-out example, a pair that agrees and one
// that does not.
type contrast func(Example, *rand.Rand) (truth, negative Example, ok bool)

// Evaluate measures retrieval top-1 among groups of 100 and how often an
// agreeing pair (the truth, or a misread beside its own picture) outranks
// each kind of pair that does not, on held-out examples.
func Evaluate(m *Model, v sample.TextTokenizer, n int) (Quality, error) {
	ex := Examples(4242, n, true)
	var pairs []Pair
	for _, e := range ex {
		p, err := PairOf(e.Image, e.Input, e.Text, v)
		if err != nil {
			return Quality{}, err
		}
		pairs = append(pairs, p)
	}
	var q Quality
	hits, total := 0, 0
	for lo := 0; lo+100 <= len(pairs); lo += 100 {
		img, txt, err := m.Embeddings(pairs[lo : lo+100])
		if err != nil {
			return q, err
		}
		for i := range img {
			best, bestScore := -1, -2.0
			for j := range txt {
				s := dot(img[i], txt[j])
				if s > bestScore {
					best, bestScore = j, s
				}
			}
			if best == i {
				hits++
			}
			total++
		}
	}
	if total > 0 {
		q.Retrieval = 100 * float64(hits) / float64(total)
	}
	// Each ranking pairs an agreeing pair with one that does not, drawn
	// with a fixed seed so the figures are comparable.
	ofText := func(change func(world.Case, *rand.Rand) (string, bool)) contrast {
		return func(e Example, r *rand.Rand) (Example, Example, bool) {
			t, ok := change(e.Case, r)
			neg := e
			neg.Text = t
			return e, neg, ok
		}
	}
	misdrawn := func(e Example, r *rand.Rand) (Example, Example, bool) {
		neg := e
		neg.Image = world.Render(Misdraw(e.Case, r))
		return e, neg, true
	}
	// A misread text agrees with the picture it describes, not with the
	// case's own picture.
	misread := func(e Example, r *rand.Rand) (Example, Example, bool) {
		m, ok := Misread(e.Case, r)
		if !ok || m.Target.Equal(e.Case.Target) {
			return e, e, false
		}
		own := Example{Case: m, Image: world.Render(m.Target), Input: e.Input, Text: m.Reasoning}
		neg := own
		neg.Image = e.Image
		return own, neg, true
	}
	for _, rk := range []struct {
		into     *float64
		seed     uint64
		contrast contrast
	}{{&q.Ranking, 7, ofText(ChangeOneFact)}, {&q.WrongObject, 8, ofText(WrongObject)}, {&q.Misdrawn, 9, misdrawn},
		{&q.Misread, 10, misread}} {
		r := rand.New(rand.NewPCG(rk.seed, rk.seed))
		var both []Pair
		for _, e := range ex {
			truth, neg, ok := rk.contrast(e, r)
			if !ok {
				continue
			}
			for _, x := range []Example{truth, neg} {
				p, err := PairOf(x.Image, x.Input, x.Text, v)
				if err != nil {
					return q, err
				}
				both = append(both, p)
			}
		}
		var err error
		if *rk.into, err = truthWins(m, both); err != nil {
			return q, err
		}
	}
	return q, nil
}

// truthWins is the share (%) of (agreeing, negative) pairs, given one after
// the other, whose truth scores higher.
func truthWins(m *Model, both []Pair) (float64, error) {
	wins := 0
	for lo := 0; lo < len(both); lo += 100 {
		scores, err := m.Scores(both[lo:min(lo+100, len(both))])
		if err != nil {
			return 0, err
		}
		for k := 0; k+1 < len(scores); k += 2 {
			if scores[k] > scores[k+1] {
				wins++
			}
		}
	}
	if len(both) == 0 {
		return 0, nil
	}
	return 100 * float64(wins) / float64(len(both)/2), nil
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
