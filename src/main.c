/*
 * main.c — the deltalab program: the REPL and the script runner.
 *
 * This is lua.c's pipeline with our names. At the prompt: read a line, try it
 * as `return <line>` (so an expression prints its value), else as a statement;
 * while the syntax error ends at <eof>, read more lines and join them; call
 * the chunk protected, with a handler that adds a traceback; print the results
 * through the global `print`, so `__tostring` is the one formatter. A trailing
 * `;` suppresses the printing and `_` keeps the first result.
 *
 * Line editing sits behind four wrappers (dl_initreadline, dl_readline,
 * dl_saveline, dl_freeline): GNU readline with a history file and Tab
 * completion, or a plain getline reader when built with -DDL_NO_READLINE or
 * when stdin is not a terminal (then there are no prompts either).
 *
 * Command line: deltalab [options] [script [args]], as lua5.4 reads it, plus
 * -h/--help and --version. See doc/repl.md and doc/deltalab.1.
 */
#define _GNU_SOURCE  /* readlink, sigaction */
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deltalab.h"
#include "core/dl.h"
#include "core/kern.h"

#ifndef DL_LUADIR
#define DL_LUADIR "/usr/local/share/lua/5.4"
#endif

#define PROGNAME "deltalab"
#define PROMPT "> "
#define PROMPT2 ">> "
#define HISTORY_MAX 1000      /* lines kept in ~/.deltalab_history */

/*
 * The one value outside any struct, because the two pieces of code that need
 * it take no context argument: the SIGINT handler must reach the Lua state to
 * set a hook on it, and readline's completion callback must reach it to ask
 * Lua for candidates. Set once in pmain, before either can run. (The interrupt flag
 * itself lives in the core: dl_interrupted().)
 */
static lua_State *repl_L;

/* ---------------------------------------------------------------- messages */

static void message(const char *prog, const char *msg)
{
    if (prog)
        fprintf(stderr, "%s: ", prog);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
}

/* Print the error on top of the stack (if any) and pop it. At the prompt
 * there is no program-name prefix, as in lua.c. */
static int report(lua_State *L, int status, const char *prog)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        message(prog, msg ? msg : "(error object is not a string)");
        lua_pop(L, 1);
    }
    return status;
}

/* The message handler of every protected call: the error plus a traceback.
 * A non-string error with __tostring is shown through it. */
static int msghandler(lua_State *L)
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

/* Install handler for SIGINT; the one it replaces goes to *old unless NULL. */
static void set_sigint(void (*handler)(int), struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  /* no SA_RESTART: a read at the prompt must fail with EINTR */
    sigaction(SIGINT, &sa, old);
}

static void on_sigint_running(int sig);

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
    set_sigint(on_sigint_running, NULL);  /* re-arm: the handler put back the default */
    if (!dl_interrupted())
        return;
    dl_interrupt_set(0);
    lua_pushliteral(L, "interrupted");
    lua_error(L);
}

/*
 * Ctrl-C while Lua runs. A handler may only do async-signal-safe things, so it
 * sets the flag (C loops in the core poll it between batches) and a hook (Lua
 * code stops at its next instruction; lua_sethook is safe to call here). A
 * second Ctrl-C before either happened gets the default action: a C call that
 * never polls can still be killed.
 */
static void on_sigint_running(int sig)
{
    (void)sig;
    signal(SIGINT, SIG_DFL);
    dl_interrupt_set(1);
    lua_sethook(repl_L, interrupt_hook,
                LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

/* Ctrl-C at the prompt: only the flag; the line reader sees it and drops the line. */
static void on_sigint_prompt(int sig)
{
    (void)sig;
    dl_interrupt_set(1);
}

/* lua_pcall with the traceback handler and Ctrl-C armed; the SIGINT handler
 * of before (the prompt's, or the default in a script) is put back after. */
static int docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    struct sigaction idle;
    set_sigint(on_sigint_running, &idle);
    if (dl_interrupted())  /* Ctrl-C between reading the line and now */
        on_sigint_running(SIGINT);
    int status = lua_pcall(L, narg, nres, base);
    sigaction(SIGINT, &idle, NULL);
    lua_sethook(L, NULL, 0, 0);  /* a Ctrl-C consumed by C code leaves the hook set */
    dl_interrupt_set(0);         /* reported by now (or arrived as the call ended) */
    lua_remove(L, base);
    return status;
}

/* ---------------------------------------------------------------- line editing */

/* The plain reader (getline: fgets without a length limit), with a prompt
 * only when stdin is a terminal. On Ctrl-C the read fails with EINTR; the
 * caller sees the flag and drops the empty line. */
static char *plain_line(const char *prompt, int tty)
{
    if (tty) {
        fputs(prompt, stdout);
        fflush(stdout);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = dl_interrupted() ? -1 : getline(&line, &cap, stdin);
    if (n < 0) {
        if (dl_interrupted()) {
            clearerr(stdin);
            if (tty)
                fputc('\n', stdout);
            if (line || (line = malloc(1)))
                line[0] = '\0';
            return line;
        }
        free(line);
        return NULL;
    }
    if (n > 0 && line[n - 1] == '\n')
        line[n - 1] = '\0';
    return line;
}

#ifndef DL_NO_READLINE
#include <readline/readline.h>
#include <readline/history.h>

/* Where the history goes: $DELTALAB_HISTORY ("" for none), else ~/.deltalab_history. */
static const char *history_path(char *buf, size_t size)
{
    const char *env = getenv("DELTALAB_HISTORY");
    if (env)
        return env[0] ? env : NULL;
    const char *home = getenv("HOME");
    if (!home || !home[0])
        return NULL;
    snprintf(buf, size, "%s/.deltalab_history", home);
    return buf;
}

/* How many lines the history file keeps: $DELTALAB_HISTSIZE, else HISTORY_MAX. */
static int history_max(void)
{
    const char *env = getenv("DELTALAB_HISTSIZE");
    long n = env ? strtol(env, NULL, 10) : HISTORY_MAX;
    return n > 0 && n < 1000000 ? (int)n : HISTORY_MAX;
}

/*
 * readline's character reader, replaced so that Ctrl-C at the prompt is ours:
 * the read fails with EINTR, the handler has set the flag, and a newline ends
 * readline at once; the caller sees the flag and drops the line.
 */
static int getc_interruptible(FILE *f)
{
    for (;;) {
        if (dl_interrupted())  /* also a Ctrl-C that came between two reads */
            return '\n';
        unsigned char c;
        ssize_t n = read(fileno(f), &c, 1);
        if (n == 1)
            return c;
        if (n == 0 || errno != EINTR)
            return EOF;
#if RL_READLINE_VERSION >= 0x0801
        rl_check_signals();  /* readline's own: a window resize (SIGWINCH) */
#endif
    }
}

/* Tab: ask deltalab.complete for the candidates of the word before the cursor.
 * It only reads tables (never runs __index functions), so Tab is harmless. */
static char **complete(const char *text, int start, int end)
{
    (void)start; (void)end;
    lua_State *L = repl_L;
    rl_attempted_completion_over = 1;  /* never fall back to file names */
    rl_completion_append_character = '\0';
    int top = lua_gettop(L);
    char **matches = NULL;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "deltalab.complete");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1))
        goto done;
    lua_getfield(L, -1, "candidates");
    lua_pushstring(L, text);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1))
        goto done;
    lua_Integer n = luaL_len(L, -1);
    if (n <= 0 || n > 100000)
        goto done;
    /* readline wants [common prefix, candidates..., NULL], all malloc'd */
    matches = calloc((size_t)n + 2, sizeof *matches);
    if (!matches)
        goto done;
    size_t common = SIZE_MAX;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        const char *s = lua_tostring(L, -1);
        matches[i] = strdup(s ? s : "");
        lua_pop(L, 1);
        if (!matches[i])
            goto fail;
        size_t k = 0;
        if (i == 1)
            k = strlen(matches[1]);
        else
            while (k < common && matches[1][k] && matches[1][k] == matches[i][k])
                k++;
        common = k;
    }
    matches[0] = strndup(matches[1], common);
    if (!matches[0])
        goto fail;
    if (n == 1) {  /* a single candidate is its own prefix */
        free(matches[1]);
        matches[1] = NULL;
    }
    goto done;
fail:
    for (lua_Integer i = 0; i <= n; i++)
        free(matches[i]);
    free(matches);
    matches = NULL;
done:
    lua_settop(L, top);
    return matches;
}

static void dl_initreadline(lua_State *L)
{
    (void)L;
    rl_readline_name = PROGNAME;  /* for $if deltalab in ~/.inputrc */
    rl_catch_signals = 0;         /* SIGINT is ours, see getc_interruptible */
    rl_getc_function = getc_interruptible;
    rl_attempted_completion_function = complete;
    /* not [ ] " ': a word may index, as in net.layers[2]:de or d["train"]. */
    rl_completer_word_break_characters = " \t\n\\`@$><=;|&{}(),+-*/%^~#";
    char buf[PATH_MAX];
    const char *path = history_path(buf, sizeof buf);
    stifle_history(history_max());
    if (path && read_history(path) == ENOENT)
        write_history(path);  /* create it, so that lines can be appended */
}

/* One line (malloc'd, no newline), or NULL at end of input. */
static char *dl_readline(lua_State *L, const char *prompt, int tty)
{
    (void)L;
    return tty ? readline(prompt) : plain_line(prompt, 0);
}

/* Keep a line in the history, in memory and at the end of the file (kept
 * bounded), so that a session ended by os.exit or a crash loses nothing. */
static void dl_saveline(lua_State *L, const char *line, int tty)
{
    (void)L;
    if (!tty || line[0] == '\0')
        return;
    HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
    if (last && strcmp(last->line, line) == 0)
        return;
    add_history(line);
    char buf[PATH_MAX];
    const char *path = history_path(buf, sizeof buf);
    if (path && append_history(1, path) == 0)
        history_truncate_file(path, history_max());
}

static void dl_freeline(lua_State *L, char *line)
{
    (void)L;
    free(line);
}

#else  /* the plain fallback: no editing, no history, no completion */

static void dl_initreadline(lua_State *L) { (void)L; }

static char *dl_readline(lua_State *L, const char *prompt, int tty)
{
    (void)L;
    return plain_line(prompt, tty);
}

static void dl_saveline(lua_State *L, const char *line, int tty)
{
    (void)L; (void)line; (void)tty;
}

static void dl_freeline(lua_State *L, char *line)
{
    (void)L;
    free(line);
}
#endif

/* ---------------------------------------------------------------- the REPL */

#define READ_EOF 0
#define READ_LINE 1
#define READ_CANCELLED 2   /* Ctrl-C at the prompt */
#define STATUS_CANCELLED (-1)   /* loadline: nothing to run */
#define STATUS_EOF (-2)

typedef struct repl {
    int tty;    /* stdin is a terminal: prompts, line editing, history */
    int quiet;  /* the line ended in ';': do not print the results */
} repl;

/* Push the prompt and return it: _PROMPT (_PROMPT2 for a continuation line)
 * through tostring, as lua.c does, or the default when it is nil. */
static const char *get_prompt(lua_State *L, int first)
{
    if (lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2") == LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushstring(L, first ? PROMPT : PROMPT2);
        return lua_tostring(L, -1);
    }
    const char *p = luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
    return p;
}

/* Read a line and push it; READ_EOF, READ_LINE or READ_CANCELLED. A first
 * line starting with '=' is read as `return ...` (lua.c keeps that from 5.1). */
static int pushline(lua_State *L, repl *r, int first)
{
    char *line = dl_readline(L, get_prompt(L, first), r->tty);
    lua_pop(L, 1);  /* the prompt */
    if (line == NULL)
        return READ_EOF;
    if (dl_interrupted()) {
        dl_interrupt_set(0);
        dl_freeline(L, line);
        return READ_CANCELLED;
    }
    if (first && line[0] == '=')
        lua_pushfstring(L, "return %s", line + 1);
    else
        lua_pushstring(L, line);
    dl_freeline(L, line);
    return READ_LINE;
}

/* A syntax error that ends at <eof>: the text may go on. Pops the message if so. */
static int incomplete(lua_State *L, int status)
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
static int addreturn(lua_State *L, repl *r, int *more)
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
    int status = luaL_loadbuffer(L, retline, rlen, "=stdin");
    lua_remove(L, -2);  /* the "return ..." text */
    if (status == LUA_OK) {
        r->quiet = quiet;
    } else {
        *more = incomplete(L, status);
        if (!*more)
            lua_pop(L, 1);
    }
    return status;
}

/*
 * Read and compile one expression or statement, leaving the chunk (or an
 * error message) on the stack: STATUS_EOF at end of input, STATUS_CANCELLED
 * after Ctrl-C, else the status of the compilation. While the text fails at
 * <eof> as an expression or as a statement, read more lines and join them, so
 * `1 +` and `matrix{` go on at the ">> " prompt as `for i = 1, 2 do` does.
 */
static int loadline(lua_State *L, repl *r)
{
    lua_settop(L, 0);
    r->quiet = 0;
    dl_interrupt_set(0);  /* a Ctrl-C while the last error was printed is stale */
    int got = pushline(L, r, 1);
    if (got != READ_LINE)
        return got == READ_EOF ? STATUS_EOF : STATUS_CANCELLED;
    for (;;) {
        int more = 0;
        int status = addreturn(L, r, &more);
        if (status != LUA_OK) {
            size_t len;
            const char *text = lua_tolstring(L, 1, &len);
            status = luaL_loadbuffer(L, text, len, "=stdin");
            if (incomplete(L, status))
                more = 1;
            else if (more && status != LUA_OK)
                lua_pop(L, 1);  /* a statement error, but the expression may go on */
            else
                more = 0;
        }
        if (!more) {
            dl_saveline(L, lua_tostring(L, 1), r->tty);
            lua_remove(L, 1);  /* the text */
            return status;
        }
        got = pushline(L, r, 0);
        if (got == READ_CANCELLED) {
            lua_settop(L, 0);
            return STATUS_CANCELLED;
        }
        if (got == READ_EOF) {  /* end of input inside a statement: say what is missing */
            size_t len;
            const char *text = lua_tolstring(L, 1, &len);
            dl_saveline(L, text, r->tty);
            status = luaL_loadbuffer(L, text, len, "=stdin");
            lua_remove(L, 1);
            return status;
        }
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
}

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
        if (docall(L, 1, 1) == LUA_OK)   /* a huge table can be interrupted too */
            lua_replace(L, i);
        else
            lua_pop(L, 1);
    }
    lua_settop(L, top);
}

/* Keep the first result in `_`, then print all of them with the global print. */
static void print_results(lua_State *L, repl *r)
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
    if (docall(L, n, 0) != LUA_OK)  /* a huge __tostring can be interrupted too */
        message(NULL, lua_pushfstring(L, "error calling 'print' (%s)", lua_tostring(L, -1)));
}

static void doREPL(lua_State *L)
{
    repl r = { isatty(STDIN_FILENO), 0 };
    dl_initreadline(L);
    struct sigaction before;
    set_sigint(on_sigint_prompt, &before);
    for (;;) {
        int status = loadline(L, &r);
        if (status == STATUS_EOF)
            break;
        if (status == STATUS_CANCELLED)
            continue;
        if (status == LUA_OK)
            status = docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK)
            print_results(L, &r);
        else
            report(L, status, NULL);
    }
    sigaction(SIGINT, &before, NULL);
    lua_settop(L, 0);
    if (r.tty) {
        fputc('\n', stdout);
        fflush(stdout);
    }
}

/* ---------------------------------------------------------------- the command line */

static void print_version(void)
{
    printf("%s %s (%s, kernels: %s)\n", PROGNAME, DL_VERSION, LUA_RELEASE, kern()->isa);
    fflush(stdout);
}

static void print_usage(FILE *out)
{
    fprintf(out,
        "usage: %s [options] [script [args]]\n"
        "Options:\n"
        "  -e stat    execute the Lua statement 'stat'\n"
        "  -i         enter the prompt after running 'script'\n"
        "  -l mod     require library 'mod' into global 'mod'\n"
        "  -l g=mod   require library 'mod' into global 'g'\n"
        "  -v         show the version and the compute kernels in use\n"
        "  -E         ignore environment variables (LUA_INIT, DELTALAB_INIT, LUA_PATH, ...)\n"
        "  -W         turn warnings on\n"
        "  -h         show this help\n"
        "  --         stop handling options\n"
        "  -          stop handling options and run the script from stdin\n"
        "At the prompt, help() explains the rest. See also deltalab(1).\n",
        PROGNAME);
    fflush(out);
}

#define HAS_ERROR 1
#define HAS_I 2
#define HAS_V 4
#define HAS_E 8
#define HAS_NOENV 16
#define HAS_HELP 32

/* lua.c's collectargs: the option bits; *first = index of the script (or argc),
 * or of the bad option. */
static int collectargs(char **argv, int *first)
{
    int args = 0, i;
    for (i = 1; argv[i] != NULL; i++) {
        *first = i;
        const char *a = argv[i];
        if (a[0] != '-')
            return args;
        if (strcmp(a, "--help") == 0) {
            args |= HAS_HELP;
            continue;
        }
        if (strcmp(a, "--version") == 0) {
            args |= HAS_V;
            continue;
        }
        switch (a[1]) {
        case '-':
            if (a[2] != '\0')
                return HAS_ERROR;
            *first = i + 1;
            return args;
        case '\0':  /* "-": the script is stdin */
            return args;
        case 'h':
            if (a[2] != '\0')
                return HAS_ERROR;
            args |= HAS_HELP;
            break;
        case 'E':
            if (a[2] != '\0')
                return HAS_ERROR;
            args |= HAS_NOENV;
            break;
        case 'W':
            if (a[2] != '\0')
                return HAS_ERROR;
            break;
        case 'i':
            if (a[2] != '\0')
                return HAS_ERROR;
            args |= HAS_I;
            break;
        case 'v':
            if (a[2] != '\0')
                return HAS_ERROR;
            args |= HAS_V;
            break;
        case 'e':
            args |= HAS_E;
            /* fall through */
        case 'l':  /* both need an argument, attached or next */
            if (a[2] == '\0') {
                i++;
                if (argv[i] == NULL || argv[i][0] == '-')
                    return HAS_ERROR;
            }
            break;
        default:
            return HAS_ERROR;
        }
    }
    *first = i;
    return args;
}

/* arg[0] is the script, negative indices the interpreter and its options,
 * positive ones the script's arguments. Without a script, arg[0] is the program. */
static void createargtable(lua_State *L, char **argv, int argc, int script)
{
    if (script == argc)
        script = 0;
    lua_createtable(L, argc - (script + 1), script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

/* Errors name the program as it was called (argv[0]), as lua.c's do. */
static int dochunk(lua_State *L, int status, const char *prog)
{
    if (status == LUA_OK)
        status = docall(L, 0, 0);
    return report(L, status, prog);
}

static int dostring(lua_State *L, const char *s, const char *name, const char *prog)
{
    return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name), prog);
}

/* -l [g=]mod: g = require(mod), g defaulting to mod. */
static int dolibrary(lua_State *L, char *spec, const char *prog)
{
    char *eq = strchr(spec, '=');
    const char *global = spec, *mod = spec;
    if (eq) {
        *eq = '\0';
        mod = eq + 1;
    }
    lua_getglobal(L, "require");
    lua_pushstring(L, mod);
    int status = docall(L, 1, 1);
    if (status == LUA_OK)
        lua_setglobal(L, global);
    return report(L, status, prog);
}

/* Run -e and -l in command-line order. */
static int runargs(lua_State *L, char **argv, int n, const char *prog)
{
    for (int i = 1; i < n; i++) {
        int opt = argv[i][1];
        if (argv[i][0] != '-' || (opt != 'e' && opt != 'l' && opt != 'W'))
            continue;
        if (opt == 'W') {
            lua_warning(L, "@on", 0);
            continue;
        }
        char *extra = argv[i] + 2;
        if (*extra == '\0')
            extra = argv[++i];
        int status = opt == 'e' ? dostring(L, extra, "=(command line)", prog)
                                : dolibrary(L, extra, prog);
        if (status != LUA_OK)
            return 0;
    }
    return 1;
}

/* Run the environment variable `var` if it is set: Lua code, or @file. */
static int run_init(lua_State *L, const char *var, const char *prog)
{
    const char *init = getenv(var);
    if (init == NULL)
        return LUA_OK;
    if (init[0] == '@')
        return dochunk(L, luaL_loadfile(L, init + 1), prog);
    return dostring(L, init, lua_pushfstring(L, "=%s", var), prog);
}

/* Before the options: LUA_INIT_5_4, or LUA_INIT when that is not set (as
 * lua.c), then deltalab's own DELTALAB_INIT. */
static int handle_init(lua_State *L, const char *prog)
{
    const char *lua_init = "LUA_INIT" LUA_VERSUFFIX;
    if (getenv(lua_init) == NULL)
        lua_init = "LUA_INIT";
    if (run_init(L, lua_init, prog) != LUA_OK)
        return !LUA_OK;
    return run_init(L, "DELTALAB_INIT", prog);
}

/* Push arg[1] .. arg[#arg], the script's `...`: read back from the global
 * table, so that -e 'arg[1] = 100' changes them, as in lua.c. */
static int pushargs(lua_State *L)
{
    if (lua_getglobal(L, "arg") != LUA_TTABLE)
        luaL_error(L, "'arg' is not a table");
    int n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    int i;
    for (i = 1; i <= n; i++)
        lua_rawgeti(L, -i, i);
    lua_remove(L, -i);  /* the table, below the n values */
    return n;
}

/* The script and its arguments (the script's `...`); "-" is stdin. */
static int handle_script(lua_State *L, char **argv, const char *prog)
{
    const char *fname = argv[0];
    if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0)
        fname = NULL;
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = pushargs(L);
        status = docall(L, n, 0);
    }
    return report(L, status, prog);
}

/* ---------------------------------------------------------------- start-up */

static int readable(const char *dir, const char *file)
{
    char probe[PATH_MAX + 64];
    snprintf(probe, sizeof probe, "%s/%s", dir, file);
    return access(probe, R_OK) == 0;
}

/*
 * Where the Lua modules (lua/deltalab/NAME.lua) are: beside the executable (the source tree),
 * ../share/lua/5.4 from it (an install under any PREFIX or DESTDIR), the
 * source tree the binary was built from (builds in another B=dir), and last
 * the install location compiled in.
 */
static const char *find_lua_dir(char *buf, size_t size)
{
    const char *probe = "deltalab/help.lua";
    ssize_t n = readlink("/proc/self/exe", buf, size - 32);
    if (n > 0) {
        buf[n] = '\0';
        char *slash = strrchr(buf, '/');
        if (slash) {
            strcpy(slash, "/lua");
            if (readable(buf, probe))
                return buf;
            strcpy(slash, "/../share/lua/5.4");
            if (readable(buf, probe))
                return buf;
        }
    }
#ifdef DL_SRCDIR
    snprintf(buf, size, "%s/lua", DL_SRCDIR);
    if (readable(buf, probe))
        return buf;
#endif
    return DL_LUADIR;
}

/* The modules as globals, and the `deltalab` table (the same one
 * require "deltalab" returns) with version, isa and use. */
static void open_deltalab(lua_State *L)
{
    char dir[PATH_MAX];
    dl_openlibs(L, find_lua_dir(dir, sizeof dir), 1);
    lua_pushvalue(L, -1);
    lua_setglobal(L, "deltalab");
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_insert(L, -2);
    lua_setfield(L, -2, "deltalab");
    lua_pop(L, 1);
}

static int pmain(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = lua_touserdata(L, 2);
    const char *prog = argv[0] && argv[0][0] ? argv[0] : PROGNAME;
    int script = argc;
    int args = argv[0] ? collectargs(argv, &script) : 0;
    int optlim = script < argc ? script : argc;
    luaL_checkversion(L);
    repl_L = L;
    if (args == HAS_ERROR) {
        const char *bad = argv[script];
        if ((bad[1] == 'e' || bad[1] == 'l') && bad[2] == '\0')
            message(prog, lua_pushfstring(L, "'%s' needs argument", bad));
        else
            message(prog, lua_pushfstring(L, "unrecognized option '%s'", bad));
        print_usage(stderr);
        return 0;
    }
    if (args & HAS_HELP) {
        print_usage(stdout);
        lua_pushboolean(L, 1);
        return 1;
    }
    if (args & HAS_V)
        print_version();
    if (args & HAS_NOENV) {
        lua_pushboolean(L, 1);  /* tells package to ignore LUA_PATH and LUA_CPATH */
        lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
    }
    luaL_openlibs(L);
    open_deltalab(L);
    createargtable(L, argv, argc, script);
    if (!(args & HAS_NOENV) && handle_init(L, prog) != LUA_OK)
        return 0;
    if (!runargs(L, argv, optlim, prog))
        return 0;
    if (script < argc && handle_script(L, argv + script, prog) != LUA_OK)
        return 0;
    if (args & HAS_I) {
        if (isatty(STDIN_FILENO) && !(args & HAS_V))
            print_version();
        doREPL(L);
    } else if (script == argc && !(args & (HAS_E | HAS_V))) {
        if (isatty(STDIN_FILENO)) {
            print_version();
            printf("help() explains the prompt and the modules; Ctrl-D quits.\n");
            doREPL(L);
        } else if (dochunk(L, luaL_loadfile(L, NULL), prog) != LUA_OK) {
            return 0;
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

int main(int argc, char **argv)
{
    if (kern_isa_note())   /* DELTALAB_ISA asked for kernels we cannot use: say so */
        fprintf(stderr, "%s: warning: %s\n", PROGNAME, kern_isa_note());
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        message(PROGNAME, "cannot create the Lua state: not enough memory");
        return EXIT_FAILURE;
    }
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = lua_pcall(L, 2, 1, 0);
    int ok = lua_toboolean(L, -1);
    report(L, status, argv[0] && argv[0][0] ? argv[0] : PROGNAME);
    lua_close(L);
    return status == LUA_OK && ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
