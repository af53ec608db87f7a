/*
 * main.c — the deltalab program: the REPL and the script runner.
 * (Minimal first version: scripts, -e, stdin; the full REPL comes next.)
 */
#define _GNU_SOURCE
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "deltalab.h"

#ifndef DL_LUADIR
#define DL_LUADIR "/usr/local/share/lua/5.4"
#endif

/* lua/ beside the executable (the source tree), or one level up (a build in
 * a subdirectory such as build-asan/), else the install location compiled in. */
static const char *find_lua_dir(char *buf, size_t size)
{
    static const char *const rel[] = { "/lua", "/../lua" };
    char exe[PATH_MAX - 16];  /* leaves room for the suffixes in buf */
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        for (size_t i = 0; slash && i < sizeof rel / sizeof rel[0]; i++) {
            char probe[PATH_MAX + 32];
            snprintf(buf, size, "%s%s", exe, rel[i]);
            snprintf(probe, sizeof probe, "%s/deltalab/help.lua", buf);
            if (access(probe, R_OK) == 0)
                return buf;
        }
    }
    return DL_LUADIR;
}

static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static int report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        fprintf(stderr, "deltalab: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    return status;
}

static int docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    int status = lua_pcall(L, narg, nres, base);
    lua_remove(L, base);
    return status;
}

static int pmain(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = lua_touserdata(L, 2);
    char dir[PATH_MAX];
    luaL_openlibs(L);
    dl_openlibs(L, find_lua_dir(dir, sizeof dir), 1);
    lua_pop(L, 1);
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (strcmp(argv[i], "-e") == 0 && i + 1 < argc) {
            i++;
            if (report(L, luaL_loadstring(L, argv[i]) || docall(L, 0, 0)) != LUA_OK)
                return lua_pushboolean(L, 0), 1;
        } else {
            break;
        }
    }
    const char *script = i < argc ? argv[i] : "-";
    lua_createtable(L, argc, 1);
    for (int k = 0; k < argc; k++) {
        lua_pushstring(L, argv[k]);
        lua_rawseti(L, -2, k - i);
    }
    lua_setglobal(L, "arg");
    int n = 0;
    for (int k = i + 1; k < argc; k++, n++)
        lua_pushstring(L, argv[k]);
    int status = luaL_loadfile(L, strcmp(script, "-") == 0 ? NULL : script);
    if (status == LUA_OK) {
        lua_insert(L, -(n + 1));
        status = docall(L, n, 0);
    } else {
        lua_pop(L, n);
    }
    lua_pushboolean(L, report(L, status) == LUA_OK);
    return 1;
}

int main(int argc, char **argv)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "deltalab: cannot create Lua state: not enough memory\n");
        return 1;
    }
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = lua_pcall(L, 2, 1, 0);
    int ok = lua_toboolean(L, -1);
    report(L, status);
    lua_close(L);
    return status == LUA_OK && ok ? 0 : 1;
}
