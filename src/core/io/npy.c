/* npy.c — reading and writing NumPy .npy files (see npy.h for the format). */
#include "npy.h"
#include "../save.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char magic[6] = { '\x93', 'N', 'U', 'M', 'P', 'Y' };

/* The reason for a failed read or write: errno's, or EIO's when a short
 * read left errno alone. */
static const char *ioerror(void)
{
    return strerror(errno ? errno : EIO);
}

static int little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* The value of key in the header dict: a pointer just past "'key':" and its
 * blanks, or NULL. */
static const char *find_key(const char *h, const char *key)
{
    char q1[40], q2[40];
    snprintf(q1, sizeof q1, "'%s'", key);
    snprintf(q2, sizeof q2, "\"%s\"", key);
    const char *p = strstr(h, q1);
    if (!p) p = strstr(h, q2);
    if (!p) return NULL;
    p += strlen(q1);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

/* The header is a Python literal in ASCII (numpy writes nothing else for
 * the dtypes read here). Checking that before parsing means no message
 * built from it can carry raw bytes of a damaged file to a terminal. */
static dl_status check_text(const char *h, size_t n, char *msg, size_t msglen)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)h[k];
        if ((c < 0x20 || c > 0x7e) && c != '\n' && c != '\t')
            return dl_fail(DL_EFORMAT, msg, msglen, "malformed header (byte 0x%02x at "
                           "offset %zu is not ASCII text; damaged file?)", c, k);
    }
    return DL_OK;
}

static dl_status parse_header(const char *h, npy_info *info, char *msg, size_t msglen)
{
    const char *p = find_key(h, "descr");
    if (!p || (*p != '\'' && *p != '"'))
        return dl_fail(DL_EFORMAT, msg, msglen,
                       "unsupported dtype (structured arrays cannot become a matrix)");
    char quote = *p++;
    size_t n = 0;
    while (p[n] && p[n] != quote && n + 1 < sizeof info->descr) n++;
    if (p[n] != quote)
        return dl_fail(DL_EFORMAT, msg, msglen, "malformed header (descr)");
    memcpy(info->descr, p, n);
    info->descr[n] = '\0';
    char order = info->descr[0], kind = info->descr[1];
    int size = atoi(info->descr + 2);
    int ok = n >= 3 && (order == '<' || order == '>' || order == '|' || order == '=')
          && ((kind == 'f' && (size == 4 || size == 8))
              || ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8))
              || (kind == 'b' && size == 1));
    if (!ok) {
        return dl_fail(DL_EFORMAT, msg, msglen, "unsupported dtype '%s' (float32/64, integers "
                       "and bool are read)", info->descr);
    }
    info->kind = kind;
    info->itemsize = size;
    info->swap = size > 1 && ((order == '>') == little_endian());

    p = find_key(h, "fortran_order");
    if (!p || (strncmp(p, "True", 4) && strncmp(p, "False", 5)))
        return dl_fail(DL_EFORMAT, msg, msglen, "malformed header (fortran_order)");
    info->fortran = *p == 'T';

    p = find_key(h, "shape");
    if (!p || *p != '(')
        return dl_fail(DL_EFORMAT, msg, msglen, "malformed header (shape)");
    p++;
    long long dims[32];
    int nd = 0;
    for (;;) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')')
            break;
        char *end;
        errno = 0;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || errno || nd == 32)
            return dl_fail(DL_EFORMAT, msg, msglen, "malformed header (shape)");
        dims[nd++] = d;
        p = end;
        while (*p == 'L') p++;   /* Python 2 longs */
    }
    long long rows = nd ? dims[0] : 1, cols = 1;
    for (int k = 1; k < nd; k++) {
        if (dims[k] && cols > MAT_MAX_DIM / dims[k])
            cols = (long long)MAT_MAX_DIM + 1;
        else
            cols *= dims[k];
    }
    if (rows > MAT_MAX_DIM || cols > MAT_MAX_DIM
        || (rows && cols && !mat_bytes((int)rows, (int)cols)))
        return dl_fail(DL_EFORMAT, msg, msglen, "array too large for a matrix");
    if (info->fortran && nd > 2)
        return dl_fail(DL_EFORMAT, msg, msglen,
                    "Fortran-order arrays of more than 2 dimensions are not supported "
                    "(save numpy.ascontiguousarray(a) instead)");
    info->rows = (int)rows;
    info->cols = (int)cols;
    return DL_OK;
}

dl_status npy_read_header(const char *path, npy_info *info, char *msg, size_t msglen)
{
    memset(info, 0, sizeof *info);
    FILE *f = fopen(path, "rb");
    if (!f)
        return dl_fail(DL_EIO, msg, msglen, "%s", ioerror());
    unsigned char pre[12];
    dl_status s = DL_OK;
    char *h = NULL;
    size_t got = fread(pre, 1, 10, f);
    if (ferror(f)) {
        s = dl_fail(DL_EIO, msg, msglen, "%s", ioerror());
        goto done;
    }
    if (got < 10 || memcmp(pre, magic, 6) != 0) {
        s = dl_fail(DL_EFORMAT, msg, msglen, "not an NPY file (no \\x93NUMPY magic)");
        goto done;
    }
    if (pre[6] < 1 || pre[6] > 3) {
        s = dl_fail(DL_EFORMAT, msg, msglen, "unsupported NPY version");
        goto done;
    }
    unsigned long hlen = pre[8] | (unsigned long)pre[9] << 8;
    long start = 10;
    if (pre[6] >= 2) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            s = dl_fail(DL_EFORMAT, msg, msglen, "truncated NPY header");
            goto done;
        }
        hlen |= (unsigned long)pre[10] << 16 | (unsigned long)pre[11] << 24;
        start = 12;
    }
    if (hlen > NPY_HEADER_MAX) {
        s = dl_fail(DL_EFORMAT, msg, msglen, "NPY header of %lu bytes is longer than %d "
                    "(damaged file?)", hlen, NPY_HEADER_MAX);
        goto done;
    }
    h = malloc(hlen + 1);
    if (!h) {
        s = DL_ENOMEM;
        goto done;
    }
    if (fread(h, 1, hlen, f) != hlen) {
        s = dl_fail(DL_EFORMAT, msg, msglen, "truncated NPY header");
        goto done;
    }
    h[hlen] = '\0';
    if ((s = check_text(h, hlen, msg, msglen)) != DL_OK
        || (s = parse_header(h, info, msg, msglen)) != DL_OK)
        goto done;
    info->offset = start + (long)hlen;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        s = dl_fail(DL_EIO, msg, msglen, "%s", ioerror());
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        s = dl_fail(DL_EFORMAT, msg, msglen, "is a pipe or a device, not a regular file: the "
                    "reader needs its length and reads it twice (save it to a file first)");
        goto done;
    }
    double need = (double)info->rows * info->cols * info->itemsize;
    if ((double)st.st_size - info->offset < need) {
        s = dl_fail(DL_EFORMAT, msg, msglen, "file is shorter than its header says "
                    "(truncated?)");
        goto done;
    }
done:
    free(h);
    fclose(f);
    return s;
}

/* One element at p, in the file's byte order and type, as a float. */
static float element(const unsigned char *p, const npy_info *info)
{
    unsigned char b[8];
    for (int k = 0; k < info->itemsize; k++)
        b[k] = info->swap ? p[info->itemsize - 1 - k] : p[k];
    switch (info->kind * 16 + info->itemsize) {
    case 'f' * 16 + 4: { float v; memcpy(&v, b, 4); return v; }
    case 'f' * 16 + 8: { double v; memcpy(&v, b, 8); return (float)v; }
    case 'i' * 16 + 1: return (float)(int8_t)b[0];
    case 'i' * 16 + 2: { int16_t v; memcpy(&v, b, 2); return (float)v; }
    case 'i' * 16 + 4: { int32_t v; memcpy(&v, b, 4); return (float)v; }
    case 'i' * 16 + 8: { int64_t v; memcpy(&v, b, 8); return (float)v; }
    case 'u' * 16 + 2: { uint16_t v; memcpy(&v, b, 2); return (float)v; }
    case 'u' * 16 + 4: { uint32_t v; memcpy(&v, b, 4); return (float)v; }
    case 'u' * 16 + 8: { uint64_t v; memcpy(&v, b, 8); return (float)v; }
    default:           return (float)b[0];   /* u1, b1 */
    }
}

dl_status npy_read_data(const char *path, const npy_info *info, mat m,
                        char *msg, size_t msglen)
{
    if (m.rows != info->rows || m.cols != info->cols)
        return DL_ESHAPE;
    size_t total = mat_size(m), chunk = total < (1 << 16) ? (total ? total : 1) : 1 << 16;
    unsigned char *buf = malloc(chunk * (size_t)info->itemsize);
    if (!buf)
        return DL_ENOMEM;
    FILE *f = fopen(path, "rb");
    dl_status s = DL_OK;
    if (!f || fseek(f, info->offset, SEEK_SET) != 0) {
        s = dl_fail(DL_EIO, msg, msglen, "%s", ioerror());
        goto done;
    }
    /* The common case, native float32 in C order: straight into the rows. */
    if (info->kind == 'f' && info->itemsize == 4 && !info->swap && !info->fortran) {
        int whole = mat_contiguous(m);       /* one read for the whole matrix */
        size_t n = whole ? total : (size_t)m.cols;
        for (int i = 0; i < (whole ? (total > 0) : m.rows); i++)
            if (fread(mat_at(m, i, 0), sizeof(float), n, f) != n) {
                s = ferror(f) ? dl_fail(DL_EIO, msg, msglen, "%s", ioerror())
                              : dl_fail(DL_EFORMAT, msg, msglen, "file ended early "
                                        "(truncated?)");
                goto done;
            }
        goto done;
    }
    /* Otherwise element by element: the file's k-th element goes to (i, j),
     * walking along a row in C order and down a column in Fortran order. */
    int i = 0, j = 0;
    for (size_t k0 = 0; k0 < total; k0 += chunk) {
        size_t n = total - k0 < chunk ? total - k0 : chunk;
        if (fread(buf, (size_t)info->itemsize, n, f) != n) {
            s = ferror(f) ? dl_fail(DL_EIO, msg, msglen, "%s", ioerror())
                          : dl_fail(DL_EFORMAT, msg, msglen, "file ended early (truncated?)");
            goto done;
        }
        for (size_t t = 0; t < n; t++) {
            *mat_at(m, i, j) = element(buf + t * info->itemsize, info);
            if (info->fortran) {
                if (++i == m.rows) i = 0, j++;
            } else if (++j == m.cols) {
                j = 0, i++;
            }
        }
    }
done:
    if (f)
        fclose(f);
    free(buf);
    return s;
}

/* Header for a 2-D little-endian C-order array, padded to 64 bytes in total. */
static size_t make_header(char *h, size_t size, int rows, int cols, int fp64)
{
    int n = snprintf(h + 10, size - 10,
                     "{'descr': '<f%d', 'fortran_order': False, 'shape': (%d, %d), }",
                     fp64 ? 8 : 4, rows, cols);
    size_t total = 10 + (size_t)n + 1;
    total = (total + 63) / 64 * 64;
    memset(h + 10 + n, ' ', total - 10 - (size_t)n - 1);
    h[total - 1] = '\n';
    memcpy(h, magic, 6);
    h[6] = 1;
    h[7] = 0;
    h[8] = (char)((total - 10) & 0xff);
    h[9] = (char)((total - 10) >> 8);
    return total;
}

static int write_rows(dl_save *s, mat m, int fp64)
{
    int swap = !little_endian();
    unsigned char b[8];
    for (int i = 0; i < m.rows; i++) {
        const float *r = mat_at(m, i, 0);
        if (!fp64 && !swap) {
            size_t n = mat_contiguous(m) ? mat_size(m) : (size_t)m.cols;
            if (dl_save_write(s, r, n * sizeof(float)) != 0)
                return -1;
            if (mat_contiguous(m))
                break;                       /* written in one go */
            continue;
        }
        for (int j = 0; j < m.cols; j++) {
            double d = r[j];
            int size = fp64 ? 8 : 4;
            unsigned char raw[8];
            if (fp64) memcpy(raw, &d, 8); else memcpy(raw, &r[j], 4);
            for (int k = 0; k < size; k++) b[k] = swap ? raw[size - 1 - k] : raw[k];
            if (dl_save_write(s, b, (size_t)size) != 0)
                return -1;
        }
    }
    return 0;
}

dl_status npy_write(const char *path, mat m, int fp64, char *msg, size_t msglen)
{
    char header[192];
    size_t hlen = make_header(header, sizeof header, m.rows, m.cols, fp64);
    dl_save sv;
    dl_status s = dl_save_begin(&sv, path, msg, msglen);
    if (s != DL_OK)
        return s;
    if (dl_save_write(&sv, header, hlen) == 0)
        write_rows(&sv, m, fp64);
    return dl_save_commit(&sv, msg, msglen);   /* reports a failed write, with the path */
}
