/*
 * csv.h — CSV files of numbers, plain or gzip-compressed; the label column
 * may hold class names.
 *
 * Fields are separated by one character (',' or another), may be quoted
 * ("" inside quotes is one quote), and lines end in \n or \r\n. Two passes,
 * so that the caller owns every buffer: csv_scan counts rows and fields and
 * decides on the header, the caller allocates, csv_read_data parses. Messages
 * name the line and column but not the path, which the caller prefixes.
 */
#ifndef DL_IO_CSV_H
#define DL_IO_CSV_H

#include "../mat.h"

/* The longest line read, in bytes: a longer one is an error, so an endless
 * input without newlines (/dev/zero, a binary file) fails after reading this
 * much instead of growing a buffer until memory runs out. */
#define CSV_LINE_MAX (1 << 20)

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

/* Scan a CSV file: count rows and fields, check that every line has as many
 * fields as the first, and decide on the header (header_mode -1: detect —
 * the first line is a header when a column holds text there and a number on
 * the next line; 0: none; 1: yes). label_col (0-based, or negative from the
 * end: -1 is the last; anything out of range means none) is the label
 * column: when one of its fields is not a number, info->text_col says it
 * holds class names. */
dl_status csv_scan(const char *path, char sep, int header_mode, int label_col,
                   csv_info *info, char *msg, size_t msglen);
/* Parse every field as a number into M (info->rows × info->cols); a field
 * that is not a number is reported with its line and column. The text
 * column, if any, gets class numbers instead: the distinct names sorted
 * (byte order) into names, and each row the position of its name. */
dl_status csv_read_data(const char *path, char sep, const csv_info *info, mat M,
                        csv_names *names, char *msg, size_t msglen);

#endif
