/*
 * test_proc.c — the child-process manager with sh, cat and sleep as children:
 * a command and its reply, a reply bigger than a pipe, a child's complaints
 * and last words, timeouts, Ctrl-C during a blocked write, a child that
 * ignores SIGTERM, writing to a child that has died (an error, not SIGPIPE),
 * and no zombie left behind.
 */
#define _GNU_SOURCE  /* setitimer under -std=c11 */
#include "check.h"
#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char msg[256];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* pid was reaped: it is no child of ours any more (no zombie waits for us). */
static int reaped(pid_t pid)
{
    return waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static dl_status send_str(proc *p, const char *s, int timeout_ms)
{
    return proc_send(p, s, strlen(s), timeout_ms, msg, sizeof msg);
}

static const char *const SH[] = { "sh", NULL };

static void test_command_and_reply(void)
{
    proc p;
    proc_init(&p);
    proc_buf out = { 0 }, err = { 0 };
    CHECK(proc_spawn(&p, SH, msg, sizeof msg) == DL_OK);
    CHECK(p.pid > 0 && proc_alive(&p));
    CHECK(send_str(&p, "echo hello\necho oops >&2\necho mark-1 >&2\n", 5000) == DL_OK);
    CHECK(proc_reply(&p, "mark-1", 5000, &out, &err, msg, sizeof msg) == DL_OK);
    CHECK(out.len == 6 && strcmp(out.data, "hello\n") == 0);
    CHECK(err.len == 5 && strcmp(err.data, "oops\n") == 0);
    /* the same child answers again; buffers start empty each time */
    CHECK(send_str(&p, "echo two\necho mark-2 >&2\n", 5000) == DL_OK);
    CHECK(proc_reply(&p, "mark-2", 5000, &out, &err, msg, sizeof msg) == DL_OK);
    CHECK(strcmp(out.data, "two\n") == 0 && err.len == 0);
    /* a line that only starts like the marker is not the marker */
    CHECK(send_str(&p, "echo mark-3x >&2\necho mark-3 >&2\n", 5000) == DL_OK);
    CHECK(proc_reply(&p, "mark-3", 5000, &out, &err, msg, sizeof msg) == DL_OK);
    CHECK(strcmp(err.data, "mark-3x\n") == 0);
    pid_t pid = p.pid;
    CHECK(send_str(&p, "exit 3\n", 5000) == DL_OK);
    int st = proc_close(&p, 2000);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    CHECK(p.pid == 0 && p.in < 0 && p.out < 0 && p.err < 0);
    CHECK(reaped(pid));
    CHECK(proc_close(&p, 2000) == -1);  /* twice is fine */
    proc_buf_free(&out);
    proc_buf_free(&err);
}

static void test_cat_round_trip(void)
{
    /* what cat copies comes back on stdout; sh prints the marker after it */
    proc p;
    proc_init(&p);
    proc_buf out = { 0 }, err = { 0 };
    static const char *const CAT[] = { "sh", "-c", "cat; echo done >&2", NULL };
    CHECK(proc_spawn(&p, CAT, msg, sizeof msg) == DL_OK);
    CHECK(send_str(&p, "line 1\nline 2\n", 5000) == DL_OK);
    /* cat ends at end of input: close our end of stdin, keep the pipes */
    close(p.in);
    p.in = -1;
    CHECK(proc_reply(&p, "done", 5000, &out, &err, msg, sizeof msg) == DL_OK);
    CHECK(strcmp(out.data, "line 1\nline 2\n") == 0);
    CHECK(send_str(&p, "more\n", 5000) == DL_EIO && errno == EPIPE);
    pid_t pid = p.pid;
    proc_close(&p, 2000);
    CHECK(reaped(pid));
    proc_buf_free(&out);
    proc_buf_free(&err);
}

static void test_reply_bigger_than_a_pipe(void)
{
    /* 1 MB on stdout before the marker: read while waiting, or both block */
    proc p;
    proc_init(&p);
    proc_buf out = { 0 }, err = { 0 };
    CHECK(proc_spawn(&p, SH, msg, sizeof msg) == DL_OK);
    CHECK(send_str(&p, "head -c 1000000 /dev/zero | tr '\\0' a\necho mark >&2\n", 5000) == DL_OK);
    CHECK(proc_reply(&p, "mark", 10000, &out, &err, msg, sizeof msg) == DL_OK);
    CHECK(out.len == 1000000 && out.data[0] == 'a' && out.data[999999] == 'a');
    proc_close(&p, 2000);
    proc_buf_free(&out);
    proc_buf_free(&err);
}

static void test_child_exits_before_replying(void)
{
    proc p;
    proc_init(&p);
    proc_buf out = { 0 }, err = { 0 };
    CHECK(proc_spawn(&p, SH, msg, sizeof msg) == DL_OK);
    pid_t pid = p.pid;
    CHECK(send_str(&p, "echo last words >&2\nexit 1\n", 5000) == DL_OK);
    errno = 0;
    CHECK(proc_reply(&p, "mark", 5000, &out, &err, msg, sizeof msg) == DL_EIO && errno == EPIPE);
    CHECK(strcmp(err.data, "last words\n") == 0);
    CHECK(p.pid == 0 && reaped(pid));
    CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 1);
    CHECK(!proc_alive(&p));
    proc_buf_free(&out);
    proc_buf_free(&err);
}

static void test_reply_timeout(void)
{
    proc p;
    proc_init(&p);
    proc_buf out = { 0 }, err = { 0 };
    static const char *const CAT[] = { "cat", NULL };
    CHECK(proc_spawn(&p, CAT, msg, sizeof msg) == DL_OK);
    pid_t pid = p.pid;
    double t0 = now_ms();
    errno = 0;
    CHECK(proc_reply(&p, "never", 300, &out, &err, msg, sizeof msg) == DL_EIO && errno == ETIMEDOUT);
    double dt = now_ms() - t0;
    CHECK(dt >= 290 && dt < 3000);
    CHECK(strstr(msg, "300 ms") != NULL);
    CHECK(p.pid == 0 && reaped(pid));  /* killed and reaped */
    proc_buf_free(&out);
    proc_buf_free(&err);
}

/* A child that waits for "ready" and then never reads its stdin. */
static void spawn_sleeper(proc *p, const char *script)
{
    const char *const argv[] = { "sh", "-c", script, NULL };
    proc_buf out = { 0 }, err = { 0 };
    proc_init(p);
    CHECK(proc_spawn(p, argv, msg, sizeof msg) == DL_OK);
    CHECK(proc_reply(p, "ready", 5000, &out, &err, msg, sizeof msg) == DL_OK);
    proc_buf_free(&out);
    proc_buf_free(&err);
}

static void test_send_timeout(void)
{
    proc p;
    spawn_sleeper(&p, "echo ready >&2; exec sleep 30");
    pid_t pid = p.pid;
    size_t n = 64u << 20;  /* far more than a socket buffer */
    char *big = calloc(n, 1);
    CHECK(big != NULL);
    double t0 = now_ms();
    errno = 0;
    CHECK(proc_send(&p, big, n, 300, msg, sizeof msg) == DL_EIO && errno == ETIMEDOUT);
    double dt = now_ms() - t0;
    CHECK(dt >= 290 && dt < 3000);
    CHECK(p.pid == 0 && reaped(pid));
    free(big);
}

static void on_alarm(int sig)
{
    (void)sig;
    dl_interrupt_set(1);  /* what deltalab's Ctrl-C handler does */
}

static void test_interrupt_during_blocked_send(void)
{
    proc p;
    spawn_sleeper(&p, "echo ready >&2; exec sleep 30");
    pid_t pid = p.pid;
    size_t n = 64u << 20;
    char *big = calloc(n, 1);
    CHECK(big != NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, 0 }, { 0, 200000 } };  /* once, after 200 ms */
    setitimer(ITIMER_REAL, &it, NULL);
    double t0 = now_ms();
    CHECK(proc_send(&p, big, n, 0, msg, sizeof msg) == DL_INTERRUPTED);  /* no timeout at all */
    double dt = now_ms() - t0;
    CHECK(dt >= 150 && dt < 3000);
    CHECK(dl_interrupted());  /* left for the caller to report */
    dl_interrupt_set(0);
    CHECK(p.pid == 0 && reaped(pid));
    free(big);
}

static void test_interrupt_during_reply(void)
{
    proc p;
    spawn_sleeper(&p, "echo ready >&2; exec sleep 30");
    pid_t pid = p.pid;
    proc_buf out = { 0 }, err = { 0 };
    struct itimerval it = { { 0, 0 }, { 0, 200000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    CHECK(proc_reply(&p, "never", 0, &out, &err, msg, sizeof msg) == DL_INTERRUPTED);
    dl_interrupt_set(0);
    CHECK(p.pid == 0 && reaped(pid));
    proc_buf_free(&out);
    proc_buf_free(&err);
}

static void test_term_ignored_then_kill(void)
{
    proc p;
    spawn_sleeper(&p, "trap '' TERM; echo ready >&2; exec sleep 30");
    pid_t pid = p.pid;
    double t0 = now_ms();
    int st = proc_close(&p, 100);  /* end of input, 100 ms, TERM (ignored), 500 ms, KILL */
    double dt = now_ms() - t0;
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CHECK(dt >= 550 && dt < 3000);
    CHECK(reaped(pid));
}

static void test_term_ends_a_child_that_keeps_running(void)
{
    proc p;
    spawn_sleeper(&p, "echo ready >&2; exec sleep 30");
    int st = proc_close(&p, 50);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}

static void test_write_to_dead_child(void)
{
    /* SIGPIPE at its default: a write that raised it would end this test
     * program, and the runner would count the suite as failed */
    signal(SIGPIPE, SIG_DFL);
    proc p;
    proc_init(&p);
    static const char *const TRUE_[] = { "true", NULL };
    CHECK(proc_spawn(&p, TRUE_, msg, sizeof msg) == DL_OK);
    pid_t pid = p.pid;
    for (int i = 0; i < 300; i++) {  /* wait until it has exited (still a zombie: not reaped) */
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
            break;
        struct timespec ts = { 0, 10000000L };
        nanosleep(&ts, NULL);
    }
    char buf[65536] = { 0 };
    errno = 0;
    CHECK(proc_send(&p, buf, sizeof buf, 1000, msg, sizeof msg) == DL_EIO && errno == EPIPE);
    CHECK(strstr(msg, "gone") != NULL);
    int st = proc_close(&p, 2000);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(reaped(pid));
}

static void test_no_such_program(void)
{
    proc p;
    proc_init(&p);
    static const char *const NONE[] = { "/nonexistent/program", NULL };
    errno = 0;
    CHECK(proc_spawn(&p, NONE, msg, sizeof msg) == DL_EIO && errno == ENOENT);
    CHECK(strstr(msg, "/nonexistent/program") != NULL);
    CHECK(p.pid == 0 && p.in < 0 && p.out < 0 && p.err < 0);
    CHECK(proc_close(&p, 0) == -1);
    CHECK(send_str(&p, "x\n", 100) == DL_EIO && errno == EPIPE);
}

static void test_children_do_not_inherit_each_other(void)
{
    /* a's stdin must reach end of file when we close it, even while b runs:
     * b would keep a's socket open if descriptors were inherited */
    proc a, b;
    proc_buf out = { 0 }, err = { 0 };
    static const char *const CAT[] = { "sh", "-c", "cat >/dev/null; echo eof >&2", NULL };
    proc_init(&a);
    proc_init(&b);
    CHECK(proc_spawn(&a, CAT, msg, sizeof msg) == DL_OK);
    CHECK(proc_spawn(&b, SH, msg, sizeof msg) == DL_OK);
    close(a.in);
    a.in = -1;
    CHECK(proc_reply(&a, "eof", 3000, &out, &err, msg, sizeof msg) == DL_OK);
    proc_close(&a, 2000);
    proc_close(&b, 2000);
    proc_buf_free(&out);
    proc_buf_free(&err);
}

int main(void)
{
    RUN(test_command_and_reply);
    RUN(test_cat_round_trip);
    RUN(test_reply_bigger_than_a_pipe);
    RUN(test_child_exits_before_replying);
    RUN(test_reply_timeout);
    RUN(test_send_timeout);
    RUN(test_interrupt_during_blocked_send);
    RUN(test_interrupt_during_reply);
    RUN(test_term_ignored_then_kill);
    RUN(test_term_ends_a_child_that_keeps_running);
    RUN(test_write_to_dead_child);
    RUN(test_no_such_program);
    RUN(test_children_do_not_inherit_each_other);
    return check_summary();
}
