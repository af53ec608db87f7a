/*
 * source.h — the byte source under every dataset reader: a file, plain or
 * gzip-compressed, read through zlib (which passes plain files through).
 *
 * Which of the two a file is comes from its magic bytes (1f 8b), never from
 * its name. For a gzip file the trailer gives the uncompressed length (mod
 * 2^32), so a reader can check a header's sizes against the file before it
 * allocates anything.
 */
#ifndef DL_IO_SOURCE_H
#define DL_IO_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "../dl.h"

/* Bytes a reader moves at a time. */
#define SOURCE_CHUNK 65536

/* deflate never expands more than 1032:1, so a gzip file of c bytes cannot
 * hold more than c·1032 bytes; a header asking for more is refused at once.
 * It is a bound, never a size to allocate: see SOURCE_GZ_TRUST_RATIO. */
#define SOURCE_GZ_MAX_RATIO 1032u

/* Datasets compress 1.1:1 (CIFAR-10) to 5:1 (MNIST). A gzip header (and
 * trailer) asking for more than 32 times the compressed size plus 1 MiB is
 * not believed: the stream is decompressed and counted, without keeping it,
 * before the caller allocates anything, so a small crafted file (a 64 KB
 * .gz claiming 67 MB) costs a few milliseconds of inflate, not a matrix. */
#define SOURCE_GZ_TRUST_RATIO 32u
#define SOURCE_GZ_TRUST_SLACK (1u << 20)

typedef struct source {
    gzFile gz;
    int compressed;      /* magic 1f 8b (only seen in regular files) */
    int regular;         /* a regular file: its length is known */
    uint64_t length;     /* bytes in the file as stored */
    uint64_t isize;      /* gzip trailer: uncompressed bytes mod 2^32 */
} source;

/* Open path (not a directory). On failure nothing stays open. */
dl_status source_open(source *s, const char *path, char *msg, size_t msglen);
void source_close(source *s);

/* Read up to n bytes; returns how many were read (fewer at the end of the
 * data or on an error, which source_error then describes). */
size_t source_read(source *s, void *buf, size_t n);

/* zlib's reason for a short read, or "" when the data simply ended. */
const char *source_error(source *s);

/* The data must end here: one more read also makes zlib check the gzip CRC,
 * which it only does at the end of the stream. */
dl_status source_expect_end(source *s, char *msg, size_t msglen);

/* Check that s holds exactly need uncompressed bytes, done of which have
 * been read (a header); what describes the content for the message
 * ("60000x28x28 unsigned bytes"). A pipe or a device is refused (its length
 * is unknown, and the readers open a file twice). A gzip file asking for
 * more than SOURCE_GZ_TRUST_RATIO is read to its end here (source_count). */
dl_status source_check_length(source *s, uint64_t need, uint64_t done, const char *what,
                              char *msg, size_t msglen);

/* Refuse a pipe or a device: "is a pipe or a device, not a regular file". */
dl_status source_check_regular(const source *s, char *msg, size_t msglen);

/* 1 when a gzip file's claim of need uncompressed bytes is beyond what is
 * believed without counting (SOURCE_GZ_TRUST_RATIO). */
int source_gz_suspect(const source *s, uint64_t need);

/* Read and drop the rest of the stream, checking that it holds exactly
 * need - done more bytes and a valid gzip trailer (what names the unit in
 * the message). Memory: one chunk. */
dl_status source_count(source *s, uint64_t need, uint64_t done, const char *what,
                       char *msg, size_t msglen);

/* lut[b] = b/255 correctly rounded to fp32 when scale, else b: the byte
 * formats decode a pixel with one load and the result is exactly b/255. */
void source_byte_table(float lut[256], int scale);

#endif
