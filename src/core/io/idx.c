/* idx.c — IDX files, plain or gzip (see idx.h). */
#include "idx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

static const char *idx_type_name(int type)
{
    switch (type) {
    case IDX_U8:  return "unsigned bytes";
    case IDX_I8:  return "signed bytes";
    case IDX_I16: return "int16 values";
    case IDX_I32: return "int32 values";
    case IDX_F32: return "float32 values";
    case IDX_F64: return "float64 values";
    }
    return "values";
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static dl_status idx_header(source *s, idx_info *info, char *msg, size_t msglen)
{
    unsigned char h[4 + 4 * IDX_MAX_DIMS];
    size_t got = source_read(s, h, 4);
    if (got < 4 && *source_error(s))
        return dl_fail(DL_EFORMAT, msg, msglen, "damaged: %s", source_error(s));
    if (got < 4)
        return dl_fail(DL_EFORMAT, msg, msglen, "too short for an IDX header (%zu bytes)",
                       got);
    if (h[0] != 0 || h[1] != 0)
        return dl_fail(DL_EFORMAT, msg, msglen, "not an IDX file (magic 0x%08x, expected "
                       "0x000008nn)", (unsigned)be32(h));
    memset(info, 0, sizeof *info);
    info->type = h[2];
    info->ndim = h[3];
    switch (info->type) {
    case IDX_U8: case IDX_I8: info->elsize = 1; break;
    case IDX_I16: info->elsize = 2; break;
    case IDX_I32: case IDX_F32: info->elsize = 4; break;
    case IDX_F64: info->elsize = 8; break;
    default:
        return dl_fail(DL_EFORMAT, msg, msglen, "not an IDX file (unknown element type 0x%02x "
                       "in magic 0x%08x)", info->type, (unsigned)be32(h));
    }
    if (info->ndim < 1 || info->ndim > IDX_MAX_DIMS)
        return dl_fail(DL_EFORMAT, msg, msglen, "IDX header gives %d dimensions (1 to %d "
                       "expected)", info->ndim, IDX_MAX_DIMS);
    got = source_read(s, h + 4, 4 * (size_t)info->ndim);
    if (got < 4 * (size_t)info->ndim)
        return dl_fail(DL_EFORMAT, msg, msglen, "truncated IDX header (%zu of %d bytes)",
                       4 + got, 4 + 4 * info->ndim);
    uint64_t cols = 1;
    for (int k = 0; k < info->ndim; k++) {
        uint32_t d = be32(h + 4 + 4 * k);
        if (d > MAT_MAX_DIM)
            return dl_fail(DL_EFORMAT, msg, msglen, "IDX dimension %d is %lu, too large",
                           k + 1, (unsigned long)d);
        info->dims[k] = (int)d;
        if (k > 0)
            cols *= d;
        if (cols > MAT_MAX_DIM)
            return dl_fail(DL_EFORMAT, msg, msglen, "IDX items of more than %d elements are "
                           "too large", MAT_MAX_DIM);
    }
    info->rows = info->dims[0];
    info->cols = (int)cols;
    return DL_OK;
}

/* "60000x28x28 unsigned bytes" */
static void idx_describe(const idx_info *info, char *out, size_t n)
{
    size_t k = 0;
    for (int d = 0; d < info->ndim && k < n; d++)
        k += (size_t)snprintf(out + k, n - k, "%s%d", d ? "x" : "", info->dims[d]);
    if (k < n)
        snprintf(out + k, n - k, " %s", idx_type_name(info->type));
}

static uint64_t idx_bytes(const idx_info *info)
{
    return 4 + 4 * (uint64_t)info->ndim
         + (uint64_t)info->rows * (uint64_t)info->cols * (uint64_t)info->elsize;
}

dl_status idx_read_header(const char *path, idx_info *info, char *msg, size_t msglen)
{
    source s;
    dl_status st = source_open(&s, path, msg, msglen);
    if (st)
        return st;
    st = idx_header(&s, info, msg, msglen);
    if (!st) {
        char what[128];
        idx_describe(info, what, sizeof what);
        info->gz = s.compressed;
        st = source_check_length(&s, idx_bytes(info), 4 + 4 * (uint64_t)info->ndim, what, msg,
                                 msglen);
    }
    source_close(&s);
    return st;
}

/* Decode n big-endian elements of type into out. */
static void idx_decode(float *out, const unsigned char *in, size_t n, int type,
                       const float lut[256])
{
    switch (type) {
    case IDX_U8:
        for (size_t k = 0; k < n; k++) out[k] = lut[in[k]];
        break;
    case IDX_I8:
        for (size_t k = 0; k < n; k++) out[k] = (float)(signed char)in[k];
        break;
    case IDX_I16:
        for (size_t k = 0; k < n; k++)
            out[k] = (float)(int16_t)(uint16_t)(in[2 * k] << 8 | in[2 * k + 1]);
        break;
    case IDX_I32:
        for (size_t k = 0; k < n; k++) out[k] = (float)(int32_t)be32(in + 4 * k);
        break;
    case IDX_F32:
        for (size_t k = 0; k < n; k++) {
            uint32_t u = be32(in + 4 * k);
            float f;
            memcpy(&f, &u, 4);
            out[k] = f;
        }
        break;
    case IDX_F64:
        for (size_t k = 0; k < n; k++) {
            uint64_t u = (uint64_t)be32(in + 8 * k) << 32 | be32(in + 8 * k + 4);
            double d;
            memcpy(&d, &u, 8);
            out[k] = (float)d;
        }
        break;
    }
}

dl_status idx_read_data(const char *path, const idx_info *want, mat X, int scale,
                        char *msg, size_t msglen)
{
    if (X.rows > want->rows || X.cols != want->cols)
        return dl_fail(DL_ESHAPE, msg, msglen, "matrix is %dx%d, the file holds %dx%d", X.rows,
                       X.cols, want->rows, want->cols);
    source s;
    dl_status st = source_open(&s, path, msg, msglen);
    if (st)
        return st;
    idx_info info;
    st = idx_header(&s, &info, msg, msglen);
    if (!st && (info.type != want->type || info.ndim != want->ndim
                || memcmp(info.dims, want->dims, sizeof info.dims) != 0))
        st = dl_fail(DL_EFORMAT, msg, msglen, "the file changed while it was being read");
    unsigned char *buf = NULL;
    float *tmp = NULL;
    size_t total = (size_t)X.rows * (size_t)X.cols, per = 1;
    if (!st) {
        /* buffers sized from the header: a chunk, or less for a small file */
        per = SOURCE_CHUNK / (size_t)info.elsize;
        if (per > total)
            per = total ? total : 1;
        buf = malloc(per * (size_t)info.elsize);
        tmp = malloc(per * sizeof(float));
        if (!buf || !tmp)
            st = dl_fail(DL_ENOMEM, msg, msglen, "not enough memory");
    }
    if (!st) {
        float lut[256];
        source_byte_table(lut, scale && info.type == IDX_U8);
        size_t done = 0;
        int r = 0, c = 0;
        while (done < total) {
            size_t n = total - done < per ? total - done : per;
            size_t got = source_read(&s, buf, n * (size_t)info.elsize);
            if (got < n * (size_t)info.elsize) {
                const char *why = source_error(&s);
                size_t item = (size_t)info.elsize * info.cols;
                size_t have = (done * (size_t)info.elsize + got) / item;
                st = *why ? dl_fail(DL_EFORMAT, msg, msglen, "damaged after %zu of %d items: %s",
                                    have, info.rows, why)
                          : dl_fail(DL_EFORMAT, msg, msglen, "truncated: holds %zu of %d items",
                                    have, info.rows);
                break;
            }
            idx_decode(tmp, buf, n, info.type, lut);
            /* Copy the decoded run into X row by row (X may have a stride). */
            for (size_t k = 0; k < n;) {
                size_t run = (size_t)(info.cols - c);
                if (run > n - k)
                    run = n - k;
                memcpy(mat_at(X, r, c), tmp + k, run * sizeof(float));
                k += run;
                c += (int)run;
                if (c == info.cols) {
                    c = 0;
                    r++;
                }
            }
            done += n;
        }
        if (!st && X.rows == info.rows)
            st = source_expect_end(&s, msg, msglen);
    }
    free(buf);
    free(tmp);
    source_close(&s);
    return st;
}

