/* mat.c — matrix values, allocation and the row loops around the kernels. */
#define _DEFAULT_SOURCE  /* madvise(MADV_HUGEPAGE) */
#include "mat.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- Shape ---- */

/* [first byte, one past the last byte] of m's elements. */
static void mat_span(mat m, uintptr_t *lo, uintptr_t *hi)
{
    *lo = (uintptr_t)m.data;
    *hi = (uintptr_t)(mat_at(m, m.rows - 1, 0) + m.cols);
}

int mat_overlaps(mat a, mat b)
{
    if (!mat_size(a) || !mat_size(b))
        return 0;
    uintptr_t alo, ahi, blo, bhi;
    mat_span(a, &alo, &ahi);
    mat_span(b, &blo, &bhi);
    return alo < bhi && blo < ahi;
}

/* ---- Memory and views ---- */

size_t mat_bytes(int rows, int cols)
{
    if (rows < 0 || cols < 0)
        return 0;
    if (cols && (size_t)rows > SIZE_MAX / sizeof(float) / (size_t)cols)
        return 0;
    return (size_t)rows * (size_t)cols * sizeof(float);
}

/* Big sizes only: mat_phys_memory is a system call. */
#define PHYS_CHECK_BYTES ((size_t)1 << 28)

dl_status mat_alloc_bytes(int rows, int cols, size_t *bytes, char *msg, size_t msglen)
{
    if (rows < 0 || cols < 0 || rows > MAT_MAX_DIM || cols > MAT_MAX_DIM)
        return dl_fail(DL_EINVAL, msg, msglen, "matrix size %dx%d is invalid", rows, cols);
    size_t n = mat_bytes(rows, cols);
    if ((rows && cols && !n) || n > SIZE_MAX / 2)
        return dl_fail(DL_ENOMEM, msg, msglen, "not enough memory for a %dx%d matrix "
                       "(too large to address)", rows, cols);
    /* Linux overcommits: without this a huge buffer "succeeds" and the process
     * is killed later while zeroing it. */
    size_t phys = n >= PHYS_CHECK_BYTES ? mat_phys_memory() : 0;
    if (phys && n > phys)
        return dl_fail(DL_ENOMEM, msg, msglen,
                       "matrix %dx%d needs %.1f GB, more than this machine's %.1f GB of memory",
                       rows, cols, n / 1e9, phys / 1e9);
    *bytes = n;
    return DL_OK;
}

size_t mat_phys_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0)
        return 0;
    if ((size_t)pages > SIZE_MAX / (size_t)page)
        return SIZE_MAX;
    return (size_t)pages * (size_t)page;
}

void mat_advise_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    long page = sysconf(_SC_PAGESIZE);
    if (bytes < ((size_t)4 << 20) || page <= 0)
        return;
    uintptr_t lo = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~((uintptr_t)page - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_HUGEPAGE);   /* advice only: failure is fine */
#else
    (void)p;
    (void)bytes;
#endif
}

dl_status mat_new(mat *m, int rows, int cols)
{
    size_t bytes;
    dl_status s = mat_alloc_bytes(rows, cols, &bytes, NULL, 0);
    if (s != DL_OK)
        return s;
    float *p = dl_calloc(bytes / sizeof(float));
    if (!p)
        return DL_ENOMEM;
    *m = (mat){ p, rows, cols, cols };
    return DL_OK;
}

void mat_free(mat *m)
{
    dl_free(m->data);
    *m = (mat){ NULL, 0, 0, 0 };
}

mat mat_sub(mat m, int r0, int c0, int rows, int cols)
{
    return (mat){ mat_at(m, r0, c0), rows, cols, m.stride };
}

mat mat_wrap(float *data, int rows, int cols)
{
    return (mat){ data, rows, cols, cols };
}

/* ---- Filling and copying ---- */

void mat_fill(mat m, float v)
{
    for (int i = 0; i < m.rows; i++) {
        float *r = mat_at(m, i, 0);
        for (int j = 0; j < m.cols; j++) r[j] = v;
    }
}

void mat_eye(mat m)
{
    mat_fill(m, 0);
    for (int i = 0; i < m.rows && i < m.cols; i++) *mat_at(m, i, i) = 1;
}

void mat_arange(mat m, double start, double step)
{
    size_t k = 0;
    for (int i = 0; i < m.rows; i++)
        for (int j = 0; j < m.cols; j++, k++)
            *mat_at(m, i, j) = (float)(start + (double)k * step);
}

void mat_rand_uniform(mat m, rng *r, double lo, double hi)
{
    for (int i = 0; i < m.rows; i++)
        for (int j = 0; j < m.cols; j++)
            *mat_at(m, i, j) = (float)(lo + (hi - lo) * rng_uniform(r));
}

void mat_rand_normal(mat m, rng *r, double mean, double sd)
{
    for (int i = 0; i < m.rows; i++)
        for (int j = 0; j < m.cols; j++)
            *mat_at(m, i, j) = (float)(mean + sd * rng_normal(r));
}

dl_status mat_copy(mat dst, mat src)
{
    if (!mat_same_shape(dst, src))
        return DL_ESHAPE;
    for (int i = 0; i < src.rows; i++)
        memmove(mat_at(dst, i, 0), mat_at(src, i, 0), (size_t)src.cols * sizeof(float));
    return DL_OK;
}

dl_status mat_transpose(mat dst, mat src)
{
    if (dst.rows != src.cols || dst.cols != src.rows)
        return DL_ESHAPE;
    for (int i = 0; i < src.rows; i++)
        for (int j = 0; j < src.cols; j++)
            *mat_at(dst, j, i) = *mat_at(src, i, j);
    return DL_OK;
}

/* ---- Element-wise, two matrices ---- */

int mat_broadcast_shape(mat A, mat B, int *rows, int *cols)
{
    mat F = A;
    if (mat_same_shape(A, B))
        F = A;
    else if ((B.rows == 1 && B.cols == A.cols) || (B.cols == 1 && B.rows == A.rows))
        F = A;
    else if ((A.rows == 1 && A.cols == B.cols) || (A.cols == 1 && A.rows == B.rows))
        F = B;
    else
        return 0;
    *rows = F.rows;
    *cols = F.cols;
    return 1;
}

typedef void binary_kernel(float *, const float *, const float *, size_t);

/* The binary operations of the element-wise functions. */
typedef enum binop { OP_ADD, OP_SUB, OP_MUL, OP_DIV } binop;

static float op1(binop op, float a, float b)
{
    switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    default:     return a / b;
    }
}

/* If x overlaps C without being exactly C, copy it to a fresh buffer (*tmp,
 * freed by the caller): an in-place m:add_(m:row(1)) must use row 1 as it was. */
static dl_status detach(mat *x, mat C, float **tmp)
{
    if (!mat_overlaps(*x, C) || (x->data == C.data && x->stride == C.stride
                                   && mat_same_shape(*x, C)))
        return DL_OK;
    float *p = dl_alloc(mat_size(*x));
    if (!p)
        return DL_ENOMEM;
    mat c = mat_wrap(p, x->rows, x->cols);
    mat_copy(c, *x);
    *x = c;
    *tmp = p;
    return DL_OK;
}

/* C = A op B under mat_broadcast_shape's rule: one kernel call when all three
 * are contiguous and of one shape, else one call per row; a column vector goes
 * element by element (the same arithmetic as the kernel's, one IEEE operation). */
static dl_status elementwise(mat C, mat A, mat B, binop op)
{
    int rows, cols;
    if (!mat_broadcast_shape(A, B, &rows, &cols) || C.rows != rows || C.cols != cols)
        return DL_ESHAPE;
    float *ta = NULL, *tb = NULL;
    if (detach(&A, C, &ta) || detach(&B, C, &tb)) {
        dl_free(ta);
        return DL_ENOMEM;
    }
    const kern_table *kt = kern();
    binary_kernel *k = op == OP_ADD ? kt->add : op == OP_SUB ? kt->sub
                     : op == OP_MUL ? kt->mul : kt->div;
    int aful = mat_same_shape(A, C), bful = mat_same_shape(B, C);
    if (aful && bful && mat_contiguous(C) && mat_contiguous(A) && mat_contiguous(B)) {
        k(C.data, A.data, B.data, mat_size(C));
    } else {
        for (int i = 0; i < rows; i++) {
            float *c = mat_at(C, i, 0);
            if (aful && bful) {
                k(c, mat_at(A, i, 0), mat_at(B, i, 0), (size_t)cols);
            } else if (aful && B.rows == 1 && B.cols == cols) {  /* row vector on the right */
                k(c, mat_at(A, i, 0), B.data, (size_t)cols);
            } else if (bful && A.rows == 1 && A.cols == cols) {  /* row vector on the left */
                k(c, A.data, mat_at(B, i, 0), (size_t)cols);
            } else if (aful) {                               /* column vector on the right */
                const float *a = mat_at(A, i, 0);
                float v = *mat_at(B, i, 0);
                for (int j = 0; j < cols; j++) c[j] = op1(op, a[j], v);
            } else {                                         /* column vector on the left */
                const float *b = mat_at(B, i, 0);
                float v = *mat_at(A, i, 0);
                for (int j = 0; j < cols; j++) c[j] = op1(op, v, b[j]);
            }
        }
    }
    dl_free(ta);
    dl_free(tb);
    return DL_OK;
}

dl_status mat_add(mat C, mat A, mat B) { return elementwise(C, A, B, OP_ADD); }
dl_status mat_subtract(mat C, mat A, mat B) { return elementwise(C, A, B, OP_SUB); }
dl_status mat_hadamard(mat C, mat A, mat B) { return elementwise(C, A, B, OP_MUL); }
dl_status mat_divide(mat C, mat A, mat B) { return elementwise(C, A, B, OP_DIV); }

/* ---- Element-wise, a matrix and a number ---- */

typedef void scalar_kernel(float *, const float *, float, size_t);

static dl_status with_scalar(scalar_kernel *k, mat C, mat A, float s)
{
    if (!mat_same_shape(C, A))
        return DL_ESHAPE;
    if (mat_contiguous(C) && mat_contiguous(A)) {
        k(C.data, A.data, s, mat_size(C));
        return DL_OK;
    }
    for (int i = 0; i < C.rows; i++)
        k(mat_at(C, i, 0), mat_at(A, i, 0), s, (size_t)C.cols);
    return DL_OK;
}

dl_status mat_scale(mat C, mat A, float s) { return with_scalar(kern()->scale, C, A, s); }
dl_status mat_shift(mat C, mat A, float s) { return with_scalar(kern()->shift, C, A, s); }

/* C = s op A, the number on the left (no kernel: rare at the prompt). */
static dl_status scalar_first(mat C, float s, mat A, binop op)
{
    if (!mat_same_shape(C, A))
        return DL_ESHAPE;
    for (int i = 0; i < A.rows; i++) {
        float *c = mat_at(C, i, 0);
        const float *a = mat_at(A, i, 0);
        for (int j = 0; j < A.cols; j++) c[j] = op1(op, s, a[j]);
    }
    return DL_OK;
}

dl_status mat_rsub(mat C, float s, mat A) { return scalar_first(C, s, A, OP_SUB); }
dl_status mat_rdiv(mat C, float s, mat A) { return scalar_first(C, s, A, OP_DIV); }

dl_status mat_axpy(mat Y, float a, mat X)
{
    if (!mat_same_shape(Y, X))
        return DL_ESHAPE;
    for (int i = 0; i < Y.rows; i++)
        kern()->axpy(mat_at(Y, i, 0), a, mat_at(X, i, 0), (size_t)Y.cols);
    return DL_OK;
}

/* ---- Element-wise functions and activations ---- */

dl_status mat_map(mat C, mat A, mat_fn f)
{
    if (!mat_same_shape(C, A))
        return DL_ESHAPE;
    for (int i = 0; i < A.rows; i++) {
        float *c = mat_at(C, i, 0);
        const float *a = mat_at(A, i, 0);
        size_t n = (size_t)A.cols;
        switch (f) {
        case MAT_EXP:    kern()->exp(c, a, n); break;
        case MAT_LOG:    kern()->log(c, a, n); break;
        case MAT_SQRT:   for (size_t j = 0; j < n; j++) c[j] = sqrtf(a[j]); break;
        case MAT_ABS:    for (size_t j = 0; j < n; j++) c[j] = fabsf(a[j]); break;
        case MAT_SQUARE: for (size_t j = 0; j < n; j++) c[j] = a[j] * a[j]; break;
        default:         return DL_EINVAL;
        }
    }
    return DL_OK;
}

dl_status mat_apply(mat C, mat A, dl_act f, float c)
{
    if ((unsigned)f >= DL_ACT_COUNT)
        return DL_EINVAL;
    if (f == DL_SOFTMAX)
        return mat_softmax_rows(C, A, c);
    if (!mat_same_shape(C, A))
        return DL_ESHAPE;
    for (int i = 0; i < A.rows; i++)
        kern()->act(f, mat_at(C, i, 0), mat_at(A, i, 0), (size_t)A.cols);
    return DL_OK;
}

dl_status mat_apply_grad(mat D, mat Z, mat A, dl_act f)
{
    if ((unsigned)f >= DL_ACT_COUNT || f == DL_SOFTMAX)
        return DL_EINVAL;
    if (!mat_same_shape(D, Z) || !mat_same_shape(Z, A))
        return DL_ESHAPE;
    for (int i = 0; i < Z.rows; i++)
        kern()->act_grad(f, mat_at(D, i, 0), mat_at(Z, i, 0), mat_at(A, i, 0),
                         (size_t)Z.cols);
    return DL_OK;
}

dl_status mat_apply_deriv(mat D, mat Z, dl_act f)
{
    if ((unsigned)f >= DL_ACT_COUNT || f == DL_SOFTMAX)
        return DL_EINVAL;
    if (!mat_same_shape(D, Z))
        return DL_ESHAPE;
    for (int i = 0; i < Z.rows; i++) {
        float *d = mat_at(D, i, 0);
        const float *z = mat_at(Z, i, 0);
        kern()->act(f, d, z, (size_t)Z.cols);            /* d = f(z) first ... */
        kern()->act_grad(f, d, z, d, (size_t)Z.cols);   /* ... then f'(z) from it */
    }
    return DL_OK;
}

dl_status mat_softmax_rows(mat C, mat A, float c)
{
    if (!mat_same_shape(C, A))
        return DL_ESHAPE;
    for (int i = 0; i < A.rows; i++)
        kern()->softmax(mat_at(C, i, 0), mat_at(A, i, 0), c, (size_t)A.cols);
    return DL_OK;
}

dl_status mat_softmax_cols(mat C, mat A, float c)
{
    if (!mat_same_shape(C, A))
        return DL_ESHAPE;
    if (!A.rows || !A.cols)
        return DL_OK;
    float *x = dl_alloc(2 * (size_t)A.rows);
    if (!x)
        return DL_ENOMEM;
    float *y = x + A.rows;
    for (int j = 0; j < A.cols; j++) {
        for (int i = 0; i < A.rows; i++) x[i] = *mat_at(A, i, j);
        kern()->softmax(y, x, c, (size_t)A.rows);
        for (int i = 0; i < A.rows; i++) *mat_at(C, i, j) = y[i];
    }
    dl_free(x);
    return DL_OK;
}

/* ---- Reductions ---- */

double mat_sum(mat m)
{
    if (mat_contiguous(m))
        return kern()->sum(m.data, mat_size(m));
    double s = 0;
    for (int i = 0; i < m.rows; i++) s += kern()->sum(mat_at(m, i, 0), (size_t)m.cols);
    return s;
}

double mat_dot(mat a, mat b)
{
    if (mat_contiguous(a) && mat_contiguous(b))
        return kern()->dot(a.data, b.data, mat_size(a));
    double s = 0;
    for (int i = 0; i < a.rows; i++)
        s += kern()->dot(mat_at(a, i, 0), mat_at(b, i, 0), (size_t)a.cols);
    return s;
}

double mat_sumsq(mat m) { return mat_dot(m, m); }

double mat_norm(mat m) { return sqrt(mat_sumsq(m)); }

static dl_status extreme(mat m, int want_max, double *v, int *pi, int *pj)
{
    if (!mat_size(m))
        return DL_EINVAL;
    double best = NAN;
    int bi = 0, bj = 0;
    for (int i = 0; i < m.rows; i++) {
        const float *r = mat_at(m, i, 0);
        for (int j = 0; j < m.cols; j++) {
            double x = r[j];
            if (x != x)
                continue;
            if (best != best || (want_max ? x > best : x < best)) {
                best = x;
                bi = i;
                bj = j;
            }
        }
    }
    *v = best;
    *pi = bi;
    *pj = bj;
    return DL_OK;
}

dl_status mat_max(mat m, double *v, int *i, int *j) { return extreme(m, 1, v, i, j); }
dl_status mat_min(mat m, double *v, int *i, int *j) { return extreme(m, 0, v, i, j); }

dl_status mat_colsum(mat r, mat A, float s)
{
    if (r.rows != 1 || r.cols != A.cols)
        return DL_ESHAPE;
    kern()->colsum(r.data, A.data, A.rows, A.cols, A.stride, s);
    return DL_OK;
}

/* One reduction over n elements p[0], p[step], ... (NaN skipped by max/min). */
static double reduce_line(const float *p, int n, size_t step, mat_reduce op)
{
    double acc = 0, best = NAN;
    int at = 0;
    for (int k = 0; k < n; k++) {
        double x = p[(size_t)k * step];
        switch (op) {
        case MAT_SUM: case MAT_MEAN: acc += x; break;
        case MAT_NORM: acc += x * x; break;
        case MAT_MAX: case MAT_ARGMAX:
            if (x == x && (best != best || x > best)) { best = x; at = k; }
            break;
        default:
            if (x == x && (best != best || x < best)) { best = x; at = k; }
            break;
        }
    }
    switch (op) {
    case MAT_SUM:  return acc;
    case MAT_MEAN: return acc / n;
    case MAT_NORM: return sqrt(acc);
    case MAT_MAX: case MAT_MIN: return best;
    default:       return at + 1;
    }
}

dl_status mat_reduce_dim(mat r, mat A, mat_reduce op, int dim)
{
    if (dim != 1 && dim != 2)
        return DL_EINVAL;
    int lines = dim == 1 ? A.cols : A.rows, len = dim == 1 ? A.rows : A.cols;
    if (dim == 1 ? (r.rows != 1 || r.cols != A.cols) : (r.rows != A.rows || r.cols != 1))
        return DL_ESHAPE;
    if (len == 0 && lines > 0 && op != MAT_SUM && op != MAT_NORM && op != MAT_MEAN)
        return DL_EINVAL;
    for (int l = 0; l < lines; l++) {
        const float *p = dim == 1 ? mat_at(A, 0, l) : mat_at(A, l, 0);
        size_t step = dim == 1 ? (size_t)A.stride : 1;
        double v = len ? reduce_line(p, len, step, op) : (op == MAT_MEAN ? NAN : 0);
        *(dim == 1 ? mat_at(r, 0, l) : mat_at(r, l, 0)) = (float)v;
    }
    return DL_OK;
}

/* ---- Comparison ---- */

size_t mat_count_nonfinite(mat m)
{
    size_t k = 0;
    for (int i = 0; i < m.rows; i++)
        for (int j = 0; j < m.cols; j++)
            k += !isfinite(*mat_at(m, i, j));
    return k;
}

int mat_allclose(mat a, mat b, double rtol, double atol)
{
    if (!mat_same_shape(a, b))
        return 0;
    for (int i = 0; i < a.rows; i++)
        for (int j = 0; j < a.cols; j++) {
            double x = *mat_at(a, i, j), y = *mat_at(b, i, j);
            if (x == y)
                continue;  /* also equal infinities */
            if (!(fabs(x - y) <= atol + rtol * fabs(y)))
                return 0;
        }
    return 1;
}

int mat_equal(mat a, mat b)
{
    if (!mat_same_shape(a, b))
        return 0;
    for (int i = 0; i < a.rows; i++)
        for (int j = 0; j < a.cols; j++)
            if (!(*mat_at(a, i, j) == *mat_at(b, i, j)))
                return 0;
    return 1;
}

/* ---- Products ---- */

dl_status mat_gemm(mat C, float alpha, mat A, int tA, mat B, int tB, float beta)
{
    int M = tA ? A.cols : A.rows, K = tA ? A.rows : A.cols;
    int KB = tB ? B.cols : B.rows, N = tB ? B.rows : B.cols;
    if (K != KB || C.rows != M || C.cols != N)
        return DL_ESHAPE;
    if (M == 0 || N == 0)
        return DL_OK;
    kern()->gemm(tA, tB, M, N, K, alpha, A.data, A.stride, B.data, B.stride,
                 beta, C.data, C.stride);
    return DL_OK;
}

/* ---- Text ----
 *
 * One notation for the whole matrix, chosen from the magnitudes shown:
 * integers when every value is one (and below 1e8, where fp32 still counts in
 * ones); scientific when anything is below 1e-4 or at least 1e8, or the
 * largest and smallest differ by more than 1e4 — so a gradient of 1e-6 next to
 * a weight of 0.3 reads 1.0000e-06, never 0.0000 under a hidden "1e-1 *";
 * fixed otherwise, with enough decimals that the smallest value keeps three
 * significant digits. Trailing zeros common to every value are then dropped. */

static const mat_fmt fmt_default = { 20, 5, 80 };

enum { FMT_INT, FMT_FIXED, FMT_SCI };

typedef struct plan {
    int kind;    /* FMT_* */
    int prec;    /* decimals (fixed) or mantissa digits after the point (sci) */
    int width;   /* widest cell, in characters */
} plan;

/* Which rows and columns are shown: [0, r1) ∪ [r2, rows), likewise columns. */
typedef struct window { int r1, r2, c1, c2; } window;

static int cell(char *out, size_t n, double v, const plan *p)
{
    if (v != v)
        return snprintf(out, n, "nan");
    if (isinf(v))
        return snprintf(out, n, v > 0 ? "inf" : "-inf");
    if (v == 0)
        v = 0;  /* no "-0" */
    switch (p->kind) {
    case FMT_INT:   return snprintf(out, n, "%.0f", v);
    case FMT_FIXED: return snprintf(out, n, "%.*f", p->prec, v);
    default:        return snprintf(out, n, "%.*e", p->prec, v);
    }
}

/* Calls fn(v, ctx) for every element in the window. */
static void each_shown(mat m, window w, void (*fn)(double, void *), void *ctx)
{
    for (int i = 0; i < m.rows; i++) {
        if (i == w.r1)
            i = w.r2;
        if (i >= m.rows)
            break;
        for (int j = 0; j < m.cols; j++) {
            if (j == w.c1)
                j = w.c2;
            if (j >= m.cols)
                break;
            fn(*mat_at(m, i, j), ctx);
        }
    }
}

typedef struct stats { double maxabs, minabs; int all_int, any_finite; } stats;

static void gather(double v, void *ctx)
{
    stats *s = ctx;
    if (!isfinite(v))
        return;
    double a = fabs(v);
    s->any_finite = 1;
    if (a > s->maxabs) s->maxabs = a;
    if (a > 0 && a < s->minabs) s->minabs = a;
    if (v != floor(v)) s->all_int = 0;
}

typedef struct trim { plan p; int zeros; int width; } trim;

/* Trailing zeros of the digits of v as planned (mantissa zeros for sci). */
static void count_zeros(double v, void *ctx)
{
    trim *t = ctx;
    char s[64];
    int n = cell(s, sizeof s, v, &t->p);
    if (n > t->width) t->width = n;
    if (!isfinite(v) || t->p.kind == FMT_INT)
        return;
    char *end = t->p.kind == FMT_SCI ? strchr(s, 'e') : s + n;
    int z = 0;
    while (end - z - 1 > s && end[-z - 1] == '0') z++;
    if (z < t->zeros) t->zeros = z;
}

static plan make_plan(mat m, window w)
{
    stats s = { 0, INFINITY, 1, 0 };
    each_shown(m, w, gather, &s);
    plan p = { FMT_INT, 0, 0 };
    if (s.any_finite && !(s.all_int && s.maxabs < 1e8)) {
        int tiny = s.minabs < 1e-4, huge = s.maxabs >= 1e8;
        int spread = s.minabs < INFINITY && s.maxabs / s.minabs > 1e4;
        if (tiny || huge || spread) {
            p = (plan){ FMT_SCI, 4, 0 };
        } else {
            int e = s.minabs < INFINITY ? (int)floor(log10(s.minabs)) : 0;
            p = (plan){ FMT_FIXED, 2 - e > 4 ? 2 - e : 4, 0 };
        }
    }
    trim t = { p, 64, 0 };
    each_shown(m, w, count_zeros, &t);
    if (p.kind != FMT_INT && t.zeros < 64) {
        int keep = p.prec - t.zeros;
        p.prec = keep < (p.kind == FMT_FIXED) ? (p.kind == FMT_FIXED) : keep;
    }
    t = (trim){ p, 64, 0 };
    each_shown(m, w, count_zeros, &t);
    p.width = t.width;
    return p;
}

/* An output buffer that counts what it could not hold, like snprintf. */
typedef struct out { char *buf; size_t size, len; } out;

static void put(out *o, const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++, o->len++)
        if (o->len + 1 < o->size)
            o->buf[o->len] = s[k];
}

static void put_padded(out *o, const char *s, int chars, int width)
{
    for (int k = chars; k < width; k++) put(o, " ", 1);
    put(o, s, strlen(s));
}

size_t mat_format(char *buf, size_t size, mat m, const mat_fmt *opt)
{
    if (!opt)
        opt = &fmt_default;
    out o = { buf, size, 0 };
    window w = { m.rows, m.rows, m.cols, m.cols };
    if (m.rows > opt->max_rows)
        w.r1 = opt->edge_rows, w.r2 = m.rows - opt->edge_rows;
    /* A cell takes at least 3 characters with its gap, so no more than
     * line_width/3 columns from either end can show: plan from those only. */
    int most = opt->line_width / 3 + 1;
    window first = w;
    if (m.cols > 2 * most)
        first.c1 = most, first.c2 = m.cols - most;
    plan p = make_plan(m, first);
    if ((long)m.cols * (p.width + 2) > opt->line_width) {
        int k = (opt->line_width - 3) / (2 * (p.width + 2));
        if (k < 1) k = 1;
        if (2 * k < m.cols) {
            w.c1 = k, w.c2 = m.cols - k;
            p = make_plan(m, w);
        }
    }
    char s[64];
    for (int i = 0; i < m.rows && m.cols > 0; i++) {   /* r×0: only the footer */
        if (i == w.r1 && w.r2 > w.r1) {
            for (int j = 0; j < m.cols; j++) {
                if (j == w.c1) {
                    put(&o, "  ⋱", strlen("  ⋱"));
                    j = w.c2 - 1;
                    continue;
                }
                put(&o, j ? "  " : "", j ? 2 : 0);
                put_padded(&o, "⋮", 1, p.width);
            }
            put(&o, "\n", 1);
            i = w.r2 - 1;
            continue;
        }
        for (int j = 0; j < m.cols; j++) {
            if (j == w.c1 && w.c2 > w.c1) {
                put(&o, "  …", strlen("  …"));
                j = w.c2 - 1;
                continue;
            }
            int n = cell(s, sizeof s, *mat_at(m, i, j), &p);
            put(&o, j ? "  " : "", j ? 2 : 0);
            put_padded(&o, s, n, p.width);
        }
        put(&o, "\n", 1);
    }
    snprintf(s, sizeof s, "[matrix %dx%d]", m.rows, m.cols);
    put(&o, s, strlen(s));
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return o.len;
}
