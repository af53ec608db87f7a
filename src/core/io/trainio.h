/*
 * trainio.h — trainer checkpoints: everything a trainer (train.h) needs to go
 * on as if it had never stopped, in one versioned, checksummed file written
 * through dl_save (save.h). Format in doc/formats.md:
 *
 *   magic "\x89DLT\r\n\x1a\n" · fixed header (300 bytes in all: sizes,
 *   configuration, data fingerprints, counters, early-stopping state, RNG) ·
 *   the network as a network checkpoint (netio.c, its own CRC included) ·
 *   the epoch's permutation · momentum velocities · best parameters ·
 *   history · step losses · CRC-32 of every byte before it.
 *
 * The data sets are not stored; their fingerprints are (rows, columns, kind
 * of targets, and a 64-bit hash of every value), and resuming with a set
 * whose fingerprint differs is an error that says which set and how.
 *
 * Reading is bounded: the fixed header is read and checked first, it gives
 * the whole file's length, a regular file must be exactly that long, and
 * nothing more than that is read from any file. The checksum is checked
 * before the body is parsed; the permutation must be one; the velocity and
 * best arrays must match the network's size.
 *
 *   train_ckpt *c;
 *   train_ckpt_read(&c, "run.ckpt", msg, sizeof msg);   // no data needed yet
 *   train_resume(&t, c, train, val, msg, sizeof msg);   // t trains c->net
 *   net *n = c->net; c->net = NULL;                     // ours now
 *   train_ckpt_free(c);
 */
#ifndef DL_TRAINIO_H
#define DL_TRAINIO_H

#include "../train.h"

/* What a checkpoint remembers of a data set. */
typedef struct train_print {
    int present;             /* 0: no set (no validation) */
    int rows, cols;          /* X's shape */
    int kind;                /* 1: labels (N × 1), 2: targets (N × ycols) */
    int ycols;
    uint64_t hash;           /* of every value of X and of y/Y (train_fingerprint) */
} train_print;

/* The fingerprint of a set (val.X.data NULL: not present). */
train_print train_fingerprint(train_data d);

/* A checkpoint read back, not yet attached to data. */
typedef struct train_ckpt {
    net *net;                /* owned until train_resume takes it (then NULL) */
    train_config cfg;
    train_print train, val;
    trainer state;           /* the counters, rng and early-stopping fields only */
    int *perm;               /* (state.N) */
    float *vel;              /* (net->n_params) */
    float *best;             /* (net->n_params) or NULL */
    train_history history;   /* n = cap = epochs, steps = step_cap */
} train_ckpt;

/* Write t's whole state to path (atomically, durably). DL_EIO with
 * "path: reason", DL_ENOMEM. */
dl_status train_save(const trainer *t, const char *path, char *msg, size_t msglen);

/* Read and check the checkpoint at path. DL_EIO (cannot open or read),
 * DL_EFORMAT (not a trainer checkpoint, newer version, truncated, corrupt),
 * DL_ENOMEM. *out is NULL on failure. */
dl_status train_ckpt_read(train_ckpt **out, const char *path, char *msg, size_t msglen);

/* The trainer that goes on where c stopped, on train and val (val.X.data
 * NULL: none), which must match c's fingerprints (DL_EINVAL saying which set
 * differs and how otherwise). The trainer trains c->net, which c still owns:
 * take it (set c->net to NULL) before freeing c, or free the trainer first. */
dl_status train_resume(trainer **out, train_ckpt *c, train_data train, train_data val,
                       char *msg, size_t msglen);

/* Free c and what it still owns; NULL is fine. */
void train_ckpt_free(train_ckpt *c);

#endif
