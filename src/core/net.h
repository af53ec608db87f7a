/*
 * net.h — a fully connected network whose every z, a and δ stays in view.
 *
 * Notation is Nielsen's: layer l (1..L) has weights W (n_out × n_in; w_jk joins
 * neuron k of layer l−1 to neuron j of layer l) and biases b (1 × n_out).
 * A batch of B samples is B rows, so for layer l
 *
 *     Z = A_prev·Wᵀ + b          (B × n_out)
 *     A = σ(Z)                   (B × n_out)
 *
 * and a⁰ is the input X. Backpropagation (backward walks the layers in exact
 * reverse order) computes, per sample and then as the batch MEAN:
 *
 *     δᴸ = ∇ₐC ⊙ σ′(zᴸ)                      (BP1; a Jacobian product for softmax)
 *     δˡ = (δˡ⁺¹·Wˡ⁺¹) ⊙ σ′(zˡ)              (BP2, rows form of (Wᵀδ) ⊙ σ′)
 *     ∂C/∂b = mean over rows of δ              (BP3)
 *     ∂C/∂W = δᵀ·A_prev / B                    (BP4)
 *
 * Memory (see DESIGN.md): the parameters of all layers live in one contiguous
 * slab, net->params, laid out layer by layer as W¹ b¹ W² b² … from one size
 * table; the gradients live in a twin slab of the same layout, net->grads, and
 * the momentum velocity in a third twin, net->vel. z, a, δ of every layer, the
 * input and the targets live in a workspace sized for the largest batch seen.
 * A forward, backward or step on a batch no larger than one seen before
 * allocates nothing. When a larger batch arrives the workspace grows (doubling)
 * and the old block is RETIRED, not freed, until net_free: views handed out
 * earlier (Lua keeps them alive) can never point into freed memory.
 *
 * Gradient rule: net_backward OVERWRITES dW and db with the gradient of the
 * batch it was given, unless net->accumulate is set, in which case it ADDS that
 * batch's mean gradient to them (net_zero_grads clears them). Frozen parameters
 * still get their gradients computed (so they can be looked at); net_update
 * leaves them unchanged.
 *
 * Class labels are 0-based (the data's own values): a label matrix is B × 1
 * with integer values 0..n_out−1. With a single output neuron, label 0/1 is
 * the target value itself and a prediction is a > 0.5.
 */
#ifndef DL_NET_H
#define DL_NET_H

#include <stdint.h>

#include "dl.h"
#include "kern.h"
#include "mat.h"
#include "rng.h"

/* Costs, per sample; the batch cost is the mean over samples. */
typedef enum dl_cost {
    DL_QUADRATIC,       /* ½‖y − a‖² */
    DL_CROSS_ENTROPY,   /* −Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)], for sigmoid outputs */
    DL_LOG_LIKELIHOOD,  /* −Σⱼ yⱼ ln aⱼ (−ln a_y for a one-hot y), for softmax outputs */
    DL_COST_COUNT
} dl_cost;

/* Names in enum order: "quadratic", "cross_entropy", "log_likelihood", NULL. */
extern const char *const dl_cost_names[DL_COST_COUNT + 1];

/* Weight initialisations (biases: N(0,1) for nielsen, zero otherwise). */
typedef enum dl_init {
    DL_INIT_NIELSEN,    /* W, b ~ N(0, 1), as in the book's network.py */
    DL_INIT_SCALED,     /* W ~ N(0, 1/n_in), b ~ N(0, 1) (the book's chapter 3) */
    DL_INIT_XAVIER,     /* W ~ U(±√(6/(n_in + n_out))), b = 0 */
    DL_INIT_HE,         /* W ~ N(0, 2/n_in), b = 0 */
    DL_INIT_ZEROS,      /* W = 0, b = 0 */
    DL_INIT_AUTO,       /* per layer by its activation: he for the ReLU family,
                         * scaled for the others and for the output layer */
    DL_INIT_COUNT
} dl_init;

/* Names in enum order: "nielsen", "scaled", "xavier", "he", "zeros", NULL. */
extern const char *const dl_init_names[DL_INIT_COUNT + 1];

/* Most layers a network may have (weight layers, not counting the input). */
#define NET_MAX_LAYERS 64

typedef struct layer {
    int n_in, n_out;          /* sizes of the layer before and of this one */
    dl_act act;               /* activation of every neuron ... */
    unsigned char *neuron_act; /* ... unless this is set: (n_out) per-neuron dl_act,
                                 never DL_SOFTMAX; NULL until set_activation */
    float c;                  /* softmax temperature: softmax(c·z); 1 by default */
    int frozen_W, frozen_b;   /* nonzero: net_update leaves W (or b) unchanged */

    mat W, b;                 /* (n_out, n_in), (1, n_out): views into net->params */
    mat dW, db;               /* same shapes: views into net->grads */
    mat vW, vb;               /* same shapes: momentum velocity in net->vel */

    /* Workspace views, rows = the batch size B of the last forward. */
    mat z;                    /* (B, n_out) weighted inputs */
    mat a;                    /* (B, n_out) activations σ(z) */
    mat delta;                /* (B, n_out) δ = ∂C/∂z per sample (not divided by B) */
} layer;

/* Why dW, db are stale (net.grads_stale), which says what writing them needs. */
enum {
    STALE_WORKSPACE = 1,      /* δ, a and x of the workspace as they are */
    STALE_X_KEPT = 2          /* one sample: δ, a of the workspace, the input in x_step */
};

typedef struct net {
    int L;                    /* number of weight layers */
    int sizes[NET_MAX_LAYERS + 1]; /* n⁰ (inputs) .. nᴸ (outputs) */
    layer layers[NET_MAX_LAYERS];  /* layers[0] is the book's layer 2 (first weights) */
    dl_cost cost;
    int accumulate;           /* nonzero: backward adds to dW, db instead of overwriting */

    float *params;            /* (n_params) W¹ b¹ W² b² …, 64-byte aligned */
    float *grads;             /* (n_params) twin of params: dW¹ db¹ … */
    float *vel;               /* (n_params) twin of params: momentum velocity */
    size_t n_params;

    int B;                    /* rows of the last forward (0 before any) */
    int cap;                  /* rows the workspace holds */
    int have_delta;           /* nonzero when δ, dW, db belong to the last forward */
    int grads_stale;          /* nonzero: a fused step left dW, db unwritten; net_sync_grads
                                 writes them from δ and a: STALE_WORKSPACE after
                                 net_backward_update, STALE_X_KEPT after a batch-1 net_step */
    float *x_step;            /* (n⁰) the input of the last batch-1 net_step: its stale dW¹
                                 = δ¹·xᵀ needs it once the next input has replaced x */
    int w_pending;            /* nonzero: that step's update of W¹, W¹ ← pend_decay·W¹ −
                                 pend_lr·d_step·x_stepᵀ, is still to be made (see
                                 net_settle_weights) */
    float pend_lr, pend_decay;
    float *d_step;            /* (n¹) δ¹ of that step */
    float *work;              /* workspace: x, y, scratch, then z, a, δ per layer */
    float *retired[40];       /* earlier workspaces, freed by net_free (see top) */
    int n_retired;
    mat x;                    /* (B, n⁰) copy of the input: a⁰ */
    mat y;                    /* (B, nᴸ) targets of the last cost/backward */
    mat scratch;              /* (B, max n) σ′ and softmax Jacobian scratch */

    rng rng;                  /* for initialisation */
    dl_init init;             /* the last net_init's way; DL_INIT_COUNT: values set otherwise */
} net;

/* Options of an update: W ← (1 − ηλ/n)·W − η·dW (with momentum μ:
 * v ← μ·v − η·dW; W ← (1 − ηλ/n)·W + v), b likewise without the decay. */
typedef struct net_hyper {
    float lr;                 /* η */
    float lambda;             /* λ, L2 strength (0: none) */
    float n;                  /* n, training-set size in the decay factor (> 0) */
    float momentum;           /* μ (0: plain SGD) */
} net_hyper;

/* Defaults: η = 0.1, λ = 0, n = 1, μ = 0. */
net_hyper net_hyper_default(void);

/* New network with L weight layers: sizes[0..L], acts[0..L-1] per layer
 * (NULL: sigmoid everywhere), cost. Parameters are zero (call net_init).
 * DL_EINVAL for L out of 1..NET_MAX_LAYERS, a size < 1, a bad enum. */
dl_status net_new(net **out, int L, const int *sizes, const dl_act *acts, dl_cost cost);
/* Free a network and everything it owns (NULL is fine). */
void net_free(net *n);

/* A network as its user describes it (network{...} in Lua), for net_create.
 * Layers are numbered in messages as in sizes[]: layer 1 is the input. */
typedef struct net_spec {
    int L;                         /* weight layers, 1..NET_MAX_LAYERS */
    int sizes[NET_MAX_LAYERS + 1]; /* n⁰ (inputs) .. nᴸ, each 1..2^24 */
    dl_act acts[NET_MAX_LAYERS];   /* activation of weight layer l (0-based) */
    float c[NET_MAX_LAYERS];       /* its softmax temperature (> 0; kept by softmax layers only) */
    dl_cost cost;
    dl_init init;                  /* how W and b start (zeros when the caller fills them) */
    uint64_t seed;                 /* of the initialisation */
    int freeze_W, freeze_b;        /* nonzero: every layer's W (or b) frozen */
} net_spec;

/* A spec with the defaults (L and sizes still to fill): sigmoid everywhere,
 * c = 1, quadratic cost, auto init, seed 0, nothing frozen. */
net_spec net_spec_default(void);
/* DL_OK when weight layers of sizes[0..L] fit this machine. Otherwise why, in
 * msg: DL_EINVAL "layer 2 has 2^31 weights or more (65536x65536)" (one W is
 * at most 2^31 floats) or a size out of range; DL_ENOMEM "the parameters need
 * 134.4 GB (...), more than this machine's 16.0 GB" (parameters, gradients
 * and velocities: Linux would promise the memory and kill the program later). */
dl_status net_check_sizes(int L, const int *sizes, char *msg, size_t msglen);
/* Validate spec (net_check_sizes, the enums, the temperatures), then build:
 * net_new, the temperatures and frozen flags, net_init(spec->init, spec->seed).
 * On failure *out is NULL and msg says why. */
dl_status net_create(net **out, const net_spec *spec, char *msg, size_t msglen);

/* Initialise every W and b by `how` with a generator seeded by `seed`. */
dl_status net_init(net *n, dl_init how, uint64_t seed);
/* The first weight layer (0-based) whose z or a in the last forward holds a
 * NaN or an infinity, or -1: where a diverging network overflowed. */
int net_first_nonfinite(const net *n);

/* Make the workspace hold batches of up to B rows (grows only; see top). */
dl_status net_reserve(net *n, int B);
/* The workspace input (B, n⁰), to be filled before net_forward(n, net_input(n, B));
 * data is NULL if the workspace could not grow. */
mat net_input(net *n, int B);
/* The workspace targets (B, nᴸ), to be filled before net_backward with it. */
mat net_target(net *n, int B);

/* Forward X (B, n⁰): keeps z, a of every layer. X may be net_input(n, B). */
dl_status net_forward(net *n, mat X);
/* The output activations aᴸ (B, nᴸ) of the last forward. */
mat net_output(const net *n);
/* Mean cost of the last forward against targets Y (B, nᴸ); Y may be net_target. */
dl_status net_cost(net *n, mat Y, double *cost);
/* The stages of net_forward and net_backward, for stepping through them one
 * at a time (net:walk): copy X into the workspace; compute z, a of layer l
 * from layer l−1; δᴸ from targets Y (BP1); dW, db of layer l (BP3, BP4) and
 * δ of layer l−1 (BP2). Calling them in order is exactly forward/backward. */
dl_status net_set_input(net *n, mat X);
dl_status net_forward_layer(net *n, int l);
dl_status net_output_delta(net *n, mat Y);
dl_status net_backward_layer(net *n, int l);
/* ∂C/∂aˡ for sample i (0-based) into out (n_out floats): ∇ₐC for the output
 * layer, (Wˡ⁺¹)ᵀδˡ⁺¹ for a hidden one. Needs a forward (and, for hidden
 * layers, a backward). */
dl_status net_grad_a(const net *n, int l, int i, float *out);
/* σ′(zˡ) for sample i into out; DL_EINVAL for a softmax layer (not element-wise). */
dl_status net_act_grad(const net *n, int l, int i, float *out);
/* Backpropagate targets Y (B, nᴸ) through the last forward: δ, dW, db of every
 * layer (gradients are batch means; overwritten unless n->accumulate). */
dl_status net_backward(net *n, mat Y);
/* Targets from 0-based class labels (B, 1): one-hot (or the value itself when
 * nᴸ = 1) written into net_target. DL_EINVAL for a non-integer or out-of-range label. */
dl_status net_labels_to_targets(net *n, mat labels, mat *Y);
/* Apply the gradients: see net_hyper. Frozen parameters stay. */
dl_status net_update(net *n, const net_hyper *h);
/* net_backward then net_update, with the update fused into BP4's product
 * (W ← decay·W − (η/B)·δᵀA_prev, or into the velocity with momentum) so that
 * dW, db are not written: they are left stale (grads_stale) and written by
 * net_sync_grads, exactly as net_backward would have, from the workspace.
 * Every function here that overwrites the workspace or reads the gradients
 * (net_set_input, net_input, net_reserve growing, the stages, net_backward,
 * net_update) syncs first — but a new single-sample input keeps a batch-1
 * step's (STALE_X_KEPT) — and code that reads dW, db directly (a matrix
 * view of them) calls net_sync_grads. Weights agree with the unfused path to a few
 * ulp per step (the product is rounded once, not twice); biases exactly.
 * One sample without momentum takes the batch-1 kernels: dW, db stale with
 * the input kept in x_step (STALE_X_KEPT), W¹'s update left pending for the
 * next forward (net_settle_weights). With n->accumulate set it is
 * net_backward then net_update, unfused. */
dl_status net_backward_update(net *n, mat Y, const net_hyper *h);
/* Make the update of W¹ that a batch-1 net_step deferred (nothing when none
 * is pending). That step passes over W¹ once, not twice: it leaves its rank-1
 * update to the next batch-1 forward, which makes it in the pass that reads
 * W¹ for the product (kern_table.dense_step_forward). Every other function
 * here that reads or writes the parameters calls this first, and so must
 * code that reads net->params or a layer's W directly (the Lua bindings do
 * on every use of a network but net:step). Weights with the update pending
 * hold the same value as after it, only not yet in W¹'s memory, so a
 * function with a const net may call it. */
void net_settle_weights(const net *n);
/* Write the gradients a fused step left stale (nothing when none are). */
void net_sync_grads(net *n);
/* Drop the stale gradients unwritten: the caller is about to step on a new
 * batch, whose gradients replace them (the trainer, before gathering it). */
void net_forget_grads(net *n);
/* forward, cost, backward, update on one batch; *cost (may be NULL) is the
 * mean cost before the update. A batch takes net_backward_update, the
 * trainer's fused step (dW, db left stale). One sample without momentum is
 * fused the same way (dW, db left stale, input kept in x_step), its update
 * of W¹ is left pending for the next forward (net_settle_weights), and a
 * step drops the last step's stale gradients instead of writing them. */
dl_status net_step(net *n, mat X, mat Y, const net_hyper *h, double *cost);
/* Set dW, db (all layers) and the velocity to zero. */
void net_zero_grads(net *n);
void net_zero_velocity(net *n);

/* Give neuron j (0-based) of layer l (0-based) its own activation (not softmax;
 * DL_EINVAL also when the layer is softmax). */
dl_status net_set_neuron_act(net *n, int l, int j, dl_act f);
/* Give every neuron of layer l activation f (softmax with temperature c; c is
 * ignored otherwise), dropping per-neuron choices. */
dl_status net_set_layer_act(net *n, int l, dl_act f, float c);
/* Activation of neuron j of layer l. */
dl_act net_neuron_act(const net *n, int l, int j);

/* Number of rows of the last output whose argmax (or a > 0.5 for one output)
 * equals the label in labels (B, 1). */
int net_count_correct(const net *n, mat labels);
/* Predicted 0-based labels of the last forward into out (B, 1). */
dl_status net_predict(const net *n, mat out);
/* Σ of w² over all weights (not biases), e.g. for the L2 term λ/(2n)·Σw². */
double net_weight_sumsq(const net *n);

/* Gradient check: for every parameter p, (C(p+ε) − C(p−ε))/2ε with C computed
 * in double precision from a float64 copy of the parameters, against dW, db from
 * net_backward. errW[l], errb[l] (L entries each) get, per layer,
 * max|g − fd| / max(max|g|, max|fd|, 1e-12) (0 when both are all zero).
 * Leaves z, a, δ, dW, db as backward left them for X, Y. eps <= 0: 1e-5. */
dl_status net_gradcheck(net *n, mat X, mat Y, double eps, double *errW, double *errb);
/* The same, checking at most `max` evenly spaced entries of each W and each b
 * (max <= 0: all): each entry costs two double-precision passes over X. */
dl_status net_gradcheck_some(net *n, mat X, mat Y, double eps, long max, double *errW,
                             double *errb);
/* The mean cost of X, Y computed in double precision with the float parameters. */
dl_status net_cost_double(const net *n, mat X, mat Y, double *cost);

/* Checkpoints (netio.c): a data-only binary file, format in doc/formats.md,
 * saved through dl_save (save.h). On failure msg (if not NULL) gets a reason
 * of at most msglen bytes, e.g. "truncated (expected 4096 bytes of parameters)";
 * a failed save's names the path, "net.dln: No space left on device". */
dl_status net_save(const net *n, const char *path, char *msg, size_t msglen);
/* For files that embed a checkpoint (a trainer's, trainio.h): its size in
 * bytes; writing it into an open save (crc, if not NULL, is a zlib CRC-32
 * updated with the bytes); reading it back from buf[0..len), checksum
 * included, with the checks of net_load. */
struct dl_save;
uint64_t net_checkpoint_size(const net *n);
void net_write_embedded(const net *n, struct dl_save *s, unsigned long *crc);
dl_status net_read_embedded(net **out, const unsigned char *buf, size_t len,
                            char *msg, size_t msglen);
dl_status net_load(net **out, const char *path, char *msg, size_t msglen);

#endif
