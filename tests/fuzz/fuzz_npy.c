/* fuzz_npy.c — the NumPy .npy reader. */
#include "fuzz.h"
#include "../../src/core/io/npy.h"

#define MAX_ELEMENTS (1 << 22)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], msg[256];
    int fd = fuzz_file(data, size, path, sizeof path);
    npy_info info;
    if (npy_read_header(path, &info, msg, sizeof msg) == DL_OK
        && (size_t)info.rows * (size_t)info.cols <= MAX_ELEMENTS) {
        mat m;
        if (mat_new(&m, info.rows, info.cols) == DL_OK) {
            npy_read_data(path, &info, m, msg, sizeof msg);
            mat_free(&m);
        }
    }
    close(fd);
    return 0;
}
