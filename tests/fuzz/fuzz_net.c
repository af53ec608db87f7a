/* fuzz_net.c — network checkpoints: load, then run a forward pass through
 * whatever loaded (a checkpoint that loads must describe a usable network). */
#include "fuzz.h"
#include "../../src/core/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], msg[256];
    int fd = fuzz_file(data, size, path, sizeof path);
    net *n = NULL;
    if (net_load(&n, path, msg, sizeof msg) == DL_OK && n) {
        if (n->sizes[0] <= 4096) {
            mat X = net_input(n, 2);
            if (X.data) {
                mat_fill(X, 0.5f);
                /* what loads must run: a refusal here is a reader bug */
                if (net_forward(n, X) != DL_OK)
                    abort();
            }
        }
        net_free(n);
    }
    close(fd);
    return 0;
}
