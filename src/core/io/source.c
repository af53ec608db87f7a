/* source.c — plain or gzip files as one byte stream (see source.h). */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

dl_status source_open(source *s, const char *path, char *msg, size_t msglen)
{
    memset(s, 0, sizeof *s);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return dl_fail(DL_EIO, msg, msglen, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return dl_fail(DL_EIO, msg, msglen, "cannot read: %s", strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return dl_fail(DL_EIO, msg, msglen, "is a directory, not a file");
    }
    s->regular = S_ISREG(st.st_mode);
    s->length = s->regular ? (uint64_t)st.st_size : 0;
    unsigned char b[4];
    if (s->regular && s->length >= 2 && pread(fd, b, 2, 0) == 2 && b[0] == 0x1f && b[1] == 0x8b) {
        s->compressed = 1;
        if (s->length < 18 || pread(fd, b, 4, (off_t)s->length - 4) != 4) {
            close(fd);
            return dl_fail(DL_EFORMAT, msg, msglen, "damaged gzip file (%llu bytes, too short)",
                           (unsigned long long)s->length);
        }
        s->isize = (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16
                 | (uint64_t)b[3] << 24;
    }
    s->gz = gzdopen(fd, "rb");
    if (!s->gz) {
        close(fd);
        return dl_fail(DL_ENOMEM, msg, msglen, "not enough memory to open it");
    }
    /* zlib's buffers (size in, twice that out for gzip) sized from the
     * file: 128 KB for a large one, less for a small one. */
    unsigned size = 1u << 17;
    if (s->regular && s->length < size)
        size = s->length < 4096 ? 4096 : (unsigned)s->length;
    gzbuffer(s->gz, size);
    return DL_OK;
}

void source_close(source *s)
{
    if (s->gz)
        gzclose(s->gz);
    s->gz = NULL;
}

size_t source_read(source *s, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got > (1u << 30) ? (1u << 30) : n - got;
        int r = gzread(s->gz, (char *)buf + got, (unsigned)want);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

const char *source_error(source *s)
{
    int code = Z_OK;
    const char *why = gzerror(s->gz, &code);
    if (code == Z_OK || !why)
        return "";
    /* zlib names a gzdopen'ed file "<fd:3>"; the caller names the path. */
    if (strncmp(why, "<fd:", 4) == 0 && strstr(why, ">: "))
        why = strstr(why, ">: ") + 3;
    return why;
}

dl_status source_expect_end(source *s, char *msg, size_t msglen)
{
    unsigned char b;
    int r = gzread(s->gz, &b, 1);
    if (r > 0)
        return dl_fail(DL_EFORMAT, msg, msglen, "more data than the header says");
    if (r < 0)
        return dl_fail(DL_EFORMAT, msg, msglen, "damaged: %s", source_error(s));
    return DL_OK;
}

dl_status source_check_regular(const source *s, char *msg, size_t msglen)
{
    if (!s->regular)
        return dl_fail(DL_EFORMAT, msg, msglen, "is a pipe or a device, not a regular file: "
                       "the reader needs its length and reads it twice (save it to a file "
                       "first)");
    return DL_OK;
}

int source_gz_suspect(const source *s, uint64_t need)
{
    return s->compressed && need > s->length * SOURCE_GZ_TRUST_RATIO + SOURCE_GZ_TRUST_SLACK;
}

dl_status source_count(source *s, uint64_t need, uint64_t done, const char *what,
                       char *msg, size_t msglen)
{
    unsigned char *buf = malloc(SOURCE_CHUNK);
    if (!buf)
        return dl_fail(DL_ENOMEM, msg, msglen, "not enough memory");
    dl_status st = DL_OK;
    while (done < need) {
        size_t want = need - done < SOURCE_CHUNK ? (size_t)(need - done) : SOURCE_CHUNK;
        size_t got = source_read(s, buf, want);
        done += got;
        if (got < want) {
            const char *why = source_error(s);
            st = *why ? dl_fail(DL_EFORMAT, msg, msglen, "damaged after %llu bytes: %s",
                                (unsigned long long)done, why)
                      : dl_fail(DL_EFORMAT, msg, msglen, "truncated: the header says %s (%llu "
                                "bytes with the header) but the data ends after %llu", what,
                                (unsigned long long)need, (unsigned long long)done);
            break;
        }
    }
    free(buf);
    return st ? st : source_expect_end(s, msg, msglen);
}

dl_status source_check_length(source *s, uint64_t need, uint64_t done, const char *what,
                              char *msg, size_t msglen)
{
    dl_status st = source_check_regular(s, msg, msglen);
    if (st)
        return st;
    if (!s->compressed) {
        if (s->length < need)
            return dl_fail(DL_EFORMAT, msg, msglen, "truncated: the header says %s (%llu "
                           "bytes with the header) but the file has %llu bytes", what,
                           (unsigned long long)need, (unsigned long long)s->length);
        if (s->length > need)
            return dl_fail(DL_EFORMAT, msg, msglen, "the header says %s (%llu bytes with "
                           "the header) but the file has %llu bytes", what,
                           (unsigned long long)need, (unsigned long long)s->length);
        return DL_OK;
    }
    if (need > s->length * SOURCE_GZ_MAX_RATIO + 1024)
        return dl_fail(DL_EFORMAT, msg, msglen, "the header says %s (%llu bytes), more than "
                       "a %llu-byte gzip file can hold (damaged header?)", what,
                       (unsigned long long)need, (unsigned long long)s->length);
    if ((need & 0xffffffffu) != s->isize)
        return dl_fail(DL_EFORMAT, msg, msglen, "truncated or damaged: the header says %s "
                       "(%llu bytes with the header) but the gzip trailer says %llu bytes "
                       "uncompressed", what, (unsigned long long)need,
                       (unsigned long long)s->isize);
    if (source_gz_suspect(s, need))
        return source_count(s, need, done, what, msg, msglen);
    return DL_OK;
}

void source_byte_table(float lut[256], int scale)
{
    for (int i = 0; i < 256; i++)
        lut[i] = scale ? (float)(i / 255.0) : (float)i;
}
