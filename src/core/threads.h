/*
 * threads.h — a small process-wide pthread pool for the kernels, and the
 * per-thread scratch memory GEMM packs into.
 *
 * Why one pool for the whole process: the kernels are called through a plain
 * function table with no context argument (kern.h), from any number of
 * matrices and networks; threads are a property of the machine, not of a
 * matrix. So the pool is created on first use and lives until exit. Its size
 * is DELTALAB_THREADS when set, else the number of online CPUs.
 *
 * Work given to dl_parallel() runs on the caller plus the workers. A call made
 * from inside a task, or while another thread holds the pool, runs serially on
 * the caller: correct, never a deadlock, just not parallel.
 */
#ifndef DL_THREADS_H
#define DL_THREADS_H

#include <stddef.h>

/* Most threads the pool will ever run. */
#define DL_MAX_THREADS 64

/* A task: part i of n (0 <= i < n) of the work described by arg. */
typedef void dl_task(void *arg, int i, int n);

/* Threads parallel work may use (>= 1): DELTALAB_THREADS or the CPU count. */
int dl_threads(void);
/* Change that number (clamped to 1..DL_MAX_THREADS); for tests and benchmarks. */
void dl_threads_set(int n);
/* Run fn(arg, i, n) for every i in 0..n-1, spread over the pool; returns when
 * all parts are done. Part 0 runs on the calling thread. */
void dl_parallel(dl_task *fn, void *arg, int n);
/* Run fn(arg, i, T) for every i in 0..T-1 on T threads at once (the caller
 * is part 0), T = the most of n the pool can run together (1 when it is
 * busy, or from inside a task: then fn(arg, 0, 1) on the caller). Unlike
 * dl_parallel's parts, the T parts run concurrently, so they may wait for
 * each other at a dl_barrier. */
void dl_team(dl_task *fn, void *arg, int n);

/* A barrier for the parts of one dl_team job; zero-initialised. */
typedef struct dl_barrier {
    int arrived;
    unsigned round;
} dl_barrier;
/* Wait until all n parts of the team have called this (n <= 1: returns). */
void dl_barrier_wait(dl_barrier *b, int n);

/* How many parts to split work of `cost` units into, given that one part
 * should hold at least `grain` units: 1 .. dl_threads(). */
int dl_parts(double cost, double grain);

/* This thread's scratch buffer of at least n floats, 64-byte aligned, or NULL
 * when it cannot be allocated. Kept and reused between calls (freed when the
 * thread exits); valid until this thread's next dl_scratch call. */
float *dl_scratch(size_t n);

#endif
