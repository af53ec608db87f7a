/*
 * accuracy.c — the accuracy oracles: real networks trained on real data by the
 * trainer core, each result printed beside its reference figure.
 *
 *   build/bench/accuracy [e2|nielsen|e6|e3|all] [--epochs N] [--seeds N]
 *                        [--threads N] [--no-torch] [--probe STEPS] [--quick]
 *
 *   e2       784-3136-1568-10 (ReLU, softmax, log-likelihood, He init), lr 0.1,
 *            batch 32, 6 epochs on MNIST: >= 98.0 % test accuracy; time and
 *            samples/s, and the same network in PyTorch (Debian's python3-torch)
 *            at 1 and 2 threads when installed: ratio to the better of the two.
 *   nielsen  the book's chapter 1: 784-30-10 sigmoid, quadratic cost, N(0,1)
 *            init, eta 3.0, batch 10, 30 epochs, first 50,000 training images:
 *            about 95.4 % (the book: 95.42 % best run); spread over 3 seeds.
 *   e6       Fashion-MNIST: softmax (logistic) regression about 0.84, one
 *            hidden layer (100 ReLU) about 0.87.
 *   e3       logistic regression (one sigmoid neuron, cross-entropy, L2) on
 *            MNIST 4 vs 9: >= 97 % on the first 1000 test images of 4 and 9.
 *
 * Data: $DELTALAB_DATA/<name>, ./data/<name>, ../shared/data/<name>, and
 * /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist). A set
 * that is missing is reported as skipped. The machine is shared, so times are
 * noisy; --epochs shortens a run (the E2 figure then projects the full time),
 * and --probe STEPS times that many E2 batches only (throughput, no accuracy);
 * --quick is all of it in seconds: one epoch, one seed, E2 probed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "threads.h"
#include "train.h"

typedef struct set {
    mat X, y;   /* (N, 784) in [0, 1]; (N, 1) labels */
} set;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Read an IDX file (gzip or plain: gzread handles both) of unsigned bytes:
 * returns the data after the header and the count in dim 0, or NULL. */
static unsigned char *read_idx(const char *path, int want_dims, int *count, int *item)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char h[16];
    int hl = 4 + 4 * want_dims;
    unsigned char *data = NULL;
    if (gzread(f, h, (unsigned)hl) == hl && h[0] == 0 && h[1] == 0 && h[2] == 8 && h[3] == want_dims) {
        size_t n = ((size_t)h[4] << 24) | ((size_t)h[5] << 16) | ((size_t)h[6] << 8) | h[7];
        size_t per = 1;
        for (int d = 1; d < want_dims; d++)
            per *= ((size_t)h[4 + 4 * d + 2] << 8) | h[4 + 4 * d + 3];
        data = malloc(n * per);
        if (data && gzread(f, data, (unsigned)(n * per)) == (int)(n * per)) {
            *count = (int)n;
            *item = (int)per;
        } else {
            free(data);
            data = NULL;
        }
    }
    gzclose(f);
    return data;
}

static int load_set(const char *dir, const char *prefix, set *s)
{
    char p[1024];
    int n, per, nl, one;
    snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    unsigned char *img = read_idx(p, 3, &n, &per);
    snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    unsigned char *lab = read_idx(p, 1, &nl, &one);
    int ok = img && lab && nl == n && per == 784;
    if (ok && mat_new(&s->X, n, 784) == DL_OK && mat_new(&s->y, n, 1) == DL_OK) {
        for (size_t i = 0; i < (size_t)n * 784; i++)
            s->X.data[i] = img[i] / 255.0f;
        for (int i = 0; i < n; i++)
            s->y.data[i] = lab[i];
    } else {
        ok = 0;
    }
    free(img);
    free(lab);
    return ok;
}

/* The first directory of the list holding name's training images. */
static const char *find_data(const char *name, char *buf, size_t size)
{
    const char *env = getenv("DELTALAB_DATA");
    const char *roots[] = { env, "data", "../shared/data", "/work/shared/data", NULL };
    for (int i = 0; i < 4; i++) {
        if (!roots[i])
            continue;
        snprintf(buf, size, "%s/%s/train-images-idx3-ubyte.gz", roots[i], name);
        if (access(buf, R_OK) == 0) {
            snprintf(buf, size, "%s/%s", roots[i], name);
            return buf;
        }
    }
    if (strcmp(name, "fashion-mnist") == 0
        && access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) == 0)
        return "/usr/share/datasets/fashion-mnist";
    return NULL;
}

static int load(const char *name, set *train, set *test)
{
    char buf[1024];
    const char *dir = find_data(name, buf, sizeof buf);
    if (!dir || !load_set(dir, "train", train) || !load_set(dir, "t10k", test)) {
        printf("%-8s skipped: %s not found (make data, or DELTALAB_DATA=dir)\n", "", name);
        return 0;
    }
    return 1;
}

static train_data data_of(set s)
{
    train_data d = { s.X, s.y, { 0 } };
    return d;
}

/* Per-epoch line from the history while training (bench output only). */
typedef struct progress {
    const char *tag;
    int last;
} progress;

static int show_epoch(void *ud, const train_event *ev)
{
    progress *p = ud;
    const trainer *t = ev->t;
    if (ev->kind == TRAIN_EPOCH_END && t->history.n != p->last) {
        int e = t->history.n - 1;
        p->last = t->history.n;
        printf("  %s epoch %2d  loss %.4f  train acc %.2f%%  %.1fs\n", p->tag, e + 1,
               t->history.train_loss[e], 100 * t->history.train_acc[e], t->history.seconds[e]);
        fflush(stdout);
    }
    return 0;
}

/* Train n on train for cfg, return test accuracy, training seconds in *secs. */
static double train_and_test(net *n, train_config c, set train, set test, const char *tag,
                             double *secs, int verbose)
{
    trainer *t = NULL;
    char msg[256];
    if (train_new(&t, n, &c, data_of(train), (train_data){ { 0 }, { 0 }, { 0 } }, msg, sizeof msg)
        != DL_OK) {
        printf("  %s: cannot train: %s\n", tag, msg);
        return -1;
    }
    progress p = { tag, 0 };
    double t0 = now();
    dl_status s = train_run(t, 0, verbose ? show_epoch : NULL, &p);
    double spent = now() - t0;
    if (secs)
        *secs = spent;
    train_eval ev = { 0, 0, 0, 0 };
    if (s == DL_OK)
        s = train_evaluate(n, data_of(test), 0, &ev, NULL);
    train_free(t);
    if (s != DL_OK) {
        printf("  %s: %s\n", tag, dl_strerror(s));
        return -1;
    }
    return ev.accuracy;
}

static net *make(int L, const int *sizes, const dl_act *acts, dl_cost cost, dl_init init,
                 uint64_t seed)
{
    net *n = NULL;
    if (net_new(&n, L, sizes, acts, cost) != DL_OK)
        return NULL;
    net_init(n, init, seed);
    return n;
}

/* Samples/s of PyTorch on the same network and batch, or 0 when unavailable. */
static double torch_rate(int threads, int steps)
{
    if (access("/usr/bin/python3", X_OK) != 0 || access("tests/bench/torch_mlp.py", R_OK) != 0)
        return 0;
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 tests/bench/torch_mlp.py --threads %d --steps %d --rounds 3 2>/dev/null",
             threads, steps);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    char line[256];
    double rate = 0;
    while (fgets(line, sizeof line, p))
        if (sscanf(line, "samples/s %lf", &rate) == 1)
            break;
    pclose(p);
    return rate;
}

static int opt_epochs = 0, opt_seeds = 3, opt_threads = 0, opt_torch = 1, opt_probe = 0;
static int opt_quick = 0;   /* short runs: 1 epoch, 1 seed, E2 probed only */

/* Time `steps` batches of c on n and print the rate and the projected time of
 * the full run (for a quick figure when the full run takes too long). */
static double probe(net *n, train_config c, set train, int steps)
{
    trainer *t = NULL;
    char msg[256];
    if (train_new(&t, n, &c, data_of(train), (train_data){ { 0 }, { 0 }, { 0 } }, msg, sizeof msg)
        != DL_OK)
        return 0;
    train_step(t);   /* sizes the workspace */
    double t0 = now();
    for (int i = 0; i < steps; i++)
        train_step(t);
    double secs = now() - t0;
    train_free(t);
    return steps * (double)c.batch / secs;
}

static void bench_e2(void)
{
    set train, test;
    printf("E2: MNIST 784-3136-1568-10 ReLU/softmax, lr 0.1, batch 32, 6 epochs\n");
    if (!load("mnist", &train, &test))
        return;
    int sizes[] = { 784, 3136, 1568, 10 };
    dl_act acts[] = { DL_RELU, DL_RELU, DL_SOFTMAX };
    net *n = make(3, sizes, acts, DL_LOG_LIKELIHOOD, DL_INIT_HE, 1);
    train_config c = train_config_default();
    c.batch = 32; c.lr = 0.1f; c.epochs = opt_epochs ? opt_epochs : 6; c.seed = 1;
    /* FLOPs per sample: forward 2·Σ n_in·n_out, backward twice that. */
    double flops = 6.0 * (784.0 * 3136 + 3136.0 * 1568 + 1568.0 * 10);
    double secs = 0, rate, acc = -1;
    if (opt_probe) {
        rate = probe(n, c, train, opt_probe);
        secs = 6.0 * train.X.rows / rate;
        printf("  probe of %d batches only: no accuracy; 6 epochs projected %.0f s\n", opt_probe, secs);
        c.epochs = 6;
    } else {
        acc = train_and_test(n, c, train, test, "e2", &secs, 1);
        rate = (double)c.epochs * train.X.rows / secs;
    }
    if (acc >= 0)
        printf("  test accuracy %.2f%%   (reference: >= 98.0%% after 6 epochs)%s\n", 100 * acc,
               c.epochs < 6 ? "  [fewer epochs than the reference]" : "");
    if (opt_probe)
        printf("  %.0f samples/s, %.1f GFLOP/s\n", rate, rate * flops * 1e-9);
    else {
        printf("  %d epochs in %.1f s: %.0f samples/s, %.1f GFLOP/s", c.epochs, secs, rate,
               rate * flops * 1e-9);
        if (c.epochs != 6)
            printf("; 6 epochs projected %.0f s", secs * 6 / c.epochs);
        printf("\n");
    }
    {
        /* E2's other question: online learning (batch 1) against mini-batches. */
        train_config o = c;
        o.batch = 1;
        double orate = probe(n, o, train, opt_quick ? 50 : 200);
        printf("  online (batch 1, probe of %d steps): %.0f samples/s = %.2fx the batch-32 rate\n",
               opt_quick ? 50 : 200, orate, orate / rate);
    }
    if (opt_torch) {
        /* PyTorch at 1 and 2 intra-op threads, compared with the better:
         * on 2 cores its 2-thread setting oversubscribes (OpenMP threads and
         * its BLAS's), so neither setting is its best everywhere. */
        double tr1 = torch_rate(1, opt_quick ? 10 : 40), tr2 = torch_rate(2, opt_quick ? 10 : 40);
        double tr = tr1 > tr2 ? tr1 : tr2;
        if (tr > 0)
            printf("  PyTorch (Debian python3-torch, same net and batch): %.0f samples/s at "
                   "set_num_threads(1), %.0f at 2; deltalab (%d threads) / PyTorch's best = %.2fx "
                   "(goal >= 2x)\n", tr1, tr2, dl_threads(), rate / tr);
        else
            printf("  PyTorch: not installed (apt-get install python3-torch) — no comparison\n");
    }
    net_free(n);
}

static void bench_nielsen(void)
{
    set train, test;
    printf("Nielsen ch.1: 784-30-10 sigmoid, quadratic, eta 3.0, batch 10, 30 epochs, 50k images\n");
    if (!load("mnist", &train, &test))
        return;
    set first = { mat_sub(train.X, 0, 0, 50000, 784), mat_sub(train.y, 0, 0, 50000, 1) };
    int sizes[] = { 784, 30, 10 };
    double lo = 1, hi = 0, sum = 0;
    for (int seed = 1; seed <= opt_seeds; seed++) {
        net *n = make(2, sizes, NULL, DL_QUADRATIC, DL_INIT_NIELSEN, (uint64_t)seed);
        train_config c = train_config_default();
        c.batch = 10; c.lr = 3.0f; c.epochs = opt_epochs ? opt_epochs : 30; c.seed = (uint64_t)seed;
        double secs;
        double acc = train_and_test(n, c, first, test, "nielsen", &secs, 0);
        printf("  seed %d: test accuracy %.2f%% (%.1f s)\n", seed, 100 * acc, secs);
        fflush(stdout);
        lo = acc < lo ? acc : lo;
        hi = acc > hi ? acc : hi;
        sum += acc;
        net_free(n);
    }
    printf("  mean %.2f%%, spread %.2f..%.2f%% over %d seeds   (reference: about 95.4%%)\n",
           100 * sum / opt_seeds, 100 * lo, 100 * hi, opt_seeds);
}

static void bench_e6(void)
{
    set train, test;
    printf("E6: Fashion-MNIST, softmax regression and a 100-ReLU MLP\n");
    if (!load("fashion-mnist", &train, &test))
        return;
    int s1[] = { 784, 10 };
    dl_act a1[] = { DL_SOFTMAX };
    net *n = make(1, s1, a1, DL_LOG_LIKELIHOOD, DL_INIT_ZEROS, 1);
    train_config c = train_config_default();
    c.batch = 32; c.lr = 0.1f; c.epochs = opt_epochs ? opt_epochs : 10; c.seed = 1;
    double secs;
    double acc = train_and_test(n, c, train, test, "logistic", &secs, 0);
    printf("  logistic regression: test accuracy %.3f (%.1f s)   (reference: about 0.84)\n",
           acc, secs);
    net_free(n);
    int s2[] = { 784, 100, 10 };
    dl_act a2[] = { DL_RELU, DL_SOFTMAX };
    n = make(2, s2, a2, DL_LOG_LIKELIHOOD, DL_INIT_HE, 1);
    acc = train_and_test(n, c, train, test, "mlp", &secs, 0);
    printf("  MLP 784-100-10:      test accuracy %.3f (%.1f s)   (reference: about 0.87)\n",
           acc, secs);
    net_free(n);
}

/* Rows of s whose label is a or b, relabelled 0 (a) and 1 (b); at most max rows. */
static set two_digits(set s, int a, int b, int max)
{
    set out;
    int n = 0;
    for (int i = 0; i < s.y.rows; i++)
        n += s.y.data[i] == a || s.y.data[i] == b;
    if (n > max)
        n = max;
    mat_new(&out.X, n, 784);
    mat_new(&out.y, n, 1);
    for (int i = 0, k = 0; i < s.y.rows && k < n; i++)
        if (s.y.data[i] == a || s.y.data[i] == b) {
            memcpy(mat_at(out.X, k, 0), mat_at(s.X, i, 0), 784 * sizeof(float));
            out.y.data[k++] = s.y.data[i] == b;
        }
    return out;
}

/* E3 as the course runs it: a grid over λ × lr, the cell chosen on a
 * validation split held out from the training images (never on the test
 * images), then its count of correct test images out of 1000. */
static void bench_e3(void)
{
    set train, test;
    printf("E3: logistic regression with L2, MNIST 4 vs 9, grid lambda x lr\n");
    if (!load("mnist", &train, &test))
        return;
    set all = two_digits(train, 4, 9, 1 << 30), te = two_digits(test, 4, 9, 1000);
    set te_all = two_digits(test, 4, 9, 1 << 30);
    int nv = 1000, nt = all.X.rows - nv;
    set tr = { mat_sub(all.X, 0, 0, nt, 784), mat_sub(all.y, 0, 0, nt, 1) };
    set va = { mat_sub(all.X, nt, 0, nv, 784), mat_sub(all.y, nt, 0, nv, 1) };
    float lrs[] = { 0.01f, 0.1f, 0.5f }, lams[] = { 0.0f, 1.0f, 10.0f, 100.0f };
    int sizes[] = { 784, 1 };
    dl_act acts[] = { DL_SIGMOID };
    double best_val = -1, best_test = 0, best_all = 0;
    float best_lr = 0, best_lam = 0;
    printf("  %8s %8s %9s %9s\n", "lambda", "lr", "val acc", "test acc");
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++) {
            net *n = make(1, sizes, acts, DL_CROSS_ENTROPY, DL_INIT_ZEROS, 1);
            train_config c = train_config_default();
            c.batch = 32; c.lr = lrs[j]; c.lambda = lams[i]; c.epochs = opt_epochs ? opt_epochs : 20;
            double vacc = train_and_test(n, c, tr, va, "e3", NULL, 0);
            train_eval ev, ev_all;
            train_evaluate(n, data_of(te), 0, &ev, NULL);
            train_evaluate(n, data_of(te_all), 0, &ev_all, NULL);
            printf("  %8g %8g %8.1f%% %8.1f%%\n", (double)lams[i], (double)lrs[j], 100 * vacc,
                   100 * ev.accuracy);
            if (vacc > best_val) {
                best_val = vacc; best_test = ev.accuracy; best_lr = lrs[j]; best_lam = lams[i];
                best_all = ev_all.accuracy;
            }
            net_free(n);
        }
    printf("  chosen on validation: lambda %g, lr %g: %d of %d test images right, %.1f%%"
           "   (reference: >= 97%%)\n", (double)best_lam, (double)best_lr,
           (int)(best_test * te.X.rows + 0.5), te.X.rows, 100 * best_test);
    printf("  the same weights on all %d test images of 4 and 9: %.1f%% (the first 1000 are the"
           " harder ones)\n", te_all.X.rows, 100 * best_all);
}

int main(int argc, char **argv)
{
    const char *which = "all";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc)
            opt_epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
            opt_seeds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            opt_threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--probe") == 0 && i + 1 < argc)
            opt_probe = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-torch") == 0)
            opt_torch = 0;
        else if (strcmp(argv[i], "--quick") == 0)   /* QUICK=1 tests/bench/run.sh */
            opt_epochs = 1, opt_seeds = 1, opt_probe = 30, opt_quick = 1;
        else if (argv[i][0] != '-')
            which = argv[i];
        else {
            fprintf(stderr, "accuracy: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (opt_seeds < 1)
        opt_seeds = 1;
    if (opt_threads > 0)
        dl_threads_set(opt_threads);
    printf("accuracy oracles (kernels: %s, %d threads; shared machine: times are noisy)\n",
           kern()->isa, dl_threads());
    if (opt_epochs)
        printf("note: runs shortened to %d epoch(s): accuracies fall below their references\n",
               opt_epochs);
    int all = strcmp(which, "all") == 0;
    if (!all && strcmp(which, "e2") && strcmp(which, "nielsen") && strcmp(which, "e6")
        && strcmp(which, "e3")) {
        fprintf(stderr, "accuracy: unknown benchmark %s (e2, nielsen, e6, e3 or all)\n", which);
        return 2;
    }
    if (all || strcmp(which, "e3") == 0) bench_e3();
    if (all || strcmp(which, "e6") == 0) bench_e6();
    if (all || strcmp(which, "nielsen") == 0) bench_nielsen();
    if (all || strcmp(which, "e2") == 0) bench_e2();
    return 0;
}
