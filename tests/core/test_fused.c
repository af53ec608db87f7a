/*
 * test_fused.c — the update fused into the gradient product
 * (net_backward_update) against the unfused net_backward + net_update:
 *   - the same weights after 20 steps, to 5e-5 relative (the fused product
 *     rounds (η/B)·δᵀA once, the unfused path rounds dW and then η·dW; the
 *     difference is a few ulp per step and the nets are contractive enough
 *     not to amplify it), for plain SGD, L2, momentum, both, and with frozen
 *     weights or biases;
 *   - after one step from the same parameters: the biases, frozen parameters
 *     and the synced dW, db bit for bit equal to the unfused ones;
 *   - stale gradients are written before anything overwrites the workspace
 *     (a forward on other data), and forgotten only when asked or by the
 *     next step, which replaces them;
 *   - a batch-1 net_step leaves them stale too, through a new one-sample
 *     input (its own input is kept), and they are then exactly net_backward's;
 *   - it leaves its update of W¹ pending for the next forward, and every
 *     reader of the parameters sees it made;
 *   - a fused step allocates nothing.
 * Sizes are chosen so that the products take the GEMM's edge tiles and, for
 * the wider net, run on two threads.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "net.h"
#include "threads.h"

#include "count_alloc.h"  /* n_allocs, COUNTING */

typedef struct data {
    mat X, Y;
} data;

/* B rows of inputs in [−1, 1] and one-hot targets, from a fixed generator. */
static data make_data(int B, int n_in, int n_out, uint64_t seed)
{
    data d;
    rng r;
    rng_seed(&r, seed);
    mat_new(&d.X, B, n_in);
    mat_new(&d.Y, B, n_out);
    mat_fill(d.Y, 0.0f);
    for (int i = 0; i < B; i++) {
        for (int k = 0; k < n_in; k++)
            *mat_at(d.X, i, k) = (float)(2 * rng_uniform(&r) - 1);
        *mat_at(d.Y, i, (int)(rng_uniform(&r) * n_out) % n_out) = 1.0f;
    }
    return d;
}

static void free_data(data *d)
{
    mat_free(&d->X);
    mat_free(&d->Y);
}

static net *make_net(int L, const int *sizes, const dl_act *acts, dl_cost cost)
{
    net *n = NULL;
    CHECK(net_new(&n, L, sizes, acts, cost) == DL_OK);
    CHECK(net_init(n, DL_INIT_HE, 5) == DL_OK);
    for (size_t p = 0; p < n->n_params; p++)   /* biases too, not zero */
        n->params[p] += 0.01f * (float)((p * 7919) % 13) - 0.06f;
    return n;
}

/* Largest |a − b| over a block, relative to max(1e-3, |b|). */
static double rel_diff(const float *a, const float *b, size_t len)
{
    double worst = 0;
    for (size_t i = 0; i < len; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(1e-3, fabs(b[i]));
        if (d > worst) worst = d;
    }
    return worst;
}

static int same(const float *a, const float *b, size_t len)
{
    return memcmp(a, b, len * sizeof(float)) == 0;
}

/* One configuration: nets u (unfused) and f (fused) from the same start,
 * `steps` steps on batches cycling through d, compared. */
static void compare(int L, const int *sizes, const dl_act *acts, dl_cost cost, int B,
                    net_hyper h, int freeze_W, int freeze_b, int steps, double tol)
{
    net *u = make_net(L, sizes, acts, cost), *f = make_net(L, sizes, acts, cost);
    u->layers[0].frozen_W = f->layers[0].frozen_W = freeze_W;
    u->layers[L - 1].frozen_b = f->layers[L - 1].frozen_b = freeze_b;
    float *start = malloc(u->n_params * sizeof(float));
    memcpy(start, u->params, u->n_params * sizeof(float));
    data d = make_data(4 * B, sizes[0], sizes[L], 11);
    for (int s = 0; s < steps; s++) {
        mat X = mat_sub(d.X, (s % 4) * B, 0, B, sizes[0]);
        mat Y = mat_sub(d.Y, (s % 4) * B, 0, B, sizes[L]);
        CHECK(net_forward(u, X) == DL_OK && net_backward(u, Y) == DL_OK);
        CHECK(net_update(u, &h) == DL_OK);
        CHECK(net_forward(f, X) == DL_OK && net_backward_update(f, Y, &h) == DL_OK);
        CHECK(f->grads_stale);
        if (s == 0) {
            /* Same δ (same weights before the step): biases, frozen blocks
             * and the gradients once written agree bit for bit. */
            for (int l = 0; l < L; l++)
                CHECK(same(u->layers[l].b.data, f->layers[l].b.data, (size_t)sizes[l + 1]));
            net_sync_grads(f);
            CHECK(!f->grads_stale);
            CHECK(same(u->grads, f->grads, u->n_params));
        }
    }
    double worst = rel_diff(f->params, u->params, u->n_params);
    CHECK_NEAR(worst, 0, tol);
    double moved = rel_diff(u->params, start, u->n_params);
    CHECK(moved > 100 * tol);   /* the comparison is not of two idle nets */
    if (freeze_W)
        CHECK(same(f->layers[0].W.data, start + (f->layers[0].W.data - f->params),
                   mat_size(f->layers[0].W)));
    if (freeze_b)
        CHECK(same(f->layers[L - 1].b.data, start + (f->layers[L - 1].b.data - f->params),
                   (size_t)sizes[L]));
    free(start);
    free_data(&d);
    net_free(u);
    net_free(f);
}

static const int small[] = { 7, 33, 17, 5 };
static const dl_act small_acts[] = { DL_TANH, DL_RELU, DL_SOFTMAX };
static const int wide[] = { 200, 300, 10 };
static const dl_act wide_acts[] = { DL_RELU, DL_SOFTMAX };

static void run_both(net_hyper h, int freeze_W, int freeze_b)
{
    compare(3, small, small_acts, DL_LOG_LIKELIHOOD, 12, h, freeze_W, freeze_b, 20, 5e-5);
    compare(2, wide, wide_acts, DL_LOG_LIKELIHOOD, 32, h, freeze_W, freeze_b, 20, 5e-5);
}

static void test_plain_sgd(void) { run_both((net_hyper){ 0.1f, 0, 1, 0 }, 0, 0); }
static void test_l2(void)        { run_both((net_hyper){ 0.1f, 5.0f, 100, 0 }, 0, 0); }
static void test_momentum(void)  { run_both((net_hyper){ 0.05f, 0, 1, 0.9f }, 0, 0); }
static void test_l2_momentum(void) { run_both((net_hyper){ 0.05f, 5.0f, 100, 0.9f }, 0, 0); }
static void test_frozen(void)
{
    run_both((net_hyper){ 0.1f, 5.0f, 100, 0 }, 1, 0);
    run_both((net_hyper){ 0.05f, 5.0f, 100, 0.9f }, 0, 1);
    run_both((net_hyper){ 0.05f, 0, 1, 0.9f }, 1, 1);
}

/* Batch 1 (the rank-1 product) and sigmoid + quadratic cost. */
static void test_batch1_quadratic(void)
{
    static const int s[] = { 9, 20, 3 };
    static const dl_act a[] = { DL_SIGMOID, DL_SIGMOID };
    compare(2, s, a, DL_QUADRATIC, 1, (net_hyper){ 0.5f, 1.0f, 10, 0.5f }, 0, 0, 20, 5e-5);
}

/* Batch 1 with momentum: one pass over W and V a layer (dense_momentum_step),
 * against net_backward + net_update; 200 inputs take the kernel's 8-lane body
 * and 9 its masked tail; frozen layers keep their weights. */
static void test_batch1_momentum(void)
{
    static const int s[] = { 9, 20, 3 };
    static const dl_act a[] = { DL_SIGMOID, DL_SIGMOID };
    compare(2, wide, wide_acts, DL_LOG_LIKELIHOOD, 1, (net_hyper){ 0.05f, 0, 1, 0.9f }, 0, 0, 20,
            5e-5);
    compare(2, wide, wide_acts, DL_LOG_LIKELIHOOD, 1, (net_hyper){ 0.05f, 5.0f, 100, 0.9f }, 1, 1,
            20, 5e-5);
    compare(2, s, a, DL_QUADRATIC, 1, (net_hyper){ 0.5f, 0, 1, 0.9f }, 0, 1, 20, 5e-5);
}

/* A forward on other data writes the stale gradients first; net_forget_grads
 * drops them; with accumulate the step is the unfused one. */
static void test_stale_semantics(void)
{
    net *u = make_net(3, small, small_acts, DL_LOG_LIKELIHOOD);
    net *f = make_net(3, small, small_acts, DL_LOG_LIKELIHOOD);
    data d = make_data(24, small[0], small[3], 3);
    mat X1 = mat_sub(d.X, 0, 0, 12, small[0]), Y1 = mat_sub(d.Y, 0, 0, 12, small[3]);
    mat X2 = mat_sub(d.X, 12, 0, 12, small[0]);
    net_hyper h = { 0.1f, 0, 1, 0 };
    CHECK(net_forward(u, X1) == DL_OK && net_backward(u, Y1) == DL_OK);
    CHECK(net_forward(f, X1) == DL_OK && net_backward_update(f, Y1, &h) == DL_OK);
    CHECK(net_forward(f, X2) == DL_OK);          /* overwrites the workspace ... */
    CHECK(!f->grads_stale);
    CHECK(same(u->grads, f->grads, u->n_params));  /* ... after writing dW, db */

    net_zero_grads(f);
    CHECK(net_forward(f, X1) == DL_OK && net_backward_update(f, Y1, &h) == DL_OK);
    net_forget_grads(f);
    CHECK(net_forward(f, X2) == DL_OK);
    CHECK(f->grads[0] == 0.0f && f->grads[u->n_params / 2] == 0.0f);  /* left unwritten */

    /* accumulate: the sum of gradients, so the unfused path, dW written. */
    net_zero_grads(u);
    net_zero_grads(f);
    memcpy(f->params, u->params, u->n_params * sizeof(float));
    u->accumulate = f->accumulate = 1;
    CHECK(net_forward(u, X1) == DL_OK && net_backward(u, Y1) == DL_OK && net_update(u, &h) == DL_OK);
    CHECK(net_forward(f, X1) == DL_OK && net_backward_update(f, Y1, &h) == DL_OK);
    CHECK(!f->grads_stale);
    CHECK(same(u->grads, f->grads, u->n_params));
    CHECK(same(u->params, f->params, u->n_params));
    free_data(&d);
    net_free(u);
    net_free(f);
}

/* A batch-1 net_step leaves dW, db stale (STALE_X_KEPT). They survive the
 * next sample being put in x — net_step's input is kept — and are then bit
 * for bit what net_backward gives on that step's sample; a batch of another
 * size writes them first; the next step drops them unwritten. */
static void test_stale_batch_one(void)
{
    net *u = make_net(3, small, small_acts, DL_LOG_LIKELIHOOD);
    net *f = make_net(3, small, small_acts, DL_LOG_LIKELIHOOD);
    data d = make_data(3, small[0], small[3], 4);
    mat x1 = mat_sub(d.X, 0, 0, 1, small[0]), y1 = mat_sub(d.Y, 0, 0, 1, small[3]);
    mat x2 = mat_sub(d.X, 1, 0, 1, small[0]), X23 = mat_sub(d.X, 1, 0, 2, small[0]);
    net_hyper h = { 0.1f, 0.5f, 10, 0 };
    CHECK(net_forward(u, x1) == DL_OK && net_backward(u, y1) == DL_OK);

    CHECK(net_step(f, x1, y1, &h, NULL) == DL_OK);
    CHECK(f->grads_stale == STALE_X_KEPT);
    CHECK(net_set_input(f, x2) == DL_OK);        /* the next sample, as net:step puts it */
    CHECK(f->grads_stale == STALE_X_KEPT);
    net_sync_grads(f);
    CHECK(same(u->grads, f->grads, u->n_params));

    CHECK(f->w_pending);                         /* W¹'s update waits for a forward */
    net_settle_weights(f);                       /* params read directly: settle first */
    memcpy(u->params, f->params, u->n_params * sizeof(float));   /* u at f's parameters */
    CHECK(net_forward(u, x1) == DL_OK && net_backward(u, y1) == DL_OK);
    CHECK(net_step(f, x1, y1, &h, NULL) == DL_OK);
    CHECK(net_forward(f, X23) == DL_OK);         /* two rows: written first */
    CHECK(!f->grads_stale);
    CHECK(same(u->grads, f->grads, u->n_params));

    net_zero_grads(f);
    CHECK(net_step(f, x1, y1, &h, NULL) == DL_OK);
    memset(f->grads, 0, f->n_params * sizeof(float));
    CHECK(net_step(f, x2, y1, &h, NULL) == DL_OK);   /* drops the last step's unwritten */
    CHECK(f->grads[0] == 0.0f && f->grads[f->n_params / 2] == 0.0f);
    free_data(&d);
    net_free(u);
    net_free(f);
}

static void test_allocates_nothing(void)
{
    net *f = make_net(2, wide, wide_acts, DL_LOG_LIKELIHOOD);
    data d = make_data(32, wide[0], wide[2], 9);
    net_hyper h = { 0.05f, 1.0f, 100, 0.9f };
    CHECK(net_forward(f, d.X) == DL_OK && net_backward_update(f, d.Y, &h) == DL_OK);
    long before = n_allocs;
    for (int s = 0; s < 5; s++) {
        net_forget_grads(f);
        CHECK(net_forward(f, d.X) == DL_OK && net_backward_update(f, d.Y, &h) == DL_OK);
    }
    net_sync_grads(f);
    if (COUNTING)
        CHECK(n_allocs == before);
    free_data(&d);
    net_free(f);
}

/* The largest |p − q| over n values. */
static double max_diff(const float *p, const float *q, size_t n)
{
    double w = 0;
    for (size_t i = 0; i < n; i++)
        w = fmax(w, fabs((double)p[i] - q[i]));
    return w;
}

/* The largest difference of two nets' weights and biases (not the padding
 * between them, which no one reads). */
static double param_diff(const net *p, const net *q)
{
    double w = 0;
    for (int l = 0; l < p->L; l++) {
        w = fmax(w, max_diff(p->layers[l].W.data, q->layers[l].W.data, mat_size(p->layers[l].W)));
        w = fmax(w, max_diff(p->layers[l].b.data, q->layers[l].b.data, mat_size(p->layers[l].b)));
    }
    return w;
}

/* From the same parameters, one batch-1 net_step on f (W¹'s update left
 * pending) and the unfused forward, backward, update on u. */
static void step_both(net *u, net *f, mat x, mat y, const net_hyper *h)
{
    net_settle_weights(f);
    memcpy(u->params, f->params, u->n_params * sizeof(float));
    CHECK(net_step(f, x, y, h, NULL) == DL_OK);
    CHECK(f->w_pending);
    CHECK(net_forward(u, x) == DL_OK && net_backward(u, y) == DL_OK && net_update(u, h) == DL_OK);
}

/* Every reader of the parameters sees W¹ with a batch-1 step's pending
 * update made: the sum of squares, a batch forward, the double-precision
 * cost, a saved file, a batch-1 forward (the fused pass), net_update, and
 * net_init, which draws W anew and drops it. The unfused step rounds δ·a,
 * then η·dW, the fused one δ·a then one FMA: a few ulp of values below 1. */
static void test_pending_readers(void)
{
    net *u = make_net(3, small, small_acts, DL_LOG_LIKELIHOOD);
    net *f = make_net(3, small, small_acts, DL_LOG_LIKELIHOOD);
    data d = make_data(3, small[0], small[3], 5);
    mat x1 = mat_sub(d.X, 0, 0, 1, small[0]), y1 = mat_sub(d.Y, 0, 0, 1, small[3]);
    mat X2 = mat_sub(d.X, 1, 0, 2, small[0]);
    net_hyper h = { 0.1f, 0.5f, 10, 0 };
    const double tol = 1e-6;

    step_both(u, f, x1, y1, &h);
    CHECK_NEAR(net_weight_sumsq(f), net_weight_sumsq(u), tol * net_weight_sumsq(u));
    CHECK(!f->w_pending);

    step_both(u, f, x1, y1, &h);
    CHECK(net_forward(f, X2) == DL_OK && net_forward(u, X2) == DL_OK);
    mat of = net_output(f), ou = net_output(u);
    CHECK(max_diff(of.data, ou.data, mat_size(ou)) < tol);

    step_both(u, f, x1, y1, &h);
    double cf, cu;
    CHECK(net_cost_double(f, x1, y1, &cf) == DL_OK && net_cost_double(u, x1, y1, &cu) == DL_OK);
    CHECK_NEAR(cf, cu, tol);

    step_both(u, f, x1, y1, &h);
    char path[] = "/tmp/deltalab-test-pending-XXXXXX", msg[200];
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    net *g = NULL;
    CHECK(net_save(f, path, msg, sizeof msg) == DL_OK);
    CHECK(net_load(&g, path, msg, sizeof msg) == DL_OK);
    unlink(path);
    CHECK(g && param_diff(g, u) < tol);
    net_free(g);

    step_both(u, f, x1, y1, &h);
    CHECK(net_forward(f, x1) == DL_OK && !f->w_pending);   /* the fused pass */
    CHECK(param_diff(f, u) < tol);

    step_both(u, f, x1, y1, &h);
    CHECK(net_backward(f, y1) == DL_OK && net_update(f, &h) == DL_OK);
    CHECK(net_backward(u, y1) == DL_OK && net_update(u, &h) == DL_OK);
    CHECK(param_diff(f, u) < 2 * tol);

    step_both(u, f, x1, y1, &h);
    CHECK(net_init(f, DL_INIT_SCALED, 3) == DL_OK && net_init(u, DL_INIT_SCALED, 3) == DL_OK);
    CHECK(!f->w_pending && param_diff(f, u) == 0);
    free_data(&d);
    net_free(u);
    net_free(f);
}

int main(void)
{
    dl_threads_set(2);
    RUN(test_plain_sgd);
    RUN(test_l2);
    RUN(test_momentum);
    RUN(test_l2_momentum);
    RUN(test_frozen);
    RUN(test_batch1_quadratic);
    RUN(test_batch1_momentum);
    RUN(test_stale_semantics);
    RUN(test_stale_batch_one);
    RUN(test_pending_readers);
    RUN(test_allocates_nothing);
    return check_summary();
}
