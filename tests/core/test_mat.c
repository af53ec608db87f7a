/* test_mat.c — the core matrix helpers behind the Lua type: element-wise
 * operations and broadcasting, allocation checks, reductions, the text
 * format, least squares and solving, NPY files.
 * Expected values are worked by hand or computed by plain loops here. */
#include "check.h"
#include "linalg.h"
#include "mat.h"
#include "io/npy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static mat from(float *d, int r, int c) { return mat_wrap(d, r, c); }

static void test_broadcast_rules(void)
{
    float a[6] = { 1, 2, 3, 4, 5, 6 }, row[3] = { 10, 20, 30 }, col[2] = { 100, 200 };
    float c[6];
    mat A = from(a, 2, 3), R = from(row, 1, 3), K = from(col, 2, 1), C = from(c, 2, 3);
    CHECK(mat_add(C, A, R) == DL_OK);
    CHECK(c[0] == 11 && c[5] == 36);
    CHECK(mat_subtract(C, R, A) == DL_OK);      /* row on the left */
    CHECK(c[0] == 9 && c[4] == 15);
    CHECK(mat_subtract(C, A, K) == DL_OK);      /* column on the right */
    CHECK(c[0] == -99 && c[3] == -196);
    CHECK(mat_divide(C, K, A) == DL_OK);      /* column on the left */
    CHECK_NEAR(c[2], 100.0 / 3, 1e-4);
    int r, cc;
    float t[6];
    mat T = from(t, 3, 2);
    CHECK(!mat_broadcast_shape(A, T, &r, &cc));           /* 2x3 vs 3x2 */
    CHECK(!mat_broadcast_shape(K, R, &r, &cc));           /* no outer broadcast */
    CHECK(mat_add(C, A, T) == DL_ESHAPE);
}

/* Equal shapes, contiguous (one kernel call) and strided views (a call per
 * row, the padding between rows untouched). */
static void test_elementwise_equal_shapes(void)
{
    float a[4] = { 1, 2, 3, 4 }, b[4] = { 2, 4, 8, 16 }, c[4];
    CHECK(mat_hadamard(from(c, 2, 2), from(a, 2, 2), from(b, 2, 2)) == DL_OK);
    CHECK(c[0] == 2 && c[1] == 8 && c[2] == 24 && c[3] == 64);
    CHECK(mat_divide(from(c, 2, 2), from(b, 2, 2), from(a, 2, 2)) == DL_OK);
    CHECK(c[0] == 2 && c[1] == 2 && c[2] == 8.0f / 3 && c[3] == 4);
    float p[6] = { 1, 2, -1, 3, 4, -1 }, q[6] = { 10, 20, -1, 30, 40, -1 }, r[6] = { 0, 0, 7, 0, 0, 7 };
    mat P = { p, 2, 2, 3 }, Q = { q, 2, 2, 3 }, Rm = { r, 2, 2, 3 };
    CHECK(mat_add(Rm, P, Q) == DL_OK);
    CHECK(r[0] == 11 && r[1] == 22 && r[3] == 33 && r[4] == 44 && r[2] == 7 && r[5] == 7);
    CHECK(mat_subtract(from(c, 2, 2), from(a, 2, 2), from(b, 1, 2)) == DL_OK);
    CHECK(c[0] == -1 && c[1] == -2 && c[2] == 1 && c[3] == 0);
}

/* The size check every matrix allocation goes through, with its messages. */
static void test_alloc_bytes(void)
{
    size_t n = 0;
    char msg[160];
    CHECK(mat_alloc_bytes(3, 5, &n, msg, sizeof msg) == DL_OK && n == 60);
    CHECK(mat_alloc_bytes(0, 5, &n, msg, sizeof msg) == DL_OK && n == 0);
    CHECK(mat_alloc_bytes(-1, 5, &n, msg, sizeof msg) == DL_EINVAL);
    CHECK(strcmp(msg, "matrix size -1x5 is invalid") == 0);
    CHECK(mat_alloc_bytes(MAT_MAX_DIM, MAT_MAX_DIM, &n, msg, sizeof msg) == DL_ENOMEM);
    if (sizeof(size_t) == 8 && mat_phys_memory() && mat_phys_memory() < (size_t)4e12) {
        CHECK(mat_alloc_bytes(1000000, 1000000, &n, msg, sizeof msg) == DL_ENOMEM);
        CHECK(strstr(msg, "matrix 1000000x1000000 needs 4000.0 GB, more than this machine's "));
    }
    CHECK(mat_alloc_bytes(-1, 5, &n, NULL, 0) == DL_EINVAL);   /* no message wanted */
}

/* A vector that is a row of C itself must be used as it was before the op. */
static void test_broadcast_in_place_alias(void)
{
    float a[6] = { 1, 2, 3, 4, 5, 6 };
    mat A = from(a, 2, 3), r1 = mat_sub(A, 0, 0, 1, 3);
    CHECK(mat_subtract(A, A, r1) == DL_OK);
    CHECK(a[0] == 0 && a[1] == 0 && a[3] == 3 && a[5] == 3);
}

static void test_reductions(void)
{
    float a[6] = { 1, -5, 3, 4, NAN, 2 };
    mat A = from(a, 2, 3);
    double v;
    int i, j;
    CHECK(mat_max(A, &v, &i, &j) == DL_OK && v == 4 && i == 1 && j == 0);
    CHECK(mat_min(A, &v, &i, &j) == DL_OK && v == -5 && i == 0 && j == 1);
    float r[3], q[2];
    mat R = from(r, 1, 3), Q = from(q, 2, 1);
    CHECK(mat_reduce_dim(R, A, MAT_ARGMAX, 1) == DL_OK);
    CHECK(r[0] == 2 && r[1] == 1 && r[2] == 1);           /* NaN skipped, 1-based */
    CHECK(mat_reduce_dim(Q, A, MAT_MAX, 2) == DL_OK && q[0] == 3 && q[1] == 4);
    float b[4] = { 3, 4, 0, 0 };
    mat B = from(b, 2, 2);
    CHECK(mat_reduce_dim(from(r, 2, 1), B, MAT_NORM, 2) == DL_OK && r[0] == 5 && r[1] == 0);
    CHECK(mat_reduce_dim(from(r, 1, 2), B, MAT_MEAN, 1) == DL_OK && r[0] == 1.5f && r[1] == 2);
    CHECK_NEAR(mat_norm(B), 5, 1e-12);
    mat E = from(b, 0, 2);
    CHECK(mat_max(E, &v, &i, &j) == DL_EINVAL);
    CHECK(mat_reduce_dim(from(r, 1, 2), E, MAT_MAX, 1) == DL_EINVAL);
    CHECK(mat_reduce_dim(from(r, 1, 2), E, MAT_SUM, 1) == DL_OK && r[0] == 0);
}

static void test_allclose_equal(void)
{
    float a[2] = { 1, 1000 }, b[2] = { 1.000001f, 1000.009f }, n[2] = { NAN, 1 };
    CHECK(mat_allclose(from(a, 1, 2), from(b, 1, 2), 1e-5, 1e-8));
    CHECK(!mat_allclose(from(a, 1, 2), from(b, 1, 2), 1e-7, 1e-8));
    CHECK(!mat_allclose(from(n, 1, 2), from(n, 1, 2), 1, 1));
    CHECK(mat_equal(from(a, 1, 2), from(a, 1, 2)));
    CHECK(!mat_equal(from(n, 1, 2), from(n, 1, 2)));
    CHECK(!mat_equal(from(a, 1, 2), from(a, 2, 1)));
}

static void test_softmax_cols_and_deriv(void)
{
    float a[4] = { 0, 1, 0, 3 }, c[4];
    CHECK(mat_softmax_cols(from(c, 2, 2), from(a, 2, 2), 1) == DL_OK);
    CHECK_NEAR(c[0] + c[2], 1, 1e-6);
    CHECK_NEAR(c[1], 1 / (1 + exp(2)), 1e-6);             /* e^1 / (e^1 + e^3) */
    float z[2] = { 0, 2 }, d[2];
    CHECK(mat_apply_deriv(from(d, 1, 2), from(z, 1, 2), DL_SIGMOID) == DL_OK);
    double s = 1 / (1 + exp(-2.0));
    CHECK_NEAR(d[0], 0.25, 1e-7);
    CHECK_NEAR(d[1], s * (1 - s), 1e-6);
}

static const char *fmt(float *d, int r, int c)
{
    static char buf[4096];
    size_t n = mat_format(buf, sizeof buf, from(d, r, c), NULL);
    CHECK(n == strlen(buf));
    return buf;
}

static void test_format(void)
{
    float ints[4] = { 1, 2, 3, -40 };
    CHECK(strcmp(fmt(ints, 2, 2), "  1    2\n  3  -40\n[matrix 2x2]") == 0);
    float fixed[2] = { 0.5f, 0.25f };
    CHECK(strcmp(fmt(fixed, 1, 2), "0.50  0.25\n[matrix 1x2]") == 0);
    /* a tiny delta beside a weight: scientific for all, no hidden factor */
    float tiny[2] = { 1.5e-6f, 0.3f };
    CHECK(strcmp(fmt(tiny, 2, 1), "1.5e-06\n3.0e-01\n[matrix 2x1]") == 0);
    float odd[3] = { NAN, INFINITY, 1 };
    CHECK(strcmp(fmt(odd, 1, 3), "nan  inf    1\n[matrix 1x3]") == 0);
    CHECK(strcmp(fmt(odd, 0, 3), "[matrix 0x3]") == 0);
    /* a big matrix: 5 + 5 rows and the columns that fit in 80 characters */
    float *big = calloc(100 * 100, sizeof(float));
    for (int k = 0; k < 100 * 100; k++) big[k] = (float)k;
    const char *s = fmt(big, 100, 100);
    CHECK(strstr(s, "⋮") && strstr(s, "…") && strstr(s, "⋱"));
    CHECK(strstr(s, "9999\n[matrix 100x100]") != NULL);
    int lines = 0;
    for (const char *p = s; *p; p++) lines += *p == '\n';
    CHECK(lines == 11);
    free(big);
    /* truncation behaves like snprintf */
    char small[8];
    size_t n = mat_format(small, sizeof small, from(ints, 2, 2), NULL);
    CHECK(n == strlen("  1    2\n  3  -40\n[matrix 2x2]") && strlen(small) == 7);
}

static void test_solve_inv(void)
{
    float a[9] = { 2, 1, 1, 1, 3, 2, 1, 0, 0 }, x[3], b[3], inv[9];
    float want[3] = { 1, -2, 3 };
    for (int i = 0; i < 3; i++)
        b[i] = a[3 * i] * want[0] + a[3 * i + 1] * want[1] + a[3 * i + 2] * want[2];
    mat A = from(a, 3, 3);
    CHECK(linalg_solve(from(x, 3, 1), A, from(b, 3, 1)) == DL_OK);
    for (int i = 0; i < 3; i++) CHECK_NEAR(x[i], want[i], 1e-5);
    CHECK(linalg_inv(from(inv, 3, 3), A) == DL_OK);
    for (int i = 0; i < 3; i++)          /* A·A⁻¹ = I */
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++) s += a[3 * i + k] * inv[3 * k + j];
            CHECK_NEAR(s, i == j, 1e-5);
        }
    float sing[4] = { 1, 2, 2, 4 };
    CHECK(linalg_solve(from(x, 2, 1), from(sing, 2, 2), from(b, 2, 1)) == DL_ESINGULAR);
    CHECK(linalg_inv(from(inv, 2, 2), from(sing, 2, 2)) == DL_ESINGULAR);
    CHECK(linalg_solve(from(x, 2, 1), from(a, 2, 3), from(b, 2, 1)) == DL_ESHAPE);
}

/* Line through (1,1), (2,2), (3,3.1): the normal equations, solved by hand,
 * give slope 1.05 and intercept −1/15. */
static void test_lstsq(void)
{
    float a[6] = { 1, 1, 1, 2, 1, 3 }, b[3] = { 1, 2, 3.1f }, x[2];
    CHECK(linalg_lstsq(from(x, 2, 1), from(a, 3, 2), from(b, 3, 1)) == DL_OK);
    CHECK_NEAR(x[0], -1.0 / 15, 1e-6);
    CHECK_NEAR(x[1], 1.05, 1e-6);
    /* underdetermined x1 + x2 = 2: the minimum-norm answer is (1, 1) */
    float u[2] = { 1, 1 }, ub[1] = { 2 }, ux[2];
    CHECK(linalg_lstsq(from(ux, 2, 1), from(u, 1, 2), from(ub, 1, 1)) == DL_OK);
    CHECK_NEAR(ux[0], 1, 1e-6);
    CHECK_NEAR(ux[1], 1, 1e-6);
    float dep[6] = { 1, 2, 2, 4, 3, 6 };   /* rank 1 */
    CHECK(linalg_lstsq(from(x, 2, 1), from(dep, 3, 2), from(b, 3, 1)) == DL_ESINGULAR);
}

static void test_npy_roundtrip_and_spec(void)
{
    char path[] = "/tmp/dl_test_matXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    float a[6] = { 1, 2.5f, -3, 4, 5e-7f, 6 };
    char msg[160];
    CHECK(npy_write(path, from(a, 2, 3), 0, msg, sizeof msg) == DL_OK);
    /* the bytes the NPY spec prescribes: magic, version 1.0, header length,
     * a dict padded with spaces to 64 bytes ending in '\n', then the data */
    unsigned char buf[200];
    FILE *f = fopen(path, "rb");
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CHECK(n == 128 + 24);   /* 10 + 59-byte dict + '\n' > 64: two blocks */
    CHECK(memcmp(buf, "\x93NUMPY\x01\x00", 8) == 0);
    CHECK(buf[8] + 256 * buf[9] == 128 - 10);
    CHECK(memcmp(buf + 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 59) == 0);
    CHECK(buf[69] == ' ' && buf[127] == '\n');
    CHECK(memcmp(buf + 128, a, 24) == 0);
    npy_info info;
    float b[6];
    CHECK(npy_read_header(path, &info, msg, sizeof msg) == DL_OK);
    CHECK(info.rows == 2 && info.cols == 3 && info.kind == 'f' && info.itemsize == 4);
    CHECK(npy_read_data(path, &info, from(b, 2, 3), msg, sizeof msg) == DL_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    /* float64 round trip */
    CHECK(npy_write(path, from(a, 3, 2), 1, msg, sizeof msg) == DL_OK);
    CHECK(npy_read_header(path, &info, msg, sizeof msg) == DL_OK);
    CHECK(info.itemsize == 8 && info.rows == 3 && info.cols == 2);
    CHECK(npy_read_data(path, &info, from(b, 3, 2), msg, sizeof msg) == DL_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    unlink(path);
    CHECK(npy_read_header(path, &info, msg, sizeof msg) == DL_EIO);
    CHECK(npy_write("/nonexistent-dir/x.npy", from(a, 2, 3), 0, msg, sizeof msg) == DL_EIO);
}

/* A hand-made Fortran-order uint8 file: 2x3, column-major bytes 1..6. */
static void test_npy_fortran_u8(void)
{
    char path[] = "/tmp/dl_test_npyXXXXXX";
    int fd = mkstemp(path);
    const char *h = "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }";
    unsigned char buf[128 + 6];
    memset(buf, ' ', sizeof buf);
    memcpy(buf, "\x93NUMPY\x01\x00\x76\x00", 10);   /* header length 118 */
    memcpy(buf + 10, h, strlen(h));
    buf[127] = '\n';
    for (int k = 0; k < 6; k++) buf[128 + k] = (unsigned char)(k + 1);
    CHECK(write(fd, buf, sizeof buf) == (ssize_t)sizeof buf);
    close(fd);
    npy_info info;
    char msg[160];
    float m[6];
    CHECK(npy_read_header(path, &info, msg, sizeof msg) == DL_OK);
    CHECK(info.fortran && info.kind == 'u' && info.rows == 2 && info.cols == 3);
    CHECK(npy_read_data(path, &info, from(m, 2, 3), msg, sizeof msg) == DL_OK);
    /* column-major 1..6 is the matrix {{1,3,5},{2,4,6}} */
    CHECK(m[0] == 1 && m[1] == 3 && m[2] == 5 && m[3] == 2 && m[4] == 4 && m[5] == 6);
    /* truncated: claims 3 rows */
    buf[10 + strlen("{'descr': '|u1', 'fortran_order': True, 'shape': (")] = '3';
    FILE *f = fopen(path, "wb");
    CHECK(fwrite(buf, 1, sizeof buf, f) == sizeof buf);
    fclose(f);
    CHECK(npy_read_header(path, &info, msg, sizeof msg) == DL_EFORMAT);
    CHECK(strstr(msg, "truncated") != NULL);
    unlink(path);
}

int main(void)
{
    RUN(test_broadcast_rules);
    RUN(test_broadcast_in_place_alias);
    RUN(test_elementwise_equal_shapes);
    RUN(test_alloc_bytes);
    RUN(test_reductions);
    RUN(test_allclose_equal);
    RUN(test_softmax_cols_and_deriv);
    RUN(test_format);
    RUN(test_solve_inv);
    RUN(test_lstsq);
    RUN(test_npy_roundtrip_and_spec);
    RUN(test_npy_fortran_u8);
    return check_summary();
}
