/*
 * repl.c — the code paths the prompt and the notebook kernel share (see
 * repl.h): compile a text as the prompt does, call it protected with Ctrl-C
 * armed, print its results, ask the completer.
 */
#define _GNU_SOURCE  /* sigaction */
#include <lua.h>
#include <lauxlib.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "repl.h"
#include "core/dl.h"

/*
 * The one value outside any struct, because the two pieces of code that need
 * it take no context argument: the SIGINT handler must reach the Lua state to
 * set a hook on it, and readline's completion callback must reach it to ask
 * Lua for candidates. Set once at start-up, before either can run. (The
 * interrupt flag itself lives in the core: dl_interrupted().)
 */
static lua_State *repl_L;

void repl_set_state(lua_State *L) { repl_L = L; }
lua_State *repl_state(void) { return repl_L; }

void repl_message(const char *prog, const char *msg)
{
    if (prog)
        fprintf(stderr, "%s: ", prog);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
}

/* A non-string error with __tostring is shown through it. */
int repl_msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* ---------------------------------------------------------------- Ctrl-C */

void repl_set_sigint(void (*handler)(int), struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  /* no SA_RESTART: a read at the prompt must fail with EINTR */
    sigaction(SIGINT, &sa, old);
}

/*
 * The hook the Ctrl-C handler sets; it runs at the next Lua instruction, in
 * normal (not signal) context, where raising an error is allowed. If a C loop
 * of the core already saw the flag, stopped and reported it (and cleared it),
 * there is nothing left to do.
 */
static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    repl_set_sigint(repl_on_sigint_running, NULL);  /* re-arm: the handler put back the default */
    if (!dl_interrupted())
        return;
    dl_interrupt_set(0);
    lua_pushliteral(L, "interrupted");
    lua_error(L);
}

/*
 * A handler may only do async-signal-safe things, so it sets the flag (C
 * loops in the core poll it between batches) and a hook (Lua code stops at
 * its next instruction; lua_sethook is safe to call here). A second Ctrl-C
 * before either happened gets the default action: a C call that never polls
 * can still be killed.
 */
void repl_on_sigint_running(int sig)
{
    (void)sig;
    signal(SIGINT, SIG_DFL);
    dl_interrupt_set(1);
    lua_sethook(repl_L, interrupt_hook,
                LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

int repl_docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, repl_msghandler);
    lua_insert(L, base);
    struct sigaction idle;
    repl_set_sigint(repl_on_sigint_running, &idle);
    if (dl_interrupted())  /* Ctrl-C between reading the line and now */
        repl_on_sigint_running(SIGINT);
    int status = lua_pcall(L, narg, nres, base);
    sigaction(SIGINT, &idle, NULL);
    lua_sethook(L, NULL, 0, 0);  /* a Ctrl-C consumed by C code leaves the hook set */
    dl_interrupt_set(0);         /* reported by now (or arrived as the call ended) */
    lua_remove(L, base);
    return status;
}

/* ---------------------------------------------------------------- compiling */

int repl_incomplete(lua_State *L, int status)
{
    if (status == LUA_ERRSYNTAX) {
        size_t len;
        const char *msg = lua_tolstring(L, -1, &len);
        const char eof[] = "<eof>";
        size_t n = sizeof eof - 1;
        if (len >= n && strcmp(msg + len - n, eof) == 0) {
            lua_pop(L, 1);
            return 1;
        }
    }
    return 0;
}

/* Try the text on top of the stack as `return <text>` (without a final ';',
 * which only sets quiet). On success push the chunk; else push nothing, and set
 * *more when the expression merely stopped early (an error at <eof>). */
static int addreturn(lua_State *L, repl *r, const char *chunkname, int *more)
{
    size_t len;
    const char *text = lua_tolstring(L, -1, &len);
    while (len > 0 && strchr(" \t\r\n", text[len - 1]))
        len--;
    int quiet = len > 0 && text[len - 1] == ';';
    if (quiet)
        len--;
    lua_pushliteral(L, "return ");
    lua_pushlstring(L, text, len);
    lua_concat(L, 2);
    size_t rlen;
    const char *retline = lua_tolstring(L, -1, &rlen);
    int status = luaL_loadbuffer(L, retline, rlen, chunkname);
    lua_remove(L, -2);  /* the "return ..." text */
    if (status == LUA_OK) {
        r->quiet = quiet;
    } else {
        *more = repl_incomplete(L, status);
        if (!*more)
            lua_pop(L, 1);
    }
    return status;
}

int repl_compile(lua_State *L, repl *r, const char *chunkname, int *more)
{
    *more = 0;
    int status = addreturn(L, r, chunkname, more);
    if (status != LUA_OK) {
        size_t len;
        const char *text = lua_tolstring(L, -1, &len);
        status = luaL_loadbuffer(L, text, len, chunkname);
        if (repl_incomplete(L, status))
            *more = 1;
        else if (*more && status != LUA_OK)
            lua_pop(L, 1);  /* a statement error, but the expression may go on */
        else
            *more = 0;
    }
    return status;
}

/* ---------------------------------------------------------------- results */

/* Replace each table and NaN among the n results by what deltalab.show
 * makes of it (a table's contents, "nan"), so the prompt never shows
 * `table: 0x...` or C's "-nan". Nothing changes if the module is missing. */
static void show_values(lua_State *L, int n)
{
    int top = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "deltalab.show");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
        lua_settop(L, top);
        return;
    }
    lua_getfield(L, -1, "value");
    int show = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        int t = lua_type(L, i);
        if (t != LUA_TTABLE && t != LUA_TNUMBER)
            continue;
        lua_pushvalue(L, show);
        lua_pushvalue(L, i);
        if (repl_docall(L, 1, 1) == LUA_OK)   /* a huge table can be interrupted too */
            lua_replace(L, i);
        else
            lua_pop(L, 1);
    }
    lua_settop(L, top);
}

void repl_print_results(lua_State *L, repl *r)
{
    int n = lua_gettop(L);
    if (n == 0)
        return;
    lua_pushvalue(L, 1);
    lua_setglobal(L, "_");
    if (r->quiet)
        return;
    luaL_checkstack(L, LUA_MINSTACK + 8, "too many results to print");
    show_values(L, n);
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (repl_docall(L, n, 0) != LUA_OK)  /* a huge __tostring can be interrupted too */
        repl_message(NULL, lua_pushfstring(L, "error calling 'print' (%s)", lua_tostring(L, -1)));
}

/* ---------------------------------------------------------------- completion */

/* deltalab.complete only reads tables (never runs __index functions), so
 * asking it is harmless. */
int repl_candidates(lua_State *L, const char *word)
{
    int top = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "deltalab.complete");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1))
        goto fail;
    lua_getfield(L, -1, "candidates");
    lua_pushstring(L, word);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1))
        goto fail;
    lua_remove(L, -2);  /* the module */
    return 1;
fail:
    lua_settop(L, top);
    return 0;
}
