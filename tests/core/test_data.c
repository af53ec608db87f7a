/* test_data.c — the core's loaders on files written here, the row operations
 * against hand-worked values, and the generators' reproducibility. */
#define _DEFAULT_SOURCE  /* mkdtemp */
#include "check.h"
#include "dataset.h"
#include "io/cifar.h"
#include "io/csv.h"
#include "io/idx.h"
#include "toy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char dir[64];
static char err[256];

static const char *path(const char *name)
{
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *name, const void *bytes, size_t n)
{
    FILE *f = fopen(path(name), "wb");
    fwrite(bytes, 1, n, f);
    fclose(f);
}

static void write_gz(const char *name, const void *bytes, size_t n)
{
    gzFile g = gzopen(path(name), "wb");
    gzwrite(g, bytes, (unsigned)n);
    gzclose(g);
}

static size_t read_file(const char *name, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path(name), "rb");
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static int has(const char *needle)
{
    if (strstr(err, needle))
        return 1;
    printf("  error was: %s\n  expected it to contain: %s\n", err, needle);
    return 0;
}

/* An IDX file of 3 images of 2x2 bytes: header 00 00 08 03, 3, 2, 2. */
static const unsigned char idx3[] = {
    0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2,
    0, 255, 51, 102,   7, 8, 9, 10,   255, 254, 1, 0
};
/* Labels 5 0 4. */
static const unsigned char idx1[] = { 0, 0, 8, 1, 0, 0, 0, 3, 5, 0, 4 };

static void test_idx_plain_and_gz(void)
{
    write_file("img", idx3, sizeof idx3);
    write_gz("img.gz", idx3, sizeof idx3);
    write_gz("img.oddname", idx3, sizeof idx3);  /* gzip told by magic, not name */
    const char *names[] = { "img", "img.gz", "img.oddname" };
    for (int f = 0; f < 3; f++) {
        idx_info info;
        CHECK(idx_read_header(path(names[f]), &info, err, sizeof err) == DL_OK);
        CHECK(info.rows == 3 && info.cols == 4 && info.ndim == 3 && info.type == IDX_U8);
        CHECK(info.dims[1] == 2 && info.dims[2] == 2);
        CHECK(info.gz == (f > 0));
        float buf[12];
        CHECK(idx_read_data(path(names[f]), &info, mat_wrap(buf, 3, 4), 1, err, sizeof err) == DL_OK);
        /* byte/255 exactly as fp32: 51/255 = 0.2, 102/255 = 0.4 */
        CHECK(buf[0] == 0.0f && buf[1] == 1.0f);
        CHECK(buf[2] == (float)(51 / 255.0) && buf[3] == (float)(102 / 255.0));
        CHECK(buf[4] == (float)(7 / 255.0) && buf[9] == (float)(254 / 255.0));
        CHECK(idx_read_data(path(names[f]), &info, mat_wrap(buf, 3, 4), 0, err, sizeof err) == DL_OK);
        CHECK(buf[4] == 7 && buf[8] == 255 && buf[11] == 0);
    }
    /* the first items only (a quick run on part of a big file) */
    float first[8];
    idx_info part;
    CHECK(idx_read_header(path("img.gz"), &part, err, sizeof err) == DL_OK);
    CHECK(idx_read_data(path("img.gz"), &part, mat_wrap(first, 2, 4), 0, err, sizeof err) == DL_OK);
    CHECK(first[0] == 0 && first[7] == 10);
    CHECK(idx_read_data(path("img.gz"), &part, mat_wrap(first, 4, 2), 0, err, sizeof err) == DL_ESHAPE);
    write_file("lab", idx1, sizeof idx1);
    idx_info info;
    CHECK(idx_read_header(path("lab"), &info, err, sizeof err) == DL_OK);
    CHECK(info.rows == 3 && info.cols == 1 && info.ndim == 1);
    float y[3];
    CHECK(idx_read_data(path("lab"), &info, mat_wrap(y, 3, 1), 0, err, sizeof err) == DL_OK);
    CHECK(y[0] == 5 && y[1] == 0 && y[2] == 4);
}

/* Rows land at their stride when X is a view of a wider matrix. */
static void test_idx_into_strided_view(void)
{
    write_file("img", idx3, sizeof idx3);
    idx_info info;
    CHECK(idx_read_header(path("img"), &info, err, sizeof err) == DL_OK);
    float big[3 * 6];
    for (int i = 0; i < 18; i++) big[i] = -1;
    mat X = mat_sub(mat_wrap(big, 3, 6), 0, 1, 3, 4);
    CHECK(idx_read_data(path("img"), &info, X, 0, err, sizeof err) == DL_OK);
    CHECK(big[0] == -1 && big[1] == 0 && big[2] == 255 && big[5] == -1);
    CHECK(big[6 + 1] == 7 && big[12 + 4] == 0 && big[12 + 5] == -1);
}

static void test_idx_other_types(void)
{
    /* int16 -2, 300 and float32 1.5, -0.25, big-endian */
    const unsigned char i16[] = { 0, 0, 0x0B, 1, 0, 0, 0, 2, 0xff, 0xfe, 0x01, 0x2c };
    const unsigned char f32[] = { 0, 0, 0x0D, 2, 0, 0, 0, 1, 0, 0, 0, 2,
                                  0x3f, 0xc0, 0, 0, 0xbe, 0x80, 0, 0 };
    write_file("i16", i16, sizeof i16);
    write_file("f32", f32, sizeof f32);
    idx_info info;
    float v[2];
    CHECK(idx_read_header(path("i16"), &info, err, sizeof err) == DL_OK);
    CHECK(idx_read_data(path("i16"), &info, mat_wrap(v, 2, 1), 1, err, sizeof err) == DL_OK);
    CHECK(v[0] == -2 && v[1] == 300);   /* scale applies to unsigned bytes only */
    CHECK(idx_read_header(path("f32"), &info, err, sizeof err) == DL_OK);
    CHECK(info.rows == 1 && info.cols == 2);
    CHECK(idx_read_data(path("f32"), &info, mat_wrap(v, 1, 2), 1, err, sizeof err) == DL_OK);
    CHECK(v[0] == 1.5f && v[1] == -0.25f);
}

static void test_idx_errors(void)
{
    idx_info info;
    unsigned char b[64];

    CHECK(idx_read_header(path("does-not-exist"), &info, err, sizeof err) == DL_EIO);
    CHECK(has("cannot open: No such file or directory"));
    CHECK(idx_read_header(dir, &info, err, sizeof err) == DL_EIO);
    CHECK(has("is a directory"));

    /* truncated data: one byte short, and the header says more than is there */
    write_file("short", idx3, sizeof idx3 - 1);
    CHECK(idx_read_header(path("short"), &info, err, sizeof err) == DL_EFORMAT);
    CHECK(has("truncated: the header says 3x2x2 unsigned bytes (28 bytes with the header) "
              "but the file has 27 bytes"));
    /* extra bytes */
    memcpy(b, idx3, sizeof idx3);
    b[sizeof idx3] = 9;
    write_file("long", b, sizeof idx3 + 1);
    CHECK(idx_read_header(path("long"), &info, err, sizeof err) == DL_EFORMAT);
    CHECK(has("but the file has 29 bytes"));
    /* wrong count: the header says 4 images, 3 are there */
    memcpy(b, idx3, sizeof idx3);
    b[7] = 4;
    write_file("count", b, sizeof idx3);
    CHECK(idx_read_header(path("count"), &info, err, sizeof err) == DL_EFORMAT);
    CHECK(has("4x2x2 unsigned bytes (32 bytes"));
    /* a huge count is refused before any allocation */
    b[4] = 0x3f; b[5] = 0xff;
    write_file("huge", b, sizeof idx3);
    CHECK(idx_read_header(path("huge"), &info, err, sizeof err) == DL_EFORMAT);
    write_gz("huge.gz", b, sizeof idx3);
    CHECK(idx_read_header(path("huge.gz"), &info, err, sizeof err) == DL_EFORMAT);
    CHECK(has("more than a"));

    /* wrong magic: a PNG signature, a gzip-in-gzip, an unknown type, 0 dims */
    const unsigned char png[] = { 0x89, 'P', 'N', 'G', 0, 0, 0, 0 };
    write_file("png", png, sizeof png);
    CHECK(idx_read_header(path("png"), &info, err, sizeof err) == DL_EFORMAT);
    CHECK(has("not an IDX file (magic 0x89504e47"));
    memcpy(b, idx3, sizeof idx3);
    b[2] = 0x07;
    write_file("type", b, sizeof idx3);
    CHECK(idx_read_header(path("type"), &info, err, sizeof err) == DL_EFORMAT);
    CHECK(has("unknown element type 0x07"));
    b[2] = 0x08; b[3] = 0;
    write_file("nodims", b, sizeof idx3);
    CHECK(idx_read_header(path("nodims"), &info, err, sizeof err) == DL_EFORMAT);
    CHECK(has("gives 0 dimensions"));
    write_file("tiny", idx3, 3);
    CHECK(idx_read_header(path("tiny"), &info, err, sizeof err) == DL_EFORMAT);
    CHECK(has("too short for an IDX header (3 bytes)"));
    write_file("halfheader", idx3, 10);
    CHECK(idx_read_header(path("halfheader"), &info, err, sizeof err) == DL_EFORMAT);
    CHECK(has("truncated IDX header (10 of 16 bytes)"));
    write_file("empty", idx3, 0);
    CHECK(idx_read_header(path("empty"), &info, err, sizeof err) == DL_EFORMAT);
}

static void test_idx_damaged_gz(void)
{
    /* A gz file cut short: its "trailer" is then deflate data. */
    /* 250 images of 64x64 random bytes: incompressible, so larger than
     * zlib's input buffer and the CRC is only checked when reading ends */
    enum { BIG = 16 + 250 * 4096 };
    unsigned char *big = malloc(BIG), *gz = malloc(2 * BIG);
    memcpy(big, idx3, 16);
    big[7] = 250; big[11] = 64; big[15] = 64;
    uint32_t x = 12345;
    for (int i = 16; i < BIG; i++) {
        x = x * 1664525u + 1013904223u;
        big[i] = (unsigned char)(x >> 24);
    }
    write_gz("full.gz", big, BIG);
    size_t n = read_file("full.gz", gz, 2 * BIG);
    idx_info info;
    CHECK(idx_read_header(path("full.gz"), &info, err, sizeof err) == DL_OK);
    write_file("cut.gz", gz, n - 100);
    CHECK(idx_read_header(path("cut.gz"), &info, err, sizeof err) == DL_EFORMAT);
    CHECK(has("truncated or damaged"));

    /* A flipped bit in the CRC: sizes agree, so only reading finds it. */
    gz[n - 6] ^= 1;
    write_file("crc.gz", gz, n);
    CHECK(idx_read_header(path("crc.gz"), &info, err, sizeof err) == DL_OK);
    float *X = malloc(sizeof(float) * 250 * 4096);
    CHECK(idx_read_data(path("crc.gz"), &info, mat_wrap(X, 250, 4096), 1, err, sizeof err) == DL_EFORMAT);
    CHECK(has("damaged after") && has("of 250 items: incorrect data check"));
    /* the small file in one piece: zlib checks the CRC on the first read */
    write_gz("small.gz", idx3, sizeof idx3);
    n = read_file("small.gz", gz, 2 * BIG);
    gz[n - 6] ^= 1;
    write_file("small.gz", gz, n);
    CHECK(idx_read_header(path("small.gz"), &info, err, sizeof err) == DL_EFORMAT);
    CHECK(has("damaged: incorrect data check"));
    free(X);
    free(big);
    free(gz);
}

/* CIFAR records: label, then R, G, B planes. */
static void test_cifar(void)
{
    enum { N = 3 };
    unsigned char *rec = malloc((size_t)N * CIFAR_RECORD + 1);
    for (int i = 0; i < N; i++) {
        unsigned char *r = rec + (size_t)i * CIFAR_RECORD;
        r[0] = (unsigned char)(i * 4);              /* labels 0, 4, 8 */
        for (int j = 0; j < CIFAR_PIXELS; j++)
            r[1 + j] = (unsigned char)((j / 1024) * 100 + i);   /* R=i, G=100+i, B=200+i */
    }
    write_file("c.bin", rec, (size_t)N * CIFAR_RECORD);
    write_gz("c.bin.gz", rec, (size_t)N * CIFAR_RECORD);
    const char *names[] = { "c.bin", "c.bin.gz" };
    float *X = malloc(sizeof(float) * N * CIFAR_PIXELS), y[N];
    for (int f = 0; f < 2; f++) {
        int n = 0;
        CHECK(cifar_read_header(path(names[f]), &n, err, sizeof err) == DL_OK);
        CHECK(n == N);
        CHECK(cifar_read_data(path(names[f]), N, mat_wrap(X, N, CIFAR_PIXELS),
                              mat_wrap(y, N, 1), err, sizeof err) == DL_OK);
        CHECK(y[0] == 0 && y[1] == 4 && y[2] == 8);
        CHECK(X[0] == 0.0f && X[1024] == (float)(100 / 255.0) && X[2048] == (float)(200 / 255.0));
        CHECK(X[CIFAR_PIXELS + 1023] == (float)(1 / 255.0));
        CHECK(X[2 * CIFAR_PIXELS + 3071] == (float)(202 / 255.0));
    }
    int n;
    write_file("c-short.bin", rec, (size_t)N * CIFAR_RECORD - 1);
    CHECK(cifar_read_header(path("c-short.bin"), &n, err, sizeof err) == DL_EFORMAT);
    CHECK(has("9218 bytes is not a whole number of 3073-byte CIFAR-10 records"));
    CHECK(has("2 records and 3072 bytes over"));
    rec[CIFAR_RECORD] = 10;
    write_file("c-label.bin", rec, (size_t)N * CIFAR_RECORD);
    CHECK(cifar_read_data(path("c-label.bin"), N, mat_wrap(X, N, CIFAR_PIXELS),
                          mat_wrap(y, N, 1), err, sizeof err) == DL_EFORMAT);
    CHECK(has("record 2: label 10 is not a CIFAR-10 class (0..9)"));
    write_file("c-empty.bin", rec, 0);
    CHECK(cifar_read_header(path("c-empty.bin"), &n, err, sizeof err) == DL_EFORMAT);
    free(rec);
    free(X);
}

static void test_csv(void)
{
    const char *text = "a, b,\"label\"\r\n1,2,0\n\n  3.5 ,-4e1,1\n\"5\",6,2\n";
    write_file("t.csv", text, strlen(text));
    write_gz("t.csv.gz", text, strlen(text));
    const char *names[] = { "t.csv", "t.csv.gz" };
    for (int f = 0; f < 2; f++) {
        csv_info info;
        CHECK(csv_scan(path(names[f]), ',', -1, CSV_NO_LABEL, &info, err, sizeof err) == DL_OK);
        CHECK(info.rows == 3 && info.cols == 3 && info.header == 1);
        float M[9];
        CHECK(csv_read_data(path(names[f]), ',', &info, mat_wrap(M, 3, 3), NULL, err, sizeof err) == DL_OK);
        CHECK(M[0] == 1 && M[1] == 2 && M[2] == 0);
        CHECK(M[3] == 3.5f && M[4] == -40 && M[5] == 1);
        CHECK(M[6] == 5 && M[7] == 6 && M[8] == 2);
    }
    /* No header; tab separated; header forced off on a text line is an error. */
    const char *tsv = "1\t2\n3\t4\n";
    write_file("t.tsv", tsv, strlen(tsv));
    csv_info info;
    CHECK(csv_scan(path("t.tsv"), '\t', -1, CSV_NO_LABEL, &info, err, sizeof err) == DL_OK);
    CHECK(info.rows == 2 && info.cols == 2 && info.header == 0);
    CHECK(csv_scan(path("t.csv"), ',', 0, CSV_NO_LABEL, &info, err, sizeof err) == DL_OK);
    CHECK(info.rows == 4 && info.header == 0);
    float M[12];
    CHECK(csv_read_data(path("t.csv"), ',', &info, mat_wrap(M, 4, 3), NULL, err, sizeof err) == DL_EFORMAT);
    CHECK(has("line 1: column 1: 'a' is not a number"));

    const char *bad = "x,y\n1,2\n3,abc\n";
    write_file("bad.csv", bad, strlen(bad));
    CHECK(csv_scan(path("bad.csv"), ',', -1, CSV_NO_LABEL, &info, err, sizeof err) == DL_OK);
    CHECK(csv_read_data(path("bad.csv"), ',', &info, mat_wrap(M, 2, 2), NULL, err, sizeof err) == DL_EFORMAT);
    CHECK(has("line 3: column 2: 'abc' is not a number"));
    const char *ragged = "1,2,3\n4,5,6\n\n7,8\n";
    write_file("ragged.csv", ragged, strlen(ragged));
    CHECK(csv_scan(path("ragged.csv"), ',', -1, CSV_NO_LABEL, &info, err, sizeof err) == DL_EFORMAT);
    CHECK(has("line 4: 2 fields, expected 3"));
    const char *empty_field = "1,,3\n";
    write_file("ef.csv", empty_field, strlen(empty_field));
    CHECK(csv_scan(path("ef.csv"), ',', 0, CSV_NO_LABEL, &info, err, sizeof err) == DL_OK);
    CHECK(csv_read_data(path("ef.csv"), ',', &info, mat_wrap(M, 1, 3), NULL, err, sizeof err) == DL_EFORMAT);
    CHECK(has("line 1: column 2: '' is not a number"));
    write_file("blank.csv", "\n \n", 3);
    CHECK(csv_scan(path("blank.csv"), ',', -1, CSV_NO_LABEL, &info, err, sizeof err) == DL_EFORMAT);
    CHECK(has("no data"));
    /* a line without a final newline still counts */
    write_file("nonl.csv", "1,2\n3,4", 7);
    CHECK(csv_scan(path("nonl.csv"), ',', -1, CSV_NO_LABEL, &info, err, sizeof err) == DL_OK);
    CHECK(info.rows == 2);
}

/* A label column of class names: numbered in sorted order, names returned. */
static void test_csv_text_labels(void)
{
    const char *text = "5.1,3.5,Iris-setosa\n6.2,2.9,Iris-versicolor\n"
                       "5.0,3.4,Iris-setosa\n6.3,3.3,\"Iris-virginica\"\n"
                       "7.0,3.2,Iris-versicolor\n";
    write_file("iris.csv", text, strlen(text));
    csv_info info;
    CHECK(csv_scan(path("iris.csv"), ',', -1, -1, &info, err, sizeof err) == DL_OK);
    CHECK(info.rows == 5 && info.cols == 3 && info.header == 0 && info.text_col == 2);
    char slots[8][CSV_NAME_MAX];
    csv_names names = { slots, 8, 0 };
    float M[15];
    CHECK(csv_read_data(path("iris.csv"), ',', &info, mat_wrap(M, 5, 3), &names, err, sizeof err) == DL_OK);
    CHECK(names.n == 3);
    CHECK(strcmp(slots[0], "Iris-setosa") == 0 && strcmp(slots[1], "Iris-versicolor") == 0
          && strcmp(slots[2], "Iris-virginica") == 0);
    CHECK(M[2] == 0 && M[5] == 1 && M[8] == 0 && M[11] == 2 && M[14] == 1);
    CHECK(M[3] == 6.2f && M[13] == 3.2f);
    /* the same column named 0-based from the front */
    CHECK(csv_scan(path("iris.csv"), ',', -1, 2, &info, err, sizeof err) == DL_OK);
    CHECK(info.text_col == 2);
    /* another column is not a label column: text there is an error */
    CHECK(csv_scan(path("iris.csv"), ',', -1, 0, &info, err, sizeof err) == DL_OK);
    CHECK(info.text_col == -1);
    CHECK(csv_read_data(path("iris.csv"), ',', &info, mat_wrap(M, 5, 3), NULL, err, sizeof err)
          == DL_EFORMAT);
    CHECK(has("line 1: column 3: 'Iris-setosa' is not a number"));
    /* too many names for the room given */
    CHECK(csv_scan(path("iris.csv"), ',', -1, -1, &info, err, sizeof err) == DL_OK);
    names.cap = 2;
    CHECK(csv_read_data(path("iris.csv"), ',', &info, mat_wrap(M, 5, 3), &names, err, sizeof err)
          == DL_EFORMAT);
    CHECK(has("line 4: more than 2 distinct class names"));
}

static void test_gather_and_permute(void)
{
    float a[4 * 3], g[3 * 3], c[4 * 2];
    for (int i = 0; i < 12; i++) a[i] = (float)i;
    mat A = mat_wrap(a, 4, 3);
    int idx[3] = { 3, 0, 3 };
    CHECK(dataset_gather_rows(mat_wrap(g, 3, 3), A, idx, 3, err, sizeof err) == DL_OK);
    CHECK(g[0] == 9 && g[2] == 11 && g[3] == 0 && g[6] == 9);
    int bad[1] = { 4 };
    CHECK(dataset_gather_rows(mat_wrap(g, 1, 3), A, bad, 1, err, sizeof err) == DL_EINVAL);
    int cols[2] = { 2, 0 };
    CHECK(dataset_gather_cols(mat_wrap(c, 4, 2), A, cols, 2, err, sizeof err) == DL_OK);
    CHECK(c[0] == 2 && c[1] == 0 && c[6] == 11 && c[7] == 9);

    /* permute in place equals gather into a copy, for a permutation with a
     * fixed point, a 2-cycle and a 3-cycle */
    enum { N = 6, D = 5 };
    float m[N * D], want[N * D];
    for (int i = 0; i < N * D; i++) m[i] = (float)i;
    int perm[N] = { 2, 0, 1, 3, 5, 4 };
    CHECK(dataset_gather_rows(mat_wrap(want, N, D), mat_wrap(m, N, D), perm, N, err, sizeof err) == DL_OK);
    CHECK(dataset_permute_rows(mat_wrap(m, N, D), perm, err, sizeof err) == DL_OK);
    CHECK(memcmp(m, want, sizeof m) == 0);
    int notperm[N] = { 0, 0, 1, 2, 3, 4 };
    CHECK(dataset_permute_rows(mat_wrap(m, N, D), notperm, err, sizeof err) == DL_EINVAL);
    CHECK(memcmp(m, want, sizeof m) == 0);   /* refused before touching anything */

    /* a seeded permutation is reproducible and is a permutation */
    int p1[1000], p2[1000], p3[1000], seen[1000] = { 0 };
    dataset_permutation(p1, 1000, 42);
    dataset_permutation(p2, 1000, 42);
    dataset_permutation(p3, 1000, 43);
    CHECK(memcmp(p1, p2, sizeof p1) == 0);
    CHECK(memcmp(p1, p3, sizeof p1) != 0);
    for (int i = 0; i < 1000; i++) seen[p1[i]]++;
    int ok = 1;
    for (int i = 0; i < 1000; i++) ok &= seen[i] == 1;
    CHECK(ok);
}

static void test_labels(void)
{
    float y[4] = { 2, 0, 1, 2 }, T[4 * 3];
    int classes = 0;
    CHECK(dataset_check_labels(mat_wrap(y, 4, 1), &classes, err, sizeof err) == DL_OK);
    CHECK(classes == 3);
    CHECK(dataset_onehot(mat_wrap(T, 4, 3), mat_wrap(y, 4, 1), err, sizeof err) == DL_OK);
    const float want[12] = { 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1 };
    CHECK(memcmp(T, want, sizeof T) == 0);
    int counts[3];
    dataset_label_counts(mat_wrap(y, 4, 1), 3, counts);
    CHECK(counts[0] == 1 && counts[1] == 1 && counts[2] == 2);
    CHECK(dataset_onehot(mat_wrap(T, 4, 2), mat_wrap(y, 4, 1), err, sizeof err) == DL_EINVAL);
    CHECK(has("row 1: label 2 is outside 0..1"));
    y[2] = 1.5f;
    CHECK(dataset_check_labels(mat_wrap(y, 4, 1), &classes, err, sizeof err) == DL_EINVAL);
    CHECK(has("row 3: label 1.5 is not a whole number"));
    y[2] = -1;
    CHECK(dataset_check_labels(mat_wrap(y, 4, 1), &classes, err, sizeof err) == DL_EINVAL);
    y[2] = NAN;
    CHECK(dataset_check_labels(mat_wrap(y, 4, 1), &classes, err, sizeof err) == DL_EINVAL);
}

/* Columns (1, 2, 3, 6) and (5, 5, 5, 5): means 3 and 5, population std
 * sqrt(((−2)²+(−1)²+0+3²)/4) = sqrt(3.5), and 0 (→ 1, so the column maps to 0). */
static void test_stats(void)
{
    float x[8] = { 1, 5, 2, 5, 3, 5, 6, 5 }, mean[2], std[2];
    mat X = mat_wrap(x, 4, 2);
    CHECK(dataset_column_stats(mat_wrap(mean, 1, 2), mat_wrap(std, 1, 2), X, 1e-6f, err, sizeof err) == DL_OK);
    CHECK_NEAR(mean[0], 3, 1e-6);
    CHECK_NEAR(mean[1], 5, 1e-6);
    CHECK_NEAR(std[0], sqrt(3.5), 1e-6);
    CHECK(std[1] == 1);
    double gm, gs;
    dataset_global_stats(X, &gm, &gs);
    CHECK_NEAR(gm, 4, 1e-12);   /* (12 + 20) / 8 */
    CHECK_NEAR(gs, sqrt((9 + 4 + 1 + 4 + 4 * 1.0) / 8), 1e-12);
    CHECK(dataset_standardize(X, mat_wrap(mean, 1, 2), mat_wrap(std, 1, 2), err, sizeof err) == DL_OK);
    CHECK_NEAR(x[0], -2 / sqrt(3.5), 1e-6);
    CHECK_NEAR(x[6], 3 / sqrt(3.5), 1e-6);
    CHECK(x[1] == 0 && x[7] == 0);
    CHECK(dataset_standardize(X, mat_wrap(mean, 1, 1), mat_wrap(std, 1, 2), err, sizeof err) == DL_ESHAPE);
    dataset_standardize_all(X, 1, 2);
    CHECK(x[1] == -0.5f);
}

static void test_generators(void)
{
    enum { N = 300 };
    float X1[N * 2], X2[N * 2], y1[N], y2[N];
    mat A = mat_wrap(X1, N, 2), B = mat_wrap(X2, N, 2);
    mat a = mat_wrap(y1, N, 1), b = mat_wrap(y2, N, 1);

    CHECK(toy_spirals(A, a, 3, 0.2f, 7, err, sizeof err) == DL_OK);
    CHECK(toy_spirals(B, b, 3, 0.2f, 7, err, sizeof err) == DL_OK);
    CHECK(memcmp(X1, X2, sizeof X1) == 0 && memcmp(y1, y2, sizeof y1) == 0);
    CHECK(toy_spirals(B, b, 3, 0.2f, 8, err, sizeof err) == DL_OK);
    CHECK(memcmp(X1, X2, sizeof X1) != 0);
    int counts[3];
    dataset_label_counts(a, 3, counts);
    CHECK(counts[0] == 100 && counts[1] == 100 && counts[2] == 100);
    /* radius = k/99 exactly on every arm, whatever the angle noise */
    CHECK_NEAR(hypot(X1[2 * 99], X1[2 * 99 + 1]), 1, 1e-6);
    CHECK_NEAR(hypot(X1[2 * 150], X1[2 * 150 + 1]), 50 / 99.0, 1e-6);
    /* without noise class 1 starts at angle 4: (r sin 4, r cos 4) */
    CHECK(toy_spirals(A, a, 3, 0, 1, err, sizeof err) == DL_OK);
    CHECK_NEAR(X1[2 * 199], sin(8.0), 1e-6);
    CHECK_NEAR(X1[2 * 199 + 1], cos(8.0), 1e-6);

    CHECK(toy_moons(A, a, 0, 1, err, sizeof err) == DL_OK);   /* noiseless: on the two arcs */
    CHECK_NEAR(X1[0], 1, 1e-6);                /* outer arc starts at (1, 0) */
    CHECK_NEAR(X1[2 * 149], -1, 1e-6);         /* ... ends at (-1, 0) */
    CHECK_NEAR(X1[2 * 150], 0, 1e-6);          /* inner arc starts at (0, 0.5) */
    CHECK_NEAR(X1[2 * 150 + 1], 0.5, 1e-6);
    CHECK(y1[149] == 0 && y1[150] == 1);

    CHECK(toy_xor(A, a, 0, 3, err, sizeof err) == DL_OK);
    int ok = 1;
    for (int i = 0; i < N; i++)
        ok &= y1[i] == (float)((int)X1[2 * i] ^ (int)X1[2 * i + 1]);
    CHECK(ok);

    float C[3 * 2];
    CHECK(toy_blobs(A, a, mat_wrap(C, 3, 2), 1, 10, 0, 5, err, sizeof err) == DL_OK);
    CHECK(X1[0] == C[0] && X1[2 * 299 + 1] == C[5] && y1[299] == 2);
    CHECK(C[0] >= -10 && C[0] <= 10);

    /* linear: Y − (X·w + b) is the noise; its std over 300 draws of
     * N(0, 0.1²) lies within 0.1 ± 25 % with overwhelming probability */
    float w[2] = { 0.5f, -3 }, Y[N], Xl[N * 2];
    CHECK(toy_linear(mat_wrap(Xl, N, 2), mat_wrap(Y, N, 1), mat_wrap(w, 2, 1), 0, 1, 0.1f, 9, err, sizeof err)
          == DL_OK);
    double ss = 0, lo = 1, hi = -1;
    for (int i = 0; i < N; i++) {
        double r = Y[i] - (Xl[2 * i] * 0.5 - 3 * Xl[2 * i + 1] + 1);
        ss += r * r;
        lo = fmin(lo, Xl[2 * i]);
        hi = fmax(hi, Xl[2 * i]);
    }
    CHECK(sqrt(ss / N) > 0.075 && sqrt(ss / N) < 0.125);
    CHECK(lo >= -1 && hi <= 1 && lo < -0.9 && hi > 0.9);
    CHECK(toy_linear(mat_wrap(Xl, N, 2), mat_wrap(Y, N, 1), mat_wrap(w, 1, 1), 0, 1, 0, 9, err, sizeof err)
          == DL_ESHAPE);
}

int main(void)
{
    strcpy(dir, "/tmp/deltalab-test-data-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_idx_plain_and_gz);
    RUN(test_idx_into_strided_view);
    RUN(test_idx_other_types);
    RUN(test_idx_errors);
    RUN(test_idx_damaged_gz);
    RUN(test_cifar);
    RUN(test_csv);
    RUN(test_csv_text_labels);
    RUN(test_gather_and_permute);
    RUN(test_labels);
    RUN(test_stats);
    RUN(test_generators);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("  could not remove %s\n", dir);
    return check_summary();
}
