/*
 * gemm.c — how fast is deltalab's GEMM on this machine, against what?
 *
 *   build/bench/gemm [--quick]        (make bench runs it through run.sh)
 *
 * Measures, in this one run:
 *   - the AVX2 FMA peak: a loop of 12 independent 8-wide FMAs per iteration
 *     (nothing but FMAs in flight), on 1 and on 2 threads;
 *   - memory read bandwidth: an AVX2 sum over a 256 MiB buffer (DRAM) and over
 *     a 16 MiB one read again and again (last-level cache), 1 thread;
 *   - deltalab's GEMM on square sizes 64..2048 and on the products of one
 *     training step of a 784-3136-1568-10 net at batch 32 and batch 1, each
 *     with 1 and 2 threads, as GFLOPS and % of the measured peak;
 *   - OpenBLAS on the same cases, if libopenblas.so.0 can be dlopen()ed (it is
 *     never a build dependency), with the ratio deltalab / OpenBLAS. Set
 *     OPENBLAS_CORETYPE=Haswell to make OpenBLAS 0.3.21 use its AVX2 kernels
 *     on CPUs it does not know (run.sh runs both ways).
 *
 * Each figure is the best of several short timed repetitions. The machine may
 * be shared (and a VM has no performance counters for perf stat), so the
 * 1-thread figures, the FMA peak included, are per CPU-second of the calling thread:
 * time spent descheduled does not count. 2-thread figures are wall clock; one
 * whose best repetition was descheduled (wall > 1.1 × CPU / 2) is marked '~'.
 * Batch-1 products are memory-bound, so they are printed as GB/s of the
 * operands they stream, against the measured bandwidths.
 */
#define _GNU_SOURCE
#include "dl.h"
#include "gemm.h"
#include "kern.h"
#include "threads.h"

#include <dlfcn.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ yardsticks */

/* The bench is not an *_avx2.c file, so these two loops enable AVX2/FMA per
 * function; they only run after kern_avx2() said the CPU has them. */
__attribute__((target("avx2,fma"))) static float fma_loop(long iters)
{
    __m256 acc[12], m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int j = 0; j < 12; j++) acc[j] = _mm256_set1_ps((float)j);
    for (long i = 0; i < iters; i++)
#pragma GCC unroll 12
        for (int j = 0; j < 12; j++) acc[j] = _mm256_fmadd_ps(acc[j], m, c);
    __m256 s = acc[0];
    for (int j = 1; j < 12; j++) s = _mm256_add_ps(s, acc[j]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
}

/* The same with 16-wide zmm FMAs (24 chains: enough in flight for two
 * 512-bit pipes), run only when kern_avx512() said the CPU has AVX-512. */
__attribute__((target("avx512f"))) static float fma_loop512(long iters)
{
    __m512 acc[24], m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int j = 0; j < 24; j++) acc[j] = _mm512_set1_ps((float)j);
    for (long i = 0; i < iters; i++)
#pragma GCC unroll 24
        for (int j = 0; j < 24; j++) acc[j] = _mm512_fmadd_ps(acc[j], m, c);
    __m512 s = acc[0];
    for (int j = 1; j < 24; j++) s = _mm512_add_ps(s, acc[j]);
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float read_loop(const float *p, size_t n)
{
    __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
    for (size_t i = 0; i + 32 <= n; i += 32) {
        a = _mm256_add_ps(a, _mm256_load_ps(p + i));
        b = _mm256_add_ps(b, _mm256_load_ps(p + i + 8));
        c = _mm256_add_ps(c, _mm256_load_ps(p + i + 16));
        d = _mm256_add_ps(d, _mm256_load_ps(p + i + 24));
    }
    float out[8];
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
    return out[0];
}

static volatile float sink;
#define PEAK_ITERS 200000L   /* 38 MFLOP: ~0.4 ms, short enough to find quiet moments */

static int wide;   /* nonzero: measure the AVX-512 peak */
static void peak_task(void *arg, int i, int n)
{
    sink = wide ? fma_loop512(PEAK_ITERS / 4) : fma_loop(PEAK_ITERS);
}

/* The FMA peak: on 1 thread per CPU-second (the thread's own CPU time, which
 * does not run while it is descheduled), on 2 threads by wall clock; best of
 * 200 short runs each. */
static double peak[3];

static void measure_peak(int threads)
{
    double best = 1e30;
    dl_threads_set(threads);
    for (int r = 0; r < 200; r++) {
        clockid_t clk = threads == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
        double t = now(clk);
        dl_parallel(peak_task, NULL, threads);
        t = now(clk) - t;
        if (t < best) best = t;
    }
    /* flops per run: 12 chains × 8 lanes, or 24 × 16 lanes for a quarter of the iterations */
    peak[threads] = threads * PEAK_ITERS * (wide ? 24.0 * 16 / 4 : 12.0 * 8) * 2 / best * 1e-9;
}

/* GB/s reading `bytes` (best of reps passes). */
static double measure_read(size_t bytes, int reps)
{
    size_t n = bytes / sizeof(float);
    float *p = dl_calloc(n);
    if (!p) return 0;
    sink = read_loop(p, n);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t = now(CLOCK_MONOTONIC);
        sink = read_loop(p, n);
        t = now(CLOCK_MONOTONIC) - t;
        if (t < best) best = t;
    }
    dl_free(p);
    return bytes / best * 1e-9;
}

/* -------------------------------------------------------------- OpenBLAS */

typedef void sgemm_fn(int order, int ta, int tb, int M, int N, int K, float alpha,
                      const float *A, int lda, const float *B, int ldb, float beta,
                      float *C, int ldc);
static sgemm_fn *blas_sgemm;
static void (*blas_set_threads)(int);
static char *(*blas_corename)(void);

static void load_openblas(void)
{
    void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
    blas_sgemm = (sgemm_fn *)dlsym(h, "cblas_sgemm");
    blas_set_threads = (void (*)(int))dlsym(h, "openblas_set_num_threads");
    blas_corename = (char *(*)(void))dlsym(h, "openblas_get_corename");
    if (!blas_set_threads) blas_sgemm = NULL;
}

/* ----------------------------------------------------------------- cases */

typedef struct bcase {
    const char *name;
    int tA, tB, M, N, K;
} bcase;

typedef struct timing {
    double sec;     /* best wall time of one call */
    double cpu;     /* best CPU time of one call, divided by the threads */
    int noisy;      /* descheduled during the best wall repetition */
} timing;

static float *A, *B, *C;

static void call(int blas, const bcase *c)
{
    int lda = c->tA ? c->M : c->K, ldb = c->tB ? c->K : c->N;
    if (blas)
        blas_sgemm(101, c->tA ? 112 : 111, c->tB ? 112 : 111, c->M, c->N, c->K, 1.0f,
                   A, lda, B, ldb, 0.0f, C, c->N);
    else
        kern()->gemm(c->tA, c->tB, c->M, c->N, c->K, 1.0f, A, lda, B, ldb, 0.0f, C, c->N);
}

/* Best of `reps` repetitions, each long enough (≥ min_sec) to time: the
 * best wall time, and the best CPU time divided by threads. */
static timing time_case(int blas, const bcase *c, int threads, int reps, double min_sec)
{
    if (blas) blas_set_threads(threads);
    else dl_threads_set(threads);
    /* 1 thread: this thread's CPU time. The process's would also count the
     * threads of the last 2-thread run still spinning, waiting for work
     * (OpenBLAS's spin for milliseconds), and make short products look up to
     * twice as slow. 2 threads: the process's, every thread's share. */
    clockid_t cpu_clock = threads == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID;
    call(blas, c);  /* warm: pool started, pages touched, scratch allocated */
    timing best = { 1e30, 1e30, 0 };
    for (int r = 0; r < reps; r++) {
        int it = 0;
        double t0 = now(CLOCK_MONOTONIC), c0 = now(cpu_clock), t;
        do {
            call(blas, c);
            it++;
        } while ((t = now(CLOCK_MONOTONIC) - t0) < min_sec);
        double cpu = (now(cpu_clock) - c0) / threads;
        if (cpu / it < best.cpu) best.cpu = cpu / it;
        if (t / it < best.sec) {
            best.sec = t / it;
            best.noisy = t > 1.1 * cpu;
        }
    }
    return best;
}

static int quick;

/* One line of the table; *ours1 and *blas1 get the 1-thread CPU times. */
static void run_case(const bcase *c, int batch1, double bw_dram, double bw_llc,
                     double *ours1_sec, double *blas1_sec)
{
    double flops = 2.0 * c->M * c->N * c->K;
    double bytes = 4.0 * ((double)c->M * c->K * (c->M != 1 && c->N != 1 ? 0 : 1) +
                          (double)c->K * c->N * (c->M == 1) +
                          (double)c->M * c->K * (c->N == 1) + (double)c->M * c->N * (c->K == 1));
    int reps = quick ? 5 : 15;
    double min_sec = 0.002;
    printf("%-18s %s%s %5d %5d %5d", c->name, c->tA ? "T" : "N", c->tB ? "T" : "N", c->M, c->N, c->K);
    double ours1 = 0, ours1_t = 0;
    for (int th = 1; th <= 2; th++) {
        /* 1 thread: CPU time (robust to sharing); 2 threads: wall clock. */
        timing o = time_case(0, c, th, reps, min_sec);
        double t = th == 1 ? o.cpu : o.sec, gf = flops / t * 1e-9;
        char mark = th == 2 && o.noisy ? '~' : ' ';
        if (th == 1) {
            ours1 = gf;
            ours1_t = t;
            *ours1_sec = t;
        }
        if (batch1) {
            double gbs = bytes / t * 1e-9;
            printf(" | %5.1f%c %3.0f%% %3.0f%%", gbs, mark, 100 * gbs / bw_llc, 100 * gbs / bw_dram);
        } else {
            printf(" | %5.1f%c %3.0f%%", gf, mark, 100 * gf / peak[th]);
        }
        if (blas_sgemm) {
            timing b = time_case(1, c, th, reps, min_sec);
            /* OpenBLAS's workers spin for up to about 0.1 s after a call
             * (2^28 cycles, its default thread timeout) before they sleep:
             * timed in that window, our 2 threads would share the 2 cores
             * with them. Let them fall asleep first. */
            nanosleep(&(struct timespec){ 0, 150000000 }, NULL);
            double tb = th == 1 ? b.cpu : b.sec;
            if (th == 1) *blas1_sec = tb;
            printf(" %6.1f %5.2fx", flops / tb * 1e-9, tb / t);
        }
        if (th == 2) printf(" | %4.2fx %4.2f", gf / ours1, ours1_t / (2 * o.cpu));
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);  /* each line as it is measured */
    quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (!kern_avx2()) {
        printf("no AVX2+FMA on this machine: nothing to benchmark\n");
        return 0;
    }
    load_openblas();
    size_t most = (size_t)3136 * 3136;  /* ≥ every operand above: 2048², 3136×1568 */
    A = dl_calloc(most);
    B = dl_calloc(most);
    C = dl_calloc(most);
    if (!A || !B || !C) {
        printf("out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < most; i++) {
        A[i] = (float)((i * 7 % 13) - 6) * 0.01f;
        B[i] = (float)((i * 5 % 11) - 5) * 0.01f;
    }

    double load[1] = { 0 };
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &load[0]) != 1) load[0] = -1;
        fclose(f);
    }
    double peak512[3] = { 0, 0, 0 };
    if (kern_avx512()) {   /* the other set's peak too, printed for comparison */
        wide = 1;
        measure_peak(1);
        measure_peak(2);
        peak512[1] = peak[1], peak512[2] = peak[2];
        wide = 0;
    }
    measure_peak(1);
    measure_peak(2);
    double peak256[3] = { 0, peak[1], peak[2] };
    if (strcmp(kern()->isa, "avx512") == 0)   /* %pk: of the active set's peak */
        peak[1] = peak512[1], peak[2] = peak512[2];
    double bw_dram = measure_read((size_t)256 << 20, quick ? 2 : 4);
    double bw_llc = measure_read((size_t)16 << 20, quick ? 5 : 20);
    printf("deltalab GEMM benchmark (%s kernels; load average %.2f at start: the machine is shared)\n",
           kern()->isa, load[0]);
    printf("AVX2 FMA peak, measured: %.1f GFLOPS on 1 thread (per CPU-second), %.1f on 2 threads (wall)\n",
           peak256[1], peak256[2]);
    if (kern_avx512())
        printf("AVX-512 FMA peak, measured: %.1f GFLOPS on 1 thread, %.1f on 2 threads "
               "(DELTALAB_ISA=avx512|avx2 picks the kernels benchmarked)\n", peak512[1], peak512[2]);
    printf("read bandwidth, 1 thread: %.1f GB/s from DRAM (256 MiB), %.1f GB/s from cache (16 MiB)\n",
           bw_dram, bw_llc);
    if (blas_sgemm)
        printf("OpenBLAS: libopenblas.so.0, core %s (OPENBLAS_CORETYPE=%s)\n",
               blas_corename ? blas_corename() : "?", getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "unset");
    else
        printf("OpenBLAS: not found (install libopenblas0-pthread to compare)\n");
    printf("GFLOPS, best of repetitions: 1 thread per CPU-second of the calling thread (robust on a shared\n"
           "machine), 2 threads by wall clock (~: descheduled while timed). %%pk = of the peak above.\n"
           "ratio = OpenBLAS time / ours (> 1: we are faster). 2t/1t = 2-thread over 1-thread GFLOPS by\n"
           "wall clock; eff = 1-thread CPU time / total CPU time on 2 threads (1.00: splitting costs\n"
           "nothing, so an idle machine would give 2 x eff; products < 2^20 multiply-adds use 1 thread).\n"
           "Batch 1: GB/s of the operands streamed, %% of cache and of DRAM read bandwidth.\n");
    printf("%-18s op     M     N     K | 1 thread  %%pk%s | 2 threads %%pk%s | 2t/1t  eff\n",
           "case", blas_sgemm ? "  OBLAS ratio" : "", blas_sgemm ? "  OBLAS ratio" : "");

    static const int sq[] = { 64, 128, 256, 512, 1024, 2048 };
    for (int i = 0; i < 6; i++) {
        if (quick && sq[i] > 1024) break;
        char name[32];
        snprintf(name, sizeof name, "square %d", sq[i]);
        bcase c = { name, 0, 0, sq[i], sq[i], sq[i] };
        double o1, b1;
        run_case(&c, 0, bw_dram, bw_llc, &o1, &b1);
    }
    /* One training step of 784-3136-1568-10: forward Z = A·Wᵀ, weight
     * gradient dW = δᵀ·A, back-propagation δ_prev = δ·W (not into the input). */
    static const int sizes[] = { 784, 3136, 1568, 10 };
    for (int batch = 32; batch >= 1; batch -= 31) {
        printf("-- one training step, batch %d%s\n", batch,
               batch == 1 ? " (memory-bound: GB/s, % of cache and DRAM bandwidth)" : "");
        double ours_total = 0, blas_total = 0;
        for (int l = 0; l < 3; l++) {
            int in = sizes[l], out = sizes[l + 1];
            char n1[32], n2[32], n3[32];
            snprintf(n1, sizeof n1, "fwd  %d->%d", in, out);
            snprintf(n2, sizeof n2, "dW   %d->%d", in, out);
            snprintf(n3, sizeof n3, "back %d->%d", in, out);
            bcase cs[3] = { { n1, 0, 1, batch, out, in }, { n2, 1, 0, out, in, batch },
                            { n3, 0, 0, batch, in, out } };
            for (int k = 0; k < 3; k++) {
                if (k == 2 && l == 0) continue;
                double o1 = 0, b1 = 0;
                run_case(&cs[k], batch == 1, bw_dram, bw_llc, &o1, &b1);
                ours_total += o1;
                blas_total += b1;
            }
        }
        if (blas_sgemm)
            printf("   whole step, 1 thread, CPU time: ours %.3f ms, OpenBLAS %.3f ms, ratio %.2fx\n",
                   ours_total * 1e3, blas_total * 1e3, blas_total / ours_total);
    }
    dl_free(A); dl_free(B); dl_free(C);
    return 0;
}
