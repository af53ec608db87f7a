/* csv.c — CSV files of numbers, plain or gzip (see csv.h). */
#include "csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

typedef struct lines {
    source src;
    char *chunk;         /* read buffer: a 64 KB chunk, or the file's length */
    size_t size;
    size_t pos, end;     /* unread bytes of chunk */
    int eof;
    char *line;          /* the current line, NUL-terminated, no newline */
    size_t len, cap;
    long lineno;         /* 1-based number of the current line */
} lines;

static dl_status lines_open(lines **out, const char *path, char *msg, size_t msglen)
{
    lines *l = calloc(1, sizeof *l);
    if (!l)
        return dl_fail(DL_ENOMEM, msg, msglen, "not enough memory");
    dl_status st = source_open(&l->src, path, msg, msglen);
    if (st) {
        free(l);
        return st;
    }
    /* a plain file needs no more than its length; gzip output, a chunk */
    l->size = SOURCE_CHUNK;
    if (l->src.regular && !l->src.compressed && l->src.length < SOURCE_CHUNK)
        l->size = l->src.length ? (size_t)l->src.length : 1;
    l->chunk = malloc(l->size);
    if (!l->chunk) {
        source_close(&l->src);
        free(l);
        return dl_fail(DL_ENOMEM, msg, msglen, "not enough memory");
    }
    *out = l;
    return DL_OK;
}

static void lines_close(lines *l)
{
    if (!l)
        return;
    source_close(&l->src);
    free(l->chunk);
    free(l->line);
    free(l);
}

/* Next line into l->line: 1 when there is one, 0 at the end, -1 on error. */
static int lines_next(lines *l, dl_status *st, char *msg, size_t msglen)
{
    l->len = 0;
    int any = 0;
    for (;;) {
        if (l->pos == l->end) {
            if (l->eof)
                break;
            int r = gzread(l->src.gz, l->chunk, (unsigned)l->size);
            if (r < 0) {
                *st = dl_fail(DL_EIO, msg, msglen, "line %ld: read error: %s", l->lineno + 1,
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
        if (l->len + n > CSV_LINE_MAX) {
            *st = dl_fail(DL_EFORMAT, msg, msglen, "line %ld is longer than %d bytes (not a "
                          "text file?)", l->lineno + 1, CSV_LINE_MAX);
            return -1;
        }
        if (l->len + n + 1 > l->cap) {
            size_t cap = l->cap ? l->cap : 256;
            while (cap < l->len + n + 1)
                cap *= 2;
            char *p = realloc(l->line, cap);
            if (!p) {
                *st = dl_fail(DL_ENOMEM, msg, msglen, "line %ld: not enough memory",
                              l->lineno + 1);
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

/* A separator the line splitter can work with: a NUL would match the end of
 * every line (no field would ever be the last), a quote or a newline would
 * change the grammar itself. */
static dl_status check_sep(char sep, char *msg, size_t msglen)
{
    if (sep == '\0' || sep == '"' || sep == '\n' || sep == '\r')
        return dl_fail(DL_EINVAL, msg, msglen, "the separator cannot be a NUL byte, a quote "
                       "or a line end (got byte %d)", (unsigned char)sep);
    return DL_OK;
}

/*
 * The header is detected from the first two lines: the first is a header
 * when some column holds text there and a number on the next line. Looking
 * at one line is not enough, since a column of class names ("Iris-setosa")
 * is text on every line. A file of one line is a header when a column other
 * than the label column holds text.
 */
dl_status csv_scan(const char *path, char sep, int header_mode, int label_col,
                   csv_info *info, char *msg, size_t msglen)
{
    lines *l;
    dl_status st = check_sep(sep, msg, msglen);
    if (!st)
        st = lines_open(&l, path, msg, msglen);
    if (st)
        return st;
    memset(info, 0, sizeof *info);
    info->header = -1;
    info->text_col = -1;
    unsigned char *first = NULL, *flags = NULL;  /* per column: is a number */
    long rows = 0;
    int r, col = -1, cols = 0;
    while ((r = lines_next(l, &st, msg, msglen)) > 0) {
        /* The first line is read (and held to the line cap, so /dev/zero
         * fails on that), the rest only from a file that can be read again. */
        if (l->lineno == 1 && (st = source_check_regular(&l->src, msg, msglen)) != DL_OK)
            break;
        if (is_blank(l->line))
            continue;
        if (!flags) {
            /* the first line: the number of columns, the label column */
            cols = field_flags(l->line, sep, NULL, 0);
            first = malloc(2 * (size_t)cols + 2);
            if (!first) {
                st = dl_fail(DL_ENOMEM, msg, msglen, "not enough memory");
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
            st = dl_fail(DL_EFORMAT, msg, msglen, "line %ld: %d field%s, expected %d (as on "
                         "the first line)", l->lineno, n, n == 1 ? "" : "s", cols);
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
            st = dl_fail(DL_EFORMAT, msg, msglen, "line %ld: too many rows", l->lineno);
            break;
        }
    }
    if (!st && !flags)
        st = dl_fail(DL_EFORMAT, msg, msglen, "no data: the file is empty");
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

/* Up to 40 bytes of a field for a message, printable: other bytes (of a
 * binary file read as CSV) become '?', and a longer field ends in "...". */
static const char *quoted(char out[48], const char *f, int long_field)
{
    size_t n = 0;
    for (; f[n] && n < 40; n++)
        out[n] = f[n] >= 0x20 && f[n] < 0x7f ? f[n] : '?';
    strcpy(out + n, f[n] || long_field ? "..." : "");
    return out;
}

/* The class number of name f, adding it if new (in order of appearance). */
static int intern(csv_names *names, const char *f, int lf, long lineno, char *msg,
                  size_t msglen)
{
    if (lf || strlen(f) >= CSV_NAME_MAX) {
        char q[48];
        dl_fail(DL_EFORMAT, msg, msglen, "line %ld: class name '%s' is longer than %d "
                "characters", lineno, quoted(q, f, 1), CSV_NAME_MAX - 1);
        return -1;
    }
    for (int c = 0; c < names->n; c++)
        if (strcmp(names->name[c], f) == 0)
            return c;
    if (names->n == names->cap) {
        dl_fail(DL_EFORMAT, msg, msglen, "line %ld: more than %d distinct class names in the "
                "label column", lineno, names->cap);
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

dl_status csv_read_data(const char *path, char sep, const csv_info *info, mat M,
                        csv_names *names, char *msg, size_t msglen)
{
    if (M.rows != info->rows || M.cols != info->cols)
        return dl_fail(DL_ESHAPE, msg, msglen, "matrix is %dx%d, the file needs %dx%d", M.rows,
                       M.cols, info->rows, info->cols);
    if (info->text_col >= 0 && (!names || names->cap < 1))
        return dl_fail(DL_EINVAL, msg, msglen, "no room for the class names");
    if (names)
        names->n = 0;
    lines *l;
    dl_status st = check_sep(sep, msg, msglen);
    if (!st)
        st = lines_open(&l, path, msg, msglen);
    if (st)
        return st;
    if ((st = source_check_regular(&l->src, msg, msglen)) != DL_OK) {
        lines_close(l);
        return st;
    }
    int row = 0, skip_header = info->header, r;
    while ((r = lines_next(l, &st, msg, msglen)) > 0) {
        if (is_blank(l->line))
            continue;
        if (skip_header) {
            skip_header = 0;
            continue;
        }
        if (row >= info->rows) {
            st = dl_fail(DL_EFORMAT, msg, msglen, "the file changed while it was being read");
            break;
        }
        const char *p = l->line;
        int more = 1, col = 0, lf;
        char f[FIELD_MAX];
        while (next_field(&p, &more, sep, f, sizeof f, &lf)) {
            double v;
            if (col >= info->cols) {
                st = dl_fail(DL_EFORMAT, msg, msglen, "line %ld: more than %d fields",
                             l->lineno, info->cols);
                break;
            }
            if (col == info->text_col) {
                int c = intern(names, f, lf, l->lineno, msg, msglen);
                if (c < 0) {
                    st = DL_EFORMAT;
                    break;
                }
                v = c;
            } else if (lf || !parse_number(f, &v)) {
                char q[48];
                st = dl_fail(DL_EFORMAT, msg, msglen, "line %ld: column %d: '%s' is not a "
                             "number", l->lineno, col + 1, quoted(q, f, lf));
                break;
            }
            *mat_at(M, row, col++) = (float)v;
        }
        if (st)
            break;
        if (col != info->cols) {
            st = dl_fail(DL_EFORMAT, msg, msglen, "line %ld: %d fields, expected %d",
                         l->lineno, col, info->cols);
            break;
        }
        row++;
    }
    if (!st && row != info->rows)
        st = dl_fail(DL_EFORMAT, msg, msglen, "the file changed while it was being read");
    if (!st && info->text_col >= 0)
        st = sort_names(names, M, info->text_col);
    if (st == DL_ENOMEM)
        dl_fail(st, msg, msglen, "not enough memory");
    lines_close(l);
    return st;
}

