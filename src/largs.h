/*
 * largs.h — argument and option checks shared by every binding.
 *
 * One wording for every function of deltalab (the Lua modules reach the same
 * code through deltalab.args, see lua/deltalab/util.lua):
 *
 *   matrix.randn: unknown option 'sead' (did you mean 'seed'? expected one of seed, mean, std)
 *   trainer: option 'lr' must be a number, got string
 *   network: invalid activation 'sigmod' (did you mean 'sigmoid'? expected one of ...)
 *
 * fn is the name users typed ("matrix.randn", "network:step", "trainer"). Name
 * lists are NULL-terminated arrays, the core's own where it has one
 * (dl_act_names, ...), so the messages cannot drift from what the core accepts.
 * Every function here raises (never returns) on a bad value.
 */
#ifndef LARGS_H
#define LARGS_H

#include <lua.h>
#include <lauxlib.h>

/* The closest of names to s when it is a plausible typo (edit distance at
 * most 2, and less than half of s), else NULL. */
const char *dl_closest(const char *s, const char *const names[]);

/* Whether an options table is at idx: 0 for none or nil, 1 for a table; any
 * other value raises "fn: options must be a table like {...}, got T". */
int dl_isopts(lua_State *L, int idx, const char *fn);

/* Raise on a key of the table at idx that is neither one of names nor an
 * integer 1..npos (the positional part of constructors like network{2, 3, 1}). */
void dl_checkoptions(lua_State *L, int idx, const char *fn, const char *const names[],
                     lua_Integer npos);

/* Push the message dl_checkoptions would raise and return it, or return NULL
 * (nothing pushed) when every key is known. */
const char *dl_pushunknownoption(lua_State *L, int idx, const char *fn,
                                 const char *const names[], lua_Integer npos);

/* Typed readers of field key of the options table at idx (which may be
 * absent: every reader then returns def). */
lua_Number dl_optnumber(lua_State *L, int idx, const char *fn, const char *key, lua_Number def);
lua_Integer dl_optinteger(lua_State *L, int idx, const char *fn, const char *key,
                          lua_Integer def, lua_Integer min, lua_Integer max);
int dl_optboolean(lua_State *L, int idx, const char *fn, const char *key, int def);
const char *dl_optstring(lua_State *L, int idx, const char *fn, const char *key, const char *def);

/* luaL_checkoption for a field: the index in names of field key (def when the
 * field is absent; def < 0 makes it required). what names the kind of value
 * in the message ("activation", "cost"). */
int dl_optchoice(lua_State *L, int idx, const char *fn, const char *key, const char *what,
                 const char *const names[], int def);

/* luaL_checkoption for the value at stack index i (an argument or a value
 * read from a table), with the same message and did-you-mean. */
int dl_checkchoice(lua_State *L, int i, const char *fn, const char *what,
                   const char *const names[]);

/* Opener of deltalab.args: unknown_option(opts, fn, names [, npos]) and
 * closest(s, names) for the Lua modules. */
int luaopen_deltalab_args(lua_State *L);

#endif
