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

/* C modules, registered in package.preload. */
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

/* What users see, in load order: global name and module to require. The Lua
 * modules (help, data, plot) live in lua/deltalab/. */
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

/* package.path = lua_dir/?.lua;lua_dir/?/init.lua;<old path> */
static void prepend_lua_path(lua_State *L, const char *lua_dir)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    const char *old = lua_tostring(L, -1);
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", lua_dir, lua_dir, old ? old : "");
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
}

/* deltalab.use(isa): make "scalar" or "avx2" the active compute kernels and
 * return the name now in use; deltalab.isa (upvalue 1's field) follows. */
static int dl_use(lua_State *L)
{
    static const char *const isas[] = { "scalar", "avx2", NULL };
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
        prepend_lua_path(L, lua_dir);
    size_t n = sizeof user_modules / sizeof user_modules[0];
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        lua_getglobal(L, "require");
        lua_pushstring(L, user_modules[i][1]);
        lua_call(L, 1, 1);
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
