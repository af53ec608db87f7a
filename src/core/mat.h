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
 * the operands are contiguous).
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

static inline float *mat_at(mat m, int i, int j)
{
    return m.data + (size_t)i * m.stride + j;
}

static inline size_t mat_size(mat m) { return (size_t)m.rows * m.cols; }
static inline int mat_contiguous(mat m) { return m.stride == m.cols || m.rows <= 1; }
static inline int mat_same_shape(mat a, mat b) { return a.rows == b.rows && a.cols == b.cols; }

/* A view of rows r0.. r0+rows-1 and cols c0.. c0+cols-1 (caller checks bounds). */
mat mat_sub(mat m, int r0, int c0, int rows, int cols);
/* A contiguous rows×cols mat over data. */
mat mat_wrap(float *data, int rows, int cols);

/* Allocate a zeroed, contiguous rows×cols matrix. DL_EINVAL for negative or
 * oversize dimensions, DL_ENOMEM when the allocation fails. */
dl_status mat_new(mat *m, int rows, int cols);
void mat_free(mat *m);

void mat_fill(mat m, float v);
dl_status mat_copy(mat dst, mat src);
/* dst = srcᵀ; dst must be src.cols × src.rows and not overlap src. */
dl_status mat_transpose(mat dst, mat src);

/* Element-wise, all of one shape: C = A op B. C may be A or B. */
dl_status mat_add(mat C, mat A, mat B);
dl_status mat_subtract(mat C, mat A, mat B);
dl_status mat_hadamard(mat C, mat A, mat B);
dl_status mat_ediv(mat C, mat A, mat B);
dl_status mat_scale(mat C, mat A, float s);       /* C = s·A */
dl_status mat_shift(mat C, mat A, float s);       /* C = A + s */
dl_status mat_axpy(mat Y, float a, mat X);        /* Y += a·X */
/* C = A + r, r a 1×cols row added to every row (a bias), or a rows×1 column. */
dl_status mat_add_rowvec(mat C, mat A, mat r);
dl_status mat_add_colvec(mat C, mat A, mat c);

/* C = f(A) element-wise; f = DL_SOFTMAX means row-wise softmax(c·row). */
dl_status mat_apply(mat C, mat A, dl_act f, float c);
/* D = f'(Z) given A = f(Z) (element-wise f only). */
dl_status mat_apply_grad(mat D, mat Z, mat A, dl_act f);
dl_status mat_softmax_rows(mat C, mat A, float c);
dl_status mat_log_softmax_rows(mat C, mat A, float c);

/* C = alpha·op(A)·op(B) + beta·C with shape checks (tX != 0: use Xᵀ). */
dl_status mat_gemm(mat C, float alpha, mat A, int tA, mat B, int tB, float beta);

double mat_sum(mat m);
double mat_dot(mat a, mat b);    /* Σ a⊙b; shapes must match (caller checks) */
double mat_sumsq(mat m);
/* r = s · column sums of A (r is 1×A.cols). */
dl_status mat_colsum(mat r, mat A, float s);

/* ---- Added for the Lua matrix type (lmatrix.c); numerics stay here. ---- */

/* Binary element-wise operations for mat_broadcast. */
typedef enum mat_op { MAT_ADD, MAT_SUB, MAT_MUL, MAT_DIV } mat_op;

/* Reductions for mat_reduce_dim. ARGMAX/ARGMIN store 1-based positions. */
typedef enum mat_reduce {
    MAT_SUM, MAT_MEAN, MAT_MAX, MAT_MIN, MAT_ARGMAX, MAT_ARGMIN, MAT_NORM
} mat_reduce;

/* Element-wise maps for mat_map beyond the activations. */
typedef enum mat_fn { MAT_EXP, MAT_LOG, MAT_SQRT, MAT_ABS, MAT_SQUARE } mat_fn;

/* Bytes a rows×cols fp32 matrix needs, or 0 when that overflows size_t. */
size_t mat_bytes(int rows, int cols);
/* Physical memory of this machine in bytes (0 if unknown): the ceiling on one
 * matrix, since Linux overcommits and a too-large buffer would be killed later. */
size_t mat_phys_memory(void);
/* Advise the kernel to back this fresh buffer with huge pages when it is 4 MB
 * or more (what NumPy does): first touches then fault 2 MB at a time instead
 * of 4 KB, which on some machines makes a big matrix ten times faster to make. */
void mat_advise_huge(void *p, size_t bytes);
/* 1 when a and b share any byte of memory. */
int mat_overlaps(mat a, mat b);

/* m = I (ones on the diagonal, zeros elsewhere; m need not be square). */
void mat_eye(mat m);
/* m[k] = start + k·step for k = 0, 1, ... in row-major order. */
void mat_arange(mat m, double start, double step);
/* Uniform numbers in [lo, hi) from r, row-major order. */
void mat_rand_uniform(mat m, rng *r, double lo, double hi);
/* Normal numbers N(mean, sd²) from r, row-major order. */
void mat_rand_normal(mat m, rng *r, double mean, double sd);

/* C = A op B where A and B have C's shape, or one of them is a 1×cols row or
 * a rows×1 column repeated across C (a bias). C may be A or B; a vector that
 * overlaps C in any other way is copied first. DL_ENOMEM if that copy fails. */
dl_status mat_broadcast(mat C, mat A, mat B, mat_op op);
/* 1 if A op B is allowed by mat_broadcast's rule; out gets the result shape. */
int mat_broadcast_shape(mat A, mat B, int *rows, int *cols);
/* C = s − A and C = s ⊘ A element-wise. */
dl_status mat_rsub(mat C, float s, mat A);
dl_status mat_rdiv(mat C, float s, mat A);
/* C = f(A) element-wise for f in mat_fn. */
dl_status mat_map(mat C, mat A, mat_fn f);
/* D = f'(Z) for an element-wise activation f (D may not alias Z). */
dl_status mat_apply_deriv(mat D, mat Z, dl_act f);
/* C = softmax(c·x) down each column x of A (each column sums to 1). */
dl_status mat_softmax_cols(mat C, mat A, float c);

/* Largest / smallest element and its 0-based position, NaN skipped; an all-NaN
 * matrix gives NaN at (0, 0). DL_EINVAL for an empty matrix. */
dl_status mat_max(mat m, double *v, int *i, int *j);
dl_status mat_min(mat m, double *v, int *i, int *j);
/* Frobenius norm, accumulated in double. */
double mat_norm(mat m);
/* r = op along dim of A: dim 1 collapses the rows (r is 1×cols), dim 2 the
 * columns (r is rows×1). DL_EINVAL for max/min/arg* over an empty dimension. */
dl_status mat_reduce_dim(mat r, mat A, mat_reduce op, int dim);
/* 1 when every |a − b| <= atol + rtol·|b| (numpy's rule); NaN is never close. */
int mat_allclose(mat a, mat b, double rtol, double atol);
/* 1 when shapes and every element are equal (NaN is unequal to everything). */
int mat_equal(mat a, mat b);

/* Options of mat_format: how much of a big matrix to show. */
typedef struct mat_fmt {
    int max_rows;    /* more rows than this: show edge_rows first and last */
    int edge_rows;
    int line_width;  /* columns are elided (…) to keep lines within this */
} mat_fmt;
/* The default: 20 rows (5 + 5 shown beyond that), 80-character lines. */
extern const mat_fmt mat_fmt_default;
/* Write m as text into buf (at most size bytes, NUL-terminated when size > 0)
 * and return the length the whole text needs, like snprintf: aligned columns,
 * one notation and precision for the whole matrix (integers, fixed or
 * scientific, never a hidden common factor), … for elided rows or columns,
 * and a footer "[matrix RxC]". */
size_t mat_format(char *buf, size_t size, mat m, const mat_fmt *opt);

#endif
