/*
 * npy.h — NumPy's .npy files, so matrices move to and from numpy.
 *
 * Format (numpy.lib.format, versions 1.0–3.0): the magic "\x93NUMPY", two
 * version bytes, a little-endian header length (2 bytes in 1.0, 4 in 2.0 and
 * 3.0), then an ASCII Python dict {'descr': '<f4', 'fortran_order': False,
 * 'shape': (2, 3), } padded with spaces and ended by '\n' so that the data
 * starts at a multiple of 64 bytes, then the elements.
 *
 * Reading takes float32/64, (u)int8/16/32/64 and bool, either byte order, C or
 * Fortran order. Shapes map to matrices as: () → 1×1, (n,) → n×1 (a column,
 * like matrix{1,2,3}), (r, c) → r×c, (r, a, b, ...) → r × (a·b·...) in C
 * order (images as rows). Writing gives a 2-D little-endian float32 or
 * float64 C-order file of version 1.0, saved through dl_save (save.h): the
 * real name never holds half a file and nothing is left behind.
 *
 * Reading is two calls so that the caller can allocate the matrix in between
 * (the Lua binding puts it in a userdata): npy_read_header, then npy_read_data.
 * On failure msg (may be NULL) gets a sentence naming the problem; for DL_EIO
 * it is strerror(errno) when reading, "path: strerror(errno)" when writing.
 */
#ifndef DL_NPY_H
#define DL_NPY_H

#include "../mat.h"

/* The longest header read, in bytes: version 1.0 cannot write more, and a
 * damaged version 2.0 length (up to 4 GiB) is refused before it is read. */
#define NPY_HEADER_MAX 65535

typedef struct npy_info {
    int rows, cols;        /* the matrix the array becomes (see above) */
    int fortran;           /* elements are in column-major order */
    char kind;             /* 'f' float, 'i' signed, 'u' unsigned, 'b' bool */
    int itemsize;          /* bytes per element: 1, 2, 4 or 8 */
    int swap;              /* file byte order differs from this machine's */
    long offset;           /* where the elements start in the file */
    char descr[16];        /* the dtype string as written, e.g. "<f4" */
} npy_info;

/* Parse path's header into info, checking that the file holds all elements.
 * DL_EIO (cannot open/read), DL_EFORMAT (not NPY, a header that is not ASCII
 * text or longer than NPY_HEADER_MAX, unsupported dtype/shape, not a regular
 * file). Messages quote nothing of the file but its (checked) ASCII header. */
dl_status npy_read_header(const char *path, npy_info *info, char *msg, size_t msglen);
/* Read the elements described by info into m (info->rows × info->cols),
 * converting to float. */
dl_status npy_read_data(const char *path, const npy_info *info, mat m,
                        char *msg, size_t msglen);
/* Write m to path as float32 (fp64 == 0) or float64, atomically. */
dl_status npy_write(const char *path, mat m, int fp64, char *msg, size_t msglen);

#endif
