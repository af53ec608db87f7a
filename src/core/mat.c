/* mat.c — matrix values, allocation and the row loops around the kernels. */
#include "mat.h"

#include <stdint.h>
#include <string.h>

mat mat_sub(mat m, int r0, int c0, int rows, int cols)
{
    return (mat){ mat_at(m, r0, c0), rows, cols, m.stride };
}

mat mat_wrap(float *data, int rows, int cols)
{
    return (mat){ data, rows, cols, cols };
}

dl_status mat_new(mat *m, int rows, int cols)
{
    if (rows < 0 || cols < 0 || rows > MAT_MAX_DIM || cols > MAT_MAX_DIM)
        return DL_EINVAL;
    if (cols && (size_t)rows > SIZE_MAX / sizeof(float) / (size_t)cols)
        return DL_ENOMEM;
    float *p = dl_calloc((size_t)rows * cols);
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

void mat_fill(mat m, float v)
{
    for (int i = 0; i < m.rows; i++) {
        float *r = mat_at(m, i, 0);
        for (int j = 0; j < m.cols; j++) r[j] = v;
    }
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

/* Run a binary kernel over equal-shaped C, A, B: one call when all three are
 * contiguous, else one call per row. */
typedef void binary_kernel(float *, const float *, const float *, size_t);

static dl_status binary(binary_kernel *k, mat C, mat A, mat B)
{
    if (!mat_same_shape(C, A) || !mat_same_shape(A, B))
        return DL_ESHAPE;
    if (mat_contiguous(C) && mat_contiguous(A) && mat_contiguous(B)) {
        k(C.data, A.data, B.data, mat_size(C));
        return DL_OK;
    }
    for (int i = 0; i < C.rows; i++)
        k(mat_at(C, i, 0), mat_at(A, i, 0), mat_at(B, i, 0), (size_t)C.cols);
    return DL_OK;
}

dl_status mat_add(mat C, mat A, mat B) { return binary(kern()->add, C, A, B); }
dl_status mat_subtract(mat C, mat A, mat B) { return binary(kern()->sub, C, A, B); }
dl_status mat_hadamard(mat C, mat A, mat B) { return binary(kern()->mul, C, A, B); }
dl_status mat_ediv(mat C, mat A, mat B) { return binary(kern()->div, C, A, B); }

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

dl_status mat_axpy(mat Y, float a, mat X)
{
    if (!mat_same_shape(Y, X))
        return DL_ESHAPE;
    for (int i = 0; i < Y.rows; i++)
        kern()->axpy(mat_at(Y, i, 0), a, mat_at(X, i, 0), (size_t)Y.cols);
    return DL_OK;
}

dl_status mat_add_rowvec(mat C, mat A, mat r)
{
    if (!mat_same_shape(C, A) || r.rows != 1 || r.cols != A.cols)
        return DL_ESHAPE;
    for (int i = 0; i < A.rows; i++)
        kern()->add(mat_at(C, i, 0), mat_at(A, i, 0), r.data, (size_t)A.cols);
    return DL_OK;
}

dl_status mat_add_colvec(mat C, mat A, mat c)
{
    if (!mat_same_shape(C, A) || c.cols != 1 || c.rows != A.rows)
        return DL_ESHAPE;
    for (int i = 0; i < A.rows; i++)
        kern()->shift(mat_at(C, i, 0), mat_at(A, i, 0), *mat_at(c, i, 0), (size_t)A.cols);
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

dl_status mat_log_softmax_rows(mat C, mat A, float c)
{
    if (!mat_same_shape(C, A))
        return DL_ESHAPE;
    for (int i = 0; i < A.rows; i++)
        kern()->log_softmax(mat_at(C, i, 0), mat_at(A, i, 0), c, (size_t)A.cols);
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

dl_status mat_colsum(mat r, mat A, float s)
{
    if (r.rows != 1 || r.cols != A.cols)
        return DL_ESHAPE;
    kern()->colsum(r.data, A.data, A.rows, A.cols, A.stride, s);
    return DL_OK;
}
