package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"parascope/engine/cpu"
)

// withPaths runs f once per vector path this machine has.
func withPaths(t *testing.T, f func(t *testing.T)) {
	for _, p := range cpu.Paths() {
		restore := p.Use()
		t.Run(p.Name, f)
		restore()
	}
}

func TestExpAffine(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 1))
		for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 33, 1000} {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(r.NormFloat64() * 30)
			}
			if n > 4 {
				src[0], src[1], src[2], src[3] = -200, 90, 0, -87
			}
			dst := make([]float32, n)
			a, b := float32(-0.7), float32(1.5)
			sum := expAffine(dst, src, a, b)
			want := 0.0
			for i, x := range src {
				arg := float64(a)*float64(x) + float64(b)
				w := math.Exp(arg)
				want += float64(float32(w))
				got := float64(dst[i])
				if w > math.MaxFloat32 {
					if !math.IsInf(got, 1) && got < 1e38 {
						t.Fatalf("n=%d: exp(%g) = %g, want overflow", n, arg, got)
					}
					continue
				}
				if w < 1e-37 {
					if got > 1e-37 {
						t.Fatalf("n=%d: exp(%g) = %g, want underflow", n, arg, got)
					}
					continue
				}
				// a few ulps, plus the rounding of the argument to float32
				if math.Abs(got-w) > 2e-7*(2+math.Abs(arg))*w {
					t.Fatalf("n=%d i=%d: exp(%g) = %g, want %g (rel %.2g)", n, i, arg, got, w, math.Abs(got-w)/w)
				}
			}
			if !math.IsInf(want, 1) && math.Abs(float64(sum)-want) > 1e-5*want {
				t.Fatalf("n=%d: sum %g, want %g", n, sum, want)
			}
		}
	})
}

func BenchmarkExpAffine(b *testing.B) {
	src := make([]float32, 4096)
	for i := range src {
		src[i] = float32(i%200) / -20
	}
	dst := make([]float32, len(src))
	for b.Loop() {
		expAffine(dst, src, 1, 0)
	}
	b.ReportMetric(float64(b.N*len(src))/b.Elapsed().Seconds()/1e9, "Gexp/s")
}

func TestMaxAndScale(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 3))
		for _, n := range []int{1, 7, 8, 9, 16, 200, 203} {
			x := make([]float32, n)
			want := float32(math.Inf(-1))
			for i := range x {
				x[i] = float32(r.NormFloat64())
				want = max(want, x[i])
			}
			x[r.IntN(n)] = want + 1 // the maximum anywhere, the tail included
			if got := maxOf(x); got != want+1 {
				t.Fatalf("n=%d: max %g, want %g", n, got, want+1)
			}
			y := append([]float32(nil), x...)
			scale(y, 0.5)
			for i := range y {
				if y[i] != x[i]*0.5 {
					t.Fatalf("n=%d: scaled[%d] = %g, want %g", n, i, y[i], x[i]*0.5)
				}
			}
		}
	})
}
