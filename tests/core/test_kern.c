/*
 * test_kern.c — every element-wise, row-wise, reduction and batch-1 dense
 * kernel of the AVX2 table against the reference table, plus hand-worked values for the
 * reference itself (so the oracle is checked too). GEMM has test_gemm.c and
 * the exp/log/tanh error sweep test_vmath.c.
 *
 * Lengths cover 0, 1, below / at / above one 8-lane vector, odd tails, and
 * 100 000 (long enough to be split over the thread pool). Tolerances, per
 * kernel, are stated where they are used; u = 2^-24 is float's unit roundoff.
 */
#include "check.h"
#include "gemm.h"
#include "kern.h"
#include "mat.h"
#include "rng.h"
#include "threads.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#define U (FLT_EPSILON / 2)

static rng R;
static const size_t lens[] = { 0, 1, 3, 7, 8, 9, 16, 31, 33, 100, 1001, 100000 };
#define NLENS (sizeof lens / sizeof *lens)

/* n floats uniform in [lo, hi), with a few specials sprinkled in when asked. */
static float *vec(size_t n, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * (float)rng_uniform(&R);
    return p;
}

/* |f − r| ≤ rel·|r| + abs element by element, NaN matching NaN; prints the first miss. */
static int close_all(const char *what, size_t n, const float *f, const float *r, double rel, double abs)
{
    for (size_t i = 0; i < n; i++) {
        if (isnan(r[i]) && isnan(f[i])) continue;
        if (f[i] == r[i]) continue;
        if (!(fabs((double)f[i] - r[i]) <= rel * fabs(r[i]) + abs)) {
            printf("  %s n=%zu [%zu]: %.9g, reference %.9g\n", what, n, i, f[i], r[i]);
            return 0;
        }
    }
    return 1;
}

static const kern_table *REF, *FAST;

/* add, sub, mul, div, scale, shift are one IEEE operation per element in both
 * tables: bitwise equal. axpy: the FMA rounds once where the reference rounds
 * twice, so they differ by at most u·(|a·x| + |y|) ≤ 2u·|result| + u·|y|... we
 * allow 2u relative plus 2u·|a·x| absolute. */
static void test_arithmetic(void)
{
    for (size_t L = 0; L < NLENS; L++) {
        size_t n = lens[L];
        float *a = vec(n, -2, 2), *b = vec(n, 0.5f, 3), *y1 = vec(n, 0, 1), *y2 = malloc((n + 1) * 4);
        memcpy(y2, y1, n * 4);
        REF->add(y1, a, b, n); FAST->add(y2, a, b, n); CHECK(close_all("add", n, y2, y1, 0, 0));
        REF->sub(y1, a, b, n); FAST->sub(y2, a, b, n); CHECK(close_all("sub", n, y2, y1, 0, 0));
        REF->mul(y1, a, b, n); FAST->mul(y2, a, b, n); CHECK(close_all("mul", n, y2, y1, 0, 0));
        REF->div(y1, a, b, n); FAST->div(y2, a, b, n); CHECK(close_all("div", n, y2, y1, 0, 0));
        REF->scale(y1, a, -1.5f, n); FAST->scale(y2, a, -1.5f, n); CHECK(close_all("scale", n, y2, y1, 0, 0));
        REF->shift(y1, a, 0.25f, n); FAST->shift(y2, a, 0.25f, n); CHECK(close_all("shift", n, y2, y1, 0, 0));
        memcpy(y2, y1, n * 4);
        REF->axpy(y1, 0.3f, b, n); FAST->axpy(y2, 0.3f, b, n);
        CHECK(close_all("axpy", n, y2, y1, 2 * U, 2 * U * 0.3 * 3));
        /* aliasing: y = y + b */
        memcpy(y2, y1, n * 4);
        REF->add(y1, y1, b, n); FAST->add(y2, y2, b, n); CHECK(close_all("add in place", n, y2, y1, 0, 0));
        free(a); free(b); free(y1); free(y2);
    }
    float a[3] = { 1, 2, 3 }, b[3] = { 4, 5, 6 }, y[3];
    REF->axpy(b, 2, a, 3);
    CHECK(b[0] == 6 && b[1] == 9 && b[2] == 12);
    FAST->mul(y, a, a, 3);
    CHECK(y[0] == 1 && y[1] == 4 && y[2] == 9);
}

/* Activations: sigmoid, tanh and softplus go through the vector exp (errors
 * measured in test_vmath: ≤ 4 ulp), so 8u relative plus 2^-149 absolute (the
 * denormal tail); relu, leaky relu, step, linear are exact. The derivatives:
 * σ' = a(1 − a) and tanh' = 1 − a² are the same formula in both (the FMA
 * rounds once: 4u·max(1, a²) absolute); softplus' = σ(z) (8u). */
static void test_activations(void)
{
    for (int f = 0; f < DL_ACT_COUNT; f++) {
        if (f == DL_SOFTMAX) continue;
        for (size_t L = 0; L < NLENS; L++) {
            size_t n = lens[L];
            float *z = vec(n, -12, 12), *a = malloc((n + 1) * 4), *a2 = malloc((n + 1) * 4);
            float *d = malloc((n + 1) * 4), *d2 = malloc((n + 1) * 4);
            if (n > 4) { z[0] = 0; z[1] = -0.0f; z[2] = NAN; z[3] = 100; z[4] = -100; }
            int smooth = f == DL_SIGMOID || f == DL_TANH || f == DL_SOFTPLUS;
            REF->act((dl_act)f, a, z, n);
            FAST->act((dl_act)f, a2, z, n);
            CHECK(close_all(dl_act_names[f], n, a2, a, smooth ? 8 * U : 0, smooth ? FLT_TRUE_MIN : 0));
            REF->act_grad((dl_act)f, d, z, a, n);
            FAST->act_grad((dl_act)f, d2, z, a, n);
            CHECK(close_all(dl_act_names[f], n, d2, d, 8 * U, 4 * U));
            free(z); free(a); free(a2); free(d); free(d2);
        }
    }
    /* Hand-worked: σ(0) = 1/2, tanh(0) = 0, softplus(0) = log 2, relu(−1) = 0,
     * leaky(−1) = −0.01, step(0) = 0, σ'(0) = 1/4. */
    float z[7] = { 0, 0, 0, -1, -1, 0, 2 }, a[7];
    const dl_act fs[7] = { DL_SIGMOID, DL_TANH, DL_SOFTPLUS, DL_RELU, DL_LEAKY_RELU, DL_STEP, DL_LINEAR };
    const float want[7] = { 0.5f, 0, 0.693147181f, 0, -0.01f, 0, 2 };
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 7; i++) {
            (k ? FAST : REF)->act(fs[i], a + i, z + i, 1);
            CHECK_NEAR(a[i], want[i], 2 * U);
        }
    float g;
    FAST->act_grad(DL_SIGMOID, &g, z, want, 1);
    CHECK_NEAR(g, 0.25, 0);
}

/* Softmax: rows sum to 1 (n·u for the float roundings of n terms, each within
 * 4 ulp), agree with the reference to 8u relative plus the conditioning of
 * exp: the argument c·x − max is itself rounded (fused in one table, two
 * roundings in the other), an absolute error of u·(|c·x| + |max|) that exp
 * turns into that much relative error; and large logits (±1e30·c,
 * +88, 1000) neither overflow nor give NaN. Log-softmax: absolute error
 * 8u·(|c·x| + |lse|) (a difference of two rounded values of that size). */
static void test_softmax(void)
{
    const float cs[3] = { 1, 0.5f, 3 };
    for (size_t L = 1; L < NLENS; L++)
        for (int k = 0; k < 3; k++) {
            size_t n = lens[L];
            float c = cs[k];
            float *x = vec(n, -20, 20), *y = malloc(n * 4), *y2 = malloc(n * 4);
            REF->softmax(y, x, c, n);
            FAST->softmax(y2, x, c, n);
            float mx = -INFINITY;
            for (size_t i = 0; i < n; i++) mx = fmaxf(mx, c * x[i]);
            CHECK(close_all("softmax", n, y2, y, 8 * U + 2 * U * (fabs(c * 20) + fabs(mx)), FLT_TRUE_MIN));
            double s = 0;
            for (size_t i = 0; i < n; i++) s += y2[i];
            CHECK_NEAR(s, 1, (n + 8) * 4 * U);
            REF->log_softmax(y, x, c, n);
            FAST->log_softmax(y2, x, c, n);
            for (size_t i = 0; i < n; i++)
                if (!(fabs(y2[i] - y[i]) <= 8 * U * (fabs(c * x[i]) + fabs(y[i]) + 1))) {
                    printf("  log_softmax n=%zu c=%g [%zu]: %.9g vs %.9g\n", n, c, i, y2[i], y[i]);
                    CHECK(0);
                    break;
                }
            free(x); free(y); free(y2);
        }
    float big[4] = { 1000, 999, -1e30f, 88.7f }, y[4], ly[4];
    FAST->softmax(y, big, 1, 4);
    CHECK(!isnan(y[0]) && !isinf(y[0]));
    CHECK_NEAR(y[0], 1 / (1 + exp(-1.0)), 4 * U);
    CHECK_NEAR(y[1], exp(-1.0) / (1 + exp(-1.0)), 4 * U);
    CHECK(y[2] == 0 && y[3] == 0);
    FAST->log_softmax(ly, big, 1, 4);
    CHECK_NEAR(ly[0], -log1p(exp(-1.0)), 1e-4);
    /* Temperature: softmax(2·[0, (log 3)/2]) = softmax([0, log 3]) = [1/4, 3/4]. */
    float t[2] = { 0, 0.549306144f };
    for (int k = 0; k < 2; k++) {
        (k ? FAST : REF)->softmax(y, t, 2, 2);
        CHECK_NEAR(y[0], 0.25, 4 * U);
        CHECK_NEAR(y[1], 0.75, 4 * U);
    }
}

/* exp, log, tanh as table entries vs the reference (libm float): both within
 * 2 ulp of exact (test_vmath), so 4u relative plus the denormal spacing. */
static void test_exp_log_tanh(void)
{
    for (size_t L = 0; L < NLENS; L++) {
        size_t n = lens[L];
        float *x = vec(n, -90, 90), *y = malloc((n + 1) * 4), *y2 = malloc((n + 1) * 4);
        REF->exp(y, x, n); FAST->exp(y2, x, n); CHECK(close_all("exp", n, y2, y, 4 * U, FLT_TRUE_MIN));
        REF->tanh(y, x, n); FAST->tanh(y2, x, n); CHECK(close_all("tanh", n, y2, y, 4 * U, 0));
        for (size_t i = 0; i < n; i++) x[i] = fabsf(x[i]) * (i % 3 ? 1 : 1e-30f);
        REF->log(y, x, n); FAST->log(y2, x, n); CHECK(close_all("log", n, y2, y, 4 * U, 4 * U));
        free(x); free(y); free(y2);
    }
}

/* Sums in double in both tables, in different orders: they differ by at most
 * n·2^-53·Σ|x|. argmax/argmin: exactly the reference's index, NaNs included. */
static void test_reductions(void)
{
    for (size_t L = 0; L < NLENS; L++) {
        size_t n = lens[L];
        float *x = vec(n, -1, 1), *y = vec(n, -1, 1);
        double tol = (n + 1) * 0x1p-53 * n;
        CHECK_NEAR(FAST->sum(x, n), REF->sum(x, n), tol);
        CHECK_NEAR(FAST->dot(x, y, n), REF->dot(x, y, n), tol);
        CHECK_NEAR(FAST->sumsq(x, n), REF->sumsq(x, n), tol);
        CHECK(FAST->argmax(x, n) == REF->argmax(x, n));
        CHECK(FAST->argmin(x, n) == REF->argmin(x, n));
        if (n > 9) {
            x[0] = NAN; x[n - 1] = NAN; x[n / 2] = x[n / 3] = 5;  /* ties: the first */
            CHECK(FAST->argmax(x, n) == REF->argmax(x, n));
            CHECK(FAST->argmax(x, n) == n / 3);
            x[n / 2] = x[n / 3] = -5;
            CHECK(FAST->argmin(x, n) == REF->argmin(x, n));
            for (size_t i = 0; i < n; i++) x[i] = NAN;
            CHECK(FAST->argmax(x, n) == REF->argmax(x, n));
            CHECK(FAST->argmin(x, n) == REF->argmin(x, n));
        }
        free(x); free(y);
    }
    float h[5] = { 1, -2, 3, 0.5f, 3 };
    CHECK(FAST->sum(h, 5) == 5.5 && REF->sum(h, 5) == 5.5);
    CHECK(FAST->dot(h, h, 5) == 23.25 && FAST->sumsq(h, 5) == 23.25);
    CHECK(FAST->argmax(h, 5) == 2 && FAST->argmin(h, 5) == 1);
}

/* Column sums of strided blocks, double accumulation in both: (rows + 1)·2^-53
 * relative to Σ|a|, then one float rounding (u). */
static void test_colsum(void)
{
    const int shapes[][2] = { { 1, 1 }, { 1, 9 }, { 9, 1 }, { 32, 10 }, { 7, 17 }, { 100, 33 } };
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int rows = shapes[s][0], cols = shapes[s][1], lda = cols + 3;
        float *A = vec((size_t)rows * lda, -1, 1), *y = malloc(cols * 4), *y2 = malloc(cols * 4);
        REF->colsum(y, A, rows, cols, lda, 0.5f);
        FAST->colsum(y2, A, rows, cols, lda, 0.5f);
        CHECK(close_all("colsum", cols, y2, y, U, 2 * U * rows));
        free(A); free(y); free(y2);
    }
    float m[6] = { 1, 2, 3, 4, 5, 6 }, r[3];
    FAST->colsum(r, m, 2, 3, 3, 0.5f);
    CHECK(r[0] == 2.5f && r[1] == 3.5f && r[2] == 4.5f);
}

/* The batch-1 dense kernels. Forward: a dot product of n_in terms, summed in
 * float lanes by the AVX2 entry and in double by the reference: any order of
 * summation is within γ_K·Σ|w||a| (K = n_in + 1 with the bias), allowed twice.
 * Gradient: δ·a is one multiplication (bitwise equal); the update rounds once
 * (FMA) where the reference rounds up to three times: 2u of the result plus
 * 2u of lr·|g|. */
static void test_dense(void)
{
    const int shapes[][2] = { { 1, 1 }, { 1, 9 }, { 3, 7 }, { 4, 8 }, { 5, 9 }, { 6, 16 },
                              { 7, 17 }, { 10, 30 }, { 30, 784 }, { 9, 33 } };
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int n_out = shapes[s][0], n_in = shapes[s][1];
        size_t nw = (size_t)n_out * n_in;
        float *W = vec(nw, -1, 1), *a = vec((size_t)n_in, -1, 1), *b = vec((size_t)n_out, -1, 1);
        float *z1 = vec((size_t)n_out, 0, 1), *z2 = vec((size_t)n_out, 0, 1);
        REF->dense_forward(z1, W, a, b, n_out, n_in);
        FAST->dense_forward(z2, W, a, b, n_out, n_in);
        for (int j = 0; j < n_out; j++) {
            double mag = fabs(b[j]);
            for (int k = 0; k < n_in; k++) mag += fabs((double)W[(size_t)j * n_in + k] * a[k]);
            CHECK_NEAR(z2[j], z1[j], 2 * (n_in + 2) * U * mag);
        }
        float *d = vec((size_t)n_out, -1, 1), *W2 = malloc(nw * 4);
        float *g1 = vec(nw, 0, 1), *g2 = vec(nw, 0, 1);
        memcpy(W2, W, nw * 4);
        REF->dense_grad_step(W, g1, d, a, n_out, n_in, 0.1f, 1.0f, 0);
        FAST->dense_grad_step(W2, g2, d, a, n_out, n_in, 0.1f, 1.0f, 0);
        CHECK(close_all("dense_grad_step dW", nw, g2, g1, 0, 0));
        CHECK(close_all("dense_grad_step, no update, W", nw, W2, W, 0, 0));
        for (int k = 0; k < 2; k++) {
            float decay = k ? 0.999f : 1.0f;
            REF->dense_grad_step(W, g1, d, a, n_out, n_in, 0.1f, decay, 1);
            FAST->dense_grad_step(W2, g2, d, a, n_out, n_in, 0.1f, decay, 1);
            CHECK(close_all("dense_grad_step dW", nw, g2, g1, 0, 0));
            CHECK(close_all("dense_grad_step W", nw, W2, W, 2 * U, 2 * U * 0.1));
            memcpy(W2, W, nw * 4);
        }
        free(W); free(a); free(b); free(z1); free(z2); free(d); free(W2); free(g1); free(g2);
    }
}

/* dense_momentum_step against the reference. δ·a is one multiplication in
 * both; V's update rounds once (FMA) where the reference rounds μ·v, lr·g and
 * their difference: within 2u of V plus u·lr·|g| (|g| ≤ 1 here); W adds V to
 * decay·W, rounded in the same order in both, so it carries V's difference
 * plus 2u of itself. Three steps, from equal states each time, with and
 * without decay. */
static void test_dense_momentum(void)
{
    const int shapes[][2] = { { 1, 1 }, { 3, 7 }, { 4, 8 }, { 5, 9 }, { 10, 30 }, { 30, 784 },
                              { 9, 33 } };
    const float lr = 0.1f, mu = 0.9f;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int n_out = shapes[s][0], n_in = shapes[s][1];
        size_t nw = (size_t)n_out * n_in;
        float *W = vec(nw, -1, 1), *V = vec(nw, -1, 1), *a = vec((size_t)n_in, -1, 1);
        float *d = vec((size_t)n_out, -1, 1), *W2 = malloc(nw * 4), *V2 = malloc(nw * 4);
        memcpy(W2, W, nw * 4);
        memcpy(V2, V, nw * 4);
        for (int step = 0; step < 3; step++) {
            float decay = step == 1 ? 0.999f : 1.0f;
            REF->dense_momentum_step(W, V, d, a, n_out, n_in, lr, mu, decay);
            FAST->dense_momentum_step(W2, V2, d, a, n_out, n_in, lr, mu, decay);
            CHECK(close_all("dense_momentum_step V", nw, V2, V, 2 * U, U * lr));
            CHECK(close_all("dense_momentum_step W", nw, W2, W, 2 * U, 2 * U * (2 + lr)));
            memcpy(W2, W, nw * 4);
            memcpy(V2, V, nw * 4);
        }
        /* By hand, one weight: v = 0.9·0.5 − 0.1·(2·3) = −0.15, w = 1 + v. */
        float w1 = 1, v1 = 0.5f, d1 = 2, a1 = 3;
        FAST->dense_momentum_step(&w1, &v1, &d1, &a1, 1, 1, lr, mu, 1.0f);
        CHECK_NEAR(v1, -0.15, 4e-8);
        CHECK_NEAR(w1, 0.85, 4e-8);
        free(W); free(V); free(a); free(d); free(W2); free(V2);
    }
}

/* dense_step_forward, the deferred update fused into the next forward, is
 * bit for bit the two kernels it fuses, dense_grad_step (update, no dW) then
 * dense_forward, in every table this CPU runs: the same operations in the
 * same order. n_out of 1 to 10 covers the four-row blocks and the rows left
 * over; n_in the 8-lane body and its masked tail. */
static void test_dense_step_forward(void)
{
    const kern_table *tables[] = { kern_reference(), kern_avx2(), kern_avx512() };
    const int shapes[][2] = { { 1, 1 }, { 3, 7 }, { 4, 8 }, { 5, 9 }, { 7, 17 },
                              { 8, 784 }, { 10, 30 }, { 9, 33 } };
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        const kern_table *k = tables[t];
        if (!k)
            continue;
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            int n_out = shapes[s][0], n_in = shapes[s][1];
            size_t nw = (size_t)n_out * n_in;
            float *W = vec(nw, -1, 1), *W2 = malloc(nw * 4), *a = vec((size_t)n_in, -1, 1);
            float *a_old = vec((size_t)n_in, -1, 1), *d = vec((size_t)n_out, -1, 1);
            float *b = vec((size_t)n_out, -1, 1), *z1 = vec((size_t)n_out, 0, 1);
            float *z2 = vec((size_t)n_out, 0, 1);
            memcpy(W2, W, nw * 4);
            for (int rep = 0; rep < 2; rep++) {
                float decay = rep ? 0.999f : 1.0f;
                k->dense_grad_step(W, NULL, d, a_old, n_out, n_in, 0.1f, decay, 1);
                k->dense_forward(z1, W, a, b, n_out, n_in);
                k->dense_step_forward(z2, W2, a, b, n_out, n_in, d, a_old, 0.1f, decay);
                CHECK(close_all("dense_step_forward W", nw, W2, W, 0, 0));
                CHECK(close_all("dense_step_forward z", (size_t)n_out, z2, z1, 0, 0));
            }
            free(W); free(W2); free(a); free(a_old); free(d); free(b); free(z1); free(z2);
        }
    }
}

/* n floats like an image's pixels: each 8-float chunk (from offset 0) all
 * zero with probability `zero`, else uniform in [0, 1) with a few zeros. */
static float *sparse_vec(size_t n, double zero)
{
    float *p = vec(n, 0, 1);
    for (size_t c = 0; c < n; c += 8) {
        int all = rng_uniform(&R) < zero;
        for (size_t i = c; i < n && i < c + 8; i++)
            if (all || rng_uniform(&R) < 0.2) p[i] = 0;
    }
    return p;
}

/* The batch-1 kernels pass by the chunks where their input is all zero
 * (net_avx2.c): with skipping on, W and z are bit for bit what every chunk
 * gives, for inputs 0 % to 100 % zero, updates with and without decay (which
 * takes every chunk), and rows of n_in not a multiple of 8. */
static void test_dense_zero_skip(void)
{
    const kern_table *tables[] = { kern_avx2(), kern_avx512() };
    const int shapes[][2] = { { 4, 784 }, { 30, 784 }, { 100, 784 }, { 5, 33 }, { 8, 64 },
                              { 3, 17 }, { 10, 30 } };
    const double zeros[] = { 0, 0.3, 0.6, 0.9, 1 };
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
        for (size_t s = 0; tables[t] && s < sizeof shapes / sizeof *shapes; s++)
            for (size_t q = 0; q < sizeof zeros / sizeof *zeros; q++)
                for (int rep = 0; rep < 2; rep++) {
                    const kern_table *k = tables[t];
                    int n_out = shapes[s][0], n_in = shapes[s][1];
                    size_t nw = (size_t)n_out * n_in, bytes = nw * sizeof(float);
                    float decay = rep ? 0.999f : 1.0f;
                    float *W[2] = { vec(nw, -1, 1), malloc(bytes) }, *z[2], *zs[2];
                    float *a = sparse_vec((size_t)n_in, zeros[q]);
                    float *a_old = sparse_vec((size_t)n_in, zeros[q]);
                    float *d = vec((size_t)n_out, -1, 1), *b = vec((size_t)n_out, -1, 1);
                    memcpy(W[1], W[0], bytes);
                    for (int skip = 0; skip < 2; skip++) {   /* 0: every chunk */
                        gemm_skips_zeros = skip;
                        z[skip] = vec((size_t)n_out, 0, 1);
                        zs[skip] = vec((size_t)n_out, 0, 1);
                        k->dense_forward(z[skip], W[skip], a, b, n_out, n_in);
                        k->dense_grad_step(W[skip], NULL, d, a_old, n_out, n_in, 0.1f, decay, 1);
                        k->dense_step_forward(zs[skip], W[skip], a, b, n_out, n_in, d, a_old,
                                              0.1f, decay);
                    }
                    gemm_skips_zeros = 1;
                    CHECK(memcmp(z[0], z[1], (size_t)n_out * sizeof(float)) == 0);
                    CHECK(memcmp(zs[0], zs[1], (size_t)n_out * sizeof(float)) == 0);
                    if (memcmp(W[0], W[1], bytes) != 0) {
                        printf("  %s %dx%d zeros %g decay %g: W differs with skipping\n",
                               k->isa, n_out, n_in, zeros[q], decay);
                        CHECK(0);
                    }
                    for (int i = 0; i < 2; i++) { free(W[i]); free(z[i]); free(zs[i]); }
                    free(a); free(a_old); free(d); free(b);
                }
}

/* The skipping is real: a NaN in W where the input is all zero stays out of
 * z in the AVX2 kernels, and reaches it when every chunk is taken. */
static void test_dense_zero_skip_leaves_out_nan(void)
{
    const kern_table *k = kern_avx2();
    if (!k)
        return;
    enum { O = 4, I = 64 };
    float W[O * I], a[I], b[O] = { 0 }, z[O];
    for (int i = 0; i < O * I; i++) W[i] = 0.5f;
    for (int i = 0; i < I; i++) a[i] = i < 8 ? 1.0f : 0.0f;   /* chunks 1..7 zero */
    W[20] = NAN;
    gemm_skips_zeros = 1;
    k->dense_forward(z, W, a, b, O, I);
    CHECK(z[0] == 4.0f && z[1] == 4.0f);
    gemm_skips_zeros = 0;
    k->dense_forward(z, W, a, b, O, I);
    CHECK(isnan(z[0]) && z[1] == 4.0f);
    gemm_skips_zeros = 1;
}

/* Hand-worked batch-1 layer through the active table (both ISAs). */
static void test_dense_by_hand(void)
{
    float W[] = { 1, 2, 3, 4 }, a[] = { 1, -1 }, b[] = { 0.5f, 1 }, z[2];
    kern()->dense_forward(z, W, a, b, 2, 2);
    CHECK(z[0] == -0.5f && z[1] == 0);
    float d[] = { 2, -1 }, g[4];
    kern()->dense_grad_step(W, g, d, a, 2, 2, 0.5f, 1.0f, 1);
    CHECK(g[0] == 2 && g[1] == -2 && g[2] == -1 && g[3] == 1);
    CHECK(W[0] == 0 && W[1] == 3 && W[2] == 3.5f && W[3] == 3.5f);
}

/* The hand-worked product through mat_gemm and the active table (both ISAs:
 * the driver runs this file again with DELTALAB_ISA=scalar). */
static void test_mat_gemm_by_hand(void)
{
    float a[] = { 1, 2, 3, 4, 5, 6 }, b[] = { 7, 8, 9, 10, 11, 12 }, c[4];
    CHECK(mat_gemm(mat_wrap(c, 2, 2), 1, mat_wrap(a, 2, 3), 0, mat_wrap(b, 3, 2), 0, 0) == DL_OK);
    CHECK_NEAR(c[0], 58, 0); CHECK_NEAR(c[1], 64, 0);
    CHECK_NEAR(c[2], 139, 0); CHECK_NEAR(c[3], 154, 0);
    CHECK(mat_gemm(mat_wrap(c, 2, 2), 1, mat_wrap(a, 2, 3), 0, mat_wrap(b, 2, 3), 0, 0) == DL_ESHAPE);
}

/* DELTALAB_ISA chose the active table; kern_use switches it. */
static void test_dispatch(void)
{
    const char *want = getenv("DELTALAB_ISA");
    if (want && strcmp(want, "scalar") == 0)
        CHECK(strcmp(kern()->isa, "scalar") == 0);
    else if (want && strcmp(want, "avx512") == 0 && kern_avx512())
        CHECK(kern() == kern_avx512() && strcmp(kern()->isa, "avx512") == 0);
    else if (!want)
        CHECK(kern() == kern_avx2() || kern() == kern_avx512() || (!FAST && kern() == REF));
    CHECK(!want || kern_isa_note() == NULL);   /* run.sh sets only ISAs this CPU has */
    const kern_table *before = kern();
    CHECK(kern_use("scalar") == 0 && kern() == REF);
    CHECK(kern_use("nonsense") == -1);
    CHECK(kern_use("avx512") == (kern_avx512() ? 0 : -1));
    if (kern_avx2()) CHECK(kern_use("avx2") == 0 && kern() == kern_avx2());
    kern_use(before->isa);
}

int main(void)
{
    rng_seed(&R, 7);
    REF = kern_reference();
    FAST = kern_avx2();
    const char *isa = getenv("DELTALAB_ISA");
    if (isa && strcmp(isa, "avx512") == 0 && kern_avx512()) {
        FAST = kern_avx512();   /* the AVX-512 set against the reference */
        printf("testing the AVX-512 kernels\n");
    }
    RUN(test_mat_gemm_by_hand);
    RUN(test_dispatch);
    RUN(test_dense_by_hand);
    RUN(test_dense_step_forward);
    RUN(test_dense_momentum);
    RUN(test_dense_zero_skip);
    RUN(test_dense_zero_skip_leaves_out_nan);
    if (!FAST) {
        printf("no AVX2+FMA here: only the reference is tested\n");
        return check_summary();
    }
    for (int threads = 1; threads <= 2; threads++) {
        dl_threads_set(threads);
        RUN(test_arithmetic);
        RUN(test_activations);
        RUN(test_softmax);
        RUN(test_exp_log_tanh);
        RUN(test_reductions);
        RUN(test_colsum);
        RUN(test_dense);
    }
    return check_summary();
}
