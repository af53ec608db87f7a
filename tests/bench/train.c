/*
 * train.c — training throughput of the trainer core on the E2 shape,
 * 784-3136-1568-10 ReLU/softmax, log-likelihood, batch 32, on random inputs
 * (only the speed is measured here; tests/bench/accuracy.c trains on MNIST).
 *
 *   build/bench/train [--threads N] [--momentum M] [--rounds R] [--quick]
 *
 * Prints, for 1 and 2 threads (or N), the best of R rounds of 40 steps each,
 * wall clock and CPU time per step, as samples/s:
 *   train 784-3136-1568-10 batch 32, 2 threads: 3012 samples/s best of 7 (wall), ...
 * Best-of-R because the machine is shared: the best round is the one least
 * disturbed by other processes. tests/bench/run.sh compares the figure with
 * PyTorch's best thread setting measured in the same run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "threads.h"
#include "train.h"

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int threads = 0, rounds = 7, steps = 40;
    float momentum = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--momentum") == 0 && i + 1 < argc)
            momentum = (float)atof(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0)
            rounds = 2, steps = 10;
        else {
            fprintf(stderr, "usage: %s [--threads N] [--momentum M] [--rounds R] [--quick]\n",
                    argv[0]);
            return 2;
        }
    }
    int N = 4096, sizes[] = { 784, 3136, 1568, 10 };
    dl_act acts[] = { DL_RELU, DL_RELU, DL_SOFTMAX };
    mat X, y;
    if (mat_new(&X, N, 784) != DL_OK || mat_new(&y, N, 1) != DL_OK)
        return 1;
    rng r;
    rng_seed(&r, 1);
    for (size_t i = 0; i < (size_t)N * 784; i++) X.data[i] = (float)rng_uniform(&r);
    for (int i = 0; i < N; i++) y.data[i] = (float)(i % 10);
    double flops = 6.0 * (784.0 * 3136 + 3136.0 * 1568 + 1568.0 * 10);

    int lo = threads > 0 ? threads : 1, hi = threads > 0 ? threads : 2;
    for (int th = lo; th <= hi; th++) {
        dl_threads_set(th);
        net *n = NULL;
        if (net_new(&n, 3, sizes, acts, DL_LOG_LIKELIHOOD) != DL_OK)
            return 1;
        net_init(n, DL_INIT_HE, 1);
        train_config c = train_config_default();
        c.batch = 32;
        c.lr = 0.01f;
        c.momentum = momentum;
        c.epochs = 1000;
        trainer *t = NULL;
        char msg[256];
        train_data d = { X, y, { 0 } };
        if (train_new(&t, n, &c, d, (train_data){ { 0 }, { 0 }, { 0 } }, msg, sizeof msg) != DL_OK) {
            fprintf(stderr, "train: %s\n", msg);
            return 1;
        }
        for (int i = 0; i < 3; i++) train_step(t);   /* warm up */
        double best_w = 1e30, best_c = 1e30;
        for (int k = 0; k < rounds; k++) {
            double w0 = wall(), c0 = cpu();
            for (int i = 0; i < steps; i++) train_step(t);
            double w = (wall() - w0) / steps, cp = (cpu() - c0) / steps;
            if (w < best_w) best_w = w;
            if (cp < best_c) best_c = cp;
        }
        net_sync_grads(n);
        printf("train 784-3136-1568-10 batch 32%s, %d thread%s: %.0f samples/s best of %d (wall), "
               "%.1f GFLOP/s; %.2f ms/step, %.2f ms CPU/step\n",
               momentum != 0 ? " momentum" : "", th, th == 1 ? "" : "s", 32 / best_w, rounds,
               32 * flops / best_w * 1e-9, best_w * 1e3, best_c * 1e3);
        fflush(stdout);
        train_free(t);
        net_free(n);
    }
    mat_free(&X);
    mat_free(&y);
    return 0;
}
