/* fuzz_trainer.c — trainer checkpoints: read, then resume on a data set of
 * the shape the file's fingerprint names (zeros, so the fingerprint check
 * itself is exercised), and when that is accepted, train one batch (a
 * checkpoint that resumes must describe a trainer that can step). */
#include "fuzz.h"
#include "trainio.h"   /* src/core/io, as npy.h for fuzz_npy.c */

#include <string.h>

#define MAX_ELEMENTS (1 << 20)

/* A zero set of the fingerprint's shape, or none (X.data NULL). */
static train_data zeros_like(const train_print *p, mat *X, mat *Y)
{
    train_data d;
    memset(&d, 0, sizeof d);
    if (!p->present || (size_t)p->rows * (size_t)(p->cols + p->ycols) > MAX_ELEMENTS)
        return d;
    if (mat_new(X, p->rows, p->cols) != DL_OK)
        return d;
    if (mat_new(Y, p->rows, p->ycols) != DL_OK) {
        mat_free(X);
        return d;
    }
    mat_fill(*X, 0.0f);
    mat_fill(*Y, 0.0f);
    d.X = *X;
    if (p->kind == 1)
        d.labels = *Y;
    else
        d.targets = *Y;
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], msg[256];
    int fd = fuzz_file(data, size, path, sizeof path);
    train_ckpt *c = NULL;
    if (train_ckpt_read(&c, path, msg, sizeof msg) == DL_OK && c) {
        mat X = { 0 }, Y = { 0 }, VX = { 0 }, VY = { 0 };
        train_data train = zeros_like(&c->train, &X, &Y);
        train_data val = zeros_like(&c->val, &VX, &VY);
        trainer *t = NULL;
        if (train.X.data && (!c->val.present || val.X.data) && c->net->sizes[0] <= 4096
            && train_resume(&t, c, train, val, msg, sizeof msg) == DL_OK) {
            train_step(t);
            train_free(t);
        }
        mat_free(&X);
        mat_free(&Y);
        mat_free(&VX);
        mat_free(&VY);
        train_ckpt_free(c);
    }
    close(fd);
    return 0;
}
