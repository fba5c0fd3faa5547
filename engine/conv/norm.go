package conv

import (
	"fmt"
	"math"

	"parascope/engine/parallel"
)

// GroupNorm normalises each group of Channels/Groups neighbouring channels
// over all pixels to zero mean and unit variance (eps added to the
// variance, which is the biased one, as torch.nn.GroupNorm), then scales
// and shifts each channel by Gamma and Beta.
type GroupNorm struct {
	Groups      int
	Eps         float32
	Gamma, Beta []float32 // one per channel
}

// NewGroupNorm checks that the channels split into groups evenly.
func NewGroupNorm(groups int, eps float32, gamma, beta []float32) GroupNorm {
	if groups < 1 || len(gamma) != len(beta) || len(gamma)%groups != 0 {
		panic(fmt.Sprintf("conv: group norm of %d groups over %d gains and %d shifts", groups, len(gamma), len(beta)))
	}
	return GroupNorm{Groups: groups, Eps: eps, Gamma: gamma, Beta: beta}
}

// Forward writes the normalised x to dst (which may be x itself), then
// SiLU of it when silu is set: the pair every ResNet block and output
// head runs, done in one pass. Each picture has its own statistics.
func (g GroupNorm) Forward(dst, x Tensor, silu bool) {
	c := len(g.Gamma)
	x.mustBe(x.N, x.H, x.W, c, "group norm input")
	dst.mustBe(x.N, x.H, x.W, c, "group norm output")
	for i := range x.N {
		g.forward(dst.Image(i), x.Image(i), silu)
	}
}

func (g GroupNorm) forward(dst, x Tensor, silu bool) {
	c := len(g.Gamma)
	// Per-channel sums in float64, per chunk of pixels, then per group:
	// over 2^18 pixels a float32 sum would lose the mean's low digits.
	n := x.pixels()
	chunks := parallel.Workers()
	sums := make([][]float64, chunks)
	parallel.For(chunks, 1, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			s := make([]float64, 2*c)
			for p := ch * n / chunks; p < (ch+1)*n/chunks; p++ {
				for i, v := range x.Data[p*c : (p+1)*c] {
					s[i] += float64(v)
					s[c+i] += float64(v) * float64(v)
				}
			}
			sums[ch] = s
		}
	})
	per := c / g.Groups
	scale, shift := make([]float32, c), make([]float32, c)
	for gr := range g.Groups {
		var s, q float64
		for _, part := range sums {
			for i := gr * per; i < (gr+1)*per; i++ {
				s += part[i]
				q += part[c+i]
			}
		}
		count := float64(n * per)
		mean := s / count
		rstd := 1 / math.Sqrt(max(q/count-mean*mean, 0)+float64(g.Eps))
		for i := gr * per; i < (gr+1)*per; i++ {
			a := float64(g.Gamma[i]) * rstd
			scale[i] = float32(a)
			shift[i] = float32(float64(g.Beta[i]) - mean*a)
		}
	}
	parallel.For(n, 1024, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			src, out := x.Data[p*c:(p+1)*c], dst.Data[p*c:(p+1)*c]
			for i, v := range src {
				out[i] = v*scale[i] + shift[i]
			}
			if silu {
				siluInPlace(out)
			}
		}
	})
}

// SiLU applies x·sigmoid(x) to every value of t in place.
func SiLU(t Tensor) {
	parallel.For(len(t.Data), 1<<14, func(lo, hi int) { siluInPlace(t.Data[lo:hi]) })
}

// siluInPlace is x·sigmoid(x) = x / (1 + e^−x). The exponent is
// clamped to where e^t is a normal float32: beyond it the quotient is x
// or 0 to float32 precision anyway.
func siluInPlace(x []float32) {
	for i, v := range x {
		x[i] = v / (1 + exp(min(max(-v, -87), 88)))
	}
}

// exp is e^x in float32 for x in [−87, 88], to within 2 units in the last
// place, far faster than math.Exp and without branches: x = n·ln2 + r
// with |r| ≤ ln2/2, e^r by its Taylor series to r⁶, and 2^n put into the
// exponent bits. Adding and subtracting 1.5·2^23 rounds to the nearest
// integer.
func exp(x float32) float32 {
	const (
		log2e = 1.44269504
		ln2hi = 0.693145751953125 // ln2 split so n·ln2hi is exact
		ln2lo = 1.428606765330187e-06
		round = 12582912 // 1.5·2^23
	)
	fn := (x*log2e + round) - round
	r := x - fn*ln2hi - fn*ln2lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	return p * math.Float32frombits(uint32(int32(fn)+127)<<23)
}
