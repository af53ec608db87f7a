/*
 * proc.h — a child process with all three standard streams in our hands,
 * spoken to by a line protocol: write commands to its stdin, then read its
 * stdout and stderr until a marker line it was asked to print shows up on
 * stderr. deltalab runs gnuplot this way (one child per figure), but nothing
 * here knows gnuplot.
 *
 * Why not popen: popen gives one stream only, so the child's complaints
 * would go to the terminal instead of back to the caller, and a write to a
 * child that has died raises SIGPIPE, which kills the whole program. Here:
 *   - stdin is one end of a socketpair, written with send(MSG_NOSIGNAL), so a
 *     dead child shows up as EPIPE, never as a signal;
 *   - stdout and stderr are pipes, read by proc_reply;
 *   - the child gets its own process group, so the Ctrl-C that the terminal
 *     sends to our group does not kill it halfway through a reply; we decide
 *     (proc_send and proc_reply watch dl_interrupted() and kill the child);
 *   - every descriptor is close-on-exec, so a second child does not inherit
 *     the first one's pipes (which would keep the first from ever seeing end
 *     of file on its stdin).
 * proc_close closes stdin (a line-reading child exits at end of input) and
 * reaps the child, escalating to SIGTERM and SIGKILL after a grace period, so
 * neither a zombie nor an orphan survives.
 *
 * Failures return DL_EIO with errno saying which: EPIPE (the child has gone),
 * ETIMEDOUT (it did not read or answer within the timeout; it is then killed
 * and reaped), or the errno of the failed call; DL_INTERRUPTED when the
 * interrupt flag was seen (the child is killed and reaped: its state is
 * unknown). The flag is left set for the caller, who reports it.
 */
#ifndef DL_PROC_H
#define DL_PROC_H

#include "dl.h"

#include <stddef.h>
#include <sys/types.h>

typedef struct proc {
    pid_t pid;   /* the child, or 0 when none is running (never started, or reaped) */
    int in;      /* our end of the child's stdin (a socket), or -1 */
    int out;     /* read end of the child's stdout pipe, or -1 */
    int err;     /* read end of the child's stderr pipe, or -1 */
    int status;  /* wait status once reaped (waitpid's) */
} proc;

/* A growing byte buffer; data is NUL-terminated once anything was added. */
typedef struct proc_buf {
    char *data;
    size_t len, cap;
} proc_buf;

/* An empty process (no child, no descriptors): safe to close or free. */
void proc_init(proc *p);

/* Start argv[0] (searched in PATH) with argv; p must be empty (proc_init).
 * SIGINT, SIGTERM and SIGPIPE are at their defaults in the child. On failure
 * p stays empty and errno is the reason (ENOENT: no such program). */
dl_status proc_spawn(proc *p, const char *const argv[], char *msg, size_t msglen);

/* Write all len bytes of s to the child's stdin, waiting for room at most
 * timeout_ms at a time (<= 0: no limit) and polling the interrupt flag. */
dl_status proc_send(proc *p, const void *s, size_t len, int timeout_ms, char *msg, size_t msglen);

/* Read the child's stdout into out and its stderr into err (both emptied
 * first) until a line equal to marker arrives on stderr, or timeout_ms pass
 * (<= 0: no limit). On DL_OK err ends before the marker line, and out holds
 * whatever stdout had by then. When the child exits first the result is
 * DL_EIO/EPIPE, the child is reaped and err holds its last words. */
dl_status proc_reply(proc *p, const char *marker, int timeout_ms, proc_buf *out, proc_buf *err,
                     char *msg, size_t msglen);

/* Whether the child is still running (an exited child is reaped here). */
int proc_alive(proc *p);

/* Close the child's stdin and reap it: wait up to grace_ms for it to exit,
 * then SIGTERM, then SIGKILL 500 ms later. Returns its wait status, or -1
 * when no child was running. Safe to call twice. */
int proc_close(proc *p, int grace_ms);

/* Free a buffer's memory (it is empty and reusable afterwards). */
void proc_buf_free(proc_buf *b);

#endif
