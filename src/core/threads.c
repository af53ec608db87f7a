/* threads.c — the kernel thread pool and per-thread scratch (see threads.h). */
#include "threads.h"
#include "dl.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * The pool: process-wide by design (threads.h says why). Everything mutable is
 * in this one struct, guarded by `lock`, except `gen`/`pending`, which are
 * also read by spinning threads through atomics.
 *
 * A job is published by bumping `gen`; each worker w runs parts w, w+T, ...
 * (T = threads in this job) and decrements `pending`; the caller runs the parts
 * for w = 0 and waits for pending to reach 0. Workers spin briefly before
 * sleeping on `wake`, because a GEMM call is often followed by another within
 * microseconds; the spin is short since this machine is shared.
 */
static struct pool {
    pthread_mutex_t lock;     /* guards everything below */
    pthread_mutex_t busy;     /* held by the one caller running a job */
    pthread_cond_t wake;      /* workers wait here for a new gen */
    pthread_cond_t done;      /* the caller waits here for pending == 0 */
    int started;              /* workers created so far */
    int want;                 /* threads to use, 1..DL_MAX_THREADS; 0 = not read yet */
    unsigned gen;             /* job generation, bumped per job */
    int pending;              /* workers still running the current job (read atomically when spinning) */
    int nthreads;             /* threads taking part in the current job */
    dl_task *fn;              /* the current job */
    void *arg;
    int nparts;
    unsigned born[DL_MAX_THREADS]; /* gen when worker w was created: its first job is the next */
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER, .busy = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER,
};

/* Pauses to spin before sleeping (~50 µs): long enough to bridge the gap
 * between back-to-back kernel calls, short enough not to steal much from
 * other processes on a shared machine. */
#define SPIN 4000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Set in pool workers so that nested dl_parallel calls run serially. */
static _Thread_local int in_worker;

static void run_parts(dl_task *fn, void *arg, int n, int w, int T)
{
    for (int i = w; i < n; i += T)
        fn(arg, i, n);
}

static void *worker(void *p)
{
    int w = (int)(size_t)p;
    in_worker = 1;
    pthread_mutex_lock(&pool.lock);
    unsigned seen = pool.born[w];  /* not pool.gen: the job may already be out */
    for (;;) {
        /* Spin a little outside the lock, then sleep. */
        pthread_mutex_unlock(&pool.lock);
        for (int s = 0; s < SPIN && __atomic_load_n(&pool.gen, __ATOMIC_ACQUIRE) == seen; s++)
            cpu_relax();
        pthread_mutex_lock(&pool.lock);
        while (pool.gen == seen)
            pthread_cond_wait(&pool.wake, &pool.lock);
        seen = pool.gen;
        if (w >= pool.nthreads)
            continue;  /* not part of this job */
        dl_task *fn = pool.fn;
        void *arg = pool.arg;
        int n = pool.nparts, T = pool.nthreads;
        pthread_mutex_unlock(&pool.lock);
        run_parts(fn, arg, n, w, T);
        pthread_mutex_lock(&pool.lock);
        if (__atomic_sub_fetch(&pool.pending, 1, __ATOMIC_RELEASE) == 0)
            pthread_cond_signal(&pool.done);
    }
    return NULL;
}

static int env_threads(void)
{
    const char *s = getenv("DELTALAB_THREADS");
    long n = s ? strtol(s, NULL, 10) : 0;
    if (n < 1) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
        if (n < 1) n = 1;
    }
    return n > DL_MAX_THREADS ? DL_MAX_THREADS : (int)n;
}

int dl_threads(void)
{
    /* Asked before every kernel call, and set once in a run but for tests
     * and benchmarks: once set, read without the lock. */
    int n = __atomic_load_n(&pool.want, __ATOMIC_RELAXED);
    if (n)
        return n;
    pthread_mutex_lock(&pool.lock);
    if (!pool.want)
        __atomic_store_n(&pool.want, env_threads(), __ATOMIC_RELAXED);
    n = pool.want;
    pthread_mutex_unlock(&pool.lock);
    return n;
}

void dl_threads_set(int n)
{
    pthread_mutex_lock(&pool.lock);
    __atomic_store_n(&pool.want, n < 1 ? 1 : n > DL_MAX_THREADS ? DL_MAX_THREADS : n,
                     __ATOMIC_RELAXED);
    pthread_mutex_unlock(&pool.lock);
}

int dl_parts(double cost, double grain)
{
    int T = dl_threads();
    double p = grain > 0 ? cost / grain : T;
    return p >= T ? T : p < 2 ? 1 : (int)p;
}

/* dl_parallel (team 0: n parts over T threads) and dl_team (team 1: T parts,
 * one a thread). */
static void run_job(dl_task *fn, void *arg, int n, int team)
{
    int T = n < dl_threads() ? n : dl_threads();
    if (T <= 1 || in_worker || pthread_mutex_trylock(&pool.busy) != 0) {
        if (team)
            fn(arg, 0, 1);
        else
            run_parts(fn, arg, n, 0, 1);
        return;
    }
    pthread_mutex_lock(&pool.lock);
    /* Workers start with every signal blocked (they inherit this mask), so
     * Ctrl-C always lands on a thread that runs Lua, never inside a kernel. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    while (pool.started < T - 1) {
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pool.born[pool.started + 1] = pool.gen;
        int ok = pthread_create(&th, &at, worker, (void *)(size_t)(pool.started + 1)) == 0;
        pthread_attr_destroy(&at);
        if (!ok)
            break;
        pool.started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    T = pool.started + 1 < T ? pool.started + 1 : T;  /* fewer if creation failed */
    if (team)
        n = T;   /* worker w runs part w alone: all of them at once */
    pool.fn = fn;
    pool.arg = arg;
    pool.nparts = n;
    pool.nthreads = T;
    pool.pending = T - 1;
    __atomic_store_n(&pool.gen, pool.gen + 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    run_parts(fn, arg, n, 0, T);

    /* The other parts usually finish within microseconds of ours: spin a
     * little before paying for a sleep and a wake-up. */
    for (int s = 0; s < SPIN && __atomic_load_n(&pool.pending, __ATOMIC_ACQUIRE) > 0; s++)
        cpu_relax();
    pthread_mutex_lock(&pool.lock);
    while (pool.pending > 0)
        pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.busy);
}

void dl_parallel(dl_task *fn, void *arg, int n) { run_job(fn, arg, n, 0); }

void dl_team(dl_task *fn, void *arg, int n) { run_job(fn, arg, n, 1); }

/* The last part to arrive opens the next round; the others spin, then
 * yield, since on a shared machine a descheduled part can keep them waiting
 * a time slice. */
void dl_barrier_wait(dl_barrier *b, int n)
{
    if (n <= 1)
        return;
    unsigned round = __atomic_load_n(&b->round, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == n) {
        __atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&b->round, round + 1, __ATOMIC_RELEASE);
        return;
    }
    for (int s = 0; __atomic_load_n(&b->round, __ATOMIC_ACQUIRE) == round; s++) {
        if (s < SPIN)
            cpu_relax();
        else
            sched_yield();
    }
}

/* Per-thread scratch: a pthread key whose destructor frees the buffer when a
 * thread exits (the main thread's is reclaimed by the OS at exit). */
typedef struct scratch {
    float *buf;   /* 64-byte aligned */
    size_t cap;   /* floats */
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    scratch *s = p;
    dl_free(s->buf);
    free(s);
}

static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

float *dl_scratch(size_t n)
{
    pthread_once(&scratch_once, scratch_init);
    scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->cap < n) {
        float *p = dl_alloc(n);
        if (!p)
            return NULL;
        dl_free(s->buf);
        s->buf = p;
        s->cap = n;
    }
    return s->buf;
}
