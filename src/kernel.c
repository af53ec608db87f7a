/*
 * kernel.c — deltalab as a Jupyter kernel: `deltalab --kernel FILE`.
 *
 * The Lua state is the prompt's (main.c sets it up the same way), and a cell
 * goes through the prompt's paths in repl.c: compiled as `return <cell>`
 * first, called protected with Ctrl-C armed, its results printed by the
 * prompt's print_results (and kept in `_`). What a cell writes to stdout and
 * stderr (print, io.write, the C core, gnuplot) lands in two unlinked
 * temporary files, read back as `stream` messages (while the cell runs too,
 * by the live thread); the results' printed text becomes the `execute_result`.
 *
 * Threads: the main one serves the shell socket and runs the cells; one
 * echoes the heartbeat; one serves the control socket, so that an
 * interrupt_request arrives while a cell runs: it raises SIGINT on the
 * process, and the main thread's handler is the prompt's (the core's
 * interrupt flag and the Lua hook), so a running cell or training stops and
 * the kernel goes on. One more thread sends a running cell's output; it and
 * the main thread share the iopub socket under a mutex (k->io). Every other
 * socket is used by one thread only.
 */
#define _GNU_SOURCE
#include "kernel.h"
#include "repl.h"

#ifndef DL_KERNEL
int dl_kernel_main(lua_State *L, const char *connection_file, const char *prog)
{
    (void)L; (void)connection_file;
    repl_message(prog, "this build has no notebook kernel: it needs libzmq, jansson and "
                 "libcrypto when built (make deps installs them; see doc/notebook.md)");
    return 1;
}
#else

#include <lauxlib.h>
#include <lualib.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include <jansson.h>

#include "deltalab.h"
#include "kernel_msg.h"
#include "kernel_rich.h"

#ifndef DL_LUADIR
#define DL_LUADIR "/usr/local/share/lua/5.4"
#endif

typedef struct kernel {
    lua_State *L;
    const char *prog;
    void *ctx, *shell, *control, *iopub, *stdin_sock, *hb;
    ksession s;
    int count;              /* execution_count */
    const kmsg *current;    /* the request being served: the parent of iopub messages */
    int out[2];             /* where fds 1 and 2 write: unlinked temporary files */
    int logfd;              /* the real stderr, for log lines */
    int stdoutfd;           /* the real stdout, put back at the end */
    atomic_int stop;        /* a shutdown_request was served */
    pthread_mutex_t io;     /* iopub and the output files: the main and the live thread */
    int running;            /* a cell runs: the live thread sends its output (under io) */
    int bar;                /* the cell's progress display exists (under io) */
} kernel;

static void klog(kernel *k, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    dprintf(k->logfd, "%s kernel: %s\n", k->prog, line);
}

/* The iopub socket is used by the main thread and the live thread, never
 * at once: the mutex is the full barrier ZeroMQ asks for between them. */
static void publish(kernel *k, const char *type, json_t *content)
{
    pthread_mutex_lock(&k->io);
    if (kmsg_send(k->iopub, &k->s, k->current, 1, type, content) != 0)
        klog(k, "cannot publish %s: %s", type, zmq_strerror(errno));
    pthread_mutex_unlock(&k->io);
    json_decref(content);
}

static void reply(kernel *k, void *sock, const kmsg *req, const char *type, json_t *content)
{
    if (kmsg_send(sock, &k->s, req, 0, type, content) != 0)
        klog(k, "cannot send %s: %s", type, zmq_strerror(errno));
    json_decref(content);
}

static void status(kernel *k, const char *state)
{
    publish(k, "status", json_pack("{s:s}", "execution_state", state));
}

/* ---------------------------------------------------------------- output */

/* What was written to fd 1 (i = 0) or 2 since the last call, malloc'd, with
 * its length in *n; the file is emptied (it is O_APPEND, so writes go on at 0). */
static char *take_output(kernel *k, int i, size_t *n)
{
    fflush(i == 0 ? stdout : stderr);
    struct stat st;
    *n = 0;
    if (fstat(k->out[i], &st) != 0 || st.st_size == 0)
        return NULL;
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        return NULL;
    ssize_t got = pread(k->out[i], buf, (size_t)st.st_size, 0);
    if (ftruncate(k->out[i], 0) != 0 || got <= 0) {
        free(buf);
        return NULL;
    }
    *n = (size_t)got;
    buf[*n] = '\0';
    return buf;
}

/*
 * What a terminal would leave on screen of text written with carriage
 * returns: of each line, what follows its last '\r', without the
 * erase-line escape (ESC [ K) the progress bar writes after each '\r'. So
 * a training's bar, redrawn at every batch, leaves the epoch lines only,
 * not a copy of the bar per batch. In place; returns the new length.
 */
static size_t as_on_screen(char *t, size_t n)
{
    size_t out = 0, line = 0;  /* line: where the current output line starts */
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '\r') {
            out = line;
        } else if (t[i] == '\033' && i + 2 < n && t[i + 1] == '[' && t[i + 2] == 'K') {
            i += 2;
        } else {
            t[out++] = t[i];
            if (t[i] == '\n')
                line = out;
        }
    }
    return out;
}

/* Publish what the cell wrote so far as stream messages. */
static void flush_streams(kernel *k)
{
    pthread_mutex_lock(&k->io);
    static const char *names[2] = { "stdout", "stderr" };
    for (int i = 0; i < 2; i++) {
        size_t n;
        char *text = take_output(k, i, &n);
        if (text)
            n = as_on_screen(text, n);
        if (text && n > 0)
            publish(k, "stream", json_pack("{s:s, s:o}", "name", names[i], "text", jstr(text, n)));
        free(text);
    }
    pthread_mutex_unlock(&k->io);
}

/*
 * While a cell runs, what it writes goes out every LIVE_MS: whole lines as a
 * stream (as a terminal leaves them), and a line still being redrawn with
 * '\r' — the trainer's progress bar — as one display that is updated in
 * place (update_display_data), not a new output per redraw.
 */
#define LIVE_MS 250
static void live_flush(kernel *k)
{
    size_t n;
    char *t = take_output(k, 0, &n);
    if (!t)
        return;
    size_t whole = n;
    while (whole > 0 && t[whole - 1] != '\n')
        whole--;
    char *rest = t + whole;
    size_t rn = n - whole;
    char *cr = memchr(rest, '\r', rn);
    size_t wn = as_on_screen(t, whole);
    if (wn > 0)
        publish(k, "stream", json_pack("{s:s, s:o}", "name", "stdout", "text", jstr(t, wn)));
    if (cr) {  /* a line being redrawn: show its latest state */
        rn = as_on_screen(rest, rn);
        if (rn > 0) {
            char id[64];
            snprintf(id, sizeof id, "deltalab-progress-%s-%d", k->s.id, k->count);
            publish(k, k->bar ? "update_display_data" : "display_data",
                    json_pack("{s:{s:o}, s:{}, s:{s:s}}", "data", "text/plain", jstr(rest, rn),
                              "metadata", "transient", "display_id", id));
            k->bar = 1;
        }
    } else if (rn > 0) {
        publish(k, "stream", json_pack("{s:s, s:o}", "name", "stdout", "text", jstr(rest, rn)));
    }
    free(t);
    size_t en;
    char *e = take_output(k, 1, &en);
    if (e && (en = as_on_screen(e, en)) > 0)
        publish(k, "stream", json_pack("{s:s, s:o}", "name", "stderr", "text", jstr(e, en)));
    free(e);
}

static void *live_thread(void *arg)
{
    kernel *k = arg;
    while (!atomic_load(&k->stop)) {
        struct timespec ts = { 0, LIVE_MS * 1000000L };
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&k->io);
        if (k->running)
            live_flush(k);
        pthread_mutex_unlock(&k->io);
    }
    return NULL;
}

/* ---------------------------------------------------------------- deltalab.kernel */

/* deltalab.kernel.display(mime, data [, mime2, data2 ...]): one display_data
 * with these representations (image data other than SVG is bytes, sent as base64). */
static int kernel_display(lua_State *L)
{
    kernel *k = lua_touserdata(L, lua_upvalueindex(1));
    int n = lua_gettop(L);
    if (n == 0 || n % 2 != 0)
        return luaL_error(L, "display: expected mime type and data pairs, got %d argument%s",
                          n, n == 1 ? "" : "s");
    json_t *data = json_object();
    for (int i = 1; i <= n; i += 2) {
        const char *mime = luaL_checkstring(L, i);
        size_t len;
        const char *s = luaL_checklstring(L, i + 1, &len);
        json_t *v = strncmp(mime, "image/", 6) == 0 && strcmp(mime, "image/svg+xml") != 0
                  ? base64((const unsigned char *)s, len) : jstr(s, len);
        json_object_set_new(data, mime, v ? v : json_string(""));
    }
    pthread_mutex_lock(&k->io);
    flush_streams(k);  /* what was printed before the picture comes before it */
    publish(k, "display_data", json_pack("{s:o, s:{}}", "data", data, "metadata"));
    pthread_mutex_unlock(&k->io);
    return 0;
}

static void open_kernel_module(kernel *k)
{
    lua_State *L = k->L;
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_newtable(L);
    lua_pushlightuserdata(L, k);
    lua_pushcclosure(L, kernel_display, 1);
    lua_setfield(L, -2, "display");
    lua_pushliteral(L, "png");  /* "svg" on request: term.lua reads it */
    lua_setfield(L, -2, "plot_format");
    lua_setfield(L, -2, "deltalab.kernel");
    lua_pop(L, 1);
}

/* ---------------------------------------------------------------- rich results */

/* The representations beside text/plain of the first result (index 1). */
static void rich(kernel *k, json_t *data)
{
    lua_State *L = k->L;
    const mat *m = dl_testmatrix(L, 1);
    if (m && m->data) {
        json_t *h = matrix_html(m);
        if (h)
            json_object_set_new(data, "text/html", h);
    } else if (lua_type(L, 1) == LUA_TSTRING
               && strncmp(lua_tostring(L, 1), "% deltalab trace", 16) == 0) {
        json_t *t = trace_latex(lua_tostring(L, 1));
        if (t)
            json_object_set_new(data, "text/latex", t);
    }
}

/* ---------------------------------------------------------------- execute */

/* The error on top of the stack as an error message's content. */
static json_t *error_content(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    if (!msg)
        msg = "(error object is not a string)";
    const char *tb = strstr(msg, "\nstack traceback:");
    size_t first = tb ? (size_t)(tb - msg) : strlen(msg);
    json_t *lines = json_array();
    for (const char *s = msg; *s;) {
        const char *eol = strchr(s, '\n');
        size_t l = eol ? (size_t)(eol - s) : strlen(s);
        json_array_append_new(lines, jstr(s, l));
        s += l + (eol != NULL);
    }
    int interrupted = strncmp(msg, "interrupted", first) == 0 && first == 11;
    return json_pack("{s:s, s:s, s:o, s:o}", "status", "error",
                     "ename", interrupted ? "interrupted" : "error",
                     "evalue", jstr(msg, first), "traceback", lines);
}

/*
 * A cell of several lines shows the value of its last line, as a notebook
 * reader expects (at the prompt every line is its own chunk and shows its
 * value): try the lines before the last as statements and the last as
 * `return <line>`. Pushes the chunk and returns 1 when that compiles, else
 * pushes nothing and returns 0 (the cell is then compiled as at the prompt).
 */
static int last_line_shown(lua_State *L, repl *r, const char *code)
{
    size_t len = strlen(code);
    while (len > 0 && strchr(" \t\r\n", code[len - 1]))
        len--;
    size_t nl = len;
    while (nl > 0 && code[nl - 1] != '\n')
        nl--;
    if (nl == 0)
        return 0;
    int quiet = code[len - 1] == ';';
    lua_pushlstring(L, code, nl);
    lua_pushliteral(L, "return ");
    lua_pushlstring(L, code + nl, len - nl - (size_t)quiet);
    lua_concat(L, 3);
    size_t n;
    const char *text = lua_tolstring(L, -1, &n);
    int st = luaL_loadbuffer(L, text, n, "=cell");
    lua_remove(L, -2);  /* the joined text */
    if (st != LUA_OK) {
        lua_pop(L, 1);
        return 0;
    }
    r->quiet = quiet;
    return 1;
}

static void execute(kernel *k, const kmsg *req)
{
    lua_State *L = k->L;
    const char *code = json_string_value(json_object_get(req->content, "code"));
    int silent = json_is_true(json_object_get(req->content, "silent"));
    if (!code) {
        klog(k, "refused execute_request: no code");
        code = "";
    }
    if (!silent)
        k->count++;
    publish(k, "execute_input", json_pack("{s:s, s:i}", "code", code, "execution_count", k->count));
    lua_settop(L, 0);
    repl r = { 0, 0 };
    lua_pushstring(L, code);
    int more = 0, st = LUA_OK;
    if (!last_line_shown(L, &r, code))
        st = repl_compile(L, &r, "=cell", &more);
    if (more)  /* the cell stopped early: the statement's message says what is missing */
        st = luaL_loadbuffer(L, code, strlen(code), "=cell");
    lua_remove(L, 1);  /* the text */
    if (silent)
        r.quiet = 1;  /* a silent request shows no result */
    pthread_mutex_lock(&k->io);
    k->running = 1;
    k->bar = 0;
    pthread_mutex_unlock(&k->io);
    if (st == LUA_OK)
        st = repl_docall(L, 0, LUA_MULTRET);
    pthread_mutex_lock(&k->io);  /* the results' text is not the live thread's */
    k->running = 0;
    flush_streams(k);
    json_t *content;
    if (st == LUA_OK) {
        if (lua_gettop(L) > 0 && !r.quiet && !silent) {
            json_t *data = json_object();
            rich(k, data);
            repl_print_results(L, &r);  /* the prompt's printing, into fd 1 */
            size_t n = 0;
            char *text = take_output(k, 0, &n);
            while (n > 0 && text[n - 1] == '\n')
                n--;
            json_object_set_new(data, "text/plain", jstr(text ? text : "", n));
            free(text);
            publish(k, "execute_result", json_pack("{s:i, s:o, s:{}}", "execution_count", k->count,
                                                   "data", data, "metadata"));
            flush_streams(k);  /* an error of print itself */
        } else {
            repl_print_results(L, &r);  /* `_` is kept even when nothing is shown */
            flush_streams(k);
        }
        pthread_mutex_unlock(&k->io);
        content = json_pack("{s:s, s:i, s:{}, s:[]}", "status", "ok", "execution_count", k->count,
                            "user_expressions", "payload");
    } else {
        content = error_content(L);
        pthread_mutex_unlock(&k->io);
        json_t *err = json_deep_copy(content);
        json_object_del(err, "status");
        publish(k, "error", err);
        json_object_set_new(content, "execution_count", json_integer(k->count));
    }
    lua_settop(L, 0);
    reply(k, k->shell, req, "execute_reply", content);
}

/* ---------------------------------------------------------------- complete, inspect */

/* The byte offset of code point pos in s (Jupyter counts cursors in code points). */
static size_t byte_of(const char *s, json_int_t pos)
{
    size_t b = 0;
    for (json_int_t c = 0; s[b] && c < pos; c++) {
        b++;
        while (((unsigned char)s[b] & 0xC0) == 0x80)
            b++;
    }
    return b;
}

static json_int_t codepoints(const char *s, size_t n)
{
    json_int_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static void complete(kernel *k, const kmsg *req)
{
    const char *code = json_string_value(json_object_get(req->content, "code"));
    json_int_t pos = json_integer_value(json_object_get(req->content, "cursor_pos"));
    if (!code)
        code = "";
    size_t end = byte_of(code, pos), start = end;
    while (start > 0 && !strchr(REPL_WORD_BREAK, code[start - 1]))  /* the prompt's word */
        start--;
    json_t *matches = json_array();
    char *word = strndup(code + start, end - start);
    if (word && repl_candidates(k->L, word)) {
        lua_Integer n = luaL_len(k->L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(k->L, -1, i);
            const char *c = lua_tostring(k->L, -1);
            if (c)
                json_array_append_new(matches, jstr(c, strlen(c)));
            lua_pop(k->L, 1);
        }
        lua_pop(k->L, 1);
    }
    free(word);
    reply(k, k->shell, req, "complete_reply",
          json_pack("{s:s, s:o, s:I, s:I, s:{}}", "status", "ok", "matches", matches,
                    "cursor_start", codepoints(code, start), "cursor_end", codepoints(code, end),
                    "metadata"));
}

static int name_char(char c)
{
    return c == '_' || c == '.' || c == ':' || (c >= '0' && c <= '9')
        || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* help.text of the dotted name around the cursor (`m:f` asks for `m.f`). */
static void inspect(kernel *k, const kmsg *req)
{
    lua_State *L = k->L;
    const char *code = json_string_value(json_object_get(req->content, "code"));
    json_int_t pos = json_integer_value(json_object_get(req->content, "cursor_pos"));
    if (!code)
        code = "";
    size_t at = byte_of(code, pos), start = at, end = at;
    while (start > 0 && name_char(code[start - 1]))
        start--;
    while (code[end] && name_char(code[end]))
        end++;
    json_t *data = json_object();
    int found = 0;
    if (end > start) {
        lua_getglobal(L, "require");
        lua_pushliteral(L, "deltalab.help");
        if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
            lua_getfield(L, -1, "text");
            lua_pushlstring(L, code + start, end - start);
            luaL_gsub(L, lua_tostring(L, -1), ":", ".");
            lua_remove(L, -2);
            if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
                size_t n;
                const char *text = lua_tolstring(L, -1, &n);
                json_object_set_new(data, "text/plain", jstr(text, n));
                json_object_set_new(data, "text/markdown", jstr(text, n));
                found = 1;
            }
        }
        lua_settop(L, 0);
    }
    reply(k, k->shell, req, "inspect_reply",
          json_pack("{s:s, s:b, s:o, s:{}}", "status", "ok", "found", found, "data", data, "metadata"));
}

/* The prompt's rule: text that fails at <eof> goes on at the ">> " prompt. */
static void is_complete(kernel *k, const kmsg *req)
{
    lua_State *L = k->L;
    const char *code = json_string_value(json_object_get(req->content, "code"));
    lua_settop(L, 0);
    repl r = { 0, 0 };
    lua_pushstring(L, code ? code : "");
    int more;
    int st = repl_compile(L, &r, "=cell", &more);
    lua_settop(L, 0);
    json_t *c = more ? json_pack("{s:s, s:s}", "status", "incomplete", "indent", "  ")
                     : json_pack("{s:s}", "status", st == LUA_OK ? "complete" : "invalid");
    reply(k, k->shell, req, "is_complete_reply", c);
}

/* ---------------------------------------------------------------- kernel_info */

/* Where the documentation is: the source tree's doc/, else the installed one. */
static const char *doc_dir(char *buf, size_t size)
{
#ifdef DL_SRCDIR
    snprintf(buf, size, "%s/doc", DL_SRCDIR);
    if (access(buf, R_OK) == 0)
        return buf;
#endif
    snprintf(buf, size, "%s/../../doc/deltalab", DL_LUADIR);
    return buf;
}

static json_t *kernel_info(void)
{
    char dir[4096], url[2][4200];
    doc_dir(dir, sizeof dir);
    snprintf(url[0], sizeof url[0], "file://%s/notebook.md", dir);
    snprintf(url[1], sizeof url[1], "file://%s/tutorial.md", dir);
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:s, s:[{s:s, s:s}, {s:s, s:s}]}",
        "status", "ok", "protocol_version", "5.3", "implementation", "deltalab",
        "implementation_version", DL_VERSION,
        "language_info", "name", "lua", "version", LUA_VERSION_MAJOR "." LUA_VERSION_MINOR,
        "mimetype", "text/x-lua", "file_extension", ".lua", "pygments_lexer", "lua",
        "codemirror_mode", "lua",
        "banner", "deltalab " DL_VERSION " (" LUA_RELEASE "): help() explains the modules",
        "help_links", "text", "deltalab in a notebook", "url", url[0],
        "text", "deltalab tutorial", "url", url[1]);
}

/* ---------------------------------------------------------------- control, heartbeat */

/* Serves the control socket, also while a cell runs. An interrupt raises
 * SIGINT, which only the main thread takes (the others block it). */
static void *control_thread(void *arg)
{
    kernel *k = arg;
    while (!atomic_load(&k->stop)) {
        zmq_pollitem_t it = { k->control, 0, ZMQ_POLLIN, 0 };
        int n = zmq_poll(&it, 1, 200);
        if (n < 0 && errno == ETERM)
            break;
        if (n <= 0)
            continue;
        kmsg m;
        char why[200];
        if (kmsg_recv(k->control, &k->s, &m, why, sizeof why) != 0) {
            klog(k, "refused a control message: %s", why);
            continue;
        }
        if (strcmp(m.type, "interrupt_request") == 0) {
            kill(getpid(), SIGINT);
            reply(k, k->control, &m, "interrupt_reply", json_pack("{s:s}", "status", "ok"));
        } else if (strcmp(m.type, "shutdown_request") == 0) {
            json_t *restart = json_object_get(m.content, "restart");
            reply(k, k->control, &m, "shutdown_reply",
                  json_pack("{s:s, s:b}", "status", "ok", "restart", json_is_true(restart)));
            atomic_store(&k->stop, 1);
        } else if (strcmp(m.type, "kernel_info_request") == 0) {
            reply(k, k->control, &m, "kernel_info_reply", kernel_info());
        } else {
            klog(k, "ignored a control message of unknown type '%s'", m.type);
        }
        kmsg_free(&m);
    }
    return NULL;
}

/* Echoes every heartbeat, whatever the main thread is doing. */
static void *heartbeat_thread(void *arg)
{
    kernel *k = arg;
    for (;;) {
        zmq_msg_t f;
        zmq_msg_init(&f);
        if (zmq_msg_recv(&f, k->hb, 0) < 0) {
            zmq_msg_close(&f);
            if (errno == ETERM)
                break;
            continue;
        }
        zmq_msg_send(&f, k->hb, 0);
        zmq_msg_close(&f);
    }
    zmq_close(k->hb);
    return NULL;
}

/* ---------------------------------------------------------------- start-up */

/* Bind the sockets named in the connection file; -1 with why in msg. */
static int connect_file(kernel *k, const char *path, char *msg, size_t msglen)
{
    json_error_t err;
    json_t *c = json_load_file(path, 0, &err);
    if (!c) {
        snprintf(msg, msglen, "cannot read connection file %s: %s", path, err.text);
        return -1;
    }
    int status = -1;
    const char *transport = json_string_value(json_object_get(c, "transport"));
    const char *ip = json_string_value(json_object_get(c, "ip"));
    const char *key = json_string_value(json_object_get(c, "key"));
    const char *scheme = json_string_value(json_object_get(c, "signature_scheme"));
    if (!json_is_object(c) || !transport || !ip || !key) {
        snprintf(msg, msglen, "connection file %s: needs transport, ip and key", path);
        goto done;
    }
    if (key[0] && scheme && strcmp(scheme, "hmac-sha256") != 0) {
        snprintf(msg, msglen, "connection file %s: signature_scheme '%s' (only hmac-sha256 is known)",
                 path, scheme);
        goto done;
    }
    if (ksession_init(&k->s, key, msg, msglen) != 0)
        goto done;
    static const char *ports[5] = { "shell_port", "control_port", "iopub_port", "stdin_port", "hb_port" };
    const int types[5] = { ZMQ_ROUTER, ZMQ_ROUTER, ZMQ_PUB, ZMQ_ROUTER, ZMQ_REP };
    void **socks[5] = { &k->shell, &k->control, &k->iopub, &k->stdin_sock, &k->hb };
    for (int i = 0; i < 5; i++) {
        json_t *p = json_object_get(c, ports[i]);
        if (!json_is_integer(p) || json_integer_value(p) <= 0 || json_integer_value(p) > 65535) {
            snprintf(msg, msglen, "connection file %s: %s must be a port number", path, ports[i]);
            goto done;
        }
        char ep[300];
        snprintf(ep, sizeof ep, "%s://%s:%d", transport, ip, (int)json_integer_value(p));
        *socks[i] = zmq_socket(k->ctx, types[i]);
        int linger = 1000;
        if (*socks[i])
            zmq_setsockopt(*socks[i], ZMQ_LINGER, &linger, sizeof linger);
        if (!*socks[i] || zmq_bind(*socks[i], ep) != 0) {
            snprintf(msg, msglen, "cannot listen on %s (%s): %s", ep, ports[i], zmq_strerror(errno));
            goto done;
        }
    }
    status = 0;
done:
    json_decref(c);
    return status;
}

/* fd 1 and 2 into unlinked temporary files, read back as streams. */
static int capture_output(kernel *k, char *msg, size_t msglen)
{
    const char *tmp = getenv("TMPDIR");
    for (int i = 0; i < 2; i++) {
        char path[512];
        snprintf(path, sizeof path, "%.480s/deltalab-kernel-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        int fd = mkstemp(path);
        if (fd < 0) {
            snprintf(msg, msglen, "cannot make a temporary file %.400s: %s", path, strerror(errno));
            return -1;
        }
        unlink(path);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND);
        fflush(i == 0 ? stdout : stderr);
        dup2(fd, i + 1);
        k->out[i] = fd;
    }
    /* the kernel asks for no input: io.read in a cell reads end of input
     * instead of waiting on whatever pipe the starter left open */
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        close(null);
    }
    return 0;
}

/* SIGINT between cells: nothing to stop (repl_docall arms the real handler). */
static void on_sigint_idle(int sig)
{
    (void)sig;
}

static void serve(kernel *k, const kmsg *m)
{
    pthread_mutex_lock(&k->io);
    k->current = m;
    pthread_mutex_unlock(&k->io);
    status(k, "busy");
    if (strcmp(m->type, "execute_request") == 0)
        execute(k, m);
    else if (strcmp(m->type, "kernel_info_request") == 0)
        reply(k, k->shell, m, "kernel_info_reply", kernel_info());
    else if (strcmp(m->type, "complete_request") == 0)
        complete(k, m);
    else if (strcmp(m->type, "inspect_request") == 0)
        inspect(k, m);
    else if (strcmp(m->type, "is_complete_request") == 0)
        is_complete(k, m);
    else if (strcmp(m->type, "history_request") == 0)
        reply(k, k->shell, m, "history_reply", json_pack("{s:s, s:[]}", "status", "ok", "history"));
    else if (strcmp(m->type, "comm_info_request") == 0)
        reply(k, k->shell, m, "comm_info_reply", json_pack("{s:s, s:{}}", "status", "ok", "comms"));
    else if (strcmp(m->type, "shutdown_request") == 0) {
        reply(k, k->shell, m, "shutdown_reply", json_pack("{s:s, s:b}", "status", "ok", "restart",
              json_is_true(json_object_get(m->content, "restart"))));
        atomic_store(&k->stop, 1);
    } else
        klog(k, "ignored a message of unknown type '%s'", m->type);
    status(k, "idle");
    pthread_mutex_lock(&k->io);
    k->current = NULL;
    pthread_mutex_unlock(&k->io);
}

int dl_kernel_main(lua_State *L, const char *connection_file, const char *prog)
{
    kernel k;
    memset(&k, 0, sizeof k);
    k.L = L;
    k.prog = prog;
    k.logfd = dup(STDERR_FILENO);
    k.stdoutfd = dup(STDOUT_FILENO);
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);  /* display() flushes under it */
    pthread_mutex_init(&k.io, &ma);
    pthread_mutexattr_destroy(&ma);
    char why[600];
    int rc = 1;
    k.ctx = zmq_ctx_new();
    if (!k.ctx || k.logfd < 0) {
        repl_message(prog, "kernel: cannot start ZeroMQ");
        return 1;
    }
    if (connect_file(&k, connection_file, why, sizeof why) != 0 || capture_output(&k, why, sizeof why) != 0) {
        repl_message(prog, why);
        goto close;
    }
    open_kernel_module(&k);
    /* the threads block SIGINT, so that it reaches the main thread */
    sigset_t intr, old;
    sigemptyset(&intr);
    sigaddset(&intr, SIGINT);
    pthread_sigmask(SIG_BLOCK, &intr, &old);
    pthread_t ctl, hb;
    int have_ctl = pthread_create(&ctl, NULL, control_thread, &k) == 0;
    int have_hb = pthread_create(&hb, NULL, heartbeat_thread, &k) == 0;
    pthread_t live;
    int have_live = pthread_create(&live, NULL, live_thread, &k) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    repl_set_sigint(on_sigint_idle, NULL);
    pid_t parent = getppid();  /* a kernel whose client died goes too */
    klog(&k, "serving %s", connection_file);
    status(&k, "starting");
    while (!atomic_load(&k.stop)) {
        zmq_pollitem_t it[2] = { { k.shell, 0, ZMQ_POLLIN, 0 }, { k.stdin_sock, 0, ZMQ_POLLIN, 0 } };
        int n = zmq_poll(it, 2, 200);
        if (getppid() != parent) {
            klog(&k, "the process that started the kernel has gone");
            break;
        }
        if (n <= 0)
            continue;  /* a timeout (check stop) or a signal */
        kmsg m;
        void *from = it[0].revents & ZMQ_POLLIN ? k.shell : k.stdin_sock;
        if (kmsg_recv(from, &k.s, &m, why, sizeof why) != 0) {
            klog(&k, "refused a message: %s", why);
            continue;
        }
        if (from == k.stdin_sock)
            klog(&k, "ignored '%s' on stdin: the kernel asks for no input", m.type);
        else
            serve(&k, &m);
        kmsg_free(&m);
    }
    rc = 0;
    klog(&k, "shut down");
    atomic_store(&k.stop, 1);
    if (have_ctl)
        pthread_join(ctl, NULL);
    if (have_live)
        pthread_join(live, NULL);
    zmq_close(k.control);
    k.control = NULL;
    zmq_close(k.shell);
    zmq_close(k.iopub);
    zmq_close(k.stdin_sock);
    k.shell = k.iopub = k.stdin_sock = NULL;
    zmq_ctx_shutdown(k.ctx);
    if (have_hb)
        pthread_join(hb, NULL);
    else
        zmq_close(k.hb);
    k.hb = NULL;
close:;
    void *socks[5] = { k.shell, k.control, k.iopub, k.stdin_sock, k.hb };
    for (int i = 0; i < 5; i++)
        if (socks[i])
            zmq_close(socks[i]);
    zmq_ctx_term(k.ctx);
    pthread_mutex_destroy(&k.io);
    for (int i = 0; i < 2; i++)
        if (k.out[i] > 0)
            close(k.out[i]);
    /* fds 1 and 2 as they were: what is written after (lua_close, a
     * sanitizer's report at exit) goes where the kernel's starter reads it */
    fflush(stdout);
    fflush(stderr);
    if (k.stdoutfd >= 0) {
        dup2(k.stdoutfd, STDOUT_FILENO);
        close(k.stdoutfd);
    }
    dup2(k.logfd, STDERR_FILENO);
    close(k.logfd);
    return rc;
}

#endif /* DL_KERNEL */
