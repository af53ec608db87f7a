/*
 * mat.h — the core's matrix: fp32, row-major, with a row stride.
 *
 * A mat is a small value (pointer + shape) passed by value; it does not own
 * its buffer. Element (i, j), 0-based, is data[i*stride + j]. Views and slices
 * are mats pointing into another's buffer with the parent's stride. Owners are
 * whoever allocated the buffer: mat_new/mat_free for C code, a Lua userdata in
 * the bindings, a network's parameter slab.
 *
 * mat_* functions check shapes and return DL_ESHAPE rather than touching
 * memory; they dispatch to the active kernel table row by row (one call when
 * the operands are contiguous). Outputs come first; an output may be one of
 * the inputs (C = A + C is fine) unless a comment says otherwise.
 */
#ifndef DL_MAT_H
#define DL_MAT_H

#include "dl.h"
#include "kern.h"
#include "rng.h"

typedef struct mat {
    float *data;   /* element (i, j) at data[i*stride + j] */
    int rows, cols;
    int stride;    /* elements between row starts, >= cols */
} mat;

/* Largest rows or cols we accept; rows*cols is checked separately. */
#define MAT_MAX_DIM 0x3fffffff

/* ---- Shape and element access ---- */

/* Address of element (i, j), 0-based (no bounds check). */
static inline float *mat_at(mat m, int i, int j)
{
    return m.data + (size_t)i * m.stride + j;
}

/* Number of elements, rows·cols. */
static inline size_t mat_size(mat m) { return (size_t)m.rows * m.cols; }
/* 1 when the elements are one run of memory (stride == cols, or one row). */
static inline int mat_contiguous(mat m) { return m.stride == m.cols || m.rows <= 1; }
/* 1 when a and b have the same rows and cols. */
static inline int mat_same_shape(mat a, mat b) { return a.rows == b.rows && a.cols == b.cols; }
/* 1 when a and b share any byte of memory. */
int mat_overlaps(mat a, mat b);

/* ---- Memory and views ---- */

/* Bytes a rows×cols fp32 matrix needs, or 0 when that overflows size_t. */
size_t mat_bytes(int rows, int cols);
/* *bytes = the size of a rows×cols buffer once it is known it can exist here:
 * DL_EINVAL for a negative or oversize dimension, DL_ENOMEM for a size that
 * overflows or exceeds this machine's physical memory. */
dl_status mat_alloc_bytes(int rows, int cols, size_t *bytes, char *msg, size_t msglen);
/* Physical memory of this machine in bytes (0 if unknown). */
size_t mat_phys_memory(void);
/* Advise the kernel to back a fresh buffer of 4 MB or more with huge pages. */
void mat_advise_huge(void *p, size_t bytes);
/* Allocate a zeroed, contiguous rows×cols matrix (DL_EINVAL, DL_ENOMEM). */
dl_status mat_new(mat *m, int rows, int cols);
/* Free what mat_new allocated and leave m empty. */
void mat_free(mat *m);
/* A view of rows r0..r0+rows-1 and cols c0..c0+cols-1 (caller checks bounds). */
mat mat_sub(mat m, int r0, int c0, int rows, int cols);
/* A contiguous rows×cols mat over data. */
mat mat_wrap(float *data, int rows, int cols);

/* ---- Filling and copying ---- */

/* Every element = v. */
void mat_fill(mat m, float v);
/* m = I (ones on the diagonal, zeros elsewhere; m need not be square). */
void mat_eye(mat m);
/* m[k] = start + k·step for k = 0, 1, ... in row-major order. */
void mat_arange(mat m, double start, double step);
/* Uniform numbers in [lo, hi) from r, row-major order. */
void mat_rand_uniform(mat m, rng *r, double lo, double hi);
/* Normal numbers N(mean, sd²) from r, row-major order. */
void mat_rand_normal(mat m, rng *r, double mean, double sd);
/* dst = src (equal shapes). */
dl_status mat_copy(mat dst, mat src);
/* dst = srcᵀ; dst must be src.cols × src.rows and not overlap src. */
dl_status mat_transpose(mat dst, mat src);

/* ---- Element-wise, two matrices ----
 *
 * C = A op B where A and B have C's shape, or one of them is a 1×cols row or a
 * rows×1 column repeated across C (a bias). C may be A or B; an operand that
 * overlaps C in any other way is copied first (DL_ENOMEM if that copy fails). */

/* 1 if A op B is allowed by the rule above; *rows, *cols get the result shape. */
int mat_broadcast_shape(mat A, mat B, int *rows, int *cols);
/* C = A + B. */
dl_status mat_add(mat C, mat A, mat B);
/* C = A − B. */
dl_status mat_subtract(mat C, mat A, mat B);
/* C = A ⊙ B. */
dl_status mat_hadamard(mat C, mat A, mat B);
/* C = A ⊘ B. */
dl_status mat_divide(mat C, mat A, mat B);

/* ---- Element-wise, a matrix and a number ---- */

/* C = s·A. */
dl_status mat_scale(mat C, mat A, float s);
/* C = A + s. */
dl_status mat_shift(mat C, mat A, float s);
/* C = s − A. */
dl_status mat_rsub(mat C, float s, mat A);
/* C = s ⊘ A. */
dl_status mat_rdiv(mat C, float s, mat A);
/* Y += a·X (equal shapes; X must not overlap Y unless it is Y). */
dl_status mat_axpy(mat Y, float a, mat X);

/* ---- Element-wise functions and activations ---- */

/* The maps of mat_map beyond the activations. */
typedef enum mat_fn { MAT_EXP, MAT_LOG, MAT_SQRT, MAT_ABS, MAT_SQUARE } mat_fn;

/* C = f(A) element-wise for f in mat_fn. */
dl_status mat_map(mat C, mat A, mat_fn f);
/* C = f(A) element-wise; f = DL_SOFTMAX means row-wise softmax(c·row). */
dl_status mat_apply(mat C, mat A, dl_act f, float c);
/* D = f'(Z) given A = f(Z), for an element-wise f (a network's backward pass). */
dl_status mat_apply_grad(mat D, mat Z, mat A, dl_act f);
/* D = f'(Z) for an element-wise f, computing f(Z) itself (D may not alias Z). */
dl_status mat_apply_deriv(mat D, mat Z, dl_act f);
/* C = softmax(c·x) across each row x of A (each row sums to 1). */
dl_status mat_softmax_rows(mat C, mat A, float c);
/* C = softmax(c·x) down each column x of A (each column sums to 1). */
dl_status mat_softmax_cols(mat C, mat A, float c);

/* ---- Reductions (accumulated in double) ---- */

/* The reductions of mat_reduce_dim. ARGMAX/ARGMIN store 1-based positions. */
typedef enum mat_reduce {
    MAT_SUM, MAT_MEAN, MAT_MAX, MAT_MIN, MAT_ARGMAX, MAT_ARGMIN, MAT_NORM
} mat_reduce;

/* Σ of every element. */
double mat_sum(mat m);
/* Σ a⊙b; shapes must match (caller checks). */
double mat_dot(mat a, mat b);
/* Σ of every element squared. */
double mat_sumsq(mat m);
/* Frobenius norm, √(Σ m²). */
double mat_norm(mat m);
/* Largest element and its 0-based position, NaN skipped; an all-NaN matrix
 * gives NaN at (0, 0). DL_EINVAL for an empty matrix. */
dl_status mat_max(mat m, double *v, int *i, int *j);
/* Smallest element, as mat_max. */
dl_status mat_min(mat m, double *v, int *i, int *j);
/* r = s · column sums of A (r is 1×A.cols). */
dl_status mat_colsum(mat r, mat A, float s);
/* r = op along dim of A: dim 1 collapses the rows (r is 1×cols), dim 2 the
 * columns (r is rows×1). DL_EINVAL for max/min/arg* over an empty dimension. */
dl_status mat_reduce_dim(mat r, mat A, mat_reduce op, int dim);

/* ---- Comparison ---- */

/* 1 when every |a − b| <= atol + rtol·|b| (numpy's rule); NaN is never close. */
int mat_allclose(mat a, mat b, double rtol, double atol);
/* How many elements of m are NaN or ±∞. */
size_t mat_count_nonfinite(mat m);
/* 1 when shapes and every element are equal (NaN is unequal to everything). */
int mat_equal(mat a, mat b);

/* ---- Products ---- */

/* C = alpha·op(A)·op(B) + beta·C with shape checks (tX != 0: use Xᵀ); C must
 * not overlap A or B. */
dl_status mat_gemm(mat C, float alpha, mat A, int tA, mat B, int tB, float beta);

/* ---- Text ---- */

/* Options of mat_format: how much of a big matrix to show. */
typedef struct mat_fmt {
    int max_rows;    /* more rows than this: show edge_rows first and last */
    int edge_rows;
    int line_width;  /* columns are elided (…) to keep lines within this */
} mat_fmt;

/* Write m as text into buf (at most size bytes, NUL-terminated when size > 0)
 * and return the length the whole text needs, like snprintf: aligned columns,
 * one notation and precision for the whole matrix (integers, fixed or
 * scientific, never a hidden common factor), … for elided rows or columns,
 * and a footer "[matrix RxC]". opt NULL: 20 rows (5 + 5 shown beyond that),
 * 80-character lines. */
size_t mat_format(char *buf, size_t size, mat m, const mat_fmt *opt);

#endif
