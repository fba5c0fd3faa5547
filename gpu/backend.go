//go:build cuda || cudaemu

package gpu

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"unsafe"

	"parascope/engine/nn"
)

// GEMM chooses how matrix products run.
type GEMM int

const (
	GEMMAuto   GEMM = iota // cuBLAS when it opens, else the own kernel
	GEMMCublas             // cuBLAS or an error
	GEMMOwn                // the sgemm kernel of kernels.cu
)

// Backend implements nn.Backend on the first CUDA device.
type Backend struct {
	dev    *device
	cublas string // the cuBLAS library in use; "" for the own kernel
	scores int    // the most scores AttentionInference holds at once
}

// inferenceScores bounds AttentionInference's scratch (64 MiB, where
// Attention keeps batch·heads·seq² for each layer): one sequence of 2,048
// tokens with 8 heads runs in two blocks of 1,024 query rows, LLaDA-8B's 32
// heads at 2,400 tokens in blocks of 218.
const inferenceScores = 1 << 24

func init() {
	nn.Register("cuda", func() (nn.Backend, error) {
		choice := GEMMAuto
		switch v := os.Getenv("PARASCOPE_GEMM"); v {
		case "", "auto":
		case "cublas":
			choice = GEMMCublas
		case "own":
			choice = GEMMOwn
		default:
			return nil, fmt.Errorf("PARASCOPE_GEMM=%q: want auto, cublas or own", v)
		}
		return Open(choice)
	})
}

var (
	cublasLib string
	cublasErr error
	cublasTry bool
)

// Open starts the device (once per process) and returns a backend on it.
func Open(choice GEMM) (*Backend, error) {
	d, err := theDevice()
	if err != nil {
		return nil, err
	}
	be := &Backend{dev: d, scores: inferenceScores}
	if choice == GEMMOwn {
		return be, nil
	}
	d.do(func() {
		if !cublasTry {
			cublasTry = true
			cublasLib, cublasErr = openCublas()
		}
	})
	if cublasErr != nil && choice == GEMMCublas {
		return nil, cublasErr
	}
	be.cublas = cublasLib
	return be, nil
}

func (be *Backend) Name() string { return "cuda" }

// Describe names the device and the GEMM in use, for logs and benchmarks.
func (be *Backend) Describe() string {
	gemm := "own sgemm kernel"
	if be.cublas != "" {
		gemm = be.cublas
	}
	return fmt.Sprintf("%s (%d SMs, %.0f GiB), GEMM: %s", be.dev.info.name, be.dev.info.sms, float64(be.dev.info.memory)/(1<<30), gemm)
}

// TF32 lets cuBLAS use TF32 tensor cores for float32 products (off by
// default: parity with the CPU needs full float32).
func (be *Backend) TF32(on bool) {
	if be.cublas != "" {
		be.dev.do(func() { cublasTF32(on) })
	}
}

// Sync waits for the device to finish, for timing.
func (be *Backend) Sync() { be.dev.do(func() { must("synchronize", synchronize()) }) }

// ---- memory -----------------------------------------------------------------

// buf is a range of device memory; mem keeps the allocation alive while any
// view of it is reachable, and frees it after.
type buf struct {
	ptr devptr
	n   int
	mem *allocation
}

// bf16Buf is read-only bfloat16 weights: n values of 2 bytes.
type bf16Buf buf

type allocation struct{ ptr devptr }

func (b *buf) Len() int     { return b.n }
func (b *bf16Buf) Len() int { return b.n }

// ptr is b's float32 memory; bfloat16 weights go only where an operation
// looks for them, and anywhere else they would be misread.
func ptr(b nn.Buf) devptr {
	switch g := b.(type) {
	case *buf:
		return g.ptr
	case *bf16Buf:
		panic("gpu: the buffer is bfloat16 weights: only MatMul's b, Embed's table and Slice take it")
	}
	panic(fmt.Sprintf("gpu: %T is not a CUDA buffer", b))
}

// alloc returns bytes of device memory, freed once the allocation is
// unreachable.
func (be *Backend) alloc(bytes int64) (devptr, *allocation) {
	var p devptr
	if bytes > 0 {
		be.dev.do(func() {
			var err error
			p, err = memAlloc(bytes)
			must(fmt.Sprintf("allocating %d bytes", bytes), err)
		})
	}
	mem := &allocation{p}
	if bytes > 0 {
		dev := be.dev
		runtime.AddCleanup(mem, func(p devptr) {
			go dev.do(func() { must("freeing", memFree(p)) })
		}, p)
	}
	return p, mem
}

func (be *Backend) Alloc(n int) nn.Buf {
	p, mem := be.alloc(int64(n) * 4)
	if n > 0 {
		be.dev.do(func() { must("zeroing", memsetD32(p, 0, int64(n))) })
	}
	return &buf{p, n, mem}
}

// WeightsBF16 copies src to the device, at half the bytes of float32.
func (be *Backend) WeightsBF16(src []uint16) nn.Buf {
	p, mem := be.alloc(int64(len(src)) * 2)
	if len(src) > 0 {
		be.dev.do(func() { must("uploading bfloat16 weights", htod(p, unsafe.Pointer(&src[0]), int64(len(src))*2)) })
	}
	return &bf16Buf{p, len(src), mem}
}

func (be *Backend) Slice(b nn.Buf, off, n int) nn.Buf {
	if off < 0 || n < 0 || off+n > b.Len() {
		panic(fmt.Sprintf("gpu: slice [%d:%d] of a buffer of %d", off, off+n, b.Len()))
	}
	if h, ok := b.(*bf16Buf); ok {
		return &bf16Buf{h.ptr + devptr(2*off), n, h.mem}
	}
	g := b.(*buf)
	return &buf{g.ptr + devptr(4*off), n, g.mem}
}

func mustLen(op string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("gpu: %s: %d values for a buffer of %d", op, got, want))
	}
}

func (be *Backend) Upload(dst nn.Buf, src []float32) {
	mustLen("upload", len(src), dst.Len())
	if len(src) == 0 {
		return
	}
	be.dev.do(func() {
		must("upload", htod(ptr(dst), unsafe.Pointer(&src[0]), int64(len(src))*4))
	})
}

func (be *Backend) Download(dst []float32, src nn.Buf) {
	mustLen("download", len(dst), src.Len())
	if len(dst) == 0 {
		return
	}
	be.dev.do(func() {
		must("download", dtoh(unsafe.Pointer(&dst[0]), ptr(src), int64(len(dst))*4))
	})
}

func (be *Backend) Zero(b nn.Buf) {
	if b.Len() > 0 {
		be.dev.do(func() { must("zero", memsetD32(ptr(b), 0, int64(b.Len()))) })
	}
}

func (be *Backend) Copy(dst, src nn.Buf) {
	mustLen("copy", src.Len(), dst.Len())
	if src.Len() > 0 {
		be.dev.do(func() { must("copy", dtod(ptr(dst), ptr(src), int64(src.Len())*4)) })
	}
}

// ---- GEMM ---------------------------------------------------------------------

// gemm is one batched product: outer×inner matrices, strides in elements.
// With b16, B is bfloat16, and for cuBLAS A too; such a product is single
// (outer and inner 1).
type gemm struct {
	c, a, b        devptr
	m, n, k        int
	lda, ldb, ldc  int
	transA, transB bool
	b16            bool
	alpha, beta    float32
	outer, inner   int
	sA, sB, sC     [2]int // [outer, inner]
}

func (be *Backend) run(g gemm) {
	if g.m == 0 || g.n == 0 || g.outer*g.inner == 0 {
		return // an empty product: nothing to write
	}
	switch {
	case be.cublas != "" && g.b16:
		gemmBF16Cublas(g)
	case be.cublas != "":
		gemmCublas(g)
	default:
		be.dev.launch("sgemm", (g.n+63)/64, (g.m+63)/64, g.outer*g.inner,
			g.c, g.a, g.b, g.m, g.n, g.k, g.lda, g.ldb, g.ldc, g.transA, g.transB, g.b16, g.alpha, g.beta,
			g.inner, g.sA[0], g.sA[1], g.sB[0], g.sB[1], g.sC[0], g.sC[1])
	}
}

func (be *Backend) MatMul(c, a, b nn.Buf, m, n, k int, transA, transB bool, alpha, beta float32) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	be.dev.do(func() {
		g := gemm{c: ptr(c), a: ptr(a), m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: n,
			transA: transA, transB: transB, alpha: alpha, beta: beta, outer: 1, inner: 1}
		if h, ok := b.(*bf16Buf); ok {
			g.b, g.b16 = h.ptr, true
			if be.cublas != "" {
				// cuBLAS multiplies bfloat16 by bfloat16 only: round A,
				// contiguous m×k, into scratch.
				g.a = be.dev.scratchFor("bf16 a", int64(m*k)*2)
				be.dev.elementwise("to_bf16", m*k, g.a, ptr(a), m*k)
			}
		} else {
			g.b = ptr(b)
		}
		be.run(g)
	})
}

// ---- elementwise and reductions ------------------------------------------------

func (be *Backend) AddTo(dst, src nn.Buf) {
	mustLen("add", src.Len(), dst.Len())
	be.dev.do(func() { be.dev.elementwise("add_to", dst.Len(), ptr(dst), ptr(src), dst.Len()) })
}

func (be *Backend) Scale(b nn.Buf, s float32) {
	be.dev.do(func() { be.dev.elementwise("scale", b.Len(), ptr(b), s, b.Len()) })
}

func (be *Backend) SumSquares(b nn.Buf) float64 {
	n := b.Len()
	if n == 0 {
		return 0
	}
	var total float64
	be.dev.do(func() {
		blocks := min((n+threads-1)/threads, 32*be.dev.info.sms)
		partial := be.dev.scratchFor("partials", int64(blocks)*8)
		be.dev.launch("sum_squares", blocks, 1, 1, partial, ptr(b), n)
		for _, v := range download64(partial, blocks) {
			total += v
		}
	})
	return total
}

func (be *Backend) SwiGLU(out, gate, up nn.Buf) {
	be.dev.do(func() { be.dev.elementwise("swiglu", out.Len(), ptr(out), ptr(gate), ptr(up), out.Len()) })
}

func (be *Backend) SwiGLUBackward(dGate, dUp, dOut, gate, up nn.Buf) {
	be.dev.do(func() {
		be.dev.elementwise("swiglu_backward", dOut.Len(), ptr(dGate), ptr(dUp), ptr(dOut), ptr(gate), ptr(up), dOut.Len())
	})
}

// AdamW folds the bias corrections into two scalars on the host, exactly
// as the CPU backend does.
func (be *Backend) AdamW(param, grad, m, v nn.Buf, h nn.AdamW) {
	bc1 := 1 - math.Pow(float64(h.Beta1), float64(h.Step))
	bc2 := 1 - math.Pow(float64(h.Beta2), float64(h.Step))
	stepSize := float32(float64(h.LR) / bc1)
	sqrtBC2 := float32(math.Sqrt(bc2))
	decay := 1 - h.LR*h.WeightDecay
	be.dev.do(func() {
		be.dev.elementwise("adamw", param.Len(), ptr(param), ptr(grad), ptr(m), ptr(v), param.Len(),
			h.Beta1, h.Beta2, h.Eps, decay, stepSize, sqrtBC2)
	})
}

// ---- rows -------------------------------------------------------------------------

func (be *Backend) gather(dst, src nn.Buf, ids []int32, d int) {
	be.dev.do(func() {
		idp := uploadScratch(be.dev, "ids", ids)
		be.dev.elementwise("gather_rows", len(ids)*d, ptr(dst), ptr(src), idp, len(ids), d)
	})
}

func (be *Backend) scatterAdd(dst, src nn.Buf, ids []int32, d int) {
	be.dev.do(func() {
		idp := uploadScratch(be.dev, "ids", ids)
		be.dev.elementwise("scatter_add_rows", len(ids)*d, ptr(dst), ptr(src), idp, len(ids), d)
	})
}

func (be *Backend) Embed(out, table nn.Buf, ids []int32, d int) {
	h, ok := table.(*bf16Buf)
	if !ok {
		be.gather(out, table, ids, d)
		return
	}
	be.dev.do(func() {
		idp := uploadScratch(be.dev, "ids", ids)
		be.dev.elementwise("gather_rows_bf16", len(ids)*d, ptr(out), h.ptr, idp, len(ids), d)
	})
}

func (be *Backend) EmbedBackward(dTable, dOut nn.Buf, ids []int32, d int) {
	be.scatterAdd(dTable, dOut, ids, d)
}

func (be *Backend) Gather(dst, src nn.Buf, rows []int32, d int) { be.gather(dst, src, rows, d) }

func (be *Backend) Scatter(dst, src nn.Buf, rows []int32, d int) {
	be.Zero(dst)
	be.scatterAdd(dst, src, rows, d)
}

// ---- layers -------------------------------------------------------------------------

func (be *Backend) RMSNorm(out, rstd, x, w nn.Buf, rows, d int, eps float32) {
	be.dev.do(func() { be.dev.rowwise("rmsnorm", rows, ptr(out), ptr(rstd), ptr(x), ptr(w), rows, d, eps) })
}

func (be *Backend) RMSNormBackward(dx, dw, dOut, x, w, rstd nn.Buf, rows, d int) {
	be.dev.do(func() {
		be.dev.rowwise("rmsnorm_backward_x", rows, ptr(dx), ptr(dOut), ptr(x), ptr(w), ptr(rstd), rows, d)
		be.dev.elementwise("rmsnorm_backward_w", d, ptr(dw), ptr(dOut), ptr(x), ptr(rstd), rows, d)
	})
}

func (be *Backend) RoPE(x nn.Buf, batch, seq, heads, hd int, theta float64, inverse bool) {
	cos, sin := nn.RopeTable(seq, hd, theta)
	sign := 1.0
	if inverse {
		sign = -1
	}
	key := fmt.Sprintf("rope table seq %d hd %d theta %g", seq, hd, theta)
	be.dev.do(func() {
		cp := be.dev.constant(key+" cos", cos)
		sp := be.dev.constant(key+" sin", sin)
		be.dev.elementwise("rope", batch*seq*heads*(hd/2), ptr(x), cp, sp, batch*seq, seq, heads, hd, sign)
	})
}

// operand is one side of a product batched over (sequence, head) pairs:
// its leading dimension and its strides between sequences and heads.
type operand struct {
	p      devptr
	ld     int
	stride [2]int
}

// heads views q, k, v, out or their gradients: a head is seq×hd with row
// stride heads·hd. probs views [batch, heads, seq, seq] probabilities.
func heads(p devptr, seq, nh, hd int) operand {
	return operand{p, nh * hd, [2]int{seq * nh * hd, hd}}
}
func probs(p devptr, seq, nh int) operand {
	return operand{p, seq, [2]int{nh * seq * seq, seq * seq}}
}

func batched(c, a, b operand, m, n, k int, transA, transB bool, alpha float32, batch, nh int) gemm {
	return gemm{c: c.p, a: a.p, b: b.p, m: m, n: n, k: k, lda: a.ld, ldb: b.ld, ldc: c.ld,
		transA: transA, transB: transB, alpha: alpha, outer: batch, inner: nh,
		sA: a.stride, sB: b.stride, sC: c.stride}
}

func (be *Backend) Attention(out, p, q, k, v nn.Buf, batch, seq, nh, hd int) {
	scale := float32(1 / math.Sqrt(float64(hd)))
	h := func(b nn.Buf) operand { return heads(ptr(b), seq, nh, hd) }
	P := probs(ptr(p), seq, nh)
	be.dev.do(func() {
		// P = softmax(q·kᵀ·scale); out = P·v
		be.run(batched(P, h(q), h(k), seq, seq, hd, false, true, scale, batch, nh))
		be.dev.rowwise("softmax_rows", batch*nh*seq, P.p, batch*nh*seq, seq)
		be.run(batched(h(out), P, h(v), seq, hd, seq, false, false, 1, batch, nh))
	})
}

// AttentionInference runs Attention over blocks of query rows, all
// sequences and heads at once, holding at most be.scores scores: P is
// [batch, heads, n, seq] for a block of n rows.
func (be *Backend) AttentionInference(out, q, k, v nn.Buf, batch, seq, nh, hd int) {
	scale := float32(1 / math.Sqrt(float64(hd)))
	rows := max(1, min(seq, be.scores/(batch*nh*seq)))
	be.dev.do(func() {
		scratch := be.dev.scratchFor("attention", int64(batch*nh*rows*seq)*4)
		for r0 := 0; r0 < seq; r0 += rows {
			n := min(rows, seq-r0)
			// the heads of q and out from the block's first row on
			block := func(b nn.Buf) operand {
				o := heads(ptr(b), seq, nh, hd)
				o.p += devptr(4 * r0 * nh * hd)
				return o
			}
			P := operand{scratch, seq, [2]int{nh * n * seq, n * seq}}
			be.run(batched(P, block(q), heads(ptr(k), seq, nh, hd), n, seq, hd, false, true, scale, batch, nh))
			be.dev.rowwise("softmax_rows", batch*nh*n, P.p, batch*nh*n, seq)
			be.run(batched(block(out), P, heads(ptr(v), seq, nh, hd), n, hd, seq, false, false, 1, batch, nh))
		}
	})
}

// AttentionBackward: dP = dO·vᵀ, dv = Pᵀ·dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)),
// dq = dS·k·scale, dk = dSᵀ·q·scale.
func (be *Backend) AttentionBackward(dq, dk, dv, dOut, q, k, v, p nn.Buf, batch, seq, nh, hd int) {
	scale := float32(1 / math.Sqrt(float64(hd)))
	h := func(b nn.Buf) operand { return heads(ptr(b), seq, nh, hd) }
	P := probs(ptr(p), seq, nh)
	be.dev.do(func() {
		dS := probs(be.dev.scratchFor("attention", int64(batch*nh*seq*seq)*4), seq, nh)
		be.run(batched(dS, h(dOut), h(v), seq, seq, hd, false, true, 1, batch, nh))
		be.run(batched(h(dv), P, h(dOut), seq, hd, seq, true, false, 1, batch, nh))
		be.dev.rowwise("softmax_backward_rows", batch*nh*seq, dS.p, P.p, batch*nh*seq, seq)
		be.run(batched(h(dq), dS, h(k), seq, hd, seq, false, false, scale, batch, nh))
		be.run(batched(h(dk), dS, h(q), seq, hd, seq, true, false, scale, batch, nh))
	})
}

// CrossEntropy sums the per-row losses on the host in row order, as the CPU
// backend does.
func (be *Backend) CrossEntropy(dLogits, logits nn.Buf, targets []int32, weights []float32, n, v int) float64 {
	total := 0.0
	be.dev.do(func() {
		tp := uploadScratch(be.dev, "targets", targets)
		wp := uploadScratch(be.dev, "weights", weights)
		lp := be.dev.scratchFor("losses", int64(n)*8)
		be.dev.rowwise("cross_entropy", n, ptr(dLogits), lp, ptr(logits), tp, wp, n, v)
		for _, l := range download64(lp, n) {
			total += l
		}
	})
	return total
}
