/*
 * net_avx2.c — the one-sample (batch 1) dense-layer kernels of the kernel
 * table, with AVX2+FMA: kern_table.dense_forward, .dense_grad_step and
 * .dense_step_forward (their reference twins, same signatures, are in
 * kern_ref.c).
 *
 * Why they exist beside gemm: these are fusions only a network step wants —
 * z = W·a + b in one pass over W, and the rank-1 step W ← decay·W − η·δ·aᵀ
 * in one more, writing dW = δ·aᵀ on the way only when asked — so that a
 * per-sample SGD step reads W twice and writes it once, with no call per row
 * and no thread-pool bookkeeping (a 784-30-10 step is a few microseconds;
 * per-call overheads would dominate it). A step of net_step defers its
 * update of W¹ to the next forward, and dense_step_forward makes the two in
 * one pass: W¹ is then read and written once a step.
 *
 * Zero skipping: an input that is zero over a whole 8-float chunk (an MNIST
 * image is 60 % such chunks, and two images in a row leave half of them zero)
 * adds nothing to z and nothing to W's update, so the passes over W take
 * only the chunks where the input is not all zero — the same numbers bit for
 * bit (each skipped term is a ±0 added), except that a NaN or Inf in W, or in
 * δ, at a skipped chunk does not spread through the zero input as it would
 * densely (as the GEMM's zero skipping, gemm_body.h). An update with L2 decay
 * touches every weight, so it takes every chunk.
 *
 * Assumptions: rows of W and dW are contiguous with stride n_in; a, δ, z, b
 * are contiguous; no output aliases an input.
 */
#include "net_kern.h"
#include "avx2_util.h"
#include "gemm.h"

#include <immintrin.h>
#include <stddef.h>

/* Rows of up to CHUNKS_MAX·8 inputs skip zero chunks (the list is on the
 * stack); wider rows are passed densely. */
enum { CHUNKS_MAX = 1024 };

/* The offsets k < nv (multiples of 8) of the chunks at which a, or a2 when
 * not NULL, is not all zero bits (so −0 counts as not zero, as NaN), in
 * order, into ks (room for CHUNKS_MAX); their count. -1 (pass every chunk)
 * when skipping is off (gemm_skips_zeros), the row is too wide, or fewer than
 * an eighth of the chunks could be skipped: then the dense loop, without the
 * index load, is as fast. One OR and one test a chunk, no branch on the data
 * (as depth_list): on a dense input the scan is all this costs, 2 % of a
 * 784-30-10 step. */
static int chunk_list(const float *a, const float *a2, int nv, int *ks)
{
    int nc = nv / 8, n = 0;
    if (!gemm_skips_zeros || nc > CHUNKS_MAX || nc < 2)
        return -1;
    a2 = a2 ? a2 : a;
    for (int k = 0; k < nv; k += 8) {
        __m256i v = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(a + k)),
                                    _mm256_loadu_si256((const __m256i *)(a2 + k)));
        ks[n] = k;
        n += !_mm256_testz_si256(v, v);
    }
    return n <= nc - (nc / 8 > 1 ? nc / 8 : 1) ? n : -1;
}

/* One row's dot product with a, two accumulators to hide FMA latency. */
static inline float dot_row(const float *w, const float *a, int n, __m256i tm, int nv)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int k = 0;
    for (; k + 16 <= nv; k += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + k), _mm256_loadu_ps(a + k), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + k + 8), _mm256_loadu_ps(a + k + 8), s1);
    }
    for (; k < nv; k += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + k), _mm256_loadu_ps(a + k), s0);
    if (nv < n)
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(w + nv, tm), _mm256_maskload_ps(a + nv, tm), s1);
    return hsum(_mm256_add_ps(s0, s1));
}

/* Inlined at each call, so that a call with ks NULL compiles to the plain
 * loop over every chunk (a test of ks in the loop cost 784-30-10 6 %). */
#define SPECIALISED static inline __attribute__((always_inline))

/* z[j] = W[j]·a + b[j] for j < n_out: four rows share each load of a, at
 * the nk chunk offsets ks (every chunk in order when ks is NULL). */
SPECIALISED void forward_rows(float *z, const float *W, const float *a, const float *b,
                              int n_out, int n_in, const int *ks, int nk)
{
    __m256i tm = tail_mask(n_in % 8);
    int nv = n_in - n_in % 8, j = 0;
    for (; j + 4 <= n_out; j += 4) {
        const float *w0 = W + (size_t)j * n_in, *w1 = w0 + n_in, *w2 = w1 + n_in, *w3 = w2 + n_in;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i < nk; i++) {
            int k = ks ? ks[i] : 8 * i;
            __m256 ak = _mm256_loadu_ps(a + k);
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k), ak, s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + k), ak, s1);
            s2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + k), ak, s2);
            s3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + k), ak, s3);
        }
        if (nv < n_in) {
            __m256 ak = _mm256_maskload_ps(a + nv, tm);
            s0 = _mm256_fmadd_ps(_mm256_maskload_ps(w0 + nv, tm), ak, s0);
            s1 = _mm256_fmadd_ps(_mm256_maskload_ps(w1 + nv, tm), ak, s1);
            s2 = _mm256_fmadd_ps(_mm256_maskload_ps(w2 + nv, tm), ak, s2);
            s3 = _mm256_fmadd_ps(_mm256_maskload_ps(w3 + nv, tm), ak, s3);
        }
        z[j] = hsum(s0) + b[j];
        z[j + 1] = hsum(s1) + b[j + 1];
        z[j + 2] = hsum(s2) + b[j + 2];
        z[j + 3] = hsum(s3) + b[j + 3];
    }
    for (; j < n_out; j++)
        z[j] = dot_row(W + (size_t)j * n_in, a, n_in, tm, nv) + b[j];
}

/* z[j] = W[j]·a + b[j] for j < n_out, skipping a's zero chunks. */
void net_dense_forward_avx2(float *z, const float *W, const float *a, const float *b,
                            int n_out, int n_in)
{
    int list[CHUNKS_MAX], nv = n_in - n_in % 8, nk = chunk_list(a, NULL, nv, list);
    if (nk >= 0)
        forward_rows(z, W, a, b, n_out, n_in, list, nk);
    else
        forward_rows(z, W, a, b, n_out, n_in, NULL, nv / 8);
}

/* decay·w − lr·g, g = δ·a already rounded: the one rounding of the update
 * that every batch-1 kernel here makes (so the fused pass matches step_row). */
static inline __m256 stepped(__m256 w, __m256 g, __m256 nl, __m256 vdecay)
{
    return _mm256_fmadd_ps(nl, g, _mm256_mul_ps(vdecay, w));
}

/* One row of the step: w ← decay·w − lr·(d·a), and g = d·a unless g is NULL
 * (the product is rounded once either way, so both give the same w). With g
 * NULL, only the nk chunks at offsets ks, when ks is not NULL (see
 * chunk_list; the caller's decay is then 1, so the others keep their w). */
SPECIALISED void step_row(float *w, float *g, float dj, const float *a, int n_in,
                          __m256i tm, int nv, const int *ks, int nk, float lr, float decay)
{
    __m256 d = _mm256_set1_ps(dj), nl = _mm256_set1_ps(-lr), vdecay = _mm256_set1_ps(decay);
    /* Two loops, not one with `if (g)` inside: at -O2 the compiler keeps the
     * test in the loop, and that cost 784-100-10 a third of its step. */
    if (g) {
        for (int k = 0; k < nv; k += 8) {
            __m256 gk = _mm256_mul_ps(d, _mm256_loadu_ps(a + k));
            _mm256_storeu_ps(g + k, gk);
            _mm256_storeu_ps(w + k, stepped(_mm256_loadu_ps(w + k), gk, nl, vdecay));
        }
    } else {
        for (int i = 0; i < nk; i++) {
            int k = ks ? ks[i] : 8 * i;
            __m256 gk = _mm256_mul_ps(d, _mm256_loadu_ps(a + k));
            _mm256_storeu_ps(w + k, stepped(_mm256_loadu_ps(w + k), gk, nl, vdecay));
        }
    }
    if (nv < n_in) {
        __m256 gk = _mm256_mul_ps(d, _mm256_maskload_ps(a + nv, tm));
        if (g)
            _mm256_maskstore_ps(g + nv, tm, gk);
        _mm256_maskstore_ps(w + nv, tm, stepped(_mm256_maskload_ps(w + nv, tm), gk, nl, vdecay));
    }
}

/* dW[j] = δ[j]·a for every row j and, when update != 0, in the same pass
 * W[j] ← decay·W[j] − lr·δ[j]·a; dW may then be NULL (not written). A
 * decay of 1 multiplies exactly, so it needs no loop of its own. */
void net_dense_grad_step_avx2(float *W, float *dW, const float *delta, const float *a,
                              int n_out, int n_in, float lr, float decay, int update)
{
    __m256i tm = tail_mask(n_in % 8);
    int nv = n_in - n_in % 8, list[CHUNKS_MAX];
    int nk = update && !dW && decay == 1.0f ? chunk_list(a, NULL, nv, list) : -1;
    if (nk >= 0) {   /* W alone, without decay: only the chunks where a is not zero */
        for (int j = 0; j < n_out; j++)
            step_row(W + (size_t)j * n_in, NULL, delta[j], a, n_in, tm, nv, list, nk, lr, 1.0f);
        return;
    }
    for (int j = 0; j < n_out; j++) {
        float *w = W + (size_t)j * n_in, *g = dW ? dW + (size_t)j * n_in : NULL;
        if (update) {
            step_row(w, g, delta[j], a, n_in, tm, nv, NULL, nv / 8, lr, decay);
            continue;
        }
        __m256 d = _mm256_set1_ps(delta[j]);
        int k = 0;
        for (; k < nv; k += 8)
            _mm256_storeu_ps(g + k, _mm256_mul_ps(d, _mm256_loadu_ps(a + k)));
        if (nv < n_in)
            _mm256_maskstore_ps(g + nv, tm, _mm256_mul_ps(d, _mm256_maskload_ps(a + nv, tm)));
    }
}

/* One row of the step with momentum: v ← mu·v − lr·(d·a), w ← decay·w + v.
 * decay is a literal 1 where the caller can make it one (no multiply). */
SPECIALISED void momentum_row(float *w, float *v, float dj, const float *a, __m256i tm, int nv,
                              int n_in, float lr, float mu, float decay)
{
    __m256 d = _mm256_set1_ps(dj), nl = _mm256_set1_ps(-lr), vmu = _mm256_set1_ps(mu);
    __m256 vdecay = _mm256_set1_ps(decay);
    for (int k = 0; k < nv; k += 8) {
        __m256 vk = stepped(_mm256_loadu_ps(v + k), _mm256_mul_ps(d, _mm256_loadu_ps(a + k)), nl, vmu);
        _mm256_storeu_ps(v + k, vk);
        _mm256_storeu_ps(w + k, _mm256_add_ps(_mm256_mul_ps(vdecay, _mm256_loadu_ps(w + k)), vk));
    }
    if (nv < n_in) {
        __m256 g = _mm256_mul_ps(d, _mm256_maskload_ps(a + nv, tm));
        __m256 vk = stepped(_mm256_maskload_ps(v + nv, tm), g, nl, vmu);
        _mm256_maskstore_ps(v + nv, tm, vk);
        _mm256_maskstore_ps(w + nv, tm,
                            _mm256_add_ps(_mm256_mul_ps(vdecay, _mm256_maskload_ps(w + nv, tm)), vk));
    }
}

/* One pass over W and V (net_update's momentum step read and wrote V twice
 * and W once more, after the rank-1 product made dW). Every chunk: the
 * velocity moves even where the input is zero. */
void net_dense_momentum_step_avx2(float *W, float *V, const float *delta, const float *a,
                                  int n_out, int n_in, float lr, float mu, float decay)
{
    __m256i tm = tail_mask(n_in % 8);
    int nv = n_in - n_in % 8;
    for (int j = 0; j < n_out; j++) {
        size_t o = (size_t)j * n_in;
        if (decay == 1.0f)
            momentum_row(W + o, V + o, delta[j], a, tm, nv, n_in, lr, mu, 1.0f);
        else
            momentum_row(W + o, V + o, delta[j], a, tm, nv, n_in, lr, mu, decay);
    }
}

/* One vector of one row of the deferred update, stored: w ← decay·w −
 * lr·(d·a_old). Returns the new w; update_tail does the masked last one. */
static inline __m256 update_vec(float *w, __m256 d, __m256 ao, __m256 nl, __m256 vdecay)
{
    __m256 wk = stepped(_mm256_loadu_ps(w), _mm256_mul_ps(d, ao), nl, vdecay);
    _mm256_storeu_ps(w, wk);
    return wk;
}

static inline __m256 update_tail(float *w, __m256i tm, __m256 d, __m256 ao, __m256 nl,
                                 __m256 vdecay)
{
    __m256 wk = stepped(_mm256_maskload_ps(w, tm), _mm256_mul_ps(d, ao), nl, vdecay);
    _mm256_maskstore_ps(w, tm, wk);
    return wk;
}

/* W[j] ← decay·W[j] − lr·d_old[j]·a_old, then z[j] = W[j]·a + b[j]: four
 * rows at a time as net_dense_forward_avx2 goes, each vector updated, stored
 * and multiplied by a while in a register, so the numbers are those of
 * step_row then the forward (the same operations in the same order). At the
 * nk chunk offsets ks, every chunk when ks is NULL. */
SPECIALISED void step_forward_rows(float *z, float *W, const float *a, const float *b,
                                   int n_out, int n_in, const float *d_old,
                                   const float *a_old, float lr, float decay, const int *ks,
                                   int nk)
{
    __m256i tm = tail_mask(n_in % 8);
    __m256 nl = _mm256_set1_ps(-lr), vdecay = _mm256_set1_ps(decay);
    int nv = n_in - n_in % 8, j = 0;
    for (; j + 4 <= n_out; j += 4) {
        float *w0 = W + (size_t)j * n_in, *w1 = w0 + n_in, *w2 = w1 + n_in, *w3 = w2 + n_in;
        __m256 d0 = _mm256_set1_ps(d_old[j]), d1 = _mm256_set1_ps(d_old[j + 1]);
        __m256 d2 = _mm256_set1_ps(d_old[j + 2]), d3 = _mm256_set1_ps(d_old[j + 3]);
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i < nk; i++) {
            int k = ks ? ks[i] : 8 * i;
            __m256 ak = _mm256_loadu_ps(a + k), ao = _mm256_loadu_ps(a_old + k);
            s0 = _mm256_fmadd_ps(update_vec(w0 + k, d0, ao, nl, vdecay), ak, s0);
            s1 = _mm256_fmadd_ps(update_vec(w1 + k, d1, ao, nl, vdecay), ak, s1);
            s2 = _mm256_fmadd_ps(update_vec(w2 + k, d2, ao, nl, vdecay), ak, s2);
            s3 = _mm256_fmadd_ps(update_vec(w3 + k, d3, ao, nl, vdecay), ak, s3);
        }
        if (nv < n_in) {
            __m256 ak = _mm256_maskload_ps(a + nv, tm), ao = _mm256_maskload_ps(a_old + nv, tm);
            s0 = _mm256_fmadd_ps(update_tail(w0 + nv, tm, d0, ao, nl, vdecay), ak, s0);
            s1 = _mm256_fmadd_ps(update_tail(w1 + nv, tm, d1, ao, nl, vdecay), ak, s1);
            s2 = _mm256_fmadd_ps(update_tail(w2 + nv, tm, d2, ao, nl, vdecay), ak, s2);
            s3 = _mm256_fmadd_ps(update_tail(w3 + nv, tm, d3, ao, nl, vdecay), ak, s3);
        }
        z[j] = hsum(s0) + b[j];
        z[j + 1] = hsum(s1) + b[j + 1];
        z[j + 2] = hsum(s2) + b[j + 2];
        z[j + 3] = hsum(s3) + b[j + 3];
    }
    for (; j < n_out; j++) {   /* the last rows: the two passes, on a row in L1 */
        float *w = W + (size_t)j * n_in;
        step_row(w, NULL, d_old[j], a_old, n_in, tm, nv, NULL, nv / 8, lr, decay);
        z[j] = dot_row(w, a, n_in, tm, nv) + b[j];
    }
}

/* The deferred update and the next forward in one pass; without decay, only
 * the chunks where a or a_old is not all zero. Without decay the calls pass
 * a literal 1, so that the compiler drops stepped()'s multiply by it (exact:
 * the same bits): the pass is bound by its four vector operations a weight
 * as much as by L2, and three instead of four took a dense 784-100-10 step
 * from 8.5 to 7.4 µs. */
void net_dense_step_forward_avx2(float *z, float *W, const float *a, const float *b,
                                 int n_out, int n_in, const float *d_old, const float *a_old,
                                 float lr, float decay)
{
    int list[CHUNKS_MAX], nv = n_in - n_in % 8;
    int nk = decay == 1.0f ? chunk_list(a, a_old, nv, list) : -1;
    if (nk >= 0)
        step_forward_rows(z, W, a, b, n_out, n_in, d_old, a_old, lr, 1.0f, list, nk);
    else if (decay == 1.0f)
        step_forward_rows(z, W, a, b, n_out, n_in, d_old, a_old, lr, 1.0f, NULL, nv / 8);
    else
        step_forward_rows(z, W, a, b, n_out, n_in, d_old, a_old, lr, decay, NULL, nv / 8);
}
