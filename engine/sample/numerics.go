package sample

import (
	"math"

	"parascope/engine/bf16"
)

// The official generators run an 8B model in bfloat16 under PyTorch: its
// logits, guidance sums, image probabilities and their logarithms are
// bfloat16 tensors, each operation computed in float32 and rounded. These
// helpers reproduce that arithmetic so that the official rules reveal what
// the published code reveals, ties included.

// r16 rounds x to float32, then to bfloat16, as a PyTorch op on bfloat16
// tensors does with its float32 result.
func r16(x float64) float64 { return float64(bf16.ToF32(bf16.FromF32(float32(x)))) }

// f32 rounds x to float32.
func f32(x float64) float64 { return float64(float32(x)) }

// log16 is torch.log of a bfloat16 tensor.
func log16(x float64) float64 { return r16(math.Log(x)) }

// bf16Max is torch.finfo(torch.bfloat16).max, the confidence the official
// code gives positions already known.
var bf16Max = float64(bf16.ToF32(0x7f7f))

// softmax16 is a bfloat16 softmax: exponentials and their sum in float32,
// each probability rounded to bfloat16.
func softmax16(x []float32) []float64 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	e := make([]float64, len(x))
	sum := 0.0
	for k, v := range x {
		e[k] = f32(math.Exp(float64(v - m)))
		sum += e[k]
	}
	sum = f32(sum)
	for k := range e {
		e[k] = r16(e[k] / sum)
	}
	return e
}

// multinomial draws an index from unnormalised weights p with a uniform u:
// the first whose running sum exceeds u times the total.
func multinomial(p []float64, u float64) int {
	total := 0.0
	for _, q := range p {
		total += q
	}
	acc := 0.0
	for k, q := range p {
		acc += q
		if u*total < acc {
			return k
		}
	}
	return len(p) - 1
}

// linspace32 is torch.linspace in float32: from both ends towards the
// middle, as PyTorch computes it.
func linspace32(start, end float64, n int) []float64 {
	if n == 1 {
		return []float64{start}
	}
	step := f32((end - start) / float64(n-1))
	out := make([]float64, n)
	for i := range n {
		if i < n/2 {
			out[i] = f32(start + f32(step*float64(i)))
		} else {
			out[i] = f32(end - f32(step*float64(n-i-1)))
		}
	}
	return out
}

// cosineMasked is the official image schedule's masked fraction after
// global step i of S, computed in float32 as torch.cos of a float32 tensor.
func cosineMasked(i, S int) float64 {
	r := float64(i+1) / float64(S)
	return f32(math.Cos(f32(f32(f32(r)*f32(math.Pi)) * 0.5)))
}

// draw is the official rules' source of randomness: a uniform in [0, 1)
// for each (seed, step, stream, index), computed by hashing rather than
// drawn in sequence, so that every draw is fixed whatever the order of
// the loops that ask for them (and a reference port can ask for the same).
func draw(seed uint64, step, stream, index int) float64 {
	return draws(seed, step, stream).at(index)
}

// stream is the draws of one (seed, step, use): the hash of its prefix
// made once.
type stream uint64

func draws(seed uint64, step, use int) stream {
	return stream(splitmix(splitmix(splitmix(seed)+uint64(step)) + uint64(use)))
}

// at is the stream's uniform at index.
func (s stream) at(index int) float64 {
	return float64(splitmix(uint64(s)+uint64(index))>>11) * 0x1p-53
}

// Streams of draws, one per use.
const (
	streamTextNoise   = 1
	streamTextRandom  = 2
	streamImageSample = 3
	streamImageNoise  = 4
	streamImageFill   = 5
)

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// uniform16 is a bfloat16 uniform, as torch.rand gives in that dtype.
func uniform16(u float64) float64 { return math.Floor(u*256) / 256 }

// normal16 is a bfloat16 standard normal (Box–Muller) from two uniforms.
func normal16(u1, u2 float64) float64 {
	return r16(math.Sqrt(-2*math.Log(1-u1)) * math.Cos(2*math.Pi*u2))
}
