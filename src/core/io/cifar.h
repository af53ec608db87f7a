/*
 * cifar.h — CIFAR-10 binary batches (data_batch_1.bin ... test_batch.bin),
 * plain or gzip-compressed.
 *
 * A batch is records of 3073 bytes: a label byte 0..9, then 1024 red, 1024
 * green and 1024 blue bytes of a 32×32 image, with no header: the file's
 * (uncompressed) length says how many records it holds. Two calls, as for
 * IDX (idx.h): count, let the caller allocate, read.
 */
#ifndef DL_IO_CIFAR_H
#define DL_IO_CIFAR_H

#include "../mat.h"

/* Bytes in one record: a label byte, then 1024 R, 1024 G, 1024 B. */
#define CIFAR_RECORD 3073
#define CIFAR_PIXELS 3072

/* *n = the number of records (the length must be a whole number of them). */
dl_status cifar_read_header(const char *path, int *n, char *msg, size_t msglen);
/* Read n records: X (n × 3072) gets byte/255, y (n × 1) the labels 0..9. */
dl_status cifar_read_data(const char *path, int n, mat X, mat y, char *msg, size_t msglen);

#endif
