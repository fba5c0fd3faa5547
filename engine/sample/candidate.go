package sample

import (
	"math"
	"math/rand/v2"
	"slices"
)

// candidate is a masked position's proposal at one step.
type candidate struct {
	pos   int     // output index
	token int32   // what would be committed
	guess int32   // the most likely token
	conf  float64 // the remasking rule's score: higher commits first
	prob  float64 // the model's probability of token
	top   []Choice
	held  bool // held back (EndLast): commits after every other candidate
}

// Policy is the distribution a masked position's token is drawn from:
// softmax(l/τ) over the vocabulary ids the position may take, l being the
// model's logits there, guided under classifier-free guidance. The sampler
// draws from it and reinforcement learning (train.ParaRL) scores tokens
// under it, so the two cannot drift apart.
type Policy struct {
	Choices     []int32 // vocabulary ids the position may take; shared, read only
	Temperature float64 // τ; 0 takes the most likely choice
	CFG         float64 // the guidance weight w
	Toward      bool    // guidance toward the unconditional branch (Guidance "toward")
	// Lo is the id of a logit row's first entry: 0 for a row over the
	// whole vocabulary, more for a row over a range of it.
	Lo int
}

// Logits gathers a position's logits over the choices, guided: (1+w)·cond
// − w·uncond, or cond alone without guidance (w = 0 or no uncond).
func (p Policy) Logits(cond, uncond []float32) []float64 {
	l := make([]float64, len(p.Choices))
	for k, id := range p.Choices {
		l[k] = guide(cond[int(id)-p.Lo], uncond, int(id)-p.Lo, p.CFG, p.Toward)
	}
	return l
}

// Probs is softmax(l/τ) over the choices, for the l that Logits gathers.
// It needs τ > 0; at τ = 0 the policy is the point mass on argmax(l).
func (p Policy) Probs(l []float64) []float64 { return softmax(l, p.Temperature) }

// candidate proposes a token for output position o from its logits (and
// the unconditional logits under guidance). Image positions on the
// image's timeline step imgT get MaskGIT's annealed Gumbel noise on their
// confidence.
func (s *Stepper) candidate(r *rand.Rand, o int, cond, uncond []float32, imgT, lo int) candidate {
	m, image := s.cfg.Text, o < s.imageLen
	if image {
		m = s.cfg.Image
	}
	pol := s.Policy(o)
	pol.Lo = lo
	l := pol.Logits(cond, uncond)
	p := softmax(l, 1)
	best := argmax(l)
	pick := best
	switch {
	case pol.Temperature == 0:
	case image: // multinomial sampling from the policy
		pick = sampleIndex(pol.Probs(l), r.Float64())
	default: // Gumbel-max as LLaDA samples: argmax(l + τ·g) is a draw from the policy too
		noisy := make([]float64, len(l))
		for k, x := range l {
			noisy[k] = x + pol.Temperature*gumbel(r)
		}
		pick = argmax(noisy)
	}
	var conf float64
	switch m.Remasking {
	case LowConfidence:
		conf = p[pick]
		if image {
			conf = math.Log(p[pick])
		}
	case Random:
		conf = r.Float64()
	case Margin:
		top1, top2 := topTwo(p)
		conf = top1 - top2
	case Entropy:
		for _, q := range p {
			if q > 0 {
				conf += q * math.Log(q) // −H: a sharper distribution scores higher
			}
		}
	}
	if image && m.RemaskTemperature > 0 {
		progress := float64(imgT+1) / float64(s.imgSteps)
		conf += m.RemaskTemperature * (1 - progress) * gumbel(r)
	}
	tok := pol.Choices[pick]
	held := !image && m.EndLast && s.tmpl.IsEnd(int(tok))
	return candidate{pos: o, token: tok, guess: pol.Choices[best], conf: conf, prob: p[pick], top: top(p, pol.Choices), held: held}
}

// top is the TopChoices most likely of the choices under p, most likely
// first, ties to the lower index.
func top(p []float64, choices []int32) []Choice {
	return topBy(p, func(k int) int32 { return choices[k] })
}

// topBy is the TopChoices most likely of p, most likely first, ties to
// the lower index, each named by id.
func topBy[T float32 | float64](p []T, id func(k int) int32) []Choice {
	out := make([]Choice, 0, TopChoices+1)
	for k, q := range p {
		i := len(out)
		for i > 0 && float64(out[i-1].P) < float64(q) {
			i--
		}
		if i < TopChoices {
			out = slices.Insert(out, i, Choice{id(k), float32(q)})
			out = out[:min(len(out), TopChoices)]
		}
	}
	return out
}

// guide applies classifier-free guidance to one logit: (1+w)·c − w·u,
// which moves away from the unconditional prediction for w > 0, or
// toward it, c + w·(u − c).
func guide(c float32, uncond []float32, id int, w float64, toward bool) float64 {
	switch {
	case w == 0 || uncond == nil:
		return float64(c)
	case toward:
		return float64(c) + w*(float64(uncond[id])-float64(c))
	}
	return (1+w)*float64(c) - w*float64(uncond[id])
}

// softmax of l/temperature, stable for any logits.
func softmax(l []float64, temperature float64) []float64 {
	m := math.Inf(-1)
	for _, x := range l {
		m = math.Max(m, x)
	}
	out := make([]float64, len(l))
	sum := 0.0
	for k, x := range l {
		out[k] = math.Exp((x - m) / temperature)
		sum += out[k]
	}
	for k := range out {
		out[k] /= sum
	}
	return out
}

// argmax returns the first index of the largest value.
func argmax[T float32 | float64](x []T) int {
	best := 0
	for k, v := range x {
		if v > x[best] {
			best = k
		}
	}
	return best
}

func topTwo(p []float64) (float64, float64) {
	a, b := math.Inf(-1), math.Inf(-1)
	for _, v := range p {
		if v > a {
			a, b = v, a
		} else if v > b {
			b = v
		}
	}
	return a, b
}

// sampleIndex draws from a distribution with a uniform u ∈ [0, 1).
func sampleIndex(p []float64, u float64) int {
	acc := 0.0
	for k, q := range p {
		acc += q
		if u < acc {
			return k
		}
	}
	return len(p) - 1
}

// gumbel draws standard Gumbel noise, −log(−log U).
func gumbel(r *rand.Rand) float64 {
	u := r.Float64()
	for u == 0 {
		u = r.Float64()
	}
	return -math.Log(-math.Log(u))
}
