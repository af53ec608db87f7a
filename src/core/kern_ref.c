/*
 * kern_ref.c — the reference kernels: plain loops, written to be read.
 *
 * These define what every kernel computes. The AVX2 versions must agree with
 * them to within the tolerances the tests state. Reductions accumulate in
 * double so that the reference is the more accurate of the two.
 */
#include "kern.h"

#include <math.h>

/* C = alpha·op(A)·op(B) + beta·C, the textbook triple loop. */
static void ref_gemm(int tA, int tB, int M, int N, int K, float alpha,
                     const float *A, int lda, const float *B, int ldb,
                     float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                float a = tA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float b = tB ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += (double)a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = (float)(alpha * acc) + (beta == 0 ? 0 : beta * *c);
        }
    }
}

static void ref_add(float *y, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static void ref_sub(float *y, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = a[i] - b[i];
}

static void ref_mul(float *y, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

static void ref_div(float *y, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = a[i] / b[i];
}

static void ref_scale(float *y, const float *x, float s, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = s * x[i];
}

static void ref_shift(float *y, const float *x, float s, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] + s;
}

static void ref_axpy(float *y, float a, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

/* σ(z) = 1 / (1 + e^−z), written so that neither branch overflows. */
static float sigmoid(float z)
{
    if (z >= 0)
        return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

/* softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^−|z|). */
static float softplus(float z)
{
    return fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z)));
}

static float act_one(dl_act f, float z)
{
    switch (f) {
    case DL_SIGMOID:    return sigmoid(z);
    case DL_TANH:       return tanhf(z);
    case DL_RELU:       return z > 0 ? z : 0.0f;
    case DL_LEAKY_RELU: return z > 0 ? z : DL_LEAKY_SLOPE * z;
    case DL_SOFTPLUS:   return softplus(z);
    case DL_STEP:       return z > 0 ? 1.0f : 0.0f;
    default:            return z;  /* linear; softmax is row-wise, not here */
    }
}

/* f'(z), using a = f(z) where that is cheaper. The step function's derivative
 * is 0 almost everywhere; the perceptron rule does not use it. */
static float act_grad_one(dl_act f, float z, float a)
{
    switch (f) {
    case DL_SIGMOID:    return a * (1.0f - a);
    case DL_TANH:       return 1.0f - a * a;
    case DL_RELU:       return z > 0 ? 1.0f : 0.0f;
    case DL_LEAKY_RELU: return z > 0 ? 1.0f : DL_LEAKY_SLOPE;
    case DL_SOFTPLUS:   return sigmoid(z);
    case DL_STEP:       return 0.0f;
    default:            return 1.0f;
    }
}

static void ref_act(dl_act f, float *a, const float *z, size_t n)
{
    for (size_t i = 0; i < n; i++) a[i] = act_one(f, z[i]);
}

static void ref_act_grad(dl_act f, float *d, const float *z, const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] = act_grad_one(f, z[i], a[i]);
}

static float row_max_scaled(const float *x, float c, size_t n)
{
    float m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (c * x[i] > m) m = c * x[i];
    return m;
}

static void ref_softmax(float *y, const float *x, float c, size_t n)
{
    float m = row_max_scaled(x, c, n);
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        y[i] = expf(c * x[i] - m);
        s += y[i];
    }
    for (size_t i = 0; i < n; i++) y[i] = (float)(y[i] / s);
}

static void ref_log_softmax(float *y, const float *x, float c, size_t n)
{
    float m = row_max_scaled(x, c, n);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += exp((double)(c * x[i] - m));
    float lse = m + (float)log(s);
    for (size_t i = 0; i < n; i++) y[i] = c * x[i] - lse;
}

static void ref_exp(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = expf(x[i]);
}

static void ref_log(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = logf(x[i]);
}

static void ref_tanh(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}

static double ref_sum(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s;
}

static double ref_dot(const float *x, const float *y, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * y[i];
    return s;
}

static double ref_sumsq(const float *x, size_t n)
{
    return ref_dot(x, x, n);
}

static size_t ref_argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best] || x[best] != x[best]) best = i;
    return best;
}

static size_t ref_argmin(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] < x[best] || x[best] != x[best]) best = i;
    return best;
}

static void ref_colsum(float *y, const float *A, int rows, int cols, int lda, float s)
{
    for (int j = 0; j < cols; j++) {
        double acc = 0;
        for (int i = 0; i < rows; i++) acc += A[(size_t)i * lda + j];
        y[j] = (float)(s * acc);
    }
}

/* z[j] = W[j]·a + b[j]: one dot product per row of W. */
static void ref_dense_forward(float *z, const float *W, const float *a, const float *b,
                              int n_out, int n_in)
{
    for (int j = 0; j < n_out; j++) {
        const float *w = W + (size_t)j * n_in;
        double s = 0;
        for (int k = 0; k < n_in; k++) s += (double)w[k] * a[k];
        z[j] = (float)s + b[j];
    }
}

/* dW[j] = δ[j]·a, then (update != 0) W[j] ← decay·W[j] − lr·dW[j]; dW may
 * then be NULL (not written). */
static void ref_dense_grad_step(float *W, float *dW, const float *delta, const float *a,
                                int n_out, int n_in, float lr, float decay, int update)
{
    for (int j = 0; j < n_out; j++) {
        float *w = W + (size_t)j * n_in;
        for (int k = 0; k < n_in; k++) {
            float g = delta[j] * a[k];
            if (dW)
                dW[(size_t)j * n_in + k] = g;
            if (update)
                w[k] = decay * w[k] - lr * g;
        }
    }
}

/* V[j] ← mu·V[j] − lr·δ[j]·a, then W[j] ← decay·W[j] + V[j]. */
static void ref_dense_momentum_step(float *W, float *V, const float *delta, const float *a,
                                    int n_out, int n_in, float lr, float mu, float decay)
{
    for (int j = 0; j < n_out; j++) {
        float *w = W + (size_t)j * n_in, *v = V + (size_t)j * n_in;
        for (int k = 0; k < n_in; k++) {
            float g = delta[j] * a[k];
            v[k] = mu * v[k] - lr * g;
            w[k] = decay * w[k] + v[k];
        }
    }
}

/* The deferred update, then the forward: two passes (the reference is the
 * oracle, not a fusion). */
static void ref_dense_step_forward(float *z, float *W, const float *a, const float *b,
                                   int n_out, int n_in, const float *d_old, const float *a_old,
                                   float lr, float decay)
{
    ref_dense_grad_step(W, NULL, d_old, a_old, n_out, n_in, lr, decay, 1);
    ref_dense_forward(z, W, a, b, n_out, n_in);
}

static void ref_backward_step(int B, int n_out, int n_in, const float *D, int ldd, float *W,
                              int ldw, const float *A, int lda, float alpha, float decay,
                              float *P, int ldp)
{
    ref_gemm(0, 0, B, n_in, n_out, 1.0f, D, ldd, W, ldw, 0.0f, P, ldp);
    ref_gemm(1, 0, n_out, n_in, B, alpha, D, ldd, A, lda, decay, W, ldw);
}

void kern_ref_fill(kern_table *t)
{
    *t = (kern_table){
        .isa = "scalar",
        .gemm = ref_gemm, .backward_step = ref_backward_step,
        .add = ref_add, .sub = ref_sub, .mul = ref_mul, .div = ref_div,
        .scale = ref_scale, .shift = ref_shift, .axpy = ref_axpy,
        .act = ref_act, .act_grad = ref_act_grad,
        .softmax = ref_softmax, .log_softmax = ref_log_softmax,
        .exp = ref_exp, .log = ref_log, .tanh = ref_tanh,
        .sum = ref_sum, .dot = ref_dot, .sumsq = ref_sumsq,
        .argmax = ref_argmax, .argmin = ref_argmin,
        .colsum = ref_colsum,
        .dense_forward = ref_dense_forward, .dense_grad_step = ref_dense_grad_step,
        .dense_step_forward = ref_dense_step_forward,
        .dense_momentum_step = ref_dense_momentum_step,
    };
}
