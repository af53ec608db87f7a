/* data.c — dataset loaders, row operations and toy generators (see data.h). */
#include "data.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "rng.h"

#define CHUNK 65536

/* deflate never expands more than 1032:1, so a gzip file of c bytes cannot
 * hold more than this many; it bounds what a header may ask us to allocate. */
#define GZ_MAX_RATIO 1032u

static dl_status fail(char *err, dl_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, DATA_ERRLEN, fmt, ap);
    va_end(ap);
    return s;
}

/* ------------------------------------------------------------------------ */
/* Sources: a plain or gzip file read through zlib, which passes plain files
 * through unchanged. We look at the magic bytes ourselves to know which, and
 * read the gzip trailer for the uncompressed length (mod 2^32). */

typedef struct source {
    gzFile gz;
    int compressed;      /* magic 1f 8b */
    uint64_t length;     /* bytes in the file as stored */
    uint64_t isize;      /* gzip trailer: uncompressed bytes mod 2^32 */
} source;

static dl_status source_open(source *s, const char *path, char *err)
{
    memset(s, 0, sizeof *s);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return fail(err, DL_EIO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return fail(err, DL_EIO, "cannot read: %s", strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return fail(err, DL_EIO, "is a directory, not a file");
    }
    s->length = (uint64_t)st.st_size;
    unsigned char b[4];
    if (s->length >= 2 && pread(fd, b, 2, 0) == 2 && b[0] == 0x1f && b[1] == 0x8b) {
        s->compressed = 1;
        if (s->length < 18 || pread(fd, b, 4, (off_t)s->length - 4) != 4) {
            close(fd);
            return fail(err, DL_EFORMAT, "damaged gzip file (%llu bytes, too short)",
                        (unsigned long long)s->length);
        }
        s->isize = (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16
                 | (uint64_t)b[3] << 24;
    }
    s->gz = gzdopen(fd, "rb");
    if (!s->gz) {
        close(fd);
        return fail(err, DL_ENOMEM, "not enough memory to open it");
    }
    gzbuffer(s->gz, 1u << 17);
    return DL_OK;
}

static void source_close(source *s)
{
    if (s->gz)
        gzclose(s->gz);
    s->gz = NULL;
}

/* Read up to n bytes; returns how many were read (fewer at the end of the
 * data or on an error, which source_error then describes). */
static size_t source_read(source *s, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got > (1u << 30) ? (1u << 30) : n - got;
        int r = gzread(s->gz, (char *)buf + got, (unsigned)want);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* zlib's reason for a short read, or "" when the data simply ended. */
static const char *source_error(source *s)
{
    int code = Z_OK;
    const char *msg = gzerror(s->gz, &code);
    if (code == Z_OK || !msg)
        return "";
    /* zlib names a gzdopen'ed file "<fd:3>"; the caller names the path. */
    if (strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ">: "))
        msg = strstr(msg, ">: ") + 3;
    return msg;
}

/* The data must end exactly here: reading on also makes zlib check the gzip
 * CRC, which it only does at the end of the stream. */
static dl_status source_expect_end(source *s, char *err)
{
    unsigned char b;
    int r = gzread(s->gz, &b, 1);
    if (r > 0)
        return fail(err, DL_EFORMAT, "more data than the header says");
    if (r < 0)
        return fail(err, DL_EFORMAT, "damaged: %s", source_error(s));
    return DL_OK;
}

/* Check that a source holds exactly `need` uncompressed bytes; what describes
 * the content for the message (e.g. "60000x28x28 unsigned bytes"). */
static dl_status source_check_length(const source *s, uint64_t need, const char *what,
                                     char *err)
{
    if (!s->compressed) {
        if (s->length < need)
            return fail(err, DL_EFORMAT, "truncated: the header says %s (%llu bytes with "
                        "the header) but the file has %llu bytes", what,
                        (unsigned long long)need, (unsigned long long)s->length);
        if (s->length > need)
            return fail(err, DL_EFORMAT, "the header says %s (%llu bytes with the header) "
                        "but the file has %llu bytes", what, (unsigned long long)need,
                        (unsigned long long)s->length);
        return DL_OK;
    }
    if (need > s->length * GZ_MAX_RATIO + 1024)
        return fail(err, DL_EFORMAT, "the header says %s (%llu bytes), more than a "
                    "%llu-byte gzip file can hold (damaged header?)", what,
                    (unsigned long long)need, (unsigned long long)s->length);
    if ((need & 0xffffffffu) != s->isize)
        return fail(err, DL_EFORMAT, "truncated or damaged: the header says %s (%llu bytes "
                    "with the header) but the gzip trailer says %llu bytes uncompressed", what,
                    (unsigned long long)need, (unsigned long long)s->isize);
    return DL_OK;
}

/* byte/255 for every byte, correctly rounded to fp32 (a table, so that the
 * result is exactly byte/255 and the conversion costs one load). */
static void scale_table(float lut[256], int scale)
{
    for (int i = 0; i < 256; i++)
        lut[i] = scale ? (float)(i / 255.0) : (float)i;
}

/* ------------------------------------------------------------------------ */
/* IDX */

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

static dl_status idx_header(source *s, idx_info *info, char *err)
{
    unsigned char h[4 + 4 * IDX_MAX_DIMS];
    size_t got = source_read(s, h, 4);
    if (got < 4 && *source_error(s))
        return fail(err, DL_EFORMAT, "damaged: %s", source_error(s));
    if (got < 4)
        return fail(err, DL_EFORMAT, "too short for an IDX header (%zu bytes)", got);
    if (h[0] != 0 || h[1] != 0)
        return fail(err, DL_EFORMAT, "not an IDX file (magic 0x%08x, expected 0x000008nn)",
                    (unsigned)be32(h));
    memset(info, 0, sizeof *info);
    info->type = h[2];
    info->ndim = h[3];
    switch (info->type) {
    case IDX_U8: case IDX_I8: info->elsize = 1; break;
    case IDX_I16: info->elsize = 2; break;
    case IDX_I32: case IDX_F32: info->elsize = 4; break;
    case IDX_F64: info->elsize = 8; break;
    default:
        return fail(err, DL_EFORMAT, "not an IDX file (unknown element type 0x%02x in "
                    "magic 0x%08x)", info->type, (unsigned)be32(h));
    }
    if (info->ndim < 1 || info->ndim > IDX_MAX_DIMS)
        return fail(err, DL_EFORMAT, "IDX header gives %d dimensions (1 to %d expected)",
                    info->ndim, IDX_MAX_DIMS);
    got = source_read(s, h + 4, 4 * (size_t)info->ndim);
    if (got < 4 * (size_t)info->ndim)
        return fail(err, DL_EFORMAT, "truncated IDX header (%zu of %d bytes)", 4 + got,
                    4 + 4 * info->ndim);
    uint64_t cols = 1;
    for (int k = 0; k < info->ndim; k++) {
        uint32_t d = be32(h + 4 + 4 * k);
        if (d > MAT_MAX_DIM)
            return fail(err, DL_EFORMAT, "IDX dimension %d is %lu, too large", k + 1,
                        (unsigned long)d);
        info->dims[k] = (int)d;
        if (k > 0)
            cols *= d;
        if (cols > MAT_MAX_DIM)
            return fail(err, DL_EFORMAT, "IDX items of more than %d elements are too large",
                        MAT_MAX_DIM);
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

dl_status data_idx_info(const char *path, idx_info *info, char *err)
{
    source s;
    dl_status st = source_open(&s, path, err);
    if (st)
        return st;
    st = idx_header(&s, info, err);
    if (!st) {
        char what[128];
        idx_describe(info, what, sizeof what);
        info->gz = s.compressed;
        st = source_check_length(&s, idx_bytes(info), what, err);
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

dl_status data_idx_read(const char *path, const idx_info *want, mat X, int scale, char *err)
{
    if (X.rows > want->rows || X.cols != want->cols)
        return fail(err, DL_ESHAPE, "matrix is %dx%d, the file holds %dx%d", X.rows, X.cols,
                    want->rows, want->cols);
    source s;
    dl_status st = source_open(&s, path, err);
    if (st)
        return st;
    idx_info info;
    st = idx_header(&s, &info, err);
    if (!st && (info.type != want->type || info.ndim != want->ndim
                || memcmp(info.dims, want->dims, sizeof info.dims) != 0))
        st = fail(err, DL_EFORMAT, "the file changed while it was being read");
    unsigned char *buf = NULL;
    float *tmp = NULL;
    if (!st) {
        buf = malloc(CHUNK);
        tmp = malloc(CHUNK * sizeof(float));
        if (!buf || !tmp)
            st = fail(err, DL_ENOMEM, "not enough memory");
    }
    if (!st) {
        float lut[256];
        scale_table(lut, scale && info.type == IDX_U8);
        size_t total = (size_t)X.rows * info.cols, done = 0;
        size_t per = CHUNK / (size_t)info.elsize;
        int r = 0, c = 0;
        while (done < total) {
            size_t n = total - done < per ? total - done : per;
            size_t got = source_read(&s, buf, n * (size_t)info.elsize);
            if (got < n * (size_t)info.elsize) {
                const char *why = source_error(&s);
                size_t have = (done * (size_t)info.elsize + got) / ((size_t)info.elsize * info.cols);
                st = *why ? fail(err, DL_EFORMAT, "damaged after %zu of %d items: %s", have,
                                 info.rows, why)
                          : fail(err, DL_EFORMAT, "truncated: holds %zu of %d items", have,
                                 info.rows);
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
            st = source_expect_end(&s, err);
    }
    free(buf);
    free(tmp);
    source_close(&s);
    return st;
}

/* ------------------------------------------------------------------------ */
/* CIFAR-10 binary batches */

dl_status data_cifar_info(const char *path, int *n, char *err)
{
    source s;
    dl_status st = source_open(&s, path, err);
    if (st)
        return st;
    uint64_t len = s.compressed ? s.isize : s.length;
    if (s.compressed && len > s.length * GZ_MAX_RATIO + 1024)
        st = fail(err, DL_EFORMAT, "damaged gzip file (its trailer gives %llu bytes)",
                  (unsigned long long)len);
    else if (len == 0)
        st = fail(err, DL_EFORMAT, "empty file, no CIFAR-10 records");
    else if (len % CIFAR_RECORD != 0)
        st = fail(err, DL_EFORMAT, "%llu bytes is not a whole number of %d-byte CIFAR-10 "
                  "records (1 label byte + 3072 pixel bytes): %llu records and %llu bytes over",
                  (unsigned long long)len, CIFAR_RECORD,
                  (unsigned long long)(len / CIFAR_RECORD),
                  (unsigned long long)(len % CIFAR_RECORD));
    else if (len / CIFAR_RECORD > MAT_MAX_DIM)
        st = fail(err, DL_EFORMAT, "too many records (%llu)",
                  (unsigned long long)(len / CIFAR_RECORD));
    else
        *n = (int)(len / CIFAR_RECORD);
    source_close(&s);
    return st;
}

dl_status data_cifar_read(const char *path, int n, mat X, mat y, char *err)
{
    if (X.rows != n || X.cols != CIFAR_PIXELS || y.rows != n || y.cols != 1)
        return fail(err, DL_ESHAPE, "matrices are %dx%d and %dx%d, %d records need %dx%d "
                    "and %dx1", X.rows, X.cols, y.rows, y.cols, n, n, CIFAR_PIXELS, n);
    source s;
    dl_status st = source_open(&s, path, err);
    if (st)
        return st;
    enum { PER = CHUNK / CIFAR_RECORD };
    unsigned char *buf = malloc((size_t)PER * CIFAR_RECORD);
    if (!buf)
        st = fail(err, DL_ENOMEM, "not enough memory");
    float lut[256];
    scale_table(lut, 1);
    for (int i = 0; !st && i < n; i += PER) {
        int m = n - i < PER ? n - i : PER;
        size_t got = source_read(&s, buf, (size_t)m * CIFAR_RECORD);
        if (got < (size_t)m * CIFAR_RECORD) {
            const char *why = source_error(&s);
            size_t have = i + got / CIFAR_RECORD;
            st = *why ? fail(err, DL_EFORMAT, "damaged after %zu of %d records: %s", have, n,
                             why)
                      : fail(err, DL_EFORMAT, "truncated: holds %zu of %d records", have, n);
            break;
        }
        for (int k = 0; k < m; k++) {
            const unsigned char *rec = buf + (size_t)k * CIFAR_RECORD;
            if (rec[0] > 9) {
                st = fail(err, DL_EFORMAT, "record %d: label %d is not a CIFAR-10 class "
                          "(0..9)", i + k + 1, rec[0]);
                break;
            }
            *mat_at(y, i + k, 0) = (float)rec[0];
            float *row = mat_at(X, i + k, 0);
            for (int j = 0; j < CIFAR_PIXELS; j++)
                row[j] = lut[rec[1 + j]];
        }
    }
    if (!st)
        st = source_expect_end(&s, err);
    free(buf);
    source_close(&s);
    return st;
}

/* ------------------------------------------------------------------------ */
/* CSV */

typedef struct lines {
    source src;
    char chunk[CHUNK];
    size_t pos, end;     /* unread bytes of chunk */
    int eof;
    char *line;          /* the current line, NUL-terminated, no newline */
    size_t len, cap;
    long lineno;         /* 1-based number of the current line */
} lines;

static dl_status lines_open(lines **out, const char *path, char *err)
{
    lines *l = calloc(1, sizeof *l);
    if (!l)
        return fail(err, DL_ENOMEM, "not enough memory");
    dl_status st = source_open(&l->src, path, err);
    if (st) {
        free(l);
        return st;
    }
    *out = l;
    return DL_OK;
}

static void lines_close(lines *l)
{
    if (!l)
        return;
    source_close(&l->src);
    free(l->line);
    free(l);
}

/* Next line into l->line: 1 when there is one, 0 at the end, -1 on error. */
static int lines_next(lines *l, dl_status *st, char *err)
{
    l->len = 0;
    int any = 0;
    for (;;) {
        if (l->pos == l->end) {
            if (l->eof)
                break;
            int r = gzread(l->src.gz, l->chunk, sizeof l->chunk);
            if (r < 0) {
                *st = fail(err, DL_EIO, "line %ld: read error: %s", l->lineno + 1,
                           source_error(&l->src));
                return -1;
            }
            if (r == 0) {
                l->eof = 1;
                break;
            }
            l->pos = 0;
            l->end = (size_t)r;
        }
        any = 1;
        char *start = l->chunk + l->pos;
        char *nl = memchr(start, '\n', l->end - l->pos);
        size_t n = nl ? (size_t)(nl - start) : l->end - l->pos;
        if (l->len + n + 1 > l->cap) {
            size_t cap = l->cap ? l->cap : 256;
            while (cap < l->len + n + 1)
                cap *= 2;
            char *p = realloc(l->line, cap);
            if (!p) {
                *st = fail(err, DL_ENOMEM, "line %ld: not enough memory", l->lineno + 1);
                return -1;
            }
            l->line = p;
            l->cap = cap;
        }
        memcpy(l->line + l->len, start, n);
        l->len += n;
        l->pos += n + (nl ? 1 : 0);
        if (nl)
            break;
    }
    if (!any)
        return 0;
    if (l->len && l->line[l->len - 1] == '\r')
        l->len--;
    l->line[l->len] = '\0';
    l->lineno++;
    return 1;
}

static int is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return 0;
    return 1;
}

/* Next field of a line starting at *p, into out (at most cap-1 bytes, the
 * rest dropped and *long_field set). Double quotes group a field, "" inside
 * quotes is one quote. Returns 0 when the line has no more fields. */
static int next_field(const char **p, int *more, char sep, char *out, size_t cap,
                      int *long_field)
{
    if (!*more)
        return 0;
    const char *s = *p;
    size_t n = 0;
    *long_field = 0;
    while (*s == ' ' || (*s == '\t' && sep != '\t'))
        s++;
    if (*s == '"') {
        s++;
        while (*s) {
            if (*s == '"') {
                if (s[1] == '"')
                    s++;
                else {
                    s++;
                    break;
                }
            }
            if (n + 1 < cap) out[n++] = *s; else *long_field = 1;
            s++;
        }
        while (*s && *s != sep)
            s++;  /* text after the closing quote is ignored */
    } else {
        while (*s && *s != sep) {
            if (n + 1 < cap) out[n++] = *s; else *long_field = 1;
            s++;
        }
    }
    while (n && (out[n - 1] == ' ' || out[n - 1] == '\t'))
        n--;
    out[n] = '\0';
    *more = *s == sep;
    *p = *s ? s + 1 : s;
    return 1;
}

/* Parse a whole field as a number. */
static int parse_number(const char *s, double *v)
{
    if (!*s)
        return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && end != s;
}

#define FIELD_MAX 128

/* Number of fields of a line; flags[j] (for j < cap) = field j is a number. */
static int field_flags(const char *line, char sep, unsigned char *flags, int cap)
{
    const char *p = line;
    int more = 1, n = 0, lf;
    char f[FIELD_MAX];
    double v;
    while (next_field(&p, &more, sep, f, sizeof f, &lf)) {
        if (n < cap)
            flags[n] = !lf && parse_number(f, &v);
        n++;
    }
    return n;
}

/*
 * The header is detected from the first two lines: the first is a header
 * when some column holds text there and a number on the next line. Looking
 * at one line is not enough, since a column of class names ("Iris-setosa")
 * is text on every line. A file of one line is a header when a column other
 * than the label column holds text.
 */
dl_status data_csv_info(const char *path, char sep, int header_mode, int label_col,
                        csv_info *info, char *err)
{
    lines *l;
    dl_status st = lines_open(&l, path, err);
    if (st)
        return st;
    memset(info, 0, sizeof *info);
    info->header = -1;
    info->text_col = -1;
    unsigned char *first = NULL, *flags = NULL;  /* per column: is a number */
    long rows = 0;
    int r, col = -1, cols = 0;
    while ((r = lines_next(l, &st, err)) > 0) {
        if (is_blank(l->line))
            continue;
        if (!flags) {
            /* the first line: the number of columns, the label column */
            cols = field_flags(l->line, sep, NULL, 0);
            first = malloc(2 * (size_t)cols + 2);
            if (!first) {
                st = fail(err, DL_ENOMEM, "not enough memory");
                break;
            }
            flags = first + cols + 1;
            field_flags(l->line, sep, first, cols);
            info->cols = cols;
            col = label_col < 0 ? cols + label_col : label_col;
            if (col < 0 || col >= cols)
                col = -1;
            if (header_mode >= 0)
                info->header = header_mode;
            if (info->header == 0) {
                rows++;
                if (col >= 0 && !first[col])
                    info->text_col = col;
            }
            continue;
        }
        int n = field_flags(l->line, sep, flags, cols);
        if (n != cols) {
            st = fail(err, DL_EFORMAT, "line %ld: %d field%s, expected %d (as on the first "
                      "line)", l->lineno, n, n == 1 ? "" : "s", cols);
            break;
        }
        if (info->header < 0) {
            info->header = 0;
            for (int j = 0; j < cols; j++)
                if (!first[j] && flags[j])
                    info->header = 1;
            if (!info->header) {
                rows++;
                if (col >= 0 && !first[col])
                    info->text_col = col;
            }
        }
        if (col >= 0 && !flags[col])
            info->text_col = col;
        if (++rows > MAT_MAX_DIM || (uint64_t)rows * (uint64_t)cols > (1ull << 34)) {
            st = fail(err, DL_EFORMAT, "line %ld: too many rows", l->lineno);
            break;
        }
    }
    if (!st && !flags)
        st = fail(err, DL_EFORMAT, "no data: the file is empty");
    if (!st && info->header < 0) {
        /* one line only */
        info->header = 0;
        for (int j = 0; j < cols; j++)
            if (j != col && !first[j])
                info->header = 1;
        if (!info->header) {
            rows = 1;
            if (col >= 0 && !first[col])
                info->text_col = col;
        }
    }
    info->rows = (int)rows;
    free(first);
    lines_close(l);
    return st;
}

/* The class number of name f, adding it if new (in order of appearance). */
static int intern(csv_names *names, const char *f, int lf, long lineno, char *err)
{
    if (lf || strlen(f) >= CSV_NAME_MAX) {
        fail(err, DL_EFORMAT, "line %ld: class name '%.40s...' is longer than %d characters",
             lineno, f, CSV_NAME_MAX - 1);
        return -1;
    }
    for (int c = 0; c < names->n; c++)
        if (strcmp(names->name[c], f) == 0)
            return c;
    if (names->n == names->cap) {
        fail(err, DL_EFORMAT, "line %ld: more than %d distinct class names in the label "
             "column", lineno, names->cap);
        return -1;
    }
    strcpy(names->name[names->n], f);
    return names->n++;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sort the names and renumber the column to match. */
static dl_status sort_names(csv_names *names, mat M, int col)
{
    int n = names->n;
    const char **order = malloc((n ? (size_t)n : 1) * sizeof *order);
    int *newpos = malloc((n ? (size_t)n : 1) * sizeof *newpos);
    char (*copy)[CSV_NAME_MAX] = malloc((n ? (size_t)n : 1) * CSV_NAME_MAX);
    dl_status st = order && newpos && copy ? DL_OK : DL_ENOMEM;
    if (!st) {
        for (int c = 0; c < n; c++)
            order[c] = names->name[c];
        qsort(order, (size_t)n, sizeof *order, compare_names);
        for (int k = 0; k < n; k++) {
            int old = (int)((order[k] - names->name[0]) / CSV_NAME_MAX);
            newpos[old] = k;
            memcpy(copy[k], order[k], CSV_NAME_MAX);
        }
        memcpy(names->name, copy, (size_t)n * CSV_NAME_MAX);
        for (int i = 0; i < M.rows; i++) {
            float *v = mat_at(M, i, col);
            *v = (float)newpos[(int)*v];
        }
    }
    free(order);
    free(newpos);
    free(copy);
    return st;
}

dl_status data_csv_read(const char *path, char sep, const csv_info *info, mat M,
                        csv_names *names, char *err)
{
    if (M.rows != info->rows || M.cols != info->cols)
        return fail(err, DL_ESHAPE, "matrix is %dx%d, the file needs %dx%d", M.rows, M.cols,
                    info->rows, info->cols);
    if (info->text_col >= 0 && (!names || names->cap < 1))
        return fail(err, DL_EINVAL, "no room for the class names");
    if (names)
        names->n = 0;
    lines *l;
    dl_status st = lines_open(&l, path, err);
    if (st)
        return st;
    int row = 0, skip_header = info->header, r;
    while ((r = lines_next(l, &st, err)) > 0) {
        if (is_blank(l->line))
            continue;
        if (skip_header) {
            skip_header = 0;
            continue;
        }
        if (row >= info->rows) {
            st = fail(err, DL_EFORMAT, "the file changed while it was being read");
            break;
        }
        const char *p = l->line;
        int more = 1, col = 0, lf;
        char f[FIELD_MAX];
        while (next_field(&p, &more, sep, f, sizeof f, &lf)) {
            double v;
            if (col >= info->cols) {
                st = fail(err, DL_EFORMAT, "line %ld: more than %d fields", l->lineno,
                          info->cols);
                break;
            }
            if (col == info->text_col) {
                int c = intern(names, f, lf, l->lineno, err);
                if (c < 0) {
                    st = DL_EFORMAT;
                    break;
                }
                v = c;
            } else if (lf || !parse_number(f, &v)) {
                st = fail(err, DL_EFORMAT, "line %ld: column %d: '%.40s%s' is not a number",
                          l->lineno, col + 1, f, lf || strlen(f) > 40 ? "..." : "");
                break;
            }
            *mat_at(M, row, col++) = (float)v;
        }
        if (st)
            break;
        if (col != info->cols) {
            st = fail(err, DL_EFORMAT, "line %ld: %d fields, expected %d", l->lineno, col,
                      info->cols);
            break;
        }
        row++;
    }
    if (!st && row != info->rows)
        st = fail(err, DL_EFORMAT, "the file changed while it was being read");
    if (!st && info->text_col >= 0)
        st = sort_names(names, M, info->text_col);
    if (st == DL_ENOMEM)
        fail(err, st, "not enough memory");
    lines_close(l);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Rows, labels, statistics */

dl_status data_gather_rows(mat dst, mat src, const int *idx, int n)
{
    if (dst.rows != n || dst.cols != src.cols)
        return DL_ESHAPE;
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= src.rows)
            return DL_EINVAL;
    for (int i = 0; i < n; i++)
        memcpy(mat_at(dst, i, 0), mat_at(src, idx[i], 0), (size_t)src.cols * sizeof(float));
    return DL_OK;
}

dl_status data_gather_cols(mat dst, mat src, const int *cols, int n)
{
    if (dst.rows != src.rows || dst.cols != n)
        return DL_ESHAPE;
    for (int j = 0; j < n; j++)
        if (cols[j] < 0 || cols[j] >= src.cols)
            return DL_EINVAL;
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
dl_status data_permute_rows(mat m, const int *perm)
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
    return st;
}

void data_permutation(int *perm, int n, uint64_t seed)
{
    rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < n; i++)
        perm[i] = i;
    rng_shuffle(&r, perm, n);
}

#define LABEL_MAX (1 << 24)  /* fp32 holds every integer up to here exactly */

dl_status data_check_labels(mat y, int *classes, int *bad_row)
{
    if (y.cols != 1)
        return DL_ESHAPE;
    int k = 0;
    for (int i = 0; i < y.rows; i++) {
        float v = *mat_at(y, i, 0);
        if (!(v >= 0 && v < LABEL_MAX) || v != floorf(v)) {
            *bad_row = i;
            return DL_EINVAL;
        }
        if ((int)v + 1 > k)
            k = (int)v + 1;
    }
    *classes = k;
    return DL_OK;
}

dl_status data_onehot(mat T, mat y, int *bad_row)
{
    if (y.cols != 1 || T.rows != y.rows)
        return DL_ESHAPE;
    for (int i = 0; i < y.rows; i++) {
        float v = *mat_at(y, i, 0);
        if (!(v >= 0 && v < T.cols) || v != floorf(v)) {
            *bad_row = i;
            return DL_EINVAL;
        }
    }
    mat_fill(T, 0);
    for (int i = 0; i < y.rows; i++)
        *mat_at(T, i, (int)*mat_at(y, i, 0)) = 1;
    return DL_OK;
}

void data_label_counts(mat y, int k, int *counts)
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
dl_status data_column_stats(mat mean, mat std, mat X, float min_std)
{
    int d = X.cols;
    if (mean.rows != 1 || mean.cols != d || std.rows != 1 || std.cols != d)
        return DL_ESHAPE;
    double *s = calloc(d ? (size_t)d : 1, 2 * sizeof(double));
    if (!s)
        return DL_ENOMEM;
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

void data_global_stats(mat X, double *mean, double *std)
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

dl_status data_standardize(mat X, mat mean, mat std)
{
    if (mean.rows != 1 || mean.cols != X.cols || std.rows != 1 || std.cols != X.cols)
        return DL_ESHAPE;
    const float *m = mean.data, *s = std.data;
    for (int i = 0; i < X.rows; i++) {
        float *r = mat_at(X, i, 0);
        for (int j = 0; j < X.cols; j++)
            r[j] = (r[j] - m[j]) / s[j];
    }
    return DL_OK;
}

void data_standardize_all(mat X, float mean, float std)
{
    for (int i = 0; i < X.rows; i++) {
        float *r = mat_at(X, i, 0);
        for (int j = 0; j < X.cols; j++)
            r[j] = (r[j] - mean) / std;
    }
}

/* ------------------------------------------------------------------------ */
/* Toy generators */

/* Rows of class c when n rows are split evenly over k classes (the first
 * n % k classes get one more). */
static int class_size(int n, int k, int c)
{
    return n / k + (c < n % k);
}

dl_status data_xor(mat X, mat y, float noise, uint64_t seed)
{
    if (X.cols != 2 || y.cols != 1 || y.rows != X.rows)
        return DL_ESHAPE;
    if (!(noise >= 0))
        return DL_EINVAL;
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

dl_status data_spirals(mat X, mat y, int classes, float noise, uint64_t seed)
{
    if (X.cols != 2 || y.cols != 1 || y.rows != X.rows)
        return DL_ESHAPE;
    if (classes < 1 || !(noise >= 0))
        return DL_EINVAL;
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

dl_status data_moons(mat X, mat y, float noise, uint64_t seed)
{
    if (X.cols != 2 || y.cols != 1 || y.rows != X.rows)
        return DL_ESHAPE;
    if (!(noise >= 0))
        return DL_EINVAL;
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

dl_status data_blobs(mat X, mat y, mat C, int draw_centers, float box, float spread,
                     uint64_t seed)
{
    if (C.cols != X.cols || y.cols != 1 || y.rows != X.rows)
        return DL_ESHAPE;
    if (C.rows < 1 || !(spread >= 0) || !(box >= 0))
        return DL_EINVAL;
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

dl_status data_linear(mat X, mat Y, mat w, int draw_w, float b, float noise, uint64_t seed)
{
    if (Y.cols != 1 || Y.rows != X.rows || w.rows != X.cols || w.cols != 1)
        return DL_ESHAPE;
    if (!(noise >= 0))
        return DL_EINVAL;
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
