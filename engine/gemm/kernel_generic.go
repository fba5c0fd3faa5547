package gemm

// goKernel is the portable micro-kernel: a 4×4 tile whose sixteen sums
// live in local variables, so the compiler can keep most of them in
// registers.
var goKernel = kernel{name: "go", mr: 4, nr: 4, fn: kernelGo}

func kernelGo(k int, a, b, c []float32, ldc int, acc bool) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	a, b = a[:4*k], b[:4*k]
	for len(a) >= 4 && len(b) >= 4 {
		a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		a, b = a[4:], b[4:]
	}
	store4(c[0*ldc:0*ldc+4], acc, c00, c01, c02, c03)
	store4(c[1*ldc:1*ldc+4], acc, c10, c11, c12, c13)
	store4(c[2*ldc:2*ldc+4], acc, c20, c21, c22, c23)
	store4(c[3*ldc:3*ldc+4], acc, c30, c31, c32, c33)
}

func store4(c []float32, acc bool, v0, v1, v2, v3 float32) {
	if acc {
		v0 += c[0]
		v1 += c[1]
		v2 += c[2]
		v3 += c[3]
	}
	c[0], c[1], c[2], c[3] = v0, v1, v2, v3
}
