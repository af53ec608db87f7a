/*
 * data.h — datasets in the core: file loaders (IDX, CIFAR-10 binary, CSV),
 * the row operations a dataset needs (gather, permute, one-hot, statistics),
 * and seeded toy generators.
 *
 * Loaders work in two steps so that the caller owns every buffer: *_info reads
 * and checks the header against the file's length (nothing is allocated from
 * an unchecked size), the caller allocates the matrices the info asks for, and
 * *_read fills them. Files may be plain or gzip-compressed (told apart by the
 * magic bytes 1f 8b, never by the name). On failure a loader returns a status
 * and writes one English sentence into err (DATA_ERRLEN bytes), without the
 * path, which the caller prefixes; its outputs are then unspecified.
 *
 * Labels are 0-based class values stored as floats in N×1 matrices.
 */
#ifndef DL_DATA_H
#define DL_DATA_H

#include <stdint.h>

#include "dl.h"
#include "mat.h"

#define DATA_ERRLEN 256
#define IDX_MAX_DIMS 8

/* IDX element types (third byte of the magic word). */
enum {
    IDX_U8 = 0x08, IDX_I8 = 0x09, IDX_I16 = 0x0B, IDX_I32 = 0x0C,
    IDX_F32 = 0x0D, IDX_F64 = 0x0E
};

typedef struct idx_info {
    int type;                /* element type, IDX_U8 .. IDX_F64 */
    int elsize;              /* bytes per element: 1, 2, 4 or 8 */
    int ndim;                /* number of dimensions, 1 .. IDX_MAX_DIMS */
    int dims[IDX_MAX_DIMS];  /* dims[0] = number of items, then item shape */
    int rows, cols;          /* as a matrix: dims[0] × product of the rest (1 if 1-D) */
    int gz;                  /* 1 when the file is gzip-compressed */
} idx_info;

/* Read and check the header of an IDX file: magic, type, dimensions, and
 * that the (uncompressed) length is exactly header + elements. */
dl_status data_idx_info(const char *path, idx_info *info, char *err);
/* Read the elements of the IDX file described by info into X (info->rows ×
 * info->cols, or fewer rows to read only the first items); with scale,
 * unsigned bytes become byte/255 (fp32, in [0, 1]). */
dl_status data_idx_read(const char *path, const idx_info *info, mat X, int scale, char *err);

/* Bytes in one CIFAR-10 record: a label byte, then 1024 R, 1024 G, 1024 B. */
#define CIFAR_RECORD 3073
#define CIFAR_PIXELS 3072

/* Number of records in a CIFAR-10 binary batch file (its length must be a
 * whole number of records). */
dl_status data_cifar_info(const char *path, int *n, char *err);
/* Read n records: X (n × 3072) gets byte/255, y (n × 1) the labels 0..9. */
dl_status data_cifar_read(const char *path, int n, mat X, mat y, char *err);

typedef struct csv_info {
    int rows;        /* data lines (blank lines and the header not counted) */
    int cols;        /* fields per line */
    int header;      /* 1 when the first non-blank line is a header */
    int text_col;    /* 0-based label column holding text (class names), or -1 */
} csv_info;

/* label_col for "no label column" */
#define CSV_NO_LABEL 0x7fffffff

/* Longest class name kept (with its NUL) and most distinct names. */
#define CSV_NAME_MAX 64
#define CSV_NAMES_MAX 4096

typedef struct csv_names {
    char (*name)[CSV_NAME_MAX];  /* cap slots, caller-owned; name[c] = class c */
    int cap;                     /* slots available */
    int n;                       /* distinct names found */
} csv_names;

/* Scan a CSV file (plain or gzip): count rows and fields, check that every
 * line has as many fields as the first, and decide on the header (header_mode
 * -1: detect — the first line is a header when a column holds text there and
 * a number on the next line; 0: none; 1: yes).
 * label_col (0-based, or negative from the end: -1 is the last; anything out
 * of range means none) is the label column: when one of its fields is not a
 * number, info->text_col says it holds class names. */
dl_status data_csv_info(const char *path, char sep, int header_mode, int label_col,
                        csv_info *info, char *err);
/* Parse every field as a number into M (info->rows × info->cols); a field
 * that is not a number is reported with its line and column. The text
 * column, if any, gets class numbers instead: the distinct names sorted
 * (byte order) into names, and each row the position of its name. */
dl_status data_csv_read(const char *path, char sep, const csv_info *info, mat M,
                        csv_names *names, char *err);

/* dst row i = src row idx[i] (0-based) for i < n; dst is n × src.cols. */
dl_status data_gather_rows(mat dst, mat src, const int *idx, int n);
/* dst column j = src column cols[j] (0-based); dst is src.rows × n. */
dl_status data_gather_cols(mat dst, mat src, const int *cols, int n);
/* Permute the rows of m in place so that new row i is old row perm[i]
 * (perm is a permutation of 0..m.rows-1). Uses one row of scratch. */
dl_status data_permute_rows(mat m, const int *perm);
/* perm = a random permutation of 0..n-1 from seed (Fisher–Yates on rng.h). */
void data_permutation(int *perm, int n, uint64_t seed);

/* Check that y (N×1) holds whole-number labels in 0..2^24; *classes = largest
 * + 1 (0 when N is 0). On failure *bad_row is the 0-based offending row. */
dl_status data_check_labels(mat y, int *classes, int *bad_row);
/* T (N×k) = one-hot rows of the labels y (N×1); DL_EINVAL with *bad_row when a
 * label is outside 0..k-1. */
dl_status data_onehot(mat T, mat y, int *bad_row);
/* counts[c] = rows of y with label c, for c < k (labels outside are ignored). */
void data_label_counts(mat y, int k, int *counts);

/* Per-column mean and standard deviation (population) of X into the 1×d rows
 * mean and std; a std below min_std is replaced by 1 so the column maps to 0. */
dl_status data_column_stats(mat mean, mat std, mat X, float min_std);
/* Mean and standard deviation of all elements of X. */
void data_global_stats(mat X, double *mean, double *std);
/* X = (X - mean) / std column by column; mean and std are 1×d. */
dl_status data_standardize(mat X, mat mean, mat std);
/* X = (X - mean) / std with one mean and std for every element. */
void data_standardize_all(mat X, float mean, float std);

/* Toy generators. X has one sample per row; y (N×1) gets 0-based labels.
 * Rows come grouped by class; every draw comes from rng.h seeded with seed. */

/* n points at the corners of the unit square plus N(0, noise²) noise, label
 * (x xor y); X is n×2. */
dl_status data_xor(mat X, mat y, float noise, uint64_t seed);
/* Interleaved spirals: X is n×2, classes arms, noise on the angle. */
dl_status data_spirals(mat X, mat y, int classes, float noise, uint64_t seed);
/* Two interleaving half circles (make_moons): X is n×2. */
dl_status data_moons(mat X, mat y, float noise, uint64_t seed);
/* Gaussian blobs around the rows of C (k×dim), or, when draw_centers, around
 * k centres first drawn uniformly in [-box, box]^dim into C. X is n×dim. */
dl_status data_blobs(mat X, mat y, mat C, int draw_centers, float box, float spread,
                     uint64_t seed);
/* Linear regression: X (n×dim) uniform in [-1, 1], Y (n×1) = X·w + b +
 * noise·N(0, 1); w is dim×1, first drawn N(0, 1) when draw_w. */
dl_status data_linear(mat X, mat Y, mat w, int draw_w, float b, float noise, uint64_t seed);

#endif
