//go:build amd64 && !purego

#include "textflag.h"

// Both kernels compute C (+)= A·B for one tile. Per k they load one row of
// the packed B panel into two vector registers, broadcast each of the mr
// values of the packed A panel in turn, and issue two FMAs per broadcast.
//
// Registers: CX counts k, SI walks A, DI walks B, DX walks the rows of C,
// R8 is the row stride of C in bytes.

// AVX2: one A value times the 16-wide B row, into a row's two accumulators.
#define FMA6x16(off, c0, c1) \
	VBROADCASTSS off(SI), Y14; \
	VFMADD231PS  Y12, Y14, c0; \
	VFMADD231PS  Y13, Y14, c1

// AVX2: write (or add) a row's two accumulators to C and step to the next row.
#define STORE6x16(c0, c1) \
	VMOVUPS c0, (DX);   \
	VMOVUPS c1, 32(DX); \
	ADDQ    R8, DX

#define ADD6x16(c0, c1) \
	VADDPS  (DX), c0, c0;   \
	VADDPS  32(DX), c1, c1; \
	STORE6x16(c0, c1)

// func gemm6x16(k int, a, b, c *float32, ldc int, acc bool)
TEXT ·gemm6x16(SB), NOSPLIT, $0-41
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	TESTQ CX, CX
	JEQ   store6x16

loop6x16:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	FMA6x16(0, Y0, Y1)
	FMA6x16(4, Y2, Y3)
	FMA6x16(8, Y4, Y5)
	FMA6x16(12, Y6, Y7)
	FMA6x16(16, Y8, Y9)
	FMA6x16(20, Y10, Y11)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  loop6x16

store6x16:
	MOVB  acc+40(FP), AX
	TESTB AL, AL
	JEQ   overwrite6x16
	ADD6x16(Y0, Y1)
	ADD6x16(Y2, Y3)
	ADD6x16(Y4, Y5)
	ADD6x16(Y6, Y7)
	ADD6x16(Y8, Y9)
	ADD6x16(Y10, Y11)
	VZEROUPPER
	RET

overwrite6x16:
	STORE6x16(Y0, Y1)
	STORE6x16(Y2, Y3)
	STORE6x16(Y4, Y5)
	STORE6x16(Y6, Y7)
	STORE6x16(Y8, Y9)
	STORE6x16(Y10, Y11)
	VZEROUPPER
	RET

// AVX-512: one A value times the 32-wide B row, into a row's two accumulators.
#define FMA12x32(off, c0, c1) \
	VBROADCASTSS off(SI), Z26; \
	VFMADD231PS  Z24, Z26, c0; \
	VFMADD231PS  Z25, Z26, c1

#define STORE12x32(c0, c1) \
	VMOVUPS c0, (DX);   \
	VMOVUPS c1, 64(DX); \
	ADDQ    R8, DX

#define ADD12x32(c0, c1) \
	VADDPS  (DX), c0, c0;   \
	VADDPS  64(DX), c1, c1; \
	STORE12x32(c0, c1)

// func gemm12x32(k int, a, b, c *float32, ldc int, acc bool)
TEXT ·gemm12x32(SB), NOSPLIT, $0-41
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

	TESTQ CX, CX
	JEQ   store12x32

loop12x32:
	VMOVUPS (DI), Z24
	VMOVUPS 64(DI), Z25
	FMA12x32(0, Z0, Z1)
	FMA12x32(4, Z2, Z3)
	FMA12x32(8, Z4, Z5)
	FMA12x32(12, Z6, Z7)
	FMA12x32(16, Z8, Z9)
	FMA12x32(20, Z10, Z11)
	FMA12x32(24, Z12, Z13)
	FMA12x32(28, Z14, Z15)
	FMA12x32(32, Z16, Z17)
	FMA12x32(36, Z18, Z19)
	FMA12x32(40, Z20, Z21)
	FMA12x32(44, Z22, Z23)
	ADDQ $48, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  loop12x32

store12x32:
	MOVB  acc+40(FP), AX
	TESTB AL, AL
	JEQ   overwrite12x32
	ADD12x32(Z0, Z1)
	ADD12x32(Z2, Z3)
	ADD12x32(Z4, Z5)
	ADD12x32(Z6, Z7)
	ADD12x32(Z8, Z9)
	ADD12x32(Z10, Z11)
	ADD12x32(Z12, Z13)
	ADD12x32(Z14, Z15)
	ADD12x32(Z16, Z17)
	ADD12x32(Z18, Z19)
	ADD12x32(Z20, Z21)
	ADD12x32(Z22, Z23)
	VZEROUPPER
	RET

overwrite12x32:
	STORE12x32(Z0, Z1)
	STORE12x32(Z2, Z3)
	STORE12x32(Z4, Z5)
	STORE12x32(Z6, Z7)
	STORE12x32(Z8, Z9)
	STORE12x32(Z10, Z11)
	STORE12x32(Z12, Z13)
	STORE12x32(Z14, Z15)
	STORE12x32(Z16, Z17)
	STORE12x32(Z18, Z19)
	STORE12x32(Z20, Z21)
	STORE12x32(Z22, Z23)
	VZEROUPPER
	RET

// The packing helpers below use only SSE, which every amd64 CPU has.

// func transpose4x4(dst *float32, w int, src *float32, ld, n int, alpha float32)
TEXT ·transpose4x4(SB), NOSPLIT, $0-44
	MOVQ   dst+0(FP), DI
	MOVQ   w+8(FP), R10
	MOVQ   src+16(FP), SI
	MOVQ   ld+24(FP), R8
	MOVQ   n+32(FP), CX
	MOVSS  alpha+40(FP), X8
	SHUFPS $0, X8, X8   // alpha in every lane
	SHLQ   $2, R8         // source row stride in bytes
	LEAQ   (R8)(R8*2), R9 // three rows
	SHLQ   $2, R10        // destination group stride in bytes
	LEAQ   (R10)(R10*2), R11
	LEAQ   (R10*4), R12   // four groups

loopT:
	// Rows a, b, c, d, four values each.
	MOVUPS (SI), X0
	MOVUPS (SI)(R8*1), X1
	MOVUPS (SI)(R8*2), X2
	MOVUPS (SI)(R9*1), X3

	MOVAPS   X0, X4
	UNPCKLPS X1, X4   // a0 b0 a1 b1
	UNPCKHPS X1, X0   // a2 b2 a3 b3
	MOVAPS   X2, X5
	UNPCKLPS X3, X5   // c0 d0 c1 d1
	UNPCKHPS X3, X2   // c2 d2 c3 d3
	MOVAPS   X4, X6
	MOVLHPS  X5, X6   // a0 b0 c0 d0
	MOVHLPS  X4, X5   // a1 b1 c1 d1
	MOVAPS   X0, X7
	MOVLHPS  X2, X7   // a2 b2 c2 d2
	MOVHLPS  X0, X2   // a3 b3 c3 d3

	MULPS  X8, X6
	MULPS  X8, X5
	MULPS  X8, X7
	MULPS  X8, X2
	MOVUPS X6, (DI)
	MOVUPS X5, (DI)(R10*1)
	MOVUPS X7, (DI)(R10*2)
	MOVUPS X2, (DI)(R11*1)

	ADDQ $16, SI
	ADDQ R12, DI
	SUBQ $4, CX
	JNZ  loopT
	RET

// func scaleRows(dst *float32, w int, src *float32, ld, kc int, alpha float32)
TEXT ·scaleRows(SB), NOSPLIT, $0-44
	MOVQ   dst+0(FP), DI
	MOVQ   w+8(FP), R10
	MOVQ   src+16(FP), SI
	MOVQ   ld+24(FP), R8
	MOVQ   kc+32(FP), CX
	MOVSS  alpha+40(FP), X8
	SHUFPS $0, X8, X8 // alpha in every lane
	SHLQ   $2, R8     // source row stride in bytes
	SHLQ   $2, R10    // bytes per row

loopRow:
	XORQ AX, AX

loopCol:
	MOVUPS (SI)(AX*1), X0
	MULPS  X8, X0
	MOVUPS X0, (DI)(AX*1)
	ADDQ   $16, AX
	CMPQ   AX, R10
	JNE    loopCol

	ADDQ R8, SI
	ADDQ R10, DI
	DECQ CX
	JNZ  loopRow
	RET

// WIDEN stores column c (eight bfloat16 values) as eight float32 at (DI):
// a zero low half interleaved below each value.
#define WIDEN(c) \
	MOVO      X15, X12 \
	PUNPCKLWL c, X12   \
	MOVOU     X12, (DI) \
	MOVO      X15, X13 \
	PUNPCKHWL c, X13   \
	MOVOU     X13, 16(DI) \
	ADDQ      R10, DI

// func transposeBF16x8(dst *float32, w int, src *uint16, ld, n int)
TEXT ·transposeBF16x8(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ w+8(FP), R10
	MOVQ src+16(FP), SI
	MOVQ ld+24(FP), R8
	MOVQ n+32(FP), CX
	SHLQ $1, R8             // source row stride in bytes
	LEAQ (R8)(R8*2), R11    // three rows
	LEAQ (SI)(R8*4), R9     // rows 4 to 7
	SHLQ $2, R10            // destination group stride in bytes
	PXOR X15, X15

loopB:
	// Rows a…h, eight values each.
	MOVOU (SI), X0
	MOVOU (SI)(R8*1), X1
	MOVOU (SI)(R8*2), X2
	MOVOU (SI)(R11*1), X3
	MOVOU (R9), X4
	MOVOU (R9)(R8*1), X5
	MOVOU (R9)(R8*2), X6
	MOVOU (R9)(R11*1), X7

	// Pairs of rows, interleaved by 16 bits.
	MOVO      X0, X8
	PUNPCKLWL X1, X8 // a0 b0 … a3 b3
	PUNPCKHWL X1, X0 // a4 b4 … a7 b7
	MOVO      X2, X9
	PUNPCKLWL X3, X9 // c0 d0 … c3 d3
	PUNPCKHWL X3, X2 // c4 d4 … c7 d7
	MOVO      X4, X10
	PUNPCKLWL X5, X10 // e0 f0 … e3 f3
	PUNPCKHWL X5, X4  // e4 f4 … e7 f7
	MOVO      X6, X11
	PUNPCKLWL X7, X11 // g0 h0 … g3 h3
	PUNPCKHWL X7, X6  // g4 h4 … g7 h7

	// Quads, interleaved by 32 bits.
	MOVO      X8, X1
	PUNPCKLLQ X9, X1  // a0 b0 c0 d0 a1 b1 c1 d1
	PUNPCKHLQ X9, X8  // columns 2, 3 of a…d
	MOVO      X0, X3
	PUNPCKLLQ X2, X3  // columns 4, 5 of a…d
	PUNPCKHLQ X2, X0  // columns 6, 7 of a…d
	MOVO      X10, X5
	PUNPCKLLQ X11, X5  // columns 0, 1 of e…h
	PUNPCKHLQ X11, X10 // columns 2, 3 of e…h
	MOVO      X4, X7
	PUNPCKLLQ X6, X7   // columns 4, 5 of e…h
	PUNPCKHLQ X6, X4   // columns 6, 7 of e…h

	// Whole columns, interleaved by 64 bits.
	MOVO       X1, X2
	PUNPCKLQDQ X5, X2 // column 0
	PUNPCKHQDQ X5, X1 // column 1
	MOVO       X8, X6
	PUNPCKLQDQ X10, X6 // column 2
	PUNPCKHQDQ X10, X8 // column 3
	MOVO       X3, X9
	PUNPCKLQDQ X7, X9 // column 4
	PUNPCKHQDQ X7, X3 // column 5
	MOVO       X0, X11
	PUNPCKLQDQ X4, X11 // column 6
	PUNPCKHQDQ X4, X0  // column 7

	WIDEN(X2)
	WIDEN(X1)
	WIDEN(X6)
	WIDEN(X8)
	WIDEN(X9)
	WIDEN(X3)
	WIDEN(X11)
	WIDEN(X0)

	ADDQ $16, SI
	ADDQ $16, R9
	SUBQ $8, CX
	JNZ  loopB
	RET
