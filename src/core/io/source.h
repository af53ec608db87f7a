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
 * hold more than c·1032 bytes; it bounds what a header may ask for. */
#define SOURCE_GZ_MAX_RATIO 1032u

typedef struct source {
    gzFile gz;
    int compressed;      /* magic 1f 8b */
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

/* Check that s holds exactly need uncompressed bytes; what describes the
 * content for the message ("60000x28x28 unsigned bytes"). */
dl_status source_check_length(const source *s, uint64_t need, const char *what,
                              char *msg, size_t msglen);

/* lut[b] = b/255 correctly rounded to fp32 when scale, else b: the byte
 * formats decode a pixel with one load and the result is exactly b/255. */
void source_byte_table(float lut[256], int scale);

#endif
