/* fuzz_csv.c — the CSV reader; its settings come from the input's first two
 * bytes (separator, header mode, label column), the file from the rest:
 *   byte 0: separator = ",;\t |:a\0"[b % 8], header mode = (b / 8) % 3 - 1
 *           (-1 detect, 0 none, 1 yes);
 *   byte 1: bit 7 set: no label column; else label column = (b & 15) - 8
 *           (negative counts from the end, out of range means none). */
#include "fuzz.h"
#include "../../src/core/io/csv.h"

#define MAX_ELEMENTS (1 << 22)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const char seps[] = { ',', ';', '\t', ' ', '|', ':', 'a', '\0' };
    char sep = seps[data[0] % 8];
    int header_mode = (int)((data[0] / 8) % 3) - 1;
    int label_col = (data[1] & 0x80) ? CSV_NO_LABEL : (int)(data[1] & 0x0f) - 8;
    char path[64], msg[256];
    int fd = fuzz_file(data + 2, size - 2, path, sizeof path);
    csv_info info;
    if (csv_scan(path, sep, header_mode, label_col, &info, msg, sizeof msg) == DL_OK
        && (size_t)info.rows * (size_t)info.cols <= MAX_ELEMENTS) {
        mat M;
        /* few slots, so that running out of them is explored too */
        static char names_buf[64][CSV_NAME_MAX];
        csv_names names = { names_buf, 64, 0 };
        if (mat_new(&M, info.rows, info.cols) == DL_OK) {
            csv_read_data(path, sep, &info, M, &names, msg, sizeof msg);
            mat_free(&M);
        }
    }
    close(fd);
    return 0;
}
