/* fuzz_idx.c — the IDX reader (MNIST's format), plain bytes. */
#include "fuzz.h"
#include "../../src/core/io/idx.h"

/* The reader checks the header against the file's length, so what it may
 * allocate is bounded by the input; this cap only keeps runs fast. */
#define MAX_ELEMENTS (1 << 22)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], msg[256];
    int fd = fuzz_file(data, size, path, sizeof path);
    idx_info info;
    if (idx_read_header(path, &info, msg, sizeof msg) == DL_OK
        && (size_t)info.rows * (size_t)info.cols <= MAX_ELEMENTS) {
        mat X;
        /* bit 1 of the length: read one item fewer (the partial-read path);
         * bit 0: scale bytes to [0, 1] */
        int rows = (size & 2) && info.rows > 0 ? info.rows - 1 : info.rows;
        if (mat_new(&X, rows, info.cols) == DL_OK) {
            idx_read_data(path, &info, X, size & 1, msg, sizeof msg);
            mat_free(&X);
        }
    }
    close(fd);
    return 0;
}
