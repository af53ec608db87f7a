/* fuzz_cifar.c — the CIFAR-10 binary batch reader. */
#include "fuzz.h"
#include "../../src/core/io/cifar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], msg[256];
    int fd = fuzz_file(data, size, path, sizeof path);
    int n;
    if (cifar_read_header(path, &n, msg, sizeof msg) == DL_OK && n <= 64) {
        mat X, y;
        if (mat_new(&X, n, CIFAR_PIXELS) == DL_OK) {
            if (mat_new(&y, n, 1) == DL_OK) {
                cifar_read_data(path, n, X, y, msg, sizeof msg);
                mat_free(&y);
            }
            mat_free(&X);
        }
    }
    close(fd);
    return 0;
}
