//go:build cuda || cudaemu

package gpu

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"parascope/engine/bf16"
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

// BenchmarkLLaDA8BForwardBF16 times one forward of LLaDA-8B's shape (32
// layers, d 4096, 32 heads, MLP 12288) with random bfloat16 weights over
// one sequence of 2,400 tokens, the head at every position, written with
// the backend's operations as the model's Infer runs them. It reports the
// device memory in use, weights (~16 GB) and activations (~2 GB), and
// runs when PARASCOPE_BENCH_8B_BF16=1.
func BenchmarkLLaDA8BForwardBF16(b *testing.B) {
	if os.Getenv("PARASCOPE_BENCH_8B_BF16") != "1" {
		b.Skip("set PARASCOPE_BENCH_8B_BF16=1 on a GPU with ~20 GB")
	}
	const (
		layers, d, heads, f = 32, 4096, 32, 12288
		vocab               = 126464 + 8192 // LLaDA's vocabulary and 8,192 rows more
		seq, hd             = 2400, d / heads
		theta, eps          = 500000, 1e-5
	)
	be := realGPU(b, GEMMCublas)
	host := randomBF16(vocab * d) // the largest weight; the others are its prefixes
	type layer struct{ wq, wk, wv, wo, gate, up, down nn.Buf }
	ls := make([]layer, layers)
	for i := range ls {
		ls[i] = layer{be.WeightsBF16(host[:d*d]), be.WeightsBF16(host[:d*d]), be.WeightsBF16(host[:d*d]),
			be.WeightsBF16(host[:d*d]), be.WeightsBF16(host[:f*d]), be.WeightsBF16(host[:f*d]), be.WeightsBF16(host[:d*f])}
	}
	embed, head := be.WeightsBF16(host), be.WeightsBF16(host)
	ones := make([]float32, d)
	for i := range ones {
		ones[i] = 1
	}
	norm := be.Alloc(d)
	be.Upload(norm, ones)
	x, h, rstd := be.Alloc(seq*d), be.Alloc(seq*d), be.Alloc(seq)
	q, k, v, o := be.Alloc(seq*d), be.Alloc(seq*d), be.Alloc(seq*d), be.Alloc(seq*d)
	g, u, s := be.Alloc(seq*f), be.Alloc(seq*f), be.Alloc(seq*f)
	logits := be.Alloc(seq * vocab)
	ids, sel := tokens(1, seq, vocab)
	forward := func() {
		be.Embed(x, embed, ids, d)
		for _, l := range ls {
			be.RMSNorm(h, rstd, x, norm, seq, d, eps)
			be.MatMul(q, h, l.wq, seq, d, d, false, true, 1, 0)
			be.MatMul(k, h, l.wk, seq, d, d, false, true, 1, 0)
			be.MatMul(v, h, l.wv, seq, d, d, false, true, 1, 0)
			be.RoPE(q, 1, seq, heads, hd, theta, false)
			be.RoPE(k, 1, seq, heads, hd, theta, false)
			be.AttentionInference(o, q, k, v, 1, seq, heads, hd)
			be.MatMul(x, o, l.wo, seq, d, d, false, true, 1, 1)
			be.RMSNorm(h, rstd, x, norm, seq, d, eps)
			be.MatMul(g, h, l.gate, seq, f, d, false, true, 1, 0)
			be.MatMul(u, h, l.up, seq, f, d, false, true, 1, 0)
			be.SwiGLU(s, g, u)
			be.MatMul(x, s, l.down, seq, d, f, false, true, 1, 1)
		}
		be.RMSNorm(h, rstd, x, norm, seq, d, eps)
		be.Gather(o, h, sel, d)
		be.MatMul(logits, o, head, len(sel), vocab, d, false, true, 1, 0)
	}
	T := float64(seq)
	flops := layers*(2*T*(4*d*d+3*d*f)+4*T*T*d) + 2*T*vocab*d
	// the weights once: a sub-benchmark's body runs once per round
	b.Run(fmt.Sprint(seq), func(b *testing.B) {
		forward() // warm up
		be.Sync()
		b.ResetTimer()
		for range b.N {
			forward()
		}
		be.Sync()
		step := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(step*1e3, "ms/step")
		b.ReportMetric(flops/step/1e12, "TFLOP/s")
		var free, total int64
		var err error
		be.dev.do(func() { free, total, err = memInfo() })
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(total-free)/(1<<30), "GiB_used")
	})
}
