/* largs.c — argument and option checks shared by every binding (see largs.h). */
#include "largs.h"

#include <string.h>

/* Levenshtein distance of a and b, capped: anything above cap is cap + 1
 * (names are short; a typo is one or two edits away). */
static size_t edit_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > cap)
        return cap + 1;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb] > cap ? cap + 1 : row[lb];
}

const char *dl_closest(const char *s, const char *const names[])
{
    size_t len = strlen(s), cap = len / 2 < 2 ? len / 2 : 2;
    const char *best = NULL;
    size_t best_d = cap + 1;
    for (int i = 0; names[i]; i++) {
        size_t d = edit_distance(s, names[i], cap);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}

/* Push "(did you mean 'x'? expected one of a, b, c)" for the word s. */
static void push_expected(lua_State *L, const char *s, const char *const names[])
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '(');
    const char *near = s ? dl_closest(s, names) : NULL;
    if (near) {
        luaL_addstring(&b, "did you mean '");
        luaL_addstring(&b, near);
        luaL_addstring(&b, "'? ");
    }
    luaL_addstring(&b, names[0] && names[1] ? "expected one of " : "expected ");
    for (int i = 0; names[i]; i++) {
        luaL_addstring(&b, i ? ", " : "");
        luaL_addstring(&b, names[i]);
    }
    if (!names[0])
        luaL_addstring(&b, "no options");
    luaL_addchar(&b, ')');
    luaL_pushresult(&b);
}

int dl_isopts(lua_State *L, int idx, const char *fn)
{
    if (lua_isnoneornil(L, idx))
        return 0;
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: options must be a table like {name = value}, got %s", fn,
                   luaL_typename(L, idx));
    return 1;
}

/* Whether the key on top of the stack is one of names or an integer 1..npos. */
static int known_key(lua_State *L, const char *const names[], lua_Integer npos)
{
    if (lua_type(L, -1) == LUA_TNUMBER) {
        lua_Integer k;
        return lua_isinteger(L, -1) && (k = lua_tointeger(L, -1)) >= 1 && k <= npos;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        return 0;
    for (int i = 0; names[i]; i++)
        if (strcmp(lua_tostring(L, -1), names[i]) == 0)
            return 1;
    return 0;
}

const char *dl_pushunknownoption(lua_State *L, int idx, const char *fn,
                                 const char *const names[], lua_Integer npos)
{
    if (!lua_istable(L, idx))
        return NULL;
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (known_key(L, names, npos))
            continue;
        int is_name = lua_type(L, -1) == LUA_TSTRING;
        const char *key = is_name ? lua_tostring(L, -1)
                                  : lua_pushfstring(L, "[%s]", luaL_tolstring(L, -1, NULL));
        push_expected(L, is_name ? key : NULL, names);
        return lua_pushfstring(L, "%s: unknown option '%s' %s", fn, key, lua_tostring(L, -1));
    }
    return NULL;
}

void dl_checkoptions(lua_State *L, int idx, const char *fn, const char *const names[],
                     lua_Integer npos)
{
    if (dl_pushunknownoption(L, idx, fn, names, npos))
        lua_error(L);
}

/* Push field key of the table at idx (nil when there is no table) and return its type. */
static int get_option(lua_State *L, int idx, const char *key)
{
    if (!lua_istable(L, idx)) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    return lua_getfield(L, idx, key);
}

static int option_type_error(lua_State *L, const char *fn, const char *key, const char *want)
{
    return luaL_error(L, "%s: option '%s' must be %s, got %s", fn, key, want,
                      luaL_typename(L, -1));
}

lua_Number dl_optnumber(lua_State *L, int idx, const char *fn, const char *key, lua_Number def)
{
    int t = get_option(L, idx, key);
    if (t != LUA_TNIL && t != LUA_TNUMBER)
        option_type_error(L, fn, key, "a number");
    lua_Number v = t == LUA_TNIL ? def : lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

lua_Integer dl_optinteger(lua_State *L, int idx, const char *fn, const char *key,
                          lua_Integer def, lua_Integer min, lua_Integer max)
{
    int t = get_option(L, idx, key);
    lua_Integer v = def;
    if (t != LUA_TNIL) {
        int isint = 0;
        v = lua_tointegerx(L, -1, &isint);
        if (!isint && t == LUA_TNUMBER)
            luaL_error(L, "%s: option '%s' must be an integer, got %s", fn, key,
                       lua_tostring(L, -1));
        if (!isint)
            option_type_error(L, fn, key, "an integer");
        if (v < min || v > max)
            luaL_error(L, "%s: option '%s' must be an integer from %I to %I, got %I", fn, key,
                       min, max, v);
    }
    lua_pop(L, 1);
    return v;
}

int dl_optboolean(lua_State *L, int idx, const char *fn, const char *key, int def)
{
    int t = get_option(L, idx, key);
    if (t != LUA_TNIL && t != LUA_TBOOLEAN)
        option_type_error(L, fn, key, "true or false");
    int v = t == LUA_TNIL ? def : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* The string stays valid while the options table holds it. */
const char *dl_optstring(lua_State *L, int idx, const char *fn, const char *key, const char *def)
{
    int t = get_option(L, idx, key);
    if (t != LUA_TNIL && t != LUA_TSTRING)
        option_type_error(L, fn, key, "a string");
    const char *v = t == LUA_TNIL ? def : lua_tostring(L, -1);
    lua_pop(L, 1);
    return v;
}

int dl_checkchoice(lua_State *L, int i, const char *fn, const char *what,
                   const char *const names[])
{
    if (lua_type(L, i) != LUA_TSTRING)
        return luaL_error(L, "%s: %s must be a string, got %s", fn, what, luaL_typename(L, i));
    const char *s = lua_tostring(L, i);
    for (int k = 0; names[k]; k++)
        if (strcmp(s, names[k]) == 0)
            return k;
    push_expected(L, s, names);
    return luaL_error(L, "%s: invalid %s '%s' %s", fn, what, s, lua_tostring(L, -1));
}

int dl_optchoice(lua_State *L, int idx, const char *fn, const char *key, const char *what,
                 const char *const names[], int def)
{
    int t = get_option(L, idx, key);
    if (t == LUA_TNIL && def < 0)
        luaL_error(L, "%s: option '%s' is required", fn, key);
    int v = t == LUA_TNIL ? def : dl_checkchoice(L, -1, fn, what, names);
    lua_pop(L, 1);
    return v;
}

/* ---- deltalab.args: the same checks for the Lua modules ------------------ */

/* The strings of the Lua array at idx as a NULL-terminated C array, in a
 * userdata pushed on the stack (the strings stay anchored by the table). */
static const char **push_name_array(lua_State *L, int idx)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer n = luaL_len(L, idx);
    luaL_argcheck(L, n >= 0 && n < 4096, idx, "too many names");
    const char **names = lua_newuserdatauv(L, sizeof *names * (size_t)(n + 1), 0);
    for (lua_Integer k = 1; k <= n; k++) {
        lua_geti(L, idx, k);
        names[k - 1] = lua_tostring(L, -1);
        luaL_argcheck(L, names[k - 1] != NULL, idx, "names must be strings");
        lua_pop(L, 1);
    }
    names[n] = NULL;
    return names;
}

/* args.unknown_option(opts, fn, names [, npos]) -> message or nil */
static int args_unknown_option(lua_State *L)
{
    const char *fn = luaL_checkstring(L, 2);
    lua_Integer npos = luaL_optinteger(L, 4, 0);
    const char **names = push_name_array(L, 3);
    if (!dl_pushunknownoption(L, 1, fn, names, npos))
        lua_pushnil(L);
    return 1;
}

/* args.closest(s, names) -> the near name or nil */
static int args_closest(lua_State *L)
{
    const char *s = luaL_checkstring(L, 1);
    const char *near = dl_closest(s, push_name_array(L, 2));
    if (near)
        lua_pushstring(L, near);
    else
        lua_pushnil(L);
    return 1;
}

int luaopen_deltalab_args(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "unknown_option", args_unknown_option },
        { "closest", args_closest },
        { NULL, NULL }
    };
    luaL_newlib(L, funcs);
    return 1;
}
