package nn

import (
	"maps"
	"math"
	"slices"
	"sync"

	"parascope/engine/parallel"
)

// ---- RMSNorm: out = x / sqrt(mean(x²) + eps) · w ---------------------------

func rmsnormForward(out, rstd, x, w []float32, rows, d int, eps float32) {
	parallel.For(rows, grain/d+1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr := x[r*d : (r+1)*d]
			var ss float32
			for _, v := range xr {
				ss += v * v
			}
			s := float32(1 / math.Sqrt(float64(ss/float32(d)+eps)))
			rstd[r] = s
			o := out[r*d : (r+1)*d]
			for j, v := range xr {
				o[j] = v * s * w[j]
			}
		}
	})
}

// rmsnormBackward: with n = x·s, s = 1/rms(x), y = n·w,
// dx = s·(dy·w) − s³/d · x · Σ(dy·w·x) and dw = Σ_rows dy·n.
func rmsnormBackward(dx, dw, dOut, x, w, rstd []float32, rows, d int) {
	var mu sync.Mutex
	parts := map[int][]float32{} // partial dw by first row of the chunk
	parallel.For(rows, grain/d+1, func(lo, hi int) {
		part := make([]float32, d)
		for r := lo; r < hi; r++ {
			xr, dy, dxr := x[r*d:(r+1)*d], dOut[r*d:(r+1)*d], dx[r*d:(r+1)*d]
			s := rstd[r]
			var dot float32
			for j := range xr {
				dot += dy[j] * w[j] * xr[j]
				part[j] += dy[j] * xr[j] * s
			}
			c := s * s * s * dot / float32(d)
			for j := range xr {
				dxr[j] += s*dy[j]*w[j] - c*xr[j]
			}
		}
		mu.Lock()
		parts[lo] = part
		mu.Unlock()
	})
	// Summed in row order, so the result does not depend on scheduling.
	for _, lo := range slices.Sorted(maps.Keys(parts)) {
		for j, v := range parts[lo] {
			dw[j] += v
		}
	}
}
