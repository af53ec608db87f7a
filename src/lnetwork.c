/*
 * lnetwork.c — the Lua face of the core's network (src/core/net.h): the
 * types "network" and "layer".
 *
 * A network userdata holds a pointer to the core net; its user value is the
 * table of its layers. A layer userdata holds its index; its user value is
 * the network, so a layer (and every matrix view it hands out: W, b, z, a,
 * delta, dW, db) keeps the network alive. The core never moves parameters,
 * and retires rather than frees an outgrown workspace, so a view can never
 * point into freed memory; a z/a/delta view shows the batch of the forward
 * before it was taken (take it again after a forward with another batch size).
 *
 * Conversions into the network go straight into the core's workspace
 * (net_input, net_target), so net:step allocates nothing in C.
 */
#include "deltalab.h"
#include "core/net.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DL_NETWORK "network"
#define DL_LAYER "layer"

typedef struct lnet {
    net *n;  /* NULL until built, and after close */
} lnet;

typedef struct llayer {
    int l;   /* 0-based layer index; the user value is the network */
} llayer;

static net *checknet(lua_State *L, int i)
{
    lnet *ln = luaL_checkudata(L, i, DL_NETWORK);
    if (!ln->n)
        luaL_error(L, "attempt to use a closed network");
    return ln->n;
}

/* For other bindings (ltrainer.c): the core net of the network at index i. */
struct net *dl_checknet(lua_State *L, int i)
{
    return checknet(L, i);
}

/* The layer at i, its network pushed on the stack top. */
static layer *checklayer(lua_State *L, int i, net **np, int *lp)
{
    llayer *ll = luaL_checkudata(L, i, DL_LAYER);
    lua_getiuservalue(L, i, 1);
    net *n = checknet(L, -1);
    lua_pop(L, 1);
    if (np) *np = n;
    if (lp) *lp = ll->l;
    return &n->layers[ll->l];
}

static int find_name(const char *const names[], const char *s)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* Raise for a failed core call, naming the function. */
static int status_error(lua_State *L, const char *fn, dl_status s)
{
    return luaL_error(L, "%s: %s", fn, dl_strerror(s));
}

/* ------------------------------------------------------------ conversions */

/* Copy the matrix or (nested) table at idx into dst. Vectors (dst a single
 * row) also accept a column matrix or a flat table. `what` names the target
 * in errors: "init[1].W". */
static void copy_into(lua_State *L, int idx, mat dst, const char *fn, const char *what)
{
    idx = lua_absindex(L, idx);
    mat *m = dl_testmatrix(L, idx);
    if (m) {
        if (mat_same_shape(*m, dst)) {
            mat_copy(dst, *m);
            return;
        }
        if (dst.rows == 1 && m->cols == 1 && m->rows == dst.cols) {
            for (int j = 0; j < dst.cols; j++) dst.data[j] = *mat_at(*m, j, 0);
            return;
        }
        luaL_error(L, "%s: %s is %dx%d, expected %dx%d", fn, what, m->rows, m->cols,
                   dst.rows, dst.cols);
    }
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: %s must be a matrix or a table (got %s)", fn, what,
                   luaL_typename(L, idx));
    int rows = (int)luaL_len(L, idx);
    lua_geti(L, idx, 1);
    int nested = lua_istable(L, -1);
    lua_pop(L, 1);
    if (!nested) {
        if (!(dst.rows == 1 && rows == dst.cols) && !(dst.cols == 1 && rows == dst.rows))
            luaL_error(L, "%s: %s has %d numbers, expected %dx%d", fn, what, rows,
                       dst.rows, dst.cols);
        for (int i = 0; i < rows; i++) {
            lua_geti(L, idx, i + 1);
            int ok;
            lua_Number v = lua_tonumberx(L, -1, &ok);
            if (!ok)
                luaL_error(L, "%s: %s[%d] is not a number", fn, what, i + 1);
            dst.data[(size_t)i * (dst.rows == 1 ? 1 : (size_t)dst.stride)] = (float)v;
            lua_pop(L, 1);
        }
        return;
    }
    if (rows != dst.rows)
        luaL_error(L, "%s: %s has %d rows, expected %dx%d", fn, what, rows, dst.rows, dst.cols);
    for (int i = 0; i < rows; i++) {
        lua_geti(L, idx, i + 1);
        if (!lua_istable(L, -1) || luaL_len(L, -1) != dst.cols)
            luaL_error(L, "%s: %s row %d must be a table of %d numbers", fn, what, i + 1,
                       dst.cols);
        for (int j = 0; j < dst.cols; j++) {
            lua_geti(L, -1, j + 1);
            int ok;
            lua_Number v = lua_tonumberx(L, -1, &ok);
            if (!ok)
                luaL_error(L, "%s: %s[%d][%d] is not a number", fn, what, i + 1, j + 1);
            *mat_at(dst, i, j) = (float)v;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

/* Put the input at idx into the workspace and set it as the network's
 * input: a B×n⁰ matrix (rows are samples), an n⁰×1 column (one sample, the
 * book's way), a table of n⁰ numbers, or a table of B rows. */
static void set_input(lua_State *L, net *n, int idx, const char *fn)
{
    int n0 = n->sizes[0];
    mat *m = dl_testmatrix(L, idx);
    dl_status s;
    if (m) {
        if (m->cols == n0 && m->rows >= 1) {
            s = net_set_input(n, *m);
        } else if (m->cols == 1 && m->rows == n0) {
            mat in = net_input(n, 1);
            if (!in.data) return (void)status_error(L, fn, DL_ENOMEM);
            for (int k = 0; k < n0; k++) in.data[k] = *mat_at(*m, k, 0);
            s = net_set_input(n, in);
        } else {
            luaL_error(L, "%s: input is %dx%d, expected Bx%d (rows are samples) or a %dx1 column",
                       fn, m->rows, m->cols, n0, n0);
            return;
        }
    } else if (lua_istable(L, idx)) {
        lua_geti(L, idx, 1);
        int nested = lua_istable(L, -1);
        lua_pop(L, 1);
        int B = nested ? (int)luaL_len(L, idx) : 1;
        if (B < 1)
            luaL_error(L, "%s: input table is empty", fn);
        mat in = net_input(n, B);
        if (!in.data) return (void)status_error(L, fn, DL_ENOMEM);
        copy_into(L, idx, in, fn, "input");
        s = net_set_input(n, in);
    } else {
        luaL_error(L, "%s: input must be a matrix or a table (got %s)", fn,
                   luaL_typename(L, idx));
        return;
    }
    if (s != DL_OK)
        status_error(L, fn, s);
}

/* Check a 0-based class label for a network with m outputs. */
static int check_label(lua_State *L, lua_Number v, int m, const char *fn)
{
    int top = m == 1 ? 1 : m - 1;
    if (!(v >= 0 && v <= top && v == floor(v))) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.14g", (double)v);
        luaL_error(L, "%s: label %s out of range 0..%d (class labels are 0-based)", fn, buf, top);
    }
    return (int)v;
}

/* The targets at idx for the last forward (B rows), into the workspace:
 * an integer class label (B = 1), a B×nᴸ matrix, an nᴸ×1 column (B = 1),
 * a B×1 matrix or table of labels (nᴸ > 1), a table of nᴸ numbers (B = 1),
 * or a table of B rows. */
static mat get_target(lua_State *L, net *n, int idx, const char *fn)
{
    int B = n->B, m = n->sizes[n->L];
    if (B < 1)
        luaL_error(L, "%s: no forward pass yet (call net:forward(x) first)", fn);
    mat T = net_target(n, B);
    mat *y = dl_testmatrix(L, idx);
    if (lua_type(L, idx) == LUA_TNUMBER) {
        if (B != 1)
            luaL_error(L, "%s: one label for a batch of %d samples (give %d labels)", fn, B, B);
        int lab = check_label(L, lua_tonumber(L, idx), m, fn);
        mat_fill(T, 0.0f);
        if (m == 1) T.data[0] = (float)lab; else T.data[lab] = 1.0f;
    } else if (y) {
        if (y->rows == B && y->cols == m) {
            mat_copy(T, *y);
        } else if (B == 1 && y->cols == 1 && y->rows == m) {
            for (int j = 0; j < m; j++) T.data[j] = *mat_at(*y, j, 0);
        } else if (y->rows == B && y->cols == 1 && m > 1) {
            for (int i = 0; i < B; i++) check_label(L, *mat_at(*y, i, 0), m, fn);
            mat out;
            dl_status s = net_labels_to_targets(n, *y, &out);
            if (s != DL_OK) status_error(L, fn, s);
        } else {
            luaL_error(L, "%s: target is %dx%d, expected %dx%d (or %d labels)", fn,
                       y->rows, y->cols, B, m, B);
        }
    } else if (lua_istable(L, idx)) {
        lua_geti(L, idx, 1);
        int nested = lua_istable(L, -1);
        lua_pop(L, 1);
        int len = (int)luaL_len(L, idx);
        if (!nested && B > 1 && m > 1) {            /* labels */
            if (len != B)
                luaL_error(L, "%s: %d labels for a batch of %d samples", fn, len, B);
            mat_fill(T, 0.0f);
            for (int i = 0; i < B; i++) {
                lua_geti(L, idx, i + 1);
                if (!lua_isnumber(L, -1))
                    luaL_error(L, "%s: label %d is not a number", fn, i + 1);
                *mat_at(T, i, check_label(L, lua_tonumber(L, -1), m, fn)) = 1.0f;
                lua_pop(L, 1);
            }
        } else {
            if (!nested && B == 1 && len != m)
                luaL_error(L, "%s: target has %d numbers, expected %d", fn, len, m);
            copy_into(L, idx, T, fn, "target");
        }
    } else {
        luaL_error(L, "%s: target must be a label, a matrix or a table (got %s)", fn,
                   luaL_typename(L, idx));
    }
    return T;
}

/* Raise on a key of the table at idx that is neither a position 1..npos nor
 * one of names (NULL-terminated), so that a typo such as cots = "..." is an
 * error instead of a silent default. what names the table in the message. */
static void check_keys(lua_State *L, int idx, lua_Integer npos, const char *const names[],
                       const char *what, const char *expected)
{
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        int ok = 0;
        if (lua_type(L, -1) == LUA_TNUMBER) {
            lua_Integer k;
            ok = lua_isinteger(L, -1) && (k = lua_tointeger(L, -1)) >= 1 && k <= npos;
        } else if (lua_type(L, -1) == LUA_TSTRING) {
            for (int i = 0; names[i] && !ok; i++)
                ok = strcmp(lua_tostring(L, -1), names[i]) == 0;
        }
        if (!ok) {
            const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                          : lua_pushfstring(L, "[%s]", luaL_tolstring(L, -1, NULL));
            luaL_error(L, "%s: unknown option '%s' (expected %s)", what, k, expected);
        }
    }
}

/* lr, lambda, n, momentum from the options table at idx (absent: defaults). */
static net_hyper get_hyper(lua_State *L, int idx, const char *fn)
{
    net_hyper h = net_hyper_default();
    if (lua_isnoneornil(L, idx))
        return h;
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: options must be a table like {lr = 0.5} (got %s)", fn,
                   luaL_typename(L, idx));
    static const char *const keys[] = { "lr", "lambda", "n", "momentum", NULL };
    check_keys(L, idx, 0, keys, fn, "lr, lambda, n, momentum");
    float *dst[] = { &h.lr, &h.lambda, &h.n, &h.momentum };
    for (int k = 0; k < 4; k++) {
        int t = lua_getfield(L, idx, keys[k]);
        if (t != LUA_TNIL) {
            int ok;
            lua_Number v = lua_tonumberx(L, -1, &ok);
            if (!ok || !isfinite(v))
                luaL_error(L, "%s: option '%s' must be a finite number (got %s)", fn, keys[k],
                           luaL_typename(L, -1));
            *dst[k] = (float)v;
        }
        lua_pop(L, 1);
    }
    if (!(h.n > 0))
        luaL_error(L, "%s: option 'n' (training-set size) must be positive", fn);
    return h;
}

/* ------------------------------------------------------------ construction */

static void push_layers(lua_State *L, int netidx, int count)
{
    lua_createtable(L, count, 0);
    for (int l = 0; l < count; l++) {
        llayer *ll = lua_newuserdatauv(L, sizeof *ll, 1);
        ll->l = l;
        luaL_setmetatable(L, DL_LAYER);
        lua_pushvalue(L, netidx);
        lua_setiuservalue(L, -2, 1);
        lua_rawseti(L, -2, l + 1);
    }
    lua_setiuservalue(L, netidx, 1);
}

/* Push an empty network userdata (consistent before anything is acquired). */
static lnet *push_empty(lua_State *L)
{
    lnet *ln = lua_newuserdatauv(L, sizeof *ln, 1);
    ln->n = NULL;
    luaL_setmetatable(L, DL_NETWORK);
    return ln;
}

/* Adopt a built core net into a new userdata at the top: layers, workspace. */
static void adopt(lua_State *L, lnet *ln, net *n)
{
    ln->n = n;
    if (net_reserve(n, 1) != DL_OK)
        luaL_error(L, "network: not enough memory");
    push_layers(L, lua_gettop(L), n->L);
}

static const char *const init_names_hint = "nielsen, scaled, xavier, he, zeros or a table";


/* network{784, 30, 10} or network{784, {100, "relu"}, {10, "softmax", c = 2},
 * cost = "cross_entropy", init = "xavier", seed = 42, freeze = "b"} */
static int net_construct(lua_State *L)
{
    const char *fn = "network";
    luaL_checktype(L, 1, LUA_TTABLE);
    int count = (int)luaL_len(L, 1);
    if (count < 2)
        return luaL_error(L, "%s: needs at least an input and an output size (got %d size%s)",
                          fn, count, count == 1 ? "" : "s");
    if (count > NET_MAX_LAYERS + 1)
        return luaL_error(L, "%s: at most %d layers", fn, NET_MAX_LAYERS);
    static const char *const options[] = { "cost", "init", "seed", "freeze", NULL };
    static const char *const layer_options[] = { "c", NULL };
    check_keys(L, 1, count, options, fn, "layer sizes and cost, init, seed, freeze");
    int sizes[NET_MAX_LAYERS + 1];
    dl_act acts[NET_MAX_LAYERS];
    float cs[NET_MAX_LAYERS];
    for (int i = 0; i < count; i++) {
        lua_geti(L, 1, i + 1);
        lua_Integer sz;
        int isnum;
        const char *actname = NULL;
        float c = 1.0f;
        if (lua_istable(L, -1)) {
            const char *what = lua_pushfstring(L, "%s: layer %d", fn, i + 1);
            check_keys(L, -2, 2, layer_options, what, "{size, activation, c =}");
            lua_pop(L, 1);
            lua_geti(L, -1, 1);
            sz = lua_tointegerx(L, -1, &isnum);
            lua_pop(L, 1);
            if (lua_geti(L, -1, 2) != LUA_TNIL) {
                actname = lua_tostring(L, -1);
                if (!actname || lua_type(L, -1) != LUA_TSTRING)
                    return luaL_error(L, "%s: layer %d: activation must be a name like \"relu\"",
                                      fn, i + 1);
            }
            lua_pop(L, 1);
            if (lua_getfield(L, -1, "c") != LUA_TNIL) {
                lua_Number v = lua_tonumber(L, -1);
                if (!(v > 0) || !isfinite(v))
                    return luaL_error(L, "%s: layer %d: softmax temperature c must be positive",
                                      fn, i + 1);
                c = (float)v;
            }
            lua_pop(L, 1);
        } else {
            sz = lua_tointegerx(L, -1, &isnum);
        }
        lua_pop(L, 1);
        if (!isnum || sz < 1 || sz > (1 << 24))
            return luaL_error(L, "%s: layer %d: size must be a positive integer", fn, i + 1);
        sizes[i] = (int)sz;
        if (i > 0) {
            int a = actname ? find_name(dl_act_names, actname) : DL_SIGMOID;
            if (a < 0)
                return luaL_error(L, "%s: layer %d: invalid option '%s' (activations: linear, "
                                  "sigmoid, tanh, relu, leaky_relu, softplus, step, softmax)",
                                  fn, i + 1, actname);
            acts[i - 1] = (dl_act)a;
            cs[i - 1] = c;
        } else if (actname) {
            return luaL_error(L, "%s: layer 1 is the input and has no activation", fn);
        }
    }
    /* Say why before the core can only say "invalid argument": a layer's W
     * holds at most 2^31 weights, and the parameters, their gradients and
     * velocities (three floats each) must fit in memory, which Linux would
     * otherwise promise and then kill the program over. */
    double params = 0;
    for (int l = 0; l + 1 < count; l++) {
        double w = (double)sizes[l] * sizes[l + 1];
        if (w > 2147483648.0) {
            char num[32];
            snprintf(num, sizeof num, "%.3g", w);
            return luaL_error(L, "%s: layer %d is %dx%d, %s weights; a layer holds at most 2^31",
                              fn, l + 1, sizes[l + 1], sizes[l], num);
        }
        params += w + sizes[l + 1];
    }
    size_t phys = params * 12 >= 1e8 ? mat_phys_memory() : 0;
    if (phys && params * 12 > (double)phys) {
        char msg[160];
        snprintf(msg, sizeof msg, "%.3g parameters need %.1f GB (weights, gradients, velocities), "
                 "more than this machine's %.1f GB", params, params * 12 / 1e9, phys / 1e9);
        return luaL_error(L, "%s: %s", fn, msg);
    }
    int cost = DL_QUADRATIC;
    if (lua_getfield(L, 1, "cost") != LUA_TNIL) {
        const char *s = lua_tostring(L, -1);
        cost = s && lua_type(L, -1) == LUA_TSTRING ? find_name(dl_cost_names, s) : -1;
        if (cost < 0)
            return luaL_error(L, "%s: invalid option '%s' for cost (quadratic, cross_entropy, "
                              "log_likelihood)", fn, s ? s : luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    lua_Integer seed = 0;
    if (lua_getfield(L, 1, "seed") != LUA_TNIL) {
        int ok;
        seed = lua_tointegerx(L, -1, &ok);
        if (!ok)
            return luaL_error(L, "%s: seed must be an integer", fn);
    }
    lua_pop(L, 1);
    int init = DL_INIT_NIELSEN, explicit_init = 0;
    int t = lua_getfield(L, 1, "init");
    if (t == LUA_TTABLE) {
        explicit_init = 1;
        if ((int)luaL_len(L, -1) != count - 1)
            return luaL_error(L, "%s: init table has %d layers, the network %d", fn,
                              (int)luaL_len(L, -1), count - 1);
    } else if (t != LUA_TNIL) {
        const char *s = lua_tostring(L, -1);
        init = s && t == LUA_TSTRING ? find_name(dl_init_names, s) : -1;
        if (init < 0)
            return luaL_error(L, "%s: invalid option '%s' for init (%s)", fn,
                              s ? s : luaL_typename(L, -1), init_names_hint);
    }
    int init_idx = lua_gettop(L);
    int freeze = 0;
    if (lua_getfield(L, 1, "freeze") != LUA_TNIL) {
        const char *s = lua_tostring(L, -1);
        freeze = !s ? -1 : strcmp(s, "b") == 0 ? 2 : strcmp(s, "W") == 0 ? 1 : -1;
        if (freeze < 0)
            return luaL_error(L, "%s: invalid option '%s' for freeze (\"W\" or \"b\")", fn,
                              s ? s : luaL_typename(L, -1));
    }
    lua_pop(L, 1);

    lnet *ln = push_empty(L);
    net *n;
    dl_status s = net_new(&n, count - 1, sizes, acts, (dl_cost)cost);
    if (s != DL_OK)
        return status_error(L, fn, s);
    adopt(L, ln, n);
    for (int l = 0; l < n->L; l++) {
        n->layers[l].c = acts[l] == DL_SOFTMAX ? cs[l] : 1.0f;
        n->layers[l].frozen_W = freeze == 1;
        n->layers[l].frozen_b = freeze == 2;
    }
    net_init(n, explicit_init ? DL_INIT_ZEROS : (dl_init)init, (uint64_t)seed);
    if (explicit_init)
        for (int l = 0; l < n->L; l++) {
            lua_geti(L, init_idx, l + 1);
            if (!lua_istable(L, -1))
                return luaL_error(L, "%s: init[%d] must be a table {W = ..., b = ...}", fn, l + 1);
            char what[32];
            if (lua_getfield(L, -1, "W") != LUA_TNIL) {
                snprintf(what, sizeof what, "init[%d].W", l + 1);
                copy_into(L, -1, n->layers[l].W, fn, what);
            }
            lua_pop(L, 1);
            if (lua_getfield(L, -1, "b") != LUA_TNIL) {
                snprintf(what, sizeof what, "init[%d].b", l + 1);
                copy_into(L, -1, n->layers[l].b, fn, what);
            }
            lua_pop(L, 2);
        }
    return 1;
}

static int net_call(lua_State *L)
{
    lua_remove(L, 1);  /* the module table */
    return net_construct(L);
}

static int n_load(lua_State *L)
{
    const char *path = dl_checkpath(L, 1);
    lnet *ln = push_empty(L);
    net *n;
    char msg[256];
    dl_status s = net_load(&n, path, msg, sizeof msg);
    if (s != DL_OK)
        return luaL_error(L, "network.load: %s: %s", path, msg);
    adopt(L, ln, n);
    return 1;
}

/* ---------------------------------------------------------------- methods */

static int n_gc(lua_State *L)
{
    lnet *ln = luaL_checkudata(L, 1, DL_NETWORK);
    net_free(ln->n);
    ln->n = NULL;
    return 0;
}

static void push_output(lua_State *L, net *n, int netidx)
{
    dl_pushview(L, net_output(n), netidx);
}

static int n_forward(lua_State *L)
{
    net *n = checknet(L, 1);
    luaL_checkany(L, 2);
    set_input(L, n, 2, "network:forward");
    for (int l = 0; l < n->L; l++) net_forward_layer(n, l);
    push_output(L, n, 1);
    return 1;
}

static int n_backward(lua_State *L)
{
    net *n = checknet(L, 1);
    luaL_checkany(L, 2);
    int acc = 0;
    if (lua_istable(L, 3)) {
        static const char *const keys[] = { "accumulate", NULL };
        check_keys(L, 3, 0, keys, "network:backward", "accumulate");
        lua_getfield(L, 3, "accumulate");
        acc = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    mat T = get_target(L, n, 2, "network:backward");
    n->accumulate = acc;
    dl_status s = net_backward(n, T);
    n->accumulate = 0;
    if (s != DL_OK)
        return status_error(L, "network:backward", s);
    double c;
    net_cost(n, T, &c);
    lua_pushnumber(L, c);
    return 1;
}

static int n_cost(lua_State *L)
{
    net *n = checknet(L, 1);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    set_input(L, n, 2, "network:cost");
    for (int l = 0; l < n->L; l++) net_forward_layer(n, l);
    mat T = get_target(L, n, 3, "network:cost");
    double c;
    net_cost(n, T, &c);
    lua_pushnumber(L, c);
    return 1;
}

static int n_update(lua_State *L)
{
    net *n = checknet(L, 1);
    net_hyper h = get_hyper(L, 2, "network:update");
    dl_status s = net_update(n, &h);
    if (s != DL_OK)
        return status_error(L, "network:update", s);
    lua_settop(L, 1);
    return 1;
}

static int n_step(lua_State *L)
{
    net *n = checknet(L, 1);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    net_hyper h = get_hyper(L, 4, "network:step");
    set_input(L, n, 2, "network:step");
    mat T = get_target(L, n, 3, "network:step");  /* needs the batch size set_input set */
    double c;
    dl_status s = net_step(n, n->x, T, &h, &c);  /* the input is in place: no copy */
    if (s != DL_OK)
        return status_error(L, "network:step", s);
    lua_pushnumber(L, c);
    return 1;
}

static int n_zero_grad(lua_State *L)
{
    net_zero_grads(checknet(L, 1));
    lua_settop(L, 1);
    return 1;
}

static int n_predict(lua_State *L)
{
    net *n = checknet(L, 1);
    luaL_checkany(L, 2);
    set_input(L, n, 2, "network:predict");
    for (int l = 0; l < n->L; l++) net_forward_layer(n, l);
    if (n->B == 1) {
        float p;
        net_predict(n, mat_wrap(&p, 1, 1));
        lua_pushinteger(L, (lua_Integer)p);
        return 1;
    }
    mat *out = dl_newmatrix(L, n->B, 1);
    net_predict(n, *out);
    return 1;
}

/* Row i of m as a new n×1 column vector (the book's way). */
static void push_column(lua_State *L, mat m, int i)
{
    mat *c = dl_newmatrix(L, m.cols, 1);
    for (int j = 0; j < m.cols; j++) *mat_at(*c, j, 0) = *mat_at(m, i, j);
}

/* A new matrix holding a copy of m. */
static void push_copy(lua_State *L, mat m)
{
    mat *c = dl_newmatrix(L, m.rows, m.cols);
    mat_copy(*c, m);
}

static int n_snapshot(lua_State *L)
{
    net *n = checknet(L, 1);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, dl_cost_names[n->cost]);
    lua_setfield(L, -2, "cost");
    lua_pushinteger(L, n->B);
    lua_setfield(L, -2, "batch");
    lua_createtable(L, n->L, 0);
    for (int l = 0; l < n->L; l++) {
        layer *ly = &n->layers[l];
        lua_createtable(L, 0, 7);
        const char *names[] = { "W", "b", "dW", "db", "z", "a", "delta" };
        mat ms[] = { ly->W, ly->b, ly->dW, ly->db, ly->z, ly->a, ly->delta };
        for (int k = 0; k < 7; k++) {
            push_copy(L, ms[k]);
            lua_setfield(L, -2, names[k]);
        }
        lua_rawseti(L, -2, l + 1);
    }
    lua_setfield(L, -2, "layers");
    return 1;
}

static int n_gradcheck(lua_State *L)
{
    net *n = checknet(L, 1);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    double eps = 0;
    lua_Integer max = 1000;   /* per W and per b: a big network stays seconds */
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        static const char *const keys[] = { "eps", "max", "all", "print", NULL };
        check_keys(L, 4, 0, keys, "network:gradcheck", "eps, max, all, print");
        lua_getfield(L, 4, "eps");
        if (!lua_isnil(L, -1)) {
            eps = lua_tonumber(L, -1);
            if (!(eps > 0) || !(eps < 1))
                return luaL_error(L, "network:gradcheck: eps must be in (0, 1)");
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 4, "max") != LUA_TNIL) {
            int ok;
            max = lua_tointegerx(L, -1, &ok);
            if (!ok || max < 1)
                return luaL_error(L, "network:gradcheck: max must be a positive integer");
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 4, "all") != LUA_TNIL && lua_toboolean(L, -1))
            max = 0;
        lua_pop(L, 1);
    }
    set_input(L, n, 2, "network:gradcheck");
    for (int l = 0; l < n->L; l++) net_forward_layer(n, l);
    mat T = get_target(L, n, 3, "network:gradcheck");
    double eW[NET_MAX_LAYERS], eb[NET_MAX_LAYERS];
    dl_status s = net_gradcheck_some(n, n->x, T, eps, (long)max, eW, eb);
    if (s != DL_OK)
        return status_error(L, "network:gradcheck", s);
    lua_createtable(L, n->L, 0);
    for (int l = 0; l < n->L; l++) {
        layer *ly = &n->layers[l];
        lua_Integer nW = (lua_Integer)mat_size(ly->W), nb = ly->n_out;
        lua_createtable(L, 0, 6);
        lua_pushnumber(L, eW[l]);
        lua_setfield(L, -2, "W");
        lua_pushnumber(L, eb[l]);
        lua_setfield(L, -2, "b");
        lua_pushinteger(L, max > 0 && max < nW ? max : nW);
        lua_setfield(L, -2, "checked_W");
        lua_pushinteger(L, nW);
        lua_setfield(L, -2, "count_W");
        lua_pushinteger(L, max > 0 && max < nb ? max : nb);
        lua_setfield(L, -2, "checked_b");
        lua_pushinteger(L, nb);
        lua_setfield(L, -2, "count_b");
        lua_rawseti(L, -2, l + 1);
    }
    return 1;
}

static int n_save(lua_State *L)
{
    net *n = checknet(L, 1);
    const char *path = dl_checkpath(L, 2);
    char msg[256];
    if (net_save(n, path, msg, sizeof msg) != DL_OK)
        return luaL_error(L, "network:save: cannot write %s: %s", path, msg);
    lua_settop(L, 1);
    return 1;
}

static int n_freeze_all(lua_State *L, int on)
{
    net *n = checknet(L, 1);
    static const char *const what[] = { "W", "b", "all", NULL };
    int w = luaL_checkoption(L, 2, "all", what);
    for (int l = 0; l < n->L; l++) {
        if (w != 1) n->layers[l].frozen_W = on;
        if (w != 0) n->layers[l].frozen_b = on;
    }
    lua_settop(L, 1);
    return 1;
}

static int n_freeze(lua_State *L) { return n_freeze_all(L, 1); }
static int n_unfreeze(lua_State *L) { return n_freeze_all(L, 0); }

/* Sample i of the last input (a⁰) as a column (for trace and walk). */
static int n_input(lua_State *L)
{
    net *n = checknet(L, 1);
    lua_Integer i = luaL_optinteger(L, 2, 1);
    if (i < 1 || i > n->B)
        return luaL_error(L, "network: sample %d out of range 1..%d", (int)i, n->B);
    push_column(L, n->x, (int)i - 1);
    return 1;
}

/* Internal stages for net:walk (lua/deltalab/trace.lua):
 *   _stage("input", x)     copy x in      _stage("forward", l)   layer l's z, a
 *   _stage("target", y)    targets; → C    _stage("delta")        δᴸ (BP1)
 *   _stage("backward", l)  dW, db of l and δ of l−1 (l is 1-based). */
static int n_stage(lua_State *L)
{
    net *n = checknet(L, 1);
    static const char *const stages[] = { "input", "forward", "target", "delta", "backward", NULL };
    int st = luaL_checkoption(L, 2, NULL, stages);
    const char *fn = "network:walk";
    dl_status s = DL_OK;
    switch (st) {
    case 0: set_input(L, n, 3, fn); break;
    case 1: case 4: {
        lua_Integer l = luaL_checkinteger(L, 3);
        luaL_argcheck(L, l >= 1 && l <= n->L, 3, "layer out of range");
        s = st == 1 ? net_forward_layer(n, (int)l - 1) : net_backward_layer(n, (int)l - 1);
        break;
    }
    case 2: {
        mat T = get_target(L, n, 3, fn);
        double c;
        net_cost(n, T, &c);
        lua_pushnumber(L, c);
        return 1;
    }
    default: s = net_output_delta(n, n->y); break;
    }
    if (s != DL_OK)
        return status_error(L, fn, s);
    return 0;
}

static int n_tostring(lua_State *L)
{
    net *n = checknet(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char line[256];
    size_t count = 0;
    for (int l = 0; l < n->L; l++)
        count += mat_size(n->layers[l].W) + (size_t)n->layers[l].n_out;
    luaL_addstring(&b, "network ");
    for (int l = 0; l <= n->L; l++) {
        snprintf(line, sizeof line, "%s%d", l ? "-" : "", n->sizes[l]);
        luaL_addstring(&b, line);
    }
    snprintf(line, sizeof line, ", cost %s, %zu parameters\n", dl_cost_names[n->cost], count);
    luaL_addstring(&b, line);
    for (int l = 0; l < n->L; l++) {
        layer *ly = &n->layers[l];
        char act[64];
        if (ly->act == DL_SOFTMAX && ly->c != 1.0f)
            snprintf(act, sizeof act, "softmax (c = %g)", ly->c);
        else if (ly->neuron_act)
            snprintf(act, sizeof act, "%s, per neuron", dl_act_names[ly->act]);
        else
            snprintf(act, sizeof act, "%s", dl_act_names[ly->act]);
        snprintf(line, sizeof line, "  layer %d: %5d -> %-5d %-22s W %dx%d, b 1x%d%s%s\n", l + 1,
                 ly->n_in, ly->n_out, act, ly->n_out, ly->n_in, ly->n_out,
                 ly->frozen_W ? ", W frozen" : "", ly->frozen_b ? ", b frozen" : "");
        luaL_addstring(&b, line);
    }
    if (n->B > 0) {
        snprintf(line, sizeof line, "  last batch: %d sample%s%s", n->B, n->B == 1 ? "" : "s",
                 n->have_delta ? ", gradients computed" : "");
        luaL_addstring(&b, line);
    } else {
        luaL_addstring(&b, "  no forward pass yet");
    }
    luaL_pushresult(&b);
    return 1;
}

/* Fields: layers, cost, sizes, L, batch; then the methods. */
static int n_index(lua_State *L)
{
    net *n = checknet(L, 1);
    const char *k = lua_tostring(L, 2);
    if (k && lua_type(L, 2) == LUA_TSTRING) {
        if (strcmp(k, "layers") == 0) {
            lua_getiuservalue(L, 1, 1);
            return 1;
        }
        if (strcmp(k, "cost_name") == 0) {
            lua_pushstring(L, dl_cost_names[n->cost]);
            return 1;
        }
        if (strcmp(k, "sizes") == 0) {
            lua_createtable(L, n->L + 1, 0);
            for (int l = 0; l <= n->L; l++) {
                lua_pushinteger(L, n->sizes[l]);
                lua_rawseti(L, -2, l + 1);
            }
            return 1;
        }
        if (strcmp(k, "L") == 0) {
            lua_pushinteger(L, n->L);
            return 1;
        }
        if (strcmp(k, "batch") == 0) {
            lua_pushinteger(L, n->B);
            return 1;
        }
        if (strcmp(k, "nparams") == 0) {
            size_t c = 0;
            for (int l = 0; l < n->L; l++)
                c += mat_size(n->layers[l].W) + (size_t)n->layers[l].n_out;
            lua_pushinteger(L, (lua_Integer)c);
            return 1;
        }
    }
    lua_pushvalue(L, 2);
    lua_gettable(L, lua_upvalueindex(1));
    return 1;
}

/* ----------------------------------------------------------------- layers */

static int check_sample(lua_State *L, net *n, int idx)
{
    lua_Integer i = luaL_optinteger(L, idx, 1);
    if (n->B < 1)
        luaL_error(L, "layer: no forward pass yet (call net:forward(x) first)");
    if (i < 1 || i > n->B)
        luaL_error(L, "layer: sample %d out of range 1..%d", (int)i, n->B);
    return (int)i - 1;
}

static int l_col(lua_State *L, int which)
{
    net *n;
    layer *ly = checklayer(L, 1, &n, NULL);
    int i = check_sample(L, n, 2);
    if (which == 2 && !n->have_delta)
        return luaL_error(L, "layer:delta: no backward pass yet (call net:backward(y) first)");
    push_column(L, which == 0 ? ly->z : which == 1 ? ly->a : ly->delta, i);
    return 1;
}

static int l_zcol(lua_State *L) { return l_col(L, 0); }
static int l_acol(lua_State *L) { return l_col(L, 1); }
static int l_deltacol(lua_State *L) { return l_col(L, 2); }

/* ∂C/∂a (output: ∇ₐC; hidden: (Wˡ⁺¹)ᵀδˡ⁺¹) for sample i as a column. */
static int l_grad_a(lua_State *L)
{
    net *n;
    int l;
    layer *ly = checklayer(L, 1, &n, &l);
    int i = check_sample(L, n, 2);
    if (l < n->L - 1 && !n->have_delta)
        return luaL_error(L, "layer:grad_a: no backward pass yet (call net:backward(y) first)");
    mat *c = dl_newmatrix(L, ly->n_out, 1);
    net_grad_a(n, l, i, c->data);
    return 1;
}

/* σ′(z) for sample i as a column (element-wise activations only). */
static int l_dsigma(lua_State *L)
{
    net *n;
    int l;
    layer *ly = checklayer(L, 1, &n, &l);
    int i = check_sample(L, n, 2);
    if (ly->act == DL_SOFTMAX)
        return luaL_error(L, "layer:dsigma: softmax is not element-wise (its Jacobian is "
                          "c·a_i(1[i=j] - a_j))");
    mat *c = dl_newmatrix(L, ly->n_out, 1);
    net_act_grad(n, l, i, c->data);
    return 1;
}

/* set_activation(j, name): neuron j; set_activation(name [, c]): the layer. */
static int l_set_activation(lua_State *L)
{
    net *n;
    int l;
    layer *ly = checklayer(L, 1, &n, &l);
    if (lua_type(L, 2) == LUA_TNUMBER) {
        lua_Integer j = luaL_checkinteger(L, 2);
        int f = luaL_checkoption(L, 3, NULL, dl_act_names);
        luaL_argcheck(L, j >= 1 && j <= ly->n_out, 2,
                      lua_pushfstring(L, "neuron %d out of range 1..%d", (int)j, ly->n_out));
        if (f == DL_SOFTMAX)
            return luaL_error(L, "layer:set_activation: softmax belongs to a whole layer, not "
                              "one neuron");
        if (ly->act == DL_SOFTMAX)
            return luaL_error(L, "layer:set_activation: a softmax layer has no per-neuron "
                              "activations (set the layer's first)");
        net_set_neuron_act(n, l, (int)j - 1, (dl_act)f);
    } else {
        int f = luaL_checkoption(L, 2, NULL, dl_act_names);
        lua_Number c = luaL_optnumber(L, 3, 1.0);
        luaL_argcheck(L, c > 0 && isfinite(c), 3, "softmax temperature must be positive");
        net_set_layer_act(n, l, (dl_act)f, (float)c);
    }
    lua_settop(L, 1);
    return 1;
}

static int l_activations(lua_State *L)
{
    net *n;
    int l;
    layer *ly = checklayer(L, 1, &n, &l);
    lua_createtable(L, ly->n_out, 0);
    for (int j = 0; j < ly->n_out; j++) {
        lua_pushstring(L, dl_act_names[net_neuron_act(n, l, j)]);
        lua_rawseti(L, -2, j + 1);
    }
    return 1;
}

static int l_freeze_set(lua_State *L, int on)
{
    layer *ly = checklayer(L, 1, NULL, NULL);
    static const char *const what[] = { "W", "b", "all", NULL };
    int w = luaL_checkoption(L, 2, "all", what);
    if (w != 1) ly->frozen_W = on;
    if (w != 0) ly->frozen_b = on;
    lua_settop(L, 1);
    return 1;
}

static int l_freeze(lua_State *L) { return l_freeze_set(L, 1); }
static int l_unfreeze(lua_State *L) { return l_freeze_set(L, 0); }

static int l_tostring(lua_State *L)
{
    net *n;
    int l;
    layer *ly = checklayer(L, 1, &n, &l);
    lua_pushfstring(L, "layer %d of a network: %d -> %d, %s%s%s%s", l + 1, ly->n_in, ly->n_out,
                    dl_act_names[ly->act], ly->neuron_act ? " (per neuron)" : "",
                    ly->frozen_W ? ", W frozen" : "", ly->frozen_b ? ", b frozen" : "");
    return 1;
}

static int l_index(lua_State *L)
{
    net *n;
    int l;
    layer *ly = checklayer(L, 1, &n, &l);
    const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
    static const char *const views[] = { "W", "b", "dW", "db", "z", "a", "delta", NULL };
    int v = find_name(views, k);
    if (v >= 0) {
        mat ms[] = { ly->W, ly->b, ly->dW, ly->db, ly->z, ly->a, ly->delta };
        lua_getiuservalue(L, 1, 1);
        dl_pushview(L, ms[v], -1);
        return 1;
    }
    if (strcmp(k, "n_in") == 0 || strcmp(k, "n_out") == 0) {
        lua_pushinteger(L, k[2] == 'i' ? ly->n_in : ly->n_out);
        return 1;
    }
    if (strcmp(k, "activation") == 0) {
        lua_pushstring(L, dl_act_names[ly->act]);
        return 1;
    }
    if (strcmp(k, "c") == 0) {
        lua_pushnumber(L, ly->c);
        return 1;
    }
    if (strcmp(k, "index") == 0) {
        lua_pushinteger(L, l + 1);
        return 1;
    }
    if (strcmp(k, "frozen") == 0) {
        lua_createtable(L, 0, 2);
        lua_pushboolean(L, ly->frozen_W);
        lua_setfield(L, -2, "W");
        lua_pushboolean(L, ly->frozen_b);
        lua_setfield(L, -2, "b");
        return 1;
    }
    lua_pushvalue(L, 2);
    lua_gettable(L, lua_upvalueindex(1));
    return 1;
}

/* layer.W = m, layer.b = v: copy values in (shapes must match). */
static int l_newindex(lua_State *L)
{
    net *n;
    layer *ly = checklayer(L, 1, &n, NULL);
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "W") == 0)
        copy_into(L, 3, ly->W, "layer", "W");
    else if (strcmp(k, "b") == 0)
        copy_into(L, 3, ly->b, "layer", "b");
    else
        return luaL_error(L, "layer: cannot set '%s' (only W and b can be assigned)", k);
    return 0;
}

/* ------------------------------------------------------------- the module */

static const luaL_Reg net_meth[] = {
    { "forward", n_forward },
    { "backward", n_backward },
    { "update", n_update },
    { "step", n_step },
    { "cost", n_cost },
    { "predict", n_predict },
    { "zero_grad", n_zero_grad },
    { "snapshot", n_snapshot },
    { "gradcheck", n_gradcheck },
    { "save", n_save },
    { "freeze", n_freeze },
    { "unfreeze", n_unfreeze },
    { "_stage", n_stage },
    { "_input", n_input },
    { NULL, NULL }
};

static const luaL_Reg layer_meth[] = {
    { "set_activation", l_set_activation },
    { "activations", l_activations },
    { "freeze", l_freeze },
    { "unfreeze", l_unfreeze },
    { "z", l_zcol },
    { "a", l_acol },
    { "delta", l_deltacol },
    { "grad_a", l_grad_a },
    { "dsigma", l_dsigma },
    { NULL, NULL }
};

/* A metatable whose __index serves fields first, then the methods table.
 * The methods table is also the metatable's "__methods" and the module's
 * `methods` / `layer_methods`, so Lua code (trace.lua) can add methods and
 * help can list them. */
static void createmeta(lua_State *L, const char *name, const luaL_Reg *meth,
                       lua_CFunction index, lua_CFunction newindex, lua_CFunction tostr,
                       lua_CFunction gc)
{
    luaL_newmetatable(L, name);
    lua_newtable(L);
    luaL_setfuncs(L, meth, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__methods");
    lua_pushcclosure(L, index, 1);
    lua_setfield(L, -2, "__index");
    if (newindex) {
        lua_pushcfunction(L, newindex);
        lua_setfield(L, -2, "__newindex");
    }
    lua_pushcfunction(L, tostr);
    lua_setfield(L, -2, "__tostring");
    if (gc) {
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
}

/* layer.z, layer.a and layer.delta are live matrix views, and layer:z(i),
 * layer:a(i), layer:delta(i) give sample i as a column. layer:delta(i) is
 * layer.delta(layer, i), a call of the view; so the matrix metatable gets a
 * __call that, given a layer, finds which of that layer's views it is and
 * returns the column. Any other call goes to the matrix's own __call, if it
 * has one (upvalue 1). */
static int view_call(lua_State *L)
{
    if (luaL_testudata(L, 2, DL_LAYER)) {
        mat *m = dl_checkmatrix(L, 1);
        net *n;
        layer *ly = checklayer(L, 2, &n, NULL);
        int which = m->data == ly->z.data ? 0 : m->data == ly->a.data ? 1
                  : m->data == ly->delta.data ? 2 : -1;
        if (which < 0)
            return luaL_error(L, "attempt to call a matrix value");
        lua_remove(L, 1);
        return l_col(L, which);
    }
    if (lua_isnil(L, lua_upvalueindex(1)))
        return luaL_error(L, "attempt to call a matrix value");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static void hook_matrix_call(lua_State *L)
{
    if (luaL_getmetatable(L, DL_MATRIX) != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    lua_getfield(L, -1, "__call");
    lua_pushcclosure(L, view_call, 1);
    lua_setfield(L, -2, "__call");
    lua_pop(L, 1);
}

static const luaL_Reg funcs[] = {
    { "load", n_load },
    { NULL, NULL }
};

int luaopen_deltalab_network(lua_State *L)
{
    luaL_requiref(L, "deltalab.matrix", luaopen_deltalab_matrix, 0);  /* its metatable */
    lua_pop(L, 1);
    createmeta(L, DL_NETWORK, net_meth, n_index, NULL, n_tostring, n_gc);
    createmeta(L, DL_LAYER, layer_meth, l_index, l_newindex, l_tostring, NULL);
    luaL_newlib(L, funcs);
    luaL_getmetatable(L, DL_NETWORK);
    lua_getfield(L, -1, "__methods");
    lua_setfield(L, -3, "methods");
    lua_pop(L, 1);
    luaL_getmetatable(L, DL_LAYER);
    lua_getfield(L, -1, "__methods");
    lua_setfield(L, -3, "layer_methods");
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, net_call);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    hook_matrix_call(L);
    return 1;
}
