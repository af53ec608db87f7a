/*
 * lnetwork.c — the Lua face of the core's network (src/core/net.h): the type
 * "network" and the module deltalab.network (network{...}, network.load).
 *
 * A network userdata holds a pointer to the core net; its user value is the
 * table of its layers (llayer.c). Inputs and targets are converted straight
 * into the core's workspace (lnetconv.c), so net:step allocates nothing in C.
 * See lnetwork.h for how the three files divide the work.
 */
#include "lnetwork.h"
#include "largs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The open network at index i, its weights as they may be: net:step alone
 * takes it so, to leave a batch-1 step's update of W¹ pending in the core
 * for its next forward (net_settle_weights). */
static lnet *check_open(lua_State *L, int i)
{
    lnet *ln = luaL_checkudata(L, i, DL_NETWORK);
    if (!ln->n)
        luaL_error(L, "attempt to use a closed network");
    return ln;
}

/* Every other use settles the weights first, so whatever a binding reads
 * or writes (params, a layer's W) is current. */
net *lnet_check(lua_State *L, int i)
{
    net *n = check_open(L, i)->n;
    net_settle_weights(n);
    return n;
}

lnet *lnet_checkud(lua_State *L, int i)
{
    lnet_check(L, i);
    return lua_touserdata(L, i);
}

/* A forward ran: z, a now come from the current W, b; no cost yet. */
static void forwarded(lnet *ln)
{
    ln->updated = 0;
    ln->foreign = 0;
    ln->unkept = 0;
    ln->have_cost = 0;
}

void dl_net_changed(lua_State *L, int i)
{
    lnet *ln = lnet_checkud(L, i);
    ln->foreign = 1;
    ln->updated = 0;
    ln->have_cost = 0;
}

static void costed(lnet *ln, double c)
{
    ln->cost = c;
    ln->have_cost = 1;
}

/* Networks this small keep W, b before every update; larger ones only once
 * net:snapshot has been called on them, since the copy would cost a
 * 784-30-10 step from Lua about half its time. */
#define KEEP_ALWAYS_PARAMS 4096

/* Before an update: keep W, b as the last forward used them (once per
 * forward), so a snapshot shows the parameters beside the z, a, δ they made.
 * One copy of the parameters per step: about 0.3 µs per 10⁴ parameters. */
void lnet_keep_before(lua_State *L, lnet *ln, const char *fn)
{
    if (ln->updated || ln->foreign || ln->unkept)   /* kept already, or not known any more */
        return;
    net *n = ln->n;
    if (n->n_params > KEEP_ALWAYS_PARAMS && !ln->snapshots) {
        ln->unkept = 1;
        return;
    }
    if (!ln->before) {
        ln->before = malloc(n->n_params * sizeof *ln->before);
        if (!ln->before)
            luaL_error(L, "%s: not enough memory for a copy of the %zu parameters", fn,
                       n->n_params);
    }
    net_settle_weights(n);
    memcpy(ln->before, n->params, n->n_params * sizeof *ln->before);
}

/* For other bindings (ltrainer.c): the core net of the network at index i. */
struct net *dl_checknet(lua_State *L, int i)
{
    return lnet_check(L, i);
}

int lnet_status_error(lua_State *L, const char *fn, dl_status s)
{
    return luaL_error(L, "%s: %s", fn, dl_strerror(s));
}

/* ------------------------------------------------------------ construction */

/* network{784, 30, 10} or network{784, {100, "relu"}, {10, "softmax", c = 2},
 * cost = "cross_entropy", init = "xavier", seed = 42, freeze = "b"} is read
 * in two steps: parse_spec turns the Lua table into the core's net_spec,
 * raising on what only Lua can get wrong (an unknown option, a size that is
 * not an integer, a misspelt name); net_create then validates and builds it,
 * and says why it cannot (too big for this machine, a temperature that is not
 * positive). Explicit init values are copied into the built network last. */

static const char *const network_options[] = { "cost", "init", "seed", "freeze", NULL };
static const char *const layer_options[] = { "c", NULL };
static const char *const freeze_names[] = { "W", "b", NULL };

/* Entry i (1-based) of the sizes, on the stack top: a size, or
 * {size, "activation", c = temperature}. */
static void parse_layer(lua_State *L, int i, net_spec *spec)
{
    char fn[32];
    snprintf(fn, sizeof fn, "network: layer %d", i);
    int is_table = lua_istable(L, -1);
    if (is_table) {
        dl_checkoptions(L, -1, fn, layer_options, 2);
        lua_geti(L, -1, 1);
    } else {
        lua_pushvalue(L, -1);
    }
    int isint;
    lua_Integer size = lua_tointegerx(L, -1, &isint);
    lua_pop(L, 1);
    if (!isint || size < 1)
        luaL_error(L, "%s: size must be a positive integer", fn);
    spec->sizes[i - 1] = size > (1 << 30) ? 1 << 30 : (int)size;  /* net_check_sizes says why not */
    if (!is_table)
        return;
    if (lua_geti(L, -1, 2) != LUA_TNIL) {
        if (i == 1)
            luaL_error(L, "network: layer 1 is the input and has no activation");
        spec->acts[i - 2] = (dl_act)dl_checkchoice(L, -1, fn, "activation", dl_act_names);
    }
    lua_pop(L, 1);
    if (i > 1)
        spec->c[i - 2] = (float)dl_optnumber(L, -1, fn, "c", 1.0);
}

/* The table at idx into spec; returns whether init is a table of explicit
 * values (copied in by copy_init_values once the network is built). */
static int parse_spec(lua_State *L, int idx, net_spec *spec)
{
    lua_Integer count = luaL_len(L, idx);
    if (count < 2)
        luaL_error(L, "network: needs at least an input and an output size (got %d size%s)",
                   (int)count, count == 1 ? "" : "s");
    if (count > NET_MAX_LAYERS + 1)
        luaL_error(L, "network: at most %d layers", NET_MAX_LAYERS);
    dl_checkoptions(L, idx, "network", network_options, count);
    *spec = net_spec_default();
    spec->L = (int)count - 1;
    for (int i = 1; i <= count; i++) {
        lua_geti(L, idx, i);
        parse_layer(L, i, spec);
        lua_pop(L, 1);
    }
    spec->cost = (dl_cost)dl_optchoice(L, idx, "network", "cost", "cost", dl_cost_names,
                                       DL_QUADRATIC);
    spec->seed = (uint64_t)dl_optinteger(L, idx, "network", "seed", 0, LUA_MININTEGER,
                                         LUA_MAXINTEGER);
    if (lua_getfield(L, idx, "freeze") != LUA_TNIL) {
        int w = dl_checkchoice(L, -1, "network", "freeze", freeze_names);
        spec->freeze_W = w == 0;
        spec->freeze_b = w == 1;
    }
    lua_pop(L, 1);
    int explicit_init = lua_getfield(L, idx, "init") == LUA_TTABLE;
    if (explicit_init) {
        if (luaL_len(L, -1) != count - 1)
            luaL_error(L, "network: init table has %d layers, the network %d",
                       (int)luaL_len(L, -1), (int)count - 1);
        spec->init = DL_INIT_ZEROS;
    } else if (!lua_isnil(L, -1)) {
        spec->init = (dl_init)dl_checkchoice(L, -1, "network", "init", dl_init_names);
    }
    lua_pop(L, 1);
    return explicit_init;
}

/* init = {{W = ..., b = ...}, ...} of the table at idx into n's parameters. */
static void copy_init_values(lua_State *L, int idx, net *n)
{
    static const char *const keys[] = { "W", "b", NULL };
    lua_getfield(L, idx, "init");
    for (int l = 0; l < n->L; l++) {
        char what[32];
        snprintf(what, sizeof what, "init[%d]", l + 1);
        if (lua_geti(L, -1, l + 1) != LUA_TTABLE)
            luaL_error(L, "network: %s must be a table {W = ..., b = ...}", what);
        lua_pushfstring(L, "network: %s", what);
        dl_checkoptions(L, -2, lua_tostring(L, -1), keys, 0);
        lua_pop(L, 1);
        mat dst[] = { n->layers[l].W, n->layers[l].b };
        for (int k = 0; k < 2; k++) {
            if (lua_getfield(L, -1, keys[k]) != LUA_TNIL) {
                snprintf(what, sizeof what, "init[%d].%s", l + 1, keys[k]);
                lnet_copy_into(L, -1, dst[k], "network", what);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* Push an empty network userdata (consistent before anything is acquired). */
static lnet *push_empty(lua_State *L)
{
    lnet *ln = lua_newuserdatauv(L, sizeof *ln, 1);
    *ln = (lnet){ 0 };
    luaL_setmetatable(L, DL_NETWORK);
    return ln;
}

/* Adopt a built core net into the new userdata at the top: layers, workspace. */
static void adopt(lua_State *L, lnet *ln, net *n)
{
    ln->n = n;
    if (net_reserve(n, 1) != DL_OK)
        luaL_error(L, "network: not enough memory");
    llayer_push_all(L, lua_gettop(L), n->L);
}

static int net_construct(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    net_spec spec;
    int explicit_init = parse_spec(L, 1, &spec);
    lnet *ln = push_empty(L);
    net *n;
    char msg[256];
    if (net_create(&n, &spec, msg, sizeof msg) != DL_OK)
        return luaL_error(L, "network: %s", msg);
    adopt(L, ln, n);
    if (explicit_init) {
        copy_init_values(L, 1, n);
        n->init = DL_INIT_COUNT;   /* the user's own values */
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

void dl_pushnet(lua_State *L, net **n)
{
    lnet *ln = push_empty(L);
    net *owned = *n;
    *n = NULL;
    adopt(L, ln, owned);
}

/* ---------------------------------------------------------------- methods */

static const char *const hyper_options[] = { "lr", "lambda", "n", "momentum", NULL };

/* The index in hyper_options of the key below the top of the stack, or -1. */
static int hyper_index(lua_State *L)
{
    if (lua_type(L, -2) != LUA_TSTRING)
        return -1;
    for (int k = 0; hyper_options[k]; k++)
        if (strcmp(lua_tostring(L, -2), hyper_options[k]) == 0)
            return k;
    return -1;
}

/* lr, lambda, n, momentum from the options table at idx (absent: defaults).
 * One walk over the keys the table has: net:step reads it every step, and a
 * lookup of each of the four names cost a batch-1 step 2 %. The errors are
 * dl_checkoptions' and dl_optnumber's. */
static net_hyper get_hyper(lua_State *L, int idx, const char *fn)
{
    net_hyper h = net_hyper_default();
    if (!dl_isopts(L, idx, fn))
        return h;
    idx = lua_absindex(L, idx);
    float *dst[] = { &h.lr, &h.lambda, &h.n, &h.momentum };
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int k = hyper_index(L);
        if (k < 0)
            dl_checkoptions(L, idx, fn, hyper_options, 0);         /* raises */
        if (lua_type(L, -1) != LUA_TNUMBER)
            dl_optnumber(L, idx, fn, hyper_options[k], 0);        /* raises */
        lua_Number v = lua_tonumber(L, -1);
        if (!isfinite(v))
            luaL_error(L, "%s: option '%s' must be finite, got %f", fn, hyper_options[k], v);
        *dst[k] = (float)v;
        lua_pop(L, 1);
    }
    if (!(h.n > 0))
        luaL_error(L, "%s: option 'n' (training-set size) must be positive", fn);
    return h;
}

static int n_gc(lua_State *L)
{
    lnet *ln = luaL_checkudata(L, 1, DL_NETWORK);
    net_free(ln->n);
    free(ln->before);
    *ln = (lnet){ 0 };
    return 0;
}

/* The output aᴸ, as the following view net.layers[L].a. */
static void push_output(lua_State *L, net *n, int netidx)
{
    llayer_push_view(L, netidx, n->L - 1, "a");
}

static int n_forward(lua_State *L)
{
    net *n = lnet_check(L, 1);
    luaL_checkany(L, 2);
    lnet_set_input(L, n, 2, "network:forward");
    for (int l = 0; l < n->L; l++) net_forward_layer(n, l);
    forwarded(lnet_checkud(L, 1));
    push_output(L, n, 1);
    return 1;
}

static int n_backward(lua_State *L)
{
    static const char *const options[] = { "accumulate", NULL };
    const char *fn = "network:backward";
    net *n = lnet_check(L, 1);
    luaL_checkany(L, 2);
    dl_isopts(L, 3, fn);
    dl_checkoptions(L, 3, fn, options, 0);
    int acc = dl_optboolean(L, 3, fn, "accumulate", 0);
    mat T = lnet_get_target(L, n, 2, fn);
    n->accumulate = acc;
    dl_status s = net_backward(n, T);
    n->accumulate = 0;
    if (s != DL_OK)
        return lnet_status_error(L, fn, s);
    double c;
    net_cost(n, T, &c);
    costed(lnet_checkud(L, 1), c);
    lua_pushnumber(L, c);
    return 1;
}

static int n_cost(lua_State *L)
{
    net *n = lnet_check(L, 1);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    lnet_set_input(L, n, 2, "network:cost");
    for (int l = 0; l < n->L; l++) net_forward_layer(n, l);
    forwarded(lnet_checkud(L, 1));
    mat T = lnet_get_target(L, n, 3, "network:cost");
    double c;
    net_cost(n, T, &c);
    costed(lnet_checkud(L, 1), c);
    lua_pushnumber(L, c);
    return 1;
}

static int n_update(lua_State *L)
{
    net *n = lnet_check(L, 1);
    net_hyper h = get_hyper(L, 2, "network:update");
    lnet *ln = lnet_checkud(L, 1);
    lnet_keep_before(L, ln, "network:update");
    dl_status s = net_update(n, &h);
    if (s != DL_OK)
        return lnet_status_error(L, "network:update", s);
    ln->updated = 1;
    lua_settop(L, 1);
    return 1;
}

static int n_step(lua_State *L)
{
    lnet *ln = check_open(L, 1);   /* W¹'s pending update goes into this step's forward */
    net *n = ln->n;
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    net_hyper h = get_hyper(L, 4, "network:step");
    lnet_set_input(L, n, 2, "network:step");
    mat T = lnet_get_target(L, n, 3, "network:step");  /* needs the batch size set_input set */
    forwarded(ln);        /* this step's forward uses the W, b kept now */
    lnet_keep_before(L, ln, "network:step");
    double c;
    dl_status s = net_step(n, n->x, T, &h, &c);  /* the input is in place: no copy */
    if (s != DL_OK)
        return lnet_status_error(L, "network:step", s);
    costed(ln, c);
    ln->updated = 1;
    if (!isfinite(c) && !ln->warned_nan) {   /* once: a student may want to watch it happen */
        ln->warned_nan = 1;
        fprintf(stderr, "warning: network:step: the cost is %s, so the network has diverged "
                "and its parameters are no longer numbers; lower lr%s\n",
                isnan(c) ? "NaN" : "infinite",
                n->init == DL_INIT_NIELSEN ? " or build it with init = \"auto\"" : "");
    }
    lua_pushnumber(L, c);
    return 1;
}

static int n_zero_grad(lua_State *L)
{
    net_zero_grads(lnet_check(L, 1));
    lua_settop(L, 1);
    return 1;
}

static int n_predict(lua_State *L)
{
    net *n = lnet_check(L, 1);
    luaL_checkany(L, 2);
    lnet_set_input(L, n, 2, "network:predict");
    for (int l = 0; l < n->L; l++) net_forward_layer(n, l);
    forwarded(lnet_checkud(L, 1));
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

/* A new matrix holding a copy of m. */
static void push_copy(lua_State *L, mat m)
{
    mat *c = dl_newmatrix(L, m.rows, m.cols);
    mat_copy(*c, m);
}

/* One step as one moment: the cost of the last batch (a number; its name in
 * cost_name), and per layer W, b as the forward used them beside the z, a, δ
 * they produced and the gradients dW, db; after net:step or net:update also
 * W_updated, b_updated, the parameters that update left. All copies. */
static int n_snapshot(lua_State *L)
{
    net *n = lnet_check(L, 1);
    lnet *ln = lnet_checkud(L, 1);
    lua_createtable(L, 0, 4);
    if (ln->have_cost)
        lua_pushnumber(L, ln->cost);
    else
        lua_pushnil(L);
    lua_setfield(L, -2, "cost");
    lua_pushstring(L, dl_cost_names[n->cost]);
    lua_setfield(L, -2, "cost_name");
    lua_pushinteger(L, n->B);
    lua_setfield(L, -2, "batch");
    ln->snapshots = 1;   /* from now on every update keeps W, b for the next snapshot */
    int known = !ln->foreign && !ln->unkept;   /* the W, b of the last forward */
    lua_pushboolean(L, ln->updated || !known);
    lua_setfield(L, -2, "updated");
    if (ln->unkept) {
        lua_pushfstring(L, "this network has more than %d parameters, so W and b are kept "
                        "before each update only once net:snapshot has been called on it: "
                        "this snapshot has W_updated and b_updated, the next ones also W, b",
                        KEEP_ALWAYS_PARAMS);
        lua_setfield(L, -2, "note");
    } else if (ln->foreign) {
        lua_pushliteral(L, "a trainer ran the network after its last forward from Lua, so the "
                        "W and b that produced z, a and delta are not known; W_updated and "
                        "b_updated are the current ones (net:forward or net:step first for a "
                        "full snapshot)");
        lua_setfield(L, -2, "note");
    }
    net_sync_grads(n);   /* a batch-1 net:step leaves dW, db to be written when read */
    lua_createtable(L, n->L, 0);
    for (int l = 0; l < n->L; l++) {
        layer *ly = &n->layers[l];
        lua_createtable(L, 0, 9);
        const char *names[] = { "dW", "db", "z", "a", "delta" };
        mat ms[] = { ly->dW, ly->db, ly->z, ly->a, ly->delta };
        for (int k = 0; k < 5; k++) {
            push_copy(L, ms[k]);
            lua_setfield(L, -2, names[k]);
        }
        mat W = ly->W, b = ly->b;
        if (ln->updated || !known) {
            if (known) {   /* before has the layout of params: the same offsets */
                W.data = ln->before + (ly->W.data - n->params);
                b.data = ln->before + (ly->b.data - n->params);
            }
            push_copy(L, ly->W);
            lua_setfield(L, -2, "W_updated");
            push_copy(L, ly->b);
            lua_setfield(L, -2, "b_updated");
        }
        if (known) {
            push_copy(L, W);
            lua_setfield(L, -2, "W");
            push_copy(L, b);
            lua_setfield(L, -2, "b");
        }
        lua_rawseti(L, -2, l + 1);
    }
    lua_setfield(L, -2, "layers");
    return 1;
}

/* Call Lua's print with one line (so a redirected print sees it too). */
static void print_line(lua_State *L, const char *line)
{
    lua_getglobal(L, "print");
    lua_pushstring(L, line);
    lua_call(L, 1, 0);
}

/* A relative error for the table: "nan" and "inf" spelt so on every libc
 * (glibc prints a negative NaN as "-nan"). */
static void fmt_error(char *out, size_t len, double e)
{
    if (isnan(e))
        snprintf(out, len, "%17s", "nan");
    else if (isinf(e))
        snprintf(out, len, "%17s", "inf");
    else
        snprintf(out, len, "%17.3e", e);
}

/* gradcheck's table, from the per-layer results r at the stack top. */
static void print_gradcheck(lua_State *L, const net *n, double eps)
{
    char line[512];
    snprintf(line, sizeof line,
             "gradient check: backprop vs central differences in double (eps = %g)", eps);
    print_line(L, line);
    print_line(L, "  layer   max rel. error dW   max rel. error db");
    int some = 0;
    for (int l = 0; l < n->L; l++) {
        lua_geti(L, -1, l + 1);
        static const char *const keys[] = { "W", "b", "checked_W", "count_W", "checked_b",
                                            "count_b" };
        double v[6];
        for (int k = 0; k < 6; k++) {
            lua_getfield(L, -1, keys[k]);
            v[k] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        lua_getfield(L, -1, "ok");
        int ok = lua_toboolean(L, -1);
        lua_getfield(L, -2, "problem");
        char problem[160] = "";
        if (lua_isstring(L, -1))
            snprintf(problem, sizeof problem, ": %s", lua_tostring(L, -1));
        lua_pop(L, 3);
        char note[96] = "";
        if (v[2] < v[3] || v[4] < v[5]) {
            snprintf(note, sizeof note, "   (%.0f of %.0f weights, %.0f of %.0f biases)", v[2],
                     v[3], v[4], v[5]);
            some = 1;
        }
        char eW[32], eb[32];
        fmt_error(eW, sizeof eW, v[0]);
        fmt_error(eb, sizeof eb, v[1]);
        snprintf(line, sizeof line, "  %5d   %s   %s   %s%s%s", l + 1, eW, eb,
                 ok ? "ok" : problem[0] ? "FAILED" : "MISMATCH", problem, note);
        print_line(L, line);
    }
    if (some)
        print_line(L, "  (evenly spaced entries; {all = true} checks every one)");
}

/* Push why layer l's check cannot pass though its errors may look small — a
 * NaN or ∞ in its W or b, in the cost, in backprop's gradient or in the
 * finite difference (the core reports that one as a NaN error) — or nil.
 * Returns whether there is such a reason. */
static int push_gradcheck_problem(lua_State *L, net *n, int l, double cost, double eW,
                                  double eb)
{
    layer *ly = &n->layers[l];
    size_t k;
    if ((k = mat_count_nonfinite(ly->W)) > 0)
        lua_pushfstring(L, "W has %d NaN or infinite weight%s", (int)k, k > 1 ? "s" : "");
    else if ((k = mat_count_nonfinite(ly->b)) > 0)
        lua_pushfstring(L, "b has %d NaN or infinite bias%s", (int)k, k > 1 ? "es" : "");
    else if (!isfinite(cost))
        lua_pushfstring(L, "the cost is %s", isnan(cost) ? "NaN" : "infinite");
    else if ((k = mat_count_nonfinite(ly->dW) + mat_count_nonfinite(ly->db)) > 0)
        lua_pushfstring(L, "backprop's gradient has %d NaN or infinite entr%s", (int)k,
                        k > 1 ? "ies" : "y");
    else if (!isfinite(eW) || !isfinite(eb))
        lua_pushliteral(L, "a finite difference is NaN or infinite");
    else
        lua_pushnil(L);
    return !lua_isnil(L, -1);
}

static int n_gradcheck(lua_State *L)
{
    static const char *const options[] = { "eps", "max", "all", "print", NULL };
    const char *fn = "network:gradcheck";
    net *n = lnet_check(L, 1);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    dl_isopts(L, 4, fn);
    dl_checkoptions(L, 4, fn, options, 0);
    double eps = dl_optnumber(L, 4, fn, "eps", 1e-5);
    if (!(eps > 0 && eps < 1))
        return luaL_error(L, "%s: option 'eps' must be in (0, 1), got %f", fn, eps);
    /* by default at most 1000 entries per W and per b: a big network stays seconds */
    lua_Integer max = dl_optinteger(L, 4, fn, "max", 1000, LUA_MININTEGER, LUA_MAXINTEGER);
    if (max < 1)
        return luaL_error(L, "%s: option 'max' must be a positive integer, got %I", fn, max);
    if (dl_optboolean(L, 4, fn, "all", 0))
        max = 0;
    int print = dl_optboolean(L, 4, fn, "print", 1);
    lnet_set_input(L, n, 2, fn);
    for (int l = 0; l < n->L; l++) net_forward_layer(n, l);
    forwarded(lnet_checkud(L, 1));
    mat T = lnet_get_target(L, n, 3, fn);
    double eW[NET_MAX_LAYERS], eb[NET_MAX_LAYERS];
    dl_status s = net_gradcheck_some(n, n->x, T, eps, (long)max, eW, eb);
    if (s != DL_OK)
        return lnet_status_error(L, fn, s);
    double cost;
    net_cost(n, T, &cost);     /* of the forward the gradients came from */
    costed(lnet_checkud(L, 1), cost);
    lua_createtable(L, n->L, 0);
    for (int l = 0; l < n->L; l++) {
        layer *ly = &n->layers[l];
        lua_Integer nW = (lua_Integer)mat_size(ly->W), nb = ly->n_out;
        int bad = push_gradcheck_problem(L, n, l, cost, eW[l], eb[l]);
        lua_createtable(L, 0, 8);
        lua_insert(L, -2);
        lua_setfield(L, -2, "problem");
        lua_pushboolean(L, !bad && eW[l] < 1e-4 && eb[l] < 1e-4);
        lua_setfield(L, -2, "ok");
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
    if (print)
        print_gradcheck(L, n, eps);
    return 1;
}

static int n_save(lua_State *L)
{
    net *n = lnet_check(L, 1);
    const char *path = dl_checkpath(L, 2);
    char msg[256];
    if (net_save(n, path, msg, sizeof msg) != DL_OK)
        return luaL_error(L, "network:save: cannot write %s", msg);   /* msg: "path: reason" */
    lua_settop(L, 1);
    return 1;
}

static int n_freeze_all(lua_State *L, int on)
{
    net *n = lnet_check(L, 1);
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

/* Sample i of the last input (a⁰) as a column, like layer:a_of(i). */
static int n_input_of(lua_State *L)
{
    net *n = lnet_check(L, 1);
    lua_Integer i = luaL_optinteger(L, 2, 1);
    if (n->B < 1)
        return luaL_error(L, "network:input_of: no input yet (call net:forward(x) first)");
    if (i < 1 || i > n->B)
        return luaL_error(L, "network:input_of: sample %d out of range 1..%d", (int)i, n->B);
    lnet_push_column(L, n->x, (int)i - 1);
    return 1;
}

/* net:stage(name, ...): one stage of forward and backward, the primitive
 * net:walk steps through (lua/deltalab/trace.lua). Called in this order they
 * are exactly forward(x) then backward(y):
 *   stage("input", x)     x in as a⁰            stage("forward", l)   z, a of layer l
 *   stage("cost", y)      targets; returns C    stage("delta")        δᴸ (BP1)
 *   stage("backward", l)  dW, db of layer l (BP3, BP4) and δ of layer l−1 (BP2)
 * l is 1-based. */
static int n_stage(lua_State *L)
{
    static const char *const stages[] = { "input", "forward", "cost", "delta", "backward",
                                          NULL };
    const char *fn = "network:stage";
    net *n = lnet_check(L, 1);
    int st = luaL_checkoption(L, 2, NULL, stages);
    dl_status s = DL_OK;
    switch (st) {
    case 0:
        luaL_checkany(L, 3);
        lnet_set_input(L, n, 3, fn);
        forwarded(lnet_checkud(L, 1));
        break;
    case 1: case 4: {
        lua_Integer l = luaL_checkinteger(L, 3);
        luaL_argcheck(L, l >= 1 && l <= n->L, 3,
                      lua_pushfstring(L, "layer %d out of range 1..%d", (int)l, n->L));
        if (n->B < 1)
            return luaL_error(L, "%s: no input yet (call net:stage(\"input\", x) first)", fn);
        s = st == 1 ? net_forward_layer(n, (int)l - 1) : net_backward_layer(n, (int)l - 1);
        break;
    }
    case 2: {
        luaL_checkany(L, 3);
        mat T = lnet_get_target(L, n, 3, fn);
        double c;
        net_cost(n, T, &c);
        costed(lnet_checkud(L, 1), c);
        lua_pushnumber(L, c);
        return 1;
    }
    default:
        if (n->B < 1)
            return luaL_error(L, "%s: no input yet (call net:stage(\"input\", x) first)", fn);
        s = net_output_delta(n, n->y);
        break;
    }
    if (s != DL_OK)
        return lnet_status_error(L, fn, s);
    return 0;
}

static int n_tostring(lua_State *L)
{
    net *n = lnet_check(L, 1);
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


static const char *const net_fields[] = { "layers", "cost_name", "sizes", "L", "batch",
                                          "nparams", NULL };

/* __index is a function, not the methods table, because a network's fields
 * are computed on each read (layers is the user value; sizes, batch, nparams
 * come from the core net, which a forward changes). The methods (upvalue 1)
 * are looked up first: `net:step` is read once a step, and the fields' name
 * comparisons cost a batch-1 step 1 %. No method has a field's name. */
static int n_index(lua_State *L)
{
    net *n = check_open(L, 1)->n;   /* sizes and methods only: W¹ may stay pending */
    lua_pushvalue(L, 2);
    if (lua_gettable(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    const char *const *fields = net_fields;
    int f = -1;
    if (lua_type(L, 2) == LUA_TSTRING)
        for (int k = 0; fields[k] && f < 0; k++)
            if (strcmp(lua_tostring(L, 2), fields[k]) == 0)
                f = k;
    switch (f) {
    case 0: lua_getiuservalue(L, 1, 1); return 1;
    case 1: lua_pushstring(L, dl_cost_names[n->cost]); return 1;
    case 2:
        lua_createtable(L, n->L + 1, 0);
        for (int l = 0; l <= n->L; l++) {
            lua_pushinteger(L, n->sizes[l]);
            lua_rawseti(L, -2, l + 1);
        }
        return 1;
    case 3: lua_pushinteger(L, n->L); return 1;
    case 4: lua_pushinteger(L, n->B); return 1;
    case 5: {
        size_t c = 0;
        for (int l = 0; l < n->L; l++)
            c += mat_size(n->layers[l].W) + (size_t)n->layers[l].n_out;
        lua_pushinteger(L, (lua_Integer)c);
        return 1;
    }
    default:
        lua_pushnil(L);
        return 1;
    }
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
    { "stage", n_stage },
    { "input_of", n_input_of },
    { NULL, NULL }
};

void lnet_createmeta(lua_State *L, const char *name, const luaL_Reg *meth,
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

void lnet_setfields(lua_State *L, const char *name, const char *const *fields)
{
    luaL_getmetatable(L, name);
    lua_newtable(L);
    for (int k = 0; fields[k]; k++) {
        lua_pushstring(L, fields[k]);
        lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "__fields");
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
    lnet_createmeta(L, DL_NETWORK, net_meth, n_index, NULL, n_tostring, n_gc);
    lnet_setfields(L, DL_NETWORK, net_fields);
    llayer_open(L);
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
    return 1;
}
