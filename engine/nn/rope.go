package nn

import (
	"math"

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
		for i := range sin {
			sin[i] = -sin[i]
		}
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

// RopeTable returns cos and sin [seq, hd/2], computed in float64; a device
// backend uploads the same table so both rotate identically.
func RopeTable(seq, hd int, theta float64) (cos, sin []float32) {
	half := hd / 2
	cos, sin = make([]float32, seq*half), make([]float32, seq*half)
	for p := range seq {
		for i := range half {
			a := float64(p) * math.Pow(theta, -2*float64(i)/float64(hd))
			cos[p*half+i], sin[p*half+i] = float32(math.Cos(a)), float32(math.Sin(a))
		}
	}
	return cos, sin
}
