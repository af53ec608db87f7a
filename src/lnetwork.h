/*
 * lnetwork.h — what the three files of the network binding share:
 *
 *   lnetwork.c   the type "network" and the module deltalab.network
 *   llayer.c     the type "layer" (net.layers[l]) and its views
 *   lnetconv.c   Lua values (matrices, tables, labels) into the network's
 *                input, targets and parameters
 *
 * Other bindings reach a network through dl_checknet (deltalab.h) only.
 */
#ifndef LNETWORK_H
#define LNETWORK_H

#include "deltalab.h"
#include "core/net.h"

/* Metatable names: the words users read ("network expected, got number"). */
#define DL_NETWORK "network"
#define DL_LAYER "layer"

/* A network userdata; its user value is the table of its layers. */
/* A network userdata; its user value is the table of its layers. Besides the
 * core net it keeps what net:snapshot() needs to show one step as one moment:
 * the parameters the last forward used, when an update came after it. */
typedef struct lnet {
    net *n;          /* NULL until built, and after close */
    float *before;   /* (n_params) W¹ b¹ … as the last forward used them; NULL until needed */
    int updated;     /* net:step/net:update changed W, b since the last forward */
    int foreign;     /* a trainer changed W, b since the last forward: before unknown */
    int have_cost;   /* cost is the cost of the last forward's batch */
    double cost;
    int warned_nan;  /* net:step has said once that the cost is not finite */
    int snapshots;   /* net:snapshot has been called: keep W, b before every update */
    int unkept;      /* an update since the last forward did not keep W, b (see lnet_keep_before) */
} lnet;

/* The core net of the network at index i (raises for another value or a
 * closed network). */
net *lnet_check(lua_State *L, int i);
/* The same, with the userdata (for the snapshot bookkeeping). */
lnet *lnet_checkud(lua_State *L, int i);
/* Before W or b change after a forward (an update, layer.W = ...): keep them
 * as that forward used them for net:snapshot, and mark the network updated. */
void lnet_keep_before(lua_State *L, lnet *ln, const char *fn);

/* Raise "fn: <what status s means>" for a failed core call. */
int lnet_status_error(lua_State *L, const char *fn, dl_status s);

/* A metatable name whose __index function serves fields first, then the
 * methods table meth; the methods table is also its "__methods" (help and
 * Tab completion list it). newindex and gc may be NULL. Leaves nothing. */
void lnet_createmeta(lua_State *L, const char *name, const luaL_Reg *meth,
                     lua_CFunction index, lua_CFunction newindex, lua_CFunction tostr,
                     lua_CFunction gc);
/* Give the metatable name a "__fields" list of the computed field names
 * (NULL-terminated), for Tab completion. */
void lnet_setfields(lua_State *L, const char *name, const char *const *fields);

/* ---- lnetconv.c */

/* Copy the matrix or (nested) table at idx into dst; what names the target
 * in errors ("init[1].W"). */
void lnet_copy_into(lua_State *L, int idx, mat dst, const char *fn, const char *what);
/* Put the input at idx into the workspace as a⁰ (a B×n⁰ matrix, an n⁰×1
 * column, a table of n⁰ numbers or of B rows). */
void lnet_set_input(lua_State *L, net *n, int idx, const char *fn);
/* The targets at idx for the last forward, in the workspace (a label, a
 * matrix, a column, labels, a table of numbers or of rows). */
mat lnet_get_target(lua_State *L, net *n, int idx, const char *fn);
/* Push row i (0-based) of m as a new n×1 column, the book's vectors. */
void lnet_push_column(lua_State *L, mat m, int i);

/* ---- llayer.c */

/* Register the layer metatable (once, by the module's opener). */
void llayer_open(lua_State *L);
/* Give the network userdata at netidx its table of count layers. */
void llayer_push_all(lua_State *L, int netidx, int count);
/* Push the following view field ("W", ..., "a", "delta") of layer l (0-based)
 * of the network at netidx. */
void llayer_push_view(lua_State *L, int netidx, int l, const char *field);

#endif
