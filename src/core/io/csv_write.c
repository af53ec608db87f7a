/*
 * csv_write.c — a matrix as a CSV file (see csv_write.h); the reader is csv.c.
 */
#include "csv_write.h"
#include "../save.h"

#include <math.h>
#include <stdio.h>

/* One element: "%.9g" reads back as the same float32; NaN without the sign
 * that printf would show ("-nan" is not a number to most readers). */
static int put_number(FILE *f, float x)
{
    if (isnan(x))
        return fputs("nan", f);
    if (isinf(x))
        return fputs(x > 0 ? "inf" : "-inf", f);
    return fprintf(f, "%.9g", (double)x);
}

dl_status csv_write(const char *path, mat m, char *msg, size_t msglen)
{
    dl_save s;
    dl_status st = dl_save_begin(&s, path, msg, msglen);
    if (st != DL_OK)
        return st;
    int bad = 0;
    for (int i = 0; i < m.rows && !bad; i++) {
        for (int j = 0; j < m.cols && !bad; j++)
            bad = (j && fputc(',', s.f) == EOF) || put_number(s.f, *mat_at(m, i, j)) < 0;
        bad = bad || fputc('\n', s.f) == EOF;
    }
    /* a failed write is reported by commit, with the reason (ENOSPC ...) */
    return dl_save_commit(&s, msg, msglen);
}
