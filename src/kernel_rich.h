/*
 * kernel_rich.h — the kernel's representations beside text/plain.
 */
#ifndef KERNEL_RICH_H
#define KERNEL_RICH_H

#include <stddef.h>
#include <jansson.h>

#include "core/mat.h"

/* A JSON string of s (n bytes), with bytes that are not UTF-8 replaced by '?'. */
json_t *jstr(const char *s, size_t n);
/* The base64 text of n bytes, as a JSON string (NULL when out of memory). */
json_t *base64(const unsigned char *s, size_t n);
/* m as an HTML table, summarised as its text form is. */
json_t *matrix_html(const mat *m);
/* A net:trace in LaTeX with its % names as \tag{BPn} of the lines they label. */
json_t *trace_latex(const char *s);

#endif
