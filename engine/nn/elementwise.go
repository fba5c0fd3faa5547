package nn

import (
	"math"

	"parascope/engine/parallel"
)

// Loops over n elements split into chunks of at least this many.
const grain = 1 << 14

func addTo(dst, src []float32) {
	mustLen("add", len(src), len(dst))
	parallel.For(len(dst), grain, func(lo, hi int) {
		d, s := dst[lo:hi], src[lo:hi]
		for i := range d {
			d[i] += s[i]
		}
	})
}

// sumSquares adds in float64 per chunk, then the chunks in order, so the
// result does not depend on scheduling.
func sumSquares(x []float32) float64 {
	chunks := (len(x) + grain - 1) / grain
	parts := make([]float64, chunks)
	parallel.For(chunks, 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			s := 0.0
			for _, v := range x[c*grain : min((c+1)*grain, len(x))] {
				s += float64(v) * float64(v)
			}
			parts[c] = s
		}
	})
	total := 0.0
	for _, p := range parts {
		total += p
	}
	return total
}

func scaleAll(x []float32, s float32) {
	parallel.For(len(x), grain, func(lo, hi int) { scale(x[lo:hi], s) })
}

// expf is exp for float32 accurate to about one ulp, several times faster
// than math.Exp: x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by a degree-6
// minimax polynomial, 2^n put straight into the exponent bits.
func expf(x float32) float32 {
	switch {
	case x > 88.72:
		return float32(math.Inf(1))
	case x < -87.33:
		return 0
	case x != x:
		return x
	}
	const ln2hi, ln2lo = 0.693359375, -2.12194440e-4
	n := float32(math.Floor(float64(x*1.44269504088896341 + 0.5)))
	r := x - n*ln2hi - n*ln2lo
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	e := p*r*r + r + 1
	return e * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// ---- SwiGLU: out = silu(gate)·up, silu(g) = g·σ(g) = g/(1+e^-g) ------------

func swigluForward(out, gate, up []float32) {
	parallel.For(len(out), grain, func(lo, hi int) {
		o := out[lo:hi]
		expAffine(o, gate[lo:hi], -1, 0) // e^-g; +Inf for very negative g gives silu = 0
		for i := range o {
			j := lo + i
			o[i] = gate[j] * up[j] / (1 + o[i])
		}
	})
}

// swigluBackward: dup = dout·silu(g), dgate = dout·up·σ(g)·(1 + g·(1 − σ(g))).
func swigluBackward(dGate, dUp, dOut, gate, up []float32) {
	parallel.For(len(dOut), grain, func(lo, hi int) {
		dg := dGate[lo:hi]
		expAffine(dg, gate[lo:hi], -1, 0)
		for i := range dg {
			j := lo + i
			g, s := gate[j], 1/(1+dg[i])
			dUp[j] = dOut[j] * g * s
			dg[i] = dOut[j] * up[j] * s * (1 + g*(1-s))
		}
	})
}

// ---- AdamW ----------------------------------------------------------------

// adamw applies one decoupled-weight-decay Adam step (Loshchilov & Hutter),
// in the same order of operations as PyTorch's AdamW.
func adamw(p, g, m, v []float32, h AdamW) {
	bc1 := 1 - math.Pow(float64(h.Beta1), float64(h.Step))
	bc2 := 1 - math.Pow(float64(h.Beta2), float64(h.Step))
	stepSize := float32(float64(h.LR) / bc1)
	sqrtBC2 := float32(math.Sqrt(bc2))
	decay := 1 - h.LR*h.WeightDecay
	parallel.For(len(p), grain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			m[i] = h.Beta1*m[i] + (1-h.Beta1)*g[i]
			v[i] = h.Beta2*v[i] + (1-h.Beta2)*g[i]*g[i]
			denom := float32(math.Sqrt(float64(v[i])))/sqrtBC2 + h.Eps
			p[i] = p[i]*decay - stepSize*m[i]/denom
		}
	})
}
