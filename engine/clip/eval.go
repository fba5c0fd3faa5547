package clip

import (
	"image"
	"math/rand/v2"
	"strings"

	"parascope/engine/sample"
	"parascope/engine/world"
)

// Example is a held-out (or training) pair with its ground truth, before
// it becomes towers' input.
type Example struct {
	Case  world.Case
	Image image.Image
	Text  string
}

// Examples returns n cases of the stream with the given seed whose
// held-out status is heldOut: (target picture, reasoning) pairs.
func Examples(seed uint64, n int, heldOut bool) []Example {
	var out []Example
	for i := 0; len(out) < n; i++ {
		c := world.Generate(seed, i, world.MixBoth)
		if c.HeldOut() == heldOut {
			out = append(out, Example{Case: c, Image: world.Render(c.Target), Text: c.Reasoning})
		}
	}
	return out
}

// ChangeOneFact returns the reasoning with one fact about the picture
// changed — a colour, a shape or a position — and whether it found one to
// change.
func ChangeOneFact(c world.Case, r *rand.Rand) (string, bool) {
	var candidates []int
	for i, cl := range c.Claims {
		switch cl.Kind {
		case world.Exists, world.Added, world.BecomesColour, world.Moves:
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 {
		return "", false
	}
	claims := append([]world.Claim(nil), c.Claims...)
	i := candidates[r.IntN(len(candidates))]
	cl := &claims[i]
	other := func(n, cur int) int { return (cur + 1 + r.IntN(n-1)) % n }
	switch cl.Kind {
	case world.BecomesColour:
		cl.Colour = world.Colour(other(world.NumColours, int(cl.Colour)))
	case world.Moves:
		cl.To = world.Cell(other(world.NumCells, int(cl.To)))
	default: // an object: change its colour, its shape or its place
		switch r.IntN(3) {
		case 0:
			cl.Object.Colour = world.Colour(other(world.NumColours, int(cl.Object.Colour)))
		case 1:
			cl.Object.Shape = world.Shape(other(world.NumShapes, int(cl.Object.Shape)))
		default:
			cl.Object.Cell = world.Cell(other(world.NumCells, int(cl.Object.Cell)))
		}
	}
	var words []string
	for _, cl := range claims {
		words = append(words, cl.Words(c.Input)...)
	}
	return strings.Join(words, " "), true
}

// Quality is how well the scorer tracks agreement on held-out pairs.
type Quality struct {
	Retrieval float64 `json:"retrieval_top1"` // picture → text among 100, top-1
	Ranking   float64 `json:"fact_ranking"`   // the true text scores above one with a fact changed
}

// Evaluate measures retrieval top-1 among groups of 100 and fact-change
// ranking on held-out examples (seed fixed so the figure is comparable).
func Evaluate(m *Model, v sample.TextTokenizer, n int) (Quality, error) {
	ex := Examples(4242, n, true)
	var pairs []Pair
	for _, e := range ex {
		p, err := PairOf(e.Image, e.Text, v)
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
	r := rand.New(rand.NewPCG(7, 7))
	var both []Pair
	for i, e := range ex {
		changed, ok := ChangeOneFact(e.Case, r)
		if !ok {
			continue
		}
		p, err := PairOf(e.Image, changed, v)
		if err != nil {
			return q, err
		}
		both = append(both, pairs[i], p)
	}
	wins := 0
	for lo := 0; lo < len(both); lo += 100 {
		scores, err := m.Scores(both[lo:min(lo+100, len(both))])
		if err != nil {
			return q, err
		}
		for k := 0; k+1 < len(scores); k += 2 {
			if scores[k] > scores[k+1] {
				wins++
			}
		}
	}
	if len(both) > 0 {
		q.Ranking = 100 * float64(wins) / float64(len(both)/2)
	}
	return q, nil
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
