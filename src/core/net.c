/*
 * net.c — forward, cost, backward and update of a fully connected network,
 * plus a double-precision cost for gradient checks. See net.h for the
 * notation, the memory layout and the gradient rule.
 */
#include "net.h"
#include "threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const dl_cost_names[DL_COST_COUNT + 1] = {
    "quadratic", "cross_entropy", "log_likelihood", NULL
};

const char *const dl_init_names[DL_INIT_COUNT + 1] = {
    "nielsen", "scaled", "xavier", "he", "zeros", "auto", NULL
};

net_hyper net_hyper_default(void)
{
    return (net_hyper){ .lr = 0.1f, .lambda = 0.0f, .n = 1.0f, .momentum = 0.0f };
}

/* ---------------------------------------------------------------- creation */

/* Floats in a block rounded up to 16 (64 bytes), so every block stays aligned. */
static size_t padded(size_t n) { return (n + 15) & ~(size_t)15; }

dl_status net_new(net **out, int L, const int *sizes, const dl_act *acts, dl_cost cost)
{
    *out = NULL;
    if (L < 1 || L > NET_MAX_LAYERS || (unsigned)cost >= DL_COST_COUNT)
        return DL_EINVAL;
    for (int l = 0; l <= L; l++)
        if (sizes[l] < 1 || sizes[l] > (1 << 24))
            return DL_EINVAL;
    for (int l = 0; acts && l < L; l++)
        if ((unsigned)acts[l] >= DL_ACT_COUNT)
            return DL_EINVAL;

    net *n = calloc(1, sizeof *n);
    if (!n)
        return DL_ENOMEM;
    n->L = L;
    n->cost = cost;
    n->init = DL_INIT_COUNT;   /* zeros until net_init, or values from a caller or a file */
    memcpy(n->sizes, sizes, (size_t)(L + 1) * sizeof *sizes);

    /* The one size table: layer l holds W (n_out × n_in) then b (n_out). */
    size_t total = 0;
    for (int l = 0; l < L; l++) {
        size_t w = (size_t)sizes[l + 1] * (size_t)sizes[l];
        if (w > (size_t)1 << 31)
            goto toolarge;
        total += padded(w) + padded((size_t)sizes[l + 1]);
    }
    n->n_params = total;
    n->params = dl_calloc(total);
    n->grads = dl_calloc(total);
    n->vel = dl_calloc(total);
    n->x_step = dl_calloc(padded((size_t)sizes[0]));
    n->d_step = dl_calloc(padded((size_t)sizes[1]));
    if (!n->params || !n->grads || !n->vel || !n->x_step || !n->d_step)
        goto nomem;

    size_t off = 0;
    for (int l = 0; l < L; l++) {
        layer *ly = &n->layers[l];
        int in = sizes[l], o = sizes[l + 1];
        *ly = (layer){ .n_in = in, .n_out = o, .act = acts ? acts[l] : DL_SIGMOID, .c = 1.0f };
        ly->W = mat_wrap(n->params + off, o, in);
        ly->dW = mat_wrap(n->grads + off, o, in);
        ly->vW = mat_wrap(n->vel + off, o, in);
        off += padded((size_t)o * in);
        ly->b = mat_wrap(n->params + off, 1, o);
        ly->db = mat_wrap(n->grads + off, 1, o);
        ly->vb = mat_wrap(n->vel + off, 1, o);
        off += padded((size_t)o);
    }
    *out = n;
    return DL_OK;
toolarge:
    free(n);
    return DL_EINVAL;
nomem:
    net_free(n);
    return DL_ENOMEM;
}

void net_free(net *n)
{
    if (!n)
        return;
    for (int l = 0; l < n->L; l++)
        free(n->layers[l].neuron_act);
    for (int i = 0; i < n->n_retired; i++)
        dl_free(n->retired[i]);
    dl_free(n->work);
    dl_free(n->params);
    dl_free(n->grads);
    dl_free(n->vel);
    dl_free(n->x_step);
    dl_free(n->d_step);
    free(n);
}

net_spec net_spec_default(void)
{
    net_spec spec = { .L = 0, .cost = DL_QUADRATIC, .init = DL_INIT_AUTO };
    for (int l = 0; l < NET_MAX_LAYERS; l++) {
        spec.acts[l] = DL_SIGMOID;
        spec.c[l] = 1.0f;
    }
    return spec;
}

dl_status net_check_sizes(int L, const int *sizes, char *msg, size_t msglen)
{
    if (L < 1 || L > NET_MAX_LAYERS)
        return dl_fail(DL_EINVAL, msg, msglen, "%d weight layers, expected 1 to %d", L,
                       NET_MAX_LAYERS);
    for (int l = 0; l <= L; l++)
        if (sizes[l] < 1 || sizes[l] > (1 << 24))
            return dl_fail(DL_EINVAL, msg, msglen, "layer %d has %d neurons, expected 1 to %d",
                           l + 1, sizes[l], 1 << 24);
    /* Say why before net_new can only say "invalid argument" or the system
     * promises memory it has not got (Linux overcommits, then kills). */
    double params = 0;
    for (int l = 0; l < L; l++) {
        double w = (double)sizes[l] * sizes[l + 1];
        if (w > 2147483648.0)
            return dl_fail(DL_EINVAL, msg, msglen, "layer %d has 2^31 weights or more (%dx%d)",
                           l + 2, sizes[l + 1], sizes[l]);
        params += w + sizes[l + 1];
    }
    double bytes = params * 3 * sizeof(float);          /* parameters, gradients, velocities */
    size_t phys = bytes >= 1e8 ? mat_phys_memory() : 0;  /* a syscall: big networks only */
    if (phys && bytes > (double)phys)
        return dl_fail(DL_ENOMEM, msg, msglen,
                       "the parameters need %.1f GB (%.3g weights and biases, with their "
                       "gradients and velocities), more than this machine's %.1f GB",
                       bytes / 1e9, params, (double)phys / 1e9);
    return DL_OK;
}

dl_status net_create(net **out, const net_spec *spec, char *msg, size_t msglen)
{
    *out = NULL;
    dl_status s = net_check_sizes(spec->L, spec->sizes, msg, msglen);
    if (s != DL_OK)
        return s;
    if ((unsigned)spec->cost >= DL_COST_COUNT || (unsigned)spec->init >= DL_INIT_COUNT)
        return dl_fail(DL_EINVAL, msg, msglen, "unknown cost or init (%d, %d)", (int)spec->cost,
                       (int)spec->init);
    for (int l = 0; l < spec->L; l++) {
        if ((unsigned)spec->acts[l] >= DL_ACT_COUNT)
            return dl_fail(DL_EINVAL, msg, msglen, "layer %d: unknown activation %d", l + 2,
                           (int)spec->acts[l]);
        if (!(spec->c[l] > 0) || !isfinite(spec->c[l]))
            return dl_fail(DL_EINVAL, msg, msglen,
                           "layer %d: softmax temperature c must be positive, got %g", l + 2,
                           (double)spec->c[l]);
    }
    net *n;
    s = net_new(&n, spec->L, spec->sizes, spec->acts, spec->cost);
    if (s != DL_OK)
        return dl_fail(s, msg, msglen, "%s", dl_strerror(s));
    for (int l = 0; l < n->L; l++) {
        layer *ly = &n->layers[l];
        ly->c = ly->act == DL_SOFTMAX ? spec->c[l] : 1.0f;
        ly->frozen_W = spec->freeze_W != 0;
        ly->frozen_b = spec->freeze_b != 0;
    }
    net_init(n, spec->init, spec->seed);
    *out = n;
    return DL_OK;
}

/* What "auto" means for weight layer l: the init that keeps the variance of
 * z about 1 through its activation — He's 2/n_in for the ReLU family, which
 * zeroes half the signal; 1/n_in (the book's chapter-3 default) for the
 * saturating ones and for the output layer, whose z feeds the cost. */
static dl_init auto_init(const net *n, int l)
{
    if (l == n->L - 1)
        return DL_INIT_SCALED;
    switch (n->layers[l].act) {
    case DL_RELU: case DL_LEAKY_RELU: case DL_SOFTPLUS: return DL_INIT_HE;
    default:                                          return DL_INIT_SCALED;
    }
}

dl_status net_init(net *n, dl_init how, uint64_t seed)
{
    if ((unsigned)how >= DL_INIT_COUNT)
        return DL_EINVAL;
    n->w_pending = 0;      /* every weight is drawn anew: the update has no W¹ to go to */
    rng_seed(&n->rng, seed);
    for (int l = 0; l < n->L; l++) {
        layer *ly = &n->layers[l];
        double in = ly->n_in, o = ly->n_out;
        double wsd = 0, bsd = 0, limit = 0;
        switch (how == DL_INIT_AUTO ? auto_init(n, l) : how) {
        case DL_INIT_NIELSEN: wsd = 1; bsd = 1; break;
        case DL_INIT_SCALED:  wsd = 1 / sqrt(in); bsd = 1; break;
        case DL_INIT_XAVIER:  limit = sqrt(6 / (in + o)); break;
        case DL_INIT_HE:      wsd = sqrt(2 / in); break;
        default:              break;
        }
        for (int j = 0; j < ly->n_out; j++)
            for (int k = 0; k < ly->n_in; k++) {
                double w = limit > 0 ? limit * (2 * rng_uniform(&n->rng) - 1)
                         : wsd > 0 ? wsd * rng_normal(&n->rng) : 0;
                *mat_at(ly->W, j, k) = (float)w;
            }
        for (int j = 0; j < ly->n_out; j++)
            ly->b.data[j] = bsd > 0 ? (float)(bsd * rng_normal(&n->rng)) : 0.0f;
    }
    net_zero_grads(n);
    net_zero_velocity(n);
    n->init = how;
    return DL_OK;
}

int net_first_nonfinite(const net *n)
{
    for (int l = 0; l < n->L; l++)
        if (mat_count_nonfinite(n->layers[l].z) || mat_count_nonfinite(n->layers[l].a))
            return l;
    return -1;
}

/* --------------------------------------------------------------- workspace */

static int max_width(const net *n)
{
    int m = 0;
    for (int l = 0; l <= n->L; l++)
        if (n->sizes[l] > m) m = n->sizes[l];
    return m;
}

/* Before anything overwrites the workspace or reads the gradients: write
 * dW, db that a fused step left to be computed from it (net.h). */
static void settle(net *n)
{
    if (n->grads_stale)
        net_sync_grads(n);
}

/* Before x is overwritten with an input of `rows` rows: gradients a batch-1
 * step left stale read their input from x_step, so another single sample
 * (the same layout) leaves them as they are; anything else writes them now. */
static void settle_input(net *n, int rows)
{
    if (n->grads_stale && !(n->grads_stale == STALE_X_KEPT && rows == n->B))
        net_sync_grads(n);
}

/* Point the workspace views at `work` for batches of B rows, the blocks laid
 * out for `cap` rows: x, y, scratch, then z, a, δ of each layer. */
static void lay_out(net *n, int B)
{
    size_t cap = (size_t)n->cap, off = 0;
    int n0 = n->sizes[0], nL = n->sizes[n->L], w = max_width(n);
    n->x = mat_wrap(n->work + off, B, n0);           off += padded(cap * n0);
    n->y = mat_wrap(n->work + off, B, nL);           off += padded(cap * nL);
    n->scratch = mat_wrap(n->work + off, B, w);      off += padded(cap * w);
    for (int l = 0; l < n->L; l++) {
        layer *ly = &n->layers[l];
        ly->z = mat_wrap(n->work + off, B, ly->n_out);     off += padded(cap * ly->n_out);
        ly->a = mat_wrap(n->work + off, B, ly->n_out);     off += padded(cap * ly->n_out);
        ly->delta = mat_wrap(n->work + off, B, ly->n_out); off += padded(cap * ly->n_out);
    }
    n->B = B;
}

static size_t work_size(const net *n, size_t cap)
{
    size_t s = padded(cap * n->sizes[0]) + padded(cap * n->sizes[n->L])
             + padded(cap * max_width(n));
    for (int l = 0; l < n->L; l++)
        s += 3 * padded(cap * n->layers[l].n_out);
    return s;
}

dl_status net_reserve(net *n, int B)
{
    if (B < 1)
        return DL_EINVAL;
    if (B <= n->cap)
        return DL_OK;
    settle(n);
    if (n->n_retired == (int)(sizeof n->retired / sizeof n->retired[0]))
        return DL_ENOMEM;
    int cap = n->cap * 2 > B ? n->cap * 2 : B;
    size_t per_row = work_size(n, 1);
    if ((size_t)cap > ((size_t)1 << 40) / per_row) {
        cap = B;
        if ((size_t)cap > ((size_t)1 << 40) / per_row)
            return DL_ENOMEM;
    }
    float *w, *old = n->work;
    int oldcap = n->cap;
    n->cap = cap;
    w = dl_calloc(work_size(n, (size_t)cap));
    if (!w) {
        n->cap = oldcap;
        return DL_ENOMEM;
    }
    /* Retire rather than free: Lua views may still point into the old block. */
    if (old)
        n->retired[n->n_retired++] = old;
    n->work = w;
    n->have_delta = 0;
    lay_out(n, 0);
    return DL_OK;
}

mat net_input(net *n, int B)
{
    settle_input(n, B);  /* the caller fills x, a⁰ of the last batch */
    if (net_reserve(n, B) != DL_OK)
        return (mat){ 0 };
    return mat_wrap(n->x.data, B, n->sizes[0]);
}

mat net_target(net *n, int B)
{
    if (net_reserve(n, B) != DL_OK)
        return (mat){ 0 };
    return mat_wrap(n->y.data, B, n->sizes[n->L]);
}

mat net_output(const net *n)
{
    return n->layers[n->L - 1].a;
}

/* ----------------------------------------------------------- activations */

dl_act net_neuron_act(const net *n, int l, int j)
{
    const layer *ly = &n->layers[l];
    return ly->neuron_act ? (dl_act)ly->neuron_act[j] : ly->act;
}

dl_status net_set_neuron_act(net *n, int l, int j, dl_act f)
{
    if (l < 0 || l >= n->L || (unsigned)f >= DL_ACT_COUNT || f == DL_SOFTMAX)
        return DL_EINVAL;
    layer *ly = &n->layers[l];
    if (j < 0 || j >= ly->n_out || ly->act == DL_SOFTMAX)
        return DL_EINVAL;
    if (!ly->neuron_act) {
        ly->neuron_act = malloc((size_t)ly->n_out);
        if (!ly->neuron_act)
            return DL_ENOMEM;
        memset(ly->neuron_act, ly->act, (size_t)ly->n_out);
    }
    ly->neuron_act[j] = (unsigned char)f;
    n->have_delta = 0;
    return DL_OK;
}

dl_status net_set_layer_act(net *n, int l, dl_act f, float c)
{
    if (l < 0 || l >= n->L || (unsigned)f >= DL_ACT_COUNT || !(c > 0))
        return DL_EINVAL;
    layer *ly = &n->layers[l];
    free(ly->neuron_act);
    ly->neuron_act = NULL;
    ly->act = f;
    ly->c = f == DL_SOFTMAX ? c : 1.0f;
    n->have_delta = 0;
    return DL_OK;
}

/* The element-wise passes of a batch, over row ranges on the thread pool:
 * with one activation for the whole layer, z + b then σ(z) row by row (the
 * row still in L1 for the second), and σ′(z) then δ ⊙ σ′ likewise. Each row
 * is a few thousand floats, too short for the kernels to split it, so the
 * rows are split instead. Nothing here depends on how the rows are cut. */
typedef struct rows_pass {
    const layer *ly;
    mat D, Z, A, S;          /* forward: Z, A (D, S unused); backward: all four */
    const float *bias;       /* forward: b, or NULL */
} rows_pass;

static void forward_rows(void *arg, int i, int parts)
{
    const rows_pass *p = arg;
    const kern_table *k = kern();
    int lo = (int)((long long)p->Z.rows * i / parts), hi = (int)((long long)p->Z.rows * (i + 1) / parts);
    size_t n = (size_t)p->Z.cols;
    for (int r = lo; r < hi; r++) {
        float *z = mat_at(p->Z, r, 0);
        if (p->bias)
            k->add(z, z, p->bias, n);
        k->act(p->ly->act, mat_at(p->A, r, 0), z, n);
    }
}

static void backward_rows(void *arg, int i, int parts)
{
    const rows_pass *p = arg;
    const kern_table *k = kern();
    int lo = (int)((long long)p->D.rows * i / parts), hi = (int)((long long)p->D.rows * (i + 1) / parts);
    size_t n = (size_t)p->D.cols;
    for (int r = lo; r < hi; r++) {
        float *s = mat_at(p->S, r, 0), *d = mat_at(p->D, r, 0);
        k->act_grad(p->ly->act, s, mat_at(p->Z, r, 0), mat_at(p->A, r, 0), n);
        k->mul(d, d, s, n);
    }
}

/* Elements below which one thread does the whole pass. */
#define ROWS_GRAIN (1 << 14)

static void run_rows(dl_task *fn, rows_pass *p, mat M)
{
    int parts = dl_parts((double)M.rows * M.cols, ROWS_GRAIN);
    if (parts > M.rows)
        parts = M.rows;
    if (parts <= 1)
        fn(p, 0, 1);
    else
        dl_parallel(fn, p, parts);
}

/* A = σ(Z) for one layer: row-wise softmax, one activation for the whole
 * layer, or neuron by neuron when some neuron has its own. */
static void activate(const layer *ly, mat A, mat Z)
{
    if (ly->act == DL_SOFTMAX) {
        mat_softmax_rows(A, Z, ly->c);
    } else if (!ly->neuron_act) {
        mat_apply(A, Z, ly->act, 1.0f);
    } else {
        const kern_table *k = kern();
        for (int i = 0; i < Z.rows; i++)
            for (int j = 0; j < Z.cols; j++)
                k->act((dl_act)ly->neuron_act[j], mat_at(A, i, j), mat_at(Z, i, j), 1);
    }
}

/* D holds G = ∂C/∂a on entry and δ = ∂C/∂z on return, for one layer:
 * δ = G ⊙ σ′(z) for element-wise σ (each neuron its own σ′), and for
 * softmax(c·z), whose Jacobian is ∂aᵢ/∂zⱼ = c·aᵢ(1[i=j] − aⱼ),
 * δᵢ = c·aᵢ·(Gᵢ − Σⱼ Gⱼaⱼ). `scratch` holds at least D's shape. */
static void act_backward(const layer *ly, mat D, mat Z, mat A, mat scratch)
{
    if (ly->act == DL_SOFTMAX) {
        for (int i = 0; i < D.rows; i++) {
            float *g = mat_at(D, i, 0);
            const float *a = mat_at(A, i, 0);
            double s = kern()->dot(g, a, (size_t)D.cols);
            for (int j = 0; j < D.cols; j++)
                g[j] = (float)(ly->c * a[j] * (g[j] - s));
        }
    } else if (!ly->neuron_act) {
        rows_pass p = { ly, D, Z, A, mat_wrap(scratch.data, D.rows, D.cols), NULL };
        run_rows(backward_rows, &p, D);
    } else {
        const kern_table *k = kern();
        for (int i = 0; i < D.rows; i++)
            for (int j = 0; j < D.cols; j++) {
                float d;
                k->act_grad((dl_act)ly->neuron_act[j], &d, mat_at(Z, i, j),
                            mat_at(A, i, j), 1);
                *mat_at(D, i, j) *= d;
            }
    }
}

/* ---------------------------------------------------------------- forward */

dl_status net_forward(net *n, mat X)
{
    dl_status s = net_set_input(n, X);
    for (int l = 0; s == DL_OK && l < n->L; l++)
        s = net_forward_layer(n, l);
    return s;
}

dl_status net_set_input(net *n, mat X)
{
    if (X.cols != n->sizes[0] || X.rows < 1 || !X.data)
        return DL_ESHAPE;
    settle_input(n, X.rows);
    if (X.data != n->x.data) {
        dl_status s = net_reserve(n, X.rows);
        if (s != DL_OK)
            return s;
    }
    if (n->B != X.rows)
        lay_out(n, X.rows);
    if (X.data != n->x.data)
        mat_copy(n->x, X);
    n->have_delta = 0;
    return DL_OK;
}

dl_status net_forward_layer(net *n, int l)
{
    if (n->B < 1 || l < 0 || l >= n->L)
        return DL_EINVAL;
    settle(n);
    layer *ly = &n->layers[l];
    mat A_prev = l > 0 ? n->layers[l - 1].a : n->x;
    if (n->B != 1 || l != 0)
        net_settle_weights(n);   /* else the pass over W¹ below makes it */
    if (n->B == 1 && n->w_pending) {                    /* the last step's update, then z */
        kern()->dense_step_forward(ly->z.data, ly->W.data, A_prev.data, ly->b.data, ly->n_out,
                                   ly->n_in, n->d_step, n->x_step, n->pend_lr, n->pend_decay);
        n->w_pending = 0;
    } else if (n->B == 1) {                             /* z = W·a + b, one pass */
        kern()->dense_forward(ly->z.data, ly->W.data, A_prev.data, ly->b.data, ly->n_out,
                              ly->n_in);
    } else {
        mat_gemm(ly->z, 1.0f, A_prev, 0, ly->W, 1, 0.0f);  /* Z = A_prev·Wᵀ */
        if (ly->act != DL_SOFTMAX && !ly->neuron_act) {    /*   + b, A = σ(Z), row by row */
            rows_pass p = { ly, { 0 }, ly->z, ly->a, { 0 }, ly->b.data };
            run_rows(forward_rows, &p, ly->z);
            return DL_OK;
        }
        mat_add(ly->z, ly->z, ly->b);                       /*   + b (a row on every row) */
    }
    activate(ly, ly->a, ly->z);                         /* A = σ(Z) */
    return DL_OK;
}

/* ------------------------------------------------------------------ cost */

/* ln(1 + e^x) without overflow. */
static double softplus_d(double x)
{
    return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}

/* Cost of one sample from its z and a rows and target y (length m), in
 * double. Where σ is known the logs are taken from z, which is exact where
 * a has rounded to 0 or 1: ln σ(z) = −softplus(−z), ln(1 − σ(z)) = −softplus(z),
 * and ln softmax(c·z)ⱼ = c·zⱼ − log Σ e^{c·z}. */
static double sample_cost(const net *n, const float *z, const float *a, const float *y)
{
    const layer *ly = &n->layers[n->L - 1];
    int m = ly->n_out;
    double c = 0;
    switch (n->cost) {
    case DL_QUADRATIC:
        for (int j = 0; j < m; j++) c += 0.5 * ((double)y[j] - a[j]) * ((double)y[j] - a[j]);
        break;
    case DL_CROSS_ENTROPY:
        for (int j = 0; j < m; j++) {
            double yj = y[j];
            if (net_neuron_act(n, n->L - 1, j) == DL_SIGMOID) {
                c += yj * softplus_d(-(double)z[j]) + (1 - yj) * softplus_d(z[j]);
            } else {
                if (yj != 0) c -= yj * log(a[j]);
                if (yj != 1) c -= (1 - yj) * log(1.0 - a[j]);
            }
        }
        break;
    default: /* DL_LOG_LIKELIHOOD */
        if (ly->act == DL_SOFTMAX) {
            double mx = -INFINITY, s = 0;
            for (int j = 0; j < m; j++) if (ly->c * (double)z[j] > mx) mx = ly->c * (double)z[j];
            for (int j = 0; j < m; j++) s += exp(ly->c * (double)z[j] - mx);
            double lse = mx + log(s);
            for (int j = 0; j < m; j++)
                if (y[j] != 0) c -= y[j] * (ly->c * (double)z[j] - lse);
        } else {
            for (int j = 0; j < m; j++)
                if (y[j] != 0) c -= y[j] * log(a[j]);
        }
        break;
    }
    return c;
}

dl_status net_cost(net *n, mat Y, double *cost)
{
    if (n->B < 1)
        return DL_EINVAL;
    if (Y.rows != n->B || Y.cols != n->sizes[n->L])
        return DL_ESHAPE;
    const layer *ly = &n->layers[n->L - 1];
    double c = 0;
    for (int i = 0; i < n->B; i++)
        c += sample_cost(n, mat_at(ly->z, i, 0), mat_at(ly->a, i, 0), mat_at(Y, i, 0));
    *cost = c / n->B;
    return DL_OK;
}

/* -------------------------------------------------------------- backward */

/* δᴸ for a softmax(c·z) output under a cost other than log-likelihood, by
 * the general rule G = ∇ₐC, δᵢ = c·aᵢ·(Gᵢ − Σⱼ Gⱼaⱼ), in double from z: the
 * cross-entropy G = (a − y)/(a(1 − a)) needs 1 − aⱼ, which is computed as the
 * sum of the other terms rather than by a cancelling float subtraction. */
static void softmax_output_delta(layer *ly, dl_cost cost, mat Y)
{
    int m = ly->n_out;
    double c = ly->c;
    for (int i = 0; i < Y.rows; i++) {
        const float *z = mat_at(ly->z, i, 0), *y = mat_at(Y, i, 0);
        float *d = mat_at(ly->delta, i, 0);
        double mx = -INFINITY, S = 0, Ga = 0;
        for (int j = 0; j < m; j++) if (c * z[j] > mx) mx = c * z[j];
        for (int j = 0; j < m; j++) S += exp(c * z[j] - mx);
        for (int pass = 0; pass < 2; pass++)
            for (int j = 0; j < m; j++) {
                double e = exp(c * z[j] - mx), a = e / S, om = (S - e) / S;
                double G = cost == DL_QUADRATIC ? a - y[j] : (a - y[j]) / (a * om);
                if (pass == 0)
                    Ga += G * a;
                else
                    d[j] = (float)(c * a * (G - Ga));
            }
    }
}

/* δᴸ (BP1) into the output layer's delta, per sample.
 * General rule: G = ∇ₐC, then δ = act_backward(G). The book's simplifications
 * are used where they hold, because they are exact and avoid dividing by a
 * rounded a(1 − a):
 *   cross-entropy with a sigmoid neuron:  δⱼ = aⱼ − yⱼ      (σ′ cancels)
 *   log-likelihood with softmax(c·z):     δⱼ = c·(aⱼ·Σₖyₖ − yⱼ)  (= c(a − y) one-hot)
 * Every other combination (softmax with quadratic cost, CE with a linear
 * neuron, …) goes through the general rule, Jacobian included. */
static void output_delta(net *n, mat Y)
{
    layer *ly = &n->layers[n->L - 1];
    mat D = ly->delta, A = ly->a;
    int m = ly->n_out;
    if (n->cost == DL_LOG_LIKELIHOOD && ly->act == DL_SOFTMAX) {
        for (int i = 0; i < n->B; i++) {
            const float *a = mat_at(A, i, 0), *y = mat_at(Y, i, 0);
            float *d = mat_at(D, i, 0);
            double sy = kern()->sum(y, (size_t)m);
            for (int j = 0; j < m; j++) d[j] = (float)(ly->c * (a[j] * sy - y[j]));
        }
        return;
    }
    if (ly->act == DL_SOFTMAX) {
        softmax_output_delta(ly, n->cost, Y);
        return;
    }
    if (n->cost == DL_QUADRATIC) {
        mat_subtract(D, A, Y);  /* ∇ₐ ½‖y − a‖² = a − y */
        act_backward(ly, D, ly->z, A, n->scratch);
        return;
    }
    int all_sigmoid = n->cost == DL_CROSS_ENTROPY && ly->act == DL_SIGMOID && !ly->neuron_act;
    if (all_sigmoid) {
        mat_subtract(D, A, Y);
        return;
    }
    /* General G, then σ′; sigmoid neurons under cross-entropy keep a − y. */
    for (int i = 0; i < n->B; i++) {
        const float *a = mat_at(A, i, 0), *y = mat_at(Y, i, 0);
        float *d = mat_at(D, i, 0);
        for (int j = 0; j < m; j++)
            d[j] = n->cost == DL_CROSS_ENTROPY
                 ? (float)(((double)a[j] - y[j]) / ((double)a[j] * (1.0 - a[j])))
                 : (float)(-(double)y[j] / a[j]);
    }
    if (n->cost == DL_CROSS_ENTROPY && ly->act != DL_SOFTMAX && ly->neuron_act) {
        const kern_table *k = kern();
        for (int i = 0; i < n->B; i++)
            for (int j = 0; j < m; j++) {
                float *d = mat_at(D, i, j);
                dl_act f = (dl_act)ly->neuron_act[j];
                if (f == DL_SIGMOID) {
                    *d = *mat_at(A, i, j) - *mat_at(Y, i, j);
                } else {
                    float g;
                    k->act_grad(f, &g, mat_at(ly->z, i, j), mat_at(A, i, j), 1);
                    *d *= g;
                }
            }
        return;
    }
    act_backward(ly, D, ly->z, A, n->scratch);
}

dl_status net_backward(net *n, mat Y)
{
    dl_status s = net_output_delta(n, Y);
    /* Backward walks the layers in exact reverse order: each δ needs the next. */
    for (int l = n->L - 1; s == DL_OK && l >= 0; l--)
        s = net_backward_layer(n, l);
    if (s == DL_OK)
        n->have_delta = 1;
    return s;
}

dl_status net_output_delta(net *n, mat Y)
{
    if (n->B < 1)
        return DL_EINVAL;
    if (Y.rows != n->B || Y.cols != n->sizes[n->L] || !Y.data)
        return DL_ESHAPE;
    settle(n);
    if (Y.data != n->y.data)
        mat_copy(n->y, Y);
    output_delta(n, n->y);
    n->have_delta = 1;  /* δᴸ now; earlier layers' δ as net_backward_layer reaches them */
    return DL_OK;
}

/* dW, db of layer l from its δ and the activations below it, x being the
 * network's input (BP3, BP4), overwritten or, with n->accumulate, added to. */
static void layer_grads(net *n, int l, mat x)
{
    float inv_B = 1.0f / (float)n->B, beta = n->accumulate ? 1.0f : 0.0f;
    layer *ly = &n->layers[l];
    mat A_prev = l > 0 ? n->layers[l - 1].a : x;
    if (n->B == 1 && !n->accumulate)                          /* BP4: δᵀ·A_prev / B */
        kern()->dense_grad_step(ly->W.data, ly->dW.data, ly->delta.data, A_prev.data,
                                ly->n_out, ly->n_in, 0.0f, 1.0f, 0);
    else
        mat_gemm(ly->dW, inv_B, ly->delta, 1, A_prev, 0, beta);
    if (n->accumulate) {                                      /* BP3: mean of δ rows */
        mat row = mat_wrap(n->scratch.data, 1, ly->n_out);
        mat_colsum(row, ly->delta, inv_B);
        mat_add(ly->db, ly->db, row);
    } else {
        mat_colsum(ly->db, ly->delta, inv_B);
    }
}

/* δ of layer l−1 from δ of layer l and Wˡ as it is now (BP2). */
static void delta_below(net *n, int l)
{
    layer *ly = &n->layers[l], *prev = &n->layers[l - 1];
    mat_gemm(prev->delta, 1.0f, ly->delta, 0, ly->W, 0, 0.0f);      /* δ·W */
    act_backward(prev, prev->delta, prev->z, prev->a, n->scratch);  /* ⊙ σ′(z) */
}

dl_status net_backward_layer(net *n, int l)
{
    if (n->B < 1 || l < 0 || l >= n->L)
        return DL_EINVAL;
    settle(n);
    net_settle_weights(n);   /* net_update may follow: it must find W¹ as it is */
    layer_grads(n, l, n->x);
    if (l > 0)
        delta_below(n, l);
    return DL_OK;
}

/* ∂C/∂a of layer l for sample i: from the cost for the output layer, else
 * the row δˡ⁺¹ᵢ·Wˡ⁺¹ (the book's (wˡ⁺¹)ᵀδˡ⁺¹). */
dl_status net_grad_a(const net *n, int l, int i, float *out)
{
    if (l < 0 || l >= n->L || i < 0 || i >= n->B)
        return DL_EINVAL;
    const layer *ly = &n->layers[l];
    if (l < n->L - 1) {
        const layer *next = &n->layers[l + 1];
        mat_gemm(mat_wrap(out, 1, ly->n_out), 1.0f, mat_sub(next->delta, i, 0, 1, next->n_out),
                 0, next->W, 0, 0.0f);
        return DL_OK;
    }
    const float *a = mat_at(ly->a, i, 0), *y = mat_at(n->y, i, 0);
    for (int j = 0; j < ly->n_out; j++)
        out[j] = n->cost == DL_QUADRATIC ? a[j] - y[j]
               : n->cost == DL_CROSS_ENTROPY
                   ? (float)(((double)a[j] - y[j]) / ((double)a[j] * (1.0 - a[j])))
                   : (float)(-(double)y[j] / a[j]);
    return DL_OK;
}

dl_status net_act_grad(const net *n, int l, int i, float *out)
{
    if (l < 0 || l >= n->L || i < 0 || i >= n->B || n->layers[l].act == DL_SOFTMAX)
        return DL_EINVAL;
    const layer *ly = &n->layers[l];
    for (int j = 0; j < ly->n_out; j++)
        kern()->act_grad(net_neuron_act(n, l, j), out + j, mat_at(ly->z, i, j),
                         mat_at(ly->a, i, j), 1);
    return DL_OK;
}

dl_status net_labels_to_targets(net *n, mat labels, mat *Y)
{
    int m = n->sizes[n->L];
    if (labels.cols != 1 || labels.rows < 1 || !labels.data)
        return DL_ESHAPE;
    for (int i = 0; i < labels.rows; i++) {
        float v = *mat_at(labels, i, 0);
        if (!(v >= 0) || v != floorf(v) || v >= (m == 1 ? 2 : m))
            return DL_EINVAL;
    }
    mat T = net_target(n, labels.rows);
    if (!T.data)
        return DL_ENOMEM;
    mat_fill(T, 0.0f);
    for (int i = 0; i < labels.rows; i++) {
        int v = (int)*mat_at(labels, i, 0);
        if (m == 1)
            *mat_at(T, i, 0) = (float)v;
        else
            *mat_at(T, i, v) = 1.0f;
    }
    *Y = T;
    return DL_OK;
}

/* ---------------------------------------------------------------- update */

/* P ← decay·P − η·dP, or with momentum V ← μV − η·dP; P ← decay·P + V. */
static void sgd(mat P, mat dP, mat V, const net_hyper *h, float decay)
{
    const kern_table *k = kern();
    size_t len = mat_size(P);  /* W, b, dW, db, v are contiguous blocks */
    if (decay != 1.0f)
        k->scale(P.data, P.data, decay, len);
    if (h->momentum != 0.0f) {
        k->scale(V.data, V.data, h->momentum, len);
        k->axpy(V.data, -h->lr, dP.data, len);
        k->add(P.data, P.data, V.data, len);
    } else {
        k->axpy(P.data, -h->lr, dP.data, len);
    }
}

static int hyper_ok(const net_hyper *h)
{
    return h->n > 0 && isfinite(h->lr) && isfinite(h->lambda) && isfinite(h->momentum);
}

dl_status net_update(net *n, const net_hyper *h)
{
    if (!hyper_ok(h))
        return DL_EINVAL;
    settle(n);
    net_settle_weights(n);
    float decay = 1.0f - h->lr * h->lambda / h->n;
    for (int l = 0; l < n->L; l++) {
        layer *ly = &n->layers[l];
        if (!ly->frozen_W)
            sgd(ly->W, ly->dW, ly->vW, h, decay);
        if (!ly->frozen_b)
            sgd(ly->b, ly->db, ly->vb, h, 1.0f);
    }
    return DL_OK;
}

/* A batch-1 step's update of W¹, left for the next forward (net.h). */
static void defer_update(net *n, const float *delta, float lr, float decay)
{
    memcpy(n->d_step, delta, (size_t)n->sizes[1] * sizeof *n->d_step);
    n->pend_lr = lr;
    n->pend_decay = decay;
    n->w_pending = 1;   /* its input is x_step, which step_one keeps */
}

void net_settle_weights(const net *cn)
{
    if (!cn->w_pending)
        return;
    net *n = (net *)cn;   /* the value is unchanged (net.h); every net is made writable */
    layer *ly = &n->layers[0];
    kern()->dense_grad_step(ly->W.data, NULL, n->d_step, n->x_step, ly->n_out, ly->n_in,
                            n->pend_lr, n->pend_decay, 1);
    n->w_pending = 0;
}

/* backward + update for one sample, fused: each row of W takes its step
 * W[j] ← decay·W[j] − η·δ[j]·a_prev in one pass (the table's
 * dense_grad_step), W¹ in the next forward's pass over it (defer_update: at
 * 784-100-10, 10.5 -> 8.4 µs a step from Lua, best of runs on Zen 3). dW, db
 * are not written: they are left stale, as net_backward_update leaves them,
 * for net_sync_grads to write from δ and a when something reads them. At
 * 784-100-10, W¹ alone fits in a 512 KiB L2 but W¹ and dW¹ do not: writing
 * dW cost 40 % of the step. BP2 for the layer below runs first, with the
 * weights before the update, exactly as net_backward then net_update would;
 * results agree to the last bit or two (a kernel's vector body uses FMA, its
 * scalar tail may not). With momentum μ each row takes V[j] ← μV[j] −
 * η·δ[j]·a_prev, W[j] ← decay·W[j] + V[j] in one pass over W and V
 * (dense_momentum_step), made at once, W¹ too: the next forward could not
 * fold a pass over V into its own. A trainer epoch of MNIST at 784-30-10,
 * batch 1, μ = 0.9: 7.4 -> 6.4 µs a sample (it took the batch path). */
static dl_status step_one(net *n, mat Y, const net_hyper *h)
{
    dl_status s = net_output_delta(n, Y);
    if (s != DL_OK)
        return s;
    const kern_table *k = kern();
    float decay = 1.0f - h->lr * h->lambda / h->n;
    /* Backward walks the layers in exact reverse order: each δ needs the next. */
    for (int l = n->L - 1; l >= 0; l--) {
        layer *ly = &n->layers[l];
        const float *a_prev = l > 0 ? n->layers[l - 1].a.data : n->x.data;
        const float *d = ly->delta.data;
        if (l > 0) {                                               /* BP2 */
            layer *prev = &n->layers[l - 1];
            mat_gemm(prev->delta, 1.0f, ly->delta, 0, ly->W, 0, 0.0f);
            act_backward(prev, prev->delta, prev->z, prev->a, n->scratch);
        }
        if (!ly->frozen_W && h->momentum != 0.0f)                  /* BP4 + update */
            k->dense_momentum_step(ly->W.data, ly->vW.data, d, a_prev, ly->n_out, ly->n_in,
                                   h->lr, h->momentum, decay);
        else if (!ly->frozen_W && l == 0)        /* BP4 + update, made by the next forward */
            defer_update(n, d, h->lr, decay);
        else if (!ly->frozen_W)                                    /* BP4 + update */
            k->dense_grad_step(ly->W.data, NULL, d, a_prev, ly->n_out, ly->n_in, h->lr,
                               decay, 1);
        if (!ly->frozen_b)                                         /* BP3 + update */
            sgd(ly->b, mat_wrap((float *)d, 1, ly->n_out), ly->vb, h, 1.0f);
    }
    memcpy(n->x_step, n->x.data, (size_t)n->sizes[0] * sizeof *n->x_step);
    n->have_delta = 1;
    n->grads_stale = STALE_X_KEPT;
    return DL_OK;
}

/* The biases' step from the column sums of δ, as net_update would take it
 * (they are small): fused_layer's and step_below's. */
static void fused_bias(net *n, int l, const net_hyper *h)
{
    layer *ly = &n->layers[l];
    if (ly->frozen_b)
        return;
    mat row = mat_wrap(n->scratch.data, 1, ly->n_out);  /* db, as net_backward has it */
    mat_colsum(row, ly->delta, 1.0f / (float)n->B);
    sgd(ly->b, row, ly->vb, h, 1.0f);
}

/*
 * The update fused into the weight-gradient product (batched training):
 * BP4's GEMM writes into W through its C-update,
 *
 *     W ← (1 − ηλ/n)·W − (η/B)·δᵀ·A_prev        (the L2 decay is GEMM's β)
 *
 * or, with momentum μ, into the velocity, V ← μ·V − (η/B)·δᵀ·A_prev, and one
 * pass adds V to W. dW is never written: the separate update read W and dW
 * and wrote W again, a third of an E2 step's time. Biases take the column
 * sums of δ as net_update would (they are small). BP2 for the layer below
 * runs first, with the weights before their update, as the unfused order.
 * Afterwards dW, db are marked stale and net_sync_grads writes them, exactly
 * as net_backward would have, from the workspace's δ and activations.
 */
static void fused_layer(net *n, int l, const net_hyper *h, float decay)
{
    const kern_table *k = kern();
    layer *ly = &n->layers[l];
    mat A_prev = l > 0 ? n->layers[l - 1].a : n->x;
    float inv_B = 1.0f / (float)n->B;
    if (!ly->frozen_W) {
        if (h->momentum == 0.0f) {
            mat_gemm(ly->W, -h->lr * inv_B, ly->delta, 1, A_prev, 0, decay);
        } else {
            size_t len = mat_size(ly->W);
            mat_gemm(ly->vW, -h->lr * inv_B, ly->delta, 1, A_prev, 0, h->momentum);
            if (decay != 1.0f)
                k->scale(ly->W.data, ly->W.data, decay, len);
            k->add(ly->W.data, ly->W.data, ly->vW.data, len);
        }
    }
    fused_bias(n, l, h);
}

/* BP2 for the layer below and this layer's fused update in one pass over W
 * (kern_table.backward_step: the two GEMMs of delta_below and fused_layer
 * read W twice and write it once), for plain SGD on a free W; the same
 * numbers as delta_below then fused_layer. */
static int one_pass_below(const net *n, int l, const net_hyper *h)
{
    return l > 0 && !n->layers[l].frozen_W && h->momentum == 0.0f;
}

static void step_below(net *n, int l, const net_hyper *h, float decay)
{
    layer *ly = &n->layers[l], *prev = &n->layers[l - 1];
    float inv_B = 1.0f / (float)n->B;
    kern()->backward_step(n->B, ly->n_out, ly->n_in, ly->delta.data, ly->delta.stride,
                          ly->W.data, ly->W.stride, prev->a.data, prev->a.stride,
                          -h->lr * inv_B, decay, prev->delta.data, prev->delta.stride);
    act_backward(prev, prev->delta, prev->z, prev->a, n->scratch);  /* ⊙ σ′(z) */
    fused_bias(n, l, h);
}

dl_status net_backward_update(net *n, mat Y, const net_hyper *h)
{
    if (!hyper_ok(h))
        return DL_EINVAL;
    net_settle_weights(n);
    if (n->accumulate) {   /* the sum of gradients is what is asked for: keep it exact */
        dl_status s = net_backward(n, Y);
        return s == DL_OK ? net_update(n, h) : s;
    }
    if (n->B == 1)   /* one sample: its own kernels (W¹'s update deferred without momentum) */
        return step_one(n, Y, h);
    n->grads_stale = 0;    /* this batch's gradients replace the last one's */
    dl_status s = net_output_delta(n, Y);
    if (s != DL_OK)
        return s;
    float decay = 1.0f - h->lr * h->lambda / h->n;
    /* Backward walks the layers in exact reverse order: each δ needs the next. */
    for (int l = n->L - 1; l >= 0; l--) {
        if (one_pass_below(n, l, h)) {
            step_below(n, l, h, decay);
            continue;
        }
        if (l > 0)
            delta_below(n, l);
        fused_layer(n, l, h, decay);
    }
    n->have_delta = 1;
    n->grads_stale = STALE_WORKSPACE;
    return DL_OK;
}

void net_sync_grads(net *n)
{
    if (!n->grads_stale)
        return;
    mat x = n->grads_stale == STALE_X_KEPT ? mat_wrap(n->x_step, 1, n->sizes[0]) : n->x;
    n->grads_stale = 0;
    int acc = n->accumulate;
    n->accumulate = 0;     /* the stale gradients are one batch's, not a sum */
    for (int l = 0; l < n->L; l++)
        layer_grads(n, l, x);
    n->accumulate = acc;
}

void net_forget_grads(net *n)
{
    n->grads_stale = 0;
}

dl_status net_step(net *n, mat X, mat Y, const net_hyper *h, double *cost)
{
    if (Y.rows != X.rows || Y.cols != n->sizes[n->L])
        return DL_ESHAPE;
    /* Y may be the workspace target: make sure growing cannot move it. */
    if (Y.data == n->y.data && X.rows > n->cap)
        return DL_EINVAL;
    if (!hyper_ok(h))
        return DL_EINVAL;
    if (X.cols != n->sizes[0] || X.rows < 1 || !X.data)
        return DL_ESHAPE;
    /* This step replaces every gradient, so the last step's stale ones need
     * not be written — when nothing below can fail: the checks above passed
     * and the workspace need not grow. */
    if (!n->accumulate && X.rows <= n->cap)
        net_forget_grads(n);
    dl_status s = net_forward(n, X);
    if (s == DL_OK && cost)
        s = net_cost(n, Y, cost);
    if (s != DL_OK)
        return s;
    return net_backward_update(n, Y, h);   /* the trainer's fused step (unfused when accumulating) */
}

void net_zero_grads(net *n)
{
    n->grads_stale = 0;
    memset(n->grads, 0, n->n_params * sizeof(float));
}

void net_zero_velocity(net *n)
{
    memset(n->vel, 0, n->n_params * sizeof(float));
}

/* ------------------------------------------------------------ evaluation */

static int predicted(const net *n, int i)
{
    mat A = net_output(n);
    if (A.cols == 1)
        return *mat_at(A, i, 0) > 0.5f;
    return (int)kern()->argmax(mat_at(A, i, 0), (size_t)A.cols);
}

int net_count_correct(const net *n, mat labels)
{
    int count = 0;
    for (int i = 0; i < n->B && i < labels.rows; i++)
        count += (float)predicted(n, i) == *mat_at(labels, i, 0);
    return count;
}

dl_status net_predict(const net *n, mat out)
{
    if (out.rows != n->B || out.cols != 1)
        return DL_ESHAPE;
    for (int i = 0; i < n->B; i++)
        *mat_at(out, i, 0) = (float)predicted(n, i);
    return DL_OK;
}

double net_weight_sumsq(const net *n)
{
    net_settle_weights(n);
    double s = 0;
    for (int l = 0; l < n->L; l++)
        s += mat_sumsq(n->layers[l].W);
    return s;
}

/* ----------------------------------------------- double-precision checks */

static double act_d(dl_act f, double z)
{
    switch (f) {
    case DL_SIGMOID:    return 1 / (1 + exp(-z));
    case DL_TANH:       return tanh(z);
    case DL_RELU:       return z > 0 ? z : 0;
    case DL_LEAKY_RELU: return z > 0 ? z : DL_LEAKY_SLOPE * z;
    case DL_SOFTPLUS:   return softplus_d(z);
    case DL_STEP:       return z > 0 ? 1 : 0;
    default:            return z;
    }
}

/* Mean cost over the rows of X, Y with parameters P (double, net->params'
 * layout), plainly: for each sample, z = W·a + b, a = σ(z), layer by layer.
 * buf holds 3·max_width doubles. */
static double cost_d(const net *n, const double *P, mat X, mat Y, double *buf)
{
    int w = max_width(n);
    double *a_prev = buf, *z = buf + w, *a = buf + 2 * w, total = 0;
    for (int i = 0; i < X.rows; i++) {
        for (int k = 0; k < X.cols; k++) a_prev[k] = *mat_at(X, i, k);
        for (int l = 0; l < n->L; l++) {
            const layer *ly = &n->layers[l];
            const double *W = P + (ly->W.data - n->params), *b = P + (ly->b.data - n->params);
            for (int j = 0; j < ly->n_out; j++) {
                double s = b[j];
                for (int k = 0; k < ly->n_in; k++) s += W[(size_t)j * ly->n_in + k] * a_prev[k];
                z[j] = s;
            }
            if (ly->act == DL_SOFTMAX) {
                double mx = -INFINITY, sum = 0;
                for (int j = 0; j < ly->n_out; j++) if (ly->c * z[j] > mx) mx = ly->c * z[j];
                for (int j = 0; j < ly->n_out; j++) sum += (a[j] = exp(ly->c * z[j] - mx));
                for (int j = 0; j < ly->n_out; j++) a[j] /= sum;
            } else {
                for (int j = 0; j < ly->n_out; j++) a[j] = act_d(net_neuron_act(n, l, j), z[j]);
            }
            if (l < n->L - 1)
                memcpy(a_prev, a, (size_t)ly->n_out * sizeof *a);
        }
        const layer *out = &n->layers[n->L - 1];
        int m = out->n_out;
        const float *y = mat_at(Y, i, 0);
        for (int j = 0; j < m; j++) {
            double yj = y[j];
            switch (n->cost) {
            case DL_QUADRATIC:
                total += 0.5 * (yj - a[j]) * (yj - a[j]);
                break;
            case DL_CROSS_ENTROPY:
                if (net_neuron_act(n, n->L - 1, j) == DL_SIGMOID) {
                    total += yj * softplus_d(-z[j]) + (1 - yj) * softplus_d(z[j]);
                } else {
                    if (yj != 0) total -= yj * log(a[j]);
                    if (yj != 1) total -= (1 - yj) * log(1 - a[j]);
                }
                break;
            default:
                if (yj != 0) total -= yj * log(a[j]);
                break;
            }
        }
    }
    return total / X.rows;
}

/* The double-precision copy of the parameters that the finite-difference
 * paths perturb (P), and the scratch rows cost_d needs (buf). */
static dl_status double_params(const net *n, double **P, double **buf)
{
    *P = malloc(n->n_params * sizeof **P);
    *buf = malloc(3 * (size_t)max_width(n) * sizeof **buf);
    if (!*P || !*buf) {
        free(*P);
        free(*buf);
        return DL_ENOMEM;
    }
    net_settle_weights(n);
    for (size_t p = 0; p < n->n_params; p++) (*P)[p] = n->params[p];
    return DL_OK;
}

dl_status net_cost_double(const net *n, mat X, mat Y, double *cost)
{
    if (X.cols != n->sizes[0] || Y.cols != n->sizes[n->L] || X.rows != Y.rows || X.rows < 1)
        return DL_ESHAPE;
    double *P, *buf;
    if (double_params(n, &P, &buf) != DL_OK)
        return DL_ENOMEM;
    *cost = cost_d(n, P, X, Y, buf);
    free(P);
    free(buf);
    return DL_OK;
}

/* Relative error of a block of gradients G (a view into net->grads): the
 * largest |g − fd| over the entries checked, over the largest |g| or |fd|.
 * At most `max` entries are checked, evenly spaced (max <= 0: all). */
static double block_error(net *n, double *P, mat X, mat Y, double *buf, mat G, double eps,
                          long max)
{
    double worst = 0, scale = 0;
    size_t base = (size_t)(G.data - n->grads), len = mat_size(G);
    size_t count = max > 0 && (size_t)max < len ? (size_t)max : len;
    for (size_t i = 0; i < count; i++) {
        size_t p = base + (count == len ? i : (size_t)((double)i * len / count));
        double keep = P[p];
        P[p] = keep + eps;
        double up = cost_d(n, P, X, Y, buf);
        P[p] = keep - eps;
        double down = cost_d(n, P, X, Y, buf);
        P[p] = keep;
        double fd = (up - down) / (2 * eps), g = n->grads[p];
        if (!isfinite(fd) || !isfinite(g))
            return NAN;   /* a failure: NaN would slip through the comparisons below */
        if (fabs(g - fd) > worst) worst = fabs(g - fd);
        if (fabs(g) > scale) scale = fabs(g);
        if (fabs(fd) > scale) scale = fabs(fd);
    }
    return worst == 0 ? 0 : worst / (scale > 1e-12 ? scale : 1e-12);
}

dl_status net_gradcheck(net *n, mat X, mat Y, double eps, double *errW, double *errb)
{
    return net_gradcheck_some(n, X, Y, eps, 0, errW, errb);
}

dl_status net_gradcheck_some(net *n, mat X, mat Y, double eps, long max, double *errW,
                             double *errb)
{
    if (X.cols != n->sizes[0] || Y.cols != n->sizes[n->L] || X.rows != Y.rows || X.rows < 1)
        return DL_ESHAPE;
    if (!(eps > 0))
        eps = 1e-5;
    int acc = n->accumulate;
    n->accumulate = 0;
    dl_status s = net_forward(n, X);
    if (s == DL_OK)
        s = net_backward(n, Y);
    n->accumulate = acc;
    if (s != DL_OK)
        return s;
    double *P, *buf;
    if (double_params(n, &P, &buf) != DL_OK)
        return DL_ENOMEM;
    for (int l = 0; l < n->L; l++) {
        errW[l] = block_error(n, P, X, Y, buf, n->layers[l].dW, eps, max);
        errb[l] = block_error(n, P, X, Y, buf, n->layers[l].db, eps, max);
    }
    free(P);
    free(buf);
    return DL_OK;
}
