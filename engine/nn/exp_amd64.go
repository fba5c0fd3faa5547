//go:build amd64 && !purego

package nn

import "parascope/engine/cpu"

//go:noescape
func expAffineAVX512(dst, src *float32, n int, a, b float32, table *[numExpConsts][16]float32, partial *[16]float32)

//go:noescape
func expAffineAVX2(dst, src *float32, n int, a, b float32, table *[numExpConsts][16]float32, partial *[16]float32)

// expAffineVector does the longest prefix the vector unit can and returns
// its length and sum.
func expAffineVector(dst, src []float32, a, b float32) (int, float32) {
	var part [16]float32
	var k int
	switch {
	case cpu.AVX512 && len(src) >= 16:
		k = len(src) &^ 15
		expAffineAVX512(&dst[0], &src[0], k, a, b, &expTable, &part)
	case cpu.AVX2 && len(src) >= 8:
		k = len(src) &^ 7
		expAffineAVX2(&dst[0], &src[0], k, a, b, &expTable, &part)
	default:
		return 0, 0
	}
	var sum float32
	for _, p := range part {
		sum += p
	}
	return k, sum
}

//go:noescape
func maxAVX2(x *float32, n int, partial *[8]float32)

//go:noescape
func scaleAVX2(x *float32, n int, s float32)

// maxVector returns the maximum of the longest prefix of x the vector
// unit can do, and its length.
func maxVector(x []float32) (int, float32) {
	if !cpu.AVX2 || len(x) < 8 {
		return 0, 0
	}
	var part [8]float32
	k := len(x) &^ 7
	maxAVX2(&x[0], k, &part)
	return k, max(part[0], part[1], part[2], part[3], part[4], part[5], part[6], part[7])
}

// scaleVector multiplies the longest prefix of x the vector unit can do by
// s and returns its length.
func scaleVector(x []float32, s float32) int {
	if !cpu.AVX2 || len(x) < 8 {
		return 0
	}
	k := len(x) &^ 7
	scaleAVX2(&x[0], k, s)
	return k
}
