//go:build amd64 && !purego

#include "textflag.h"

// Constant rows of the table, 64 bytes apart.
#define LOG2E 0
#define LN2HI 64
#define LN2LO 128
#define P0 192
#define P1 256
#define P2 320
#define P3 384
#define P4 448
#define P5 512
#define ONE 576
#define HI 640
#define LO 704
#define BIAS 768

// func expAffineAVX512(dst, src *float32, n int, a, b float32, table *[13][16]float32, partial *[16]float32)
// n is a positive multiple of 16. partial receives the lane sums.
TEXT ·expAffineAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ table+32(FP), R8
	VBROADCASTSS a+24(FP), Z28
	VBROADCASTSS b+28(FP), Z29
	VMOVUPS LOG2E(R8), Z16
	VMOVUPS LN2HI(R8), Z17
	VMOVUPS LN2LO(R8), Z18
	VMOVUPS P0(R8), Z19
	VMOVUPS P1(R8), Z20
	VMOVUPS P2(R8), Z21
	VMOVUPS P3(R8), Z22
	VMOVUPS P4(R8), Z23
	VMOVUPS P5(R8), Z24
	VMOVUPS ONE(R8), Z25
	VMOVUPS HI(R8), Z26
	VMOVUPS LO(R8), Z27
	VMOVUPS BIAS(R8), Z30
	VXORPS Z31, Z31, Z31

loop512:
	VMOVUPS (SI), Z0
	VFMADD213PS Z29, Z28, Z0 // x = a·src + b
	VMINPS Z26, Z0, Z0
	VMAXPS Z27, Z0, Z0
	VMULPS Z16, Z0, Z1
	VCVTPS2DQ Z1, Z2         // n = round(x·log2e)
	VCVTDQ2PS Z2, Z1
	VFNMADD231PS Z17, Z1, Z0 // r = x − n·ln2, in two parts
	VFNMADD231PS Z18, Z1, Z0
	VMOVAPS Z19, Z3
	VFMADD213PS Z20, Z0, Z3
	VFMADD213PS Z21, Z0, Z3
	VFMADD213PS Z22, Z0, Z3
	VFMADD213PS Z23, Z0, Z3
	VFMADD213PS Z24, Z0, Z3
	VMULPS Z0, Z0, Z4
	VFMADD213PS Z0, Z4, Z3   // p·r² + r
	VADDPS Z25, Z3, Z3       // + 1
	VPADDD Z30, Z2, Z2       // 2^n from the exponent bits
	VPSLLD $23, Z2, Z2
	VMULPS Z2, Z3, Z3
	VMOVUPS Z3, (DI)
	VADDPS Z3, Z31, Z31
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ loop512

	MOVQ partial+40(FP), AX
	VMOVUPS Z31, (AX)
	VZEROUPPER
	RET

// func expAffineAVX2(dst, src *float32, n int, a, b float32, table *[13][16]float32, partial *[16]float32)
// n is a positive multiple of 8. The polynomial constants are read from
// memory: AVX2 has only sixteen vector registers.
TEXT ·expAffineAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ table+32(FP), R8
	VBROADCASTSS a+24(FP), Y6
	VBROADCASTSS b+28(FP), Y7
	VMOVUPS HI(R8), Y8
	VMOVUPS LO(R8), Y9
	VMOVUPS LOG2E(R8), Y10
	VMOVUPS LN2HI(R8), Y11
	VMOVUPS LN2LO(R8), Y12
	VMOVUPS ONE(R8), Y13
	VMOVUPS BIAS(R8), Y14
	VXORPS Y5, Y5, Y5

loop256:
	VMOVUPS (SI), Y0
	VFMADD213PS Y7, Y6, Y0
	VMINPS Y8, Y0, Y0
	VMAXPS Y9, Y0, Y0
	VMULPS Y10, Y0, Y1
	VCVTPS2DQ Y1, Y2
	VCVTDQ2PS Y2, Y1
	VFNMADD231PS Y11, Y1, Y0
	VFNMADD231PS Y12, Y1, Y0
	VMOVUPS P0(R8), Y3
	VFMADD213PS P1(R8), Y0, Y3
	VFMADD213PS P2(R8), Y0, Y3
	VFMADD213PS P3(R8), Y0, Y3
	VFMADD213PS P4(R8), Y0, Y3
	VFMADD213PS P5(R8), Y0, Y3
	VMULPS Y0, Y0, Y4
	VFMADD213PS Y0, Y4, Y3
	VADDPS Y13, Y3, Y3
	VPADDD Y14, Y2, Y2
	VPSLLD $23, Y2, Y2
	VMULPS Y2, Y3, Y3
	VMOVUPS Y3, (DI)
	VADDPS Y3, Y5, Y5
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loop256

	MOVQ partial+40(FP), AX
	VMOVUPS Y5, (AX)
	VZEROUPPER
	RET

// func maxAVX2(x *float32, n int, partial *[8]float32)
// n is a positive multiple of 8; partial receives the lane maxima.
TEXT ·maxAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ partial+16(FP), AX
	VMOVUPS (SI), Y0
	ADDQ $32, SI
	SUBQ $8, CX
	JZ maxdone

maxloop:
	VMAXPS (SI), Y0, Y0
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ maxloop

maxdone:
	VMOVUPS Y0, (AX)
	VZEROUPPER
	RET

// func scaleAVX2(x *float32, n int, s float32)
// x[i] *= s for a positive multiple of 8 values.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y1

scaleloop:
	VMULPS (SI), Y1, Y0
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ scaleloop
	VZEROUPPER
	RET
