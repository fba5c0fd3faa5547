package nn

import (
	"math"
	"sync"

	"parascope/engine/parallel"
)

// ---- RoPE (rotate-half convention, as LLaDA and HF LLaMA) ------------------
// For pair (i, i+hd/2) of each head at position p, with angle
// p·θ^(-2i/hd): y_i = x_i·cos − x_{i+hd/2}·sin, y_{i+hd/2} = x_{i+hd/2}·cos + x_i·sin.
// The rotation is orthogonal, so its backward is the inverse rotation.

func rope(x []float32, batch, seq, heads, hd int, theta float64, inverse bool) {
	half := hd / 2
	cos, sin := RopeTable(seq, hd, theta)
	if inverse {
		sin = negated(seq, hd, theta, sin)
	}
	d := heads * hd
	parallel.For(batch*seq, grain/d+1, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			p := row % seq
			c, s := cos[p*half:(p+1)*half], sin[p*half:(p+1)*half]
			for h := range heads {
				v := x[row*d+h*hd : row*d+(h+1)*hd]
				for i := range half {
					a, b := v[i], v[i+half]
					v[i] = a*c[i] - b*s[i]
					v[i+half] = b*c[i] + a*s[i]
				}
			}
		}
	})
}

// ropeKey names a table; tables are built once and shared, read-only.
type ropeKey struct {
	seq, hd int
	theta   float64
	inverse bool
}

var ropeTables sync.Map // ropeKey → [2][]float32

// RopeTable returns cos and sin [seq, hd/2], computed in float64 once per
// shape and shared (callers must not write to them); a device backend
// uploads the same table so both rotate identically.
func RopeTable(seq, hd int, theta float64) (cos, sin []float32) {
	k := ropeKey{seq, hd, theta, false}
	if t, ok := ropeTables.Load(k); ok {
		pair := t.([2][]float32)
		return pair[0], pair[1]
	}
	half := hd / 2
	cos, sin = make([]float32, seq*half), make([]float32, seq*half)
	for p := range seq {
		for i := range half {
			a := float64(p) * math.Pow(theta, -2*float64(i)/float64(hd))
			cos[p*half+i], sin[p*half+i] = float32(math.Cos(a)), float32(math.Sin(a))
		}
	}
	ropeTables.Store(k, [2][]float32{cos, sin})
	return cos, sin
}

// negated is −sin for the inverse rotation, also built once.
func negated(seq, hd int, theta float64, sin []float32) []float32 {
	k := ropeKey{seq, hd, theta, true}
	if t, ok := ropeTables.Load(k); ok {
		return t.([2][]float32)[1]
	}
	neg := make([]float32, len(sin))
	for i, v := range sin {
		neg[i] = -v
	}
	ropeTables.Store(k, [2][]float32{nil, neg})
	return neg
}
