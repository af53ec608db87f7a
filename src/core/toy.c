/* toy.c — seeded toy datasets (see toy.h). */
#include "toy.h"

#include <math.h>
#include <stdio.h>

#include "rng.h"

/* Rows of class c when n rows are split evenly over k classes (the first
 * n % k classes get one more). */
static int class_size(int n, int k, int c)
{
    return n / k + (c < n % k);
}

static dl_status shape_fail(mat X, mat y, int d, char *msg, size_t msglen)
{
    return dl_fail(DL_ESHAPE, msg, msglen, "X is %dx%d and y %dx%d: expected Nx%d and Nx1",
                   X.rows, X.cols, y.rows, y.cols, d);
}

dl_status toy_xor(mat X, mat y, float noise, uint64_t seed, char *msg, size_t msglen)
{
    if (X.cols != 2 || y.cols != 1 || y.rows != X.rows)
        return shape_fail(X, y, 2, msg, msglen);
    if (!(noise >= 0))
        return dl_fail(DL_EINVAL, msg, msglen, "noise must be >= 0, got %g", (double)noise);
    rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < X.rows; i++) {
        int corner = (int)rng_below(&r, 4), a = corner >> 1, b = corner & 1;
        *mat_at(X, i, 0) = (float)(a + noise * rng_normal(&r));
        *mat_at(X, i, 1) = (float)(b + noise * rng_normal(&r));
        *mat_at(y, i, 0) = (float)(a ^ b);
    }
    return DL_OK;
}

dl_status toy_spirals(mat X, mat y, int classes, float noise, uint64_t seed, char *msg,
                     size_t msglen)
{
    if (X.cols != 2 || y.cols != 1 || y.rows != X.rows)
        return shape_fail(X, y, 2, msg, msglen);
    if (classes < 1 || !(noise >= 0))
        return dl_fail(DL_EINVAL, msg, msglen, "%d classes and noise %g: expected >= 1 and >= 0",
                       classes, (double)noise);
    rng r;
    rng_seed(&r, seed);
    int i = 0;
    for (int c = 0; c < classes; c++) {
        int m = class_size(X.rows, classes, c);
        for (int k = 0; k < m; k++, i++) {
            double radius = m > 1 ? (double)k / (m - 1) : 0;
            double t = 4.0 * c + 4.0 * radius + noise * rng_normal(&r);
            *mat_at(X, i, 0) = (float)(radius * sin(t));
            *mat_at(X, i, 1) = (float)(radius * cos(t));
            *mat_at(y, i, 0) = (float)c;
        }
    }
    return DL_OK;
}

dl_status toy_moons(mat X, mat y, float noise, uint64_t seed, char *msg, size_t msglen)
{
    if (X.cols != 2 || y.cols != 1 || y.rows != X.rows)
        return shape_fail(X, y, 2, msg, msglen);
    if (!(noise >= 0))
        return dl_fail(DL_EINVAL, msg, msglen, "noise must be >= 0, got %g", (double)noise);
    const double pi = 3.14159265358979323846;
    rng r;
    rng_seed(&r, seed);
    int n_out = X.rows / 2, i = 0;
    for (int c = 0; c < 2; c++) {
        int m = c == 0 ? n_out : X.rows - n_out;
        for (int k = 0; k < m; k++, i++) {
            double a = m > 1 ? pi * k / (m - 1) : 0;
            double px = c == 0 ? cos(a) : 1 - cos(a);
            double py = c == 0 ? sin(a) : 0.5 - sin(a);
            *mat_at(X, i, 0) = (float)(px + noise * rng_normal(&r));
            *mat_at(X, i, 1) = (float)(py + noise * rng_normal(&r));
            *mat_at(y, i, 0) = (float)c;
        }
    }
    return DL_OK;
}

dl_status toy_blobs(mat X, mat y, mat C, int draw_centers, float box, float spread,
                    uint64_t seed, char *msg, size_t msglen)
{
    if (C.cols != X.cols || y.cols != 1 || y.rows != X.rows)
        return dl_fail(DL_ESHAPE, msg, msglen, "X %dx%d, y %dx%d and centres %dx%d: expected "
                       "Nxd, Nx1 and kxd", X.rows, X.cols, y.rows, y.cols, C.rows, C.cols);
    if (C.rows < 1 || !(spread >= 0) || !(box >= 0))
        return dl_fail(DL_EINVAL, msg, msglen, "%d centres, spread %g, box %g: expected >= 1, "
                       ">= 0 and >= 0", C.rows, (double)spread, (double)box);
    rng r;
    rng_seed(&r, seed);
    if (draw_centers)
        for (int c = 0; c < C.rows; c++)
            for (int j = 0; j < C.cols; j++)
                *mat_at(C, c, j) = (float)(box * (2 * rng_uniform(&r) - 1));
    int i = 0;
    for (int c = 0; c < C.rows; c++) {
        int m = class_size(X.rows, C.rows, c);
        for (int k = 0; k < m; k++, i++) {
            for (int j = 0; j < X.cols; j++)
                *mat_at(X, i, j) = (float)(*mat_at(C, c, j) + spread * rng_normal(&r));
            *mat_at(y, i, 0) = (float)c;
        }
    }
    return DL_OK;
}

dl_status toy_linear(mat X, mat Y, mat w, int draw_w, float b, float noise, uint64_t seed,
                     char *msg, size_t msglen)
{
    if (Y.cols != 1 || Y.rows != X.rows || w.rows != X.cols || w.cols != 1)
        return dl_fail(DL_ESHAPE, msg, msglen, "X %dx%d, Y %dx%d and w %dx%d: expected Nxd, Nx1 "
                       "and dx1", X.rows, X.cols, Y.rows, Y.cols, w.rows, w.cols);
    if (!(noise >= 0))
        return dl_fail(DL_EINVAL, msg, msglen, "noise must be >= 0, got %g", (double)noise);
    rng r;
    rng_seed(&r, seed);
    if (draw_w)
        for (int j = 0; j < w.rows; j++)
            *mat_at(w, j, 0) = (float)rng_normal(&r);
    for (int i = 0; i < X.rows; i++) {
        double t = b;
        for (int j = 0; j < X.cols; j++) {
            float x = (float)(2 * rng_uniform(&r) - 1);
            *mat_at(X, i, j) = x;
            t += (double)x * *mat_at(w, j, 0);
        }
        *mat_at(Y, i, 0) = (float)(t + noise * rng_normal(&r));
    }
    return DL_OK;
}
