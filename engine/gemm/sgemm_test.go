package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"parascope/engine/bf16"
)

// operands builds random A, B and C for op(A) m×k and op(B) k×n, with
// leading dimensions pad elements wider than needed.
type operands struct {
	transA, transB bool
	m, n, k        int
	a, b, c        []float32
	lda, ldb, ldc  int
}

func newOperands(rng *rand.Rand, transA, transB bool, m, n, k, pad int) *operands {
	o := &operands{transA: transA, transB: transB, m: m, n: n, k: k}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	o.lda, o.ldb, o.ldc = max(colsA, 1)+pad, max(colsB, 1)+pad, max(n, 1)+pad
	o.a = randSlice(rng, rowsA*o.lda)
	o.b = randSlice(rng, rowsB*o.ldb)
	o.c = randSlice(rng, m*o.ldc)
	return o
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*rng.Float32() - 1
	}
	return s
}

func at(x []float32, ld int, trans bool, r, c int) float64 {
	if trans {
		return float64(x[c*ld+r])
	}
	return float64(x[r*ld+c])
}

// problem is the call of sgemm on these operands, into c.
func (o *operands) problem(alpha float32, c []float32) problem {
	return problem{transA: o.transA, transB: o.transB, m: o.m, n: o.n, k: o.k, alpha: alpha,
		a: o.a, lda: o.lda, b: o.b, ldb: o.ldb, c: c, ldc: o.ldc}
}

func (o *operands) run(kern *kernel, alpha, beta float32, c []float32) {
	sgemm(kern, o.problem(alpha, c), beta)
}

// check runs sgemm on a copy of C and compares it with a float64 triple
// loop; the tolerance scales with k and with the magnitude of the terms.
func (o *operands) check(t *testing.T, kern *kernel, alpha, beta float32) {
	t.Helper()
	c0 := append([]float32(nil), o.c...)
	if beta == 0 {
		for i := range c0 {
			c0[i] = float32(math.NaN())
		}
	}
	got := append([]float32(nil), c0...)
	o.run(kern, alpha, beta, got)
	for i := range o.m {
		for j := range o.n {
			var sum, mag float64
			for p := range o.k {
				ab := at(o.a, o.lda, o.transA, i, p) * at(o.b, o.ldb, o.transB, p, j)
				sum += ab
				mag += math.Abs(ab)
			}
			want := float64(alpha) * sum
			mag *= math.Abs(float64(alpha))
			if beta != 0 {
				cij := float64(beta) * float64(c0[i*o.ldc+j])
				want += cij
				mag += math.Abs(cij)
			}
			g := float64(got[i*o.ldc+j])
			if !(math.Abs(g-want) <= 1e-6*float64(o.k+2)*(mag+1e-30)) {
				t.Fatalf("%s transA=%v transB=%v %dx%dx%d alpha=%v beta=%v: C[%d,%d] = %v, want %v",
					kern.name, o.transA, o.transB, o.m, o.n, o.k, alpha, beta, i, j, g, want)
			}
		}
		// Padding between rows of C must be left alone.
		for j := o.n; j < o.ldc && i*o.ldc+j < len(got); j++ {
			if g, w := got[i*o.ldc+j], c0[i*o.ldc+j]; g != w && !(g != g && w != w) {
				t.Fatalf("%s: padding C[%d,%d] changed from %v to %v", kern.name, i, j, w, g)
			}
		}
	}
}

func TestKernelsAvailable(t *testing.T) {
	var names []string
	for _, k := range kernels {
		names = append(names, k.name)
	}
	t.Logf("kernels: %s; Sgemm uses %s", strings.Join(names, ", "), best().name)
}

var shapes = [][3]int{ // m, n, k
	{1, 1, 1}, {1, 1, 7}, {3, 5, 7}, {7, 3, 1}, {4, 4, 4}, {6, 16, 9}, {12, 32, 5},
	{13, 33, 17}, {17, 33, 100}, {100, 17, 33}, {33, 100, 17}, {31, 47, 257},
	{64, 64, 64}, {65, 70, 300}, {200, 200, 32}, {1, 300, 300}, {300, 1, 300},
	{1000, 5, 5}, {5, 600, 5}, {130, 700, 20},
	{0, 5, 5}, {5, 0, 5}, {0, 0, 0}, {9, 10, 0},
}

func TestSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, kern := range kernels {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, s := range shapes {
				for _, pad := range []int{0, 3} {
					o := newOperands(rng, tr[0], tr[1], s[0], s[1], s[2], pad)
					for _, alpha := range []float32{1, 0.5} {
						for _, beta := range []float32{0, 1, 0.3} {
							o.check(t, kern, alpha, beta)
						}
					}
				}
			}
		}
	}
}

// TestSgemmLarge covers the parallel split with m past mcMax per worker
// and k past kcMax, which the small shapes above do not reach.
func TestSgemmLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("slow reference")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kern := range kernels {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			newOperands(rng, tr[0], tr[1], 2000, 40, 300, 1).check(t, kern, 0.5, 0.3)
			newOperands(rng, tr[0], tr[1], 20, 1100, 300, 0).check(t, kern, 1, 1)
		}
	}
}

func TestSgemmAlphaZero(t *testing.T) {
	c := []float32{1, 2, float32(math.NaN()), 4}
	// A and B are not read when alpha is 0, so nil is fine.
	Sgemm(false, false, 2, 2, 3, 0, nil, 3, nil, 2, 0.5, c, 2)
	if c[0] != 0.5 || c[1] != 1 || c[3] != 2 {
		t.Fatalf("alpha=0: C = %v, want beta·C", c)
	}
	Sgemm(false, false, 2, 2, 3, 0, nil, 3, nil, 2, 0, c, 2)
	for _, v := range c {
		if v != 0 {
			t.Fatalf("alpha=0 beta=0: C = %v, want zeros", c)
		}
	}
}

func TestSgemmConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for _, s := range [][3]int{{37, 29, 41}, {200, 200, 32}, {96, 128, 80}} {
				o := newOperands(rng, g%2 == 1, g%3 == 1, s[0], s[1], s[2], g%2)
				o.check(t, best(), 1, 0)
			}
		}()
	}
	wg.Wait()
}

func TestSgemmPanics(t *testing.T) {
	a, b, c := make([]float32, 6), make([]float32, 6), make([]float32, 4)
	cases := map[string]func(){
		"short A": func() { Sgemm(false, false, 2, 2, 3, 1, a[:5], 3, b, 2, 0, c, 2) },
		"short B": func() { Sgemm(false, true, 2, 2, 3, 1, a, 3, b[:5], 3, 0, c, 2) },
		"short C": func() { Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c[:3], 2) },
		"bad lda": func() { Sgemm(false, false, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2) },
		"bad ldc": func() { Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 1) },
		"neg m":   func() { Sgemm(false, false, -1, 2, 3, 1, a, 3, b, 2, 0, c, 2) },
	}
	for name, f := range cases {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.HasPrefix(fmt.Sprint(r), "gemm: ") {
					t.Errorf("%s: recovered %v, want a gemm panic", name, r)
				}
			}()
			f()
		}()
	}
}

// TestPackHelpers checks the packing helpers against their pure-Go
// versions, which the pure-Go kernel's runs of TestSgemm do not reach on
// amd64.
func TestPackHelpers(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, w := range []int{4, 6, 12, 16, 32} {
		for _, kc := range []int{0, 1, 3, 4, 5, 8, 13, 256} {
			ld := w + kc + 5
			src := randSlice(rng, (kc+4)*ld) // enough for both layouts
			for name, f := range map[string][2]func([]float32, int, []float32, int, int, float32){
				"gather4":   {gather4, gather4Go},
				"copyPanel": {copyPanel, copyPanelGo},
			} {
				got := make([]float32, max(kc*w, 1))
				want := make([]float32, max(kc*w, 1))
				f[0](got, w, src, ld, kc, 0.5)
				f[1](want, w, src, ld, kc, 0.5)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%s w=%d kc=%d: dst[%d] = %v, want %v", name, w, kc, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestSgemmBF16 checks that a bfloat16 B gives, to the bit, Sgemm's product
// with B widened, through every kernel, layout and edge.
func TestSgemmBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, kern := range kernels {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, s := range append(shapes, [3]int{70, 130, 300}, [3]int{9, 600, 1000}) {
				for _, pad := range []int{0, 3} {
					o := newOperands(rng, tr[0], tr[1], s[0], s[1], s[2], pad)
					bh := bf16.Round(o.b)
					for _, beta := range []float32{0, 0.3} {
						want := append([]float32(nil), o.c...)
						o.run(kern, 0.5, beta, want)
						got := append([]float32(nil), o.c...)
						p := o.problem(0.5, got)
						p.b, p.bh = nil, bh
						sgemm(kern, p, beta)
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s trans=%v %v beta %v: C[%d] = %v, want %v", kern.name, tr, s, beta, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

func TestSgemmBF16Panics(t *testing.T) {
	a, b, c := make([]float32, 6), make([]uint16, 6), make([]float32, 4)
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "B has 5 elements") {
			t.Errorf("short B: recovered %v, want a gemm panic naming B", r)
		}
	}()
	SgemmBF16(false, true, 2, 2, 3, 1, a, 3, b[:5], 3, 0, c, 2)
}

// TestGatherBF16 checks the bfloat16 transpose against its pure-Go
// version at every residue of kc.
func TestGatherBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, w := range []int{8, 16, 32} {
		for kc := range 20 {
			ld := kc + 3
			src := bf16.Round(randSlice(rng, 8*ld))
			got, want := make([]float32, max(kc*w, 1)), make([]float32, max(kc*w, 1))
			gatherBF16x8(got, w, src, ld, kc)
			gatherBF16x8Go(want, w, src, ld, kc)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("w=%d kc=%d: dst[%d] = %v, want %v", w, kc, i, got[i], want[i])
				}
			}
		}
	}
}

func benchSgemm(b *testing.B, kern *kernel, transA, transB bool, m, n, k int) {
	o := newOperands(rand.New(rand.NewPCG(5, 6)), transA, transB, m, n, k, 0)
	for b.Loop() {
		o.run(kern, 1, 0, o.c)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkSgemm(b *testing.B) {
	for _, n := range []int{256, 512, 1024} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchSgemm(b, best(), false, false, n, n, n) })
	}
	// Transformer shapes: d_model 256, MLP 768, 1600 tokens, head dim 32.
	for _, s := range []struct {
		name           string
		transA, transB bool
		m, n, k        int
	}{
		{"NT", false, true, 1600, 768, 256},  // MLP up-projection x·Wᵀ
		{"NT", false, true, 1600, 256, 768},  // MLP down-projection
		{"NN", false, false, 1600, 256, 768}, // dX = dY·W
		{"TN", true, false, 768, 256, 1600},  // dW = dYᵀ·X
		{"NT", false, true, 200, 200, 32},    // attention scores Q·Kᵀ, one head
	} {
		name := fmt.Sprintf("%s/%dx%dx%d", s.name, s.m, s.n, s.k)
		b.Run(name, func(b *testing.B) { benchSgemm(b, best(), s.transA, s.transB, s.m, s.n, s.k) })
	}
}

// BenchmarkSgemmBF16 times the products of one LLaDA-8B layer over 512
// tokens (x·Wᵀ) with float32 and bfloat16 weights; the ratio of their
// GFLOP/s is the cost of widening B while packing.
func BenchmarkSgemmBF16(b *testing.B) {
	for _, s := range [][3]int{{512, 4096, 4096}, {512, 12288, 4096}, {512, 4096, 12288}} {
		m, n, k := s[0], s[1], s[2]
		o := newOperands(rand.New(rand.NewPCG(5, 6)), false, true, m, n, k, 0)
		bh := bf16.Round(o.b)
		name := fmt.Sprintf("%dx%dx%d", m, n, k)
		b.Run("f32/"+name, func(b *testing.B) { benchSgemm(b, best(), false, true, m, n, k) })
		b.Run("bf16/"+name, func(b *testing.B) {
			for b.Loop() {
				SgemmBF16(false, true, m, n, k, 1, o.a, o.lda, bh, o.ldb, 0, o.c, o.ldc)
			}
			b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkSgemmKernels(b *testing.B) {
	for _, kern := range kernels {
		b.Run(kern.name+"/512", func(b *testing.B) { benchSgemm(b, kern, false, false, 512, 512, 512) })
	}
}
