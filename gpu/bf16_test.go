//go:build cuda || cudaemu

package gpu

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"parascope/engine/bf16"
	"parascope/engine/model"
	"parascope/engine/nn"
)

// TestBF16AgainstCPU multiplies by bfloat16 weights at shapes of several
// GEMM tiles, ragged at the edges, against the CPU. The own kernel widens
// B exactly, as the CPU does; cuBLAS rounds A to bfloat16 too, as
// bf16.FromF32 does, so the CPU gets A rounded on the host then.
func TestBF16AgainstCPU(t *testing.T) {
	for _, g := range gemms {
		t.Run(g.name, func(t *testing.T) {
			be := open(t, g.gemm)
			r := rand.New(rand.NewPCG(7, 8))
			m, n, k := 130, 257, 70
			for _, tr := range [][2]bool{{false, true}, {false, false}, {true, true}} {
				a, c := randoms(r, m*k), randoms(r, m*n)
				w := bf16.Round(randoms(r, k*n+3))
				product := func(be nn.Backend, in, out []nn.Buf) {
					be.Copy(out[0], in[1])
					b := be.Slice(be.WeightsBF16(w), 3, k*n)
					be.MatMul(out[0], in[0], b, m, n, k, tr[0], tr[1], 0.5, 1)
				}
				got := run(be, []int{m * n}, product, a, c)
				if be.cublas != "" {
					bf16.Round(a)
				}
				want := run(nn.CPU{}, []int{m * n}, product, a, c)
				near(t, fmt.Sprintf("matmul bf16 %dx%dx%d %v", m, n, k, tr), got[0], want[0], 1e-5*float64(k))
			}
		})
	}
}

// TestBF16WeightsOnlyWhereTaken: any operation but MatMul's b, Embed's
// table and Slice refuses bfloat16 weights rather than misread them.
func TestBF16WeightsOnlyWhereTaken(t *testing.T) {
	be := open(t, GEMMOwn)
	w := be.WeightsBF16(make([]uint16, 8))
	x := be.Alloc(8)
	for name, f := range map[string]func(){
		"upload":       func() { be.Upload(w, make([]float32, 8)) },
		"download":     func() { be.Download(make([]float32, 8), w) },
		"copy":         func() { be.Copy(x, w) },
		"zero":         func() { be.Zero(be.Slice(w, 2, 4)) },
		"add":          func() { be.AddTo(w, x) },
		"matmul a":     func() { be.MatMul(x, w, x, 2, 2, 2, false, false, 1, 0) },
		"matmul c":     func() { be.MatMul(w, x, w, 2, 2, 2, false, false, 1, 0) },
		"gather":       func() { be.Gather(x, w, []int32{0}, 8) },
		"embed output": func() { be.Embed(w, w, []int32{0}, 8) },
	} {
		func() {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "bfloat16 weights") {
					t.Errorf("%s: panic %v, want one about bfloat16 weights", name, p)
				}
			}()
			f()
		}()
	}
}

// randomBF16 returns n random bfloat16 weights of deviation 0.02, a random
// tile repeated: drawing billions of numbers would take minutes, and the
// timings do not depend on the values.
func randomBF16(n int) []uint16 {
	const tile = 1 << 22
	r := rand.New(rand.NewPCG(9, 9))
	w := make([]uint16, max(n, tile))
	for i := range tile {
		w[i] = bf16.FromF32(float32(r.NormFloat64() * 0.02))
	}
	for i := tile; i < n; i += tile {
		copy(w[i:], w[:tile])
	}
	return w[:n]
}

// realGPU skips benchmarks sized for a GPU on the host emulator.
func realGPU(b *testing.B, g GEMM) *Backend {
	be := open(b, g)
	if emulated {
		b.Skip("sized for a GPU, not the host emulator")
	}
	return be
}

// BenchmarkLayerGEMMs times the seven products of one LLaDA-8B layer (d
// 4096, MLP 12288: q, k, v, o, gate, up, down, weights as [out, in]) over
// 512 and 2,400 tokens, with float32 and with bfloat16 weights, through
// cuBLAS.
func BenchmarkLayerGEMMs(b *testing.B) {
	const d, f = 4096, 12288
	shapes := [][2]int{{d, d}, {d, d}, {d, d}, {d, d}, {f, d}, {f, d}, {d, f}} // [out, in]
	be := realGPU(b, GEMMCublas)
	x, y := be.Alloc(2400*f), be.Alloc(2400*f)
	for _, weights := range []string{"f32", "bf16"} {
		// the weights once for both lengths: a sub-benchmark's body runs
		// once per round
		var ws []nn.Buf
		for _, s := range shapes {
			if weights == "bf16" {
				ws = append(ws, be.WeightsBF16(randomBF16(s[0]*s[1])))
			} else {
				ws = append(ws, be.Alloc(s[0]*s[1]))
			}
		}
		for _, tokens := range []int{512, 2400} {
			b.Run(fmt.Sprintf("%s/%d", weights, tokens), func(b *testing.B) {
				layer := func() {
					for i, s := range shapes {
						be.MatMul(y, x, ws[i], tokens, s[0], s[1], false, true, 1, 0)
					}
				}
				layer() // warm up
				be.Sync()
				b.ResetTimer()
				for range b.N {
					layer()
				}
				be.Sync()
				s := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(s*1e3, "ms/layer")
				b.ReportMetric(2*float64(tokens)*(4*d*d+3*d*f)/s/1e12, "TFLOP/s")
			})
		}
	}
}

// BenchmarkLLaDA8BForwardBF16 is BenchmarkLLaDA8BForward with the weights
// in bfloat16 (model.NewReadOnly over nn.Backend.WeightsBF16), as an 8B
// checkpoint opens: half the memory, cuBLAS's bf16 products. It also
// reports the device memory in use. It needs ~20 GB, so it runs only when
// PARASCOPE_BENCH_8B_BF16=1.
func BenchmarkLLaDA8BForwardBF16(b *testing.B) {
	if os.Getenv("PARASCOPE_BENCH_8B_BF16") != "1" {
		b.Skip("set PARASCOPE_BENCH_8B_BF16=1 on a GPU with ~20 GB")
	}
	be := realGPU(b, GEMMCublas)
	cfg := llada8B
	host := randomBF16(cfg.Vocab * cfg.DModel) // the largest weight; the others are its prefixes
	ones := make([]float32, cfg.DModel)
	for i := range ones {
		ones[i] = 1
	}
	weights := map[string]nn.Buf{}
	for _, p := range cfg.Layout() {
		if p.Decay {
			weights[p.Name] = be.WeightsBF16(host[:p.Shape[0]*p.Shape[1]])
			continue
		}
		w := be.Alloc(cfg.DModel)
		be.Upload(w, ones)
		weights[p.Name] = w
	}
	m, err := model.NewReadOnly(cfg, be, weights)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("bf16", func(b *testing.B) {
		timeForward(b, be, m, inBF16)
		var free, total int64
		be.dev.do(func() { free, total, err = memInfo() })
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(total-free)/(1<<30), "GiB_used")
	})
}
