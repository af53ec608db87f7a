/* linalg.c — LU solve, inverse and Householder least squares, in double. */
#include "linalg.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

/* A column-major double copy of m (element (i, j) at [i + j·rows]). */
static double *to_double_cm(mat m)
{
    double *d = malloc(((size_t)m.rows * m.cols + 1) * sizeof(double));
    if (d)
        for (int j = 0; j < m.cols; j++)
            for (int i = 0; i < m.rows; i++)
                d[i + (size_t)j * m.rows] = *mat_at(m, i, j);
    return d;
}

static void from_double_cm(mat m, const double *d)
{
    for (int j = 0; j < m.cols; j++)
        for (int i = 0; i < m.rows; i++)
            *mat_at(m, i, j) = (float)d[i + (size_t)j * m.rows];
}

static double max_abs(const double *a, size_t n)
{
    double m = 0;
    for (size_t k = 0; k < n; k++)
        if (fabs(a[k]) > m) m = fabs(a[k]);
    return m;
}

/* Solve a·x = b in place (a n×n, b n×k, column-major): Gaussian elimination
 * with partial pivoting, then back substitution. */
static dl_status lu_solve(double *a, double *b, int n, int k)
{
    double tol = n * DBL_EPSILON * max_abs(a, (size_t)n * n);
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int i = c + 1; i < n; i++)
            if (fabs(a[i + (size_t)c * n]) > fabs(a[p + (size_t)c * n])) p = i;
        double piv = a[p + (size_t)c * n];
        if (!(fabs(piv) > tol))
            return DL_ESINGULAR;
        if (p != c) {
            for (int j = 0; j < n; j++) {
                double t = a[c + (size_t)j * n];
                a[c + (size_t)j * n] = a[p + (size_t)j * n];
                a[p + (size_t)j * n] = t;
            }
            for (int j = 0; j < k; j++) {
                double t = b[c + (size_t)j * n];
                b[c + (size_t)j * n] = b[p + (size_t)j * n];
                b[p + (size_t)j * n] = t;
            }
        }
        for (int i = c + 1; i < n; i++) {
            double f = a[i + (size_t)c * n] / piv;
            if (f == 0)
                continue;
            for (int j = c; j < n; j++) a[i + (size_t)j * n] -= f * a[c + (size_t)j * n];
            for (int j = 0; j < k; j++) b[i + (size_t)j * n] -= f * b[c + (size_t)j * n];
        }
    }
    for (int j = 0; j < k; j++) {
        double *x = b + (size_t)j * n;
        for (int i = n - 1; i >= 0; i--) {
            double s = x[i];
            for (int c = i + 1; c < n; c++) s -= a[i + (size_t)c * n] * x[c];
            x[i] = s / a[i + (size_t)i * n];
        }
    }
    return DL_OK;
}

dl_status linalg_solve(mat X, mat A, mat B)
{
    if (A.rows != A.cols || B.rows != A.rows || !mat_same_shape(X, B))
        return DL_ESHAPE;
    double *a = to_double_cm(A), *b = to_double_cm(B);
    dl_status s = a && b ? lu_solve(a, b, A.rows, B.cols) : DL_ENOMEM;
    if (s == DL_OK)
        from_double_cm(X, b);
    free(a);
    free(b);
    return s;
}

dl_status linalg_inv(mat X, mat A)
{
    if (A.rows != A.cols || !mat_same_shape(X, A))
        return DL_ESHAPE;
    int n = A.rows;
    double *a = to_double_cm(A), *b = calloc((size_t)n * n + 1, sizeof(double));
    dl_status s = DL_ENOMEM;
    if (a && b) {
        for (int i = 0; i < n; i++) b[i + (size_t)i * n] = 1;
        s = lu_solve(a, b, n, n);
    }
    if (s == DL_OK)
        from_double_cm(X, b);
    free(a);
    free(b);
    return s;
}

/* Householder QR of a (m×n column-major, m >= n) in place: R in the upper
 * triangle; reflector j is I − β_j v_j v_jᵀ with v_j in v (m×n, zero above j)
 * and β_j in beta. DL_ESINGULAR when a column is dependent on the ones before. */
static dl_status householder(double *a, double *v, double *beta, int m, int n)
{
    double tol = (m > n ? m : n) * DBL_EPSILON * max_abs(a, (size_t)m * n);
    for (int j = 0; j < n; j++) {
        double *x = a + (size_t)j * m, *vj = v + (size_t)j * m, norm = 0;
        for (int i = j; i < m; i++) norm += x[i] * x[i];
        norm = sqrt(norm);
        if (!(norm > tol))
            return DL_ESINGULAR;
        double alpha = x[j] > 0 ? -norm : norm;   /* sign avoids cancellation */
        for (int i = 0; i < m; i++) vj[i] = i < j ? 0 : x[i];
        vj[j] -= alpha;
        double vv = 0;
        for (int i = j; i < m; i++) vv += vj[i] * vj[i];
        beta[j] = 2 / vv;
        for (int c = j; c < n; c++) {
            double *y = a + (size_t)c * m, d = 0;
            for (int i = j; i < m; i++) d += vj[i] * y[i];
            for (int i = j; i < m; i++) y[i] -= beta[j] * d * vj[i];
        }
    }
    return DL_OK;
}

/* y = H_j y for reflector j (length m). */
static void reflect(const double *v, double beta, double *y, int j, int m)
{
    double d = 0;
    for (int i = j; i < m; i++) d += v[i] * y[i];
    for (int i = j; i < m; i++) y[i] -= beta * d * v[i];
}

dl_status linalg_lstsq(mat X, mat A, mat B)
{
    int m = A.rows, n = A.cols, k = B.cols;
    if (B.rows != m || X.rows != n || X.cols != k)
        return DL_ESHAPE;
    if (n == 0)
        return DL_OK;            /* no unknowns: the empty solution */
    if (m == 0)
        return DL_ESINGULAR;     /* unknowns but no equations */
    int tall = m >= n, p = tall ? m : n, q = tall ? n : m;  /* factor p×q */
    mat F = A;
    double *a = NULL;
    if (tall) {
        a = to_double_cm(F);
    } else if ((a = malloc(((size_t)p * q + 1) * sizeof(double)))) {
        for (int i = 0; i < m; i++)     /* Aᵀ, column-major: column i is row i of A */
            for (int j = 0; j < n; j++) a[j + (size_t)i * p] = *mat_at(A, i, j);
    }
    double *v = malloc(((size_t)p * q + 1) * sizeof(double));
    double *beta = malloc(((size_t)q + 1) * sizeof(double));
    double *b = to_double_cm(B);
    double *y = malloc(((size_t)p + 1) * sizeof(double));
    dl_status s = a && v && beta && b && y ? householder(a, v, beta, p, q) : DL_ENOMEM;
    for (int c = 0; s == DL_OK && c < k; c++) {
        double *bc = b + (size_t)c * m;
        if (tall) {
            /* Qᵀb, then R x = (Qᵀb)[0..n). */
            for (int j = 0; j < n; j++) reflect(v + (size_t)j * m, beta[j], bc, j, m);
            for (int i = n - 1; i >= 0; i--) {
                double t = bc[i];
                for (int j = i + 1; j < n; j++) t -= a[i + (size_t)j * m] * y[j];
                y[i] = t / a[i + (size_t)i * m];
            }
        } else {
            /* A = Rᵀ Qᵀ: Rᵀ z = b forward, then x = Q [z; 0]. */
            for (int i = 0; i < m; i++) {
                double t = bc[i];
                for (int j = 0; j < i; j++) t -= a[j + (size_t)i * p] * y[j];
                y[i] = t / a[i + (size_t)i * p];
            }
            for (int i = m; i < n; i++) y[i] = 0;
            for (int j = m - 1; j >= 0; j--) reflect(v + (size_t)j * p, beta[j], y, j, p);
        }
        for (int i = 0; i < n; i++) *mat_at(X, i, c) = (float)y[i];
    }
    free(a);
    free(v);
    free(beta);
    free(b);
    free(y);
    return s;
}
