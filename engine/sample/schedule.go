package sample

import "math"

// maskedFraction is the share of a span still masked at progress r ∈ [0, 1]
// under each schedule. Exponential reveals most tokens early.
func maskedFraction(schedule string, r float64) float64 {
	switch schedule {
	case "linear":
		return 1 - r
	case "cosine":
		return math.Cos(math.Pi / 2 * r)
	}
	const rate = 5.0
	return (math.Exp(-rate*r) - math.Exp(-rate)) / (1 - math.Exp(-rate))
}

// textCounts says how many of a block's m masked tokens each of its k
// steps reveals. Linear is LLaDA's even split, m/k each and one more for
// the first m mod k steps; the other schedules reveal down to
// floor(m·fraction) after each step and everything at the last.
func textCounts(schedule string, m, k int) []int {
	out := make([]int, k)
	if schedule == "linear" {
		for i := range out {
			out[i] = m / k
			if i < m%k {
				out[i]++
			}
		}
		return out
	}
	left := m
	for i := range out {
		after := int(math.Floor(float64(m) * maskedFraction(schedule, float64(i+1)/float64(k))))
		if i == k-1 {
			after = 0
		}
		out[i], left = left-after, after
	}
	return out
}

// imageMaskedAfter is MaskGIT's rule: after image step t of T, with unknown
// of n tokens still masked, floor(n·fraction((t+1)/T)) stay masked, clamped
// to [1, unknown−1] (so each step reveals one, and one is left for later)
// before the last step, and none after it.
func imageMaskedAfter(schedule string, n, unknown, t, T int) int {
	if t >= T-1 {
		return 0
	}
	after := int(math.Floor(float64(n) * maskedFraction(schedule, float64(t+1)/float64(T))))
	return max(1, min(unknown-1, after))
}

// imageStepList returns the steps of an S-step timeline on which the image
// is updated: all of them, or the T of round(linspace(S/4, S−1, T)) as in
// MMaDA-Parallel (rounding half to even, as NumPy does; repeated steps
// count once).
func imageStepList(S, T int) []int {
	var out []int
	if T == 0 {
		for i := range S {
			out = append(out, i)
		}
		return out
	}
	lo, hi := float64(S/4), float64(S-1)
	for i := range T {
		v := lo
		if T > 1 {
			v = lo + (hi-lo)*float64(i)/float64(T-1)
		}
		s := int(math.RoundToEven(v))
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}
