package nn

import "math"

// Vectorised exp for softmax, SiLU and cross-entropy: the same range
// reduction and polynomial as expf, 8 or 16 lanes at a time.

// expConst indexes the constant table the assembly reads; each row holds
// one constant repeated across 16 lanes.
const (
	cLog2e = iota
	cLn2Hi
	cLn2Lo
	cP0
	cP1
	cP2
	cP3
	cP4
	cP5
	cOne
	cHi
	cLo
	cBias // 127 as an integer, for the exponent bits
	numExpConsts
)

var expTable = func() (t [numExpConsts][16]float32) {
	vals := [numExpConsts]float32{
		cLog2e: 1.44269504088896341, cLn2Hi: 0.693359375, cLn2Lo: -2.12194440e-4,
		cP0: 1.9875691500e-4, cP1: 1.3981999507e-3, cP2: 8.3334519073e-3,
		cP3: 4.1665795894e-2, cP4: 1.6666665459e-1, cP5: 5.0000001201e-1,
		cOne: 1, cHi: 88.72, cLo: -87.33, cBias: math.Float32frombits(127),
	}
	for i, v := range vals {
		for j := range t[i] {
			t[i][j] = v
		}
	}
	return t
}()

// expAffine sets dst[i] = exp(a·src[i] + b) and returns the sum of dst.
// dst and src may be the same slice.
func expAffine(dst, src []float32, a, b float32) float32 {
	n := len(src)
	dst = dst[:n]
	done, sum := expAffineVector(dst, src, a, b)
	for i := done; i < n; i++ {
		e := expf(a*src[i] + b)
		dst[i] = e
		sum += e
	}
	return sum
}

// maxOf returns the largest element of a non-empty slice.
func maxOf(x []float32) float32 {
	done, m := maxVector(x)
	if done == 0 {
		m = x[0]
	}
	for _, v := range x[done:] {
		m = max(m, v)
	}
	return m
}

// scale multiplies every element of x by s.
func scale(x []float32, s float32) {
	for i := scaleVector(x, s); i < len(x); i++ {
		x[i] *= s
	}
}
