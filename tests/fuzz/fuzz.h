/*
 * fuzz.h — what the fuzz harnesses share. Each harness defines
 * LLVMFuzzerTestOneInput for one reader of the core. The readers take a
 * path, so the input is handed to them as a file: an anonymous memory file
 * named by /proc/self/fd/N (no disk I/O, nothing left behind).
 *
 * Built with clang -fsanitize=fuzzer it is a libFuzzer target (make fuzz);
 * built with -DFUZZ_REPLAY it is a plain program that runs each file named
 * on its command line once (make test replays the kept regression inputs).
 */
#ifndef FUZZ_H
#define FUZZ_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A file holding data, named in path; its descriptor (close it after). */
static int fuzz_file(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0) {
        perror("memfd_create");
        abort();
    }
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            perror("write");
            abort();
        }
        off += (size_t)w;
    }
    snprintf(path, pathlen, "/proc/self/fd/%d", fd);
    return fd;
}

#ifdef FUZZ_REPLAY
/* Run the harness once on each file given: a crash is the failure. */
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        size_t cap = 1 << 16, n = 0;
        uint8_t *buf = malloc(cap);
        size_t r;
        while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0)
            if ((n += r) == cap)
                buf = realloc(buf, cap *= 2);
        fclose(f);
        if (!buf)
            return 1;
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
    }
    printf("%d inputs replayed\n", argc - 1);
    return 0;
}
#endif

#endif
