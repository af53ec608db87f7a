/*
 * lsys.c — deltalab.sys: what the Lua modules ask of the operating system and
 * of the build, in one place (a clock, terminals, the process id, the Ctrl-C
 * flag, whether a display is reachable, the machine's description).
 *
 *     > sys = require "deltalab.sys"
 *     > sys.isatty(io.stdout), sys.display()
 *     true    false
 */
#include "deltalab.h"
#include "core/dl.h"
#include "core/kern.h"
#include "core/threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* sys.clock() → seconds on a monotonic clock (wall time, unlike os.clock,
 * which adds up the CPU time of every thread). */
static int sys_clock(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
    return 1;
}

/* sys.isatty(f) → whether f, an open io file or a descriptor number, is a terminal. */
static int sys_isatty(lua_State *L)
{
    int fd;
    luaL_Stream *s = luaL_testudata(L, 1, LUA_FILEHANDLE);
    if (s) {
        if (!s->closef)
            return luaL_argerror(L, 1, "attempt to use a closed file");
        fd = fileno(s->f);
    } else if (lua_isinteger(L, 1)) {
        fd = (int)lua_tointeger(L, 1);
    } else {
        return luaL_typeerror(L, 1, "file or integer");
    }
    lua_pushboolean(L, fd >= 0 && isatty(fd));
    return 1;
}

static int sys_getpid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)getpid());
    return 1;
}

/* sys.interrupted() → whether Ctrl-C was pressed and not yet reported. */
static int sys_interrupted(lua_State *L)
{
    lua_pushboolean(L, dl_interrupted());
    return 1;
}

static int sys_clear_interrupt(lua_State *L)
{
    dl_interrupt_set(0);
    return 0;
}

/* sys.interrupt() raises the flag as Ctrl-C does (tests use it to interrupt
 * a training run at a known batch). */
static int sys_interrupt(lua_State *L)
{
    dl_interrupt_set(1);
    return 0;
}

static int nonempty_env(const char *name)
{
    const char *v = getenv(name);
    return v && v[0];
}

/* sys.display() → whether a graphical display is reachable (DISPLAY or
 * WAYLAND_DISPLAY set and not empty). */
static int sys_display(lua_State *L)
{
    lua_pushboolean(L, nonempty_env("DISPLAY") || nonempty_env("WAYLAND_DISPLAY"));
    return 1;
}

/* sys.info() → {version =, isa =, threads =}: what a record of a run notes
 * about the program that made it. */
static int sys_info(lua_State *L)
{
    lua_createtable(L, 0, 3);
    lua_pushliteral(L, DL_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushstring(L, kern()->isa);
    lua_setfield(L, -2, "isa");
    lua_pushinteger(L, dl_threads());
    lua_setfield(L, -2, "threads");
    return 1;
}

static const luaL_Reg funcs[] = {
    { "clock", sys_clock },
    { "isatty", sys_isatty },
    { "getpid", sys_getpid },
    { "interrupted", sys_interrupted },
    { "clear_interrupt", sys_clear_interrupt },
    { "interrupt", sys_interrupt },
    { "display", sys_display },
    { "info", sys_info },
    { NULL, NULL }
};

int luaopen_deltalab_sys(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
