/* cifar.c — CIFAR-10 binary batches, plain or gzip (see cifar.h). */
#include "cifar.h"

#include <stdlib.h>

#include "source.h"

dl_status cifar_read_header(const char *path, int *n, char *msg, size_t msglen)
{
    source s;
    dl_status st = source_open(&s, path, msg, msglen);
    if (st)
        return st;
    /* No header: the length is the only description of the content. */
    if ((st = source_check_regular(&s, msg, msglen)) != DL_OK) {
        source_close(&s);
        return st;
    }
    uint64_t len = s.compressed ? s.isize : s.length;
    if (s.compressed && len > s.length * SOURCE_GZ_MAX_RATIO + 1024)
        st = dl_fail(DL_EFORMAT, msg, msglen, "damaged gzip file (its trailer gives %llu "
                     "bytes)", (unsigned long long)len);
    else if (len == 0)
        st = dl_fail(DL_EFORMAT, msg, msglen, "empty file, no CIFAR-10 records");
    else if (len % CIFAR_RECORD != 0)
        st = dl_fail(DL_EFORMAT, msg, msglen, "%llu bytes is not a whole number of %d-byte "
                     "CIFAR-10 records (1 label byte + 3072 pixel bytes): %llu records and "
                     "%llu bytes over", (unsigned long long)len, CIFAR_RECORD,
                     (unsigned long long)(len / CIFAR_RECORD),
                     (unsigned long long)(len % CIFAR_RECORD));
    else if (len / CIFAR_RECORD > MAT_MAX_DIM)
        st = dl_fail(DL_EFORMAT, msg, msglen, "too many records (%llu)",
                     (unsigned long long)(len / CIFAR_RECORD));
    else if (source_gz_suspect(&s, len))
        st = source_count(&s, len, 0, "CIFAR-10 records", msg, msglen);
    if (!st)
        *n = (int)(len / CIFAR_RECORD);
    source_close(&s);
    return st;
}

dl_status cifar_read_data(const char *path, int n, mat X, mat y, char *msg, size_t msglen)
{
    if (X.rows != n || X.cols != CIFAR_PIXELS || y.rows != n || y.cols != 1)
        return dl_fail(DL_ESHAPE, msg, msglen, "matrices are %dx%d and %dx%d, %d records need "
                       "%dx%d and %dx1", X.rows, X.cols, y.rows, y.cols, n, n, CIFAR_PIXELS,
                       n);
    source s;
    dl_status st = source_open(&s, path, msg, msglen);
    if (st)
        return st;
    /* records read at a time: a chunk's worth, or all of them when fewer */
    int per = SOURCE_CHUNK / CIFAR_RECORD < n ? SOURCE_CHUNK / CIFAR_RECORD : n;
    unsigned char *buf = malloc((size_t)(per ? per : 1) * CIFAR_RECORD);
    if (!buf)
        st = dl_fail(DL_ENOMEM, msg, msglen, "not enough memory");
    float lut[256];
    source_byte_table(lut, 1);
    for (int i = 0; !st && i < n; i += per) {
        int m = n - i < per ? n - i : per;
        size_t got = source_read(&s, buf, (size_t)m * CIFAR_RECORD);
        if (got < (size_t)m * CIFAR_RECORD) {
            const char *why = source_error(&s);
            size_t have = i + got / CIFAR_RECORD;
            st = *why ? dl_fail(DL_EFORMAT, msg, msglen, "damaged after %zu of %d records: %s",
                                have, n, why)
                      : dl_fail(DL_EFORMAT, msg, msglen, "truncated: holds %zu of %d records",
                                have, n);
            break;
        }
        for (int k = 0; k < m; k++) {
            const unsigned char *rec = buf + (size_t)k * CIFAR_RECORD;
            if (rec[0] > 9) {
                st = dl_fail(DL_EFORMAT, msg, msglen, "record %d: label %d is not a CIFAR-10 "
                             "class (0..9)", i + k + 1, rec[0]);
                break;
            }
            *mat_at(y, i + k, 0) = (float)rec[0];
            float *row = mat_at(X, i + k, 0);
            for (int j = 0; j < CIFAR_PIXELS; j++)
                row[j] = lut[rec[1 + j]];
        }
    }
    if (!st)
        st = source_expect_end(&s, msg, msglen);
    free(buf);
    source_close(&s);
    return st;
}

