/*
 * kern.h — the compute kernels, as a table of function pointers.
 *
 * Every kernel exists twice with the same signature: a plain-loop reference in
 * kern_ref.c (what a reader reads to learn the maths, and the oracle the tests
 * compare against) and an AVX2+FMA version in kern_avx2.c (the only file built
 * with -mavx2 -mfma). The active table starts as a copy of the reference and
 * the AVX2 entries override it once, on first use, when CPUID says AVX2 and FMA
 * are there and XGETBV says the OS saves YMM registers. A third table, the
 * AVX2 one with AVX-512 entries over it (kern_avx512.c), exists when CPUID has
 * AVX-512 F/DQ/BW/VL and the OS saves zmm state; it is then the default
 * (measured faster even on Zen 4, see doc/core.md).
 * DELTALAB_ISA=scalar|avx2|avx512 forces a choice; a value that is unknown or
 * cannot run here leaves the default and says so in kern_isa_note().
 *
 * Conventions: vectors are contiguous float arrays of length n; matrices are
 * row-major with a row stride (ld*) in elements; outputs come first. An output
 * may alias an input of the same shape (y = a + y is fine) unless noted.
 * Reductions accumulate in double.
 */
#ifndef DL_KERN_H
#define DL_KERN_H

#include <stddef.h>

/* Element-wise activations. DL_SOFTMAX is row-wise and goes through softmax(). */
typedef enum dl_act {
    DL_LINEAR, DL_SIGMOID, DL_TANH, DL_RELU, DL_LEAKY_RELU, DL_SOFTPLUS,
    DL_STEP, DL_SOFTMAX, DL_ACT_COUNT
} dl_act;

/* Names in enum order: "linear", "sigmoid", ... (the words the Lua API takes). */
extern const char *const dl_act_names[DL_ACT_COUNT + 1];

/* Slope of leaky ReLU for z < 0. */
#define DL_LEAKY_SLOPE 0.01f

typedef struct kern_table {
    const char *isa;  /* "scalar", "avx2" or "avx512" */

    /* C (M×N) = alpha·op(A)·op(B) + beta·C, op(X) = X, or Xᵀ when tX != 0.
     * op(A) is M×K, op(B) is K×N. When beta == 0, C is only written (it may
     * hold NaN before). C must not alias A or B. */
    void (*gemm)(int tA, int tB, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc);

    /* Back-propagation through a dense layer and its update, batched plain
     * SGD: P = Δ·W (B × n_in: δ·W, before σ′), then W ← decay·W + alpha·Δᵀ·A
     * (alpha = −lr/B, A the layer's input), the W of before the update in P.
     * Δ is B × n_out, W n_out × n_in, A and P B × n_in, each with its row
     * stride; P aliases nothing. The same numbers as gemm(P = Δ·W) followed by
     * gemm(W = alpha·Δᵀ·A + decay·W); the fast tables make both in one pass
     * over W. */
    void (*backward_step)(int B, int n_out, int n_in, const float *D, int ldd, float *W, int ldw,
                          const float *A, int lda, float alpha, float decay, float *P, int ldp);

    void (*add)(float *y, const float *a, const float *b, size_t n);  /* y = a + b */
    void (*sub)(float *y, const float *a, const float *b, size_t n);  /* y = a - b */
    void (*mul)(float *y, const float *a, const float *b, size_t n);  /* y = a ⊙ b */
    void (*div)(float *y, const float *a, const float *b, size_t n);  /* y = a ⊘ b */
    void (*scale)(float *y, const float *x, float s, size_t n);       /* y = s·x */
    void (*shift)(float *y, const float *x, float s, size_t n);       /* y = x + s */
    void (*axpy)(float *y, float a, const float *x, size_t n);        /* y += a·x */

    /* a = f(z) for an element-wise f (not DL_SOFTMAX). */
    void (*act)(dl_act f, float *a, const float *z, size_t n);
    /* d = f'(z); a = f(z) is passed too, since σ' = a(1 − a) and tanh' = 1 − a². */
    void (*act_grad)(dl_act f, float *d, const float *z, const float *a, size_t n);

    /* One row: y = softmax(c·x), max-subtracted so large logits cannot overflow. */
    void (*softmax)(float *y, const float *x, float c, size_t n);
    /* One row: y = log softmax(c·x), computed as c·x − max − log Σ exp(·). */
    void (*log_softmax)(float *y, const float *x, float c, size_t n);

    void (*exp)(float *y, const float *x, size_t n);
    void (*log)(float *y, const float *x, size_t n);
    void (*tanh)(float *y, const float *x, size_t n);

    double (*sum)(const float *x, size_t n);
    double (*dot)(const float *x, const float *y, size_t n);
    double (*sumsq)(const float *x, size_t n);
    /* Index of the first largest / smallest element; NaN compares as neither. */
    size_t (*argmax)(const float *x, size_t n);
    size_t (*argmin)(const float *x, size_t n);

    /* y[j] = s · Σ_i A[i][j] over `rows` rows of `cols` (stride lda): column sums,
     * e.g. ∂C/∂b as the batch mean of δ. */
    void (*colsum)(float *y, const float *A, int rows, int cols, int lda, float s);

    /* One sample through a dense layer (batch 1), fused so that a per-sample
     * step passes over W once per call, with no call per row: z[j] = W[j]·a +
     * b[j] for j < n_out, W n_out × n_in with contiguous rows. z aliases nothing.
     * The AVX2 entries of the three pass by the 8-float chunks where the input
     * is all zero (net_avx2.c): the same numbers, but a NaN or Inf of W or δ
     * there does not spread through the zero input. */
    void (*dense_forward)(float *z, const float *W, const float *a, const float *b,
                          int n_out, int n_in);
    /* dW[j] = δ[j]·a for every row j (BP4 for one sample) and, when update != 0,
     * in the same pass W[j] ← decay·W[j] − lr·dW[j]; with update, dW may be
     * NULL: W is written alone, the same values. No output aliases an input. */
    void (*dense_grad_step)(float *W, float *dW, const float *delta, const float *a,
                            int n_out, int n_in, float lr, float decay, int update);
    /* A batch-1 step's deferred update of W, then the next sample's forward,
     * in one pass over W: W[j] ← decay·W[j] − lr·d_old[j]·a_old, then z[j] =
     * W[j]·a + b[j] — the same numbers as dense_grad_step (update, dW NULL)
     * followed by dense_forward. z aliases nothing; a may be a_old. */
    void (*dense_step_forward)(float *z, float *W, const float *a, const float *b,
                               int n_out, int n_in, const float *d_old, const float *a_old,
                               float lr, float decay);
    /* One sample's step with momentum mu, BP4 fused with the update, one pass
     * over W and V: for every row j, V[j] ← mu·V[j] − lr·δ[j]·a, then W[j] ←
     * decay·W[j] + V[j] (net_update's order; δ[j]·a rounded once). */
    void (*dense_momentum_step)(float *W, float *V, const float *delta, const float *a,
                                int n_out, int n_in, float lr, float mu, float decay);
} kern_table;

/* The active table (initialised on first call; thread-safe). */
const kern_table *kern(void);
/* The plain-loop reference table. */
const kern_table *kern_reference(void);
/* The AVX2 table, or NULL when this CPU or OS cannot run it. */
const kern_table *kern_avx2(void);
/* The AVX-512 table, or NULL when this CPU or OS cannot run it. */
const kern_table *kern_avx512(void);
/* Why DELTALAB_ISA was not followed ("DELTALAB_ISA=avx9 is not one of ...;
 * using avx2"), or NULL when it was (or is unset): for the program to print. */
const char *kern_isa_note(void);
/* Make "scalar", "avx2" or "avx512" the active table: 0 on success, -1 if
 * unknown or unavailable here. */
int kern_use(const char *isa);

/* Fill t with the reference kernels (kern_ref.c). */
void kern_ref_fill(kern_table *t);
/* Override t's entries with AVX2 kernels (kern_avx2.c); only call when supported. */
void kern_avx2_fill(kern_table *t);
/* Override t (a filled AVX2 table) with AVX-512 kernels; only call when supported. */
void kern_avx512_fill(kern_table *t);

#endif
