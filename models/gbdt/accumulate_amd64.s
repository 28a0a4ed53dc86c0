//go:build amd64 && !purego

#include "textflag.h"

// prefetchRows is how many rows ahead the bins and gradients are prefetched.
#define prefetchRows 16

// func accumulateIdx(h *[256]gradPair, bins *byte, d int, rows *int32, n int, grad *gradPair)
//
// For each of the n rows r = rows[k]: adds grad[r] to h[f][bins[r*d+f]]
// for every feature f < d. The histograms of consecutive features are
// 4096 bytes apart. A gradient pair is added with one ADDPD, which rounds
// each lane exactly as two scalar additions would.
TEXT ·accumulateIdx(SB), NOSPLIT, $0-48
	MOVQ h+0(FP), DI
	MOVQ bins+8(FP), SI
	MOVQ d+16(FP), DX
	MOVQ rows+24(FP), R8
	MOVQ n+32(FP), R9
	MOVQ grad+40(FP), R10
	TESTQ R9, R9
	JLE done

row:
	// Prefetch the bins (up to two cache lines) and the gradient pair of
	// the row prefetchRows ahead, while there is one.
	CMPQ R9, $prefetchRows
	JLE noprefetch
	MOVLQSX (prefetchRows*4)(R8), AX
	MOVQ AX, BX
	SHLQ $4, BX
	PREFETCHT0 (R10)(BX*1)
	IMULQ DX, AX
	PREFETCHT0 (SI)(AX*1)
	LEAQ -1(SI)(DX*1), BX
	PREFETCHT0 (BX)(AX*1)

noprefetch:
	MOVLQSX (R8), AX
	MOVQ AX, BX
	SHLQ $4, BX
	MOVUPD (R10)(BX*1), X0
	IMULQ DX, AX
	LEAQ (SI)(AX*1), R11
	MOVQ DI, R12
	MOVQ DX, CX
	CMPQ CX, $4
	JLT tail

quad:
	MOVBQZX 0(R11), AX
	MOVBQZX 1(R11), BX
	MOVBQZX 2(R11), R13
	MOVBQZX 3(R11), R14
	SHLQ $4, AX
	SHLQ $4, BX
	SHLQ $4, R13
	SHLQ $4, R14
	MOVUPD 0(R12)(AX*1), X1
	ADDPD X0, X1
	MOVUPD X1, 0(R12)(AX*1)
	MOVUPD 4096(R12)(BX*1), X2
	ADDPD X0, X2
	MOVUPD X2, 4096(R12)(BX*1)
	MOVUPD 8192(R12)(R13*1), X3
	ADDPD X0, X3
	MOVUPD X3, 8192(R12)(R13*1)
	MOVUPD 12288(R12)(R14*1), X4
	ADDPD X0, X4
	MOVUPD X4, 12288(R12)(R14*1)
	ADDQ $4, R11
	ADDQ $16384, R12
	SUBQ $4, CX
	CMPQ CX, $4
	JGE quad

tail:
	TESTQ CX, CX
	JEQ next

one:
	MOVBQZX (R11), AX
	SHLQ $4, AX
	MOVUPD (R12)(AX*1), X1
	ADDPD X0, X1
	MOVUPD X1, (R12)(AX*1)
	INCQ R11
	ADDQ $4096, R12
	DECQ CX
	JNE one

next:
	ADDQ $4, R8
	DECQ R9
	JNE row

done:
	RET
