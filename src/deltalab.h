/*
 * deltalab.h — what the Lua bindings share: the module openers and the
 * matrix userdata's C interface, so that lnetwork.c can hand out views of its
 * weights and ldata.c can return matrices without knowing lmatrix.c's insides.
 */
#ifndef DELTALAB_H
#define DELTALAB_H

#include <lua.h>
#include <lauxlib.h>

#include "core/mat.h"

/* The metatable name is the word users read in errors ("matrix expected"). */
#define DL_MATRIX "matrix"

/* Openers of the C modules, preloaded as "deltalab.<name>". */
int luaopen_deltalab_matrix(lua_State *L);
int luaopen_deltalab_network(lua_State *L);
int luaopen_deltalab_trainer(lua_State *L);
int luaopen_deltalab_datacore(lua_State *L);
int luaopen_deltalab_plotcore(lua_State *L);
int luaopen_deltalab_sys(lua_State *L);

/* The network userdata at index i (raises "network expected, got ..."),
 * for bindings that train or evaluate a network (ltrainer.c). */
struct net;
struct net *dl_checknet(lua_State *L, int i);
/* Tell the network at index i that a trainer is about to run it (change its
 * parameters, fill its workspace with other batches), so net:snapshot says it
 * cannot show the W, b of the last forward instead of showing other ones. */
void dl_net_changed(lua_State *L, int i);
/* Push a new network userdata that takes *n over (a trainer's checkpoint
 * brings its network back this way): *n is set to NULL once the userdata
 * owns it, so that on an error raised here exactly one of them frees it. */
void dl_pushnet(lua_State *L, struct net **n);

/* The entry point of deltalab.so for require "deltalab". */
int luaopen_deltalab(lua_State *L);

/* Preload every module, extend package.path with lua_dir (may be NULL), and
 * leave the table {matrix=, network=, trainer=, data=, plot=, help=} on the
 * stack. With globals != 0 also set each as a global (the REPL and scripts). */
int dl_openlibs(lua_State *L, const char *lua_dir, int globals);

/* The file name at index i: a string without zero bytes (a C file name would
 * end at the first one and quietly name another file). */
const char *dl_checkpath(lua_State *L, int i);

/* The matrix at index i (raises "matrix expected" or "attempt to use a freed matrix"). */
mat *dl_checkmatrix(lua_State *L, int i);
/* The matrix at index i, or NULL if it is not a (live) matrix. */
mat *dl_testmatrix(lua_State *L, int i);
/* Push a new zeroed rows×cols matrix that owns its memory (raises on bad
 * sizes or out of memory). */
mat *dl_newmatrix(lua_State *L, int rows, int cols);
/* Push a matrix that views memory owned by the value at stack index owner,
 * which it keeps alive for as long as the view lives. */
mat *dl_pushview(lua_State *L, mat view, int owner);

/* How a following view finds its matrix again: get returns the owner's
 * current matrix number `key` (data NULL once the owner is closed); name
 * pushes what it is called in messages ("layer 2's δ") and then how to read
 * it again ("net.layers[2].delta"). */
typedef struct dl_follow {
    mat (*get)(lua_State *L, int owner, int key);
    void (*name)(lua_State *L, int key);
} dl_follow;

/* Push a view of the owner's matrix `key` that re-reads it at every use, so
 * it follows the owner when that matrix moves or changes shape (a network's
 * workspace when the batch size changes). Views made from it (rows, slices,
 * reshapes) point into it and raise, naming it, once its shape has changed. */
mat *dl_pushfollowing(lua_State *L, const dl_follow *f, int key, int owner);

#endif
