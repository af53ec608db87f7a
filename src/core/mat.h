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

#endif
