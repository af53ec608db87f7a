/*
 * idx.h — IDX files (MNIST's format), plain or gzip-compressed.
 *
 * A big-endian header 00 00 tt nn (element type tt, nn dimensions), nn
 * 32-bit sizes, then the elements. Reading is two calls so that the caller
 * owns the matrix: idx_read_header checks the header against the file's
 * length (nothing is allocated from an unchecked size), the caller allocates
 * what the info asks for, idx_read_data fills it. Messages name no path; the
 * caller prefixes it.
 */
#ifndef DL_IO_IDX_H
#define DL_IO_IDX_H

#include "../mat.h"

#define IDX_MAX_DIMS 8

/* IDX element types (third byte of the magic word). */
enum {
    IDX_U8 = 0x08, IDX_I8 = 0x09, IDX_I16 = 0x0B, IDX_I32 = 0x0C,
    IDX_F32 = 0x0D, IDX_F64 = 0x0E
};

typedef struct idx_info {
    int type;                /* element type, IDX_U8 .. IDX_F64 */
    int elsize;              /* bytes per element: 1, 2, 4 or 8 */
    int ndim;                /* number of dimensions, 1 .. IDX_MAX_DIMS */
    int dims[IDX_MAX_DIMS];  /* dims[0] = number of items, then item shape */
    int rows, cols;          /* as a matrix: dims[0] × product of the rest (1 if 1-D) */
    int gz;                  /* 1 when the file is gzip-compressed */
} idx_info;

/* Read and check the header of an IDX file: magic, type, dimensions, and
 * that the (uncompressed) length is exactly header + elements. */
dl_status idx_read_header(const char *path, idx_info *info, char *msg, size_t msglen);
/* Read the elements of the file described by info into X (info->rows ×
 * info->cols, or fewer rows to read only the first items); with scale,
 * unsigned bytes become byte/255 (fp32, in [0, 1]). */
dl_status idx_read_data(const char *path, const idx_info *info, mat X, int scale,
                        char *msg, size_t msglen);

#endif
