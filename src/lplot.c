/*
 * lplot.c — deltalab.plotcore: what lua/deltalab/plot.lua cannot do in plain
 * Lua. It runs one gnuplot child per figure with all three of its standard
 * streams in our hands, and it formats big matrices as gnuplot data quickly.
 *
 * Why not io.popen: popen gives a write end only, so gnuplot's error messages
 * would go straight to the terminal and a failed plot could not become a Lua
 * error, and a write to a gnuplot that has died raises SIGPIPE, which kills
 * the whole program. Here the child is started with posix_spawnp:
 *   - stdin is one end of a socketpair, written with send(MSG_NOSIGNAL), so a
 *     dead gnuplot shows up as EPIPE, never as a signal;
 *   - stdout and stderr are pipes. After each plot the caller sends
 *     `print '<marker>'` (gnuplot prints to stderr), then sync() reads both
 *     pipes until the marker line arrives: everything before it on stderr is
 *     gnuplot's complaint about this plot, everything on stdout is the picture
 *     of a text terminal (dumb, sixel);
 *   - the child gets its own process group, so the Ctrl-C that the terminal
 *     sends to our group does not kill gnuplot halfway through a picture; we
 *     decide (sync() watches the interrupt flag and kills the child);
 *   - every descriptor is close-on-exec, so figure 2's gnuplot does not
 *     inherit figure 1's pipes (which would keep figure 1's gnuplot from ever
 *     seeing end of file).
 * close() (also __gc and __close) closes stdin — gnuplot exits at end of
 * input — and reaps the child, escalating to SIGTERM and SIGKILL if it does
 * not go within a grace period. So no zombie and no orphan survives a figure.
 */
#define _GNU_SOURCE  /* pipe2, SOCK_CLOEXEC, MSG_NOSIGNAL */
#include "deltalab.h"
#include "core/dl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DL_GNUPLOT "gnuplot process"

extern char **environ;

typedef struct gproc {
    pid_t pid;   /* the child, or 0 once reaped */
    int in;      /* our end of the child's stdin (socket), or -1 */
    int out;     /* read end of the child's stdout pipe, or -1 */
    int err;     /* read end of the child's stderr pipe, or -1 */
    int status;  /* wait status once reaped */
} gproc;

static void closefd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Reap the child: wait up to grace_ms after its stdin was closed, then
 * SIGTERM, then SIGKILL. Safe to call twice. */
static void reap(gproc *g, int grace_ms)
{
    closefd(&g->in);
    closefd(&g->out);
    closefd(&g->err);
    if (g->pid <= 0)
        return;
    int st = 0;
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(g->pid, &st, WNOHANG);
        if (r == g->pid || (r < 0 && errno != EINTR))
            break;
        if (waited == grace_ms)
            kill(g->pid, SIGTERM);
        if (waited >= grace_ms + 500) {
            kill(g->pid, SIGKILL);
            while (waitpid(g->pid, &st, 0) < 0 && errno == EINTR) {}
            break;
        }
        sleep_ms(10);
    }
    g->status = st;
    g->pid = 0;
}

static gproc *checkproc(lua_State *L)
{
    return luaL_checkudata(L, 1, DL_GNUPLOT);
}

/* plotcore.spawn{prog, arg1, ...} → process, or nil, message, errno.
 * The process starts empty (pid 0, no fds) so that __gc is always safe. */
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
    *g = (gproc){ 0, -1, -1, -1, 0 };
    luaL_setmetatable(L, DL_GNUPLOT);

    int sv[2] = { -1, -1 }, po[2] = { -1, -1 }, pe[2] = { -1, -1 };
    int rc = 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
        pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
        rc = errno;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    if (!rc) {
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
        posix_spawn_file_actions_adddup2(&fa, po[1], 1);
        posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
        posix_spawnattr_init(&at);
        sigset_t none, defaults;
        sigemptyset(&none);
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGINT);
        sigaddset(&defaults, SIGPIPE);
        sigaddset(&defaults, SIGTERM);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &defaults);
        posix_spawnattr_setpgroup(&at, 0);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                          POSIX_SPAWN_SETSIGDEF);
        pid_t pid;
        rc = posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv, environ);
        if (!rc)
            g->pid = pid;
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
    }
    closefd(&sv[1]);
    closefd(&po[1]);
    closefd(&pe[1]);
    g->in = sv[0];
    g->out = po[0];
    g->err = pe[0];
    if (rc) {
        reap(g, 0);
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", argv[0], strerror(rc));
        lua_pushinteger(L, rc);
        return 3;
    }
    return 1;
}

/* process:send(text) → true, or nil, message when gnuplot has gone. */
static int p_send(lua_State *L)
{
    gproc *g = checkproc(L);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    if (g->in < 0)
        return luaL_fileresult(L, 0, "gnuplot (closed)");
    while (len > 0) {
        ssize_t w = send(g->in, s, len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return luaL_fileresult(L, 0, "gnuplot");
        }
        s += w;
        len -= (size_t)w;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* Append what is readable on *fd to b; close *fd at end of file. */
static void drain(lua_State *L, luaL_Buffer *b, int *fd)
{
    char buf[4096];
    ssize_t r = read(*fd, buf, sizeof buf);
    if (r > 0)
        luaL_addlstring(b, buf, (size_t)r);
    else if (r == 0 || (errno != EINTR && errno != EAGAIN))
        closefd(fd);
}

/* Is "\n<marker>\n" (or the marker at the very start) in s[0..n)? Returns the
 * offset where the marker line starts, or -1. */
static long find_marker(const char *s, size_t n, const char *mk, size_t mlen)
{
    for (size_t i = 0; i + mlen + 1 <= n; i++) {
        if ((i == 0 || s[i - 1] == '\n') && memcmp(s + i, mk, mlen) == 0 && s[i + mlen] == '\n')
            return (long)i;
    }
    return -1;
}

/*
 * process:sync(marker, timeout_ms) → out, err, state
 * Reads stdout and stderr until a line equal to marker appears on stderr.
 * state is "ok" (marker seen), "dead" (gnuplot exited first: it is reaped and
 * err holds its last words), "timeout" or "interrupted" (then the child is
 * killed, since its state is unknown). Since gnuplot flushes a text terminal's
 * picture before it executes the print that follows the plot, all of stdout is
 * already in the pipe once the marker is.
 */
static int p_sync(lua_State *L)
{
    gproc *g = checkproc(L);
    size_t mlen;
    const char *mk = luaL_checklstring(L, 2, &mlen);
    lua_Integer timeout = luaL_optinteger(L, 3, 60000);
    luaL_Buffer bo, be;
    lua_settop(L, 3);
    /* two buffers on the stack at once: keep them as strings between reads */
    lua_pushliteral(L, "");  /* 4: out so far */
    lua_pushliteral(L, "");  /* 5: err so far */
    const char *state = "dead";
    lua_Integer waited = 0;
    while (g->err >= 0) {
        struct pollfd fds[2] = { { g->err, POLLIN, 0 }, { g->out, POLLIN, 0 } };
        int nf = g->out >= 0 ? 2 : 1;
        int r = poll(fds, (nfds_t)nf, 100);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0) {
            waited += 100;
            if (dl_interrupted()) {
                dl_interrupt_set(0);
                state = "interrupted";
                break;
            }
            if (timeout > 0 && waited >= timeout) {
                state = "timeout";
                break;
            }
            continue;
        }
        if (nf == 2 && fds[1].revents) {
            luaL_buffinit(L, &bo);
            lua_pushvalue(L, 4);
            luaL_addvalue(&bo);
            drain(L, &bo, &g->out);
            luaL_pushresult(&bo);
            lua_replace(L, 4);
        }
        if (fds[0].revents) {
            luaL_buffinit(L, &be);
            lua_pushvalue(L, 5);
            luaL_addvalue(&be);
            drain(L, &be, &g->err);
            luaL_pushresult(&be);
            lua_replace(L, 5);
            size_t n;
            const char *s = lua_tolstring(L, 5, &n);
            long at = find_marker(s, n, mk, mlen);
            if (at >= 0) {
                lua_pushlstring(L, s, (size_t)at);
                lua_replace(L, 5);
                state = "ok";
                break;
            }
        }
    }
    if (strcmp(state, "ok") == 0) {
        /* the picture was flushed before the marker: take what is left */
        while (g->out >= 0) {
            struct pollfd fd = { g->out, POLLIN, 0 };
            if (poll(&fd, 1, 0) <= 0)
                break;
            luaL_buffinit(L, &bo);
            lua_pushvalue(L, 4);
            luaL_addvalue(&bo);
            drain(L, &bo, &g->out);
            luaL_pushresult(&bo);
            lua_replace(L, 4);
        }
    } else {
        if (g->pid > 0 && strcmp(state, "dead") != 0)
            kill(g->pid, SIGKILL);
        reap(g, 200);
    }
    lua_pushstring(L, state);
    return 3;
}

/* process:close() → exit status (or nil if killed by a signal). */
static int p_close(lua_State *L)
{
    gproc *g = checkproc(L);
    int had = g->pid > 0;
    reap(g, 2000);
    if (had && WIFEXITED(g->status))
        lua_pushinteger(L, WEXITSTATUS(g->status));
    else
        lua_pushnil(L);
    return 1;
}

static int p_gc(lua_State *L)
{
    reap(checkproc(L), 2000);
    return 0;
}

static int p_pid(lua_State *L)
{
    gproc *g = checkproc(L);
    if (g->pid <= 0)
        return 0;
    lua_pushinteger(L, g->pid);
    return 1;
}

static int p_alive(lua_State *L)
{
    gproc *g = checkproc(L);
    if (g->pid > 0 && waitpid(g->pid, &g->status, WNOHANG) == g->pid) {
        g->pid = 0;
        closefd(&g->in);
        closefd(&g->out);
        closefd(&g->err);
    }
    lua_pushboolean(L, g->pid > 0);
    return 1;
}

static int p_tostring(lua_State *L)
{
    gproc *g = checkproc(L);
    if (g->pid > 0)
        lua_pushfstring(L, "gnuplot process %d", (int)g->pid);
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
