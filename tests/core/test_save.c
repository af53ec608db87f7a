/* test_save.c — saves are atomic, durable and leave no temporary behind. */
#define _GNU_SOURCE
#include "check.h"
#include "save.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/deltalab-save-XXXXXX";

static char *in_dir(const char *name)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static int file_is(const char *path, const char *text)
{
    char buf[256] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strcmp(buf, text) == 0;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void test_save_replaces_and_cleans(void)
{
    char msg[256];
    const char *p = in_dir("a.txt");
    put_file(p, "old");
    dl_save s;
    CHECK(dl_save_begin(&s, p, msg, sizeof msg) == DL_OK);
    CHECK(exists(in_dir(".a.txt.deltalab-tmp")));
    CHECK(file_is(p, "old"));  /* nothing visible before commit */
    fputs("new", s.f);
    CHECK(dl_save_commit(&s, msg, sizeof msg) == DL_OK);
    CHECK(file_is(p, "new"));
    CHECK(!exists(in_dir(".a.txt.deltalab-tmp")));
}

static void test_cancel_keeps_old(void)
{
    char msg[256];
    const char *p = in_dir("b.txt");
    put_file(p, "old");
    dl_save s;
    CHECK(dl_save_begin(&s, p, msg, sizeof msg) == DL_OK);
    fputs("half", s.f);
    dl_save_cancel(&s);
    CHECK(file_is(p, "old"));
    CHECK(!exists(in_dir(".b.txt.deltalab-tmp")));
}

static void test_stale_temporary_replaced(void)
{
    char msg[256];
    const char *p = in_dir("c.txt");
    put_file(in_dir(".c.txt.deltalab-tmp"), "stale bytes from a killed save");
    dl_save s;
    CHECK(dl_save_begin(&s, p, msg, sizeof msg) == DL_OK);
    fputs("fresh", s.f);
    CHECK(dl_save_commit(&s, msg, sizeof msg) == DL_OK);
    CHECK(file_is(p, "fresh"));
    CHECK(!exists(in_dir(".c.txt.deltalab-tmp")));
}

static void test_errors_name_path_and_reason(void)
{
    char msg[256] = "";
    dl_save s;
    const char *p = in_dir("no/such/dir/x");
    CHECK(dl_save_begin(&s, p, msg, sizeof msg) == DL_EIO);
    CHECK(strstr(msg, p) != NULL);
    CHECK(strstr(msg, "No such file or directory") != NULL);
    /* A full device: written in place, the failure seen at commit. */
    if (access("/dev/full", W_OK) == 0) {
        CHECK(dl_save_begin(&s, "/dev/full", msg, sizeof msg) == DL_OK);
        for (int i = 0; i < 10000; i++)
            fputs("0123456789", s.f);
        CHECK(dl_save_commit(&s, msg, sizeof msg) == DL_EIO);
        CHECK(strstr(msg, "/dev/full: No space left on device") != NULL);
        struct stat st;
        CHECK(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));  /* still the device */
    }
}

static void test_symlink_followed(void)
{
    char msg[256];
    const char *real = in_dir("real.txt"), *link = in_dir("link.txt");
    put_file(real, "old");
    CHECK(symlink(real, link) == 0);
    dl_save s;
    CHECK(dl_save_begin(&s, link, msg, sizeof msg) == DL_OK);
    fputs("through the link", s.f);
    CHECK(dl_save_commit(&s, msg, sizeof msg) == DL_OK);
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));  /* the link itself stays */
    CHECK(file_is(real, "through the link"));
}

static void test_mode_follows_umask(void)
{
    char msg[256];
    const char *p = in_dir("mode.txt");
    mode_t old = umask(022);
    dl_save s;
    CHECK(dl_save_begin(&s, p, msg, sizeof msg) == DL_OK);
    CHECK(dl_save_commit(&s, msg, sizeof msg) == DL_OK);
    umask(old);
    struct stat st;
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0644);
}

/* SIGTERM in the middle of a save: the process dies of it, the temporary is
 * gone and the old file intact. */
static void test_sigterm_removes_temporary(void)
{
    const char *p = in_dir("term.txt");
    put_file(p, "old");
    pid_t pid = fork();
    if (pid == 0) {
        char msg[256];
        dl_save s;
        if (dl_save_begin(&s, p, msg, sizeof msg) != DL_OK)
            _exit(3);
        fputs("half", s.f);
        fflush(s.f);
        raise(SIGTERM);
        _exit(4);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    CHECK(file_is(p, "old"));
    CHECK(!exists(in_dir(".term.txt.deltalab-tmp")));
}

/* Two processes saving one name at once: each result is whole. */
static void test_concurrent_saves(void)
{
    const char *p = in_dir("both.txt");
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        if ((kids[k] = fork()) == 0) {
            char msg[256];
            for (int i = 0; i < 200; i++) {
                dl_save s;
                if (dl_save_begin(&s, p, msg, sizeof msg) != DL_OK) {
                    fprintf(stderr, "begin: %s\n", msg);
                    _exit(3);
                }
                for (int j = 0; j < 100; j++)
                    fputc(k ? 'b' : 'a', s.f);
                if (dl_save_commit(&s, msg, sizeof msg) != DL_OK) {
                    fprintf(stderr, "commit: %s\n", msg);
                    _exit(4);
                }
            }
            _exit(0);
        }
    }
    int ok = 1;
    for (int k = 0; k < 2; k++) {
        int status;
        waitpid(kids[k], &status, 0);
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    CHECK(ok);
    char buf[256] = "";
    FILE *f = fopen(p, "r");
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    CHECK(n == 100);
    int same = 1;
    for (size_t i = 1; i < n; i++)
        same = same && buf[i] == buf[0];
    CHECK(same);
    CHECK(!exists(in_dir(".both.txt.deltalab-tmp")));
}

/* The program's Ctrl-C handler as deltalab's: the first sets the interrupt
 * flag and makes the next one kill the process. */
static void like_deltalab(int sig)
{
    (void)sig;
    signal(SIGINT, SIG_DFL);
    dl_interrupt_set(1);
}

/* A first Ctrl-C during a save does not stop it: the save completes, the
 * program sees its flag, and its own choice of action (the default, now)
 * is in force after the save. */
static void test_sigint_handled_save_completes(void)
{
    const char *p = in_dir("int1.txt");
    put_file(p, "old");
    pid_t pid = fork();
    if (pid == 0) {
        char msg[256];
        signal(SIGINT, like_deltalab);
        dl_save s;
        if (dl_save_begin(&s, p, msg, sizeof msg) != DL_OK)
            _exit(3);
        dl_save_write(&s, "new", 3);
        raise(SIGINT);
        if (!dl_interrupted())
            _exit(4);
        if (dl_save_commit(&s, msg, sizeof msg) != DL_OK)
            _exit(5);
        struct sigaction now;
        sigaction(SIGINT, NULL, &now);
        _exit(now.sa_handler == SIG_DFL ? 0 : 6);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(file_is(p, "new"));
    CHECK(!exists(in_dir(".int1.txt.deltalab-tmp")));
}

/* A second Ctrl-C during a save kills the process (the program chose so):
 * the temporary goes with it, the old file stays. Likewise with no handler. */
static void test_sigint_kill_removes_temporary(void)
{
    for (int handled = 0; handled < 2; handled++) {
        const char *p = in_dir("int2.txt");
        put_file(p, "old");
        pid_t pid = fork();
        if (pid == 0) {
            char msg[256];
            signal(SIGINT, handled ? like_deltalab : SIG_DFL);
            dl_save s;
            if (dl_save_begin(&s, p, msg, sizeof msg) != DL_OK)
                _exit(3);
            dl_save_write(&s, "half", 4);
            fflush(s.f);
            raise(SIGINT);
            raise(SIGINT);
            _exit(4);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
        CHECK(file_is(p, "old"));
        CHECK(!exists(in_dir(".int2.txt.deltalab-tmp")));
    }
}

/* A failed dl_save_write is reported by commit with its own errno, and the
 * old file is kept. */
static void test_write_error_reported(void)
{
    if (access("/dev/full", W_OK) != 0)
        return;
    char msg[256] = "";
    dl_save s;
    CHECK(dl_save_begin(&s, "/dev/full", msg, sizeof msg) == DL_OK);
    static char big[1 << 17];
    int r = dl_save_write(&s, big, sizeof big);   /* more than the buffer: reaches the device */
    CHECK(r == -1 && s.err == ENOSPC);
    CHECK(dl_save_write(&s, "x", 1) == -1);       /* later writes do nothing */
    CHECK(dl_save_commit(&s, msg, sizeof msg) == DL_EIO);
    CHECK(strstr(msg, "/dev/full: No space left on device") != NULL);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_save_replaces_and_cleans);
    RUN(test_cancel_keeps_old);
    RUN(test_stale_temporary_replaced);
    RUN(test_errors_name_path_and_reason);
    RUN(test_symlink_followed);
    RUN(test_mode_follows_umask);
    RUN(test_sigterm_removes_temporary);
    RUN(test_concurrent_saves);
    RUN(test_sigint_handled_save_completes);
    RUN(test_sigint_kill_removes_temporary);
    RUN(test_write_error_reported);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        perror(cmd);
    return check_summary();
}
