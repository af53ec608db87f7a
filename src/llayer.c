/*
 * llayer.c — the type "layer": net.layers[l], a window onto one weight layer
 * of a network.
 *
 * A layer userdata holds only its index; its user value is the network, so a
 * layer (and every matrix view it hands out: W, b, dW, db, z, a, delta) keeps
 * the network alive. Those views follow the network (see view_get below):
 * z/a/delta always show the latest batch, whatever its size.
 *
 * layer.delta is the B×n view (one row per sample); layer:delta_of(i) is
 * sample i's δ as the book's n×1 column — two names for two things.
 */
#include "lnetwork.h"

#include <math.h>
#include <string.h>

typedef struct llayer {
    int l;   /* 0-based layer index; the user value is the network */
} llayer;

/* The layer at i; *np (if not NULL) its network, *lp its 0-based index. */
static layer *checklayer(lua_State *L, int i, net **np, int *lp)
{
    llayer *ll = luaL_checkudata(L, i, DL_LAYER);
    lua_getiuservalue(L, i, 1);
    net *n = lnet_check(L, -1);
    lua_pop(L, 1);
    if (np) *np = n;
    if (lp) *lp = ll->l;
    return &n->layers[ll->l];
}

void llayer_push_all(lua_State *L, int netidx, int count)
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

/* The 0-based sample of argument idx (1-based, default 1) of the last batch. */
static int check_sample(lua_State *L, net *n, int idx, const char *fn)
{
    lua_Integer i = luaL_optinteger(L, idx, 1);
    if (n->B < 1)
        luaL_error(L, "%s: no forward pass yet (call net:forward(x) first)", fn);
    if (i < 1 || i > n->B)
        luaL_error(L, "%s: sample %d out of range 1..%d", fn, (int)i, n->B);
    return (int)i - 1;
}

/* ------------------------------------------------- sample i as a column */

static int l_z_of(lua_State *L)
{
    net *n;
    layer *ly = checklayer(L, 1, &n, NULL);
    lnet_push_column(L, ly->z, check_sample(L, n, 2, "layer:z_of"));
    return 1;
}

static int l_a_of(lua_State *L)
{
    net *n;
    layer *ly = checklayer(L, 1, &n, NULL);
    lnet_push_column(L, ly->a, check_sample(L, n, 2, "layer:a_of"));
    return 1;
}

static int l_delta_of(lua_State *L)
{
    net *n;
    layer *ly = checklayer(L, 1, &n, NULL);
    int i = check_sample(L, n, 2, "layer:delta_of");
    if (!n->have_delta)
        return luaL_error(L, "layer:delta_of: no backward pass yet (call net:backward(y) first)");
    lnet_push_column(L, ly->delta, i);
    return 1;
}

/* ∂C/∂a (output: ∇ₐC; hidden: (Wˡ⁺¹)ᵀδˡ⁺¹) for sample i as a column. */
static int l_grad_a(lua_State *L)
{
    net *n;
    int l;
    layer *ly = checklayer(L, 1, &n, &l);
    int i = check_sample(L, n, 2, "layer:grad_a");
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
    int i = check_sample(L, n, 2, "layer:dsigma");
    if (ly->act == DL_SOFTMAX)
        return luaL_error(L, "layer:dsigma: softmax is not element-wise (its Jacobian is "
                          "c·a_i(1[i=j] - a_j))");
    mat *c = dl_newmatrix(L, ly->n_out, 1);
    net_act_grad(n, l, i, c->data);
    return 1;
}

/* ----------------------------------------------- activations, freezing */

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

/* ------------------------------------------------------ fields, printing */

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

/* ---------------------------------------------------- the following views */

/* layer.W, b, dW, db, z, a, delta are following views (dl_pushfollowing):
 * each use re-reads the layer's matrix, so z, a and δ always show the latest
 * batch, whatever its size, and a view taken before the first forward fills
 * in once there is one. Key = 7·l + field. After the network is closed they
 * read as freed matrices instead of pointing into freed memory. */
static const char *const view_fields[] = { "W", "b", "dW", "db", "z", "a", "delta", NULL };
static const char *const view_names[] = { "W", "b", "dW", "db", "z", "a", "δ" };
enum { VIEW_W = 0, VIEW_DW = 2, VIEW_DB = 3 };   /* their indices in view_fields */

static mat view_get(lua_State *L, int owner, int key)
{
    lnet *ln = luaL_testudata(L, owner, DL_NETWORK);
    if (!ln || !ln->n || key / 7 >= ln->n->L)
        return (mat){ 0 };
    if (key % 7 == VIEW_DW || key % 7 == VIEW_DB)
        net_sync_grads(ln->n);   /* dW, db a fused step left stale (net:step, a trainer) */
    if (key % 7 == VIEW_W)
        net_settle_weights(ln->n);   /* W¹'s update a batch-1 net:step left pending */
    layer *ly = &ln->n->layers[key / 7];
    mat views[] = { ly->W, ly->b, ly->dW, ly->db, ly->z, ly->a, ly->delta };
    return views[key % 7];
}

static void view_name(lua_State *L, int key)
{
    lua_pushfstring(L, "layer %d's %s", key / 7 + 1, view_names[key % 7]);
    lua_pushfstring(L, "net.layers[%d].%s", key / 7 + 1, view_fields[key % 7]);
}

static const dl_follow layer_views = { view_get, view_name };

void llayer_push_view(lua_State *L, int netidx, int l, const char *field)
{
    for (int k = 0; view_fields[k]; k++)
        if (strcmp(view_fields[k], field) == 0)
            dl_pushfollowing(L, &layer_views, 7 * l + k, netidx);
}

static const char *const layer_fields[] = {
    "W", "b", "dW", "db", "z", "a", "delta",    /* following matrix views */
    "n_in", "n_out", "activation", "c", "index", "frozen", NULL
};

/* __index is a function, not the methods table, because a layer's fields are
 * computed on each read: n_in, activation, frozen... are read from the core
 * layer, which set_activation and freeze change. Fields come first, then the
 * methods (upvalue 1). */
static int l_index(lua_State *L)
{
    net *n;
    int l;
    layer *ly = checklayer(L, 1, &n, &l);
    const char *const *fields = layer_fields;
    int f = -1;
    if (lua_type(L, 2) == LUA_TSTRING)
        for (int k = 0; fields[k] && f < 0; k++)
            if (strcmp(lua_tostring(L, 2), fields[k]) == 0)
                f = k;
    switch (f) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6:
        lua_getiuservalue(L, 1, 1);          /* the view keeps the network alive */
        dl_pushfollowing(L, &layer_views, 7 * l + f, -1);
        return 1;
    case 7: lua_pushinteger(L, ly->n_in); return 1;
    case 8: lua_pushinteger(L, ly->n_out); return 1;
    case 9: lua_pushstring(L, dl_act_names[ly->act]); return 1;
    case 10: lua_pushnumber(L, ly->c); return 1;
    case 11: lua_pushinteger(L, l + 1); return 1;
    case 12:
        lua_createtable(L, 0, 2);
        lua_pushboolean(L, ly->frozen_W);
        lua_setfield(L, -2, "W");
        lua_pushboolean(L, ly->frozen_b);
        lua_setfield(L, -2, "b");
        return 1;
    default:
        lua_pushvalue(L, 2);
        lua_gettable(L, lua_upvalueindex(1));
        return 1;
    }
}

/* layer.W = m, layer.b = v: copy values in (shapes must match). */
static int l_newindex(lua_State *L)
{
    layer *ly = checklayer(L, 1, NULL, NULL);
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "W") == 0 || strcmp(k, "b") == 0) {
        lua_getiuservalue(L, 1, 1);
        lnet *ln = lnet_checkud(L, -1);
        lnet_keep_before(L, ln, "layer");
        ln->updated = 1;
        lua_pop(L, 1);
    }
    if (strcmp(k, "W") == 0)
        lnet_copy_into(L, 3, ly->W, "layer", "W");
    else if (strcmp(k, "b") == 0)
        lnet_copy_into(L, 3, ly->b, "layer", "b");
    else
        return luaL_error(L, "layer: cannot set '%s' (only W and b can be assigned)", k);
    return 0;
}

static const luaL_Reg layer_meth[] = {
    { "z_of", l_z_of },
    { "a_of", l_a_of },
    { "delta_of", l_delta_of },
    { "grad_a", l_grad_a },
    { "dsigma", l_dsigma },
    { "set_activation", l_set_activation },
    { "activations", l_activations },
    { "freeze", l_freeze },
    { "unfreeze", l_unfreeze },
    { NULL, NULL }
};

void llayer_open(lua_State *L)
{
    lnet_createmeta(L, DL_LAYER, layer_meth, l_index, l_newindex, l_tostring, NULL);
    lnet_setfields(L, DL_LAYER, layer_fields);
}
