// Device kernels of the CUDA backend. generate.sh compiles this file to
// ../kernels.ptx with clang alone: no CUDA toolkit, no CUDA headers and no
// libdevice, so the few intrinsics used are clang's NVPTX builtins.
//
// Every scalar parameter is 8 bytes wide (long long or double) because the
// driver binding copies exactly 8 bytes per kernel argument.

#ifndef HOST_EMULATION // emulator.c defines these for the host
#define KERNEL extern "C" __attribute__((global))
#define DEVICE static __attribute__((device)) inline
#define SHARED __attribute__((shared))
#endif

typedef long long i64;
typedef unsigned short u16;
typedef unsigned int u32;

#define BLOCK 256 // threads per block of every row-wise kernel

DEVICE int thread() { return __nvvm_read_ptx_sreg_tid_x(); }
DEVICE int block() { return __nvvm_read_ptx_sreg_ctaid_x(); }
DEVICE int blocks() { return __nvvm_read_ptx_sreg_nctaid_x(); }

// Grid-stride loop over n elements.
#define EACH(i, n) for (i64 i = (i64)block() * BLOCK + thread(); i < (n); i += (i64)blocks() * BLOCK)
// Block-stride loop over the rows of a row-wise kernel.
#define EACH_ROW(r, rows) for (i64 r = block(); r < (rows); r += blocks())

DEVICE float exp_(float x) { return __nvvm_ex2_approx_f(x * 1.4426950408889634f); }
DEVICE float log_(float x) { return __nvvm_lg2_approx_f(x) * 0.6931471805599453f; }
DEVICE float sqrt_(float x) { return __nvvm_sqrt_rn_f(x); }

// Block-wide reductions through shared memory; every thread gets the result.
DEVICE float block_sum(float v, float *scratch) {
	scratch[thread()] = v;
	__syncthreads();
	for (int s = BLOCK / 2; s > 0; s >>= 1) {
		if (thread() < s) scratch[thread()] += scratch[thread() + s];
		__syncthreads();
	}
	float out = scratch[0];
	__syncthreads();
	return out;
}

DEVICE float block_max(float v, float *scratch) {
	scratch[thread()] = v;
	__syncthreads();
	for (int s = BLOCK / 2; s > 0; s >>= 1) {
		if (thread() < s) scratch[thread()] = __builtin_fmaxf(scratch[thread()], scratch[thread() + s]);
		__syncthreads();
	}
	float out = scratch[0];
	__syncthreads();
	return out;
}

// row_exp writes exp(x − max x) over a row of n into out (which may be x)
// and returns their sum; *top receives the maximum.
DEVICE float row_exp(float *out, const float *x, i64 n, float *scratch, float *top) {
	float m = -__builtin_inff();
	for (i64 j = thread(); j < n; j += BLOCK) m = __builtin_fmaxf(m, x[j]);
	m = block_max(m, scratch);
	float sum = 0;
	for (i64 j = thread(); j < n; j += BLOCK) {
		float e = exp_(x[j] - m);
		out[j] = e;
		sum += e;
	}
	*top = m;
	return block_sum(sum, scratch);
}

// ---- elementwise ------------------------------------------------------------

KERNEL void add_to(float *dst, const float *src, i64 n) {
	EACH(i, n) dst[i] += src[i];
}

KERNEL void scale(float *x, double s, i64 n) {
	EACH(i, n) x[i] *= (float)s;
}

// sum_squares writes one partial sum per block; the host adds them in
// float64, in block order, so the result is deterministic.
KERNEL void sum_squares(double *partial, const float *x, i64 n) {
	SHARED double scratch[BLOCK];
	double acc = 0;
	EACH(i, n) acc += (double)x[i] * x[i];
	scratch[thread()] = acc;
	__syncthreads();
	for (int s = BLOCK / 2; s > 0; s >>= 1) {
		if (thread() < s) scratch[thread()] += scratch[thread() + s];
		__syncthreads();
	}
	if (thread() == 0) partial[block()] = scratch[0];
}

// silu(g)·u, with σ(g) = 1/(1+e^-g); e^-g = +Inf for very negative g gives 0.
KERNEL void swiglu(float *out, const float *gate, const float *up, i64 n) {
	EACH(i, n) out[i] = gate[i] * up[i] / (1 + exp_(-gate[i]));
}

KERNEL void swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, i64 n) {
	EACH(i, n) {
		float g = gate[i], s = 1 / (1 + exp_(-g));
		dup[i] = dout[i] * g * s;
		dgate[i] = dout[i] * up[i] * s * (1 + g * (1 - s));
	}
}

KERNEL void adamw(float *p, const float *g, float *m, float *v, i64 n,
		double beta1, double beta2, double eps, double decay, double step_size, double sqrt_bc2) {
	float b1 = beta1, b2 = beta2, e = eps, dec = decay, ss = step_size, sb = sqrt_bc2;
	EACH(i, n) {
		float mi = b1 * m[i] + (1 - b1) * g[i];
		float vi = b2 * v[i] + (1 - b2) * g[i] * g[i];
		m[i] = mi;
		v[i] = vi;
		p[i] = p[i] * dec - ss * mi / (sqrt_(vi) / sb + e);
	}
}

// ---- rows: gather, scatter --------------------------------------------------

// gather_rows: dst[j] = src[ids[j]], rows of d values.
KERNEL void gather_rows(float *dst, const float *src, const int *ids, i64 nids, i64 d) {
	EACH(i, nids * d) dst[i] = src[(i64)ids[i / d] * d + i % d];
}

// scatter_add_rows: dst[ids[j]] += src[j]; repeated ids add atomically.
KERNEL void scatter_add_rows(float *dst, const float *src, const int *ids, i64 nids, i64 d) {
	EACH(i, nids * d) __nvvm_atom_add_gen_f(&dst[(i64)ids[i / d] * d + i % d], src[i]);
}

// ---- bfloat16 ---------------------------------------------------------------
// A bfloat16 is the high half of a float32. The conversions are integer
// operations: sm_70 has no cvt to bfloat16, and integers round the same on
// every GPU and in the emulator.

DEVICE float bf16_widen(u16 h) {
	union { u32 u; float f; } v = {(u32)h << 16};
	return v.f;
}

// bf16_round rounds to nearest, ties to even, as engine/bf16.FromF32 does.
DEVICE u16 bf16_round(float f) {
	union { float f; u32 u; } v = {f};
	return (u16)((v.u + 0x7fff + (v.u >> 16 & 1)) >> 16);
}

KERNEL void to_bf16(u16 *dst, const float *src, i64 n) {
	EACH(i, n) dst[i] = bf16_round(src[i]);
}

// gather_rows_bf16 is gather_rows from a bfloat16 table, widened.
KERNEL void gather_rows_bf16(float *dst, const u16 *src, const int *ids, i64 nids, i64 d) {
	EACH(i, nids * d) dst[i] = bf16_widen(src[(i64)ids[i / d] * d + i % d]);
}

// ---- RMSNorm ----------------------------------------------------------------

KERNEL void rmsnorm(float *out, float *rstd, const float *x, const float *w, i64 rows, i64 d, double eps) {
	SHARED float scratch[BLOCK];
	EACH_ROW(r, rows) {
		const float *xr = x + r * d;
		float ss = 0;
		for (i64 j = thread(); j < d; j += BLOCK) ss += xr[j] * xr[j];
		ss = block_sum(ss, scratch);
		float s = 1 / sqrt_(ss / d + (float)eps);
		if (thread() == 0) rstd[r] = s;
		for (i64 j = thread(); j < d; j += BLOCK) out[r * d + j] = xr[j] * s * w[j];
	}
}

// dx += s·dy·w − s³/d · x · Σ(dy·w·x), one block per row.
KERNEL void rmsnorm_backward_x(float *dx, const float *dout, const float *x, const float *w, const float *rstd, i64 rows, i64 d) {
	SHARED float scratch[BLOCK];
	EACH_ROW(r, rows) {
		const float *xr = x + r * d, *dy = dout + r * d;
		float dot = 0;
		for (i64 j = thread(); j < d; j += BLOCK) dot += dy[j] * w[j] * xr[j];
		dot = block_sum(dot, scratch);
		float s = rstd[r], c = s * s * s * dot / d;
		for (i64 j = thread(); j < d; j += BLOCK) dx[r * d + j] += s * dy[j] * w[j] - c * xr[j];
	}
}

// dw += Σ_rows dy·x·s, one thread per column, rows summed in order.
KERNEL void rmsnorm_backward_w(float *dw, const float *dout, const float *x, const float *rstd, i64 rows, i64 d) {
	EACH(j, d) {
		float acc = 0;
		for (i64 r = 0; r < rows; r++) acc += dout[r * d + j] * x[r * d + j] * rstd[r];
		dw[j] += acc;
	}
}

// ---- RoPE (rotate-half), angles from a host-computed table [seq, hd/2] ---------

KERNEL void rope(float *x, const float *cos, const float *sin, i64 rows, i64 seq, i64 heads, i64 hd, double sign) {
	i64 half = hd / 2;
	EACH(i, rows * heads * half) {
		i64 row = i / (heads * half), h = i / half % heads, j = i % half;
		i64 t = row % seq * half + j;
		float c = cos[t], s = (float)sign * sin[t];
		float *v = x + row * heads * hd + h * hd;
		float a = v[j], b = v[j + half];
		v[j] = a * c - b * s;
		v[j + half] = b * c + a * s;
	}
}

// ---- softmax over rows (attention) -----------------------------------------

KERNEL void softmax_rows(float *p, i64 rows, i64 n) {
	SHARED float scratch[BLOCK];
	EACH_ROW(r, rows) {
		float *row = p + r * n, top;
		float sum = row_exp(row, row, n, scratch, &top);
		for (i64 j = thread(); j < n; j += BLOCK) row[j] /= sum;
	}
}

// ds = p ⊙ (ds − Σ p⊙ds), the softmax backward, per row.
KERNEL void softmax_backward_rows(float *ds, const float *p, i64 rows, i64 n) {
	SHARED float scratch[BLOCK];
	EACH_ROW(r, rows) {
		float *dr = ds + r * n;
		const float *pr = p + r * n;
		float dot = 0;
		for (i64 j = thread(); j < n; j += BLOCK) dot += pr[j] * dr[j];
		dot = block_sum(dot, scratch);
		for (i64 j = thread(); j < n; j += BLOCK) dr[j] = pr[j] * (dr[j] - dot);
	}
}

// ---- cross-entropy fused with its gradient ------------------------------------

// loss[j] = w_j·(log Σ exp(l_j) − l_j[t_j]); dl_j = w_j·(softmax(l_j) − onehot(t_j)).
KERNEL void cross_entropy(float *dl, double *loss, const float *logits, const int *targets, const float *weights, i64 rows, i64 v) {
	SHARED float scratch[BLOCK];
	EACH_ROW(r, rows) {
		const float *l = logits + r * v;
		float *g = dl + r * v, m;
		float sum = row_exp(g, l, v, scratch, &m);
		int t = targets[r];
		float w = weights[r];
		for (i64 j = thread(); j < v; j += BLOCK) g[j] = g[j] * (w / sum) - (j == t ? w : 0);
		if (thread() == 0) loss[r] = (double)w * ((double)log_(sum) - (double)(l[t] - m));
	}
}

// ---- GEMM ---------------------------------------------------------------------
// C = alpha·op(A)·op(B) + beta·C, row-major, batched over grid z: batch z is
// at outer index z / inner and inner index z % inner, each with its own
// stride, which covers attention's [batch, heads] layout in one launch.
// 64×64 tiles of C per block of 256 threads, 4×4 per thread, k in steps of 16.
// B holds float32, or bfloat16 when b16 is set, widened as its tiles load.

#define TM 64
#define TN 64
#define TK 16

KERNEL void sgemm(float *C, const float *A, const void *B, i64 m, i64 n, i64 k,
		i64 lda, i64 ldb, i64 ldc, i64 transA, i64 transB, i64 b16, double alpha, double beta,
		i64 inner, i64 sA0, i64 sA1, i64 sB0, i64 sB1, i64 sC0, i64 sC1) {
	SHARED float As[TK][TM + 4];
	SHARED float Bs[TK][TN + 4];
	i64 z = __nvvm_read_ptx_sreg_ctaid_z(), zo = z / inner, zi = z % inner;
	A += zo * sA0 + zi * sA1;
	i64 offB = zo * sB0 + zi * sB1;
	C += zo * sC0 + zi * sC1;
	i64 bm = (i64)__nvvm_read_ptx_sreg_ctaid_y() * TM, bn = (i64)block() * TN;
	int t = thread(), tr = t / 16, tc = t % 16;
	float acc[4][4] = {{0}};
	for (i64 k0 = 0; k0 < k; k0 += TK) {
		for (int e = t; e < TM * TK; e += BLOCK) {
			int i, kk;
			if (transA) i = e % TM, kk = e / TM; // consecutive threads read consecutive rows of Aᵀ
			else i = e / TK, kk = e % TK;
			i64 gi = bm + i, gk = k0 + kk;
			float a = 0;
			if (gi < m && gk < k) a = transA ? A[gk * lda + gi] : A[gi * lda + gk];
			As[kk][i] = a;
		}
		for (int e = t; e < TK * TN; e += BLOCK) {
			int j, kk;
			if (transB) j = e / TK, kk = e % TK;
			else j = e % TN, kk = e / TN;
			i64 gj = bn + j, gk = k0 + kk;
			float b = 0;
			if (gj < n && gk < k) {
				i64 at = offB + (transB ? gj * ldb + gk : gk * ldb + gj);
				b = b16 ? bf16_widen(((const u16 *)B)[at]) : ((const float *)B)[at];
			}
			Bs[kk][j] = b;
		}
		__syncthreads();
		for (int kk = 0; kk < TK; kk++) {
			float a[4], b[4];
			for (int i = 0; i < 4; i++) a[i] = As[kk][tr + 16 * i];
			for (int j = 0; j < 4; j++) b[j] = Bs[kk][tc + 16 * j];
			for (int i = 0; i < 4; i++)
				for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
		}
		__syncthreads();
	}
	float al = alpha, be = beta;
	for (int i = 0; i < 4; i++) {
		i64 gi = bm + tr + 16 * i;
		if (gi >= m) continue;
		for (int j = 0; j < 4; j++) {
			i64 gj = bn + tc + 16 * j;
			if (gj >= n) continue;
			float *c = &C[gi * ldc + gj];
			*c = be == 0 ? al * acc[i][j] : al * acc[i][j] + be * *c;
		}
	}
}
