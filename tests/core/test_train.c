/*
 * test_train.c — the trainer core against independent oracles:
 *   - the same batches fed by hand to net_step (no shuffle) give bit-identical
 *     parameters, with and without momentum and L2: the trainer adds ordering,
 *     bookkeeping and nothing else;
 *   - the learning-rate schedules against their formulas;
 *   - toy problems that must be learned (xor, 3-class spirals, a separable set
 *     by the perceptron rule), and one perceptron update worked by hand;
 *   - early stopping against a separately trained copy of the best epoch;
 *   - the loop's hook: every event in order, stops on request, Ctrl-C (the
 *     flag raised from the hook), a custom schedule set by it, the progress
 *     bar written to a memory stream; resuming gives the same result as an
 *     uninterrupted run;
 *   - evaluation and most-confident errors against direct computation;
 *   - no allocation in a training step (counting malloc wrappers);
 *   - every configuration error with its message.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "train.h"

#include "count_alloc.h"  /* n_allocs, COUNTING */

/* ------------------------------------------------------------ helpers */

static net *make_net(int L, const int *sizes, const dl_act *acts, dl_cost cost, uint64_t seed)
{
    net *n = NULL;
    if (net_new(&n, L, sizes, acts, cost) != DL_OK)
        return NULL;
    net_init(n, DL_INIT_XAVIER, seed);
    return n;
}

/* A data set owned by the test: X (N, d), labels (N, 1). */
typedef struct set {
    mat X, y;
} set;

static train_data as_data(set s)
{
    train_data d = { s.X, s.y, { 0 } };
    return d;
}

static train_data no_data(void)
{
    train_data d;
    memset(&d, 0, sizeof d);
    return d;
}

static void free_set(set *s)
{
    mat_free(&s->X);
    mat_free(&s->y);
}

/* xor: the four corners, labels 0/1. */
static set xor_set(void)
{
    set s;
    mat_new(&s.X, 4, 2);
    mat_new(&s.y, 4, 1);
    for (int i = 0; i < 4; i++) {
        *mat_at(s.X, i, 0) = (float)(i & 1);
        *mat_at(s.X, i, 1) = (float)(i >> 1);
        *mat_at(s.y, i, 0) = (float)((i & 1) ^ (i >> 1));
    }
    return s;
}

/* k interleaved spiral arms of m points each, a little noise (CS231n's). */
static set spiral_set(int k, int m, uint64_t seed)
{
    set s;
    rng r;
    rng_seed(&r, seed);
    mat_new(&s.X, k * m, 2);
    mat_new(&s.y, k * m, 1);
    for (int c = 0; c < k; c++)
        for (int i = 0; i < m; i++) {
            double rad = (double)i / m;
            double th = c * 4.0 + 4.0 * i / m + 0.2 * rng_normal(&r);
            *mat_at(s.X, c * m + i, 0) = (float)(rad * sin(th));
            *mat_at(s.X, c * m + i, 1) = (float)(rad * cos(th));
            *mat_at(s.y, c * m + i, 0) = (float)c;
        }
    return s;
}

/* Gaussian blobs around k centres on a circle of radius sep, labels 0..k−1. */
static set blob_set(int k, int m, double sep, uint64_t seed)
{
    set s;
    rng r;
    rng_seed(&r, seed);
    mat_new(&s.X, k * m, 2);
    mat_new(&s.y, k * m, 1);
    for (int i = 0; i < k * m; i++) {
        int c = i % k;
        *mat_at(s.X, i, 0) = (float)(sep * cos(2 * M_PI * c / k) + rng_normal(&r));
        *mat_at(s.X, i, 1) = (float)(sep * sin(2 * M_PI * c / k) + rng_normal(&r));
        *mat_at(s.y, i, 0) = (float)c;
    }
    return s;
}

static int same_params(const net *a, const net *b)
{
    return a->n_params == b->n_params
        && memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0;
}

/* Largest |a − b| over all parameters, relative to max(1, |b|). */
static double params_diff(const net *a, const net *b)
{
    double worst = 0;
    for (size_t p = 0; p < a->n_params; p++) {
        double d = fabs((double)a->params[p] - b->params[p]) / fmax(1.0, fabs(b->params[p]));
        if (d > worst) worst = d;
    }
    return worst;
}

static int steps_of(const trainer *t)
{
    return (t->N + t->cfg.batch - 1) / t->cfg.batch;
}

static double accuracy_of(net *n, set s)
{
    train_eval ev;
    if (train_evaluate(n, as_data(s), 0, &ev, NULL) != DL_OK)
        return -1;
    return ev.accuracy;
}

/* -------------------------------------------------------------- tests */

/* With shuffle off, the trainer must do what net_step does on the batches
 * in order — the last one short — including momentum and L2. The trainer's
 * update is fused into the gradient product (rounded once, not twice), so
 * the weights agree to a few ulp per step, not bit for bit. */
static void test_matches_net_step(void)
{
    set s = blob_set(3, 10, 2.0, 7);   /* 30 rows: batches 8, 8, 8, 6 */
    int sizes[] = { 2, 5, 3 };
    dl_act acts[] = { DL_TANH, DL_SOFTMAX };
    net *a = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 3);
    net *b = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 3);
    train_config c = train_config_default();
    c.batch = 8; c.epochs = 2; c.lr = 0.3f; c.lambda = 0.5f; c.momentum = 0.9f; c.shuffle = 0;
    trainer *t = NULL;
    CHECK(train_new(&t, a, &c, as_data(s), no_data(), NULL, 0) == DL_OK);
    CHECK(train_run(t, 0, NULL, NULL) == DL_OK);

    net_hyper h = { 0.3f, 0.5f, 30.0f, 0.9f };
    double sum = 0;
    for (int e = 0; e < 2; e++)
        for (int r0 = 0; r0 < 30; r0 += 8) {
            int B = 30 - r0 < 8 ? 30 - r0 : 8;
            mat Y;
            net_labels_to_targets(b, mat_sub(s.y, r0, 0, B, 1), &Y);
            double cst;
            CHECK(net_step(b, mat_sub(s.X, r0, 0, B, 2), Y, &h, &cst) == DL_OK);
            if (e == 1)
                sum += cst * B;
        }
    CHECK(a->n_params == b->n_params);
    CHECK_NEAR(params_diff(a, b), 0, 1e-5);
    CHECK(t->history.n == 2);
    CHECK_NEAR(t->history.train_loss[1], sum / 30, 1e-5);
    CHECK(isnan(t->history.val_loss[0]));
    train_free(t);
    net_free(a);
    net_free(b);
    free_set(&s);
}

/* At batch 1 without momentum the trainer takes net_step's one-sample
 * kernels: W¹'s update is left to the next forward (pending after a step),
 * the weights are bit for bit a loop of net_step's, within 1e-5 of the
 * unfused net_backward + net_update (one rounding against two per step),
 * the end-of-epoch validation sees the updated weights, and a step
 * allocates nothing. */
static void test_batch1_takes_one_sample_step(void)
{
    set s = blob_set(3, 10, 2.0, 5), v = blob_set(3, 5, 2.0, 6);
    int sizes[] = { 2, 6, 3 };
    dl_act acts[] = { DL_SIGMOID, DL_SOFTMAX };
    net *a = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 4);
    net *b = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 4);
    net *u = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 4);
    train_config c = train_config_default();
    c.batch = 1; c.epochs = 3; c.lr = 0.2f; c.lambda = 0.3f; c.shuffle = 0; c.patience = 10;
    trainer *t = NULL;
    CHECK(train_new(&t, a, &c, as_data(s), as_data(v), NULL, 0) == DL_OK);
    CHECK(train_step(t) == DL_OK && a->w_pending);
    long before = n_allocs;
    for (int i = 1; i < 3 * 30; i++)
        CHECK(train_step(t) == DL_OK);
    CHECK(n_allocs == before);

    net_hyper h = { 0.2f, 0.3f, 30.0f, 0.0f };
    for (int e = 0; e < 3; e++)
        for (int r = 0; r < 30; r++) {
            mat X = mat_sub(s.X, r, 0, 1, 2), Y;
            net_labels_to_targets(b, mat_sub(s.y, r, 0, 1, 1), &Y);
            CHECK(net_step(b, X, Y, &h, NULL) == DL_OK);
            net_labels_to_targets(u, mat_sub(s.y, r, 0, 1, 1), &Y);
            CHECK(net_forward(u, X) == DL_OK && net_backward(u, Y) == DL_OK);
            CHECK(net_update(u, &h) == DL_OK);
        }
    net_settle_weights(a);
    net_settle_weights(b);
    CHECK(same_params(a, b));
    CHECK_NEAR(params_diff(a, u), 0, 1e-5);
    train_eval ev;   /* the last epoch's validation loss is the settled net's */
    CHECK(train_evaluate(a, as_data(v), 0, &ev, NULL) == DL_OK);
    CHECK(t->history.n == 3 && t->history.val_loss[2] == ev.loss);
    train_free(t);
    net_free(a);
    net_free(b);
    net_free(u);
    free_set(&s);
    free_set(&v);
}

static void test_schedules(void)
{
    train_config c = train_config_default();
    c.lr = 0.8f;
    CHECK(train_schedule_lr(&c, 5) == 0.8f);
    c.schedule = TRAIN_STEP; c.step_every = 2; c.step_gamma = 0.5f;
    CHECK(train_schedule_lr(&c, 0) == 0.8f);
    CHECK(train_schedule_lr(&c, 1) == 0.8f);
    CHECK_NEAR(train_schedule_lr(&c, 2), 0.4, 1e-7);
    CHECK_NEAR(train_schedule_lr(&c, 5), 0.2, 1e-7);
    c.schedule = TRAIN_INV_T; c.inv_decay = 0.5f;
    CHECK(train_schedule_lr(&c, 0) == 0.8f);
    CHECK_NEAR(train_schedule_lr(&c, 2), 0.4, 1e-7);
    CHECK_NEAR(train_schedule_lr(&c, 6), 0.2, 1e-7);

    /* The history records the η each epoch used. */
    set s = xor_set();
    int sizes[] = { 2, 3, 2 };
    dl_act acts[] = { DL_SIGMOID, DL_SOFTMAX };
    net *n = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 1);
    c.schedule = TRAIN_STEP; c.step_every = 1; c.step_gamma = 0.1f; c.epochs = 3;
    trainer *t = NULL;
    CHECK(train_new(&t, n, &c, as_data(s), no_data(), NULL, 0) == DL_OK);
    CHECK(train_run(t, 0, NULL, NULL) == DL_OK);
    CHECK(t->history.n == 3);
    CHECK_NEAR(t->history.lr[0], 0.8, 1e-7);
    CHECK_NEAR(t->history.lr[2], 0.008, 1e-9);
    train_free(t);
    net_free(n);
    free_set(&s);
}

static void test_xor_learned(void)
{
    set s = xor_set();
    int sizes[] = { 2, 4, 2 };
    dl_act acts[] = { DL_TANH, DL_SOFTMAX };
    net *n = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 11);
    train_config c = train_config_default();
    c.batch = 4; c.epochs = 1500; c.lr = 0.5f; c.seed = 5;
    trainer *t = NULL;
    CHECK(train_new(&t, n, &c, as_data(s), no_data(), NULL, 0) == DL_OK);
    CHECK(train_run(t, 0, NULL, NULL) == DL_OK);
    CHECK(accuracy_of(n, s) == 1.0);
    CHECK(t->history.train_loss[1499] < 0.05);
    CHECK(t->history.train_loss[1499] < t->history.train_loss[0]);
    train_free(t);
    net_free(n);
    free_set(&s);
}

/* Three spiral arms are not linearly separable; a ReLU MLP must get > 95 %. */
static void test_spirals_learned(void)
{
    set s = spiral_set(3, 100, 2);
    int sizes[] = { 2, 64, 3 };
    dl_act acts[] = { DL_RELU, DL_SOFTMAX };
    net *n = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 4);
    train_config c = train_config_default();
    c.batch = 32; c.epochs = 600; c.lr = 0.5f; c.momentum = 0.9f; c.seed = 3;
    trainer *t = NULL;
    CHECK(train_new(&t, n, &c, as_data(s), no_data(), NULL, 0) == DL_OK);
    CHECK(train_run(t, 0, NULL, NULL) == DL_OK);
    double acc = accuracy_of(n, s);
    if (!(acc > 0.95))
        printf("  spirals accuracy %.3f\n", acc);
    CHECK(acc > 0.95);
    train_free(t);
    net_free(n);
    free_set(&s);
}

static void test_shuffle_reproducible(void)
{
    set s = blob_set(3, 20, 1.0, 9);
    int sizes[] = { 2, 6, 3 };
    dl_act acts[] = { DL_SIGMOID, DL_SOFTMAX };
    net *n[3];
    for (int i = 0; i < 3; i++)
        n[i] = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 1);
    uint64_t seeds[3] = { 42, 42, 43 };
    for (int i = 0; i < 3; i++) {
        train_config c = train_config_default();
        c.batch = 5; c.epochs = 3; c.seed = seeds[i];
        trainer *t = NULL;
        CHECK(train_new(&t, n[i], &c, as_data(s), no_data(), NULL, 0) == DL_OK);
        CHECK(train_run(t, 0, NULL, NULL) == DL_OK);
        train_free(t);
    }
    CHECK(same_params(n[0], n[1]));
    CHECK(!same_params(n[0], n[2]));
    for (int i = 0; i < 3; i++)
        net_free(n[i]);
    free_set(&s);
}

/* Train on blobs, validate on the same points with the labels rotated: the
 * better the fit, the worse the validation loss, so epoch 1 is the best. */
static void test_early_stopping_restores_best(void)
{
    set s = blob_set(3, 20, 3.0, 5);
    set v;
    mat_new(&v.X, 60, 2);
    mat_new(&v.y, 60, 1);
    mat_copy(v.X, s.X);
    for (int i = 0; i < 60; i++)
        *mat_at(v.y, i, 0) = (float)(((int)*mat_at(s.y, i, 0) + 1) % 3);
    int sizes[] = { 2, 3 };
    dl_act acts[] = { DL_SOFTMAX };
    net *a = make_net(1, sizes, acts, DL_LOG_LIKELIHOOD, 2);
    net *b = make_net(1, sizes, acts, DL_LOG_LIKELIHOOD, 2);
    train_config c = train_config_default();
    c.batch = 10; c.epochs = 20; c.lr = 0.5f; c.patience = 2; c.seed = 8;
    trainer *t = NULL;
    CHECK(train_new(&t, a, &c, as_data(s), as_data(v), NULL, 0) == DL_OK);
    CHECK(train_run(t, 0, NULL, NULL) == DL_OK);
    CHECK(t->stop == TRAIN_EARLY);
    CHECK(t->best_epoch == 1);
    CHECK(t->epoch == 3);                     /* epochs 2 and 3 were not better */
    CHECK(t->history.n == 3);
    CHECK(t->history.val_loss[2] > t->history.val_loss[0]);

    /* The oracle: the same run stopped after one epoch. */
    c.epochs = 1; c.patience = 0;
    trainer *u = NULL;
    CHECK(train_new(&u, b, &c, as_data(s), no_data(), NULL, 0) == DL_OK);
    CHECK(train_run(u, 0, NULL, NULL) == DL_OK);
    CHECK(same_params(a, b));
    train_free(t);
    train_free(u);

    /* Watching accuracy (higher is better) works the same way. */
    net *d = make_net(1, sizes, acts, DL_LOG_LIKELIHOOD, 2);
    c.epochs = 20; c.patience = 3; c.monitor = TRAIN_VAL_ACC;
    CHECK(train_new(&t, d, &c, as_data(s), as_data(v), NULL, 0) == DL_OK);
    CHECK(train_run(t, 0, NULL, NULL) == DL_OK);
    CHECK(t->stop == TRAIN_EARLY);
    CHECK(t->history.val_acc[t->best_epoch - 1] >= t->history.val_acc[t->history.n - 1]);
    train_free(t);
    net_free(a);
    net_free(b);
    net_free(d);
    free_set(&s);
    free_set(&v);
}

/* A hook that records what it is told and stops when asked to. */
typedef struct seen {
    int begins, batches, ends;   /* events of each kind */
    int last_epoch, last_batch;  /* of the last TRAIN_BATCH_END */
    double loss_err;             /* largest |ev->loss − t->last_loss| */
    int order_ok;                /* every event numbered as expected */
    int stop_epoch, stop_batch;  /* stop at this TRAIN_BATCH_END (0: never) */
    int stop_at_begin;           /* stop at the TRAIN_EPOCH_BEGIN of this epoch */
    int interrupt_epoch, interrupt_batch;   /* raise the flag, as Ctrl-C would */
    float lr_per_epoch;          /* >0: set t->lr_custom = this·epoch at each begin */
} seen;

static int record(void *ctx, const train_event *ev)
{
    seen *w = ctx;
    trainer *t = ev->t;
    switch (ev->kind) {
    case TRAIN_EPOCH_BEGIN:
        w->begins++;
        w->order_ok &= ev->epoch == t->epoch + 1 && ev->batch == 0 && t->pos == 0;
        if (w->lr_per_epoch > 0)
            t->lr_custom = w->lr_per_epoch * (float)ev->epoch;
        return ev->epoch == w->stop_at_begin;
    case TRAIN_BATCH_END:
        w->batches++;
        /* batches count 1, 2, ... within an epoch, epochs 1, 2, ... */
        w->order_ok &= ev->batch == (w->last_batch % steps_of(t)) + 1
                       && ev->epoch == (ev->batch == 1 ? w->last_epoch + 1 : w->last_epoch);
        w->last_epoch = ev->epoch;
        w->last_batch = ev->batch;
        if (fabs(ev->loss - t->last_loss) > w->loss_err)
            w->loss_err = fabs(ev->loss - t->last_loss);
        if (ev->epoch == w->interrupt_epoch && ev->batch == w->interrupt_batch)
            dl_interrupt_set(1);
        return ev->epoch == w->stop_epoch && ev->batch == w->stop_batch;
    case TRAIN_EPOCH_END:
        w->ends++;
        w->order_ok &= ev->epoch == t->epoch && t->history.n == t->epoch && t->epoch_ended;
        return 0;
    }
    return 0;
}

static seen watcher(void)
{
    seen w;
    memset(&w, 0, sizeof w);
    w.order_ok = 1;
    return w;
}

/* The hook is told about every batch and epoch, in order, with its loss. */
static void test_hook_events(void)
{
    set s = blob_set(2, 20, 1.5, 3);   /* 40 rows, batch 6: 7 per epoch, the last of 4 */
    int sizes[] = { 2, 4, 2 };
    dl_act acts[] = { DL_SIGMOID, DL_SOFTMAX };
    net *n = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 6);
    train_config c = train_config_default();
    c.batch = 6; c.epochs = 3; c.record_steps = 1;
    trainer *t = NULL;
    CHECK(train_new(&t, n, &c, as_data(s), no_data(), NULL, 0) == DL_OK);
    seen w = watcher();
    CHECK(train_run(t, 0, record, &w) == DL_OK);
    CHECK(w.begins == 3 && w.batches == 21 && w.ends == 3);
    CHECK(w.order_ok);
    CHECK(w.loss_err == 0);
    CHECK(w.last_epoch == 3 && w.last_batch == 7);
    CHECK(t->history.steps == 21 && t->stop == TRAIN_RUNNING);
    /* train_run(t, n) with n beyond: more epochs; train_batch: one batch;
     * train_epoch: the rest of that epoch. */
    CHECK(train_run(t, 4, record, &w) == DL_OK && t->epoch == 4 && w.ends == 4);
    CHECK(train_batch(t, record, &w) == DL_OK);
    CHECK(t->epoch == 4 && t->batch_in_epoch == 1 && w.batches == 29 && w.begins == 5);
    CHECK(train_epoch(t, record, &w) == DL_OK);
    CHECK(t->epoch == 5 && w.batches == 35 && w.ends == 5 && w.order_ok);
    train_free(t);
    net_free(n);
    free_set(&s);
}

/* A hook's stop and Ctrl-C both stop between batches, the state consistent:
 * resuming gives the same network as a run never stopped. */
static void test_stop_and_interrupt(void)
{
    set s = blob_set(2, 20, 1.5, 3);   /* 40 rows, batch 4: 10 per epoch */
    int sizes[] = { 2, 4, 2 };
    dl_act acts[] = { DL_SIGMOID, DL_SOFTMAX };
    net *a = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 6);
    net *b = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 6);
    train_config c = train_config_default();
    c.batch = 4; c.epochs = 3; c.momentum = 0.5f;
    trainer *t = NULL, *u = NULL;
    CHECK(train_new(&t, a, &c, as_data(s), no_data(), NULL, 0) == DL_OK);
    CHECK(train_new(&u, b, &c, as_data(s), no_data(), NULL, 0) == DL_OK);

    /* The flag set before a run: one batch, then DL_INTERRUPTED. */
    dl_interrupt_set(1);
    CHECK(train_run(t, 0, NULL, NULL) == DL_INTERRUPTED);
    CHECK(t->pos == 4 && t->batch_in_epoch == 1 && t->epoch == 0 && t->history.n == 0);
    dl_interrupt_set(0);

    /* The hook asks to stop after epoch 1's sixth batch. */
    seen w = watcher();
    w.stop_epoch = 1; w.stop_batch = 6;
    CHECK(train_run(t, 0, record, &w) == DL_OK);
    CHECK(t->stop == TRAIN_CALLER);
    CHECK(t->batch_in_epoch == 6 && t->epoch == 0 && w.batches == 5);

    /* Ctrl-C during epoch 2's third batch (the flag set from the hook): the
     * batch under way is finished, the next one too — the flag is checked
     * after a batch, before the hook — and nothing after. */
    w = watcher();
    w.last_epoch = 1; w.last_batch = 6;
    w.interrupt_epoch = 2; w.interrupt_batch = 3;
    CHECK(train_run(t, 0, record, &w) == DL_INTERRUPTED);
    CHECK(dl_interrupted());
    dl_interrupt_set(0);   /* the caller reports it and clears the flag */
    CHECK(t->stop == TRAIN_RUNNING);   /* the hook's stop lasted one run */
    CHECK(t->epoch == 1 && t->batch_in_epoch == 4 && t->pos == 16 && t->history.n == 1);
    CHECK(w.batches == 7 && w.ends == 1 && w.order_ok);
    train_eval ev;
    CHECK(train_evaluate(a, as_data(s), 0, &ev, NULL) == DL_OK && isfinite(ev.loss));

    /* Resumed to the end; compared with an unstopped run below. */
    CHECK(train_run(t, 0, NULL, NULL) == DL_OK);
    CHECK(t->epoch == 3 && t->history.n == 3 && t->stop == TRAIN_RUNNING);
    train_free(t);

    /* A stop before an epoch's first batch trains nothing. */
    t = NULL;
    net *d = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 6);
    CHECK(train_new(&t, d, &c, as_data(s), no_data(), NULL, 0) == DL_OK);
    w = watcher();
    w.stop_at_begin = 1;
    CHECK(train_run(t, 0, record, &w) == DL_OK);
    CHECK(t->stop == TRAIN_CALLER && t->pos == 0 && t->epoch == 0 && w.batches == 0);
    train_free(t);
    net_free(d);

    CHECK(train_run(u, 0, NULL, NULL) == DL_OK);
    CHECK(same_params(a, b));
    train_free(u);
    net_free(a);
    net_free(b);
    free_set(&s);
}

/* TRAIN_CUSTOM: the hook sets η before each epoch, and the history keeps it. */
static void test_custom_schedule_by_hook(void)
{
    set s = xor_set();
    int sizes[] = { 2, 3, 2 };
    dl_act acts[] = { DL_TANH, DL_SOFTMAX };
    net *n = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 1);
    train_config c = train_config_default();
    c.epochs = 4; c.schedule = TRAIN_CUSTOM;
    trainer *t = NULL;
    CHECK(train_new(&t, n, &c, as_data(s), no_data(), NULL, 0) == DL_OK);
    seen w = watcher();
    w.lr_per_epoch = 0.25f;
    CHECK(train_run(t, 0, record, &w) == DL_OK);
    CHECK(t->history.n == 4);
    for (int e = 0; e < 4; e++)
        CHECK(t->history.lr[e] == 0.25f * (float)(e + 1));
    train_free(t);
    net_free(n);
    free_set(&s);
}

/* Count non-overlapping occurrences of needle in hay. */
static int count_of(const char *hay, const char *needle)
{
    int k = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + strlen(needle), needle))
        k++;
    return k;
}

/* The progress bar writes to the FILE it is given: a bar while an epoch
 * runs, one summary line per epoch that stays. */
static void test_progress(void)
{
    set s = blob_set(2, 20, 1.5, 3);   /* 40 rows, batch 4: 10 per epoch */
    int sizes[] = { 2, 4, 2 };
    dl_act acts[] = { DL_SIGMOID, DL_SOFTMAX };
    net *n = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 6);
    train_config c = train_config_default();
    c.batch = 4; c.epochs = 2;
    trainer *t = NULL;
    CHECK(train_new(&t, n, &c, as_data(s), as_data(s), NULL, 0) == DL_OK);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    train_progress p;
    train_progress_start(&p, f, 2, 1);
    CHECK(train_run(t, 0, train_progress_hook, &p) == DL_OK);
    train_progress_clear(&p);   /* nothing left on the line: writes nothing */
    fclose(f);
    /* The first batch is drawn at once (then at most every 0.1 s). */
    CHECK(strstr(text, "\r\033[Kepoch 1/2 [==>                 ] 1/10  loss ") == text);
    CHECK(strstr(text, "samples/s  ETA ") != NULL);
    CHECK(count_of(text, "\n") == 2);
    char line[160];
    snprintf(line, sizeof line, "\r\033[Kepoch 1/2  loss %.4f  acc %.2f%%  val_loss %.4f  val_acc %.2f%%  ",
             t->history.train_loss[0], 100 * t->history.train_acc[0], t->history.val_loss[0],
             100 * t->history.val_acc[0]);
    CHECK(strstr(text, line) != NULL);
    CHECK(strstr(text, "\r\033[Kepoch 2/2  loss ") != NULL);
    CHECK(len > 0 && text[len - 1] == '\n');   /* the last epoch's line ends the output */
    free(text);

    /* Summary lines only (bar off), and a bar taken off its line. */
    f = open_memstream(&text, &len);
    train_progress_start(&p, f, 3, 0);
    CHECK(train_run(t, 3, train_progress_hook, &p) == DL_OK);
    CHECK(train_batch(t, train_progress_hook, &p) == DL_OK);   /* epoch 4 begun */
    p.bar = 1;
    p.last = 0;
    CHECK(train_batch(t, train_progress_hook, &p) == DL_OK);
    train_progress_clear(&p);
    fclose(f);
    CHECK(strncmp(text, "\r\033[Kepoch 3/3  loss ", 20) == 0);
    CHECK(count_of(text, "\n") == 1 && count_of(text, " [") == 1);
    CHECK(strstr(text, "] 2/10  loss ") != NULL);
    CHECK(len >= 4 && strcmp(text + len - 4, "\r\033[K") == 0);
    free(text);
    train_free(t);
    net_free(n);
    free_set(&s);
}

/* One update by hand: W ← W + η(t − a)x, b ← b + η(t − a). */
static void test_perceptron_rule(void)
{
    int sizes[] = { 2, 1 };
    dl_act acts[] = { DL_STEP };
    net *n = make_net(1, sizes, acts, DL_QUADRATIC, 1);
    mat W = n->layers[0].W, b = n->layers[0].b;
    *mat_at(W, 0, 0) = 0.5f;
    *mat_at(W, 0, 1) = -1.0f;
    *mat_at(b, 0, 0) = 0.25f;
    set s;
    mat_new(&s.X, 1, 2);
    mat_new(&s.y, 1, 1);
    *mat_at(s.X, 0, 0) = 1.0f;
    *mat_at(s.X, 0, 1) = 2.0f;   /* z = 0.5 − 2 + 0.25 < 0: a = 0 */
    *mat_at(s.y, 0, 0) = 1.0f;
    train_config c = train_config_default();
    c.batch = 1; c.lr = 0.1f; c.rule = TRAIN_PERCEPTRON;
    trainer *t = NULL;
    CHECK(train_new(&t, n, &c, as_data(s), no_data(), NULL, 0) == DL_OK);
    CHECK(train_step(t) == DL_OK);
    CHECK_NEAR(*mat_at(W, 0, 0), 0.6, 1e-7);
    CHECK_NEAR(*mat_at(W, 0, 1), -0.8, 1e-7);
    CHECK_NEAR(*mat_at(b, 0, 0), 0.35, 1e-7);
    train_free(t);
    free_set(&s);

    /* Two well separated blobs: the rule converges to all correct. */
    s = blob_set(2, 50, 4.0, 12);
    net_init(n, DL_INIT_ZEROS, 0);
    c.batch = 1; c.epochs = 30; c.lr = 1.0f;
    CHECK(train_new(&t, n, &c, as_data(s), no_data(), NULL, 0) == DL_OK);
    CHECK(train_run(t, 0, NULL, NULL) == DL_OK);
    CHECK(accuracy_of(n, s) == 1.0);
    train_free(t);
    net_free(n);
    free_set(&s);
}

static void test_evaluate(void)
{
    set s = blob_set(3, 30, 1.0, 4);   /* overlapping: some errors */
    int sizes[] = { 2, 3 };
    dl_act acts[] = { DL_SOFTMAX };
    net *n = make_net(1, sizes, acts, DL_LOG_LIKELIHOOD, 9);
    int conf[9];
    train_eval ev;
    CHECK(train_evaluate(n, as_data(s), 7, &ev, conf) == DL_OK);   /* odd chunks */

    /* The oracle: one forward over all rows, then counts by hand. */
    mat Y;
    CHECK(net_forward(n, s.X) == DL_OK);
    CHECK(net_labels_to_targets(n, s.y, &Y) == DL_OK);
    double cost;
    CHECK(net_cost(n, Y, &cost) == DL_OK);
    int want[9] = { 0 }, correct = 0, total = 0;
    mat A = net_output(n);
    for (int i = 0; i < 90; i++) {
        int truth = (int)*mat_at(s.y, i, 0);
        int p = (int)kern()->argmax(mat_at(A, i, 0), 3);
        want[truth * 3 + p]++;
        correct += p == truth;
    }
    CHECK_NEAR(ev.loss, cost, 1e-6 * cost);   /* chunk means re-summed in double */
    CHECK(ev.correct == correct && ev.count == 90);
    CHECK_NEAR(ev.accuracy, correct / 90.0, 1e-15);
    for (int i = 0; i < 9; i++) {
        CHECK(conf[i] == want[i]);
        total += conf[i];
    }
    CHECK(total == 90);

    /* Most confident errors: every wrong row, sorted by its winning output. */
    int idx[90], pred[90];
    float cf[90];
    int found = 0;
    CHECK(train_confident_errors(n, as_data(s), 90, idx, pred, cf, &found) == DL_OK);
    CHECK(found == 90 - correct);
    for (int i = 0; i < found; i++) {
        const float *a = mat_at(A, idx[i], 0);
        CHECK(pred[i] == (int)kern()->argmax(a, 3));
        CHECK(pred[i] != (int)*mat_at(s.y, idx[i], 0));
        CHECK(cf[i] == a[pred[i]]);
        if (i > 0)
            CHECK(cf[i] <= cf[i - 1]);
    }
    int top[3], tp[3];
    float tc[3];
    CHECK(train_confident_errors(n, as_data(s), 3, top, tp, tc, &found) == DL_OK);
    CHECK(found == 3 || found == 90 - correct);
    for (int i = 0; i < found; i++)
        CHECK(top[i] == idx[i] && tc[i] == cf[i]);
    net_free(n);
    free_set(&s);
}

/* After the first step (which may size the workspace), steps allocate nothing. */
static void test_no_allocation_per_step(void)
{
    set s = blob_set(3, 40, 2.0, 1);
    set v = blob_set(3, 10, 2.0, 2);
    int sizes[] = { 2, 16, 3 };
    dl_act acts[] = { DL_RELU, DL_SOFTMAX };
    net *n = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 1);
    train_config c = train_config_default();
    c.batch = 16; c.epochs = 4; c.momentum = 0.9f; c.lambda = 0.1f; c.patience = 10;
    c.record_steps = 1;
    trainer *t = NULL;
    CHECK(train_new(&t, n, &c, as_data(s), as_data(v), NULL, 0) == DL_OK);
    CHECK(train_step(t) == DL_OK);
    long before = n_allocs;
    for (int i = 0; i < 25; i++)   /* 3 epochs and more, validation included */
        CHECK(train_step(t) == DL_OK);
    CHECK(n_allocs == before);
    CHECK(t->history.n == 3);
    CHECK(t->history.steps == 26);
    seen w = watcher();   /* the loop with its hook: nothing either */
    w.last_epoch = 4; w.last_batch = 2;   /* 26 steps of 8 an epoch */
    before = n_allocs;
    CHECK(train_epoch(t, record, &w) == DL_OK && w.batches == 6 && w.order_ok);
    CHECK(n_allocs == before);
    train_free(t);
    net_free(n);
    free_set(&s);
    free_set(&v);
}

static int msg_is(dl_status got, dl_status want, const char *msg, const char *expect)
{
    if (got == want && strcmp(msg, expect) == 0)
        return 1;
    printf("  got status %d, message \"%s\"; expected %d, \"%s\"\n", got, msg, want, expect);
    return 0;
}

static void test_config_errors(void)
{
    set s = xor_set();
    int sizes[] = { 2, 3, 2 };
    dl_act acts[] = { DL_SIGMOID, DL_SOFTMAX };
    net *n = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 1);
    char msg[256];
    train_data none = no_data();
    train_config c;
#define EXPECT(field_set, status, text)                                   \
    do {                                                                  \
        c = train_config_default();                                       \
        field_set;                                                        \
        msg[0] = '\0';                                                    \
        CHECK(msg_is(train_check(n, &c, as_data(s), none, msg, sizeof msg), \
                     status, msg, text));                                 \
    } while (0)
    EXPECT(c.batch = 0, DL_EINVAL, "batch 0 must be at least 1");
    EXPECT(c.epochs = 0, DL_EINVAL, "epochs 0 must be at least 1");
    EXPECT(c.lr = -1, DL_EINVAL, "lr -1 must be a finite number >= 0");
    EXPECT(c.lambda = -0.5f, DL_EINVAL, "lambda -0.5 must be a finite number >= 0");
    EXPECT(c.momentum = 1, DL_EINVAL, "momentum 1 must be in [0, 1)");
    EXPECT((c.schedule = TRAIN_STEP, c.step_every = 0), DL_EINVAL,
           "schedule step every 0 must be at least 1");
    EXPECT(c.patience = 3, DL_EINVAL, "patience needs a validation set to watch");
    EXPECT(c.rule = TRAIN_PERCEPTRON, DL_EINVAL,
           "rule perceptron needs a network of one step layer, e.g. network{2, {1, \"step\"}}");
#undef EXPECT
    c = train_config_default();
    *mat_at(s.y, 2, 0) = 2.0f;
    CHECK(msg_is(train_check(n, &c, as_data(s), none, msg, sizeof msg), DL_EINVAL, msg,
                 "train.y row 3 holds 2, not a label 0..1 of this 2-output network"));
    *mat_at(s.y, 2, 0) = 0.5f;
    CHECK(msg_is(train_check(n, &c, as_data(s), none, msg, sizeof msg), DL_EINVAL, msg,
                 "train.y row 3 holds 0.5, not a label 0..1 of this 2-output network"));
    *mat_at(s.y, 2, 0) = 1.0f;
    train_data bad = as_data(s);
    bad.X = mat_sub(s.X, 0, 0, 4, 1);
    CHECK(msg_is(train_check(n, &c, bad, none, msg, sizeof msg), DL_ESHAPE, msg,
                 "train.X has 1 columns but the network takes 2 inputs"));
    bad = as_data(s);
    bad.labels = mat_sub(s.y, 0, 0, 3, 1);
    CHECK(msg_is(train_check(n, &c, bad, none, msg, sizeof msg), DL_ESHAPE, msg,
                 "train.y is 3x1 but train.X has 4 rows (labels are Nx1)"));
    bad = as_data(s);
    bad.targets = s.X;
    CHECK(msg_is(train_check(n, &c, bad, none, msg, sizeof msg), DL_EINVAL, msg,
                 "train needs labels (y) or targets (Y)"));
    bad.labels.data = NULL;
    bad.targets = mat_sub(s.X, 0, 0, 3, 2);
    CHECK(msg_is(train_check(n, &c, bad, none, msg, sizeof msg), DL_ESHAPE, msg,
                 "train.Y is 3x2 but should be 4x2 (rows of X x outputs)"));
    c.patience = 1;
    bad = as_data(s);
    bad.X = mat_sub(s.X, 0, 0, 4, 1);
    CHECK(msg_is(train_check(n, &c, as_data(s), bad, msg, sizeof msg), DL_ESHAPE, msg,
                 "validation.X has 1 columns but the network takes 2 inputs"));
    trainer *t = (trainer *)1;
    CHECK(train_new(&t, n, &c, bad, none, msg, sizeof msg) != DL_OK && t == NULL);
    net_free(n);
    free_set(&s);
}

/* Regression: targets instead of labels; accuracies are NaN. */
static void test_regression_targets(void)
{
    int sizes[] = { 1, 1 };
    dl_act acts[] = { DL_LINEAR };
    net *n = make_net(1, sizes, acts, DL_QUADRATIC, 1);
    mat X, Y;
    mat_new(&X, 20, 1);
    mat_new(&Y, 20, 1);
    for (int i = 0; i < 20; i++) {
        *mat_at(X, i, 0) = (float)i / 10.0f;
        *mat_at(Y, i, 0) = 3.0f * (float)i / 10.0f - 1.0f;   /* y = 3x − 1 */
    }
    train_data d = { X, { 0 }, Y };
    train_config c = train_config_default();
    c.batch = 20; c.epochs = 2000; c.lr = 0.3f;
    trainer *t = NULL;
    CHECK(train_new(&t, n, &c, d, d, NULL, 0) == DL_OK);
    CHECK(train_run(t, 0, NULL, NULL) == DL_OK);
    CHECK_NEAR(*mat_at(n->layers[0].W, 0, 0), 3.0, 1e-3);   /* fp32 GD converges */
    CHECK_NEAR(*mat_at(n->layers[0].b, 0, 0), -1.0, 1e-3);
    CHECK(isnan(t->history.train_acc[0]) && isnan(t->history.val_acc[0]));
    CHECK(t->history.val_loss[1999] < 1e-6);
    train_free(t);
    net_free(n);
    mat_free(&X);
    mat_free(&Y);
}

/* A step that fails before its backward pass (here a label the network has no
 * output for, changed after train_new checked the set) leaves the parameters
 * as they were and dW, db NaN: never the previous batch's gradients, which the
 * step has already let go. */
static void test_failed_step_leaves_no_stale_grads(void)
{
    int sizes[] = { 2, 3, 2 };
    dl_act acts[] = { DL_SIGMOID, DL_SOFTMAX };
    net *n = make_net(2, sizes, acts, DL_LOG_LIKELIHOOD, 3);
    set s = xor_set();
    train_config c = train_config_default();
    c.batch = 2; c.epochs = 1; c.shuffle = 0;
    trainer *t = NULL;
    CHECK(train_new(&t, n, &c, as_data(s), no_data(), NULL, 0) == DL_OK);
    CHECK(train_step(t) == DL_OK);
    net_sync_grads(n);
    CHECK(isfinite(n->grads[0]));   /* the first batch's gradients, current */
    size_t np = n->n_params;
    float *before = malloc(np * sizeof *before);
    memcpy(before, n->params, np * sizeof *before);
    *mat_at(s.y, 2, 0) = 5.0f;      /* the second batch has a label out of range */
    CHECK(train_step(t) == DL_EINVAL);
    CHECK(memcmp(before, n->params, np * sizeof *before) == 0);
    net_sync_grads(n);
    int all_nan = 1;
    for (size_t p = 0; p < np; p++)
        all_nan &= isnan(n->grads[p]);
    CHECK(all_nan);
    free(before);
    train_free(t);
    net_free(n);
    free_set(&s);
}

int main(void)
{
    RUN(test_matches_net_step);
    RUN(test_batch1_takes_one_sample_step);
    RUN(test_schedules);
    RUN(test_xor_learned);
    RUN(test_spirals_learned);
    RUN(test_shuffle_reproducible);
    RUN(test_early_stopping_restores_best);
    RUN(test_hook_events);
    RUN(test_stop_and_interrupt);
    RUN(test_custom_schedule_by_hook);
    RUN(test_progress);
    RUN(test_perceptron_rule);
    RUN(test_evaluate);
    RUN(test_no_allocation_per_step);
    RUN(test_config_errors);
    RUN(test_regression_targets);
    RUN(test_failed_step_leaves_no_stale_grads);
    return check_summary();
}
