/*
 * csv_write.h — a matrix as a CSV file of numbers: one line per row, fields
 * separated by ',', no header. Each element is written with 9 significant
 * digits, enough for every float32 to read back exactly; NaN and infinities
 * as nan, inf and -inf, which csv.h, numpy.loadtxt and strtod all read.
 */
#ifndef DL_IO_CSV_WRITE_H
#define DL_IO_CSV_WRITE_H

#include "../mat.h"

/* Write m to path through dl_save (so path holds the old contents or all the
 * new ones). DL_EIO with msg naming the reason. */
dl_status csv_write(const char *path, mat m, char *msg, size_t msglen);

#endif
