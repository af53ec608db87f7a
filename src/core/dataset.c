/* dataset.c — the row operations a dataset needs (see dataset.h). */
#include "dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

dl_status dataset_gather_rows(mat dst, mat src, const int *idx, int n, char *msg,
                              size_t msglen)
{
    if (dst.rows != n || dst.cols != src.cols)
        return dl_fail(DL_ESHAPE, msg, msglen, "%d rows of a %dx%d matrix need %dx%d, got "
                       "%dx%d", n, src.rows, src.cols, n, src.cols, dst.rows, dst.cols);
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= src.rows)
            return dl_fail(DL_EINVAL, msg, msglen, "row position %d is %d, outside 1..%d",
                           i + 1, idx[i] + 1, src.rows);
    for (int i = 0; i < n; i++)
        memcpy(mat_at(dst, i, 0), mat_at(src, idx[i], 0), (size_t)src.cols * sizeof(float));
    return DL_OK;
}

dl_status dataset_gather_cols(mat dst, mat src, const int *cols, int n, char *msg,
                              size_t msglen)
{
    if (dst.rows != src.rows || dst.cols != n)
        return dl_fail(DL_ESHAPE, msg, msglen, "%d columns of a %dx%d matrix need %dx%d, "
                       "got %dx%d", n, src.rows, src.cols, src.rows, n, dst.rows, dst.cols);
    for (int j = 0; j < n; j++)
        if (cols[j] < 0 || cols[j] >= src.cols)
            return dl_fail(DL_EINVAL, msg, msglen, "column position %d is %d, outside 1..%d",
                           j + 1, cols[j] + 1, src.cols);
    for (int i = 0; i < src.rows; i++) {
        const float *s = mat_at(src, i, 0);
        float *d = mat_at(dst, i, 0);
        for (int j = 0; j < n; j++)
            d[j] = s[cols[j]];
    }
    return DL_OK;
}

/*
 * In place, following the permutation's cycles: for a cycle i → perm[i] →
 * perm[perm[i]] … the first row is saved, each row receives its successor,
 * and the last receives the saved one. One row of scratch and one flag per
 * row, instead of a second copy of a (possibly 180 MB) matrix.
 */
dl_status dataset_permute_rows(mat m, const int *perm, char *msg, size_t msglen)
{
    int n = m.rows;
    unsigned char *seen = calloc(n ? (size_t)n : 1, 1);
    float *tmp = malloc((m.cols ? (size_t)m.cols : 1) * sizeof(float));
    dl_status st = seen && tmp ? DL_OK : DL_ENOMEM;
    for (int i = 0; !st && i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n || seen[perm[i]])
            st = DL_EINVAL;
        else
            seen[perm[i]] = 1;
    }
    if (!st) {
        memset(seen, 0, (size_t)n);
        size_t bytes = (size_t)m.cols * sizeof(float);
        for (int i = 0; i < n; i++) {
            if (seen[i] || perm[i] == i)
                continue;
            memcpy(tmp, mat_at(m, i, 0), bytes);
            int j = i;
            for (;;) {
                seen[j] = 1;
                int k = perm[j];
                if (k == i) {
                    memcpy(mat_at(m, j, 0), tmp, bytes);
                    break;
                }
                memcpy(mat_at(m, j, 0), mat_at(m, k, 0), bytes);
                j = k;
            }
        }
    }
    free(seen);
    free(tmp);
    if (st == DL_ENOMEM)
        return dl_fail(st, msg, msglen, "not enough memory for one row of %d", m.cols);
    if (st)
        return dl_fail(st, msg, msglen, "not a permutation of the %d rows", n);
    return DL_OK;
}

void dataset_permutation(int *perm, int n, uint64_t seed)
{
    rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < n; i++)
        perm[i] = i;
    rng_shuffle(&r, perm, n);
}

#define LABEL_MAX (1 << 24)  /* fp32 holds every integer up to here exactly */

dl_status dataset_check_labels(mat y, int *classes, char *msg, size_t msglen)
{
    if (y.cols != 1)
        return dl_fail(DL_ESHAPE, msg, msglen, "labels must be an Nx1 matrix, got %dx%d",
                       y.rows, y.cols);
    int k = 0;
    for (int i = 0; i < y.rows; i++) {
        float v = *mat_at(y, i, 0);
        if (!(v >= 0 && v < LABEL_MAX) || v != floorf(v))
            return dl_fail(DL_EINVAL, msg, msglen, "row %d: label %.9g is not a whole number "
                           ">= 0", i + 1, (double)v);
        if ((int)v + 1 > k)
            k = (int)v + 1;
    }
    *classes = k;
    return DL_OK;
}

dl_status dataset_onehot(mat T, mat y, char *msg, size_t msglen)
{
    if (y.cols != 1 || T.rows != y.rows)
        return dl_fail(DL_ESHAPE, msg, msglen, "labels %dx%d and targets %dx%d: expected Nx1 "
                       "and Nxk", y.rows, y.cols, T.rows, T.cols);
    for (int i = 0; i < y.rows; i++) {
        float v = *mat_at(y, i, 0);
        if (!(v >= 0 && v < T.cols) || v != floorf(v))
            return dl_fail(DL_EINVAL, msg, msglen, "row %d: label %.9g is outside 0..%d",
                           i + 1, (double)v, T.cols - 1);
    }
    mat_fill(T, 0);
    for (int i = 0; i < y.rows; i++)
        *mat_at(T, i, (int)*mat_at(y, i, 0)) = 1;
    return DL_OK;
}

void dataset_label_counts(mat y, int k, int *counts)
{
    for (int c = 0; c < k; c++)
        counts[c] = 0;
    for (int i = 0; i < y.rows; i++) {
        float v = *mat_at(y, i, 0);
        if (v >= 0 && v < k && v == floorf(v))
            counts[(int)v]++;
    }
}

/* Two passes (mean, then squared deviations) in double: the one-pass formula
 * loses everything to cancellation when a column's mean is large. */
dl_status dataset_column_stats(mat mean, mat std, mat X, float min_std, char *msg,
                               size_t msglen)
{
    int d = X.cols;
    if (mean.rows != 1 || mean.cols != d || std.rows != 1 || std.cols != d)
        return dl_fail(DL_ESHAPE, msg, msglen, "X is %dx%d, so mean and std must be 1x%d, got "
                       "%dx%d and %dx%d", X.rows, d, d, mean.rows, mean.cols, std.rows,
                       std.cols);
    double *s = calloc(d ? (size_t)d : 1, 2 * sizeof(double));
    if (!s)
        return dl_fail(DL_ENOMEM, msg, msglen, "not enough memory");
    double *q = s + d;
    for (int i = 0; i < X.rows; i++) {
        const float *r = mat_at(X, i, 0);
        for (int j = 0; j < d; j++) s[j] += r[j];
    }
    double n = X.rows ? X.rows : 1;
    for (int j = 0; j < d; j++) s[j] /= n;
    for (int i = 0; i < X.rows; i++) {
        const float *r = mat_at(X, i, 0);
        for (int j = 0; j < d; j++) {
            double e = r[j] - s[j];
            q[j] += e * e;
        }
    }
    for (int j = 0; j < d; j++) {
        double sd = sqrt(q[j] / n);
        *mat_at(mean, 0, j) = (float)s[j];
        *mat_at(std, 0, j) = sd < min_std ? 1.0f : (float)sd;
    }
    free(s);
    return DL_OK;
}

void dataset_global_stats(mat X, double *mean, double *std)
{
    double s = 0, q = 0, n = (double)X.rows * X.cols;
    for (int i = 0; i < X.rows; i++) {
        const float *r = mat_at(X, i, 0);
        for (int j = 0; j < X.cols; j++) s += r[j];
    }
    double m = n > 0 ? s / n : 0;
    for (int i = 0; i < X.rows; i++) {
        const float *r = mat_at(X, i, 0);
        for (int j = 0; j < X.cols; j++) q += (r[j] - m) * (r[j] - m);
    }
    *mean = m;
    *std = n > 0 ? sqrt(q / n) : 0;
}

dl_status dataset_standardize(mat X, mat mean, mat std, char *msg, size_t msglen)
{
    if (mean.rows != 1 || mean.cols != X.cols || std.rows != 1 || std.cols != X.cols)
        return dl_fail(DL_ESHAPE, msg, msglen, "X is %dx%d, so mean and std must be 1x%d, got "
                       "%dx%d and %dx%d", X.rows, X.cols, X.cols, mean.rows, mean.cols,
                       std.rows, std.cols);
    const float *m = mean.data, *s = std.data;
    for (int i = 0; i < X.rows; i++) {
        float *r = mat_at(X, i, 0);
        for (int j = 0; j < X.cols; j++)
            r[j] = (r[j] - m[j]) / s[j];
    }
    return DL_OK;
}

void dataset_standardize_all(mat X, float mean, float std)
{
    for (int i = 0; i < X.rows; i++) {
        float *r = mat_at(X, i, 0);
        for (int j = 0; j < X.cols; j++)
            r[j] = (r[j] - mean) / std;
    }
}

