/*
 * bench_data.c — how fast the loaders are: MNIST train images (60000×784)
 * from .gz and, when present, from the plain file; the allocation (first
 * touch of 188 MB) is timed apart from the decoding. Peer: NumPy's
 * gzip + frombuffer + astype(float32)/255 in the same run, when python3 has numpy.
 *
 *   build/bench/bench_data [dir-with-mnist]   (looks in $DELTALAB_DATA/mnist,
 *   data/mnist, ../shared/data/mnist otherwise; --quick is accepted and ignored)
 * Figures are wall-clock seconds, best of 3; the machine is shared, so noisy.
 *
 * The "huge pages" line allocates as dl_newmatrix does, with mat_advise_huge
 * (madvise MADV_HUGEPAGE) before the first touch; the other with mat_new, in
 * 4 KB pages. First-touching 188 MB in 4 KB pages is most of the cost of a
 * load on a VM; transparent huge pages (mode "madvise" on Debian) remove it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/idx.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static const char *find_dir(int argc, char **argv)
{
    static char buf[512];
    const char *env = getenv("DELTALAB_DATA");
    const char *tries[] = { argc > 1 && argv[1][0] != '-' ? argv[1] : NULL, NULL, "data/mnist", "../shared/data/mnist" };
    if (env) {
        snprintf(buf, sizeof buf, "%s/mnist", env);
        tries[1] = buf;
    }
    for (int i = 0; i < 4; i++) {
        char p[600];
        if (!tries[i])
            continue;
        snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", tries[i]);
        if (access(p, R_OK) == 0)
            return tries[i];
        snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", tries[i]);
        if (access(p, R_OK) == 0)
            return tries[i];
    }
    return NULL;
}

/* A zeroed rows×cols matrix allocated as the Lua matrices are: advised to use
 * transparent huge pages (mat_advise_huge) before it is first touched. */
static int new_huge(mat *m, int rows, int cols)
{
    size_t bytes = (size_t)rows * cols * sizeof(float);
    float *p = malloc(bytes);
    if (!p)
        return 1;
    mat_advise_huge(p, bytes);
    memset(p, 0, bytes);
    *m = mat_wrap(p, rows, cols);
    return 0;
}

static void bench(const char *path, int huge)
{
    if (access(path, R_OK) != 0)
        return;
    char err[256];
    double best_alloc = 1e9, best_read = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        idx_info info;
        double t0 = now();
        if (idx_read_header(path, &info, err, sizeof err)) {
            printf("%s: %s\n", path, err);
            return;
        }
        mat X;
        if (huge ? new_huge(&X, info.rows, info.cols) != 0 : mat_new(&X, info.rows, info.cols) != DL_OK) {
            printf("out of memory\n");
            return;
        }
        double t1 = now();
        dl_status st = idx_read_data(path, &info, X, 1, err, sizeof err);
        double t2 = now();
        if (huge)
            free(X.data);
        else
            mat_free(&X);
        if (st) {
            printf("%s: %s\n", path, err);
            return;
        }
        if (t1 - t0 < best_alloc) best_alloc = t1 - t0;
        if (t2 - t1 < best_read) best_read = t2 - t1;
    }
    printf("  %-52s%s header+alloc %.3f s  read+decode %.3f s  total %.3f s\n", path, huge ? " (huge pages)" : "             ", best_alloc,
           best_read, best_alloc + best_read);
}

int main(int argc, char **argv)
{
    const char *dir = find_dir(argc, argv);
    if (!dir) {
        printf("bench_data: MNIST not found (make data); skipped\n");
        return 0;
    }
    char p[600];
    printf("MNIST train images, 60000x784 as fp32 byte/255 (best of 3, wall clock):\n");
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", dir);
    if (access(p, R_OK) != 0)
        snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", dir);
    bench(p, 0);
    bench(p, 1);
    if (access("/usr/bin/python3", X_OK) == 0) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c \"import gzip,time\nimport numpy as np\nb=1e9\n"
                 "p='%s'\nop=gzip.open if p.endswith('.gz') else open\n"
                 "for _ in range(3):\n t=time.perf_counter()\n"
                 " a=np.frombuffer(op(p,'rb').read(),np.uint8,offset=16)"
                 ".reshape(60000,784).astype(np.float32)/255\n"
                 " b=min(b,time.perf_counter()-t)\nprint('  %%-65s total %%.3f s' %% "
                 "('numpy peer (read, astype(float32)/255)', b))\" 2>/dev/null", p);
        fflush(stdout);
        if (system(cmd) != 0)
            printf("  numpy peer: not available\n");
    }
    return 0;
}
