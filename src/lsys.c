/*
 * lsys.c — deltalab.sys: what the Lua modules ask of the operating system and
 * of the build, in one place (a clock, terminals, the process id, the Ctrl-C
 * flag, whether a display is reachable, the machine's description).
 *
 *     > sys = require "deltalab.sys"
 *     > sys.isatty(io.stdout), sys.display()
 *     true    false
 */
#define _GNU_SOURCE  /* F_DUPFD_CLOEXEC, O_CLOEXEC, gethostname */
#include "deltalab.h"
#include "largs.h"
#include "core/dl.h"
#include "core/kern.h"
#include "core/save.h"
#include "core/threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

/* sys.clock() → seconds on a monotonic clock (wall time, unlike os.clock,
 * which adds up the CPU time of every thread). */
static int sys_clock(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
    return 1;
}

/* The descriptor of argument 1: an open io file or a descriptor number. */
static int check_fd(lua_State *L)
{
    luaL_Stream *s = luaL_testudata(L, 1, LUA_FILEHANDLE);
    if (s) {
        if (!s->closef)
            return luaL_argerror(L, 1, "attempt to use a closed file");
        return fileno(s->f);
    }
    if (lua_isinteger(L, 1))
        return (int)lua_tointeger(L, 1);
    return luaL_typeerror(L, 1, "file or integer");
}

/* sys.isatty(f) → whether f, an open io file or a descriptor number, is a terminal. */
static int sys_isatty(lua_State *L)
{
    int fd = check_fd(L);
    lua_pushboolean(L, fd >= 0 && isatty(fd));
    return 1;
}

/* sys.terminal_size(f) → columns, lines of the terminal f is, or nil when f
 * is not a terminal or the terminal does not say (COLUMNS and LINES are shell
 * variables that shells rarely export: the kernel knows the window's size). */
static int sys_terminal_size(lua_State *L)
{
    int fd = check_fd(L);
    struct winsize ws;
    if (fd < 0 || ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, ws.ws_col);
    lua_pushinteger(L, ws.ws_row);
    return 2;
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

/* ---- What sweeps and records need: clean --count/--commands, atomic per-cell files ---- */

static int close_stream(lua_State *L)
{
    luaL_Stream *p = (luaL_Stream *)luaL_checkudata(L, 1, LUA_FILEHANDLE);
    int ok = fclose(p->f) == 0;
    return luaL_fileresult(L, ok, NULL);
}

/* sys.hush_stdout() → a Lua file writing where standard output went, after
 * pointing descriptor 1 at /dev/null: whatever else the process prints to its
 * standard output is dropped, and only what is written to the returned file
 * reaches the reader (a pipe into GNU parallel, a $(...) in a job script). */
static int sys_hush_stdout(lua_State *L)
{
    fflush(stdout);
    int saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (saved < 0)
        return luaL_fileresult(L, 0, "standard output");
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, STDOUT_FILENO) < 0) {
        int e = errno;
        if (null >= 0)
            close(null);
        close(saved);
        errno = e;
        return luaL_fileresult(L, 0, "/dev/null");
    }
    close(null);
    luaL_Stream *p = (luaL_Stream *)lua_newuserdatauv(L, sizeof *p, 0);
    p->closef = NULL;
    luaL_setmetatable(L, LUA_FILEHANDLE);
    p->f = fdopen(saved, "w");
    if (p->f == NULL) {
        close(saved);
        return luaL_fileresult(L, 0, "standard output");
    }
    p->closef = close_stream;
    return 1;
}

/* Copy what path holds now into the save (for an append); 0, or -1 with
 * errno set. A file that is not there yet holds nothing. */
static int copy_current(dl_save *sv, const char *path)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return errno == ENOENT ? 0 : -1;
    char buf[1 << 14];
    size_t got;
    int bad = 0;
    while (!bad && (got = fread(buf, 1, sizeof buf, in)) > 0)
        bad = dl_save_write(sv, buf, got) != 0;
    int e = bad ? sv->err : ferror(in) ? (errno ? errno : EIO) : 0;
    fclose(in);
    errno = e;
    return e ? -1 : 0;
}

/* sys.write_atomic(path, text [, {append = true}]) → true, or nil and a
 * message naming the path. The text goes through a save (src/core/save.h):
 * a reader sees the old file or the whole new one, never a part, even when
 * the writer is killed, and no temporary is left behind. With append, the
 * new file is the old contents followed by text, read under the save's lock,
 * so concurrent appends to one file each keep their text. */
static int sys_write_atomic(lua_State *L)
{
    static const char *const opts[] = { "append", NULL };
    size_t n;
    const char *path = luaL_checkstring(L, 1);
    const char *text = luaL_checklstring(L, 2, &n);
    int append = 0;
    if (dl_isopts(L, 3, "sys.write_atomic")) {
        dl_checkoptions(L, 3, "sys.write_atomic", opts, 0);
        append = dl_optboolean(L, 3, "sys.write_atomic", "append", 0);
    }
    char msg[512];
    dl_save sv;
    if (dl_save_begin(&sv, path, msg, sizeof msg) != DL_OK) {
        luaL_pushfail(L);
        lua_pushstring(L, msg);
        return 2;
    }
    if (append && sv.tmp && copy_current(&sv, sv.target) != 0 && !sv.err) {
        int e = errno;
        dl_save_cancel(&sv);
        luaL_pushfail(L);
        lua_pushfstring(L, "%s: %s", path, strerror(e));
        return 2;
    }
    dl_save_write(&sv, text, n);
    if (dl_save_commit(&sv, msg, sizeof msg) != DL_OK) {
        luaL_pushfail(L);
        lua_pushstring(L, msg);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* sys.mkdir(path) → true (also when it exists as a directory), or nil and a message. */
static int sys_mkdir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (mkdir(path, 0777) == 0 || (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
        lua_pushboolean(L, 1);
        return 1;
    }
    return luaL_fileresult(L, 0, path);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* sys.listdir(path) → the sorted names in directory path (without . and ..),
 * or nil and a message (not a directory, say). */
static int sys_listdir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    DIR *d = opendir(path);
    if (d == NULL)
        return luaL_fileresult(L, 0, path);
    lua_newtable(L);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        lua_pushstring(L, e->d_name);
        lua_rawseti(L, -2, ++n);
    }
    closedir(d);
    /* Sort with C's strcmp: the same order on every machine and locale. */
    const char **names = (const char **)lua_newuserdatauv(L, sizeof *names * (size_t)(n ? n : 1), 0);
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, -2, i + 1);
        names[i] = lua_tostring(L, -1);
        lua_pop(L, 1);   /* still referenced by the table */
    }
    qsort(names, (size_t)n, sizeof *names, compare_names);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* sys.hostname() → this machine's name (gethostname). */
static int sys_hostname(lua_State *L)
{
    char name[256];
    if (gethostname(name, sizeof name) != 0)
        return luaL_fileresult(L, 0, "hostname");
    name[sizeof name - 1] = '\0';
    lua_pushstring(L, name);
    return 1;
}

/* sys.executable() → the absolute path of the running program (/proc/self/exe). */
static int sys_executable(lua_State *L)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n < 0)
        return luaL_fileresult(L, 0, "/proc/self/exe");
    lua_pushlstring(L, buf, (size_t)n);
    return 1;
}

/* sys.getcwd() → the current directory. */
static int sys_getcwd(lua_State *L)
{
    char buf[4096];
    if (getcwd(buf, sizeof buf) == NULL)
        return luaL_fileresult(L, 0, "getcwd");
    lua_pushstring(L, buf);
    return 1;
}

static const luaL_Reg funcs[] = {
    { "clock", sys_clock },
    { "isatty", sys_isatty },
    { "terminal_size", sys_terminal_size },
    { "getpid", sys_getpid },
    { "interrupted", sys_interrupted },
    { "clear_interrupt", sys_clear_interrupt },
    { "interrupt", sys_interrupt },
    { "display", sys_display },
    { "info", sys_info },
    { "executable", sys_executable },
    { "getcwd", sys_getcwd },
    { "hush_stdout", sys_hush_stdout },
    { "write_atomic", sys_write_atomic },
    { "mkdir", sys_mkdir },
    { "listdir", sys_listdir },
    { "hostname", sys_hostname },
    { NULL, NULL }
};

int luaopen_deltalab_sys(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
