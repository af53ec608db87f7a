/*
 * gemm_avx512.c — C = alpha·op(A)·op(B) + beta·C with AVX-512F: the
 * micro-kernel and its block sizes; packing, blocking, the vector paths and
 * threading are gemm_body.h, the same code as the AVX2 GEMM's.
 *
 * The register tile is MR×NR = 14×32: two zmm of B per k, fourteen broadcasts
 * of A (folded into the FMAs as {1to16} memory operands), 28 accumulators —
 * with the two B registers 30 of the 32 zmm. 28 independent FMAs per k cover
 * the FMA latency on two 512-bit pipes (Intel) as well as on Zen 4's one
 * double-pumped pipe. NR = 32 is a batch of 32 in one sliver, so the
 * batch-32 forward product (gemm_small_nt, Cᵀ = W·Aᵀ) runs whole tiles only.
 *
 * Block sizes (Zen 4: L1d 32 KiB, L2 1 MiB per core):
 *   KC = 512  the kc×NR B sliver (64 KiB) streams from L2 — each k reads 184
 *             bytes for 28 FMAs, well within L2's bandwidth — and the deep
 *             block halves the C-tile loads and stores of KC = 256;
 *   MC = 112  eight slivers, a 224 KiB packed A block in L2;
 *   NC = 3072 as for AVX2: the training products need one or two B blocks.
 * Chosen by a sweep on this Zen 4 (square 1024 and 2048, 1 thread, CPU time,
 * a loaded machine): KC 128 / 256 / 384 / 512 / 640 / 768 / 1024 with MC
 * 84..336 gave 70-76 / 79-83 / 85-89 / 86-95 / 83-85 / 79-87 / 87-89
 * GFLOPS; the E2 training step was no slower at 512 than at 256.
 */
#include "gemm.h"
#include "avx2_util.h"
#include "threads.h"

#include <immintrin.h>
#include <string.h>

enum { MR = 14, NR = 32 };
enum { KC = 512, MC = 112, NC = 3072 };

/* The micro-kernel contract is gemm_avx2.c's, with this MR and NR. */
static inline __attribute__((always_inline)) void
tile_kernel(const int mr, int kc, const int *ks, const float *const a[MR], const int astep,
            const float *restrict Bp, int ldbp, float alpha, float beta, float *restrict C, int ldc)
{
    __m512 c[MR][2];
#pragma GCC unroll 14
    for (int r = 0; r < mr; r++) {
        c[r][0] = c[r][1] = _mm512_setzero_ps();
        _mm_prefetch((const char *)(C + (size_t)r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(C + (size_t)r * ldc + NR - 1), _MM_HINT_T0);
    }
#pragma GCC unroll 2
    for (int t = 0; t < kc; t++) {
        size_t k = ks ? (size_t)ks[t] : (size_t)t;
        const float *b = Bp + k * ldbp;
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 14
        for (int r = 0; r < mr; r++) {
            __m512 ar = _mm512_set1_ps(a[r][k * astep]);
            c[r][0] = _mm512_fmadd_ps(ar, b0, c[r][0]);
            c[r][1] = _mm512_fmadd_ps(ar, b1, c[r][1]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha);
    if (beta == 0) {
#pragma GCC unroll 14
        for (int r = 0; r < mr; r++) {
            _mm512_storeu_ps(C + (size_t)r * ldc, _mm512_mul_ps(va, c[r][0]));
            _mm512_storeu_ps(C + (size_t)r * ldc + 16, _mm512_mul_ps(va, c[r][1]));
        }
    } else {
        __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
        for (int r = 0; r < mr; r++) {
            float *cr = C + (size_t)r * ldc;
            _mm512_storeu_ps(cr, _mm512_fmadd_ps(va, c[r][0], _mm512_mul_ps(vb, _mm512_loadu_ps(cr))));
            _mm512_storeu_ps(cr + 16, _mm512_fmadd_ps(va, c[r][1], _mm512_mul_ps(vb, _mm512_loadu_ps(cr + 16))));
        }
    }
}

#define SLIVER_ROWS(Ap) { Ap, Ap + 1, Ap + 2, Ap + 3, Ap + 4, Ap + 5, Ap + 6, Ap + 7, \
                          Ap + 8, Ap + 9, Ap + 10, Ap + 11, Ap + 12, Ap + 13 }

/* The short tiles kernel_rows and kernel_rowptr are specialised for. */
#define PARTIAL_ROWS(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) \
                        X(8) X(9) X(10) X(11) X(12) X(13)

/* No software prefetch of W's next rows in gemm_small_nt: 14 rows of up to
 * 4096 floats at once filled the miss buffers and stalled on the prefetches
 * (70 % of that function's samples in perf); without them the E2 step took
 * 17.5-18.7 ms CPU against 19.2-20.7 on this Zen 4 (three alternating runs),
 * the hardware prefetcher following the rows. */
#define GEMM_ENTRY gemm_avx512
#define BACKSTEP_ENTRY gemm_avx512_backward_step
#define PREFETCH_NEXT_ROWS 0
#include "gemm_body.h"
