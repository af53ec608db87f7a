/*
 * ptyrun.c — run a REPL transcript through a pseudo-terminal.
 *
 *     ptyrun <program> <transcript.txt>
 *
 * The program runs with stdin and stdout on a pty (so it sees a terminal:
 * prompts, readline, Ctrl-C as SIGINT) and stderr on a pipe, so that expected
 * output and expected errors are checked apart. TERM=dumb, INPUTRC=/dev/null
 * and DELTALAB_HISTORY="" unless the transcript says otherwise.
 *
 * Transcript format, one directive per line (see tests/repl/README.md):
 *
 *     # comment                 (blank lines are ignored too)
 *     @args -i -e x=1           extra arguments (before the first input)
 *     @env NAME=value           environment for the program ({tmp}: a fresh
 *                               directory, removed at the end)
 *     @timeout 3000             ms to wait for a prompt (default 5000)
 *     > 1+1                     type a line at the primary prompt "> "
 *     >> end                    type a line at the continuation prompt ">> "
 *     ~ abc                     type text without Enter
 *     ^C                        press Ctrl-C (after a line: once it runs)
 *     ^D                        press Ctrl-D at the prompt: the program must exit 0
 *     2                         expected output line (exact)
 *     ! boom                    expected error: a stderr line containing "boom"
 *     ...                       any number of output lines
 *     \> x                      an output line starting with a special character
 *
 * In typed text, <Tab> stands for the Tab key and <Up> for the Up arrow. A step is a run of keys
 * (>, >>, ~, ^C) and the expectations that follow it; the echo of the typed
 * lines, the "^C" the terminal shows and the prompts are removed before the
 * output is compared. A step without "!" lines must write nothing to stderr. Prints "ok"/"not ok" per step and, last,
 * "N passed, N failed"; exits non-zero on any failure.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE  /* forkpty, usleep */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

enum kind { SEND1, SEND2, TYPE, CTRL_C, CTRL_D, OUT, ERR, ANY };

typedef struct line {
    enum kind kind;
    char *text;   /* what to type, or what to expect */
    int lineno;   /* in the transcript */
} line;

typedef struct buf {
    char *p;      /* bytes, NUL-terminated */
    size_t n;     /* length */
    size_t cap;
} buf;

typedef struct child {
    pid_t pid;
    int pty;       /* master side: the program's stdin and stdout */
    int err;       /* read end of the program's stderr */
    int alive;     /* 0 once the pty reported the end */
    buf out, errs; /* what it wrote since the step began (\r removed) */
    int prompt;    /* 1 at "> ", 2 at ">> ", 0 unknown */
    int timeout;   /* ms */
} child;

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static void buf_add(buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            die("realloc");
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void buf_clear(buf *b)
{
    b->n = 0;
    if (b->p)
        b->p[0] = '\0';
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Read what is there, waiting at most ms; the pty's \r are dropped. */
static void pump(child *c, int ms)
{
    struct pollfd fds[2] = { { c->pty, POLLIN, 0 }, { c->err, POLLIN, 0 } };
    int nfds = c->err >= 0 ? 2 : 1;
    if (!c->alive)
        nfds = 0;
    if (poll(fds, (nfds_t)nfds, ms) <= 0)
        return;
    char tmp[4096];
    if (fds[0].revents) {
        ssize_t n = read(c->pty, tmp, sizeof tmp);
        if (n <= 0) {
            c->alive = 0;  /* EIO: the slave side closed, the program ended */
        } else {
            for (ssize_t i = 0; i < n; i++)
                if (tmp[i] != '\r')
                    buf_add(&c->out, tmp + i, 1);
        }
    }
    if (nfds == 2 && fds[1].revents) {
        ssize_t n = read(c->err, tmp, sizeof tmp);
        for (ssize_t i = 0; i < n; i++)
            if (tmp[i] != '\a')  /* readline's bell (nothing to complete) is no error */
                buf_add(&c->errs, tmp + i, 1);
        if (n <= 0) {
            close(c->err);
            c->err = -1;
        }
    }
}

static int ends_with(const buf *b, const char *s)
{
    size_t n = strlen(s);
    return b->n >= n && memcmp(b->p + b->n - n, s, n) == 0;
}

/* Wait until the output written after byte `from` ends in a prompt and
 * nothing more comes for 15 ms. 1 or 2 for the prompt, 0 on timeout or exit. */
static int wait_prompt(child *c, size_t from)
{
    long end = now_ms() + c->timeout;
    while (c->alive && now_ms() < end) {
        int p = c->out.n <= from ? 0 : ends_with(&c->out, ">> ") ? 2 : ends_with(&c->out, "> ") ? 1 : 0;
        if (p) {
            size_t before = c->out.n;
            pump(c, 15);
            if (c->out.n == before && c->alive)
                return c->prompt = p;
            continue;
        }
        pump(c, 50);
    }
    pump(c, 0);
    return c->prompt = 0;
}

/* Is the terminal in raw mode? readline turns ICANON off while it reads a
 * line and back on when it returns it, so raw means "at a prompt". */
static int raw_mode(child *c)
{
    struct termios t;
    return tcgetattr(c->pty, &t) == 0 && !(t.c_lflag & ICANON);
}

/*
 * After a line that a Ctrl-C will follow: wait until the program took it (its
 * echo ends), then tell whether it runs (0) or waits at a prompt for more
 * (1 or 2). At a prompt readline has the terminal raw; a program that stays
 * in cooked mode for 500 ms without a new prompt is running. (150 ms was too
 * short at a load average of 8 on two cores: a slow readline was taken for a
 * running program, about one run in four.)
 */
static int wait_running(child *c, size_t from)
{
    long end = now_ms() + c->timeout;
    const char *nl = NULL;
    while (c->alive && now_ms() < end && !(nl = c->out.n > from ? memchr(c->out.p + from, '\n', c->out.n - from) : NULL))
        pump(c, 20);
    size_t echoed = nl ? (size_t)(nl - c->out.p) + 1 : c->out.n;
    long settle = now_ms() + 500;
    while (c->alive && now_ms() < settle) {
        if (raw_mode(c) || (c->out.n > echoed && ends_with(&c->out, "> ")))
            return wait_prompt(c, echoed);
        pump(c, 10);
    }
    return c->prompt = 0;
}

static void send(child *c, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(c->pty, s, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

/* Typed text with <Tab> turned into the Tab key. */
static void send_typed(child *c, const char *text, int enter)
{
    buf b = { 0 };
    for (const char *s = text; *s;) {
        if (strncmp(s, "<Tab>", 5) == 0) {
            buf_add(&b, "\t", 1);
            s += 5;
            send(c, b.p, b.n);  /* type like a person: completion sees each Tab alone */
            buf_clear(&b);
            pump(c, 30);
        } else if (strncmp(s, "<Up>", 4) == 0) {
            buf_add(&b, "\033[A", 3);
            s += 4;
        } else {
            buf_add(&b, s++, 1);
        }
    }
    if (enter)
        buf_add(&b, "\n", 1);
    if (b.n)
        send(c, b.p, b.n);
    free(b.p);
}

/* Split s into lines (s is modified); returns the count. */
static int split_lines(char *s, char ***out)
{
    int n = 0, cap = 16;
    char **v = malloc(sizeof *v * (size_t)cap);
    if (!v)
        die("malloc");
    while (*s) {
        if (n == cap) {
            cap *= 2;
            v = realloc(v, sizeof *v * (size_t)cap);
            if (!v)
                die("realloc");
        }
        v[n++] = s;
        char *nl = strchr(s, '\n');
        if (!nl)
            break;
        *nl = '\0';
        s = nl + 1;
    }
    *out = v;
    return n;
}

/* Do the output lines got[0..n) match the expectations want[0..m) (OUT or ANY)? */
static int match_lines(char **got, int n, line **want, int m)
{
    if (m == 0)
        return n == 0;
    if (want[0]->kind == ANY) {
        for (int k = 0; k <= n; k++)
            if (match_lines(got + k, n - k, want + 1, m - 1))
                return 1;
        return 0;
    }
    return n > 0 && strcmp(got[0], want[0]->text) == 0 && match_lines(got + 1, n - 1, want + 1, m - 1);
}

static void show(const char *label, const char *text)
{
    printf("  %s:\n", label);
    const char *s = text;
    if (!*s)
        printf("    (nothing)\n");
    while (*s) {
        const char *nl = strchr(s, '\n');
        int len = nl ? (int)(nl - s) : (int)strlen(s);
        printf("    |%.*s\n", len, s);
        s += len + (nl != NULL);
    }
}

/*
 * Move what the program wrote since *mark into the step's visible output,
 * without the terminal's echo: drop the first line (the echo of a typed line,
 * or the end of a line dropped by Ctrl-C at the prompt) or everything (text
 * typed without Enter), the "^C" a terminal echoes, and a final prompt.
 */
enum echo { KEEP_ALL, DROP_LINE, DROP_ALL };
static void take_chunk(child *c, size_t *mark, enum echo echo, int at_prompt, buf *visible)
{
    const char *s = c->out.p ? c->out.p + *mark : "";
    size_t n = c->out.n - *mark;
    *mark = c->out.n;
    if (echo == DROP_ALL)
        return;
    if (echo == DROP_LINE) {
        const char *nl = memchr(s, '\n', n);
        size_t skip = nl ? (size_t)(nl - s) + 1 : n;
        s += skip;
        n -= skip;
    }
    if (at_prompt && n >= 2 && memcmp(s + n - 2, "> ", 2) == 0) {
        size_t start = n - 2;  /* the whole prompt line: "> ", ">> ", "dl> " */
        while (start > 0 && s[start - 1] != '\n')
            start--;
        n = start;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\003')
            continue;
        if (s[i] == '^' && i + 1 < n && s[i + 1] == 'C') {
            i++;
            continue;
        }
        buf_add(visible, s + i, 1);
    }
}

/*
 * Check one step: the visible output (echoes and prompts removed) against the
 * OUT/ANY lines; the ERR lines must be found in order in stderr (each as part
 * of a line). Returns 1 if it passed.
 */
static int check_step(child *c, const char *visible, line **exp, int nexp, const char *why)
{
    char *body = strdup(visible);
    char *err = strdup(c->errs.p ? c->errs.p : "");
    if (!body || !err)
        die("strdup");
    size_t len = strlen(body);
    if (len > 0 && body[len - 1] == '\n')
        body[len - 1] = '\0';
    char *shown = strdup(body);

    line **want = malloc(sizeof *want * (size_t)(nexp + 1));
    int nwant = 0, nerr = 0;
    for (int i = 0; i < nexp; i++) {
        if (exp[i]->kind == ERR)
            nerr++;
        else
            want[nwant++] = exp[i];
    }
    char **got;
    int ngot = *body ? split_lines(body, &got) : (got = NULL, 0);
    int ok = why == NULL && match_lines(got, ngot, want, nwant);

    /* expected errors, in order, each inside a stderr line */
    char *errcopy = strdup(err);
    char **elines;
    int nel = *errcopy ? split_lines(errcopy, &elines) : (elines = NULL, 0);
    int k = 0;
    for (int i = 0; i < nexp && ok; i++) {
        if (exp[i]->kind != ERR)
            continue;
        while (k < nel && !strstr(elines[k], exp[i]->text))
            k++;
        if (k == nel)
            ok = 0;
        else
            k++;
    }
    if (nerr == 0 && *err)
        ok = 0;
    if (!ok) {
        if (why)
            printf("  %s\n", why);
        printf("  expected:\n");
        if (nexp == 0)
            printf("    (nothing)\n");
        for (int i = 0; i < nexp; i++)
            printf("    %s%s\n", exp[i]->kind == ERR ? "! " : "|",
                   exp[i]->kind == ANY ? "..." : exp[i]->text);
        show("got output", shown);
        show("got errors", err);
    }
    free(got); free(elines); free(errcopy); free(want); free(shown); free(body); free(err);
    return ok;
}

static enum kind classify(char *s, char **text)
{
    static const struct { const char *prefix; enum kind kind; } kinds[] = {
        { ">> ", SEND2 }, { ">>", SEND2 }, { "> ", SEND1 }, { ">", SEND1 },
        { "~ ", TYPE }, { "! ", ERR }, { "\\", OUT },
    };
    if (strcmp(s, "^C") == 0)
        return *text = s, CTRL_C;
    if (strcmp(s, "^D") == 0)
        return *text = s, CTRL_D;
    if (strcmp(s, "...") == 0)
        return *text = s, ANY;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].prefix);
        if (strncmp(s, kinds[i].prefix, n) == 0) {
            *text = s + n;
            return kinds[i].kind;
        }
    }
    *text = s;
    return OUT;
}

static int is_key(enum kind k)
{
    return k == SEND1 || k == SEND2 || k == TYPE || k == CTRL_C;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: ptyrun <program> <transcript.txt>\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f)
        die(argv[2]);
    line *lines = NULL;
    int nlines = 0, lineno = 0, timeout = 5000;
    char *args[64] = { argv[1] };
    int nargs = 1;
    char raw[8192];
    char tmpdir[64] = "";  /* made for "{tmp}" in @env values, removed at the end */
    setenv("TERM", "dumb", 1);
    setenv("INPUTRC", "/dev/null", 1);
    setenv("DELTALAB_HISTORY", "", 1);
    while (fgets(raw, sizeof raw, f)) {
        lineno++;
        raw[strcspn(raw, "\n")] = '\0';
        if (raw[0] == '\0' || raw[0] == '#')
            continue;
        if (strncmp(raw, "@env ", 5) == 0) {
            char *eq = strchr(raw + 5, '=');
            if (eq) {
                char value[8192 + 64];
                const char *t = strstr(eq + 1, "{tmp}");
                *eq = '\0';
                if (t && !tmpdir[0]) {
                    snprintf(tmpdir, sizeof tmpdir, "/tmp/ptyrun.XXXXXX");
                    if (!mkdtemp(tmpdir))
                        die("mkdtemp");
                }
                if (t)
                    snprintf(value, sizeof value, "%.*s%s%s", (int)(t - eq - 1), eq + 1, tmpdir, t + 5);
                else
                    snprintf(value, sizeof value, "%s", eq + 1);
                setenv(raw + 5, value, 1);
            }
            continue;
        }
        if (strncmp(raw, "@args ", 6) == 0) {
            for (char *t = strtok(raw + 6, " "); t && nargs < 63; t = strtok(NULL, " "))
                args[nargs++] = strdup(t);
            continue;
        }
        if (strncmp(raw, "@timeout ", 9) == 0) {
            timeout = atoi(raw + 9);
            continue;
        }
        lines = realloc(lines, sizeof *lines * (size_t)(nlines + 1));
        if (!lines)
            die("realloc");
        char *text;
        enum kind k = classify(raw, &text);
        lines[nlines++] = (line){ k, strdup(text), lineno };
    }
    fclose(f);
    args[nargs] = NULL;

    int errpipe[2];
    if (pipe(errpipe) != 0)
        die("pipe");
    struct winsize ws = { .ws_row = 50, .ws_col = 250 };
    child c = { .timeout = timeout, .alive = 1 };
    c.pid = forkpty(&c.pty, NULL, NULL, &ws);
    if (c.pid < 0)
        die("forkpty");
    if (c.pid == 0) {
        dup2(errpipe[1], 2);
        close(errpipe[0]);
        close(errpipe[1]);
        execv(args[0], args);
        perror(args[0]);
        _exit(127);
    }
    close(errpipe[1]);
    c.err = errpipe[0];
    signal(SIGPIPE, SIG_IGN);

    int passed = 0, failed = 0, i = 0, aborted = 0;

    /* the start-up step: the expectations before the first key */
    line **exp = malloc(sizeof *exp * (size_t)(nlines + 1));
    int nexp = 0;
    while (i < nlines && !is_key(lines[i].kind) && lines[i].kind != CTRL_D)
        exp[nexp++] = &lines[i++];
    {
        int p = wait_prompt(&c, 0);
        buf visible = { 0 };
        size_t mark = 0;
        take_chunk(&c, &mark, KEEP_ALL, p != 0, &visible);
        int ok;
        const char *why = p == 1 ? NULL : "no prompt after start-up";
        if (nexp > 0) {
            ok = check_step(&c, visible.p ? visible.p : "", exp, nexp, why);
        } else {
            ok = why == NULL && c.errs.n == 0;
            if (!ok)
                check_step(&c, visible.p ? visible.p : "", exp, 0, why);
        }
        printf("%s %d - start-up shows the prompt\n", ok ? "ok" : "not ok", passed + failed + 1);
        ok ? passed++ : failed++;
        if (p == 0)
            aborted = 1;
        free(visible.p);
    }

    int saw_ctrl_d = 0;
    while (i < nlines && !aborted) {
        if (lines[i].kind == CTRL_D) {
            saw_ctrl_d = 1;
            i++;
            break;
        }
        if (!is_key(lines[i].kind)) {
            printf("not ok %d - line %d: expectation without keys before it\n",
                   passed + failed + 1, lines[i].lineno);
            failed++;
            i++;
            continue;
        }
        buf_clear(&c.out);
        buf_clear(&c.errs);
        int first = i;
        buf visible = { 0 };
        size_t mark = 0;
        const char *why = NULL;
        char whybuf[200];
        for (; i < nlines && is_key(lines[i].kind) && c.alive; i++) {
            line *l = &lines[i];
            int next_is_ctrl_c = i + 1 < nlines && lines[i + 1].kind == CTRL_C;
            if ((l->kind == SEND1 && c.prompt != 1) || (l->kind == SEND2 && c.prompt != 2)) {
                snprintf(whybuf, sizeof whybuf, "line %d: expected the %s prompt before typing",
                         l->lineno, l->kind == SEND1 ? "\"> \"" : "\">> \"");
                if (!why)
                    why = whybuf;
            }
            if (l->kind == CTRL_C) {
                /* at a prompt, readline ends the dropped line with a newline */
                enum echo echo = c.prompt ? DROP_LINE : KEEP_ALL;
                size_t from = c.out.n;
                send(&c, "\003", 1);
                wait_prompt(&c, from);
                take_chunk(&c, &mark, echo, c.prompt != 0, &visible);
                continue;
            }
            size_t from = c.out.n;
            send_typed(&c, l->text, l->kind != TYPE);
            if (l->kind == TYPE) {
                pump(&c, 50);
                take_chunk(&c, &mark, DROP_ALL, 0, &visible);
            } else if (next_is_ctrl_c) {
                /* it runs, or it waits at ">> " for the rest of a statement */
                wait_running(&c, from);
                take_chunk(&c, &mark, DROP_LINE, c.prompt != 0, &visible);
            } else {
                wait_prompt(&c, from);
                take_chunk(&c, &mark, DROP_LINE, c.prompt != 0, &visible);
            }
        }
        nexp = 0;
        while (i < nlines && !is_key(lines[i].kind) && lines[i].kind != CTRL_D)
            exp[nexp++] = &lines[i++];
        if (!why && c.prompt == 0)
            why = c.alive ? "timed out waiting for the prompt" : "the program ended";
        int ok = check_step(&c, visible.p ? visible.p : "", exp, nexp, why);
        free(visible.p);
        printf("%s %d - line %d: %s\n", ok ? "ok" : "not ok", passed + failed + 1,
               lines[first].lineno, lines[first].text);
        ok ? passed++ : failed++;
        if (c.prompt == 0)
            aborted = 1;
    }
    for (; i < nlines; i++)  /* after ^D or an abort: count what did not run */
        if (is_key(lines[i].kind)) {
            printf("not ok %d - line %d: not run (%s)\n", passed + failed + 1, lines[i].lineno,
                   aborted ? "the session stopped" : "after ^D");
            failed++;
            while (i + 1 < nlines && is_key(lines[i + 1].kind))
                i++;
        }

    /* Ctrl-D at the prompt ends the session with status 0 */
    int status = -1;
    buf_clear(&c.out);
    buf_clear(&c.errs);
    if (c.alive && c.prompt)
        send(&c, "\004", 1);
    long end = now_ms() + c.timeout;
    while (c.alive && now_ms() < end)
        pump(&c, 50);
    pid_t w;
    while ((w = waitpid(c.pid, &status, WNOHANG)) == 0 && now_ms() < end)
        usleep(10000);
    if (w == 0) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, &status, 0);
    }
    int ok = !aborted && w == c.pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 && c.errs.n == 0;
    printf("%s %d - %s ends the session with status 0\n", ok ? "ok" : "not ok",
           passed + failed + 1, saw_ctrl_d ? "^D" : "Ctrl-D at the end");
    if (!ok) {
        if (w == c.pid && WIFEXITED(status))
            printf("  exit status %d\n", WEXITSTATUS(status));
        else if (w == c.pid && WIFSIGNALED(status))
            printf("  killed by signal %d\n", WTERMSIG(status));
        else
            printf("  still running after %d ms\n", c.timeout);
        show("got errors", c.errs.p ? c.errs.p : "");
    }
    ok ? passed++ : failed++;
    if (tmpdir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "ptyrun: could not remove %s\n", tmpdir);
    }
    for (i = 0; i < nlines; i++)
        free(lines[i].text);
    for (i = 1; i < nargs; i++)
        free(args[i]);
    free(lines);
    free(exp);
    free(c.out.p);
    free(c.errs.p);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
