//go:build cuda || cudaemu

package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"parascope/engine/model"
	"parascope/engine/model/modeltest"
	"parascope/engine/nn"
	"parascope/engine/nn/nntest"
)

// open returns a backend on the device, or skips: without a CUDA device
// there is nothing to check (gpu/device.sh runs these on one).
func open(tb testing.TB, g GEMM) *Backend {
	be, err := Open(g)
	if err != nil {
		tb.Skipf("no CUDA device to test on: %v", err)
	}
	tb.Logf("device: %s", be.Describe())
	return be
}

var gemms = []struct {
	name string
	gemm GEMM
}{{"cublas", GEMMCublas}, {"own-gemm", GEMMOwn}}

// TestOps checks every operation against the float64 references and
// finite differences of the parity suite, with either GEMM.
func TestOps(t *testing.T) {
	for _, g := range gemms {
		t.Run(g.name, func(t *testing.T) { nntest.Ops(t, open(t, g.gemm)) })
	}
}

// TestModel checks a whole forward, backward and AdamW step against the CPU.
func TestModel(t *testing.T) {
	for _, g := range gemms {
		t.Run(g.name, func(t *testing.T) { modeltest.Parity(t, open(t, g.gemm)) })
	}
}

// TestAgainstCPUAtModelSizes runs the shapes the default model uses, larger
// than the parity suite's (several GEMM tiles, rows longer than a block),
// on the device and on the CPU.
func TestAgainstCPUAtModelSizes(t *testing.T) {
	for _, g := range gemms {
		t.Run(g.name, func(t *testing.T) {
			be := open(t, g.gemm)
			r := rand.New(rand.NewPCG(3, 4))
			for _, s := range [][3]int{{130, 257, 70}, {1, 1000, 300}, {280, 768, 256}} {
				m, n, k := s[0], s[1], s[2]
				for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
					a, b, c := randoms(r, m*k), randoms(r, k*n), randoms(r, m*n)
					got := run(be, []int{m * n}, func(be nn.Backend, in []nn.Buf, out []nn.Buf) {
						be.Copy(out[0], in[2])
						be.MatMul(out[0], in[0], in[1], m, n, k, tr[0], tr[1], 0.5, 1)
					}, a, b, c)
					want := run(nn.CPU{}, []int{m * n}, func(be nn.Backend, in []nn.Buf, out []nn.Buf) {
						be.Copy(out[0], in[2])
						be.MatMul(out[0], in[0], in[1], m, n, k, tr[0], tr[1], 0.5, 1)
					}, a, b, c)
					near(t, fmt.Sprintf("matmul %dx%dx%d %v", m, n, k, tr), got[0], want[0], 1e-5*float64(k))
				}
			}
			// attention at the thinkedit shape and at a sequence longer than a block
			for _, s := range [][4]int{{2, 140, 8, 32}, {1, 300, 2, 64}} {
				batch, seq, heads, hd := s[0], s[1], s[2], s[3]
				x := batch * seq * heads * hd
				q, k, v, up := randoms(r, x), randoms(r, x), randoms(r, x), randoms(r, x)
				attn := func(be nn.Backend, in []nn.Buf, out []nn.Buf) {
					probs := be.Alloc(batch * heads * seq * seq)
					be.Attention(out[0], probs, in[0], in[1], in[2], batch, seq, heads, hd)
					be.AttentionBackward(out[1], out[2], out[3], in[3], in[0], in[1], in[2], probs, batch, seq, heads, hd)
				}
				got := run(be, []int{x, x, x, x}, attn, q, k, v, up)
				want := run(nn.CPU{}, []int{x, x, x, x}, attn, q, k, v, up)
				for i, what := range []string{"out", "dq", "dk", "dv"} {
					near(t, fmt.Sprintf("attention %v %s", s, what), got[i], want[i], 1e-4)
				}
				// For inference, in blocks of 9 query rows, the last one short.
				be.scores = 9 * batch * heads * seq
				infer := func(be nn.Backend, in []nn.Buf, out []nn.Buf) {
					be.AttentionInference(out[0], in[0], in[1], in[2], batch, seq, heads, hd)
				}
				near(t, fmt.Sprintf("attention for inference %v", s), run(be, []int{x}, infer, q, k, v)[0], want[0], 1e-4)
				be.scores = inferenceScores
			}
		})
	}
}

// TestRoPETablesUploadedOnce: a shape's cos and sin tables go to the device
// once and are reused; another shape gets its own.
func TestRoPETablesUploadedOnce(t *testing.T) {
	be := open(t, GEMMOwn)
	r := rand.New(rand.NewPCG(5, 6))
	const theta = 12345 // a base no other test uses, so the count below is this test's
	tables := func() (n int) {
		be.dev.do(func() {
			for key := range be.dev.scratch {
				if strings.HasPrefix(key, "rope table") {
					n++
				}
			}
		})
		return n
	}
	before := tables()
	for _, s := range [][3]int{{7, 2, 16}, {7, 2, 16}, {9, 2, 16}, {9, 2, 16}} {
		seq, heads, hd := s[0], s[1], s[2]
		x := randoms(r, 2*seq*heads*hd)
		rope := func(be nn.Backend, in, out []nn.Buf) {
			be.Copy(out[0], in[0])
			be.RoPE(out[0], 2, seq, heads, hd, theta, true)
		}
		near(t, fmt.Sprintf("rope %v", s), run(be, []int{len(x)}, rope, x)[0], run(nn.CPU{}, []int{len(x)}, rope, x)[0], 1e-5)
	}
	if after := tables(); after-before != 4 {
		t.Fatalf("%d tables uploaded for two shapes, want 4 (cos and sin each)", after-before)
	}
}

// TestNamedInRegistry: the cuda build registers the backend under "cuda".
func TestNamedInRegistry(t *testing.T) {
	be, err := nn.Open("cuda")
	if err != nil {
		if _, devErr := theDevice(); devErr == nil {
			t.Fatalf("the device answers but nn.Open(\"cuda\") fails: %v", err)
		}
		if !strings.Contains(err.Error(), "CUDA") && !strings.Contains(err.Error(), "cuInit") {
			t.Errorf("the error does not say what is missing: %v", err)
		}
		t.Skipf("no CUDA device: %v", err)
	}
	if be.Name() != "cuda" {
		t.Errorf("Name() = %q", be.Name())
	}
}

func randoms(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

// run uploads in, calls f with fresh zeroed outputs of the given sizes and
// downloads them.
func run(be nn.Backend, outs []int, f func(be nn.Backend, in, out []nn.Buf), in ...[]float32) [][]float32 {
	var ib, ob []nn.Buf
	for _, x := range in {
		b := be.Alloc(len(x))
		be.Upload(b, x)
		ib = append(ib, b)
	}
	for _, n := range outs {
		ob = append(ob, be.Alloc(n))
	}
	f(be, ib, ob)
	res := make([][]float32, len(ob))
	for i, b := range ob {
		res[i] = make([]float32, b.Len())
		be.Download(res[i], b)
	}
	return res
}

// near fails when got and want differ by more than tol relative to the
// larger of 1 and want's largest magnitude.
func near(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	maxDiff, maxRef := 0.0, 1.0
	for i := range want {
		d := math.Abs(float64(got[i] - want[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		maxDiff, maxRef = math.Max(maxDiff, d), math.Max(maxRef, math.Abs(float64(want[i])))
	}
	t.Logf("%-40s maxdiff %.3g (scale %.3g)", what, maxDiff, maxRef)
	if maxDiff > tol*maxRef {
		t.Errorf("%s: max difference %.3g exceeds %.3g", what, maxDiff, tol*maxRef)
	}
}

// ---- benchmarks -------------------------------------------------------------------

func BenchmarkSgemm(b *testing.B) {
	for _, n := range []int{1024, 4096} {
		for _, v := range []struct {
			name string
			gemm GEMM
			tf32 bool
		}{{"own", GEMMOwn, false}, {"cublas", GEMMCublas, false}, {"cublas-tf32", GEMMCublas, true}} {
			b.Run(fmt.Sprintf("%s/%d", v.name, n), func(b *testing.B) {
				be := open(b, v.gemm)
				be.TF32(v.tf32)
				defer be.TF32(false)
				x, y, z := be.Alloc(n*n), be.Alloc(n*n), be.Alloc(n*n)
				be.MatMul(z, x, y, n, n, n, false, false, 1, 0) // warm up
				be.Sync()
				b.ResetTimer()
				for range b.N {
					be.MatMul(z, x, y, n, n, n, false, false, 1, 0)
				}
				be.Sync()
				b.ReportMetric(2*float64(n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e12, "TFLOP/s")
			})
		}
	}
}

// BenchmarkDefaultModel times the default model's sampler step (one call of
// two sequences: conditional and unconditional) and its training step.
func BenchmarkDefaultModel(b *testing.B) {
	const seq = 140 // thinkedit
	cfg := model.DefaultConfig(512)
	for _, g := range gemms {
		b.Run("step/"+g.name, func(b *testing.B) {
			be := open(b, g.gemm)
			m, err := model.New(cfg, be)
			if err != nil {
				b.Fatal(err)
			}
			m.Init(1)
			ids, sel := tokens(2, seq, cfg.Vocab)
			if _, err := m.Infer(ids, 2, seq, sel); err != nil {
				b.Fatal(err)
			}
			be.Sync()
			b.ResetTimer()
			for range b.N {
				m.Infer(ids, 2, seq, sel)
			}
			be.Sync()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		})
		b.Run("train/"+g.name, func(b *testing.B) {
			be := open(b, g.gemm)
			m, err := model.New(cfg, be)
			if err != nil {
				b.Fatal(err)
			}
			m.Init(1)
			const batch = 32
			ids, sel := tokens(batch, seq, cfg.Vocab)
			targets, weights := make([]int32, len(sel)), make([]float32, len(sel))
			for i := range weights {
				targets[i], weights[i] = ids[sel[i]], 1/float32(len(sel))
			}
			h := nn.AdamW{LR: 1e-4, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1}
			b.ResetTimer()
			for i := range b.N {
				m.ZeroGrad()
				if _, err := m.Loss(ids, batch, seq, sel, targets, weights); err != nil {
					b.Fatal(err)
				}
				h.Step = i + 1
				m.Step(h)
			}
			be.Sync()
			b.ReportMetric(float64(b.N*batch*seq)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// tokens makes batch sequences of random ids and selects every position.
func tokens(batch, seq, vocab int) (ids, sel []int32) {
	r := rand.New(rand.NewPCG(5, 5))
	for i := range batch * seq {
		ids = append(ids, int32(r.IntN(vocab)))
		sel = append(sel, int32(i))
	}
	return ids, sel
}

// BenchmarkLLaDA8BForward times one forward of a model of LLaDA-8B's shape
// (32 layers, d 4096, 32 heads, MLP 12288, vocabulary 126464) over one
// sequence of 2400 tokens, thinkedit's length at 512², with random weights,
// in float32 and with TF32 tensor cores, as the sampler runs it (Infer).
// It needs ~35 GB of device memory (the weights, 32 GB, one block's
// activations and the logits), so it runs only when PARASCOPE_BENCH_8B=1.
func BenchmarkLLaDA8BForward(b *testing.B) {
	if os.Getenv("PARASCOPE_BENCH_8B") != "1" {
		b.Skip("set PARASCOPE_BENCH_8B=1 on a GPU with ~40 GB")
	}
	be := open(b, GEMMCublas)
	m, err := model.New(llada8B, be)
	if err != nil {
		b.Fatal(err)
	}
	randomise(be, m, llada8B)
	for _, p := range []precision{inFP32, inTF32} {
		b.Run([]string{"fp32", "tf32"}[p], func(b *testing.B) {
			be.TF32(p == inTF32)
			defer be.TF32(false)
			timeForward(b, be, m, p)
		})
	}
}

// llada8B is LLaDA-8B's shape, with room for thinkedit at 512².
var llada8B = model.Config{Layers: 32, DModel: 4096, Heads: 32, MLP: 12288, Vocab: 126464, RopeTheta: 500000, NormEps: 1e-5, MaxLen: 4096}

// timeForward times m's Infer over one sequence of 2,400 tokens with
// logits everywhere, and reports ms/step, TFLOP/s and, where the GPU's
// peak at precision p is known, the fraction of it.
func timeForward(b *testing.B, be *Backend, m *model.Model, p precision) {
	const seq = 2400
	ids, sel := tokens(1, seq, m.Vocab)
	T, d, f, V := float64(seq), float64(m.DModel), float64(m.MLP), float64(m.Vocab)
	flops := float64(m.Layers)*(2*T*(4*d*d+3*d*f)+4*T*T*d) + 2*T*V*d
	if _, err := m.Infer(ids, 1, seq, sel); err != nil {
		b.Fatal(err)
	}
	be.Sync()
	b.ResetTimer()
	for range b.N {
		m.Infer(ids, 1, seq, sel)
	}
	be.Sync()
	s := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(s*1e3, "ms/step")
	b.ReportMetric(flops/s/1e12, "TFLOP/s")
	if peak := peakTFLOPs(be.dev.info.name, p); peak > 0 {
		b.ReportMetric(flops/s/1e12/peak, "peak_frac")
	}
}

// randomise fills the weights by tiling one random block across them on
// the device: drawing 8 billion numbers on the host would take minutes and
// the timing does not depend on the values.
func randomise(be *Backend, m *model.Model, cfg model.Config) {
	const tile = 1 << 22
	r := rand.New(rand.NewPCG(8, 8))
	noise, ones := make([]float32, tile), make([]float32, tile)
	for i := range noise {
		noise[i], ones[i] = float32(r.NormFloat64()*0.02), 1
	}
	nb, ob := be.Alloc(tile), be.Alloc(tile)
	be.Upload(nb, noise)
	be.Upload(ob, ones)
	for _, p := range cfg.Layout() {
		src := ob
		if p.Decay {
			src = nb
		}
		w := m.View(p.Name)
		for off := 0; off < w.Len(); off += tile {
			n := min(tile, w.Len()-off)
			be.Copy(be.Slice(w, off, n), be.Slice(src, 0, n))
		}
	}
}

// peakTFLOPs is the dense float32, TF32 or bfloat16 tensor-core peak of
// the GPUs this has run on, from NVIDIA's data sheets; 0 when unknown.
func peakTFLOPs(name string, p precision) float64 {
	peaks := []struct {
		match string
		peak  [3]float64 // by precision
	}{{"H200", [3]float64{67, 495, 989}}, {"H100 PCIe", [3]float64{51, 378, 756}}, {"H100", [3]float64{67, 495, 989}}, {"A100", [3]float64{19.5, 156, 312}}}
	for _, e := range peaks {
		if strings.Contains(name, e.match) {
			return e.peak[p]
		}
	}
	return 0
}

// precision is what a GEMM computes in, for its peak.
type precision int

const (
	inFP32 precision = iota
	inTF32
	inBF16
)
