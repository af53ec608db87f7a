/* save.c — atomic, durable saves that leave no temporary behind (see save.h). */
#define _GNU_SOURCE  /* flock */
#include "save.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The temporaries of saves in progress, for the signal handlers: a handler
 * may only call async-signal-safe functions (unlink is one) on data that is
 * complete whenever it runs, so each entry is a fixed buffer that is filled
 * before its flag is raised and whose flag is lowered before it is reused.
 * This and the interrupt flag are the core's only mutable globals.
 */
#define SAVE_SLOTS 16
static char slot_path[SAVE_SLOTS][PATH_MAX];
static volatile sig_atomic_t slot_used[SAVE_SLOTS];
static volatile sig_atomic_t handlers_installed;
static struct sigaction old_term, old_hup;

static void unlink_temporaries(void)
{
    for (int i = 0; i < SAVE_SLOTS; i++)
        if (slot_used[i])
            unlink(slot_path[i]);
}

static void remove_temporaries(int sig)
{
    unlink_temporaries();
    /* Die of the signal as if we had not been here. */
    sigaction(sig, sig == SIGTERM ? &old_term : &old_hup, NULL);
    raise(sig);
}

/* Install the cleanup handler for signals whose action is the default (a
 * program that handles SIGTERM itself keeps its handler). */
static void install_handlers(void)
{
    if (handlers_installed)
        return;
    handlers_installed = 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = remove_temporaries;
    sigemptyset(&sa.sa_mask);
    struct sigaction cur;
    if (sigaction(SIGTERM, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL)
        sigaction(SIGTERM, &sa, &old_term);
    if (sigaction(SIGHUP, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL)
        sigaction(SIGHUP, &sa, &old_hup);
}

/*
 * SIGINT is the program's: deltalab's first Ctrl-C only sets the interrupt
 * flag, and its handler then resets the action to the default, so that a
 * second one kills a call that never polls. While a save has a temporary,
 * on_sigint stands in front of whatever the action is: it passes the signal
 * on to the program's handler, follows a change of action that handler
 * makes, and when the action it stands for is the default (the signal is
 * about to kill the process) it removes the temporaries first. When the last
 * save ends, the action it stands for is put back.
 */
static struct sigaction int_behind;           /* the action on_sigint stands for */
static volatile sig_atomic_t int_standing;    /* on_sigint is installed */

static void on_sigint(int sig, siginfo_t *info, void *uctx)
{
    if (int_behind.sa_handler == SIG_DFL) {
        unlink_temporaries();
        sigaction(SIGINT, &int_behind, NULL);
        raise(sig);   /* delivered, with the default action, when we return */
        return;
    }
    if (int_behind.sa_flags & SA_SIGINFO)
        int_behind.sa_sigaction(sig, info, uctx);
    else if (int_behind.sa_handler != SIG_IGN)
        int_behind.sa_handler(sig);
    struct sigaction now;   /* the program's handler may have changed the action */
    if (sigaction(SIGINT, NULL, &now) == 0 && now.sa_sigaction != on_sigint) {
        int_behind = now;
        struct sigaction me;
        memset(&me, 0, sizeof me);
        me.sa_sigaction = on_sigint;
        me.sa_flags = SA_SIGINFO;
        sigemptyset(&me.sa_mask);
        sigaction(SIGINT, &me, NULL);
    }
}

/* Stand in front of SIGINT's action (with SIGINT blocked, so that on_sigint
 * never sees int_behind half written). */
static void stand_for_sigint(int on)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    if (on && !int_standing) {
        struct sigaction me;
        memset(&me, 0, sizeof me);
        me.sa_sigaction = on_sigint;
        me.sa_flags = SA_SIGINFO;
        sigemptyset(&me.sa_mask);
        if (sigaction(SIGINT, &me, &int_behind) == 0)
            int_standing = 1;
    } else if (!on && int_standing) {
        struct sigaction now;
        if (sigaction(SIGINT, NULL, &now) == 0 && now.sa_sigaction == on_sigint)
            sigaction(SIGINT, &int_behind, NULL);   /* else the program set its own */
        int_standing = 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static int saves_in_progress(void)
{
    int n = 0;
    for (int i = 0; i < SAVE_SLOTS; i++)
        n += slot_used[i] != 0;
    return n;
}

static int claim_slot(const char *tmp)
{
    if (strlen(tmp) >= PATH_MAX)
        return -1;
    install_handlers();
    for (int i = 0; i < SAVE_SLOTS; i++) {
        if (!slot_used[i]) {
            strcpy(slot_path[i], tmp);
            slot_used[i] = 1;
            stand_for_sigint(1);
            return i;
        }
    }
    return -1;  /* more than SAVE_SLOTS saves at once: this one is not cleaned on a signal */
}

static void release_slot(int i)
{
    if (i < 0)
        return;
    slot_used[i] = 0;
    if (saves_in_progress() == 0)
        stand_for_sigint(0);
}

char *dl_save_tmpname(const char *target)
{
    const char *slash = strrchr(target, '/');
    size_t dirlen = slash ? (size_t)(slash - target) + 1 : 0;
    static const char suffix[] = ".deltalab-tmp";
    char *tmp = malloc(strlen(target) + sizeof suffix + 1);
    if (tmp)
        sprintf(tmp, "%.*s.%s%s", (int)dirlen, target, target + dirlen, suffix);
    return tmp;
}

static void free_save(dl_save *s)
{
    release_slot(s->slot);
    free(s->path);
    free(s->target);
    free(s->tmp);
    s->path = s->target = s->tmp = NULL;
    s->f = NULL;
    s->slot = -1;
}

/* Report err for path (the name the user gave) and free s. */
static dl_status save_error(dl_save *s, const char *path, int err, char *msg, size_t msglen)
{
    dl_status st = dl_fail(err == ENOMEM ? DL_ENOMEM : DL_EIO, msg, msglen, "%s: %s",
                           path, strerror(err));
    free_save(s);
    return st;
}

/*
 * Open the temporary, owning it alone. A second process saving the same name
 * may hold it: the exclusive lock makes us wait for it, and when we get the
 * lock the file we hold may meanwhile have been renamed into place (then the
 * name points to another file, or none): start again with a fresh one. Only
 * after that is it safe to cut a stale temporary back to nothing.
 */
static int open_temporary(const char *tmp, mode_t mode)
{
    for (int tries = 0; tries < 100; tries++) {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
            return -1;
        struct stat held, named;
        errno = 0;
        int e = 0;
        if (flock(fd, LOCK_EX) != 0 || fstat(fd, &held) != 0) {
            e = errno;
        } else if (lstat(tmp, &named) == 0 && held.st_ino == named.st_ino
                   && held.st_dev == named.st_dev) {
            if (ftruncate(fd, 0) == 0)
                return fd;
            e = errno;
        }   /* else: renamed or replaced while we waited; open it again */
        close(fd);
        if (e != 0 && e != EINTR)
            return errno = e, -1;
    }
    errno = EBUSY;
    return -1;
}

dl_status dl_save_begin(dl_save *s, const char *path, char *msg, size_t msglen)
{
    memset(s, 0, sizeof *s);
    s->slot = -1;
    s->path = strdup(path);
    if (!s->path)
        return save_error(s, path, ENOMEM, msg, msglen);
    int how = dl_save_target(path, &s->target);
    if (how < 0)
        return save_error(s, path, errno, msg, msglen);
    if (how == 1) {  /* a device or a pipe: written in place */
        s->f = fopen(path, "wb");
        return s->f ? DL_OK : save_error(s, path, errno, msg, msglen);
    }
    s->tmp = dl_save_tmpname(s->target);
    if (!s->tmp)
        return save_error(s, path, ENOMEM, msg, msglen);
    mode_t mask = umask(0);
    umask(mask);
    /* Claimed before the file exists: a SIGTERM from the moment open()
     * creates it finds it in the list (and the handler is installed). A
     * SIGTERM while we wait for another process's lock on that name removes
     * its temporary too; its rename then fails and that save reports it. */
    s->slot = claim_slot(s->tmp);
    int fd = open_temporary(s->tmp, 0666 & ~mask);
    if (fd < 0)
        return save_error(s, path, errno, msg, msglen);
    s->f = fdopen(fd, "wb");
    if (!s->f) {
        int e = errno;
        close(fd);
        unlink(s->tmp);
        return save_error(s, path, e, msg, msglen);
    }
    setvbuf(s->f, NULL, _IOFBF, 1 << 16);   /* checkpoints are megabytes: fewer writes */
    return DL_OK;
}

/* fsync the directory holding path, so that a rename into it survives a crash. */
static int sync_directory(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
    if (!dir)
        return ENOMEM;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return errno;
    int err = fsync(fd) != 0 && errno != EINVAL ? errno : 0;  /* EINVAL: cannot sync here */
    close(fd);
    return err;
}

int dl_save_write(dl_save *s, const void *p, size_t n)
{
    if (s->err)
        return -1;
    errno = 0;
    if (n && fwrite(p, 1, n, s->f) != n) {
        s->err = errno ? errno : EIO;
        return -1;
    }
    return 0;
}

/*
 * The rename is the commit point: before it, any failure removes the
 * temporary and the target keeps its old contents; after it, the target has
 * the new ones, so what fails later cannot be reported as a failed save
 * (the old file is gone). Closing cannot lose data by then (flushed and
 * fsync'ed), and a directory that will not sync leaves the new name to the
 * file system's own next commit: both are ignored.
 */
dl_status dl_save_commit(dl_save *s, char *msg, size_t msglen)
{
    int err = s->err ? s->err : ferror(s->f) ? (errno ? errno : EIO) : 0;
    if (fflush(s->f) != 0 && !err)
        err = errno;
    if (!s->tmp) {   /* written in place: closing is the last chance to hear of an error */
        if (fclose(s->f) != 0 && !err)
            err = errno;
        s->f = NULL;
        if (err)
            return save_error(s, s->path, err, msg, msglen);
        free_save(s);
        return DL_OK;
    }
    if (!err && fsync(fileno(s->f)) != 0 && errno != EINVAL)
        err = errno;
    /* Rename before closing: closing releases the lock, and a save of the
     * same name waiting for it would otherwise truncate our finished file. */
    if (!err && rename(s->tmp, s->target) != 0)
        err = errno;
    if (err)
        unlink(s->tmp);
    fclose(s->f);
    s->f = NULL;
    if (err)
        return save_error(s, s->path, err, msg, msglen);
    sync_directory(s->target);
    free_save(s);
    return DL_OK;
}

void dl_save_cancel(dl_save *s)
{
    if (s->tmp)  /* before closing releases the lock, for the reason in commit */
        unlink(s->tmp);
    if (s->f)
        fclose(s->f);
    free_save(s);
}
