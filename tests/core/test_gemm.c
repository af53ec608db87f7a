/*
 * test_gemm.c — the fast GEMM (all its paths) against the reference GEMM:
 * the AVX2 one, or the AVX-512 one when DELTALAB_ISA=avx512 (tests/run.sh
 * runs the suite under every ISA the CPU has).
 *
 * Shapes cover 1×1, 1×n, n×1 (the GEMV paths), K = 1 (the rank-1 path), sizes
 * that are not multiples of the 6×16 or 14×32 tiles, sizes crossing the
 * MC = 144 / 112, KC = 384 / 512, KC_NT = 4096 and NC = 3072 block edges, M ≤ 48 (the paths that
 * read B in place), every operand order, strided views, and
 * alpha/beta cases; each with 1, 2 and 3 threads (3 > cores gives uneven
 * stripes).
 *
 * Tolerance, element by element: any order of K float multiply-adds differs
 * from the exact sum by at most γ_K·Σ_k |a_ik||b_kj| with γ_K ≈ K·u
 * (u = 2^-24, Higham §3.1); the reference accumulates in double, so it is
 * within u of exact. Scaling by alpha and adding beta·C add two roundings of
 * their magnitude. We allow 2·(K + 2)·u·(|alpha|·Σ|a||b| + |beta·c|): the
 * factor 2 covers the reference's own final rounding and the FMA-vs-separate
 * rounding difference between the kernel's full and edge tiles.
 */
#include "check.h"
#include "gemm.h"
#include "kern.h"
#include "rng.h"
#include "threads.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

static rng R;

/* The GEMM under test (main picks it). */
static void (*fast_gemm)(int, int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);

static float *random_matrix(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = (float)(2 * rng_uniform(&R) - 1);
    return p;
}

/* op(X)(i, k) for a stored X with stride ld. */
static float opx(const float *X, int ld, int t, int i, int k)
{
    return t ? X[(size_t)k * ld + i] : X[(size_t)i * ld + k];
}

/* One case: returns the number of elements out of tolerance (and prints the first). */
static int gemm_case(int tA, int tB, int M, int N, int K, float alpha, float beta, int pad)
{
    int ar = tA ? K : M, ac = tA ? M : K, br = tB ? N : K, bc = tB ? K : N;
    int lda = ac + pad, ldb = bc + pad, ldc = N + pad;
    float *A = random_matrix((size_t)ar * lda), *B = random_matrix((size_t)br * ldb);
    float *C0 = random_matrix((size_t)M * ldc);
    float *Cr = malloc((size_t)M * ldc * sizeof *Cr), *Cf = malloc((size_t)M * ldc * sizeof *Cf);
    memcpy(Cr, C0, (size_t)M * ldc * sizeof *Cr);
    memcpy(Cf, C0, (size_t)M * ldc * sizeof *Cf);
    if (beta == 0)  /* beta == 0 must not read C: poison it */
        for (size_t i = 0; i < (size_t)M * ldc; i++) Cf[i] = NAN;
    kern_reference()->gemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, Cr, ldc);
    fast_gemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, Cf, ldc);
    int bad = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < ldc; j++) {
            size_t at = (size_t)i * ldc + j;
            if (j >= N) {  /* padding between rows must be untouched */
                if (!(Cf[at] == C0[at] || (beta == 0 && isnan(Cf[at])))) bad++;
                continue;
            }
            double mag = 0;
            for (int k = 0; k < K; k++)
                mag += fabs((double)opx(A, lda, tA, i, k) * opx(B, ldb, tB, k, j));
            double tol = 2.0 * (K + 2) * FLT_EPSILON / 2 *
                         (fabs(alpha) * mag + fabs(beta * C0[at])) + FLT_MIN;
            if (!(fabs((double)Cf[at] - Cr[at]) <= tol)) {
                if (!bad)
                    printf("  %s%s M=%d N=%d K=%d alpha=%g beta=%g pad=%d: C[%d][%d] = %.9g, want %.9g (tol %.3g)\n",
                           tA ? "T" : "N", tB ? "T" : "N", M, N, K, alpha, beta, pad, i, j,
                           Cf[at], Cr[at], tol);
                bad++;
            }
        }
    free(A); free(B); free(C0); free(Cr); free(Cf);
    return bad;
}

static const int shapes[][3] = {
    { 1, 1, 1 }, { 1, 17, 9 }, { 13, 1, 9 }, { 1, 1, 100 }, { 1, 784, 300 }, { 300, 1, 333 },
    { 7, 9, 1 }, { 40, 100, 1 },                        /* rank-1 */
    { 6, 16, 8 }, { 12, 32, 64 }, { 5, 15, 7 }, { 7, 17, 3 }, { 19, 33, 37 },
    { 150, 70, 400 },                                   /* crosses MC and KC */
    { 97, 131, 513 }, { 32, 200, 784 }, { 200, 40, 32 },
    { 3, 3100, 5 },                                     /* crosses NC */
    { 5, 20, 4500 },                                    /* crosses KC_NT (small-M A·Bᵀ) */
    { 14, 32, 8 }, { 15, 33, 257 }, { 170, 70, 300 },   /* the 14×32 tile and its blocks */
    { 32, 3136, 40 }, { 50, 64, 100 }, { 120, 40, 1030 },
};

static const float alphabeta[][2] = { { 1, 0 }, { 0.5f, 2 }, { -1, 1 }, { 0, 0.5f }, { 2, 0 } };

static void all_cases(void)
{
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int t = 0; t < 4; t++)
            for (int p = 0; p < 2; p++) {
                const float *ab = alphabeta[(s + t + p) % 5];
                CHECK(gemm_case(t >> 1, t & 1, shapes[s][0], shapes[s][1], shapes[s][2],
                                ab[0], ab[1], p ? 3 : 0) == 0);
            }
}

static void test_gemm_one_thread(void)    { dl_threads_set(1); all_cases(); }
static void test_gemm_two_threads(void)   { dl_threads_set(2); all_cases(); }
static void test_gemm_three_threads(void) { dl_threads_set(3); all_cases(); }

/* Random shapes and alpha/beta, for what the list above did not think of. */
static void test_gemm_random_shapes(void)
{
    dl_threads_set(2);
    for (int n = 0; n < 60; n++) {
        int M = 1 + (int)rng_below(&R, 70), N = 1 + (int)rng_below(&R, 70);
        int K = 1 + (int)rng_below(&R, 300), t = (int)rng_below(&R, 4);
        float alpha = (float)(rng_uniform(&R) * 4 - 2), beta = rng_below(&R, 3) ? (float)rng_uniform(&R) : 0;
        CHECK(gemm_case(t >> 1, t & 1, M, N, K, alpha, beta, (int)rng_below(&R, 5)) == 0);
    }
}

/* Zero sizes and K == 0: C = beta·C, and nothing at all when M or N is 0. */
static void test_gemm_degenerate(void)
{
    float A[4] = { 1, 2, 3, 4 }, B[4] = { 1, 2, 3, 4 }, C[4] = { 1, 2, 3, 4 };
    fast_gemm(0, 0, 2, 2, 0, 1, A, 2, B, 2, 3, C, 2);
    CHECK(C[0] == 3 && C[3] == 12);
    for (int i = 0; i < 4; i++) C[i] = NAN;
    fast_gemm(0, 0, 2, 2, 2, 0, A, 2, B, 2, 0, C, 2);
    CHECK(C[0] == 0 && C[1] == 0 && C[2] == 0 && C[3] == 0);
    C[0] = 7;
    fast_gemm(0, 0, 0, 2, 2, 1, A, 2, B, 2, 0, C, 2);
    CHECK(C[0] == 7);
}

/* The active table (DELTALAB_ISA decides which) gives the hand-worked product. */
static void test_gemm_active_table_by_hand(void)
{
    float a[] = { 1, 2, 3, 4, 5, 6 }, b[] = { 7, 8, 9, 10, 11, 12 }, c[4];
    kern()->gemm(0, 0, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2);
    CHECK(c[0] == 58 && c[1] == 64 && c[2] == 139 && c[3] == 154);
    kern()->gemm(1, 1, 2, 2, 3, 1, b, 2, a, 3, 0, c, 2);  /* (A·B)ᵀ = Bᵀ·Aᵀ */
    CHECK(c[0] == 58 && c[1] == 139 && c[2] == 64 && c[3] == 154);
}

int main(void)
{
    rng_seed(&R, 42);
    const char *isa = getenv("DELTALAB_ISA");
    fast_gemm = gemm_avx2;
    if (isa && strcmp(isa, "avx512") == 0 && kern_avx512()) {
        fast_gemm = gemm_avx512;
        printf("testing the AVX-512 GEMM\n");
    }
    if (!kern_avx2()) {
        printf("no AVX2+FMA here: only the reference is tested\n");
        RUN(test_gemm_active_table_by_hand);
        return check_summary();
    }
    RUN(test_gemm_active_table_by_hand);
    RUN(test_gemm_degenerate);
    RUN(test_gemm_one_thread);
    RUN(test_gemm_two_threads);
    RUN(test_gemm_three_threads);
    RUN(test_gemm_random_shapes);
    return check_summary();
}
