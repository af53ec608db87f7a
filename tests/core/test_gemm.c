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
 * stripes). Then the same on sparse operands (zero skipping, also bit for bit
 * against the dense product) and the fused backward step against the two
 * GEMMs it replaces.
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

/* Zero about `zeros` of x's n entries (half of them as −0): sparse inputs,
 * with whole rows and columns of zeros among them when zeros is large. */
static void sparsify(float *x, size_t n, double zeros)
{
    for (size_t i = 0; i < n; i++)
        if (rng_uniform(&R) < zeros) x[i] = rng_below(&R, 2) ? 0.0f : -0.0f;
}

/* One case, A and B with a fraction `zeros` of zero entries: returns the number
 * of elements out of tolerance (and prints the first). With zeros > 0, the
 * result must also be the same, bit for bit, with zero skipping off. */
static int sparse_case(int tA, int tB, int M, int N, int K, float alpha, float beta, int pad,
                       double zeros)
{
    int ar = tA ? K : M, ac = tA ? M : K, br = tB ? N : K, bc = tB ? K : N;
    int lda = ac + pad, ldb = bc + pad, ldc = N + pad;
    float *A = random_matrix((size_t)ar * lda), *B = random_matrix((size_t)br * ldb);
    sparsify(A, (size_t)ar * lda, zeros);
    sparsify(B, (size_t)br * ldb, zeros);
    float *C0 = random_matrix((size_t)M * ldc);
    float *Cr = malloc((size_t)M * ldc * sizeof *Cr), *Cf = malloc((size_t)M * ldc * sizeof *Cf);
    memcpy(Cr, C0, (size_t)M * ldc * sizeof *Cr);
    memcpy(Cf, C0, (size_t)M * ldc * sizeof *Cf);
    if (beta == 0)  /* beta == 0 must not read C: poison it */
        for (size_t i = 0; i < (size_t)M * ldc; i++) Cf[i] = NAN;
    kern_reference()->gemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, Cr, ldc);
    fast_gemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, Cf, ldc);
    int bad = 0;
    if (zeros > 0) {
        float *Cd = malloc((size_t)M * ldc * sizeof *Cd);
        memcpy(Cd, C0, (size_t)M * ldc * sizeof *Cd);
        gemm_skips_zeros = 0;
        fast_gemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, Cd, ldc);
        gemm_skips_zeros = 1;
        for (int i = 0; i < M; i++)
            if (memcmp(Cf + (size_t)i * ldc, Cd + (size_t)i * ldc, (size_t)N * sizeof *Cf) != 0) {
                if (!bad)
                    printf("  %s%s M=%d N=%d K=%d zeros=%g: row %d differs from the dense product\n",
                           tA ? "T" : "N", tB ? "T" : "N", M, N, K, zeros, i);
                bad++;
            }
        free(Cd);
    }
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

static int gemm_case(int tA, int tB, int M, int N, int K, float alpha, float beta, int pad)
{
    return sparse_case(tA, tB, M, N, K, alpha, beta, pad, 0.0);
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
    { 300, 70, 110 }, { 301, 131, 513 }, { 290, 3100, 20 },  /* a team sharing B (M ≥ TEAM_M) */
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

/* A team with more threads than rows of MR: some parts compute nothing but
 * still pack their share of B and meet the others at every barrier. */
static void test_gemm_team_with_idle_parts(void)
{
    dl_threads_set(56);   /* 288 rows are 48 slivers: 8 parts without rows */
    CHECK(gemm_case(0, 0, 288, 64, 4000, 1.0f, 0.0f, 0) == 0);
    CHECK(gemm_case(1, 1, 288, 40, 3000, 0.5f, 2.0f, 3) == 0);
    dl_threads_set(2);
}

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

/* Zero skipping (depth_list in gemm_body.h) on sparse operands, as MNIST's
 * images (81 % zeros) are: every path — small-M A·Bᵀ (op(A)ᵀ's slivers
 * skipped), the blocked product with A's or B's slivers skipped, B read in
 * place — at densities on both sides of the 1/8 threshold and at all zeros
 * (every sliver empty: C = beta·C), against the reference and bit for bit
 * against the dense product. */
static const int sparse_shapes[][3] = {
    { 32, 784, 784 }, { 12, 40, 100 }, { 47, 33, 9 },   /* M ≤ 48 */
    { 150, 70, 400 }, { 200, 196, 32 }, { 97, 131, 513 }, { 60, 3100, 20 },
    { 300, 200, 96 },                                   /* a team sharing B */
};

static void test_zero_skip(void)
{
    static const double zeros[] = { 0.5, 0.81, 0.97, 1.0 };
    for (int th = 1; th <= 2; th++) {
        dl_threads_set(th);
        for (size_t s = 0; s < sizeof sparse_shapes / sizeof *sparse_shapes; s++)
            for (int t = 0; t < 4; t++)
                for (size_t z = 0; z < sizeof zeros / sizeof *zeros; z++) {
                    const float *ab = alphabeta[(s + t + z) % 5];
                    CHECK(sparse_case(t >> 1, t & 1, sparse_shapes[s][0], sparse_shapes[s][1],
                                      sparse_shapes[s][2], ab[0], ab[1], (int)z, zeros[z]) == 0);
                }
    }
}

/* What skipping changes, as documented: 0·Inf at a skipped depth is left out
 * (NaN without skipping), as the reference BLAS leaves it out. */
static void test_zero_skip_leaves_out_inf(void)
{
    enum { M = 32, N = 16, K = 64 };
    float *A = calloc(M * K, sizeof *A), *W = random_matrix(N * K), C[M * N], D[M * N];
    for (int i = 0; i < M; i++)
        for (int k = 0; k < 8; k++) A[i * K + k] = 1.0f;   /* depths 8.. are all zero */
    W[3 * K + 40] = INFINITY;
    dl_threads_set(1);
    fast_gemm(0, 1, M, N, K, 1.0f, A, K, W, K, 0.0f, C, N);
    gemm_skips_zeros = 0;
    fast_gemm(0, 1, M, N, K, 1.0f, A, K, W, K, 0.0f, D, N);
    gemm_skips_zeros = 1;
    CHECK(isfinite(C[3]) && isnan(D[3]));
    CHECK(C[4] == D[4]);
    free(A);
    free(W);
}

/* The backward step's fused pass (P = Δ·W, then W ← decay·W + alpha·Δᵀ·A)
 * is the two GEMMs it replaces, bit for bit, P and W (padding between rows
 * untouched): batches from 1 to 49 (past DIRECT_M: the two GEMMs
 * themselves), depths crossing KC, widths crossing NC and off the 16-column
 * grid, sparse A and Δ, 1 to 3 threads. */
static void (*fast_backstep)(int, int, int, const float *, int, float *, int, const float *, int,
                             float, float, float *, int);

static int backstep_case(int B, int n_out, int n_in, float alpha, float decay, int pad, double zeros)
{
    int ldd = n_out + pad, ldw = n_in + pad;
    float *D = random_matrix((size_t)B * ldd), *A = random_matrix((size_t)B * ldw);
    float *W = random_matrix((size_t)n_out * ldw), *W2 = malloc((size_t)n_out * ldw * sizeof *W2);
    float *P = malloc((size_t)B * ldw * sizeof *P), *P2 = malloc((size_t)B * ldw * sizeof *P2);
    sparsify(D, (size_t)B * ldd, zeros / 2);
    sparsify(A, (size_t)B * ldw, zeros);
    memcpy(W2, W, (size_t)n_out * ldw * sizeof *W2);
    for (size_t i = 0; i < (size_t)B * ldw; i++) P[i] = P2[i] = NAN;  /* P is only written */
    fast_backstep(B, n_out, n_in, D, ldd, W, ldw, A, ldw, alpha, decay, P, ldw);
    fast_gemm(0, 0, B, n_in, n_out, 1.0f, D, ldd, W2, ldw, 0.0f, P2, ldw);
    fast_gemm(1, 0, n_out, n_in, B, alpha, D, ldd, A, ldw, decay, W2, ldw);
    int bad = memcmp(W, W2, (size_t)n_out * ldw * sizeof *W) != 0;
    for (int i = 0; i < B; i++)
        bad += memcmp(P + (size_t)i * ldw, P2 + (size_t)i * ldw, (size_t)n_in * sizeof *P) != 0;
    if (bad)
        printf("  backward_step B=%d n_out=%d n_in=%d zeros=%g: %s differs from the two GEMMs\n",
               B, n_out, n_in, zeros, memcmp(W, W2, (size_t)n_out * ldw * sizeof *W) ? "W" : "P");
    free(D); free(A); free(W); free(W2); free(P); free(P2);
    return bad;
}

static void test_backward_step(void)
{
    static const int batches[] = { 1, 2, 6, 7, 13, 32, 48, 49 };
    static const int layers[][2] = { { 1, 1 }, { 5, 17 }, { 17, 33 }, { 400, 100 }, { 10, 160 },
                                     { 33, 3100 } };
    for (int th = 1; th <= 3; th++) {
        dl_threads_set(th);
        for (size_t b = 0; b < sizeof batches / sizeof *batches; b++)
            for (size_t l = 0; l < sizeof layers / sizeof *layers; l++) {
                float decay = (b + l) % 2 ? 1.0f : 0.999f;
                CHECK(backstep_case(batches[b], layers[l][0], layers[l][1], -0.01f, decay,
                                    (int)(b % 3), (b + l) % 3 ? 0.0 : 0.8) == 0);
            }
    }
}

/* The one-row path (M = 1, op(B) = B: δ·W, and a one-output layer's fused
 * update, W ← W + alpha·δᵀ·A) sums the product apart from C and adds beta·C
 * once: with beta = 1 the result is, bit for bit, C plus the product made
 * with beta = 0. Summed into C itself, each of the K terms was rounded at C's
 * magnitude: a fused linear-regression step stalled 30× farther from the
 * least-squares solution than the unfused one. */
static void test_one_row_sums_apart(void)
{
    enum { K = 200, N = 700 };   /* N past one chunk of the sum */
    float *a = random_matrix(K), *B = random_matrix((size_t)K * N), *C = random_matrix(N);
    float *P = malloc(N * sizeof *P), *Cw = malloc(N * sizeof *Cw);
    for (int j = 0; j < N; j++) C[j] = 1000.0f + C[j];   /* large beside each term */
    memcpy(Cw, C, N * sizeof *C);
    dl_threads_set(1);
    fast_gemm(1, 0, 1, N, K, -0.01f, a, 1, B, N, 0.0f, P, N);
    fast_gemm(1, 0, 1, N, K, -0.01f, a, 1, B, N, 1.0f, Cw, N);
    int bad = 0;
    for (int j = 0; j < N; j++) bad += Cw[j] != C[j] + P[j];
    CHECK(bad == 0);
    free(a); free(B); free(C); free(P); free(Cw);
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
    fast_backstep = gemm_avx2_backward_step;
    if (isa && strcmp(isa, "avx512") == 0 && kern_avx512()) {
        fast_gemm = gemm_avx512;
        fast_backstep = gemm_avx512_backward_step;
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
    RUN(test_gemm_team_with_idle_parts);
    RUN(test_gemm_random_shapes);
    RUN(test_one_row_sums_apart);
    RUN(test_zero_skip);
    RUN(test_zero_skip_leaves_out_inf);
    RUN(test_backward_step);
    return check_summary();
}
