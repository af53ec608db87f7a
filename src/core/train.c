/* train.c — mini-batch training, evaluation and early stopping (see train.h). */
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const train_schedule_names[TRAIN_SCHEDULE_COUNT + 1] = {
    "constant", "step", "inv_t", "custom", NULL
};
const char *const train_rule_names[TRAIN_RULE_COUNT + 1] = { "backprop", "perceptron", NULL };
const char *const train_monitor_names[TRAIN_MONITOR_COUNT + 1] = { "val_loss", "val_acc", NULL };
const char *const train_on_nan_names[TRAIN_ON_NAN_COUNT + 1] = { "stop", "continue", NULL };

train_config train_config_default(void)
{
    train_config c;
    memset(&c, 0, sizeof c);
    c.batch = 32;
    c.epochs = 1;
    c.lr = 0.1;
    c.shuffle = 1;
    c.seed = 1;
    c.schedule = TRAIN_CONSTANT;
    c.step_every = 1;
    c.step_gamma = 0.5;
    c.inv_decay = 1.0;
    c.rule = TRAIN_BACKPROP;
    c.monitor = TRAIN_VAL_LOSS;
    c.restore_best = 1;
    c.eval_batch = 256;
    return c;
}

/* Monotonic seconds: the history's training time and the progress bar's rate. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Label range of a network: one per output neuron, or 0/1 for a single one. */
static int label_range(const net *n)
{
    int k = n->sizes[n->L];
    return k == 1 ? 2 : k;
}

/* The predicted label of an output row (argmax, or a > 0.5 for one output). */
static int predict_row(const float *a, int k)
{
    if (k == 1)
        return a[0] > 0.5f;
    return (int)kern()->argmax(a, (size_t)k);
}

/* Check one data set against the network; which = "train" or "validation". */
static dl_status check_data(const net *n, train_data d, const char *which,
                            char *msg, size_t msglen)
{
    int n_in = n->sizes[0], n_out = n->sizes[n->L];
    if (!d.X.data || d.X.rows < 1)
        return dl_fail(DL_EINVAL, msg, msglen, "%s has no rows", which);
    if (d.X.cols != n_in)
        return dl_fail(DL_ESHAPE, msg, msglen,
                       "%s.X has %d columns but the network takes %d inputs",
                       which, d.X.cols, n_in);
    if (!d.labels.data == !d.targets.data)
        return dl_fail(DL_EINVAL, msg, msglen, "%s needs labels (y) or targets (Y)", which);
    if (d.labels.data) {
        if (d.labels.rows != d.X.rows || d.labels.cols != 1)
            return dl_fail(DL_ESHAPE, msg, msglen,
                           "%s.y is %dx%d but %s.X has %d rows (labels are Nx1)",
                           which, d.labels.rows, d.labels.cols, which, d.X.rows);
        int k = label_range(n);
        for (int i = 0; i < d.labels.rows; i++) {
            float v = *mat_at(d.labels, i, 0);
            if (!(v >= 0 && v < (float)k) || v != floorf(v))
                return dl_fail(DL_EINVAL, msg, msglen,
                               "%s.y row %d holds %g, not a label 0..%d of this %d-output network",
                               which, i + 1, (double)v, k - 1, n_out);
        }
    } else if (d.targets.rows != d.X.rows || d.targets.cols != n_out) {
        return dl_fail(DL_ESHAPE, msg, msglen,
                       "%s.Y is %dx%d but should be %dx%d (rows of X x outputs)",
                       which, d.targets.rows, d.targets.cols, d.X.rows, n_out);
    }
    return DL_OK;
}

dl_status train_check(const net *n, const train_config *c, train_data train,
                      train_data val, char *msg, size_t msglen)
{
    if (!n)
        return dl_fail(DL_EINVAL, msg, msglen, "no network");
    if (c->batch < 1)
        return dl_fail(DL_EINVAL, msg, msglen, "batch %d must be at least 1", c->batch);
    if (c->epochs < 1)
        return dl_fail(DL_EINVAL, msg, msglen, "epochs %d must be at least 1", c->epochs);
    if (!(c->lr >= 0) || !isfinite(c->lr))
        return dl_fail(DL_EINVAL, msg, msglen, "lr %g must be a finite number >= 0", (double)c->lr);
    if (!(c->lambda >= 0) || !isfinite(c->lambda))
        return dl_fail(DL_EINVAL, msg, msglen,
                       "lambda %g must be a finite number >= 0", (double)c->lambda);
    if (!(c->momentum >= 0 && c->momentum < 1))
        return dl_fail(DL_EINVAL, msg, msglen,
                       "momentum %g must be in [0, 1)", (double)c->momentum);
    if ((unsigned)c->schedule >= TRAIN_SCHEDULE_COUNT || (unsigned)c->rule >= TRAIN_RULE_COUNT
        || (unsigned)c->monitor >= TRAIN_MONITOR_COUNT || (unsigned)c->on_nan >= TRAIN_ON_NAN_COUNT)
        return dl_fail(DL_EINVAL, msg, msglen, "unknown schedule, rule, monitor or on_nan");
    if (c->schedule == TRAIN_STEP && c->step_every < 1)
        return dl_fail(DL_EINVAL, msg, msglen,
                       "schedule step every %d must be at least 1", c->step_every);
    if (c->schedule == TRAIN_STEP && !(c->step_gamma > 0 && isfinite(c->step_gamma)))
        return dl_fail(DL_EINVAL, msg, msglen,
                       "schedule step gamma %g must be > 0", (double)c->step_gamma);
    if (c->schedule == TRAIN_INV_T && !(c->inv_decay >= 0 && isfinite(c->inv_decay)))
        return dl_fail(DL_EINVAL, msg, msglen,
                       "schedule inv_t decay %g must be >= 0", (double)c->inv_decay);
    if (c->patience < 0)
        return dl_fail(DL_EINVAL, msg, msglen, "patience %d must be >= 0", c->patience);
    if (c->patience > 0 && !val.X.data)
        return dl_fail(DL_EINVAL, msg, msglen, "patience needs a validation set to watch");
    if (c->monitor == TRAIN_VAL_ACC && c->patience > 0 && !val.labels.data)
        return dl_fail(DL_EINVAL, msg, msglen, "monitor val_acc needs validation labels (y)");
    if (c->eval_batch < 0)
        return dl_fail(DL_EINVAL, msg, msglen, "eval_batch %d must be >= 0", c->eval_batch);
    if (c->rule == TRAIN_PERCEPTRON) {
        if (n->L != 1 || n->layers[0].act != DL_STEP || n->layers[0].neuron_act)
            return dl_fail(DL_EINVAL, msg, msglen,
                           "rule perceptron needs a network of one step layer, "
                           "e.g. network{2, {1, \"step\"}}");
    }
    dl_status s = check_data(n, train, "train", msg, msglen);
    if (s == DL_OK && val.X.data)
        s = check_data(n, val, "validation", msg, msglen);
    return s;
}

double train_schedule_lr(const train_config *c, int e)
{
    switch (c->schedule) {
    case TRAIN_STEP:  return c->lr * pow(c->step_gamma, (double)(e / c->step_every));
    case TRAIN_INV_T: return c->lr / (1.0 + c->inv_decay * (double)e);
    default:          return c->lr;
    }
}

static dl_status history_reserve(train_history *h, int cap)
{
    if (cap <= h->cap)
        return DL_OK;
    double **arrays[] = { &h->train_loss, &h->train_acc, &h->val_loss, &h->val_acc,
                          &h->seconds, &h->lr };
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        double *p = realloc(*arrays[i], (size_t)cap * sizeof(double));
        if (!p)
            return DL_ENOMEM;   /* arrays already grown keep their data: still consistent */
        *arrays[i] = p;
    }
    h->cap = cap;
    return DL_OK;
}

static dl_status history_reserve_steps(train_history *h, int cap)
{
    if (cap <= h->step_cap)
        return DL_OK;
    float *p = realloc(h->step_loss, (size_t)cap * sizeof(float));
    if (!p)
        return DL_ENOMEM;
    h->step_loss = p;
    h->step_cap = cap;
    return DL_OK;
}

dl_status train_history_fit(trainer *t, int epochs, int steps)
{
    dl_status s = history_reserve(&t->history, epochs);
    return s == DL_OK ? history_reserve_steps(&t->history, steps) : s;
}

void train_free(trainer *t)
{
    if (!t)
        return;
    free(t->perm);
    mat_free(&t->batch_labels);
    dl_free(t->best);
    train_history *h = &t->history;
    free(h->train_loss); free(h->train_acc); free(h->val_loss); free(h->val_acc);
    free(h->seconds); free(h->lr); free(h->step_loss);
    free(t);
}

static int steps_per_epoch(const trainer *t)
{
    return (t->N + t->cfg.batch - 1) / t->cfg.batch;
}

dl_status train_new(trainer **out, net *n, const train_config *cfg,
                    train_data train, train_data val, char *msg, size_t msglen)
{
    *out = NULL;
    dl_status s = train_check(n, cfg, train, val, msg, msglen);
    if (s != DL_OK)
        return s;
    trainer *t = calloc(1, sizeof *t);
    if (!t)
        return dl_fail(DL_ENOMEM, msg, msglen, "not enough memory for a trainer");
    t->net = n;
    t->cfg = *cfg;
    t->train = train;
    t->val = val;
    t->N = train.X.rows;
    if (t->cfg.batch > t->N)
        t->cfg.batch = t->N;             /* batch = anything >= N is full batch */
    if (t->cfg.eval_batch == 0)
        t->cfg.eval_batch = 256;
    t->classes = train.labels.data ? label_range(n) : 0;
    t->best_metric = NAN;
    rng_seed(&t->rng, cfg->seed);

    t->perm = malloc((size_t)t->N * sizeof(int));
    s = t->perm ? DL_OK : DL_ENOMEM;
    if (s == DL_OK && train.labels.data)
        s = mat_new(&t->batch_labels, t->cfg.batch, 1);
    if (s == DL_OK && cfg->patience > 0 && cfg->restore_best) {
        t->best = dl_alloc(n->n_params);
        s = t->best ? DL_OK : DL_ENOMEM;
    }
    /* Room for the planned epochs (and steps), within reason: a plan of a
     * million epochs grows by doubling at epoch ends instead. */
    if (s == DL_OK)
        s = history_reserve(&t->history, cfg->epochs < 1024 ? cfg->epochs : 1024);
    if (s == DL_OK && cfg->record_steps) {
        long long steps = (long long)steps_per_epoch(t) * cfg->epochs;
        s = history_reserve_steps(&t->history, steps < (1 << 20) ? (int)steps : 1 << 20);
    }
    if (s == DL_OK)
        s = net_reserve(n, t->cfg.batch > t->cfg.eval_batch ? t->cfg.batch : t->cfg.eval_batch);
    if (s != DL_OK) {
        int rows = t->N;  /* read before the free (found by the allocation-failure sweep) */
        train_free(t);
        return dl_fail(s, msg, msglen, "not enough memory for a trainer of %d rows", rows);
    }
    for (int i = 0; i < t->N; i++)
        t->perm[i] = i;
    *out = t;
    return DL_OK;
}

static void begin_epoch(trainer *t)
{
    if (t->cfg.shuffle)
        rng_shuffle(&t->rng, t->perm, t->N);
    t->lr_now = t->cfg.schedule == TRAIN_CUSTOM ? t->lr_custom
                                                 : train_schedule_lr(&t->cfg, t->epoch);
    t->run_loss = 0;
    t->run_correct = 0;
    t->batch_in_epoch = 0;
}

/* The perceptron rule through the same update as backprop: the "gradient" is
 * (A − T)ᵀX/B and mean(A − T), so net_update's W − η·dW is W + η·(T − A)ᵀX/B.
 * δ's workspace holds A − T (a step layer has no useful σ′). */
static dl_status perceptron_grads(net *n, mat Y)
{
    layer *ly = &n->layers[0];
    int B = ly->a.rows;
    dl_status s = mat_subtract(ly->delta, ly->a, Y);
    if (s == DL_OK)
        s = mat_gemm(ly->dW, 1.0f / (float)B, ly->delta, 1, n->x, 0, 0.0f);
    if (s == DL_OK)
        s = mat_colsum(ly->db, ly->delta, 1.0f / (float)B);
    n->have_delta = 1;
    return s;
}

/* Between the network's parameters and the best epoch's copy: with a
 * batch-1 update of W¹ made first (a hook's net:step may have left one). */
static void copy_params(const net *n, float *dst, const float *src)
{
    net_settle_weights(n);
    memcpy(dst, src, n->n_params * sizeof(float));
}

dl_status train_restore_best(trainer *t)
{
    if (!t->best || t->best_epoch == 0)
        return DL_EINVAL;
    copy_params(t->net, t->net->params, t->best);
    net_zero_velocity(t->net);   /* the velocity belonged to the later weights */
    return DL_OK;
}

/* After an epoch's last batch: validation, history, early stopping. */
static dl_status end_epoch(trainer *t)
{
    train_history *h = &t->history;   /* room made by make_room */
    train_eval ev = { NAN, 0, 0, NAN };
    if (t->val.X.data) {
        dl_status s = train_evaluate(t->net, t->val, t->cfg.eval_batch, &ev, NULL);
        if (s != DL_OK)
            return s;
    }
    int e = h->n;
    h->train_loss[e] = t->run_loss / t->N;
    h->train_acc[e] = t->classes ? t->run_correct / t->N : NAN;
    h->val_loss[e] = ev.loss;
    h->val_acc[e] = ev.accuracy;
    h->lr[e] = t->lr_now;
    h->n = e + 1;
    t->epoch++;
    t->pos = 0;
    t->epoch_ended = 1;

    if (t->cfg.patience > 0) {
        int by_acc = t->cfg.monitor == TRAIN_VAL_ACC;
        double m = by_acc ? ev.accuracy : ev.loss;
        int better = !isnan(m) && (t->best_epoch == 0
                                   || (by_acc ? m > t->best_metric : m < t->best_metric));
        if (better) {
            t->best_metric = m;
            t->best_epoch = t->epoch;
            t->bad_epochs = 0;
            if (t->best)
                copy_params(t->net, t->best, t->net->params);
        } else if (++t->bad_epochs >= t->cfg.patience) {
            t->stop = TRAIN_EARLY;
            if (t->best && t->best_epoch > 0)
                train_restore_best(t);
        }
    }
    return DL_OK;
}

/* Gather the rows perm[pos .. pos+B−1] of the training set into the
 * network's input and target workspaces. */
static dl_status gather(trainer *t, int B, mat *Y)
{
    net *n = t->net;
    mat X = net_input(n, B);
    if (!X.data)
        return DL_ENOMEM;
    const int *idx = t->perm + t->pos;
    size_t row = (size_t)X.cols * sizeof(float);
    for (int i = 0; i < B; i++)
        memcpy(mat_at(X, i, 0), mat_at(t->train.X, idx[i], 0), row);
    if (t->train.labels.data) {
        mat lab = mat_sub(t->batch_labels, 0, 0, B, 1);
        for (int i = 0; i < B; i++)
            *mat_at(lab, i, 0) = *mat_at(t->train.labels, idx[i], 0);
        return net_labels_to_targets(n, lab, Y);
    }
    *Y = net_target(n, B);
    size_t trow = (size_t)Y->cols * sizeof(float);
    for (int i = 0; i < B; i++)
        memcpy(mat_at(*Y, i, 0), mat_at(t->train.targets, idx[i], 0), trow);
    return DL_OK;
}

/* Room for what this step will record (its step loss; the epoch's entry when
 * it ends one), made before anything changes: a failed allocation leaves the
 * trainer as it was, and the step can be tried again. The history grows by
 * doubling, only past the planned epochs and steps. */
static dl_status make_room(trainer *t, int ends_epoch)
{
    train_history *h = &t->history;
    dl_status s = DL_OK;
    if (ends_epoch && h->n == h->cap)
        s = h->cap > 0x3fffffff ? DL_ENOMEM : history_reserve(h, h->cap ? 2 * h->cap : 1);
    if (s == DL_OK && t->cfg.record_steps && h->steps == h->step_cap)
        s = h->step_cap > 0x3fffffff ? DL_ENOMEM
          : history_reserve_steps(h, h->step_cap ? 2 * h->step_cap : 1);
    return s;
}

/* dW, db after a step that could not make them: NaN, so that what a user
 * reads is never an older batch's gradient passed off as this one's. */
static void grads_unknown(net *n)
{
    for (size_t p = 0; p < n->n_params; p++)
        n->grads[p] = NAN;
}

dl_status train_step(trainer *t)
{
    net *n = t->net;
    double t0 = now_seconds();
    /* W¹'s update may be pending (the last batch-1 step's, or a hook's
     * net:step): this batch's forward makes it, in its pass over W¹ at batch
     * 1 or before it otherwise, as every reader of the weights does. */
    t->epoch_ended = 0;
    int B = t->N - t->pos < t->cfg.batch ? t->N - t->pos : t->cfg.batch;
    dl_status s = make_room(t, t->pos + B >= t->N);
    if (s != DL_OK)
        return s;
    if (t->pos == 0)
        begin_epoch(t);
    if (t->cfg.rule == TRAIN_BACKPROP)
        net_forget_grads(n);   /* this batch's gradients replace the last one's */
    mat Y;
    s = gather(t, B, &Y);
    double cost = 0;
    if (s == DL_OK)
        s = net_forward(n, net_input(n, B));
    if (s == DL_OK)
        s = net_cost(n, Y, &cost);
    if (s != DL_OK) {
        /* The parameters are as they were; the last batch's gradients were
         * forgotten and its workspace partly overwritten: NaN, not stale. */
        grads_unknown(n);
        return s;
    }
    if (!isfinite(cost) && t->cfg.on_nan == TRAIN_NAN_STOP) {
        t->last_loss = cost;   /* for the message; the batch is not counted */
        grads_unknown(n);      /* what backprop of a NaN loss gives; never an older batch's */
        return DL_DIVERGED;
    }
    int correct = t->classes ? net_count_correct(n, mat_sub(t->batch_labels, 0, 0, B, 1)) : 0;
    /* Backprop fuses the update into the gradient product (net_backward_update):
     * dW, db are written only when something looks at them. */
    net_hyper hy = { (float)t->lr_now, t->cfg.lambda, (float)t->N, t->cfg.momentum };
    if (t->cfg.rule == TRAIN_PERCEPTRON) {
        s = perceptron_grads(n, Y);
        if (s == DL_OK)
            s = net_update(n, &hy);
    } else {
        s = net_backward_update(n, Y, &hy);
    }
    if (s != DL_OK)
        return s;

    t->run_loss += cost * B;
    t->run_correct += correct;
    t->last_loss = cost;
    t->last_rows = B;
    t->pos += B;
    t->batch_in_epoch++;
    train_history *h = &t->history;
    if (t->cfg.record_steps)
        h->step_loss[h->steps++] = (float)cost;   /* room made by make_room */
    if (s == DL_OK && t->pos >= t->N)
        s = end_epoch(t);
    double dt = now_seconds() - t0;
    t->t_spent += dt;
    if (t->epoch_ended)
        h->seconds[h->n - 1] = t->t_spent;
    return s;
}

/* Tell the hook (if any) about ev; its stop becomes t->stop. */
static int notify(trainer *t, train_hook hook, void *ctx, train_event_kind kind)
{
    if (!hook)
        return 0;
    train_event ev = { kind, t, 0, 0, NAN };
    if (kind == TRAIN_EPOCH_BEGIN) {
        ev.epoch = t->epoch + 1;
    } else {
        ev.epoch = t->epoch_ended ? t->epoch : t->epoch + 1;
        ev.batch = t->batch_in_epoch;
        ev.loss = t->last_loss;
    }
    if (!hook(ctx, &ev))
        return 0;
    t->stop = TRAIN_CALLER;
    return 1;
}

/* How far the loop goes. */
typedef enum until { UNTIL_BATCH, UNTIL_EPOCH, UNTIL_GOAL } until;

/* The loop returns, not stopped by its hook: the caller may read dW, db,
 * which a fused step left stale (train_step). After a hook's stop they are
 * left alone: a hook that lets user code read them writes them first, and
 * the code it ran may have freed the network. */
static dl_status leave(trainer *t, dl_status s)
{
    net_sync_grads(t->net);
    return s;
}

/* The one loop over batches (see train_run). */
static dl_status loop(trainer *t, until u, int goal, train_hook hook, void *ctx)
{
    for (;;) {
        if (u == UNTIL_GOAL && (t->epoch >= goal || t->stop != TRAIN_RUNNING))
            return leave(t, DL_OK);
        if (t->pos == 0 && notify(t, hook, ctx, TRAIN_EPOCH_BEGIN))
            return DL_OK;
        dl_status s = train_step(t);
        if (s != DL_OK)
            return leave(t, s);
        /* Before the hook: what it runs (a Lua callback) could notice the
         * flag too and report it less precisely. */
        if (dl_interrupted())
            return leave(t, DL_INTERRUPTED);
        if (notify(t, hook, ctx, TRAIN_BATCH_END))
            return DL_OK;
        if (t->epoch_ended && notify(t, hook, ctx, TRAIN_EPOCH_END))
            return DL_OK;
        if (u == UNTIL_BATCH || (u == UNTIL_EPOCH && t->epoch_ended))
            return leave(t, DL_OK);
    }
}

dl_status train_batch(trainer *t, train_hook hook, void *ctx)
{
    return loop(t, UNTIL_BATCH, 0, hook, ctx);
}

dl_status train_epoch(trainer *t, train_hook hook, void *ctx)
{
    return loop(t, UNTIL_EPOCH, 0, hook, ctx);
}

void train_finish(trainer *t)
{
    if (t->cfg.patience > 0 && t->best && t->best_epoch > 0 && t->best_epoch != t->epoch
        && t->stop != TRAIN_EARLY)
        train_restore_best(t);
}

dl_status train_run(trainer *t, int epochs, train_hook hook, void *ctx)
{
    if (t->stop == TRAIN_CALLER)
        t->stop = TRAIN_RUNNING;   /* a hook's stop lasts one run */
    dl_status s = loop(t, UNTIL_GOAL, epochs > 0 ? epochs : t->cfg.epochs, hook, ctx);
    if (s == DL_OK && t->stop != TRAIN_CALLER)
        train_finish(t);
    return s;
}

dl_status train_evaluate(net *n, train_data set, int chunk, train_eval *out, int *confusion)
{
    if (chunk <= 0)
        chunk = 256;
    int N = set.X.rows, k = n->sizes[n->L];
    int classes = k == 1 ? 2 : k;
    if (set.X.cols != n->sizes[0] || (!set.labels.data && !set.targets.data))
        return DL_ESHAPE;
    dl_status s = net_reserve(n, chunk < N ? chunk : N);
    if (confusion)
        memset(confusion, 0, (size_t)classes * classes * sizeof(int));
    double loss = 0;
    int correct = 0;
    for (int r0 = 0; s == DL_OK && r0 < N; r0 += chunk) {
        int rows = N - r0 < chunk ? N - r0 : chunk;
        mat Y;
        s = net_forward(n, mat_sub(set.X, r0, 0, rows, set.X.cols));
        if (s != DL_OK)
            break;
        if (set.labels.data) {
            mat lab = mat_sub(set.labels, r0, 0, rows, 1);
            s = net_labels_to_targets(n, lab, &Y);
            mat A = net_output(n);
            for (int i = 0; s == DL_OK && i < rows; i++) {
                int truth = (int)*mat_at(lab, i, 0);
                int pred = predict_row(mat_at(A, i, 0), k);
                correct += pred == truth;
                if (confusion)
                    confusion[truth * classes + pred]++;
            }
        } else {
            Y = mat_sub(set.targets, r0, 0, rows, set.targets.cols);
        }
        double c = 0;
        if (s == DL_OK)
            s = net_cost(n, Y, &c);
        loss += c * rows;
    }
    if (s != DL_OK)
        return s;
    out->loss = loss / N;
    out->count = N;
    out->correct = correct;
    out->accuracy = set.labels.data ? (double)correct / N : NAN;
    return DL_OK;
}

dl_status train_confident_errors(net *n, train_data set, int k, int *idx, int *pred,
                                 float *conf, int *found)
{
    *found = 0;
    if (!set.labels.data || k < 0)
        return DL_EINVAL;
    if (set.X.cols != n->sizes[0])
        return DL_ESHAPE;
    int N = set.X.rows, n_out = n->sizes[n->L], chunk = 256;
    dl_status s = net_reserve(n, chunk < N ? chunk : N);
    int have = 0;
    for (int r0 = 0; s == DL_OK && r0 < N; r0 += chunk) {
        int rows = N - r0 < chunk ? N - r0 : chunk;
        s = net_forward(n, mat_sub(set.X, r0, 0, rows, set.X.cols));
        if (s != DL_OK)
            break;
        mat A = net_output(n);
        for (int i = 0; i < rows; i++) {
            const float *a = mat_at(A, i, 0);
            int p = predict_row(a, n_out);
            if (p == (int)*mat_at(set.labels, r0 + i, 0))
                continue;
            float c = n_out == 1 ? (a[0] > 0.5f ? a[0] : 1.0f - a[0]) : a[p];
            /* Insert into the list kept sorted by falling confidence; ties
             * keep the earlier sample first. */
            int j = have < k ? have++ : k;
            while (j > 0 && conf[j - 1] < c) {
                if (j < k) {
                    conf[j] = conf[j - 1]; idx[j] = idx[j - 1]; pred[j] = pred[j - 1];
                }
                j--;
            }
            if (j < k) {
                conf[j] = c; idx[j] = r0 + i; pred[j] = p;
            }
        }
    }
    *found = have;
    return s;
}

/* ------------------------------------------------------------------------ */
/* The progress bar                                                           */

void train_progress_start(train_progress *p, FILE *out, int goal, int bar)
{
    p->out = out;
    p->goal = goal;
    p->bar = bar;
    p->t0 = now_seconds();
    p->rows = 0;
    p->last = 0;
    p->shown = 0;
}

/* x with a NaN's sign bit cleared: printf spells a negative NaN "-nan". */
static double nan_plain(double x)
{
    return isnan(x) ? fabs(x) : x;
}

/* m:ss, h:mm:ss, or --:-- when unknown. */
static void format_duration(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, n, "--:--");
    else if (s >= 3600)
        snprintf(buf, n, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else
        snprintf(buf, n, "%d:%02d", (int)s / 60, (int)s % 60);
}

/* Epoch, batch, bar, loss, accuracy, samples/s, ETA; in place of the line. */
static void draw_bar(train_progress *p, const trainer *t, double now)
{
    int spe = steps_per_epoch(t);
    int e = t->epoch + 1, b = t->batch_in_epoch;
    double secs = now - p->t0;
    double rate = secs > 0 ? p->rows / secs : 0;
    long left = (long)(p->goal - e) * t->N + (t->N - t->pos);
    char eta[32];
    format_duration(eta, sizeof eta, rate > 0 ? left / rate : -1);
    char bar[24];
    int fill = (int)(20.0 * b / spe);
    for (int i = 0; i < 20; i++)
        bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[20] = '\0';
    fprintf(p->out, "\r\033[Kepoch %d/%d [%s] %d/%d  loss %.4f", e, p->goal, bar, b, spe,
            t->pos ? nan_plain(t->run_loss / t->pos) : NAN);
    if (t->classes)
        fprintf(p->out, "  acc %.2f%%", t->pos ? 100.0 * t->run_correct / t->pos : 0.0);
    fprintf(p->out, "  %.0f samples/s  ETA %s", rate, eta);
    fflush(p->out);
    p->last = now;
    p->shown = 1;
}

/* The epoch just ended, on a line that stays. */
static void draw_epoch(train_progress *p, const trainer *t)
{
    const train_history *h = &t->history;
    int e = h->n - 1;
    fprintf(p->out, "\r\033[Kepoch %d/%d  loss %.4f", t->epoch,
            p->goal > t->epoch ? p->goal : t->epoch, nan_plain(h->train_loss[e]));
    if (t->classes)
        fprintf(p->out, "  acc %.2f%%", 100 * h->train_acc[e]);
    if (t->val.X.data) {
        fprintf(p->out, "  val_loss %.4f", nan_plain(h->val_loss[e]));
        if (t->val.labels.data)
            fprintf(p->out, "  val_acc %.2f%%", 100 * h->val_acc[e]);
    }
    fprintf(p->out, "  %.1fs\n", h->seconds[e]);
    fflush(p->out);
    p->shown = 0;
}

int train_progress_hook(void *ctx, const train_event *ev)
{
    train_progress *p = ctx;
    const trainer *t = ev->t;
    if (ev->kind != TRAIN_BATCH_END)
        return 0;
    p->rows += t->last_rows;
    if (t->epoch_ended) {
        draw_epoch(p, t);
    } else if (p->bar) {
        double now = now_seconds();
        if (now - p->last >= 0.1)
            draw_bar(p, t, now);
    }
    return 0;
}

void train_progress_clear(train_progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
        p->shown = 0;
    }
}
