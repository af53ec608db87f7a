/*
 * kern_avx2.c — AVX2+FMA kernels. With gemm_avx2.c the only code compiled with
 * -mavx2 -mfma; nothing here runs unless kern.c found AVX2, FMA and OS YMM
 * support. Each entry keeps the signature and the meaning of its reference
 * twin in kern_ref.c; the tests hold them to it.
 *
 * Element-wise kernels are a loop of 8-wide steps with a masked last step (no
 * scalar tail, so the last elements get the same arithmetic as the rest).
 * Long vectors are cut into parts on the thread pool: the `ew` struct carries
 * one call's arguments to the parts, and `body` does a range of it.
 */
#include "kern.h"
#include "avx2_util.h"
#include "gemm.h"
#include "net_kern.h"
#include "threads.h"
#include "vmath_avx2.h"

#include <math.h>

/* ------------------------------------------------------ splitting over threads */

/* One element-wise call: y = f(a, b) over [0, n), with scalars s and f. */
typedef struct ew {
    float *y;
    const float *a, *b, *c;
    float s;
    dl_act f;         /* act, act_grad: the activation */
    int op;           /* scalar_body, fn_body: which operation */
    void (*body)(const struct ew *e, size_t lo, size_t hi);
    size_t n;
} ew;

/* Elements per part below which another thread costs more than it saves:
 * memory-bound passes (add, scale) need long vectors; exp-based ones less. */
#define GRAIN_CHEAP  (1 << 16)
#define GRAIN_EXP    (1 << 13)

static void ew_part(void *arg, int i, int n)
{
    const ew *e = arg;
    size_t lo = e->n / 8 * i / n * 8, hi = i + 1 == n ? e->n : e->n / 8 * (i + 1) / n * 8;
    if (hi > lo)
        e->body(e, lo, hi);
}

static void ew_run(ew *e, double grain)
{
    int parts = dl_parts((double)e->n, grain);
    if (parts <= 1)
        e->body(e, 0, e->n);
    else
        dl_parallel(ew_part, e, parts);
}

/* ------------------------------------------------------------ arithmetic */

/* The body of every two-input kernel, inlined with its operation. */
static inline __attribute__((always_inline)) void
map2(const ew *e, size_t lo, size_t hi, __m256 (*op)(__m256, __m256))
{
    size_t i = lo;
    for (; i + 8 <= hi; i += 8)
        _mm256_storeu_ps(e->y + i, op(_mm256_loadu_ps(e->a + i), _mm256_loadu_ps(e->b + i)));
    if (i < hi) {
        __m256i m = tail_mask(hi - i);
        _mm256_maskstore_ps(e->y + i, m, op(_mm256_maskload_ps(e->a + i, m), _mm256_maskload_ps(e->b + i, m)));
    }
}

static void add_body(const ew *e, size_t lo, size_t hi) { map2(e, lo, hi, _mm256_add_ps); }
static void sub_body(const ew *e, size_t lo, size_t hi) { map2(e, lo, hi, _mm256_sub_ps); }
static void mul_body(const ew *e, size_t lo, size_t hi) { map2(e, lo, hi, _mm256_mul_ps); }
static void div_body(const ew *e, size_t lo, size_t hi) { map2(e, lo, hi, _mm256_div_ps); }

static void binary(float *y, const float *a, const float *b, size_t n,
                   void (*body)(const ew *, size_t, size_t))
{
    ew e = { .y = y, .a = a, .b = b, .body = body, .n = n };
    ew_run(&e, GRAIN_CHEAP);
}

static void avx2_add(float *y, const float *a, const float *b, size_t n) { binary(y, a, b, n, add_body); }
static void avx2_sub(float *y, const float *a, const float *b, size_t n) { binary(y, a, b, n, sub_body); }
static void avx2_mul(float *y, const float *a, const float *b, size_t n) { binary(y, a, b, n, mul_body); }
static void avx2_div(float *y, const float *a, const float *b, size_t n) { binary(y, a, b, n, div_body); }

/* y = s·x, y = x + s, y += s·x: one input vector and a scalar, selected by op. */
enum { SC_SCALE, SC_SHIFT, SC_AXPY };

static void scalar_body(const ew *e, size_t lo, size_t hi)
{
    __m256 s = _mm256_set1_ps(e->s);
    for (size_t i = lo; i < hi; i += 8) {
        __m256i m = tail_mask(hi - i < 8 ? hi - i : 8);
        __m256 x = _mm256_maskload_ps(e->a + i, m), y;
        switch (e->op) {
        case SC_SCALE: y = _mm256_mul_ps(s, x); break;
        case SC_SHIFT: y = _mm256_add_ps(x, s); break;
        default:       y = _mm256_fmadd_ps(s, x, _mm256_maskload_ps(e->y + i, m)); break;
        }
        _mm256_maskstore_ps(e->y + i, m, y);
    }
}

static void with_scalar(float *y, const float *x, float s, size_t n, int kind)
{
    ew e = { .y = y, .a = x, .s = s, .op = kind, .body = scalar_body, .n = n };
    ew_run(&e, GRAIN_CHEAP);
}

static void avx2_scale(float *y, const float *x, float s, size_t n) { with_scalar(y, x, s, n, SC_SCALE); }
static void avx2_shift(float *y, const float *x, float s, size_t n) { with_scalar(y, x, s, n, SC_SHIFT); }
static void avx2_axpy(float *y, float a, const float *x, size_t n) { with_scalar(y, x, a, n, SC_AXPY); }

/* ----------------------------------------------------------- activations */

static inline __m256 act8(dl_act f, __m256 z)
{
    __m256 zero = _mm256_setzero_ps();
    __m256 pos = _mm256_cmp_ps(z, zero, _CMP_GT_OQ);  /* false for NaN, as z > 0 is */
    switch (f) {
    case DL_SIGMOID:    return v_sigmoid(z);
    case DL_TANH:       return v_tanh(z);
    case DL_RELU:       return _mm256_and_ps(z, pos);
    case DL_LEAKY_RELU: return _mm256_blendv_ps(_mm256_mul_ps(z, v_set(DL_LEAKY_SLOPE)), z, pos);
    case DL_SOFTPLUS:   return v_softplus(z);
    case DL_STEP:       return _mm256_and_ps(v_set(1.0f), pos);
    default:            return z;
    }
}

static inline __m256 act_grad8(dl_act f, __m256 z, __m256 a)
{
    __m256 one = v_set(1.0f);
    __m256 pos = _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GT_OQ);
    switch (f) {
    case DL_SIGMOID:    return _mm256_mul_ps(a, _mm256_sub_ps(one, a));
    case DL_TANH:       return _mm256_fnmadd_ps(a, a, one);
    case DL_RELU:       return _mm256_and_ps(one, pos);
    case DL_LEAKY_RELU: return _mm256_blendv_ps(v_set(DL_LEAKY_SLOPE), one, pos);
    case DL_SOFTPLUS:   return v_sigmoid(z);
    case DL_STEP:       return _mm256_setzero_ps();
    default:            return one;
    }
}

static void act_body(const ew *e, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i += 8) {
        __m256i m = tail_mask(hi - i < 8 ? hi - i : 8);
        _mm256_maskstore_ps(e->y + i, m, act8(e->f, _mm256_maskload_ps(e->a + i, m)));
    }
}

static void act_grad_body(const ew *e, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i += 8) {
        __m256i m = tail_mask(hi - i < 8 ? hi - i : 8);
        __m256 z = _mm256_maskload_ps(e->a + i, m), a = _mm256_maskload_ps(e->b + i, m);
        _mm256_maskstore_ps(e->y + i, m, act_grad8(e->f, z, a));
    }
}

static void avx2_act(dl_act f, float *a, const float *z, size_t n)
{
    int costly = f == DL_SIGMOID || f == DL_TANH || f == DL_SOFTPLUS;
    ew e = { .y = a, .a = z, .f = f, .body = act_body, .n = n };
    ew_run(&e, costly ? GRAIN_EXP : GRAIN_CHEAP);
}

static void avx2_act_grad(dl_act f, float *d, const float *z, const float *a, size_t n)
{
    ew e = { .y = d, .a = z, .b = a, .f = f, .body = act_grad_body, .n = n };
    ew_run(&e, f == DL_SOFTPLUS ? GRAIN_EXP : GRAIN_CHEAP);
}

/* exp, log, tanh of a vector: act_body's loop with the function picked by s. */
enum { FN_EXP, FN_LOG, FN_TANH };

static void fn_body(const ew *e, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i += 8) {
        __m256i m = tail_mask(hi - i < 8 ? hi - i : 8);
        __m256 x = _mm256_maskload_ps(e->a + i, m);
        __m256 y = e->op == FN_EXP ? v_exp(x) : e->op == FN_LOG ? v_log(x) : v_tanh(x);
        _mm256_maskstore_ps(e->y + i, m, y);
    }
}

static void fn_run(float *y, const float *x, size_t n, int which)
{
    ew e = { .y = y, .a = x, .op = which, .body = fn_body, .n = n };
    ew_run(&e, GRAIN_EXP);
}

static void avx2_exp(float *y, const float *x, size_t n) { fn_run(y, x, n, FN_EXP); }
static void avx2_log(float *y, const float *x, size_t n) { fn_run(y, x, n, FN_LOG); }
static void avx2_tanh(float *y, const float *x, size_t n) { fn_run(y, x, n, FN_TANH); }

/* ------------------------------------------------------------ reductions */

/* Σ x·y (y == NULL: Σ x; y == x: Σ x²), in double: each 8 floats are widened
 * to two 4-double vectors, so the sum is as accurate as the reference's. */
static double dot_d(const float *x, const float *y, size_t n)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = tail_mask(n - i < 8 ? n - i : 8);
        __m256 a = _mm256_maskload_ps(x + i, m);
        __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(a)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1));
        if (y) {
            __m256 b = y == x ? a : _mm256_maskload_ps(y + i, m);
            s0 = _mm256_fmadd_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(b)), s0);
            s1 = _mm256_fmadd_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(b, 1)), s1);
        } else {
            s0 = _mm256_add_pd(s0, lo);
            s1 = _mm256_add_pd(s1, hi);
        }
    }
    return hsum_pd(_mm256_add_pd(s0, s1));
}

static double avx2_sum(const float *x, size_t n) { return dot_d(x, NULL, n); }
static double avx2_dot(const float *x, const float *y, size_t n) { return dot_d(x, y, n); }
static double avx2_sumsq(const float *x, size_t n) { return dot_d(x, x, n); }

/* Index of the first element equal to the largest (sign = 1) or smallest
 * (sign = -1) non-NaN element. max_ps returns its 2nd operand when either is
 * NaN, so NaNs never enter the running extreme. With no non-NaN element the
 * reference's scan is reproduced exactly by running it. */
static size_t arg_extreme(const float *x, size_t n, float sign)
{
    __m256 vs = _mm256_set1_ps(sign), best = _mm256_set1_ps(-INFINITY);
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = tail_mask(n - i < 8 ? n - i : 8);
        __m256 v = _mm256_mul_ps(vs, _mm256_maskload_ps(x + i, m));
        v = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), v, _mm256_castsi256_ps(m));
        best = _mm256_max_ps(v, best);
    }
    float b = hmax(best);
    for (size_t i = 0; i < n; i++)
        if (sign * x[i] == b)
            return i;
    size_t k = 0;  /* every element is NaN */
    for (size_t i = 1; i < n; i++)
        if (sign * x[i] > sign * x[k] || x[k] != x[k]) k = i;
    return k;
}

static size_t avx2_argmax(const float *x, size_t n) { return arg_extreme(x, n, 1.0f); }
static size_t avx2_argmin(const float *x, size_t n) { return arg_extreme(x, n, -1.0f); }

/* y[j] = s·Σ_i A[i][j], 8 columns at a time, accumulated in double. */
static void avx2_colsum(float *y, const float *A, int rows, int cols, int lda, float s)
{
    for (int j = 0; j < cols; j += 8) {
        __m256i m = tail_mask(cols - j < 8 ? (size_t)(cols - j) : 8);
        __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
        for (int i = 0; i < rows; i++) {
            __m256 a = _mm256_maskload_ps(A + (size_t)i * lda + j, m);
            s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(a)));
            s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)));
        }
        __m256d vs = _mm256_set1_pd(s);
        __m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(vs, s0)), hi = _mm256_cvtpd_ps(_mm256_mul_pd(vs, s1));
        _mm256_maskstore_ps(y + j, m, _mm256_set_m128(hi, lo));
    }
}

/* ------------------------------------------------------------- row-wise */

/* max_i c·x[i] over the non-NaN elements (−inf if none). */
static float max_scaled(const float *x, float c, size_t n)
{
    __m256 vc = _mm256_set1_ps(c), best = _mm256_set1_ps(-INFINITY);
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = tail_mask(n - i < 8 ? n - i : 8);
        __m256 v = _mm256_mul_ps(vc, _mm256_maskload_ps(x + i, m));
        v = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), v, _mm256_castsi256_ps(m));
        best = _mm256_max_ps(v, best);
    }
    return hmax(best);
}

/* y = exp(c·x − mx) (when y != NULL), returning Σ exp(c·x − mx) in double. */
static double exp_shifted(float *y, const float *x, float c, float mx, size_t n)
{
    __m256 vc = _mm256_set1_ps(c), vm = _mm256_set1_ps(mx);
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = tail_mask(n - i < 8 ? n - i : 8);
        __m256 e = v_exp(_mm256_fmsub_ps(vc, _mm256_maskload_ps(x + i, m), vm));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(m));
        if (y)
            _mm256_maskstore_ps(y + i, m, e);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    return hsum_pd(_mm256_add_pd(s0, s1));
}

static void avx2_softmax(float *y, const float *x, float c, size_t n)
{
    float mx = max_scaled(x, c, n);
    double s = exp_shifted(y, x, c, mx, n);
    avx2_scale(y, y, (float)(1.0 / s), n);
}

static void avx2_log_softmax(float *y, const float *x, float c, size_t n)
{
    float mx = max_scaled(x, c, n);
    float lse = mx + (float)log(exp_shifted(NULL, x, c, mx, n));
    __m256 vc = _mm256_set1_ps(c), vl = _mm256_set1_ps(lse);
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = tail_mask(n - i < 8 ? n - i : 8);
        _mm256_maskstore_ps(y + i, m, _mm256_fmsub_ps(vc, _mm256_maskload_ps(x + i, m), vl));
    }
}

void kern_avx2_fill(kern_table *t)
{
    t->isa = "avx2";
    t->gemm = gemm_avx2;
    t->backward_step = gemm_avx2_backward_step;
    t->add = avx2_add;
    t->sub = avx2_sub;
    t->mul = avx2_mul;
    t->div = avx2_div;
    t->scale = avx2_scale;
    t->shift = avx2_shift;
    t->axpy = avx2_axpy;
    t->act = avx2_act;
    t->act_grad = avx2_act_grad;
    t->softmax = avx2_softmax;
    t->log_softmax = avx2_log_softmax;
    t->exp = avx2_exp;
    t->log = avx2_log;
    t->tanh = avx2_tanh;
    t->sum = avx2_sum;
    t->dot = avx2_dot;
    t->sumsq = avx2_sumsq;
    t->argmax = avx2_argmax;
    t->argmin = avx2_argmin;
    t->colsum = avx2_colsum;
    t->dense_forward = net_dense_forward_avx2;
    t->dense_grad_step = net_dense_grad_step_avx2;
    t->dense_step_forward = net_dense_step_forward_avx2;
    t->dense_momentum_step = net_dense_momentum_step_avx2;
}
