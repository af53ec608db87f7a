/*
 * train.h — mini-batch training of a net (net.h): epochs, schedules, momentum,
 * L2, evaluation, early stopping, the perceptron rule.
 *
 * A trainer owns everything a step needs, allocated once by train_new: the
 * index permutation, the batch's label buffer, the history for the planned
 * epochs, the copy of the best parameters, and it reserves the network's
 * workspace for its batch and evaluation sizes. A step then allocates
 * nothing: it gathers the batch's rows through the permutation into the
 * network's input workspace, runs forward, cost, backward and update, and adds
 * to the epoch's running figures. (The history is sized for the planned
 * epochs, up to 1024 of them and 2^20 recorded steps; beyond that it grows by
 * doubling, so a step allocates only at those rare doublings.)
 *
 * The unit of work is one batch (train_step). After every step the trainer
 * and the network are consistent. The loop over batches is train_run (and
 * its shorter forms train_epoch and train_batch), the one loop C tests and
 * the Lua binding both run: between batches it polls dl_interrupted() and
 * calls a hook (callbacks, a progress bar), and it may stop after any batch
 * and later resume where it left off. A hook never raises: it returns, and
 * whoever called train_run reports what the hook saw.
 *
 * Loss figures in the history are the mean cost of the data (the L2 term is
 * not included). The training figures of an epoch are running means over its
 * batches, each taken before that batch's update (as Keras reports them);
 * the validation figures come from a full pass after the epoch.
 *
 * Labels are 0-based class labels (N × 1, integral values 0..k−1, see net.h);
 * for regression the targets are an N × nᴸ matrix and accuracies are NaN.
 */
#ifndef DL_TRAIN_H
#define DL_TRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "dl.h"
#include "mat.h"
#include "net.h"
#include "rng.h"

/* Learning rate per epoch e (0-based). */
typedef enum train_schedule {
    TRAIN_CONSTANT,   /* η */
    TRAIN_STEP,       /* η·γ^⌊e/every⌋ */
    TRAIN_INV_T,      /* η/(1 + decay·e) */
    TRAIN_CUSTOM,     /* t->lr_custom, set by the caller before each epoch */
    TRAIN_SCHEDULE_COUNT
} train_schedule;

/* Names in enum order: "constant", "step", "inv_t", "custom", NULL. */
extern const char *const train_schedule_names[TRAIN_SCHEDULE_COUNT + 1];

/* How parameters change after a batch. */
typedef enum train_rule {
    TRAIN_BACKPROP,   /* gradients from net_backward, then net_update */
    TRAIN_PERCEPTRON, /* one step layer: W ← W + η·(T − A)ᵀX/B, b ← b + η·mean(T − A) */
    TRAIN_RULE_COUNT
} train_rule;

/* Names in enum order: "backprop", "perceptron", NULL. */
extern const char *const train_rule_names[TRAIN_RULE_COUNT + 1];

/* What early stopping watches on the validation set. */
typedef enum train_monitor {
    TRAIN_VAL_LOSS,   /* lower is better */
    TRAIN_VAL_ACC,    /* higher is better */
    TRAIN_MONITOR_COUNT
} train_monitor;

/* Names in enum order: "val_loss", "val_acc", NULL. */
extern const char *const train_monitor_names[TRAIN_MONITOR_COUNT + 1];

/* What a batch whose loss is NaN or infinite does. */
typedef enum train_on_nan {
    TRAIN_NAN_STOP,       /* train_step returns DL_DIVERGED before that batch's update */
    TRAIN_NAN_CONTINUE,   /* it trains on (the parameters become NaN) */
    TRAIN_ON_NAN_COUNT
} train_on_nan;

/* Names in enum order: "stop", "continue", NULL. */
extern const char *const train_on_nan_names[TRAIN_ON_NAN_COUNT + 1];

/* Why training stopped before its planned epochs (0: it did not). */
typedef enum train_stop {
    TRAIN_RUNNING = 0,
    TRAIN_EARLY,      /* validation did not improve for `patience` epochs */
    TRAIN_CALLER      /* a hook (a callback) asked to stop */
} train_stop;

typedef struct train_config {
    int batch;               /* B, rows per step (1: online; N: full batch) */
    int epochs;              /* planned epochs (sizes the history; train_run's goal) */
    double lr;               /* η at epoch 0 (double: the history reads back what was given) */
    float lambda;            /* λ of the L2 term λ/(2n)·Σw², n = training rows */
    float momentum;          /* μ (0: plain SGD) */
    int shuffle;             /* nonzero: a new permutation every epoch */
    uint64_t seed;           /* seeds the permutations */
    train_schedule schedule;
    int step_every;          /* TRAIN_STEP: epochs between decays (>= 1) */
    double step_gamma;       /* TRAIN_STEP: factor per decay */
    double inv_decay;        /* TRAIN_INV_T: decay */
    train_rule rule;
    int patience;            /* early stopping after this many epochs without
                                improvement (0: no early stopping; needs validation) */
    train_monitor monitor;
    int restore_best;        /* nonzero: when early stopping ends training (or a
                                run ends with it on), load the best epoch's parameters */
    int record_steps;        /* nonzero: keep every step's loss in the history */
    int eval_batch;          /* rows per forward when evaluating (0: 256) */
    train_on_nan on_nan;     /* a non-finite batch loss: stop (default) or go on */
} train_config;

/* A data set as the trainer sees it. Exactly one of labels / targets is set
 * (data NULL for the other). */
typedef struct train_data {
    mat X;                   /* (N, n⁰) inputs, one sample per row */
    mat labels;              /* (N, 1) 0-based class labels, or data == NULL */
    mat targets;             /* (N, nᴸ) regression targets, or data == NULL */
} train_data;

/* Per-epoch figures; arrays of `cap` entries, the first n valid. */
typedef struct train_history {
    int n, cap;
    double *train_loss;      /* (cap) running mean cost over the epoch */
    double *train_acc;       /* (cap) running fraction correct (NaN for regression) */
    double *val_loss;        /* (cap) NaN without validation */
    double *val_acc;         /* (cap) NaN without validation or for regression */
    double *seconds;         /* (cap) wall time since training began, at epoch end */
    double *lr;              /* (cap) η used in the epoch */
    int steps, step_cap;
    float *step_loss;        /* (step_cap) cost of each batch, if record_steps */
} train_history;

/* Evaluation of a network on a set. */
typedef struct train_eval {
    double loss;             /* mean cost */
    int correct, count;      /* samples predicted right, samples seen */
    double accuracy;         /* correct / count (NaN for regression) */
} train_eval;

typedef struct trainer {
    net *net;                /* trained in place; not owned */
    train_config cfg;
    train_data train, val;   /* not owned; val.X.data NULL when none */
    int N;                   /* training rows */
    int classes;             /* label range k (2 for one output neuron), 0 for regression */

    int *perm;               /* (N) sample order of the current epoch */
    mat batch_labels;        /* (cfg.batch, 1) gathered labels */
    float *best;             /* (net->n_params) parameters of the best epoch, or NULL */
    rng rng;

    int epoch;               /* epochs completed */
    int pos;                 /* rows of the current epoch done (0: at an epoch start) */
    int batch_in_epoch;      /* batches of the current epoch done */
    double lr_now;           /* η of the current epoch */
    double lr_custom;        /* η for TRAIN_CUSTOM: set before each epoch starts */
    double run_loss;         /* Σ batch cost · rows over the current epoch */
    double run_correct;      /* Σ correct over the current epoch */
    double last_loss;        /* cost of the last batch */
    int last_rows;           /* rows of the last batch */
    int epoch_ended;         /* the last step completed an epoch */

    double best_metric;      /* best monitored value so far */
    int best_epoch;          /* 1-based epoch of best_metric (0: none) */
    int bad_epochs;          /* epochs since the last improvement */
    train_stop stop;         /* why training stopped (sticky until cleared) */
    double t_start;          /* monotonic clock at the first step, seconds */
    double t_spent;          /* training seconds before the current run started */
    int timing;              /* nonzero while the clock runs */

    train_history history;
} trainer;

/* Defaults: batch 32, 1 epoch, η 0.1, no L2, no momentum, shuffle, seed 1,
 * constant schedule (step: every 1, γ 0.5; 1/t: decay 1), backprop, no early
 * stopping, monitor val_loss, restore_best on, no step record, eval batch 256. */
train_config train_config_default(void);

/* Check a configuration against a network and data before train_new: 0 when
 * fine, else DL_EINVAL/DL_ESHAPE with a reason in msg (e.g. "batch 0 must be
 * at least 1", "train.X has 3 columns but the network takes 2 inputs",
 * "train.y row 7 holds 10, not a label 0..9"). */
dl_status train_check(const net *n, const train_config *cfg, train_data train,
                      train_data val, char *msg, size_t msglen);

/* New trainer for n on train (and val, whose X.data may be NULL). Calls
 * train_check; DL_ENOMEM when allocation fails. *out is NULL on failure. */
dl_status train_new(trainer **out, net *n, const train_config *cfg,
                    train_data train, train_data val, char *msg, size_t msglen);
/* Free a trainer (not its network or data); NULL is fine. */
void train_free(trainer *t);

/* Room in t's history for `epochs` epochs and `steps` steps (what a trainer
 * read back from a checkpoint needs before its history is copied in). */
dl_status train_history_fit(trainer *t, int epochs, int steps);

/* η for epoch e (0-based) under cfg's schedule (TRAIN_CUSTOM: cfg->lr). */
double train_schedule_lr(const train_config *cfg, int e);

/* One mini-batch: starts an epoch if none is under way (new permutation, η),
 * then gathers, steps, accumulates; when the batch ends the epoch, evaluates
 * the validation set, appends the history, and applies early stopping (which
 * may set t->stop = TRAIN_EARLY and restore the best parameters). The
 * update is fused into the gradient product, so dW, db may be left stale:
 * net_sync_grads writes them (train_run and its shorter forms do when they
 * return other than by a hook's stop; a hook that lets user code read them
 * calls it first). */
dl_status train_step(trainer *t);

/* When the loop calls its hook. */
typedef enum train_event_kind {
    TRAIN_EPOCH_BEGIN,   /* before an epoch's first batch (a hook may set t->lr_custom) */
    TRAIN_BATCH_END,     /* after every batch */
    TRAIN_EPOCH_END      /* after an epoch's last batch, its history entry written
                            (follows that batch's TRAIN_BATCH_END) */
} train_event_kind;

/* What the hook is told. epoch and batch are 1-based and name the batch just
 * done (TRAIN_EPOCH_BEGIN: the epoch about to start, batch 0). */
typedef struct train_event {
    train_event_kind kind;
    trainer *t;
    int epoch;               /* the epoch the event belongs to */
    int batch;               /* batches of that epoch done */
    double loss;             /* cost of the batch just done (NaN at TRAIN_EPOCH_BEGIN) */
} train_event;

/* Called by the loop between batches; 0 to go on, nonzero to stop right there
 * (the loop then sets t->stop = TRAIN_CALLER and returns DL_OK). */
typedef int (*train_hook)(void *ctx, const train_event *ev);

/*
 * The training loop: batches until `epochs` epochs have been completed in
 * total (<= 0: t->cfg.epochs; a partial epoch is resumed), early stopping,
 * or a hook's stop. After every batch it checks dl_interrupted() first, and
 * returns DL_INTERRUPTED (state consistent) when it is set, then calls hook
 * (may be NULL) with TRAIN_BATCH_END and, at an epoch's end, TRAIN_EPOCH_END;
 * before an epoch's first batch it calls it with TRAIN_EPOCH_BEGIN. A hook's
 * stop lasts until the next train_run. A run that ends other than by a hook
 * ends with train_finish.
 */
dl_status train_run(trainer *t, int epochs, train_hook hook, void *ctx);
/* The same loop until the current (or a new) epoch ends; no train_finish. */
dl_status train_epoch(trainer *t, train_hook hook, void *ctx);
/* The same loop for one batch. */
dl_status train_batch(trainer *t, train_hook hook, void *ctx);
/* End of a run (train_run calls it; a caller driving train_step itself calls
 * it when its run ends normally): with early stopping on and restore_best,
 * load the best epoch's parameters if they are not the current ones. */
void train_finish(trainer *t);
/* Load the best epoch's parameters (DL_EINVAL when none was kept). */
dl_status train_restore_best(trainer *t);

/*
 * The progress bar: one line, redrawn in place at most ten times a second as
 * batches end,
 *   epoch 2/5 [=========>          ] 235/469  loss 0.3121  acc 91.20%  1830 samples/s  ETA 0:41
 * and replaced at each epoch's end by a summary line that stays,
 *   epoch 2/5  loss 0.2950  acc 91.70%  val_loss 0.2701  val_acc 92.40%  14.2s
 * It writes to the FILE it is given and nothing else: whoever knows that a
 * terminal is there (isatty) gives it one.
 */
typedef struct train_progress {
    FILE *out;
    int goal;                /* epochs the bar counts to */
    int bar;                 /* nonzero: the bar between summary lines (0: summaries only) */
    double t0;               /* clock at train_progress_start, seconds */
    long rows;               /* rows trained since t0 (for samples/s and the ETA) */
    double last;             /* clock of the last bar drawn */
    int shown;               /* a bar is on the current line (no newline after it yet) */
} train_progress;

/* Start a bar on out, counting to `goal` epochs. */
void train_progress_start(train_progress *p, FILE *out, int goal, int bar);
/* A train_hook (ctx: a train_progress) that draws on TRAIN_BATCH_END: the bar,
 * or the summary line when the batch ended an epoch. Returns 0. */
int train_progress_hook(void *ctx, const train_event *ev);
/* Take the bar off its line, so that what is printed next starts clean. */
void train_progress_clear(train_progress *p);

/* Evaluate n on set (labels or targets) in chunks of `chunk` rows (0: 256).
 * confusion (may be NULL): k×k counts, row = true label, column = predicted,
 * k = nᴸ (2 when nᴸ = 1); zeroed first. Overwrites the network's z, a, δ. */
dl_status train_evaluate(net *n, train_data set, int chunk, train_eval *out,
                         int *confusion);

/* The k misclassified samples the network is most confident about, most
 * confident first: 0-based rows idx, predicted labels pred, confidence conf
 * (the winning output; for one output neuron max(a, 1 − a)). *found gets how
 * many there were (<= k). Needs labels. */
dl_status train_confident_errors(net *n, train_data set, int k, int *idx, int *pred,
                                 float *conf, int *found);

#endif
