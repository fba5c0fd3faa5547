package sample

import (
	"math"
	"math/rand/v2"

	"parascope/engine/token"
)

// candidate is a masked position's proposal at one step.
type candidate struct {
	pos   int     // output index
	token int32   // what would be committed
	guess int32   // the most likely token
	conf  float64 // the remasking rule's score: higher commits first
	held  bool    // held back (EndLast): commits after every other candidate
}

// candidate proposes a token for output position o from its logits (and
// the unconditional logits under guidance). Image positions on the
// image's timeline step imgT get MaskGIT's annealed Gumbel noise on their
// confidence.
func (s *Stepper) candidate(r *rand.Rand, o int, cond, uncond []float32, imgT int) candidate {
	m, ids := s.cfg.Text, s.textIDs
	image := o < ImageTokens
	if image {
		m, ids = s.cfg.Image, nil
	}
	// The logits this modality may take, guided: (1+w)·cond − w·uncond.
	var l []float64
	if image {
		off := s.vocab.ImageOffset()
		l = make([]float64, s.vocab.Codes())
		for k := range l {
			l[k] = guide(cond[off+k], uncond, off+k, m.CFG)
		}
	} else {
		l = make([]float64, len(ids))
		for k, id := range ids {
			l[k] = guide(cond[id], uncond, id, m.CFG)
		}
	}
	idOf := func(k int) int32 {
		if image {
			return int32(s.vocab.ImageOffset() + k)
		}
		return int32(ids[k])
	}
	p := softmax(l, 1)
	best := argmax(l)
	pick := best
	switch {
	case m.Temperature == 0:
	case image: // multinomial sampling from softmax(l/τ)
		pick = sampleIndex(softmax(l, m.Temperature), r.Float64())
	default: // Gumbel-max: argmax(l + τ·g)
		noisy := make([]float64, len(l))
		for k, x := range l {
			noisy[k] = x + m.Temperature*gumbel(r)
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
	tok := idOf(pick)
	held := !image && m.EndLast && (tok == token.EOS || tok == token.Pad)
	return candidate{pos: o, token: tok, guess: idOf(best), conf: conf, held: held}
}

// guide applies classifier-free guidance to one logit: (1+w)·c − w·u,
// which moves away from the unconditional prediction for w > 0.
func guide(c float32, uncond []float32, id int, w float64) float64 {
	if w == 0 || uncond == nil {
		return float64(c)
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
func argmax(x []float64) int {
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
