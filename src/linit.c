/*
 * linit.c — the one list of deltalab's modules, shared by the deltalab program
 * (src/main.c) and the Lua C module deltalab.so (luaopen_deltalab).
 */
#define _GNU_SOURCE  /* dladdr */
#include "deltalab.h"
#include "largs.h"
#include "core/dl.h"
#include "core/kern.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* C modules, registered in package.preload and opened first, in this order. */
static const luaL_Reg c_modules[] = {
    { "deltalab.matrix", luaopen_deltalab_matrix },
    { "deltalab.network", luaopen_deltalab_network },
    { "deltalab.trainer", luaopen_deltalab_trainer },
    { "deltalab.datacore", luaopen_deltalab_datacore },
    { "deltalab.plotcore", luaopen_deltalab_plotcore },
    { "deltalab.args", luaopen_deltalab_args },
    { "deltalab.sys", luaopen_deltalab_sys },
    { NULL, NULL }
};

/*
 * The Lua modules of lua/deltalab/, required after the C modules, in this
 * order, every one of them at start and outside any pcall: a broken file is an
 * error at start that names it, never a method that quietly goes missing. A
 * module that adds methods to a C type says so in its `extends` table (see
 * add_extensions); help comes last, so it can require any of the others.
 */
static const char *const lua_modules[] = {
    "deltalab.util",
    "deltalab.trace",
    "deltalab.records",
    "deltalab.sweep",
    "deltalab.training",
    "deltalab.data",
    "deltalab.plot",
    "deltalab.cli",
    "deltalab.complete",
    "deltalab.show",
    "deltalab.help",
};

/* What users see: global name and module. */
static const char *const user_modules[][2] = {
    { "matrix", "deltalab.matrix" },
    { "network", "deltalab.network" },
    { "trainer", "deltalab.trainer" },
    { "data", "deltalab.data" },
    { "plot", "deltalab.plot" },
    { "help", "deltalab.help" },
};

static void preload_c_modules(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const luaL_Reg *m = c_modules; m->name; m++) {
        lua_pushcfunction(L, m->func);
        lua_setfield(L, -2, m->name);
    }
    lua_pop(L, 1);
}

/*
 * A package.searchers entry for deltalab's own modules: "deltalab.X" is looked
 * for in the lua/ directory that came with the program (upvalue 1 holds
 * "dir/?.lua;dir/?/init.lua"), so package.path stays exactly what the user or
 * Lua made it (LUA_PATH, LUA_PATH_5_4, ";;"), as in lua5.4. Other names, and
 * deltalab.X not found there, are left to the searchers after it.
 */
static int search_own(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    if (strncmp(name, "deltalab.", 9) != 0)
        return 0;
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchpath");
    lua_pushvalue(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 2, 2);
    if (lua_isnil(L, -2))
        return 1;  /* "no file '...'\n\tno file '...'" */
    lua_pop(L, 1);
    const char *file = lua_tostring(L, -1);
    if (luaL_loadfile(L, file) != LUA_OK)
        return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s",
                          name, file, lua_tostring(L, -1));
    lua_pushstring(L, file);  /* the second argument of the loaded chunk, as Lua's searcher gives */
    return 2;
}

/* Put search_own in package.searchers right after the preload searcher. */
static void add_searcher(lua_State *L, const char *lua_dir)
{
    lua_getglobal(L, "package");
    if (lua_getfield(L, -1, "searchers") != LUA_TTABLE)
        luaL_error(L, "package.searchers is not a table");
    for (lua_Integer i = luaL_len(L, -1); i >= 2; i--) {
        lua_rawgeti(L, -1, i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", lua_dir, lua_dir);
    lua_pushcclosure(L, search_own, 1);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2);
}

static void require(lua_State *L, const char *name)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
}

/* Copy every field of the table at src into the table at dst. */
static void merge(lua_State *L, int dst, int src)
{
    dst = lua_absindex(L, dst);
    src = lua_absindex(L, src);
    lua_pushnil(L);
    while (lua_next(L, src)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, dst);
    }
}

/*
 * The extension convention. A Lua module that adds to C types returns
 *   { extends = { network = {trace = f, ...}, layer = {...}, trainer = {...} },
 *     extends_module = { ["deltalab.trainer"] = {sweep = g, ...} }, ... }
 * where the keys of `extends` are metatable names (luaL_newmetatable's). The
 * methods go into the type's method table: the metatable's __methods (types
 * whose __index is a function keep it there) or else its __index table. The
 * functions of `extends_module` go into that module's table. Same names
 * replace the C ones (trace's gradcheck wraps the C gradcheck).
 */
static void add_extensions(lua_State *L, const char *modname)
{
    int mod = lua_gettop(L);
    if (!lua_istable(L, mod))
        return;
    if (lua_getfield(L, mod, "extends") == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            const char *tname = lua_tostring(L, -2);
            if (lua_type(L, -2) != LUA_TSTRING || !lua_istable(L, -1))
                luaL_error(L, "%s: extends must map type names to tables of methods", modname);
            if (luaL_getmetatable(L, tname) != LUA_TTABLE)
                luaL_error(L, "%s: extends the type '%s', which no C module registered",
                           modname, tname);
            if (lua_getfield(L, -1, "__methods") != LUA_TTABLE) {
                lua_pop(L, 1);
                if (lua_getfield(L, -1, "__index") != LUA_TTABLE)
                    luaL_error(L, "%s: the type '%s' has no table of methods", modname, tname);
            }
            merge(L, -1, -3);
            lua_pop(L, 3);
        }
    }
    lua_pop(L, 1);
    if (lua_getfield(L, mod, "extends_module") == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            if (lua_type(L, -2) != LUA_TSTRING || !lua_istable(L, -1))
                luaL_error(L, "%s: extends_module must map module names to tables", modname);
            require(L, lua_tostring(L, -2));
            if (!lua_istable(L, -1))
                luaL_error(L, "%s: extends the module '%s', which is not a table",
                           modname, lua_tostring(L, -3));
            merge(L, -1, -2);
            lua_pop(L, 2);
        }
    }
    lua_pop(L, 1);
}

/* deltalab.use(isa): make "scalar", "avx2" or "avx512" the active compute kernels and
 * return the name now in use; deltalab.isa (upvalue 1's field) follows. */
static int dl_use(lua_State *L)
{
    static const char *const isas[] = { "scalar", "avx2", "avx512", NULL };
    int i = luaL_checkoption(L, 1, NULL, isas);
    if (kern_use(isas[i]) != 0)
        return luaL_error(L, "isa '%s' is not available on this machine (kernels in use: %s)",
                          isas[i], kern()->isa);
    lua_pushstring(L, kern()->isa);
    lua_pushvalue(L, -1);
    lua_setfield(L, lua_upvalueindex(1), "isa");
    return 1;
}

/* version, isa and use() in the deltalab table on top of the stack. */
static void set_info(lua_State *L)
{
    lua_pushliteral(L, DL_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushstring(L, kern()->isa);
    lua_setfield(L, -2, "isa");
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, dl_use, 1);
    lua_setfield(L, -2, "use");
}

int dl_openlibs(lua_State *L, const char *lua_dir, int globals)
{
    preload_c_modules(L);
    if (lua_dir)
        add_searcher(L, lua_dir);
    for (const luaL_Reg *m = c_modules; m->name; m++) {
        require(L, m->name);
        lua_pop(L, 1);
    }
    for (size_t i = 0; i < sizeof lua_modules / sizeof lua_modules[0]; i++) {
        require(L, lua_modules[i]);
        add_extensions(L, lua_modules[i]);
        lua_pop(L, 1);
    }
    size_t n = sizeof user_modules / sizeof user_modules[0];
    lua_createtable(L, 0, (int)n + 3);
    for (size_t i = 0; i < n; i++) {
        require(L, user_modules[i][1]);
        if (globals) {
            lua_pushvalue(L, -1);
            lua_setglobal(L, user_modules[i][0]);
        }
        lua_setfield(L, -2, user_modules[i][0]);
    }
    set_info(L);
    return 1;
}

/* require "deltalab" from a stock lua5.4: the Lua files sit in lua/ beside
 * deltalab.so in the build tree, or after install (PREFIX/lib/lua/5.4/deltalab.so)
 * in PREFIX/share/lua/5.4, found from the .so's place under any PREFIX or DESTDIR. */
int luaopen_deltalab(lua_State *L)
{
    static const char *const beside[] = { "/lua", "/../../../share/lua/5.4" };
    char dir[4096] = "", probe[4200];
    Dl_info info;
    if (dladdr((void *)luaopen_deltalab, &info) && info.dli_fname) {
        const char *slash = strrchr(info.dli_fname, '/');
        int len = slash ? (int)(slash - info.dli_fname) : 1;
        for (size_t i = 0; i < sizeof beside / sizeof beside[0]; i++) {
            snprintf(dir, sizeof dir, "%.*s%s", len, slash ? info.dli_fname : ".", beside[i]);
            snprintf(probe, sizeof probe, "%s/deltalab/help.lua", dir);
            if (access(probe, R_OK) == 0)
                break;
            dir[0] = '\0';
        }
    }
    return dl_openlibs(L, dir[0] ? dir : NULL, 0);
}
