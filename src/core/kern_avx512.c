/*
 * kern_avx512.c — the AVX-512F kernel set: the table starts as the AVX2 one
 * (kern.c fills it so) and this file overrides the GEMM (gemm_avx512.c), the
 * arithmetic, the piecewise-linear activations and their derivatives, the
 * reductions, column sums and the batch-1 dense kernels with 16-wide
 * versions. What stays AVX2: exp, log, tanh, sigmoid, softplus and the
 * row-wise softmax, whose polynomial approximations (vmath_avx2.h) are
 * written for 8 lanes; they are a small share of a training step.
 *
 * Every vector loop ends with a masked step (__mmask16), never a scalar
 * tail, so the last elements get the same arithmetic as the rest. Long
 * vectors are cut into parts on the thread pool as in kern_avx2.c. Only
 * called when kern.c found AVX-512F, DQ, BW, VL and OS support of the zmm
 * state (XCR0 bits 5-7).
 */
#include "kern.h"
#include "gemm.h"
#include "net_kern.h"
#include "threads.h"

#include <immintrin.h>

/* ------------------------------------------------------ splitting over threads */

/* One element-wise call over [0, n): inputs a, b, scalar s, output y. */
typedef struct ew {
    float *y;
    const float *a, *b;
    float s;
    int op;           /* which operation of the body */
    dl_act f;         /* act, act_grad: the activation */
    void (*body)(const struct ew *e, size_t lo, size_t hi);
    size_t n;
} ew;

/* Elements per part below which another thread costs more than it saves. */
#define GRAIN_CHEAP (1 << 16)

static void ew_part(void *arg, int i, int n)
{
    const ew *e = arg;
    size_t lo = e->n / 16 * i / n * 16, hi = i + 1 == n ? e->n : e->n / 16 * (i + 1) / n * 16;
    if (hi > lo)
        e->body(e, lo, hi);
}

static void ew_run(ew *e)
{
    int parts = dl_parts((double)e->n, GRAIN_CHEAP);
    if (parts <= 1)
        e->body(e, 0, e->n);
    else
        dl_parallel(ew_part, e, parts);
}

/* Lanes i.. of a vector ending at hi: all 16, or the last hi − i. */
static inline __mmask16 lanes(size_t i, size_t hi)
{
    return hi - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (hi - i)) - 1);
}

/* ------------------------------------------------------------ arithmetic */

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_SCALE, OP_SHIFT, OP_AXPY };

static inline __m512 apply(int op, __m512 a, __m512 b, __m512 s, __m512 y)
{
    switch (op) {
    case OP_ADD:   return _mm512_add_ps(a, b);
    case OP_SUB:   return _mm512_sub_ps(a, b);
    case OP_MUL:   return _mm512_mul_ps(a, b);
    case OP_DIV:   return _mm512_div_ps(a, b);
    case OP_SCALE: return _mm512_mul_ps(s, a);
    case OP_SHIFT: return _mm512_add_ps(a, s);
    default:       return _mm512_fmadd_ps(s, a, y);   /* OP_AXPY */
    }
}

/* The loop, inlined once per operation so that the switch folds away. */
static inline __attribute__((always_inline)) void
arith(const ew *e, size_t lo, size_t hi, const int op)
{
    __m512 s = _mm512_set1_ps(e->s), z = _mm512_setzero_ps();
    int two = op <= OP_DIV;
    size_t i = lo;
    for (; i + 16 <= hi; i += 16) {
        __m512 a = _mm512_loadu_ps(e->a + i);
        __m512 b = two ? _mm512_loadu_ps(e->b + i) : z;
        __m512 y = op == OP_AXPY ? _mm512_loadu_ps(e->y + i) : z;
        _mm512_storeu_ps(e->y + i, apply(op, a, b, s, y));
    }
    if (i < hi) {
        __mmask16 m = lanes(i, hi);
        __m512 a = _mm512_maskz_loadu_ps(m, e->a + i);
        /* Masked-off lanes of a divisor are 1, not 0: no spurious flags. */
        __m512 b = two ? _mm512_mask_loadu_ps(_mm512_set1_ps(1.0f), m, e->b + i) : z;
        __m512 y = op == OP_AXPY ? _mm512_maskz_loadu_ps(m, e->y + i) : z;
        _mm512_mask_storeu_ps(e->y + i, m, apply(op, a, b, s, y));
    }
}

#define ARITH_BODY(name, op) \
    static void name(const ew *e, size_t lo, size_t hi) { arith(e, lo, hi, op); }
ARITH_BODY(add_body, OP_ADD)
ARITH_BODY(sub_body, OP_SUB)
ARITH_BODY(mul_body, OP_MUL)
ARITH_BODY(div_body, OP_DIV)
ARITH_BODY(scale_body, OP_SCALE)
ARITH_BODY(shift_body, OP_SHIFT)
ARITH_BODY(axpy_body, OP_AXPY)

static void run_ew(float *y, const float *a, const float *b, float s, size_t n,
                   void (*body)(const ew *, size_t, size_t))
{
    ew e = { .y = y, .a = a, .b = b, .s = s, .body = body, .n = n };
    ew_run(&e);
}

static void avx512_add(float *y, const float *a, const float *b, size_t n) { run_ew(y, a, b, 0, n, add_body); }
static void avx512_sub(float *y, const float *a, const float *b, size_t n) { run_ew(y, a, b, 0, n, sub_body); }
static void avx512_mul(float *y, const float *a, const float *b, size_t n) { run_ew(y, a, b, 0, n, mul_body); }
static void avx512_div(float *y, const float *a, const float *b, size_t n) { run_ew(y, a, b, 0, n, div_body); }
static void avx512_scale(float *y, const float *x, float s, size_t n) { run_ew(y, x, NULL, s, n, scale_body); }
static void avx512_shift(float *y, const float *x, float s, size_t n) { run_ew(y, x, NULL, s, n, shift_body); }
static void avx512_axpy(float *y, float a, const float *x, size_t n) { run_ew(y, x, NULL, a, n, axpy_body); }

/* ------------------------------------------------- piecewise-linear activations */

static int piecewise_linear(dl_act f)
{
    return f == DL_LINEAR || f == DL_RELU || f == DL_LEAKY_RELU || f == DL_STEP;
}

/* f(z) (op 0) or f'(z) (op 1) for a piecewise-linear f; z > 0 is false for
 * NaN, as in the reference. */
static void pl_body(const ew *e, size_t lo, size_t hi)
{
    __m512 one = _mm512_set1_ps(1.0f), slope = _mm512_set1_ps(DL_LEAKY_SLOPE), zero = _mm512_setzero_ps();
    for (size_t i = lo; i < hi; i += 16) {
        __mmask16 m = lanes(i, hi);
        __m512 z = _mm512_maskz_loadu_ps(m, e->a + i), y;
        __mmask16 pos = _mm512_cmp_ps_mask(z, zero, _CMP_GT_OQ);
        if (e->op == 0) {
            switch (e->f) {
            case DL_RELU:       y = _mm512_maskz_mov_ps(pos, z); break;
            case DL_LEAKY_RELU: y = _mm512_mask_mov_ps(_mm512_mul_ps(z, slope), pos, z); break;
            case DL_STEP:       y = _mm512_maskz_mov_ps(pos, one); break;
            default:            y = z; break;
            }
        } else {
            switch (e->f) {
            case DL_RELU:       y = _mm512_maskz_mov_ps(pos, one); break;
            case DL_LEAKY_RELU: y = _mm512_mask_mov_ps(slope, pos, one); break;
            case DL_STEP:       y = zero; break;
            default:            y = one; break;
            }
        }
        _mm512_mask_storeu_ps(e->y + i, m, y);
    }
}

static void avx512_act(dl_act f, float *a, const float *z, size_t n)
{
    if (!piecewise_linear(f)) {
        kern_avx2()->act(f, a, z, n);   /* the AVX2 table: AVX-512 implies AVX2 */
        return;
    }
    ew e = { .y = a, .a = z, .op = 0, .f = f, .body = pl_body, .n = n };
    ew_run(&e);
}

static void avx512_act_grad(dl_act f, float *d, const float *z, const float *a, size_t n)
{
    if (!piecewise_linear(f)) {
        kern_avx2()->act_grad(f, d, z, a, n);
        return;
    }
    ew e = { .y = d, .a = z, .op = 1, .f = f, .body = pl_body, .n = n };
    ew_run(&e);
}

/* ------------------------------------------------------------ reductions */

/* Σ x·y (y == NULL: Σ x; y == x: Σ x²) in double: 16 floats widen to two
 * 8-double vectors, as accurate as the reference's double sum. */
static double dot_d(const float *x, const float *y, size_t n)
{
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(i, n);
        __m512 a = _mm512_maskz_loadu_ps(m, x + i);
        __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(a));
        __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
        if (y) {
            __m512 b = y == x ? a : _mm512_maskz_loadu_ps(m, y + i);
            s0 = _mm512_fmadd_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(b)), s0);
            s1 = _mm512_fmadd_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(b), 1))), s1);
        } else {
            s0 = _mm512_add_pd(s0, lo);
            s1 = _mm512_add_pd(s1, hi);
        }
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
}

static double avx512_sum(const float *x, size_t n) { return dot_d(x, NULL, n); }
static double avx512_dot(const float *x, const float *y, size_t n) { return dot_d(x, y, n); }
static double avx512_sumsq(const float *x, size_t n) { return dot_d(x, x, n); }

/* y[j] = s·Σ_i A[i][j], 16 columns at a time, accumulated in double. */
static void avx512_colsum(float *y, const float *A, int rows, int cols, int lda, float s)
{
    for (int j = 0; j < cols; j += 16) {
        __mmask16 m = lanes((size_t)j, (size_t)cols);
        __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
        for (int i = 0; i < rows; i++) {
            __m512 a = _mm512_maskz_loadu_ps(m, A + (size_t)i * lda + j);
            s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(a)));
            s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1))));
        }
        __m512d vs = _mm512_set1_pd(s);
        __m256 lo = _mm512_cvtpd_ps(_mm512_mul_pd(vs, s0)), hi = _mm512_cvtpd_ps(_mm512_mul_pd(vs, s1));
        __m512 r = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)),
                                                       _mm256_castps_pd(hi), 1));
        _mm512_mask_storeu_ps(y + j, m, r);
    }
}

/* ------------------------------------------------------- batch-1 dense layer */

/* z[j] = W[j]·a + b[j]: four rows share each load of a (net_avx2.c's plan). */
static void avx512_dense_forward(float *z, const float *W, const float *a, const float *b,
                                 int n_out, int n_in)
{
    int j = 0;
    for (; j < n_out; j += 4) {
        int rows = n_out - j < 4 ? n_out - j : 4;
        const float *w[4];
        __m512 s[4];
        for (int r = 0; r < 4; r++) {
            w[r] = W + (size_t)(j + (r < rows ? r : 0)) * n_in;
            s[r] = _mm512_setzero_ps();
        }
        for (int k = 0; k < n_in; k += 16) {
            __mmask16 m = lanes((size_t)k, (size_t)n_in);
            __m512 ak = _mm512_maskz_loadu_ps(m, a + k);
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++)
                s[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w[r] + k), ak, s[r]);
        }
        for (int r = 0; r < rows; r++)
            z[j + r] = _mm512_reduce_add_ps(s[r]) + b[j + r];
    }
}

/* dW[j] = δ[j]·a and, when update != 0, W[j] ← decay·W[j] − lr·δ[j]·a; dW
 * may then be NULL (not written). */
static void avx512_dense_grad_step(float *W, float *dW, const float *delta, const float *a,
                                   int n_out, int n_in, float lr, float decay, int update)
{
    __m512 vdecay = _mm512_set1_ps(decay), nl = _mm512_set1_ps(-lr);
    for (int j = 0; j < n_out; j++) {
        float *w = W + (size_t)j * n_in, *g = dW ? dW + (size_t)j * n_in : NULL;
        __m512 d = _mm512_set1_ps(delta[j]);
        for (int k = 0; k < n_in; k += 16) {
            __mmask16 m = lanes((size_t)k, (size_t)n_in);
            __m512 gk = _mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, a + k));
            if (g)
                _mm512_mask_storeu_ps(g + k, m, gk);
            if (update) {
                __m512 wk = _mm512_maskz_loadu_ps(m, w + k);
                if (decay != 1.0f)
                    wk = _mm512_mul_ps(vdecay, wk);
                _mm512_mask_storeu_ps(w + k, m, _mm512_fmadd_ps(nl, gk, wk));
            }
        }
    }
}

/* The deferred update, then the forward, as two passes: W¹ of the networks
 * a batch-1 step serves fits in L2, and no machine with AVX-512 was at hand
 * to measure (or test) a fused pass against these two. */
static void avx512_dense_step_forward(float *z, float *W, const float *a, const float *b,
                                      int n_out, int n_in, const float *d_old,
                                      const float *a_old, float lr, float decay)
{
    avx512_dense_grad_step(W, NULL, d_old, a_old, n_out, n_in, lr, decay, 1);
    avx512_dense_forward(z, W, a, b, n_out, n_in);
}

void kern_avx512_fill(kern_table *t)
{
    t->isa = "avx512";
    t->gemm = gemm_avx512;
    t->backward_step = gemm_avx512_backward_step;
    t->add = avx512_add;
    t->sub = avx512_sub;
    t->mul = avx512_mul;
    t->div = avx512_div;
    t->scale = avx512_scale;
    t->shift = avx512_shift;
    t->axpy = avx512_axpy;
    t->act = avx512_act;
    t->act_grad = avx512_act_grad;
    t->sum = avx512_sum;
    t->dot = avx512_dot;
    t->sumsq = avx512_sumsq;
    t->colsum = avx512_colsum;
    t->dense_forward = avx512_dense_forward;
    t->dense_grad_step = avx512_dense_grad_step;
    t->dense_step_forward = avx512_dense_step_forward;
}
