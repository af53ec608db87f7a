/*
 * kernel_rich.c — the representations the kernel sends beside plain text
 * (kernel_rich.h): JSON strings of any bytes, base64 for pictures, a matrix
 * as an HTML table, a LaTeX trace as the notebook's MathJax takes it.
 */
#define _GNU_SOURCE
#include "kernel_rich.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string of s, with bytes that are not UTF-8 replaced by '?' (a
 * stream may hold a binary write cut in the middle of a character). */
json_t *jstr(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    char *c = malloc(n + 1);
    if (!c)
        return json_string("");
    for (size_t i = 0; i < n; i++)
        c[i] = (unsigned char)s[i] < 0x80 && s[i] != '\0' ? s[i] : '?';
    j = json_stringn(c, n);
    free(c);
    return j ? j : json_string("");
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

json_t *base64(const unsigned char *s, size_t n)
{
    size_t m = 4 * ((n + 2) / 3);
    char *out = malloc(m + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0)
                   | (i + 2 < n ? s[i + 2] : 0);
        out[o++] = B64[v >> 18 & 63];
        out[o++] = B64[v >> 12 & 63];
        out[o++] = i + 1 < n ? B64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    json_t *j = json_stringn(out, o);
    free(out);
    return j;
}

/* A matrix as an HTML table, summarised as its text form is: at most
 * SHOW rows and columns, the rest as an ellipsis. */
#define SHOW 12
json_t *matrix_html(const mat *m)
{
    size_t cap = 256 + (size_t)(SHOW + 2) * (SHOW + 2) * 40, n = 0;
    char *h = malloc(cap);
    if (!h)
        return NULL;
    int rows = m->rows < SHOW ? m->rows : SHOW, cols = m->cols < SHOW ? m->cols : SHOW;
#define PUT(...) (n += (size_t)snprintf(h + n, cap - n, __VA_ARGS__))
    PUT("<table><caption>%d&times;%d matrix</caption>", m->rows, m->cols);
    for (int i = 0; i < rows; i++) {
        PUT("<tr>");
        for (int j = 0; j < cols; j++)
            PUT("<td>%.5g</td>", (double)*mat_at(*m, i, j));
        if (cols < m->cols)
            PUT("<td>&hellip;</td>");
        PUT("</tr>");
    }
    if (rows < m->rows)
        PUT("<tr><td colspan=\"%d\">&hellip; %d more rows</td></tr>", cols + 1, m->rows - rows);
    PUT("</table>");
#undef PUT
    json_t *j = json_stringn(h, n < cap ? n : cap - 1);
    free(h);
    return j;
}

/*
 * A trace in LaTeX (net:trace{format = "latex"}) as the notebook's MathJax
 * takes it: the trace names its equations in % comment lines ("% BP1, layer
 * 2", "% BP3, BP4") before the lines they label; each name becomes the \tag
 * of the line after it, and the comments go (MathJax does not take them).
 */
json_t *trace_latex(const char *s)
{
    size_t len = strlen(s), n = 0;
    char *out = malloc(6 * len + 64);  /* each 3-byte "BPn" of a comment gives at most a 10-byte tag */
    if (!out)
        return NULL;
    char tags[4][8];
    int ntags = 0, next = 0;
    while (*s) {
        const char *eol = strchr(s, '\n');
        size_t l = eol ? (size_t)(eol - s) : strlen(s);
        if (s[0] == '%') {
            ntags = next = 0;
            for (const char *p = s; (p = strstr(p, "BP")) && p < s + l && ntags < 4; p += 2)
                if (p[2] >= '1' && p[2] <= '4')
                    snprintf(tags[ntags++], sizeof tags[0], "BP%c", p[2]);
        } else {
            size_t body = l;
            if (body >= 3 && memcmp(s + body - 3, " \\\\", 3) == 0)
                body -= 3;  /* the tag goes before the line break */
            memcpy(out + n, s, body);
            n += body;
            if (next < ntags)
                n += (size_t)sprintf(out + n, " \\tag{%s}", tags[next++]);
            memcpy(out + n, s + body, l - body);
            n += l - body;
            out[n++] = '\n';
        }
        s += l + (eol != NULL);
    }
    json_t *j = jstr(out, n);
    free(out);
    return j;
}

