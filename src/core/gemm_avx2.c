/*
 * gemm_avx2.c — C = alpha·op(A)·op(B) + beta·C with AVX2+FMA.
 *
 * Three layers, each with its own contract (the BLIS structure):
 *
 *   1. micro-kernel   tile_kernel (kernel_full, made from it in gemm_body.h):
 *                     one MR×NR = 6×16 tile of C from a packed
 *                     MR×kc sliver of A and a packed kc×NR sliver of B. The k
 *                     loop only, full tiles only, 12 ymm accumulators.
 *   2. packing        pack_A / pack_B copy op(A), op(B) into those slivers,
 *                     k-major and zero-padded to MR / NR, so the kernel never
 *                     sees a transpose, a stride or an edge.
 *   3. blocking       gemm_blocked: loops over NC columns, KC depth, MC rows
 *                     (sizes below), calling the kernel on full tiles and
 *                     edge_tile (an aligned stack tile) on the ragged border.
 *
 * Around them: vector paths for M == 1 or N == 1 (GEMV, batch 1) and K == 1
 * (rank-1 update), where packing would cost more than the arithmetic, and a
 * split of C into stripes run on the thread pool for large products.
 * Layers 2 and 3 and those paths are in gemm_body.h, shared with the AVX-512
 * kernel (gemm_avx512.c); this file holds the AVX2 micro-kernel and its sizes.
 *
 * Block sizes for AMD Zen 5 (this machine: L1d 48 KiB 12-way, L2 1 MiB 8-way
 * per core, large shared L3):
 *   KC = 384  a kc×NR B sliver is 24 KiB and an MR×kc A sliver 9 KiB, so both
 *             stay in L1 while the kernel streams through them;
 *   MC = 144  the packed MC×KC A block is 216 KiB, well inside L2 (it is reused
 *             for every NR-column sliver of the B block);
 *   NC = 3072 the packed KC×NC B block is 4.5 MiB, in L3, reused for every MC
 *             block; large enough that the training products (N ≤ 3136) need
 *             only one or two B blocks.
 * Chosen by a sweep of KC in {256, 384, 512} × MC in {72, 144, 288} on square
 * 512..2048 and the batch-32 products (tests/bench/gemm.c): KC = 384 was best
 * for the batch-32 products by 5-10 %, and all were within noise on squares.
 * K and M are cut into equal blocks no larger than KC / MC (784 → 4×196, not
 * 256+256+256+16), so no block is a sliver that costs a full C pass.
 */
#include "gemm.h"
#include "avx2_util.h"
#include "threads.h"

#include <immintrin.h>
#include <string.h>

/* Defined here, read by both kernel sets (gemm.h). */
int gemm_skips_zeros = 1;

enum { MR = 6, NR = 16 };
enum { KC = 384, MC = 144, NC = 3072 };

/* ---------------------------------------------------------------- kernel */

/*
 * Micro-kernel contract:
 *   a   MR row pointers into op(A) with a[r][k*astep] = op(A)(r, k): a packed
 *       MR×kc sliver (a[r] = Ap + r, astep = MR), or rows in place (astep = 1);
 *   Bp  kc×NR sliver, Bp[k*ldbp + c] = op(B)(k, c): packed (ldbp = NR), or
 *       B itself when op(B) = B and M is small (ldbp = ldb, see gemm_blocked);
 *   C   a tile of mr×NR (mr ≤ MR) with row stride ldc, any alignment;
 *   kc >= 1.
 *   ks  NULL: every depth k < kc; else the kc depths to visit, ks[0..kc), in
 *       increasing order (the ones where the sliver of the sparse operand is
 *       not all zero, see depth_list in gemm_body.h);
 * Computes C = alpha·Ap·Bp + beta·C on the first mr rows. When beta == 0, C
 * is written only. Per k: two B loads, mr broadcasts, 2·mr independent FMAs —
 * at mr = 6, twelve, enough to cover the FMA latency (4 cycles) on both FMA
 * pipes (2×4 = 8 in flight).
 *
 * mr is a compile-time constant wherever this is inlined: kernel_full is the
 * full tile; kernel_rows lets the compiler specialise it for the bottom
 * border (M = 32 is five full slivers and one of 2 rows: running that one at
 * 2/6 of the cost, not 6/6, is worth 10 % on a batch of 32).
 */
static inline __attribute__((always_inline)) void
tile_kernel(const int mr, int kc, const int *ks, const float *const a[MR], const int astep,
            const float *restrict Bp, int ldbp, float alpha, float beta, float *restrict C, int ldc)
{
    __m256 c[MR][2];
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++) {
        c[r][0] = c[r][1] = _mm256_setzero_ps();
        _mm_prefetch((const char *)(C + (size_t)r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(C + (size_t)r * ldc + NR - 1), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int t = 0; t < kc; t++) {
        size_t k = ks ? (size_t)ks[t] : (size_t)t;
        const float *b = Bp + k * ldbp;
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
        for (int r = 0; r < mr; r++) {
            __m256 ar = _mm256_broadcast_ss(a[r] + k * astep);
            c[r][0] = _mm256_fmadd_ps(ar, b0, c[r][0]);
            c[r][1] = _mm256_fmadd_ps(ar, b1, c[r][1]);
        }
    }
    __m256 va = _mm256_set1_ps(alpha);
    if (beta == 0) {
#pragma GCC unroll 6
        for (int r = 0; r < mr; r++) {
            _mm256_storeu_ps(C + (size_t)r * ldc, _mm256_mul_ps(va, c[r][0]));
            _mm256_storeu_ps(C + (size_t)r * ldc + 8, _mm256_mul_ps(va, c[r][1]));
        }
    } else {
        __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
        for (int r = 0; r < mr; r++) {
            float *cr = C + (size_t)r * ldc;
            _mm256_storeu_ps(cr, _mm256_fmadd_ps(va, c[r][0], _mm256_mul_ps(vb, _mm256_loadu_ps(cr))));
            _mm256_storeu_ps(cr + 8, _mm256_fmadd_ps(va, c[r][1], _mm256_mul_ps(vb, _mm256_loadu_ps(cr + 8))));
        }
    }
}

#define SLIVER_ROWS(Ap) { Ap, Ap + 1, Ap + 2, Ap + 3, Ap + 4, Ap + 5 }

/* The short tiles kernel_rows and kernel_rowptr are specialised for. */
#define PARTIAL_ROWS(X) X(1) X(2) X(3) X(4) X(5)

#define GEMM_ENTRY gemm_avx2
#define BACKSTEP_ENTRY gemm_avx2_backward_step
#define PREFETCH_NEXT_ROWS 1
#include "gemm_body.h"
