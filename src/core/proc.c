/* proc.c — a child process spoken to through its three standard streams (see proc.h). */
#define _GNU_SOURCE  /* pipe2, SOCK_CLOEXEC, MSG_NOSIGNAL */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* How long one poll() waits before the interrupt flag and the clock are
 * looked at again, in ms. */
#define SLICE_MS 100

/* s, with errno set to e (after dl_fail, which may have changed it). */
static dl_status with_errno(int e, dl_status s)
{
    errno = e;
    return s;
}

static void closefd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* The poll timeout for the next slice before deadline (0 = none). */
static int slice(double deadline)
{
    if (deadline <= 0)
        return SLICE_MS;
    double left = deadline - now_ms();
    return left <= 0 ? 0 : left < SLICE_MS ? (int)left + 1 : SLICE_MS;
}

void proc_init(proc *p)
{
    *p = (proc){ 0, -1, -1, -1, 0 };
}

void proc_buf_free(proc_buf *b)
{
    free(b->data);
    *b = (proc_buf){ NULL, 0, 0 };
}

/* Room for n more bytes (and a NUL) in b. */
static int reserve(proc_buf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) {
        if (cap > ((size_t)-1) / 2)
            return -1;
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d)
        return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

static void clear(proc_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

dl_status proc_spawn(proc *p, const char *const argv[], char *msg, size_t msglen)
{
    int sv[2] = { -1, -1 }, po[2] = { -1, -1 }, pe[2] = { -1, -1 };
    int rc = 0;
    if (!argv || !argv[0]) {
        return with_errno(EINVAL, dl_fail(DL_EINVAL, msg, msglen, "no program to run"));
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
        pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
        rc = errno;
    if (!rc) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
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
            p->pid = pid;
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
    }
    closefd(&sv[1]);
    closefd(&po[1]);
    closefd(&pe[1]);
    p->in = sv[0];
    p->out = po[0];
    p->err = pe[0];
    if (rc) {
        proc_close(p, 0);
        return with_errno(rc, dl_fail(DL_EIO, msg, msglen, "%s: %s", argv[0], strerror(rc)));
    }
    return DL_OK;
}

/* Kill the child (its state is unknown) and reap it. */
static void kill_child(proc *p)
{
    if (p->pid > 0)
        kill(p->pid, SIGKILL);
    proc_close(p, 0);
}

dl_status proc_send(proc *p, const void *s, size_t len, int timeout_ms, char *msg, size_t msglen)
{
    const char *c = s;
    if (p->in < 0) {
        return with_errno(EPIPE, dl_fail(DL_EIO, msg, msglen, "the process has gone"));
    }
    double deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    while (len > 0) {
        if (dl_interrupted()) {
            kill_child(p);
            return dl_fail(DL_INTERRUPTED, msg, msglen, "interrupted while writing to the process");
        }
        struct pollfd fd = { p->in, POLLOUT, 0 };
        int r = poll(&fd, 1, slice(deadline));
        if (r < 0 && errno != EINTR) {
            int e = errno;
            kill_child(p);
            return with_errno(e, dl_fail(DL_EIO, msg, msglen, "poll: %s", strerror(e)));
        }
        if (r <= 0) {  /* no room yet, or a signal: look at the flag and the clock */
            if (deadline > 0 && now_ms() >= deadline) {
                kill_child(p);
                return with_errno(ETIMEDOUT, dl_fail(DL_EIO, msg, msglen,
                                  "the process read nothing for %d ms and was stopped", timeout_ms));
            }
            continue;
        }
        ssize_t w = send(p->in, c, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            int e = errno;
            return with_errno(e == ECONNRESET ? EPIPE : e,
                              dl_fail(DL_EIO, msg, msglen, "the process has gone (%s)", strerror(e)));
        }
        c += w;
        len -= (size_t)w;
        if (timeout_ms > 0)
            deadline = now_ms() + timeout_ms;  /* the limit is on a child that reads nothing */
    }
    return DL_OK;
}

/* Append what is readable on *fd to b; close *fd at end of file or error.
 * Returns -1 when b cannot grow. */
static int drain(proc_buf *b, int *fd)
{
    if (reserve(b, 4096) < 0)
        return -1;
    ssize_t r = read(*fd, b->data + b->len, 4096);
    if (r > 0) {
        b->len += (size_t)r;
        b->data[b->len] = '\0';
    } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        closefd(fd);
    }
    return 0;
}

/* Where the line "<marker>" starts in s[0..n), searching from from, or -1. */
static long find_marker(const char *s, size_t n, size_t from, const char *mk, size_t mlen)
{
    for (size_t i = from; i + mlen + 1 <= n; i++) {
        if ((i == 0 || s[i - 1] == '\n') && memcmp(s + i, mk, mlen) == 0 && s[i + mlen] == '\n')
            return (long)i;
    }
    return -1;
}

dl_status proc_reply(proc *p, const char *marker, int timeout_ms, proc_buf *out, proc_buf *err,
                     char *msg, size_t msglen)
{
    size_t mlen = strlen(marker);
    clear(out);
    clear(err);
    double deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    while (p->err >= 0) {
        if (dl_interrupted()) {
            kill_child(p);
            return dl_fail(DL_INTERRUPTED, msg, msglen, "interrupted while waiting for the process");
        }
        struct pollfd fds[2] = { { p->err, POLLIN, 0 }, { p->out, POLLIN, 0 } };
        nfds_t nf = p->out >= 0 ? 2 : 1;
        int r = poll(fds, nf, slice(deadline));
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0) {
            if (deadline > 0 && now_ms() >= deadline) {
                kill_child(p);
                return with_errno(ETIMEDOUT, dl_fail(DL_EIO, msg, msglen,
                                  "no answer within %d ms; the process was stopped", timeout_ms));
            }
            continue;
        }
        if (nf == 2 && fds[1].revents && drain(out, &p->out) < 0)
            goto nomem;
        if (fds[0].revents) {
            size_t before = err->len;
            if (drain(err, &p->err) < 0)
                goto nomem;
            /* the marker may have begun in the last read: look from its line */
            size_t from = before > mlen ? before - mlen - 1 : 0;
            long at = find_marker(err->data, err->len, from, marker, mlen);
            if (at >= 0) {
                err->len = (size_t)at;
                err->data[at] = '\0';
                /* a text picture was flushed before the marker: take what is left */
                while (p->out >= 0) {
                    struct pollfd fd = { p->out, POLLIN, 0 };
                    if (poll(&fd, 1, 0) <= 0)
                        break;
                    if (drain(out, &p->out) < 0)
                        goto nomem;
                }
                return DL_OK;
            }
        }
    }
    /* stderr closed before the marker: the child has exited (or is exiting) */
    proc_close(p, 200);
    return with_errno(EPIPE, dl_fail(DL_EIO, msg, msglen, "the process exited before answering"));
nomem:
    kill_child(p);
    return with_errno(ENOMEM, dl_fail(DL_ENOMEM, msg, msglen, "out of memory reading the process's output"));
}

int proc_alive(proc *p)
{
    if (p->pid > 0 && waitpid(p->pid, &p->status, WNOHANG) == p->pid) {
        p->pid = 0;
        closefd(&p->in);
        closefd(&p->out);
        closefd(&p->err);
    }
    return p->pid > 0;
}

int proc_close(proc *p, int grace_ms)
{
    closefd(&p->in);
    closefd(&p->out);
    closefd(&p->err);
    if (p->pid <= 0)
        return -1;
    int st = 0, termed = 0;
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid || (r < 0 && errno != EINTR))
            break;
        if (waited >= grace_ms && !termed) {
            kill(p->pid, SIGTERM);
            termed = 1;
        }
        if (waited >= grace_ms + 500) {
            kill(p->pid, SIGKILL);
            while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {}
            break;
        }
        sleep_ms(10);
    }
    p->status = st;
    p->pid = 0;
    return st;
}
