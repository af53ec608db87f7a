/*
 * lplot.c — deltalab.plotcore: what lua/deltalab/plot/ cannot do in plain
 * Lua. A "gnuplot process" userdata over the core's child-process manager
 * (src/core/proc.h: why not popen, pipes, markers, TERM/KILL), and fast
 * formatting of big matrices as gnuplot data.
 *
 * The protocol, seen from Lua: p:send(commands) writes them; the caller then
 * sends `print '<marker>'` (gnuplot prints to stderr) and p:sync(marker)
 * reads both streams until the marker line arrives: everything before it on
 * stderr is gnuplot's complaint about this plot, everything on stdout the
 * picture of a text terminal (dumb, sixel).
 */
#include "deltalab.h"
#include "core/dl.h"
#include "core/proc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#define DL_GNUPLOT "gnuplot process"

/* The process and the buffers its replies are read into: owned by the
 * userdata, so a Lua error between reading and pushing leaks nothing. */
typedef struct gproc {
    proc p;
    proc_buf out, err;
} gproc;

static gproc *checkproc(lua_State *L)
{
    return luaL_checkudata(L, 1, DL_GNUPLOT);
}

/* What a failed send or sync was, in the words plot.lua tests for. Reporting
 * an interruption clears the flag (see dl.h). */
static const char *state_of(dl_status s)
{
    if (s == DL_INTERRUPTED) {
        dl_interrupt_set(0);
        return "interrupted";
    }
    if (s == DL_EIO && errno == ETIMEDOUT)
        return "timeout";
    return "dead";
}

/* plotcore.spawn{prog, arg1, ...} → process, or nil, message, errno. */
static int p_spawn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int n = (int)luaL_len(L, 1);
    luaL_argcheck(L, n >= 1 && n < 64, 1, "expected {program, args...}");
    const char *argv[64];
    for (int i = 0; i < n; i++) {
        lua_geti(L, 1, i + 1);
        argv[i] = luaL_checkstring(L, -1);  /* stays alive: it is in the table */
        lua_pop(L, 1);
    }
    argv[n] = NULL;
    gproc *g = lua_newuserdatauv(L, sizeof *g, 0);
    proc_init(&g->p);
    g->out = g->err = (proc_buf){ NULL, 0, 0 };
    luaL_setmetatable(L, DL_GNUPLOT);
    char msg[256];
    if (proc_spawn(&g->p, argv, msg, sizeof msg) != DL_OK) {
        int e = errno;
        lua_pushnil(L);
        lua_pushstring(L, msg);
        lua_pushinteger(L, e);
        return 3;
    }
    return 1;
}

/* process:send(text [, timeout_ms]) → true, or nil, message, state
 * ("dead", "timeout" or "interrupted"; after the last two the child is gone). */
static int p_send(lua_State *L)
{
    gproc *g = checkproc(L);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    int timeout = (int)luaL_optinteger(L, 3, 60000);
    char msg[256];
    dl_status st = proc_send(&g->p, s, len, timeout, msg, sizeof msg);
    if (st == DL_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, msg);
    lua_pushstring(L, state_of(st));
    return 3;
}

/* process:sync(marker [, timeout_ms]) → out, err, state: state is "ok" (the
 * marker arrived), "dead" (gnuplot exited first: it is reaped and err holds
 * its last words), "timeout" or "interrupted" (then the child is killed). */
static int p_sync(lua_State *L)
{
    gproc *g = checkproc(L);
    const char *mk = luaL_checkstring(L, 2);
    int timeout = (int)luaL_optinteger(L, 3, 60000);
    char msg[256];
    dl_status st = proc_reply(&g->p, mk, timeout, &g->out, &g->err, msg, sizeof msg);
    if (st == DL_ENOMEM)
        return luaL_error(L, "gnuplot: %s", msg);
    lua_pushlstring(L, g->out.data ? g->out.data : "", g->out.len);
    lua_pushlstring(L, g->err.data ? g->err.data : "", g->err.len);
    lua_pushstring(L, st == DL_OK ? "ok" : state_of(st));
    return 3;
}

/* process:close() → exit status (or nil if killed by a signal or not running). */
static int p_close(lua_State *L)
{
    gproc *g = checkproc(L);
    int st = proc_close(&g->p, 2000);
    if (st >= 0 && WIFEXITED(st))
        lua_pushinteger(L, WEXITSTATUS(st));
    else
        lua_pushnil(L);
    return 1;
}

static int p_gc(lua_State *L)
{
    gproc *g = checkproc(L);
    proc_close(&g->p, 2000);
    proc_buf_free(&g->out);
    proc_buf_free(&g->err);
    return 0;
}

static int p_pid(lua_State *L)
{
    gproc *g = checkproc(L);
    if (g->p.pid <= 0)
        return 0;
    lua_pushinteger(L, g->p.pid);
    return 1;
}

static int p_alive(lua_State *L)
{
    lua_pushboolean(L, proc_alive(&checkproc(L)->p));
    return 1;
}

static int p_tostring(lua_State *L)
{
    gproc *g = checkproc(L);
    if (g->p.pid > 0)
        lua_pushfstring(L, "gnuplot process %d", (int)g->p.pid);
    else
        lua_pushliteral(L, "gnuplot process (closed)");
    return 1;
}

/*
 * plotcore.format(m [, scale]) → text: one line per row, values separated by
 * spaces, "%.7g" (a float has 7 significant digits, so nothing is lost), each
 * value times scale (default 1). Row i of m is line i. This is the body of a
 * gnuplot datablock for `matrix with image` or `splot ... matrix`.
 */
static int p_format(lua_State *L)
{
    mat *m = dl_checkmatrix(L, 1);
    double scale = luaL_optnumber(L, 2, 1.0);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < m->rows; i++) {
        const float *row = mat_at(*m, i, 0);
        for (int j = 0; j < m->cols; j++) {
            char *p = luaL_prepbuffsize(&b, 32);
            int k = snprintf(p, 32, j ? " %.7g" : "%.7g", row[j] * scale);
            luaL_addsize(&b, (size_t)k);
        }
        luaL_addchar(&b, '\n');
    }
    luaL_pushresult(&b);
    return 1;
}

/* plotcore.values(m) → {m[1][1], m[1][2], ..., m[r][c]} row by row. */
static int p_values(lua_State *L)
{
    mat *m = dl_checkmatrix(L, 1);
    lua_createtable(L, m->rows * m->cols, 0);
    lua_Integer k = 1;
    for (int i = 0; i < m->rows; i++)
        for (int j = 0; j < m->cols; j++) {
            lua_pushnumber(L, *mat_at(*m, i, j));
            lua_rawseti(L, -2, k++);
        }
    return 1;
}

/* plotcore.shape(x) → rows, cols if x is a live matrix, else nothing. */
static int p_shape(lua_State *L)
{
    mat *m = dl_testmatrix(L, 1);
    if (!m)
        return 0;
    lua_pushinteger(L, m->rows);
    lua_pushinteger(L, m->cols);
    return 2;
}

static const luaL_Reg meth[] = {
    { "send", p_send },
    { "sync", p_sync },
    { "close", p_close },
    { "pid", p_pid },
    { "alive", p_alive },
    { NULL, NULL }
};

static const luaL_Reg metameth[] = {
    { "__index", NULL },  /* set to meth below */
    { "__gc", p_gc },
    { "__close", p_gc },
    { "__tostring", p_tostring },
    { NULL, NULL }
};

static const luaL_Reg funcs[] = {
    { "spawn", p_spawn },
    { "format", p_format },
    { "values", p_values },
    { "shape", p_shape },
    { NULL, NULL }
};

static void createmeta(lua_State *L)
{
    luaL_newmetatable(L, DL_GNUPLOT);
    luaL_setfuncs(L, metameth, 0);
    luaL_newlibtable(L, meth);
    luaL_setfuncs(L, meth, 0);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

int luaopen_deltalab_plotcore(lua_State *L)
{
    luaL_newlib(L, funcs);
    createmeta(L);
    return 1;
}
