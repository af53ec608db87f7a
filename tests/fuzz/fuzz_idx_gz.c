/* fuzz_idx_gz.c — the IDX reader through its gzip path: the input is
 * gzip-compressed here, so the fuzzer explores IDX headers and bodies that
 * arrive through inflate (a second stream variant of the input's first byte
 * also feeds raw, possibly corrupt, gzip bytes). */
#include "fuzz.h"
#include "../../src/core/io/idx.h"

#include <string.h>
#include <zlib.h>

#define MAX_ELEMENTS (1 << 22)

/* gzip(data) into a malloc'd buffer (*outlen bytes), or NULL. */
static uint8_t *gzip_bytes(const uint8_t *data, size_t size, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&z, (uLong)size) + 32;
    uint8_t *out = malloc(cap);
    if (out) {
        z.next_in = (Bytef *)data;
        z.avail_in = (uInt)size;
        z.next_out = out;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
            free(out);
            out = NULL;
        }
    }
    *outlen = z.total_out;
    deflateEnd(&z);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1 << 20))
        return 0;
    int raw = data[0] == 0x1f;  /* the input is itself the gzip stream */
    size_t len = size - 1;
    uint8_t *gz = raw ? NULL : gzip_bytes(data + 1, size - 1, &len);
    if (!raw && !gz)
        return 0;
    char path[64], msg[256];
    int fd = fuzz_file(raw ? data : gz, raw ? size : len, path, sizeof path);
    idx_info info;
    if (idx_read_header(path, &info, msg, sizeof msg) == DL_OK
        && (size_t)info.rows * (size_t)info.cols <= MAX_ELEMENTS) {
        mat X;
        if (mat_new(&X, info.rows, info.cols) == DL_OK) {
            idx_read_data(path, &info, X, 1, msg, sizeof msg);
            mat_free(&X);
        }
    }
    close(fd);
    free(gz);
    return 0;
}
