package bf16

import (
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want uint16
	}{
		{1, 0x3f80}, {-2, 0xc000}, {0, 0}, {1.00390625, 0x3f80}, // a tie goes to even
		{1.01171875, 0x3f82}, // a tie goes to even, upwards
		{1.0078125 + 1e-7, 0x3f81},
		{float32(math.Inf(1)), 0x7f80},
	} {
		if got := FromF32(c.in); got != c.want {
			t.Errorf("FromF32(%v) = %#x, want %#x", c.in, got, c.want)
		}
	}
	for h := range 1 << 16 {
		v := ToF32(uint16(h))
		if v != v { // NaN patterns need not survive
			continue
		}
		if got := FromF32(v); got != uint16(h) {
			t.Fatalf("FromF32(ToF32(%#x)) = %#x", h, got)
		}
	}
	x := []float32{0.1, -3.3}
	h := Round(x)
	if x[0] != ToF32(h[0]) || x[1] != ToF32(h[1]) || x[0] == 0.1 {
		t.Errorf("Round: %v, %#x", x, h)
	}
}
