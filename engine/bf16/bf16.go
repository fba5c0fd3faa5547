// Package bf16 converts between float32 and bfloat16, the high half of a
// float32, which is how checkpoints store most large models' weights.
package bf16

import "math"

// ToF32 widens a bfloat16 bit pattern to float32; every bfloat16 is one.
func ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// FromF32 rounds a finite float32 to bfloat16, to nearest with ties to
// even.
func FromF32(v float32) uint16 {
	b := math.Float32bits(v)
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// Round rounds every value of x to bfloat16 in place and returns their bit
// patterns, so x then holds exactly what the patterns widen to.
func Round(x []float32) []uint16 {
	h := make([]uint16, len(x))
	for i, v := range x {
		h[i] = FromF32(v)
		x[i] = ToF32(h[i])
	}
	return h
}
